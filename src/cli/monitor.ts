/**
 * `netarp monitor [--json] [-c N]`: the daemon's events as they happen, until interrupted,
 * like route(8)'s `route monitor`: entry events as RTM_* lines, and the log lines (the
 * seed's "arp: ..." text verbatim) exactly as the daemon logs them.
 */
import { ControlClient } from '../control/client.ts';
import { type MonitorEvent, socketPathFrom } from '../control/protocol.ts';
import { formatText } from '../daemon/log.ts';
import { CLIENT_OPTIONS, hasFlag, integerOption, optionValue, parseOptions } from './args.ts';
import {
  CliError,
  type CliIo,
  type Command,
  ExitCode,
  envOf,
  signalsOf,
  UsageError,
} from './command.ts';

/** What `netarp monitor` was asked. */
export type MonitorArgs =
  | { readonly kind: 'help' }
  | {
      readonly kind: 'run';
      readonly json: boolean;
      /** Stop after this many events (-c). */
      readonly count?: number;
      readonly socket?: string;
    };

/** Most events -c may wait for. */
const MAX_COUNT = 2 ** 31 - 1;

/** Parses `monitor`'s arguments; throws UsageError. */
export function parseMonitorArgs(args: readonly string[]): MonitorArgs {
  const parsed = parseOptions(
    args,
    { count: { short: 'c', long: 'count', value: true }, ...CLIENT_OPTIONS },
    'monitor: ',
  );
  if (hasFlag(parsed, 'help')) return { kind: 'help' };
  if (parsed.positionals.length > 0) {
    throw new UsageError(`monitor: unexpected argument '${parsed.positionals[0]}'`);
  }
  const count = optionValue(parsed, 'count');
  const socket = optionValue(parsed, 'socket');
  return {
    kind: 'run',
    json: hasFlag(parsed, 'json'),
    ...(count === undefined
      ? {}
      : { count: integerOption(count, '-c', { min: 1, max: MAX_COUNT }, 'monitor: ') }),
    ...(socket === undefined ? {} : { socket }),
  };
}

/** route(4)'s message for each entry event ("resolve" is RTM_RESOLVE, the LL address found). */
const RTM = {
  add: 'RTM_ADD',
  resolve: 'RTM_RESOLVE',
  change: 'RTM_CHANGE',
  delete: 'RTM_DELETE',
  miss: 'RTM_MISS',
} as const;

/**
 * One line for an event: `RTM_ADD vx0 192.0.2.1 (incomplete) [learned]` for an entry event,
 * else the daemon's own log line (daemon/log.ts formatText), so that the seed's
 * "arp: ..." lines are verbatim.
 */
export function formatMonitorEvent(event: MonitorEvent): string {
  if (event.kind !== 'route') return formatText(event);
  return `${RTM[event.type]} ${event.ifName} ${event.ip} ${event.mac ?? '(incomplete)'} [${event.reason}]`;
}

/** Streams events until SIGINT/SIGTERM, -c events, or the daemon going away (status 1). */
async function runMonitor(
  options: Extract<MonitorArgs, { kind: 'run' }>,
  io: CliIo,
): Promise<number> {
  const path = socketPathFrom(options.socket, envOf(io));
  const client = await ControlClient.connect({ path });
  let stopped = false;
  let seen = 0;
  const stop = (): void => {
    stopped = true;
    client.close();
  };
  const signals = signalsOf(io);
  signals.on('SIGINT', stop);
  signals.on('SIGTERM', stop);
  try {
    const subscription = await client.monitor((event) => {
      if (stopped) return;
      io.stdout(`${options.json ? JSON.stringify(event) : formatMonitorEvent(event)}\n`);
      if (options.count !== undefined && ++seen >= options.count) stop();
    });
    await subscription.ended;
  } catch (error) {
    // A stop while subscribing closes the connection under the request: not a failure.
    if (!stopped) throw error;
  } finally {
    signals.off('SIGINT', stop);
    signals.off('SIGTERM', stop);
    client.close();
  }
  if (stopped) return ExitCode.Ok;
  throw new CliError('ECONNRESET', `${path}: the daemon closed the connection`);
}

/** The `monitor` verb. */
export const monitorCommand: Command = {
  name: 'monitor',
  synopsis: 'monitor [--json] [-c N]',
  summary: 'show entry events and log lines as they happen',
  help: `usage: netarp monitor [--json] [-c N] [--socket PATH]

Shows what the daemon does as it happens, until interrupted (Ctrl-C), like "route
monitor": one line per entry event, in route(4) terms,

  RTM_ADD vx0 192.0.2.1 (incomplete) [resolve]
  RTM_RESOLVE vx0 192.0.2.1 02:00:00:00:00:01 [learned]
  RTM_CHANGE vx0 192.0.2.1 02:00:00:00:00:07 [moved]
  RTM_DELETE vx0 192.0.2.1 02:00:00:00:00:07 [expired]
  RTM_MISS vx0 192.0.2.77 (incomplete) [maxtries]

(interface, address, MAC, and why), and every log line as the daemon logs it, whatever
its --log-level: the kernel's "arp: ..." lines verbatim, the daemon's own "netarp: ...".

options:
  --json          one JSON object per line: the events of the control protocol
                  (docs/control.md), times in milliseconds since the epoch
  -c, --count N   stop after N events
  --socket PATH   the daemon's control socket (default: $NETARP_SOCKET, else
                  /run/netarp/netarp.sock)
  -h, --help      show this help

exit status: 0 when interrupted or after N events, 1 if the daemon goes away
`,
  run(args, io) {
    const parsed = parseMonitorArgs(args);
    if (parsed.kind === 'help') {
      io.stdout(monitorCommand.help);
      return ExitCode.Ok;
    }
    return runMonitor(parsed, io);
  },
};
