/**
 * `netarp ping HOST [-c N] [-i SECONDS] [-W MS]`: ICMP echo from the daemon's host, through
 * the engine's resolve path (so the first echo from cold caches is held while ARP runs),
 * printed as ping(8) prints it: each reply as it arrives (the daemon reports each echo as it
 * goes), the statistics at the end, or at once on Ctrl-C (SIGINT) for the echoes so far.
 * A daemon that cannot report progress answers at the end, and the lines come then.
 */
import { ControlClient, isProgressRefused } from '../control/client.ts';
import { LIMITS, type PingProgress, socketPathFrom } from '../control/protocol.ts';
import type { PingProbe, PingResult } from '../runtime/host.ts';
import { CLIENT_OPTIONS, hasFlag, integerOption, optionValue, parseOptions } from './args.ts';
import {
  type CliIo,
  type Command,
  ExitCode,
  envOf,
  namesOf,
  signalsOf,
  UsageError,
} from './command.ts';
import { addressOf } from './names.ts';

/** What `netarp ping` was asked. */
export type PingArgs =
  | { readonly kind: 'help' }
  | {
      readonly kind: 'run';
      readonly host: string;
      readonly count?: number;
      readonly intervalMs?: number;
      readonly timeoutMs?: number;
      readonly json: boolean;
      readonly socket?: string;
    };

/** Bytes of ICMP data the daemon's host sends (runtime/host.ts, ping(8)'s default 56). */
export const PING_DATA_BYTES = 56;

/** ICMP echo header bytes, added to the data in "64 bytes from". */
const ICMP_HEADER_BYTES = 8;

/** Parses `ping`'s arguments; throws UsageError. */
export function parsePingArgs(args: readonly string[]): PingArgs {
  const parsed = parseOptions(
    args,
    {
      count: { short: 'c', value: true },
      interval: { short: 'i', value: true },
      timeout: { short: 'W', value: true },
      ...CLIENT_OPTIONS,
    },
    'ping: ',
  );
  if (hasFlag(parsed, 'help')) return { kind: 'help' };
  const [host, extra] = parsed.positionals;
  if (host === undefined) throw new UsageError('ping: missing HOST (see netarp ping --help)');
  if (extra !== undefined) throw new UsageError(`ping: unexpected argument '${extra}'`);
  const count = optionValue(parsed, 'count');
  const interval = optionValue(parsed, 'interval');
  const timeout = optionValue(parsed, 'timeout');
  const socket = optionValue(parsed, 'socket');
  return {
    kind: 'run',
    host,
    ...(count === undefined
      ? {}
      : { count: integerOption(count, '-c', LIMITS.pingCount, 'ping: ') }),
    ...(interval === undefined ? {} : { intervalMs: intervalMs(interval) }),
    ...(timeout === undefined
      ? {}
      : { timeoutMs: integerOption(timeout, '-W', LIMITS.pingTimeoutMs, 'ping: ') }),
    json: hasFlag(parsed, 'json'),
    ...(socket === undefined ? {} : { socket }),
  };
}

/** -i in seconds, as ping(8) takes it ("0.2"), to whole milliseconds within the daemon's bounds. */
function intervalMs(text: string): number {
  const seconds = /^([0-9]+(\.[0-9]*)?|\.[0-9]+)$/.test(text) ? Number(text) : Number.NaN;
  const ms = Math.round(seconds * 1000);
  const { min, max } = LIMITS.pingIntervalMs;
  if (!Number.isFinite(ms) || ms < min || ms > max) {
    throw new UsageError(
      `ping: -i: expected seconds in ${min / 1000}..${max / 1000}, got '${text}'`,
    );
  }
  return ms;
}

/** Milliseconds with three decimals, as ping(8) prints them. */
function ms(value: number): string {
  return value.toFixed(3);
}

/** ping(8)'s first line: `host` as typed, `ip` its address. */
export function pingHeader(host: string, ip: string): string {
  return `PING ${host} (${ip}): ${PING_DATA_BYTES} data bytes`;
}

/** ping(8)'s line for one echo to `ip`: its reply, or why there was none. */
export function probeLine(ip: string, probe: PingProbe): string {
  if (probe.ok) {
    return `${PING_DATA_BYTES + ICMP_HEADER_BYTES} bytes from ${ip}: icmp_seq=${probe.sequence} ttl=${probe.ttl} time=${ms(probe.rttMs)} ms`;
  }
  if (probe.reason === 'timeout') return `Request timeout for icmp_seq ${probe.sequence}`;
  return `Request failed for icmp_seq ${probe.sequence}: ${probe.reason}`;
}

/**
 * ping(8)'s lines for `result` (without newlines): the header, one line per echo, the
 * statistics. `host` is what the user typed, `result.destination` its address.
 */
export function pingLines(host: string, result: PingResult): string[] {
  const ip = result.destination;
  return [
    pingHeader(host, ip),
    ...result.probes.map((probe) => probeLine(ip, probe)),
    ...pingSummary(host, result),
  ];
}

/** ping(8)'s statistics for `result`: a blank line, the counts, the round-trip times if any. */
export function pingSummary(host: string, result: PingResult): string[] {
  const lines: string[] = [];
  const loss =
    result.transmitted === 0
      ? 0
      : ((result.transmitted - result.received) * 100) / result.transmitted;
  lines.push(
    '',
    `--- ${host} ping statistics ---`,
    `${result.transmitted} packets transmitted, ${result.received} packets received, ${loss.toFixed(1)}% packet loss`,
  );
  const rtts = result.rttsMs;
  if (rtts.length > 0) {
    const min = Math.min(...rtts);
    const max = Math.max(...rtts);
    const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
    // ping.c's stddev: sqrt(sum of squares / n - avg^2), the population deviation.
    const variance = rtts.reduce((a, b) => a + b * b, 0) / rtts.length - avg * avg;
    const stddev = Math.sqrt(Math.max(0, variance));
    lines.push(`round-trip min/avg/max/stddev = ${ms(min)}/${ms(avg)}/${ms(max)}/${ms(stddev)} ms`);
  }
  return lines;
}

/**
 * What a ping has reported so far (its progress lines): the statistics of one that is
 * interrupted before the daemon answers.
 */
export class PingTally {
  private transmitted = 0;
  private readonly probes: PingProbe[] = [];

  constructor(private readonly destination: string) {}

  /** Takes one progress line; returns the echo it settled, to print, if it is one. */
  add(progress: PingProgress): PingProbe | undefined {
    // Kinds this client does not know (a newer daemon's) are skipped.
    if (progress.kind === 'sent') {
      this.transmitted = Math.max(this.transmitted, progress.transmitted);
    } else if (progress.kind === 'probe') {
      this.probes.push(progress.probe);
      return progress.probe;
    }
    return undefined;
  }

  /** The result so far: requests sent, the echoes settled in the order they settled. */
  result(): PingResult {
    const rttsMs = this.probes.flatMap((p) => (p.ok ? [p.rttMs] : []));
    return {
      destination: this.destination,
      transmitted: Math.max(this.transmitted, this.probes.length),
      received: rttsMs.length,
      probes: [...this.probes],
      rttsMs,
    };
  }
}

/**
 * Pings through the daemon, printing each echo as it settles; on SIGINT, stops and prints
 * the statistics of what was reported so far, as ping(8) does.
 */
async function runPing(options: Extract<PingArgs, { kind: 'run' }>, io: CliIo): Promise<number> {
  const ip = await addressOf(namesOf(io), options.host);
  const client = await ControlClient.connect({ path: socketPathFrom(options.socket, envOf(io)) });
  const pingOptions = {
    ...(options.count === undefined ? {} : { count: options.count }),
    ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  };
  const tally = new PingTally(ip);
  const printed = new Set<number>();
  const print = (probe: PingProbe): void => {
    printed.add(probe.sequence);
    if (!options.json) io.stdout(`${probeLine(ip, probe)}\n`);
  };
  let interrupted = false;
  const interrupt = (): void => {
    interrupted = true;
    // Fails the request under way; the daemon sends no more echoes to a closed connection.
    client.close();
  };
  const signals = signalsOf(io);
  signals.on('SIGINT', interrupt);
  let result: PingResult;
  try {
    if (!options.json) io.stdout(`${pingHeader(options.host, ip)}\n`);
    try {
      result = await client.ping(ip, pingOptions, (progress) => {
        const probe = tally.add(progress);
        if (probe) print(probe);
      });
    } catch (error) {
      if (!isProgressRefused(error)) throw error;
      // A daemon without progress lines: everything comes with its answer.
      result = await client.ping(ip, pingOptions);
    }
  } catch (error) {
    if (!interrupted) throw error;
    result = tally.result();
  } finally {
    signals.off('SIGINT', interrupt);
    client.close();
  }
  // Echoes the answer holds that no progress line reported (an older daemon, lines dropped).
  for (const probe of result.probes) {
    if (!printed.has(probe.sequence)) print(probe);
  }
  io.stdout(
    options.json
      ? `${JSON.stringify(result)}\n`
      : `${pingSummary(options.host, result).join('\n')}\n`,
  );
  return result.received > 0 ? ExitCode.Ok : ExitCode.Failure;
}

/** The `ping` verb. */
export const pingCommand: Command = {
  name: 'ping',
  synopsis: 'ping HOST [-c N] [-i SEC] [-W MS]',
  summary: "ICMP echo through the daemon's ARP resolution",
  help: `usage: netarp ping HOST [-c N] [-i SECONDS] [-W MS] [--json] [--socket PATH]

Sends ICMP echo requests to HOST from the daemon (from its address on HOST's subnet),
through the engine's resolve path: from cold caches the first request is held while
ARP resolves HOST, then sent. Prints ping(8)'s lines, each reply as it arrives and the
statistics at the end (or at once on Ctrl-C, for the requests so far):

  PING 192.0.2.1 (192.0.2.1): 56 data bytes
  64 bytes from 192.0.2.1: icmp_seq=1 ttl=64 time=1.420 ms
  Request timeout for icmp_seq 2

  --- 192.0.2.1 ping statistics ---
  2 packets transmitted, 1 packets received, 50.0% packet loss
  round-trip min/avg/max/stddev = 1.420/1.420/1.420/0.000 ms

An echo that could not be sent says why ("Request failed for icmp_seq 1: host is
down").

options:
  -c N            send N requests, 1..100 (default 1)
  -i SECONDS      wait SECONDS between requests, 0.01..60 (default 1)
  -W MS           wait MS milliseconds for each reply, 1..60000 (default 2000)
  --json          the daemon's answer as one JSON object (docs/control.md, "ping")
  --socket PATH   the daemon's control socket (default: $NETARP_SOCKET, else
                  /run/netarp/netarp.sock)
  -h, --help      show this help

exit status: 0 if any reply came, 1 if none did, 2 usage error
`,
  run(args, io) {
    const parsed = parsePingArgs(args);
    if (parsed.kind === 'help') {
      io.stdout(pingCommand.help);
      return ExitCode.Ok;
    }
    return runPing(parsed, io);
  },
};
