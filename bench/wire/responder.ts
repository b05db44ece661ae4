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
 * It exits by itself after --max-seconds, or when stdin closes, so a benchmark that dies
 * never leaves it running.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Engine } from '../../src/core/engine.ts';
import { VXLAN_IO_CHOICES, VxlanLink } from '../../src/link/vxlan.ts';
import { SystemClock } from '../../src/runtime/clock.ts';
import { Host } from '../../src/runtime/host.ts';
import { Runner } from '../../src/runtime/runner.ts';
import { parseIpv4, parseMac } from '../../src/wire/addr.ts';

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
}

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

const IF_NAME = 'vx0';

function print(message: object): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((wake) => setTimeout(wake, ms));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      local: { type: 'string' },
      remote: { type: 'string' },
      port: { type: 'string', default: '4789' },
      vni: { type: 'string', default: '42' },
      mac: { type: 'string' },
      address: { type: 'string' },
      'max-seconds': { type: 'string', default: '600' },
      io: { type: 'string', default: 'native' },
    },
  });
  if (!values.local || !values.remote || !values.mac || !values.address) {
    throw new Error('responder: --local, --remote, --mac and --address are required');
  }
  const io = VXLAN_IO_CHOICES.find((choice) => choice === values.io);
  if (io === undefined) {
    throw new Error(`responder: --io must be one of ${VXLAN_IO_CHOICES.join(', ')}`);
  }
  const maxSeconds = Number(values['max-seconds']);
  // The lifetime bound: whatever the benchmark does, this process ends.
  setTimeout(() => process.exit(3), maxSeconds * 1000).unref();

  const port = Number(values.port);
  const clock = new SystemClock();
  const engine = new Engine();
  engine.addInterface({ name: IF_NAME, mac: parseMac(values.mac) });
  const link = await VxlanLink.open({
    vni: Number(values.vni),
    local: { address: values.local, port },
    remotes: [{ address: values.remote, port }],
    io,
  });
  const runner = new Runner(engine, { clock, links: { [IF_NAME]: link } });
  const host = new Host(runner);
  const errors: string[] = [];
  runner.onError((error) => {
    if (errors.length < 20) errors.push(error.message);
  });
  runner.apply((e, now) => e.addAddress(now, IF_NAME, values.address!));

  /** The held frame's hand-over time, set by the held-delivered event of the awaited send. */
  let awaiting: { nextHop: string; deliveredAt: number | undefined } | undefined;
  runner.onEvent((event) => {
    if (event.kind === 'held-delivered' && awaiting && event.nextHop === awaiting.nextHop) {
      awaiting.deliveredAt ??= event.time;
    }
  });

  /**
   * `count` cold resolutions of `destination`: each time the entry is deleted first (arp -d,
   * through the engine), then one echo request is sent through Host.ping; it is held while
   * ARP runs and framed when the reply arrives. The sample is the runtime clock at the
   * hand-over to the link minus the clock just before the send.
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
      const waitBefore = runQueueWaitNs();
      const sentAt = runner.now();
      const ping = await host.ping(ip, { count: 1, timeoutMs });
      const waitAfter = runQueueWaitNs();
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
        });
      }
      await sleep(gapMs);
    }
    return { samples, failures };
  }

  const state = () => ({
    entries: engine.size,
    engine: engine.stats(),
    runner: runner.stats(),
    link: link.stats(),
    host: host.stats(),
    cpu: process.cpuUsage(),
    errors,
  });

  print({ type: 'ready', io: link.io, local: link.localEndpoint() });

  let closing = false;
  const close = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    host.cancelAll();
    await runner.close();
  };
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    let command: ResponderCommand;
    try {
      command = JSON.parse(line) as ResponderCommand;
    } catch {
      print({ type: 'error', message: `not JSON: ${line}` });
      return;
    }
    switch (command.cmd) {
      case 'stats':
        print({ type: 'result', id: command.id, state: state() });
        break;
      case 'latency':
        coldResolutions(command.destination, command.count, command.gapMs, command.timeoutMs).then(
          (cold) => print({ type: 'result', id: command.id, cold }),
          (error: unknown) => print({ type: 'result', id: command.id, error: String(error) }),
        );
        break;
      case 'close':
        close().then(() => {
          print({ type: 'result', id: command.id, closed: true });
          process.exit(0);
        });
        break;
    }
  });
  lines.on('close', () => {
    close().then(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  print({ type: 'fatal', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
