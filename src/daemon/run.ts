/**
 * `netarp daemon`: the daemon as a process. Parses its options, starts it, logs to stderr,
 * and turns signals into actions: SIGTERM and SIGINT stop it cleanly (exit status 0), SIGHUP
 * reloads the config. `runDaemon` resolves with the exit status once the daemon has stopped,
 * or at once with 1 when it cannot start (the reason logged as one line).
 */
import { parseArgs } from 'node:util';
import { socketPathFrom } from '../control/protocol.ts';
import { ControlServerError } from '../control/server.ts';
import type { LogLevel } from '../core/events.ts';
import { SystemClock } from '../runtime/clock.ts';
import { ConfigError } from './config.ts';
import { Daemon, DaemonError } from './daemon.ts';
import { isLogLevel, LOG_LEVELS, type LogFormat, LogSink } from './log.ts';

/** What `netarp daemon` was asked to do. */
export interface RunDaemonOptions {
  /** The TOML config file (--config). */
  config: string;
  /** The control socket (--socket); else $NETARP_SOCKET, else the default. */
  socket?: string;
  /** The state file (--state); else the config's `state`, else next to the socket. */
  state?: string;
  /** --log-format: text (default) or json. */
  logFormat?: LogFormat;
  /** --log-level: the least severe level logged; default info. */
  logLevel?: LogLevel;
}

/** The parts of the process the daemon uses, injectable for tests. */
export interface DaemonProcess {
  /** The environment (for NETARP_SOCKET). */
  env: Readonly<Record<string, string | undefined>>;
  /** Writes log text. */
  stderr(text: string): void;
  /** Signal subscription (process.on / process.off). */
  onSignal(signal: NodeJS.Signals, handler: () => void): void;
  offSignal(signal: NodeJS.Signals, handler: () => void): void;
}

/** The text of `netarp daemon --help`. */
export const DAEMON_HELP = `usage: netarp daemon --config FILE [--socket PATH] [--state PATH]
                     [--log-format text|json] [--log-level err|warning|info|debug]

Runs the ARP engine on the links of FILE (TOML) and serves the control socket the
other netarp commands talk to.

options:
  -c, --config FILE      the config file (required)
  -s, --socket PATH      the control socket (default: $NETARP_SOCKET, else
                         /run/netarp/netarp.sock); created mode 0600
      --state PATH       where entries and knobs changed at run time are kept
                         across restarts (default: the config's state key, else
                         next to the socket, NAME.state.json, or
                         /var/lib/netarp/state.json for the default socket)
      --log-format FMT   text: one line per message on stderr, the kernel's
                         "arp: ..." lines verbatim (default); json: JSON lines
      --log-level LEVEL  least severe level logged (default info; debug adds
                         every entry event)
  -h, --help             show this help

signals: SIGTERM, SIGINT stop (exit 0); SIGHUP reloads FILE
`;

/** What the daemon's command line asks for: help, or a run. */
export type ParsedDaemonArgs =
  | { readonly kind: 'help' }
  | { readonly kind: 'run'; readonly options: RunDaemonOptions };

/** Parses `netarp daemon`'s arguments; throws DaemonError EUSAGE with a one-line message. */
export function parseDaemonArgs(args: readonly string[]): ParsedDaemonArgs {
  let values: {
    config?: string | undefined;
    socket?: string | undefined;
    state?: string | undefined;
    'log-format'?: string | undefined;
    'log-level'?: string | undefined;
    help?: boolean | undefined;
  };
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string', short: 'c' },
        socket: { type: 'string', short: 's' },
        state: { type: 'string' },
        'log-format': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    const message = error instanceof Error ? (error.message.split(/\.( |$)/)[0] ?? '') : '';
    throw new DaemonError(
      'EUSAGE',
      `daemon: ${message.charAt(0).toLowerCase()}${message.slice(1)}`,
    );
  }
  if (values.help) return { kind: 'help' };
  if (values.config === undefined || values.config === '') {
    throw new DaemonError('EUSAGE', 'daemon: --config FILE is required');
  }
  const format = values['log-format'] ?? 'text';
  if (format !== 'text' && format !== 'json') {
    throw new DaemonError('EUSAGE', `daemon: --log-format must be text or json, got '${format}'`);
  }
  const level = values['log-level'] ?? 'info';
  if (!isLogLevel(level)) {
    throw new DaemonError(
      'EUSAGE',
      `daemon: --log-level must be one of ${LOG_LEVELS.join(', ')}, got '${level}'`,
    );
  }
  const options: RunDaemonOptions = { config: values.config, logFormat: format, logLevel: level };
  if (values.socket !== undefined) options.socket = values.socket;
  if (values.state !== undefined) {
    if (values.state === '') throw new DaemonError('EUSAGE', 'daemon: --state PATH is empty');
    options.state = values.state;
  }
  return { kind: 'run', options };
}

/** This process's environment, stderr and signals. */
const realProcess: DaemonProcess = {
  env: process.env,
  stderr: (text) => process.stderr.write(text),
  onSignal: (signal, handler) => process.on(signal, handler),
  offSignal: (signal, handler) => process.off(signal, handler),
};

/** Whether `error` is a failure to start that one log line explains (no stack trace). */
function isStartFailure(error: unknown): error is Error {
  return (
    error instanceof ConfigError ||
    error instanceof ControlServerError ||
    error instanceof DaemonError
  );
}

/**
 * Runs the daemon until SIGTERM or SIGINT; resolves with the exit status: 0 after a clean
 * stop, 1 when it could not start or stop cleanly.
 */
export async function runDaemon(
  options: RunDaemonOptions,
  io: DaemonProcess = realProcess,
): Promise<number> {
  const sink = new LogSink({
    format: options.logFormat ?? 'text',
    level: options.logLevel ?? 'info',
    write: (text) => io.stderr(text),
  });
  const clock = new SystemClock();
  const fatal = (message: string): void =>
    sink.log({ kind: 'log', time: clock.now(), level: 'err', source: 'daemon', message });
  // Signals are taken from the start: one that arrives while the daemon starts is acted on
  // once it has (a reload then, or a stop right away) instead of killing a half-started process.
  let daemon: Daemon | undefined;
  let stopRequested = false;
  let reloadRequested = false;
  let finish: (status: number) => void = () => {};
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });
  const stop = (): void => {
    stopRequested = true;
    if (!daemon) return;
    io.offSignal('SIGTERM', stop);
    io.offSignal('SIGINT', stop);
    io.offSignal('SIGHUP', reload);
    daemon.stop().then(
      () => finish(0),
      (error: unknown) => {
        fatal(`stop failed: ${error instanceof Error ? error.message : String(error)}`);
        finish(1);
      },
    );
  };
  const reload = (): void => {
    reloadRequested = true;
    if (daemon) void daemon.reload();
  };
  io.onSignal('SIGTERM', stop);
  io.onSignal('SIGINT', stop);
  io.onSignal('SIGHUP', reload);
  try {
    daemon = await Daemon.start({
      configFile: options.config,
      socketPath: socketPathFrom(options.socket, io.env),
      ...(options.state === undefined ? {} : { statePath: options.state }),
      log: sink,
      clock,
    });
  } catch (error) {
    io.offSignal('SIGTERM', stop);
    io.offSignal('SIGINT', stop);
    io.offSignal('SIGHUP', reload);
    if (!isStartFailure(error)) throw error;
    fatal(error.message);
    return 1;
  }
  if (stopRequested) stop();
  else if (reloadRequested) void daemon.reload();
  return finished;
}
