/**
 * The inside of a netarp peer program: a process that a test suite or a benchmark starts in a
 * network namespace and speaks to in JSON lines (test/support/peer-process.ts is the other
 * end). Each runs the pieces the daemon runs, an Engine with one interface on one link, a
 * Runner on the system clock and a Host, and differs only in its link and its commands.
 *
 * On stdout, one JSON object a line:
 *   {"type":"ready",...}                 once the runtime runs (what follows is the program's)
 *   {"type":"result","id":N,...}         the answer to command N, or {"error":"..."} in it
 *   {"type":"error","message":"..."}     a line that is not a command, or what the program
 *                                        reports as it runs
 *   {"type":"fatal","message":"..."}     start-up failed; the process exits 1
 * On stdin, one command a line, `{"id":N,"cmd":"...",...}`. `close` is every program's: it
 * closes the runtime's links and exits; stdin closing does the same, so a program whose
 * parent died does not live on.
 */
import { createInterface } from 'node:readline';
import { Engine } from '../../src/core/engine.ts';
import type { Link } from '../../src/link/link.ts';
import type { Clock } from '../../src/runtime/clock.ts';
import { Host } from '../../src/runtime/host.ts';
import {
  Runner,
  type RuntimeErrorHandler,
  type RuntimeEventHandler,
} from '../../src/runtime/runner.ts';
import { parseMac } from '../../src/wire/addr.ts';

/** Writes one JSON line to stdout. */
export function print(message: object): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** Runs a peer program's `main`; a failure is printed as `fatal` and ends the process. */
export function runPeerProgram(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    print({ type: 'fatal', message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  });
}

/** What a peer's runtime is made of. */
export interface PeerRuntimeOptions {
  /** The engine's one interface. */
  readonly ifName: string;
  /** Its MAC address, as text. */
  readonly mac: string;
  /** The link the interface is attached to, already open. */
  readonly link: Link;
  readonly clock: Clock;
  /** Engine settings (see EngineOptions.config). */
  readonly config?: Readonly<Record<string, number>>;
  /** The interface's addresses, CIDR text, added once the handlers below are subscribed. */
  readonly addresses: readonly string[];
  readonly onEvent?: RuntimeEventHandler;
  readonly onError?: RuntimeErrorHandler;
}

/** A peer's runtime: the engine, the runner that links it to its link, and the host. */
export interface PeerRuntime {
  readonly ifName: string;
  readonly engine: Engine;
  readonly runner: Runner;
  readonly host: Host;
}

/** Builds a peer's runtime on an open link and gives the interface its addresses. */
export function startPeerRuntime(options: PeerRuntimeOptions): PeerRuntime {
  const { ifName } = options;
  const engine = new Engine(options.config === undefined ? {} : { config: options.config });
  engine.addInterface({ name: ifName, mac: parseMac(options.mac) });
  const runner = new Runner(engine, { clock: options.clock, links: { [ifName]: options.link } });
  const host = new Host(runner);
  if (options.onEvent !== undefined) runner.onEvent(options.onEvent);
  if (options.onError !== undefined) runner.onError(options.onError);
  for (const cidr of options.addresses) runner.apply((e, now) => e.addAddress(now, ifName, cidr));
  return { ifName, engine, runner, host };
}

/** A command as it arrives: `id` comes back in its result. */
export interface PeerCommandShape {
  readonly id: number;
  readonly cmd: string;
}

/**
 * What a program answers to each of its commands but `close`: the fields of the result line
 * (a promise of them for a command that takes time). A throw or a rejection is answered as
 * the result's `error`.
 */
export type PeerCommandHandlers<C extends PeerCommandShape> = {
  readonly [K in Exclude<C['cmd'], 'close'>]: (
    command: Extract<C, { cmd: K }>,
  ) => object | Promise<object>;
};

type AnyHandler = (command: PeerCommandShape) => object | Promise<object>;

/**
 * Answers commands from stdin with `handlers` until `close` or the end of stdin, then closes
 * the runtime (pings in flight cancelled, links closed) and exits 0. A line that is not a
 * command is reported as an `error` line; an unknown command is answered with an error.
 */
export function servePeerCommands<C extends PeerCommandShape>(
  runtime: PeerRuntime,
  handlers: PeerCommandHandlers<C>,
): void {
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      runtime.host.cancelAll();
      await runtime.runner.close();
    })();
    return closing;
  };
  const answer = (id: number, outcome: object | Promise<object>): void => {
    if (outcome instanceof Promise) {
      outcome.then(
        (fields) => print({ type: 'result', id, ...fields }),
        (error: unknown) => print({ type: 'result', id, error: String(error) }),
      );
    } else {
      print({ type: 'result', id, ...outcome });
    }
  };

  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const command = parseCommand(line);
    if (command === undefined) {
      print({ type: 'error', message: `not a command: ${line}` });
      return;
    }
    if (command.cmd === 'close') {
      close().then(() => {
        print({ type: 'result', id: command.id, closed: true });
        process.exit(0);
      });
      return;
    }
    const handler = Object.hasOwn(handlers, command.cmd)
      ? (handlers as unknown as Readonly<Record<string, AnyHandler>>)[command.cmd]
      : undefined;
    if (handler === undefined) {
      answer(
        command.id,
        Promise.reject(new Error(`unknown command ${JSON.stringify(command.cmd)}`)),
      );
      return;
    }
    let outcome: object | Promise<object>;
    try {
      outcome = handler(command);
    } catch (error) {
      outcome = Promise.reject(error);
    }
    answer(command.id, outcome);
  });
  lines.on('close', () => {
    close().then(() => process.exit(0));
  });
}

/** A line as a command, or undefined if it is not JSON with a numeric id and a string cmd. */
function parseCommand(line: string): PeerCommandShape | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { id, cmd } = value as Record<string, unknown>;
  if (typeof id !== 'number' || typeof cmd !== 'string') return undefined;
  return value as PeerCommandShape;
}
