/**
 * Interop topologies: a real Linux kernel and netarp on one VXLAN segment, each in its own
 * network namespace, built and torn down per test.
 *
 * ```
 *  netarp namespace                          kernel namespace
 *  node peer-node.ts (VXLAN over dgram)      vx0 (vxlan, 02:00:00:00:00:01, 192.0.2.1/24)
 *  192.0.2.2/24, 02:00:00:00:00:02              |
 *  u0 198.18.N.1/30  <-------- underlay ------> u0 198.18.N.2/30
 * ```
 * The kernel's vxlan socket binds the wildcard address on its port, so netarp's socket must
 * live in another namespace. Underlay addresses come from 198.18.0.0/15 (RFC 2544 benchmark
 * space) and overlay ones from 192.0.2.0/24 (RFC 5737 TEST-NET-1); they exist only inside the
 * namespaces, and the veth pair is born with each end inside its namespace
 * (test/support/netns.ts). Names, ports and subnets are unique per process and per topology,
 * so suites can run one after another or side by side.
 *
 * Skip policy: when not root, when a needed tool is missing, or when `ip netns add` fails, a
 * suite is skipped with a message naming the suite and the reason, unless
 * NETARP_REQUIRE_INTEROP=1, which turns the same reason into a failure (CI sets it).
 */
import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { EntryInfo } from '../../src/core/admin.ts';
import type { ArpStats } from '../../src/core/stats.ts';
import type { PcapTeeStats } from '../../src/link/pcap-tee.ts';
import type { VxlanLinkStats } from '../../src/link/vxlan.ts';
import type { HostStats, PingResult } from '../../src/runtime/host.ts';
import type { RunnerStats } from '../../src/runtime/runner.ts';
import { type CommandResult, must, runIn } from '../support/commands.ts';
import {
  addNamespace,
  addVethPair,
  addVxlanDevice,
  buildOrDestroy,
  deleteNamespace,
  type NamespaceProbes,
  namespacesUnavailableReason,
  runThenDestroy,
  spawnNodeIn,
  systemProbes,
} from '../support/netns.ts';
import { PeerProcess } from '../support/peer-process.ts';
import type { PeerCommand } from './peer-loop.ts';

export { type CommandResult, must, run, runIn } from '../support/commands.ts';
export { OPER_UP, systemProbes, waitForLink } from '../support/netns.ts';

// --- whether interop suites can run -------------------------------------------------------

/** The environment variable that turns an interop skip into a failure. */
export const REQUIRE_INTEROP_ENV = 'NETARP_REQUIRE_INTEROP';

/** The programs the interop suites run. */
export const INTEROP_TOOLS = ['ip', 'ping', 'arping', 'arp-scan', 'tcpdump'] as const;

/** The Debian packages of INTEROP_TOOLS. */
const INTEROP_PACKAGES = 'iproute2 iputils-ping iputils-arping arp-scan tcpdump';

/** The checks `interopUnavailableReason` makes, injectable so that tests can fake them. */
export type InteropProbes = NamespaceProbes;

/** Why interop suites cannot run here (every reason found, joined), or undefined if they can. */
export function interopUnavailableReason(
  probes: InteropProbes,
  tools: readonly string[] = INTEROP_TOOLS,
): string | undefined {
  return namespacesUnavailableReason(probes, tools, INTEROP_PACKAGES);
}

/** What to do with a suite: run it, skip it with a message, or fail with one. */
export type SuitePlan =
  | { readonly kind: 'run' }
  | { readonly kind: 'skip'; readonly message: string }
  | { readonly kind: 'fail'; readonly message: string };

/** Decides a suite's fate from the reason it cannot run and the environment. */
export function planSuite(
  suite: string,
  reason: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): SuitePlan {
  if (reason === undefined) return { kind: 'run' };
  if (env[REQUIRE_INTEROP_ENV] === '1') {
    return {
      kind: 'fail',
      message: `interop suite "${suite}" cannot run and ${REQUIRE_INTEROP_ENV}=1: ${reason}`,
    };
  }
  return {
    kind: 'skip',
    message: `interop suite "${suite}" skipped: ${reason} (set ${REQUIRE_INTEROP_ENV}=1 to fail instead)`,
  };
}

let cachedReason: { value: string | undefined } | undefined;

/**
 * Declares an interop suite with node:test: it runs when this machine can, else it is skipped
 * with the reason (node:test prints it), or fails with it under NETARP_REQUIRE_INTEROP=1.
 * `extraReason` adds a suite's own need (the TAP and AF_PACKET suites: the native addon).
 */
export function interopSuite(
  suite: string,
  body: () => void,
  extraReason?: () => string | undefined,
): void {
  cachedReason ??= { value: interopUnavailableReason(systemProbes) };
  const reasons = [cachedReason.value, extraReason?.()].filter((r) => r !== undefined);
  const plan = planSuite(suite, reasons.length > 0 ? reasons.join('; ') : undefined, process.env);
  switch (plan.kind) {
    case 'run':
      describe(suite, body);
      break;
    case 'skip':
      describe(suite, () => {
        it('needs root, network namespaces and the Linux tools', { skip: plan.message }, () => {});
      });
      break;
    case 'fail':
      describe(suite, () => {
        it('needs root, network namespaces and the Linux tools', () => assert.fail(plan.message));
      });
      break;
  }
}

// --- topologies ---------------------------------------------------------------------------

const PEER_SCRIPT = fileURLToPath(new URL('./peer-node.ts', import.meta.url));

/** What every peer process takes besides its link: a capture file and engine settings. */
export interface PeerOptions {
  /** Tee the link to this pcap file. */
  readonly pcap?: string;
  /** Engine settings, `name=value`. */
  readonly sysctl?: readonly string[];
  /** The VXLAN link's io backend (VXLAN peers only; their default is `auto`). */
  readonly io?: 'auto' | 'native' | 'dgram';
}

/**
 * netarp's namespace and a kernel's, each end of one segment, with the netarp peer processes
 * started in the first; the shape every interop topology shares.
 */
export abstract class PeerTopology {
  /** The namespace netarp runs in. */
  readonly netarpNs: string;
  /** The namespace of the kernel peer. */
  readonly kernelNs: string;
  /** The kernel peer's device on the segment. */
  abstract readonly kernelIf: string;
  readonly kernelMac = '02:00:00:00:00:01';
  readonly kernelAddress = '192.0.2.1';
  readonly netarpMac = '02:00:00:00:00:02';
  readonly netarpAddress = '192.0.2.2';
  /** A scratch directory for captures, removed with the topology. */
  readonly dir: string;
  /** The peers started, closed with the topology. */
  protected readonly peers: Peer[] = [];

  /** `tag` names the namespaces (tag-n, tag-k); it must be unique per process and topology. */
  protected constructor(tag: string) {
    this.netarpNs = `${tag}-n`;
    this.kernelNs = `${tag}-k`;
    this.dir = mkdtempSync(join(tmpdir(), `${tag}-`));
  }

  /** Runs a command in the kernel peer's namespace. */
  kernel(argv: readonly string[], timeoutMs?: number): Promise<CommandResult> {
    return runIn(this.kernelNs, argv, timeoutMs);
  }

  /** The kernel's neighbour entries on its device (`ip -n NS neigh show dev DEV`). */
  async kernelNeighbours(): Promise<string> {
    return must(['ip', '-n', this.kernelNs, 'neigh', 'show', 'dev', this.kernelIf]);
  }

  /** Starts the peer program `script` with `args` in netarp's namespace; waits until ready. */
  protected async startPeerProcess(
    script: string,
    args: readonly string[],
    options: PeerOptions,
  ): Promise<Peer> {
    const all = [...args];
    if (options.pcap !== undefined) all.push('--pcap', options.pcap);
    for (const setting of options.sysctl ?? []) all.push('--sysctl', setting);
    if (options.io !== undefined) all.push('--io', options.io);
    const peer = new Peer(spawnNodeIn(this.netarpNs, script, all));
    this.peers.push(peer);
    await peer.ready;
    return peer;
  }

  /** Stops the peers and deletes both namespaces (and with them every device in them). */
  async destroy(): Promise<void> {
    for (const peer of this.peers) await peer.close().catch(() => peer.kill());
    await deleteNamespace(this.netarpNs);
    await deleteNamespace(this.kernelNs);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

let topologyCount = 0;

/** One netarp/kernel pair on a VXLAN segment. */
export class Topology extends PeerTopology {
  /** The kernel peer's vxlan device. */
  readonly kernelIf = 'vx0';
  readonly netarpUnderlay: string;
  readonly kernelUnderlay: string;
  readonly vxlanPort: number;
  readonly vni: number;

  private constructor(readonly id: number) {
    super(`netarp-${process.pid}-${id}`);
    // A /30 of 198.18.0.0/15 and a port above the registered range, from pid and count.
    const slot = (process.pid * 64 + id) % 32768;
    const base = (198 << 24) | (18 << 16) | (slot << 2);
    this.netarpUnderlay = dotted(base + 1);
    this.kernelUnderlay = dotted(base + 2);
    this.vxlanPort = 20000 + ((process.pid * 64 + id) % 40000);
    this.vni = 4096 + id;
  }

  /** Builds the two namespaces, the underlay veth pair and the kernel's vxlan device. */
  static create(): Promise<Topology> {
    const t = new Topology(++topologyCount);
    return buildOrDestroy(t, () => t.build());
  }

  private async build(): Promise<void> {
    await addNamespace(this.netarpNs);
    await addNamespace(this.kernelNs);
    await addVethPair(
      { ns: this.netarpNs, dev: 'u0', address: `${this.netarpUnderlay}/30` },
      { ns: this.kernelNs, dev: 'u0', address: `${this.kernelUnderlay}/30` },
    );
    await addVxlanDevice({
      ns: this.kernelNs,
      dev: this.kernelIf,
      vni: this.vni,
      local: this.kernelUnderlay,
      remote: this.netarpUnderlay,
      port: this.vxlanPort,
      mac: this.kernelMac,
      address: `${this.kernelAddress}/24`,
    });
  }

  /** Starts netarp (peer-node.ts) in its namespace and waits until it is ready. */
  startPeer(options: PeerOptions = {}): Promise<Peer> {
    return this.startPeerProcess(
      PEER_SCRIPT,
      [
        '--local',
        this.netarpUnderlay,
        '--remote',
        this.kernelUnderlay,
        '--port',
        String(this.vxlanPort),
        '--vni',
        String(this.vni),
        '--mac',
        this.netarpMac,
        '--address',
        `${this.netarpAddress}/24`,
      ],
      options,
    );
  }
}

/** Runs `body` on a fresh topology and always tears it down, even when `body` fails. */
export function withTopology<T>(body: (t: Topology) => Promise<T>): Promise<T> {
  return runThenDestroy(Topology.create, body);
}

function dotted(ip: number): string {
  return [ip >>> 24, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff].join('.');
}

// --- the kernel's side ------------------------------------------------------------------------

/** The `ip neigh` line of `ip` at `mac`, REACHABLE. */
export function reachable(ip: string, mac: string): RegExp {
  return new RegExp(`^${ip.replaceAll('.', '\\.')} lladdr ${mac} REACHABLE`, 'm');
}

/** Asserts the kernel has no neighbour entry for `ip` yet (default: netarp's address). */
export async function assertKernelCold(topo: PeerTopology, ip = topo.netarpAddress): Promise<void> {
  const neighbours = await topo.kernelNeighbours();
  assert.ok(!neighbours.includes(`${ip} `), `kernel cache not cold: ${neighbours}`);
}

/** The kernel pings `ip` once from cold caches and must be answered; returns the round trip. */
export async function kernelPings(topo: PeerTopology, ip: string): Promise<string> {
  await assertKernelCold(topo, ip);
  const ping = await topo.kernel(['ping', '-c1', '-W2', ip]);
  assert.equal(ping.code, 0, `ping ${ip} failed:\n${ping.stdout}${ping.stderr}`);
  assert.match(ping.stdout, /1 packets transmitted, 1 received/);
  return /time=([\d.]+) ms/.exec(ping.stdout)?.[1] ?? '?';
}

// --- the netarp peer process --------------------------------------------------------------

/** What peer-node reports for `state`. */
export interface PeerState {
  readonly entries: EntryInfo[];
  readonly engine: ArpStats;
  readonly runner: RunnerStats;
  readonly host: HostStats;
  readonly link: VxlanLinkStats;
  readonly pcap: PcapTeeStats | undefined;
}

/** A running peer-node or peer-native process and its JSON-lines conversation. */
export class Peer extends PeerProcess<PeerCommand> {
  constructor(child: ChildProcessWithoutNullStreams) {
    super(child, {
      name: 'peer',
      readyTimeoutMs: 8000,
      requestTimeoutMs: 8000,
      closeTimeoutMs: 3000,
    });
  }

  /** Pings from netarp (Host.ping) and returns its result. */
  async ping(
    destination: string,
    options: { count?: number; timeoutMs?: number; intervalMs?: number } = {},
  ): Promise<PingResult> {
    const answer = await this.request({ cmd: 'ping', destination, ...options });
    return answer.ping as PingResult;
  }

  /** The peer's entries and counters. */
  async state(): Promise<PeerState> {
    return (await this.request({ cmd: 'state' })).state as PeerState;
  }
}
