/**
 * The command-line grammar every daemon verb shares: getopt(3)-style short options that may
 * be clustered (`-an`, `-ivx0`), long options with `--name VALUE` or `--name=VALUE`, options
 * anywhere among the positionals (`netarp 192.0.2.1 -n`, as GNU getopt permutes), and `--`
 * to end them. node:util parseArgs is not used here because arp(8)'s clustered flags and
 * option values (`-i vx0`) need getopt's rules.
 */
import { UsageError } from './command.ts';

/** One option: its letter, its long name, and whether it takes a value. */
export interface OptionSpec {
  readonly short?: string;
  readonly long?: string;
  readonly value?: boolean;
}

/** What `parseOptions` found: each option given (its value, or true) and the positionals. */
export interface ParsedOptions<K extends string> {
  /** Options by key: the value of one that takes a value (the last given), else true. */
  readonly options: Partial<Record<K, string | true>>;
  readonly positionals: string[];
}

/** The options of every verb that talks to the daemon. */
export const CLIENT_OPTIONS = {
  socket: { long: 'socket', value: true },
  json: { long: 'json' },
  help: { short: 'h', long: 'help' },
} as const satisfies Record<string, OptionSpec>;

/**
 * Parses `args` against `specs`. Throws UsageError (its message starting with `prefix`, such
 * as "ping: ") for an unknown option, a missing value, or a value given to a flag.
 */
export function parseOptions<K extends string>(
  args: readonly string[],
  specs: Readonly<Record<K, OptionSpec>>,
  prefix = '',
): ParsedOptions<K> {
  const entries = Object.entries(specs) as [K, OptionSpec][];
  const byShort = new Map(entries.filter(([, s]) => s.short).map(([k, s]) => [s.short!, k]));
  const byLong = new Map(entries.filter(([, s]) => s.long).map(([k, s]) => [s.long!, k]));
  const options: Partial<Record<K, string | true>> = {};
  const positionals: string[] = [];
  const fail = (message: string): never => {
    throw new UsageError(`${prefix}${message}`);
  };
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    if (word === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (word.startsWith('--')) {
      const equals = word.indexOf('=');
      const name = word.slice(2, equals < 0 ? undefined : equals);
      const key = byLong.get(name);
      if (key === undefined) fail(`unknown option '--${name}'`);
      const spec = specs[key!];
      if (spec.value) {
        const value = equals < 0 ? args[++i] : word.slice(equals + 1);
        if (value === undefined || value === '') fail(`option '--${name}' needs a value`);
        options[key!] = value!;
      } else {
        if (equals >= 0) fail(`option '--${name}' does not take an argument`);
        options[key!] = true;
      }
      continue;
    }
    if (word.startsWith('-') && word.length > 1) {
      // A cluster of letters; one that takes a value takes the rest of the word, or the next.
      for (let j = 1; j < word.length; j++) {
        const letter = word[j]!;
        const key = byShort.get(letter);
        if (key === undefined) fail(`unknown option '-${letter}'`);
        if (!specs[key!].value) {
          options[key!] = true;
          continue;
        }
        const value = j + 1 < word.length ? word.slice(j + 1) : args[++i];
        if (value === undefined || value === '') fail(`option '-${letter}' needs a value`);
        options[key!] = value!;
        break;
      }
      continue;
    }
    positionals.push(word);
  }
  return { options, positionals };
}

/** The value of option `key` when it takes one (undefined when not given). */
export function optionValue<K extends string>(
  parsed: ParsedOptions<K>,
  key: K,
): string | undefined {
  const value = parsed.options[key];
  return typeof value === 'string' ? value : undefined;
}

/** Whether flag `key` was given. */
export function hasFlag<K extends string>(parsed: ParsedOptions<K>, key: K): boolean {
  return parsed.options[key] !== undefined;
}

/**
 * An integer option in `min..max`; UsageError naming the option otherwise. Decimal digits
 * only: "1e3" or "0x10" are refused rather than guessed at.
 */
export function integerOption(
  text: string,
  what: string,
  range: { readonly min: number; readonly max: number },
  prefix = '',
): number {
  const value = /^-?[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
    throw new UsageError(
      `${prefix}${what}: expected an integer in ${range.min}..${range.max}, got '${text}'`,
    );
  }
  return value;
}
