/**
 * `netarp stats [--json]`: every counter of the daemon, one `name value` per line, the name
 * saying its group: `engine.` (FreeBSD's arpstat, then one counter per drop reason),
 * `runner.`, `host.`, `link.IF.` (and `link.IF.pcap.`), `control.`, `state.` (the state
 * file: its counters, then its path), then `daemon.uptimeMs`. One pair per line keeps `grep`
 * and `awk '$1 == "engine.txrequests"'` working.
 */
import type { StatsInfo } from '../control/protocol.ts';
import { CLIENT_OPTIONS, hasFlag, optionValue, parseOptions } from './args.ts';
import { type Command, ExitCode, UsageError } from './command.ts';
import { withDaemon } from './connect.ts';

/** What `netarp stats` was asked. */
export type StatsArgs =
  | { readonly kind: 'help' }
  | { readonly kind: 'run'; readonly json: boolean; readonly socket?: string };

/** Parses `stats`' arguments; throws UsageError. */
export function parseStatsArgs(args: readonly string[]): StatsArgs {
  const parsed = parseOptions(args, CLIENT_OPTIONS, 'stats: ');
  if (hasFlag(parsed, 'help')) return { kind: 'help' };
  if (parsed.positionals.length > 0) {
    throw new UsageError(`stats: unexpected argument '${parsed.positionals[0]}'`);
  }
  const socket = optionValue(parsed, 'socket');
  return {
    kind: 'run',
    json: hasFlag(parsed, 'json'),
    ...(socket === undefined ? {} : { socket }),
  };
}

/** `prefix.name value` for each counter of `group`, in its own order. */
function group(prefix: string, counters: object): string[] {
  return Object.entries(counters).map(([name, value]) => `${prefix}.${name} ${value}`);
}

/** The lines of `netarp stats` (without newlines), grouped. */
export function statsLines(stats: StatsInfo): string[] {
  return [
    ...group('engine', stats.engine),
    ...group('runner', stats.runner),
    ...group('host', stats.host),
    ...stats.links.flatMap((link) => [
      ...group(`link.${link.ifName}`, link.counters),
      ...(link.pcap === undefined ? [] : group(`link.${link.ifName}.pcap`, link.pcap)),
    ]),
    ...group('control', stats.control),
    ...(stats.state === undefined
      ? []
      : [
          `state.changes ${stats.state.changes}`,
          `state.writes ${stats.state.writes}`,
          `state.failures ${stats.state.failures}`,
          // The one value that is not a number: the rest of the line, spaces and all.
          `state.path ${stats.state.path}`,
        ]),
    `daemon.uptimeMs ${Math.round(stats.uptimeMs)}`,
  ];
}

/** The `stats` verb. */
export const statsCommand: Command = {
  name: 'stats',
  synopsis: 'stats [--json]',
  summary: "print the daemon's counters",
  help: `usage: netarp stats [--json] [--socket PATH]

Prints every counter of the daemon, one "name value" per line, grouped by the first part
of the name:

  engine.*       the ARP engine: FreeBSD's arpstat (txrequests, txreplies, rxrequests,
                 rxreplies, received, dropped, timeouts, dupips, ...), then one counter
                 per reason a frame, an entry or a held packet is dropped
  runner.*       frames in and out, held packets delivered, timer runs, errors survived
  host.*         the IPv4 host: echo requests and replies, frames not for us
  link.IF.*      each link's driver counters (link.IF.pcap.* for its capture)
  control.*      control socket connections and requests
  state.*        the state file: changes (run-time changes it records), writes and
                 failures since start, and its path
  daemon.uptimeMs

options:
  --json          the daemon's answer as one JSON object (docs/control.md, "stats")
  --socket PATH   the daemon's control socket (default: $NETARP_SOCKET, else
                  /run/netarp/netarp.sock)
  -h, --help      show this help
`,
  async run(args, io) {
    const parsed = parseStatsArgs(args);
    if (parsed.kind === 'help') {
      io.stdout(statsCommand.help);
      return ExitCode.Ok;
    }
    const stats = await withDaemon(io, parsed.socket, (client) => client.stats());
    io.stdout(parsed.json ? `${JSON.stringify(stats)}\n` : `${statsLines(stats).join('\n')}\n`);
    return ExitCode.Ok;
  },
};
