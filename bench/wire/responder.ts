/**
 * netarp's side of the wire benchmark, run inside its network namespace:
 *
 *   ip netns exec NS node --import tsx bench/wire/responder.ts --local 198.18.0.1 \
 *     --remote 198.18.0.2 --port 4789 --vni 42 --mac 02:00:00:00:00:02 \
 *     --address 198.19.0.2/21 [--io native|dgram|auto] [--max-seconds 600]
 *
 * The same pieces the daemon runs: an Engine with one interface on a VXLAN link (on the io
 * backend --io names, native by default), a Runner on the system clock and a Host for ping.
 * It answers ARP for its address as fast as the runtime goes, and speaks JSON lines: it prints
 * `ready` (with the link's io backend), then answers commands from stdin:
 *   {"id":1,"cmd":"stats"}     counters, table size and the process's CPU time
 *   {"id":2,"cmd":"latency","destination":"198.19.0.1","count":200,"gapMs":5,"timeoutMs":1000}
 *                              cold first-packet latency, `count` times (see `coldResolutions`)
 *   {"id":3,"cmd":"close"}     closes the link and exits
 * (test/support/peer-runtime.ts runs the conversation and the runtime, as for the interop
 * peers; test/support/peer-link.ts opens the link.) It exits by itself after --max-seconds, or when stdin closes, so a benchmark that dies
 * never leaves it running.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { SystemClock } from '../../src/runtime/clock.ts';
import { parseIpv4 } from '../../src/wire/addr.ts';
import { openVxlanPeerLink, VXLAN_PEER_OPTIONS } from '../../test/support/peer-link.ts';
import {
  print,
  runPeerProgram,
  servePeerCommands,
  startPeerRuntime,
} from '../../test/support/peer-runtime.ts';
import { sleep } from '../../test/support/wait.ts';
import { CollectionWatch } from '../collections.ts';

/** One cold resolution: times from the runtime clock, in milliseconds. */
export interface ColdSample {
  /** Which resolution of the run (0-based), warm-up included. */
  readonly index: number;
  /** From the send (Host.ping on a cold entry) to the held frame handed to the link. */
  readonly heldMs: number;
  /** The ping's round trip (the same send to the echo reply), undefined if unanswered. */
  readonly rttMs: number | undefined;
  /**
   * How long the process's thread waited for a CPU (runnable, not running) during this
   * resolution, from /proc/self/schedstat; undefined where there is none. Large values mean
   * the machine, not netarp, made the sample slow.
   */
  readonly runQueueMs: number | undefined;
  /**
   * How long a fixed computation (`cpuProbe`) took just before the send and just after the
   * resolution, ms. It is the same work every time, so a probe far slower than its median
   * means the CPU itself ran slow around this resolution (the host's scheduling of the
   * virtual CPU, invisible from inside), not that netarp's path was slow.
   */
  readonly probeBeforeMs: number;
  readonly probeAfterMs: number;
  /** Time spent in garbage collections that overlapped this resolution, ms. */
  readonly gcMs: number;
}

/** A fixed computation of some tens of microseconds, with no memory traffic to speak of. */
let probeState = 1;
function cpuProbe(): number {
  const start = performance.now();
  let x = probeState | 1;
  for (let i = 0; i < 20_000; i++) x = (Math.imul(x, 0x2c1b3c6d) + i) | 0;
  probeState = x; // kept, so that the loop cannot be optimized away
  return performance.now() - start;
}

/** The last garbage collections, for the time each resolution spent in them. */
const collections = new CollectionWatch(64);

/** Nanoseconds the main thread has spent runnable but waiting for a CPU, if Linux says. */
function runQueueWaitNs(): number | undefined {
  try {
    // "<on-cpu ns> <waiting on a runqueue ns> <timeslices>" (Documentation/scheduler/sched-stats)
    const fields = readFileSync('/proc/self/schedstat', 'utf8').trim().split(/\s+/);
    const wait = Number(fields[1]);
    return Number.isFinite(wait) ? wait : undefined;
  } catch {
    return undefined;
  }
}

/** A cold resolution that gave no sample, and what was seen of it. */
export interface ColdFailure {
  readonly index: number;
  /** The probe's outcome: 'ok', or why it failed ('timeout', an errno text). */
  readonly ping: string;
  /** Whether the held frame was handed to the link at all. */
  readonly delivered: boolean;
  /** The engine's counters that tell where it stopped. */
  readonly txrequests: number;
  readonly rxreplies: number;
}

/** The outcome of `count` cold resolutions. */
export interface ColdRun {
  readonly samples: readonly ColdSample[];
  readonly failures: readonly ColdFailure[];
}

/** What the benchmark writes to the responder, one JSON object a line. */
export type ResponderCommand =
  | { id: number; cmd: 'stats' }
  | {
      id: number;
      cmd: 'latency';
      destination: string;
      count: number;
      gapMs: number;
      timeoutMs: number;
    }
  | { id: number; cmd: 'close' };

runPeerProgram(async () => {
  const { values } = parseArgs({
    options: {
      ...VXLAN_PEER_OPTIONS,
      mac: { type: 'string' },
      address: { type: 'string' },
      'max-seconds': { type: 'string', default: '600' },
    },
  });
  if (!values.mac || !values.address) {
    throw new Error('responder: --mac and --address are required');
  }
  const maxSeconds = Number(values['max-seconds']);
  // The lifetime bound: whatever the benchmark does, this process ends.
  setTimeout(() => process.exit(3), maxSeconds * 1000).unref();

  const link = await openVxlanPeerLink('responder', values, 'native');
  const errors: string[] = [];
  const runtime = startPeerRuntime({
    ifName: 'vx0',
    mac: values.mac,
    link,
    clock: new SystemClock(),
    addresses: [values.address],
    onError: (error) => {
      if (errors.length < 20) errors.push(error.message);
    },
  });
  const { engine, runner, host } = runtime;

  /**
   * The held frame's hand-over time, set when the runtime reports the awaited send's held
   * packet delivered: a fresh clock reading, taken after the frame was handed to the link (the
   * event's own time is the reading its batch started at, earlier by the engine's work).
   */
  let awaiting: { nextHop: string; deliveredAt: number | undefined } | undefined;
  runner.onEvent((event) => {
    if (event.kind === 'held-delivered' && awaiting && event.nextHop === awaiting.nextHop) {
      awaiting.deliveredAt ??= runner.clock.now();
    }
  });

  /**
   * `count` cold resolutions of `destination`: each time the entry is deleted first (arp -d,
   * through the engine), then one echo request is sent through Host.ping; it is held while
   * ARP runs and framed when the reply arrives. The sample is the runtime clock read when the
   * held frame has been handed to the link minus the clock just before the send.
   */
  async function coldResolutions(
    destination: string,
    count: number,
    gapMs: number,
    timeoutMs: number,
  ): Promise<ColdRun> {
    const ip = parseIpv4(destination);
    const samples: ColdSample[] = [];
    const failures: ColdFailure[] = [];
    for (let i = 0; i < count; i++) {
      if (engine.lookup(runner.now(), ip)) runner.apply((e, now) => e.deleteEntry(now, ip));
      const watch = { nextHop: destination, deliveredAt: undefined as number | undefined };
      const before = engine.stats();
      awaiting = watch;
      const probeBeforeMs = cpuProbe();
      const waitBefore = runQueueWaitNs();
      const startedAt = performance.now();
      const sentAt = runner.clock.now();
      const ping = await host.ping(ip, { count: 1, timeoutMs });
      const endedAt = performance.now();
      const waitAfter = runQueueWaitNs();
      const probeAfterMs = cpuProbe();
      awaiting = undefined;
      const probe = ping.probes[0];
      if (watch.deliveredAt === undefined || !probe?.ok) {
        const after = engine.stats();
        failures.push({
          index: i,
          ping: probe === undefined ? 'none' : probe.ok ? 'ok' : probe.reason,
          delivered: watch.deliveredAt !== undefined,
          txrequests: after.txrequests - before.txrequests,
          rxreplies: after.rxreplies - before.rxreplies,
        });
      }
      if (watch.deliveredAt !== undefined) {
        samples.push({
          index: i,
          heldMs: watch.deliveredAt - sentAt,
          rttMs: probe?.ok ? probe.rttMs : undefined,
          runQueueMs:
            waitBefore === undefined || waitAfter === undefined
              ? undefined
              : (waitAfter - waitBefore) / 1e6,
          probeBeforeMs,
          probeAfterMs,
          gcMs: collections.overlapMs(startedAt, endedAt),
        });
      }
      await sleep(gapMs);
    }
    return { samples, failures };
  }

  print({ type: 'ready', io: link.io, local: link.localEndpoint() });

  servePeerCommands<ResponderCommand>(runtime, {
    stats: () => ({
      state: {
        entries: engine.size,
        engine: engine.stats(),
        runner: runner.stats(),
        link: link.stats(),
        host: host.stats(),
        cpu: process.cpuUsage(),
        errors,
      },
    }),
    latency: async ({ destination, count, gapMs, timeoutMs }) => ({
      cold: await coldResolutions(destination, count, gapMs, timeoutMs),
    }),
  });
});
