/**
 * The wire family (performance issue, items 4 and 5), as root, on the topology of
 * topology.ts:
 *
 * - replies/s over VXLAN, closed loop: the C generator keeps a window of ARP requests in
 *   flight from many senders and counts only correct replies, against netarp (runtime + VXLAN
 *   link on the native addon's batched UDP channel, `wire.io`) and against the Linux kernel's
 *   vxlan device, alternating within each repetition; the ratio is taken per repetition. A
 *   second netarp on node:dgram (`wire.dgram`) is measured in the same repetitions, for
 *   comparison. Two C reference responders (batched and one syscall per datagram) show what
 *   the UDP path alone allows a userspace responder.
 * - first-packet latency: netarp sends to a cold destination (the kernel) through Host.ping;
 *   the runtime clock from the send to the held frame handed to the link, and the kernel's
 *   own view from a capture on its vxlan device; again on node:dgram with `wire.dgram`.
 */
import { join } from 'node:path';
import { VXLAN_IO_CHOICES, type VxlanIoChoice } from '../../src/link/vxlan.ts';
import { workerPoolSize } from '../../src/runtime/worker-pool.ts';
import type {
  BenchFamily,
  BenchOptions,
  FamilyReport,
  FamilySkip,
  Measurement,
} from '../family.ts';
import { measurement, median } from '../family.ts';
import { Capture, kernelView } from './capture.ts';
import { type ClientResult, Loadgen } from './loadgen.ts';
import { NetarpPeer } from './peer.ts';
import { profileNetarp } from './profiling.ts';
import type { ColdSample } from './responder.ts';
import { findTool, type Responder, WireTopology, wireUnavailableReason } from './topology.ts';

/** The settings of one run; `--param wire.NAME=VALUE` overrides each. */
export interface WireSettings {
  /** Distinct senders (IP and MAC) the requests cycle through. */
  hosts: number;
  /** Requests kept in flight. */
  window: number;
  /** Counted seconds of each measurement. */
  seconds: number;
  /** Uncounted warm-up before each measurement, ms. */
  warmupMs: number;
  /** Repetitions of each subject. */
  reps: number;
  /** Also measure the two C reference responders. */
  references: boolean;
  /** The io backend of the netarp subject (`native`, `dgram` or `auto`). */
  io: VxlanIoChoice;
  /** Also measure a netarp on node:dgram, as an extra subject (when `io` is not dgram). */
  dgram: boolean;
  /** Cold resolutions counted, and uncounted ones before them. */
  latencyCount: number;
  latencyWarmup: number;
  /** Pause between cold resolutions, ms. */
  latencyGapMs: number;
  /**
   * V8's worker pool in netarp's processes (`--v8-pool-size`), as `bin/netarp` sizes it for
   * the daemon by default; 0: Node's own default (four).
   */
  v8Pool: number;
}

/**
 * The full run's settings. 500 senders: the kernel's neighbour table is shared by every
 * namespace and its default hard limit (net.ipv4.neigh.default.gc_thresh3) is 1024 entries,
 * forced collection starting above 512 (gc_thresh2); with 1024 fresh senders the kernel
 * cannot create some entries, and it does not answer a request whose sender it cannot enter
 * (arp_process), so the kernel would be measured against a limit of its configuration.
 */
const FULL: WireSettings = {
  hosts: 500,
  window: 64,
  seconds: 3,
  warmupMs: 500,
  reps: 5,
  references: true,
  io: 'native',
  dgram: true,
  latencyCount: 200,
  latencyWarmup: 20,
  latencyGapMs: 5,
  v8Pool: workerPoolSize(),
};

/** The smoke run: every step once, briefly. */
const SMOKE: WireSettings = {
  hosts: 500,
  window: 64,
  seconds: 0.5,
  warmupMs: 100,
  reps: 1,
  references: false,
  io: 'native',
  dgram: false,
  latencyCount: 20,
  latencyWarmup: 3,
  latencyGapMs: 2,
  v8Pool: workerPoolSize(),
};

/** The settings for `options`: the smoke or full defaults, then `wire.*` params. */
export function wireSettings(options: Pick<BenchOptions, 'smoke' | 'params'>): WireSettings {
  const settings = { ...(options.smoke ? SMOKE : FULL) };
  for (const [key, text] of Object.entries(options.params)) {
    if (!key.startsWith('wire.')) continue;
    const name = key.slice('wire.'.length);
    if (!(name in settings)) throw new Error(`unknown parameter ${key}`);
    const field = name as keyof WireSettings;
    if (field === 'references' || field === 'dgram') {
      settings[field] = text === 'true' || text === '1';
      continue;
    }
    if (field === 'io') {
      const io = VXLAN_IO_CHOICES.find((choice) => choice === text);
      if (io === undefined) throw new Error(`${key} must be one of ${VXLAN_IO_CHOICES.join(', ')}`);
      settings.io = io;
      continue;
    }
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0) throw new Error(`${key} must be a number >= 0`);
    settings[field] = value;
  }
  if (settings.window < 1 || settings.window > settings.hosts) {
    throw new Error('wire.window must be 1..wire.hosts');
  }
  if (settings.hosts > 2000) throw new Error('wire.hosts must be at most 2000 (the /21 overlay)');
  if (settings.seconds <= 0 || settings.seconds > 60)
    throw new Error('wire.seconds must be in (0, 60]');
  return settings;
}

/** Who answers in a measurement. */
type Subject = 'kernel' | 'netarp' | 'netarp-dgram' | 'reflector-batch' | 'reflector-single';

/**
 * The port of the netarp on node:dgram measured beside the main one (both run for the whole
 * measurement, each idle while the other is driven): one no endpoint of topology.ts uses.
 */
const DGRAM_NETARP_PORT = 4793;

/** `count` datagrams over `batches` wakeups or flushes, as "N.N", or "-" for none. */
function perBatch(count: number, batches: number): string {
  return batches > 0 ? (count / batches).toFixed(1) : '-';
}

/** One closed-loop measurement and the CPU it cost. */
export interface WireRun {
  readonly rep: number;
  readonly subject: Subject;
  readonly client: ClientResult;
  /** The responder process's CPU over the run, in cores (netarp only). */
  readonly responderCores?: number;
}

/** The most run-queue wait (ms) a resolution may see and still count as undisturbed. */
const STEADY_RUN_QUEUE_MS = 0.1;

/**
 * The resolutions the machine did not disturb: the CPU ran at its usual speed around them
 * (both probes, fixed work timed just before and just after each, within twice the run's
 * median probe) and netarp's thread hardly waited for a CPU during them.
 */
function cpuSteady(samples: readonly ColdSample[]): ColdSample[] {
  const usual = mid(samples.flatMap((s) => [s.probeBeforeMs, s.probeAfterMs]));
  return samples.filter(
    (s) =>
      s.probeBeforeMs <= 2 * usual &&
      s.probeAfterMs <= 2 * usual &&
      (s.runQueueMs ?? 0) <= STEADY_RUN_QUEUE_MS,
  );
}

/** Median of a list, or NaN. */
function mid(values: readonly number[]): number {
  return median(values);
}

/** Microseconds of the generator's CPU (user + system) per correct reply. */
function generatorCpuPerReply(run: WireRun): number {
  const { client } = run;
  return client.valid > 0 ? ((client.cpuUser + client.cpuSys) / client.valid) * 1e6 : Number.NaN;
}

/** Microseconds of the responder process's CPU per correct reply (netarp runs). */
function responderCpuPerReply(run: WireRun): number {
  const { client } = run;
  const cores = run.responderCores ?? Number.NaN;
  return client.valid > 0 ? ((cores * client.seconds) / client.valid) * 1e6 : Number.NaN;
}

async function measure(
  topo: WireTopology,
  loadgen: Loadgen,
  settings: WireSettings,
  options: BenchOptions,
): Promise<FamilyReport> {
  const { log } = options;
  const durationMs = Math.round(settings.seconds * 1000);
  const load = { hosts: settings.hosts, window: settings.window, durationMs };
  const runs: WireRun[] = [];
  const notes: string[] = [
    settings.v8Pool > 0
      ? `netarp's processes run with V8's worker pool at ${settings.v8Pool} thread(s) (--v8-pool-size), as bin/netarp starts the daemon on this machine`
      : "netarp's processes run with Node's default V8 worker pool (4 threads)",
  ];

  const withDgram = settings.dgram && settings.io !== 'dgram';
  const dgramNetarp: Responder = { ...topo.netarp, port: DGRAM_NETARP_PORT };
  const peer = await NetarpPeer.start(topo, topo.netarp, {
    io: settings.io,
    v8Pool: settings.v8Pool,
  });
  const dgramPeer = withDgram
    ? await NetarpPeer.start(topo, dgramNetarp, { io: 'dgram', v8Pool: settings.v8Pool }).catch(
        async (error: unknown) => {
          await peer.close();
          throw error;
        },
      )
    : undefined;
  let netarpState: Awaited<ReturnType<NetarpPeer['state']>>;
  let dgramState: Awaited<ReturnType<NetarpPeer['state']>> | undefined;
  let kernelNeighbours: Record<string, number> = {};
  try {
    // Warm-up, not counted: the JIT compiles netarp's path, both sides learn every sender.
    log(`wire: warm-up (netarp${withDgram ? ', netarp on dgram' : ''}, kernel)`);
    await loadgen.client(topo, topo.netarp, { ...load, warmupMs: 0, durationMs: durationMs });
    if (withDgram) {
      await loadgen.client(topo, dgramNetarp, { ...load, warmupMs: 0, durationMs: durationMs });
    }
    await loadgen.client(topo, topo.kernel, { ...load, warmupMs: 0, durationMs: durationMs });
    // Whether the kernel could enter every sender (it answers only those it enters).
    kernelNeighbours = await topo.kernelNeighbourStates();

    const subjects: Subject[] = ['kernel', 'netarp'];
    if (withDgram) subjects.push('netarp-dgram');
    if (settings.references) subjects.push('reflector-batch', 'reflector-single');
    for (let rep = 1; rep <= settings.reps; rep++) {
      // A different order each repetition, so that a drift of the machine is not one-sided.
      const order = subjects.map((_, i) => subjects[(i + rep - 1) % subjects.length]!);
      for (const subject of order) {
        const options = { ...load, warmupMs: settings.warmupMs };
        if (subject === 'netarp' || subject === 'netarp-dgram') {
          const [driven, target] =
            subject === 'netarp' ? [peer, topo.netarp] : [dgramPeer!, dgramNetarp];
          const before = (await driven.state()).cpu;
          const started = performance.now();
          const client = await loadgen.client(topo, target, options);
          const wallSeconds = (performance.now() - started) / 1000;
          const after = (await driven.state()).cpu;
          const cpuSeconds = (after.user - before.user + after.system - before.system) / 1e6;
          runs.push({ rep, subject, client, responderCores: cpuSeconds / wallSeconds });
        } else if (subject === 'kernel') {
          runs.push({ rep, subject, client: await loadgen.client(topo, topo.kernel, options) });
        } else {
          const batch = subject === 'reflector-batch' ? 64 : 1;
          const reflector = await loadgen.reflector(
            topo,
            batch,
            settings.warmupMs + durationMs + 10_000,
          );
          try {
            runs.push({
              rep,
              subject,
              client: await loadgen.client(topo, topo.reflector, options),
            });
          } finally {
            await reflector.stop();
          }
        }
        const last = runs.at(-1)!;
        log(
          `wire: rep ${rep} ${subject}: ${last.client.repliesPerSecond.toFixed(0)} replies/s` +
            ` (lost ${last.client.lostMeasured}, invalid ${last.client.invalid})`,
        );
      }
    }
    netarpState = await peer.state();
    dgramState = await dgramPeer?.state();
  } finally {
    await peer.close();
    await dgramPeer?.close();
  }

  // Extra, uncounted netarp runs under the profilers, when asked.
  const profile =
    options.profileDir === undefined
      ? undefined
      : await profileNetarp(
          topo,
          loadgen,
          { ...load, warmupMs: settings.warmupMs },
          options.profileDir,
          settings.io,
          log,
        );
  if (profile?.v8 !== undefined) {
    notes.push(`V8 CPU profile of netarp under load: ${profile.v8} (summary: ${profile.v8}.txt)`);
  }
  if (profile !== undefined && profile.perf.length > 0) {
    notes.push(`perf reports of netarp under load: ${profile.perf.join(', ')}`);
  }

  // First-packet latency: a second netarp on the port of the kernel peer in the generator
  // namespace; tcpdump there gives the kernel's timestamps.
  log(
    `wire: first-packet latency, ${settings.latencyWarmup} + ${settings.latencyCount} cold resolutions`,
  );
  const latencyNetarp: Responder = { ...topo.netarp, port: topo.latencyPeer.port };
  const capturePath = join(loadgen.binary, '..', 'latency.pcap');
  const coldRuns = withDgram ? 2 : 1;
  const capture = await Capture.start(
    topo,
    topo.generatorNs,
    'vxg',
    capturePath,
    Math.ceil(
      (coldRuns *
        (settings.latencyCount + settings.latencyWarmup) *
        (settings.latencyGapMs + 1000)) /
        1000,
    ) +
      30 * coldRuns,
  );
  /** One netarp on `io` resolving the kernel peer cold, again and again; then closed. */
  const coldRun = async (io: VxlanIoChoice) => {
    const latencyPeer = await NetarpPeer.start(topo, latencyNetarp, {
      io,
      v8Pool: settings.v8Pool,
    });
    try {
      // The first arptimer pass runs one second after the first address appears (if_ether.c
      // l.209), then every prune_intvl. Like the seed (l.184 with l.558) it frees an entry
      // being asked for in that same second, held packet and all, so a resolution in flight
      // at that moment never completes. Start after the first pass: this measures
      // resolution, not it.
      await new Promise((wake) => setTimeout(wake, 1200));
      const fromMs = Date.now();
      const cold = await latencyPeer.coldResolutions(
        topo.latencyPeer.ip,
        settings.latencyWarmup + settings.latencyCount,
        settings.latencyGapMs,
        1000,
      );
      return { cold, window: { fromMs, toMs: Date.now() } };
    } finally {
      await latencyPeer.close();
    }
  };
  let main: Awaited<ReturnType<typeof coldRun>>;
  let dgramCold: Awaited<ReturnType<typeof coldRun>> | undefined;
  try {
    main = await coldRun(settings.io);
    if (withDgram) {
      log('wire: first-packet latency, netarp on node:dgram');
      dgramCold = await coldRun('dgram');
    }
    // The baseline: the kernel resolving the same peer the same way, seen by the same capture.
    if (capture !== undefined && findTool('ping') !== undefined) {
      log('wire: first-packet latency baseline, the kernel as the sender');
      await topo.addKernelClient();
      for (let i = 0; i < settings.latencyWarmup + settings.latencyCount; i++) {
        await topo.kernelClientPing(topo.latencyPeer.ip);
      }
    }
  } finally {
    await capture?.stop();
  }
  const cold = main.cold;
  const counted = cold.samples.filter((s) => s.index >= settings.latencyWarmup);
  const failed = cold.failures.filter((f) => f.index >= settings.latencyWarmup);
  const dgramCounted = (dgramCold?.cold.samples ?? []).filter(
    (s) => s.index >= settings.latencyWarmup,
  );
  const kernelSide =
    capture === undefined
      ? []
      : kernelView(capture.path, topo.netarp.ip, topo.latencyPeer.ip, main.window).slice(
          settings.latencyWarmup,
        );
  const kernelClient =
    capture === undefined
      ? []
      : kernelView(capture.path, topo.kernelClient.ip, topo.latencyPeer.ip).slice(
          settings.latencyWarmup,
        );
  if (capture === undefined) notes.push('tcpdump not installed: no kernel-side latency view');

  // --- the figures -------------------------------------------------------------------------
  const of = (subject: Subject) => runs.filter((r) => r.subject === subject);
  const rates = (subject: Subject) => of(subject).map((r) => r.client.repliesPerSecond);
  const kernelRates = rates('kernel');
  const netarpRates = rates('netarp');
  const ratios = netarpRates.map((n, i) => n / kernelRates[i]!);
  const io = netarpState.link.io;
  const measurements: Measurement[] = [
    measurement(
      'wire.kernel.replies',
      'replies/s, Linux kernel (vxlan device)',
      'replies/s',
      kernelRates,
    ),
    measurement(
      'wire.netarp.replies',
      `replies/s, netarp (runtime, VXLAN link on ${io})`,
      'replies/s',
      netarpRates,
    ),
    measurement('wire.ratio', `netarp (${io}) / kernel replies/s, same repetition`, 'x', ratios, {
      target: { op: '>=', value: 0.9, text: '>= 0.9x (goal 1.0x)' },
    }),
  ];
  if (withDgram) {
    const dgramRates = rates('netarp-dgram');
    measurements.push(
      measurement(
        'wire.dgram.replies',
        'replies/s, netarp (runtime, VXLAN link on node:dgram)',
        'replies/s',
        dgramRates,
      ),
      measurement(
        'wire.dgram.ratio',
        'netarp (node:dgram) / kernel replies/s, same repetition',
        'x',
        dgramRates.map((n, i) => n / kernelRates[i]!),
      ),
      measurement(
        'wire.dgram.cpuPerReply',
        'CPU per reply, netarp process on node:dgram',
        'us',
        of('netarp-dgram').map(responderCpuPerReply),
      ),
    );
    if (dgramCounted.length > 0) {
      measurements.push(
        measurement(
          'wire.dgram.latency.held.median',
          'first packet on node:dgram: send to held frame handed to the link (runtime clock)',
          'ms',
          dgramCounted.map((s) => s.heldMs),
        ),
        measurement(
          'wire.dgram.latency.held.p99',
          'first packet on node:dgram: send to held frame handed to the link (runtime clock)',
          'ms',
          dgramCounted.map((s) => s.heldMs),
          { statistic: 'p99' },
        ),
      );
    }
  }
  if (settings.references) {
    const relative = (subject: Subject) => rates(subject).map((r, i) => r / kernelRates[i]!);
    measurements.push(
      measurement(
        'wire.reflector.batch.ratio',
        'C reference batched / kernel replies/s, same repetition',
        'x',
        relative('reflector-batch'),
      ),
      measurement(
        'wire.reflector.single.ratio',
        'C reference one-per-datagram / kernel replies/s, same repetition',
        'x',
        relative('reflector-single'),
      ),
      measurement(
        'wire.reflector.batch.replies',
        'replies/s, C reference responder, recvmmsg/sendmmsg',
        'replies/s',
        rates('reflector-batch'),
      ),
      measurement(
        'wire.reflector.single.replies',
        'replies/s, C reference responder, one recvfrom/sendto each',
        'replies/s',
        rates('reflector-single'),
      ),
    );
  }
  measurements.push(
    measurement(
      'wire.kernel.cpuPerReply',
      'CPU per reply, kernel case: generator process, incl. the softirq work done in it',
      'us',
      of('kernel').map(generatorCpuPerReply),
    ),
    measurement(
      'wire.netarp.cpuPerReply',
      'CPU per reply, netarp process',
      'us',
      of('netarp').map(responderCpuPerReply),
    ),
    measurement(
      'wire.netarp.generatorCpuPerReply',
      'CPU per reply, generator process while driving netarp',
      'us',
      of('netarp').map(generatorCpuPerReply),
    ),
    measurement(
      'wire.netarp.processCores',
      'netarp process CPU under load',
      'cores',
      of('netarp').map((r) => r.responderCores ?? Number.NaN),
    ),
    measurement(
      'wire.generator.coresNetarp',
      'generator CPU while driving netarp',
      'cores',
      of('netarp').map((r) => (r.client.cpuUser + r.client.cpuSys) / r.client.seconds),
    ),
    measurement(
      'wire.generator.userPerRequest',
      'generator user-space CPU per request (all runs)',
      'us',
      runs.map((r) => (r.client.sent > 0 ? (r.client.cpuUser / r.client.sent) * 1e6 : Number.NaN)),
    ),
    measurement(
      'wire.latency.held.median',
      'first packet: send to held frame handed to the link (runtime clock)',
      'ms',
      counted.map((s) => s.heldMs),
    ),
    measurement(
      'wire.latency.held.p99',
      'first packet: send to held frame handed to the link (runtime clock)',
      'ms',
      counted.map((s) => s.heldMs),
      { statistic: 'p99', target: { op: '<=', value: 1, text: 'p99 <= 1 ms' } },
    ),
    // Diagnostic, no target: the same resolutions without those the machine disturbed (the CPU
    // itself ran slow, or netarp's thread waited for one), to tell netarp's tail from the
    // machine's.
    measurement(
      'wire.latency.held.p99.cpuSteady',
      'first packet, diagnostic: p99 over the resolutions the machine did not disturb',
      'ms',
      cpuSteady(counted).map((s) => s.heldMs),
      { statistic: 'p99' },
    ),
    measurement(
      'wire.latency.rtt.median',
      'first packet: cold ping round trip (ARP + echo), netarp to kernel',
      'ms',
      counted.flatMap((s) => (s.rttMs === undefined ? [] : [s.rttMs])),
    ),
  );
  if (kernelSide.length > 0) {
    const requestToHeld = kernelSide.map((s) => s.requestToHeldMs);
    measurements.push(
      measurement(
        'wire.latency.kernel.median',
        "first packet, kernel's view: netarp's request to the held packet",
        'ms',
        requestToHeld,
      ),
      measurement(
        'wire.latency.kernel.p99',
        "first packet, kernel's view: netarp's request to the held packet",
        'ms',
        requestToHeld,
        { statistic: 'p99' },
      ),
      measurement(
        'wire.latency.kernel.turnaround',
        "first packet, kernel's view: its reply to the held packet",
        'ms',
        kernelSide.map((s) => s.replyToHeldMs),
      ),
    );
  }
  if (kernelClient.length > 0) {
    const requestToHeld = kernelClient.map((s) => s.requestToHeldMs);
    measurements.push(
      measurement(
        'wire.latency.kernelSender.median',
        'baseline, the kernel as the sender, same view: its request to the held packet',
        'ms',
        requestToHeld,
      ),
      measurement(
        'wire.latency.kernelSender.p99',
        'baseline, the kernel as the sender, same view: its request to the held packet',
        'ms',
        requestToHeld,
        { statistic: 'p99' },
      ),
    );
  }

  // --- sanity: what the counts say about the measurement itself ---------------------------
  const invalid = runs.reduce((sum, r) => sum + r.client.invalid, 0);
  const lost = runs.reduce((sum, r) => sum + r.client.lostMeasured, 0);
  notes.push(
    `topology: generator and responders in two namespaces over a veth pair; VXLAN VNI ${topo.vni}; ` +
      `${settings.hosts} senders, window ${settings.window}, ${settings.reps} x ${settings.seconds} s ` +
      `per subject after ${settings.warmupMs} ms warm-up`,
    `replies checked field by field: ${invalid} invalid, ${lost} requests lost in measured intervals`,
    `kernel neighbour entries on vxk after the warm-up, by state: ${JSON.stringify(kernelNeighbours)}`,
    ...[netarpState, dgramState].flatMap((state) =>
      state === undefined
        ? []
        : [
            `netarp (${state.link.io}): ${state.entries} entries, rxrequests ${state.engine.rxrequests}, ` +
              `txreplies ${state.engine.txreplies}, link txErrors ${state.link.txErrors}, ` +
              // ICMP errors about datagrams to the generator's port while no generator was
              // listening there (netarp's announcement at start, replies after a run ended).
              `link rxIcmpErrors ${state.link.rxIcmpErrors}, ` +
              `runner errors ${state.runner.handlerErrors + state.runner.linkErrors} ` +
              `(handler ${state.runner.handlerErrors}, link reports ${state.runner.linkErrors}); ` +
              `datagrams per receive ${perBatch(state.link.rxFrames, state.link.rxBatches)}, ` +
              `per send ${perBatch(state.link.txFrames, state.link.txBatches)}`,
          ],
    ),
    `latency: ${counted.length} of ${settings.latencyCount} cold resolutions completed` +
      `${failed.length > 0 ? ` (failed: ${JSON.stringify(failed)})` : ''}; ` +
      `kernel-side pairs ${kernelSide.length}; kernel-sender baseline pairs ${kernelClient.length}`,
  );
  // Whether slow resolutions were netarp's doing or the machine's: the time netarp's thread
  // sat runnable without a CPU during each one.
  const slow = counted.filter((s) => s.heldMs > 1);
  const waits = (samples: typeof counted) =>
    samples.flatMap((s) => (s.runQueueMs === undefined ? [] : [s.runQueueMs]));
  const steady = cpuSteady(counted);
  const disturbed = counted.filter((s) => !steady.includes(s));
  notes.push(
    `latency: the machine disturbed ${disturbed.length} of ${counted.length} resolutions (the CPU ` +
      `probe, fixed work of median ${mid(counted.map((s) => s.probeBeforeMs)).toFixed(3)} ms, ran ` +
      `over twice its median around them, or netarp's thread waited over ${STEADY_RUN_QUEUE_MS} ms ` +
      `for a CPU); ${disturbed.filter((s) => s.heldMs > 1).length} of the ${slow.length} above 1 ms ` +
      `are among them. ` +
      `Garbage collection overlapped ${counted.filter((s) => s.gcMs > 0).length} resolutions ` +
      `(${slow.filter((s) => s.gcMs > 0).length} of those above 1 ms; longest ` +
      `${Math.max(0, ...counted.map((s) => s.gcMs)).toFixed(3)} ms)`,
  );
  if (waits(counted).length > 0) {
    notes.push(
      `latency: ${slow.length} resolutions above 1 ms; run-queue wait of netarp's thread ` +
        `(runnable, no CPU) median ${mid(waits(counted)).toFixed(3)} ms over all, ` +
        `${slow.length > 0 ? mid(waits(slow)).toFixed(3) : '-'} ms over those above 1 ms`,
    );
  }
  if (netarpState.errors.length > 0) notes.push(`netarp errors: ${netarpState.errors.join('; ')}`);
  if (dgramState !== undefined && dgramState.errors.length > 0) {
    notes.push(`netarp (dgram) errors: ${dgramState.errors.join('; ')}`);
  }
  if (counted.length === 0) throw new Error('no cold resolution completed');
  if (mid(netarpRates) === 0 || mid(kernelRates) === 0) {
    throw new Error(`no replies: netarp ${mid(netarpRates)}/s, kernel ${mid(kernelRates)}/s`);
  }

  return {
    measurements,
    notes,
    details: {
      settings,
      runs,
      latency: {
        netarp: counted,
        failures: failed,
        dgram: dgramCounted,
        kernel: kernelSide,
        kernelSender: kernelClient,
      },
      kernelNeighbours,
      netarp: netarpState,
      dgram: dgramState,
      profile,
    },
  };
}

/** The wire family: needs root, `ip` and a C compiler; skipped otherwise. */
export const wireFamily: BenchFamily = {
  name: 'wire',
  description:
    'ARP replies/s over VXLAN, netarp vs the Linux kernel, closed loop; first-packet latency (root)',
  async run(options: BenchOptions): Promise<FamilyReport | FamilySkip> {
    const settings = wireSettings(options);
    const reason = wireUnavailableReason();
    if (reason !== undefined) return { skipped: reason };
    options.log('wire: compiling the load generator');
    const loadgen = await Loadgen.build();
    try {
      options.log('wire: building the namespaces');
      const topo = await WireTopology.create();
      try {
        return await measure(topo, loadgen, settings, options);
      } finally {
        await topo.destroy();
      }
    } finally {
      loadgen.dispose();
    }
  },
};
