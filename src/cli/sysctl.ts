/**
 * `netarp sysctl [-a] [-d] [-n] [name[=value] ...]`: the engine's knobs at run time, with
 * sysctl(8)'s output: `net.link.ether.inet.max_age: 1200`, and for a change
 * `net.link.ether.inet.max_age: 1200 -> 600`. Names are full or short (`max_age`); a node
 * of the full names (`net.link.ether.inet`) means every knob under it.
 */
import { ControlError } from '../control/client.ts';
import { LIMITS, type SysctlChange, type SysctlInfo } from '../control/protocol.ts';
import { SYSCTL_PREFIX } from '../core/config.ts';
import { CLIENT_OPTIONS, hasFlag, optionValue, parseOptions } from './args.ts';
import { type Command, ExitCode, UsageError } from './command.ts';
import { withDaemon } from './connect.ts';

/** One operand: read a knob (or a node's knobs), or set one. */
export type SysctlOperand =
  | { readonly kind: 'get'; readonly name: string }
  | { readonly kind: 'set'; readonly name: string; readonly value: number };

/** What `netarp sysctl` was asked. */
export type SysctlArgs =
  | { readonly kind: 'help' }
  | {
      readonly kind: 'run';
      /** In order; empty means every knob (as -a). */
      readonly operands: readonly SysctlOperand[];
      /** -d: descriptions instead of values. */
      readonly describe: boolean;
      /** -n: values only, without the names. */
      readonly valuesOnly: boolean;
      readonly json: boolean;
      readonly socket?: string;
    };

/** Parses `sysctl`'s arguments; throws UsageError. */
export function parseSysctlArgs(args: readonly string[]): SysctlArgs {
  const parsed = parseOptions(
    args,
    {
      all: { short: 'a' },
      describe: { short: 'd' },
      valuesOnly: { short: 'n' },
      ...CLIENT_OPTIONS,
    },
    'sysctl: ',
  );
  if (hasFlag(parsed, 'help')) return { kind: 'help' };
  const operands = parsed.positionals.map((word): SysctlOperand => {
    const equals = word.indexOf('=');
    if (equals < 0) return { kind: 'get', name: word };
    const name = word.slice(0, equals);
    const text = word.slice(equals + 1);
    if (name === '') throw new UsageError(`sysctl: missing name in '${word}'`);
    const value = /^-?[0-9]+$/.test(text) ? Number(text) : Number.NaN;
    const { min, max } = LIMITS.sysctlValue;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new UsageError(`sysctl: invalid integer '${text}' for ${name}`);
    }
    return { kind: 'set', name, value };
  });
  if (hasFlag(parsed, 'all') && operands.length > 0) {
    throw new UsageError('sysctl: -a and names do not go together');
  }
  if (hasFlag(parsed, 'describe') && operands.some((o) => o.kind === 'set')) {
    throw new UsageError('sysctl: -d and name=value do not go together');
  }
  const socket = optionValue(parsed, 'socket');
  return {
    kind: 'run',
    operands,
    describe: hasFlag(parsed, 'describe'),
    valuesOnly: hasFlag(parsed, 'valuesOnly'),
    json: hasFlag(parsed, 'json'),
    ...(socket === undefined ? {} : { socket }),
  };
}

/** Whether `name` is a node above the knobs ("net", ..., "net.link.ether.inet"). */
export function isSysctlNode(name: string): boolean {
  const node = name.endsWith('.') ? name.slice(0, -1) : name;
  return node !== '' && SYSCTL_PREFIX.startsWith(`${node}.`);
}

/** A knob's line: `name: value`, with -d `name: description`, with -n without the name. */
export function formatSysctl(info: SysctlInfo, describe: boolean, valuesOnly: boolean): string {
  const shown = describe ? info.description : String(info.value);
  return valuesOnly ? shown : `${info.name}: ${shown}`;
}

/** A change's line: `name: old -> new` (with -n `old -> new`), as sysctl(8) prints it. */
export function formatSysctlChange(change: SysctlChange, valuesOnly: boolean): string {
  const shown = `${change.old} -> ${change.value}`;
  return valuesOnly ? shown : `${change.name}: ${shown}`;
}

/** The `sysctl` verb. */
export const sysctlCommand: Command = {
  name: 'sysctl',
  synopsis: 'sysctl [-adn] [name[=value] ...]',
  summary: 'read or change the knobs at run time',
  help: `usage: netarp sysctl [-a] [-d] [-n] [--json] [--socket PATH] [name[=value] ...]

Reads or changes the ARP knobs of the running daemon, as sysctl(8) does the kernel's:

  $ netarp sysctl net.link.ether.inet.max_age
  net.link.ether.inet.max_age: 1200
  $ netarp sysctl max_age=600
  net.link.ether.inet.max_age: 1200 -> 600

A name is full (net.link.ether.inet.max_age) or short (max_age); a node of the full
names (net.link.ether.inet) shows every knob under it, and so does no name at all. A
change takes effect at once and is logged by the daemon; it lasts until the daemon
stops (put it in the config file's [sysctl] to keep it).

options:
  -a              every knob (the default without names)
  -d              each knob's description instead of its value
  -n              values only, without the names
  --json          the daemon's answers as one JSON array: {name, value, description}
                  for a knob read, {name, old, value} for a change
  --socket PATH   the daemon's control socket (default: $NETARP_SOCKET, else
                  /run/netarp/netarp.sock)
  -h, --help      show this help

exit status: 0 ok, 1 if a name is unknown or a value out of the knob's range (the
other operands are still done), 2 usage error (a value that is not an integer)
`,
  async run(args, io) {
    const parsed = parseSysctlArgs(args);
    if (parsed.kind === 'help') {
      io.stdout(sysctlCommand.help);
      return ExitCode.Ok;
    }
    const operands: readonly SysctlOperand[] =
      parsed.operands.length > 0 ? parsed.operands : [{ kind: 'get', name: SYSCTL_PREFIX }];
    const results: (SysctlInfo | SysctlChange)[] = [];
    let failed = false;
    await withDaemon(io, parsed.socket, async (client) => {
      for (const operand of operands) {
        try {
          if (operand.kind === 'set') {
            const change = await client.sysctlSet(operand.name, operand.value);
            results.push(change);
            if (!parsed.json) io.stdout(`${formatSysctlChange(change, parsed.valuesOnly)}\n`);
          } else {
            const knobs = await client.sysctlGet(
              isSysctlNode(operand.name) ? undefined : operand.name,
            );
            results.push(...knobs);
            if (!parsed.json) {
              const lines = knobs.map((k) => formatSysctl(k, parsed.describe, parsed.valuesOnly));
              io.stdout(lines.map((line) => `${line}\n`).join(''));
            }
          }
        } catch (error) {
          if (!(error instanceof ControlError)) throw error;
          // sysctl(8) reports the operand and goes on with the next, failing at the end.
          if (error.code === 'ENOENT') io.stderr(`netarp: sysctl: unknown oid '${operand.name}'\n`);
          else if (error.code === 'EINVAL') io.stderr(`netarp: sysctl: ${error.message}\n`);
          else throw error;
          failed = true;
        }
      }
    });
    if (parsed.json) io.stdout(`${JSON.stringify(results)}\n`);
    return failed ? ExitCode.Failure : ExitCode.Ok;
  },
};
