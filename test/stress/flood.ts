/**
 * The interop flood: the daemon, in a network namespace, on a VXLAN segment with a real Linux
 * kernel (test/interop/daemon-harness.ts's lab), is flooded with ARP requests from many
 * senders by the C load generator of the wire benchmark (bench/wire/loadgen.c, closed loop,
 * each request from a new sender in turn, every reply checked field by field), while the
 * kernel pings it and arpings it. It measures the replies per second the daemon gives the
 * flood, the kernel's ping and arping success and latency before and during the flood, the
 * daemon's table and counters, and its peak RSS.
 *
 * ```
 *  daemon namespace                          kernel namespace
 *  netarp daemon, vx0                        vx0 (kernel vxlan, 192.0.2.1/24)   ping, arping
 *    192.0.2.2/24, 100.64.0.2/10             loadgen client, UDP port+1: senders 100.64.1.0+i
 *  u0 198.18.L.1/30  <----- underlay ----->  u0 198.18.L.2/30
 * ```
 * The daemon floods each frame it sends to both remotes (the kernel's VTEP and the load
 * generator's socket), as a VXLAN head-end does; the kernel drops the flood's replies, which
 * are for other MACs. All traffic stays inside the two namespaces; every run is bounded (the
 * generator stops itself, and every command has a timeout).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { type ClientResult, Loadgen } from '../../bench/wire/loadgen.ts';
import type { ArpStats } from '../../src/core/stats.ts';
import { type Lab, SITE_A, withLab } from '../interop/daemon-harness.ts';
import { findTool, must } from '../support/commands.ts';
import type { Daemon } from '../support/daemon.ts';
import { spawnIn } from '../support/netns.ts';
import { sleep } from '../support/wait.ts';

/** How big a flood. */
export interface FloodOptions {
  /** Distinct senders the generator cycles through (at most 65536). */
  readonly hosts: number;
  /** Requests in flight at once (the generator's closed-loop window). */
  readonly window: number;
  /** How long the flood is measured, after a 500 ms warm-up. */
  readonly durationMs: number;
  /** Kernel pings and arpings during the flood (5 a second). */
  readonly probes: number;
  /** The daemon's max_entries (default: the engine's default). */
  readonly maxEntries?: number;
}

/** Success and latency of a series of probes. */
export interface ProbeStats {
  readonly sent: number;
  readonly answered: number;
  /** Milliseconds: median and largest round trip of those answered. */
  readonly p50Ms: number;
  readonly maxMs: number;
}

/** What a flood run measured. */
export interface FloodResult {
  readonly options: FloodOptions;
  readonly baseline: { readonly ping: ProbeStats; readonly arping: ProbeStats };
  readonly during: { readonly ping: ProbeStats; readonly arping: ProbeStats };
  /** The generator's counts (see bench/wire/loadgen.ts). */
  readonly flood: ClientResult;
  readonly daemon: {
    /** Entries in the daemon's table after the flood. */
    readonly entries: number;
    readonly maxEntries: number;
    /** Engine counters that moved during the flood. */
    readonly counters: Partial<ArpStats>;
    /** Peak and current resident set size, bytes (VmHWM and VmRSS). */
    readonly rssPeak: number;
    readonly rss: number;
    /** Datagrams the daemon's VXLAN link took in, and the socket errors it saw. */
    readonly linkCounters: Readonly<Record<string, number>>;
    readonly exitedEarly: boolean;
  };
}

/** Why the flood cannot run here (root, namespaces, the tools, a C compiler), or undefined. */
export function floodUnavailableReason(): string | undefined {
  return findTool('cc') === undefined
    ? 'missing cc (Debian: gcc), which builds the load generator'
    : undefined;
}

/** Runs the flood in a fresh lab and tears everything down whatever happens. */
export async function runFlood(options: FloodOptions): Promise<FloodResult> {
  const loadgen = await Loadgen.build();
  try {
    return await withLab((lab) => floodIn(lab, loadgen, options), [SITE_A]);
  } finally {
    loadgen.dispose();
  }
}

async function floodIn(lab: Lab, loadgen: Loadgen, options: FloodOptions): Promise<FloodResult> {
  const site = lab.site;
  const floodPort = site.port + 1;
  const knobs =
    options.maxEntries === undefined
      ? ''
      : `"net.link.ether.inet.max_entries" = ${options.maxEntries}`;
  const config = [
    '[sysctl]',
    knobs,
    '',
    '[[interface]]',
    'name = "vx0"',
    `mac = "${site.netarpMac}"`,
    `addresses = ["${site.netarpAddress}/24", "100.64.0.2/10"]`,
    `link = { type = "vxlan", local = "${site.netarpUnderlay}:${site.port}", remote = ["${site.kernelUnderlay}:${site.port}", "${site.kernelUnderlay}:${floodPort}"], vni = ${site.vni} }`,
    '',
  ].join('\n');
  // Logging at `warning` and with no monitor: at `debug` every entry event of the flood
  // would be written to stderr and to the monitor, and measured. Only stderr's tail is kept.
  const daemon = await lab.startDaemon(config, {
    logLevel: 'warning',
    monitor: false,
    stderrTail: 8192,
  });
  try {
    const target = site.netarpAddress;
    // Before: the kernel resolves and pings the daemon on a quiet segment.
    const baselineArping = await arping(lab, target, 10);
    const baselinePing = await ping(lab, target, 10);
    const before = (await daemon.client.request('stats', {})).engine;

    const generator = spawnGenerator(lab, loadgen, floodPort, options);
    await sleep(1000); // the warm-up, and the table filling
    // During: the kernel forgets the daemon's MAC first, so that its first ping resolves it
    // again through the flood.
    await must(['ip', '-n', site.ns, 'neigh', 'flush', 'dev', site.kernelIf]);
    const seconds = options.probes / 5;
    const [duringArping, duringPing] = await Promise.all([
      arping(lab, target, options.probes),
      sleep(100).then(() => ping(lab, target, options.probes)),
    ]);
    const flood = await generator.result;
    assert.ok(
      seconds * 1000 + 1000 <= options.durationMs + 500,
      'the probes ran inside the flood (durationMs covers them)',
    );

    const stats = await daemon.client.request('stats', {});
    const entries = (await daemon.client.request('list', {})).length;
    const counters: Partial<ArpStats> = {};
    for (const key of Object.keys(stats.engine) as (keyof ArpStats)[]) {
      const moved = stats.engine[key] - before[key];
      if (moved !== 0) counters[key] = moved;
    }
    const memory = memoryOf(daemon);
    return {
      options,
      baseline: { ping: baselinePing, arping: baselineArping },
      during: { ping: duringPing, arping: duringArping },
      flood,
      daemon: {
        entries,
        maxEntries: (await daemon.client.request('sysctl-get', { name: 'max_entries' }))[0]!.value,
        counters,
        rssPeak: memory.peak,
        rss: memory.current,
        linkCounters: stats.links[0]?.counters ?? {},
        exitedEarly: !daemon.running,
      },
    };
  } finally {
    await daemon.stop();
  }
}

/** The generator, started; `result` resolves with its JSON when it stops by itself. */
function spawnGenerator(
  lab: Lab,
  loadgen: Loadgen,
  floodPort: number,
  options: FloodOptions,
): { result: Promise<ClientResult> } {
  const site = lab.site;
  const child = spawnIn(site.ns, [
    loadgen.binary,
    'client',
    '--local',
    `${site.kernelUnderlay}:${floodPort}`,
    '--remote',
    `${site.netarpUnderlay}:${site.port}`,
    '--vni',
    String(site.vni),
    '--target-ip',
    '100.64.0.2',
    '--target-mac',
    site.netarpMac,
    '--sender-base',
    '100.64.1.0',
    '--hosts',
    String(options.hosts),
    '--window',
    String(options.window),
    '--warmup-ms',
    '500',
    '--duration-ms',
    String(options.durationMs),
  ]);
  const result = new Promise<ClientResult>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    // The generator bounds itself; this only guards against it hanging.
    const guard = setTimeout(() => child.kill('SIGKILL'), options.durationMs + 15_000);
    child.on('exit', (code) => {
      clearTimeout(guard);
      if (code === 0) resolve(JSON.parse(stdout) as ClientResult);
      else reject(new Error(`loadgen client exited ${code}: ${stderr.trim()}`));
    });
  });
  return { result };
}

/** `ping -c N -i 0.2 -W 1` from the kernel's namespace. */
async function ping(lab: Lab, target: string, count: number): Promise<ProbeStats> {
  const result = await lab.site.kernel(
    ['ping', '-n', '-c', String(count), '-i', '0.2', '-W', '1', target],
    count * 200 + 5000,
  );
  const times = [...result.stdout.matchAll(/time=([0-9.]+) ms/g)].map((m) => Number(m[1]));
  return probeStats(count, times);
}

/**
 * `count` runs of `arping -c 1 -w 1 -I vx0`, one started every 200 ms (iputils arping's
 * interval is whole seconds): each a fresh broadcast request, answered within a second or not.
 */
async function arping(lab: Lab, target: string, count: number): Promise<ProbeStats> {
  const site = lab.site;
  const runs = Array.from({ length: count }, (_, i) =>
    sleep(i * 200).then(() =>
      site.kernel(['arping', '-c', '1', '-w', '1', '-I', site.kernelIf, target], 5000),
    ),
  );
  const times = (await Promise.all(runs)).flatMap((result) =>
    [...result.stdout.matchAll(/reply from \S+ \[[0-9A-Fa-f:]+\]\s+([0-9.]+)ms/g)].map((m) =>
      Number(m[1]),
    ),
  );
  return probeStats(count, times);
}

function probeStats(sent: number, times: number[]): ProbeStats {
  const sorted = [...times].sort((a, b) => a - b);
  return {
    sent,
    answered: times.length,
    p50Ms: sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN,
    maxMs: sorted.at(-1) ?? Number.NaN,
  };
}

/** VmHWM and VmRSS of the daemon (`ip netns exec` execs node, so the child is the daemon). */
function memoryOf(daemon: Daemon): { peak: number; current: number } {
  const status = readFileSync(`/proc/${daemon.child.pid}/status`, 'utf8');
  const kib = (field: string) =>
    Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) * 1024;
  return { peak: kib('VmHWM'), current: kib('VmRSS') };
}
