/**
 * What every `netarp` verb is: a name, a one-line summary for `netarp --help`, its own help
 * text, and a `run` that returns the exit status. Verbs write through `CliIo` so that tests
 * capture their output; only `main.ts` and the defaults below touch the process.
 */
import { type NameService, systemNames } from './names.ts';

/** Exit statuses of every verb: 0 ok, 1 the work failed, 2 the command line was wrong. */
export const ExitCode = { Ok: 0, Failure: 1, Usage: 2 } as const;

/** Subscription to process signals (process.on / process.off), injectable for tests. */
export interface SignalSource {
  on(signal: NodeJS.Signals, handler: () => void): void;
  off(signal: NodeJS.Signals, handler: () => void): void;
}

/**
 * What a verb may touch besides its arguments. Each output call is a complete chunk of text
 * (lines end with "\n"); the optional parts default to this process's (see `envOf`,
 * `namesOf`, `signalsOf`), so a test replaces only what it needs.
 */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** The environment, for $NETARP_SOCKET; process.env when absent. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Host name lookups; the system resolver (node:dns) when absent. */
  readonly names?: NameService;
  /** Signals that stop a verb that runs until interrupted (monitor, daemon). */
  readonly signals?: SignalSource;
}

/** The environment a verb sees. */
export function envOf(io: CliIo): Readonly<Record<string, string | undefined>> {
  return io.env ?? process.env;
}

/** The name service a verb uses. */
export function namesOf(io: CliIo): NameService {
  return io.names ?? systemNames;
}

/** This process's signals. */
const processSignals: SignalSource = {
  on: (signal, handler) => process.on(signal, handler),
  off: (signal, handler) => process.off(signal, handler),
};

/** The signal source a verb listens to. */
export function signalsOf(io: CliIo): SignalSource {
  return io.signals ?? processSignals;
}

/** A `netarp` verb. */
export interface Command {
  /** The word after `netarp`. */
  readonly name: string;
  /** The synopsis shown in `netarp --help`, like "sim FILE [--json]". */
  readonly synopsis: string;
  /** One line for `netarp --help`. */
  readonly summary: string;
  /** The full text of `netarp NAME --help`. */
  readonly help: string;
  /** Runs with the arguments after the verb; resolves to the exit status. */
  run(args: readonly string[], io: CliIo): Promise<number> | number;
}

/** A mistake on the command line: `netarp: <message>` and exit status 2. */
export class UsageError extends Error {
  readonly code = 'EUSAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The failure of a verb's work that the user can act on: `netarp: <message>`, status 1. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * node:util parseArgs errors as one short line: "unknown option '--x'" rather than Node's
 * sentence about positional arguments.
 */
export function usageErrorFrom(error: unknown): UsageError | undefined {
  if (!(error instanceof TypeError) || !('code' in error)) return undefined;
  const code = String(error.code);
  if (!code.startsWith('ERR_PARSE_ARGS_')) return undefined;
  const first = error.message.split(/\.( |$)/)[0] ?? error.message;
  return new UsageError(first.charAt(0).toLowerCase() + first.slice(1));
}
