/**
 * Interop topologies for the TAP and AF_PACKET links: netarp and a real Linux kernel on one
 * Ethernet segment made of a veth pair, each side in its own network namespace, built and
 * torn down per test. The veth pair is created with both ends already inside the namespaces,
 * so nothing ever appears in the machine's own namespace.
 *
 * ```
 *  tap:     netarp namespace                                  kernel namespace
 *           node peer-native.ts --link tap --device tap0
 *              |  (/dev/net/tun)
 *           tap0 --- br0 (Linux bridge, no address) --- vn <---> vk  192.0.2.1/24
 *                                                                  02:00:00:00:00:01
 *  packet:  node peer-native.ts --link packet --device vn
 *              |  (AF_PACKET)
 *           vn (up, `arp off`, no address)  <------------------> vk  192.0.2.1/24
 * ```
 * netarp owns 192.0.2.2/24 with MAC 02:00:00:00:00:02 (RFC 5737 TEST-NET-1; the addresses
 * exist only inside the namespaces). In the packet topology the kernel of netarp's namespace
 * has no address on vn and ARP turned off there: the interface is netarp's alone.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type CommandResult,
  must,
  OPER_UP,
  Peer,
  type PeerState,
  run,
  runIn,
  systemProbes,
  waitForLink,
} from './helpers.ts';
import type { NativePeerLink } from './peer-native.ts';

/** What peer-native reports for `state`: peer-node's, with the native link's details. */
export type NativePeerState = Omit<PeerState, 'link'> & {
  readonly link: NativePeerLink['stats'];
  readonly native: NativePeerLink;
};

/** `ip -d link` shows a bridge port that forwards. */
const FORWARDING = /bridge_slave state forwarding/;

/** Which link netarp uses. */
export type NativeKind = 'tap' | 'packet';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PEER_SCRIPT = fileURLToPath(new URL('./peer-native.ts', import.meta.url));

/** Namespaces created by this process and not yet deleted, removed at exit whatever happens. */
const liveNamespaces = new Set<string>();
let exitHookInstalled = false;
let topologyCount = 0;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    const ip = systemProbes.findTool('ip') ?? 'ip';
    for (const ns of liveNamespaces) spawnSync(ip, ['netns', 'del', ns], { timeout: 5000 });
  });
}

/** One netarp/kernel pair on a veth segment, netarp on a TAP device or an AF_PACKET socket. */
export class NativeTopology {
  readonly netarpNs: string;
  readonly kernelNs: string;
  /** The kernel peer's veth end. */
  readonly kernelIf = 'vk';
  /** netarp's veth end (the AF_PACKET link's device; a bridge port in the TAP topology). */
  readonly netarpVeth = 'vn';
  /** The TAP device in the TAP topology. */
  readonly tapDevice = 'tap0';
  /** The bridge joining the TAP device and the veth in the TAP topology. */
  readonly bridge = 'br0';
  readonly kernelMac = '02:00:00:00:00:01';
  readonly kernelAddress = '192.0.2.1';
  readonly netarpMac = '02:00:00:00:00:02';
  readonly netarpAddress = '192.0.2.2';
  /** A scratch directory for captures, removed with the topology. */
  readonly dir: string;
  private readonly peers: Peer[] = [];
  private tapBridged = false;

  private constructor(
    readonly kind: NativeKind,
    readonly id: number,
  ) {
    const tag = `${process.pid}-${id}`;
    this.netarpNs = `netarp-${kind}-${tag}-n`;
    this.kernelNs = `netarp-${kind}-${tag}-k`;
    this.dir = mkdtempSync(join(tmpdir(), `netarp-${kind}-`));
  }

  /** The device netarp's link opens. */
  get netarpDevice(): string {
    return this.kind === 'tap' ? this.tapDevice : this.netarpVeth;
  }

  /**
   * Builds both namespaces and the veth segment; for TAP also the bridge, and the TAP device
   * itself unless `createTap` is false (then netarp creates it, and `bridgeTap` must follow).
   */
  static async create(
    kind: NativeKind,
    options: { createTap?: boolean } = {},
  ): Promise<NativeTopology> {
    installExitHook();
    const t = new NativeTopology(kind, ++topologyCount);
    try {
      await t.build(options.createTap ?? true);
    } catch (error) {
      await t.destroy();
      throw error;
    }
    return t;
  }

  private async build(createTap: boolean): Promise<void> {
    const { netarpNs: a, kernelNs: b } = this;
    for (const ns of [a, b]) {
      await must(['ip', 'netns', 'add', ns]);
      liveNamespaces.add(ns);
      await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    await must([
      'ip',
      '-n',
      a,
      'link',
      'add',
      this.netarpVeth,
      'type',
      'veth',
      'peer',
      'name',
      this.kernelIf,
      'netns',
      b,
    ]);
    await must(['ip', '-n', b, 'link', 'set', this.kernelIf, 'address', this.kernelMac]);
    await must(['ip', '-n', b, 'addr', 'add', `${this.kernelAddress}/24`, 'dev', this.kernelIf]);
    await must(['ip', '-n', b, 'link', 'set', this.kernelIf, 'up']);
    if (this.kind === 'packet') {
      // The interface is netarp's: no address, and the kernel neither asks nor answers ARP
      // on it (IFF_NOARP).
      await must(['ip', '-n', a, 'link', 'set', this.netarpVeth, 'arp', 'off']);
      await must(['ip', '-n', a, 'link', 'set', this.netarpVeth, 'up']);
      await this.waitFor(a, this.netarpVeth, OPER_UP);
      await this.waitFor(b, this.kernelIf, OPER_UP);
      return;
    }
    // A bridge with no address and no STP forwards between its ports once they have carrier.
    await must(['ip', '-n', a, 'link', 'add', this.bridge, 'type', 'bridge', 'stp_state', '0']);
    await must(['ip', '-n', a, 'link', 'set', this.netarpVeth, 'master', this.bridge]);
    await must(['ip', '-n', a, 'link', 'set', this.netarpVeth, 'up']);
    await must(['ip', '-n', a, 'link', 'set', this.bridge, 'up']);
    await this.waitFor(a, this.netarpVeth, FORWARDING);
    await this.waitFor(b, this.kernelIf, OPER_UP);
    if (createTap) {
      await must(['ip', '-n', a, 'tuntap', 'add', 'dev', this.tapDevice, 'mode', 'tap']);
      await this.bridgeTap();
    }
  }

  /**
   * Puts the TAP device in the bridge and brings it up (the operator's part); once netarp
   * holds the device, waits until the bridge forwards on it.
   */
  async bridgeTap(): Promise<void> {
    await must(['ip', '-n', this.netarpNs, 'link', 'set', this.tapDevice, 'master', this.bridge]);
    await must(['ip', '-n', this.netarpNs, 'link', 'set', this.tapDevice, 'up']);
    this.tapBridged = true;
    if (this.peers.length > 0) await this.waitFor(this.netarpNs, this.tapDevice, FORWARDING);
  }

  /** Waits until `dev` in `ns` shows `state` (see waitForLink). */
  waitFor(ns: string, dev: string, state: RegExp, timeoutMs = 3000): Promise<void> {
    return waitForLink(ns, dev, state, timeoutMs);
  }

  /** Runs a command in the kernel peer's namespace. */
  kernel(argv: readonly string[], timeoutMs?: number): Promise<CommandResult> {
    return runIn(this.kernelNs, argv, timeoutMs);
  }

  /** Runs a command in netarp's namespace (ip, tcpdump). */
  netarpSide(argv: readonly string[], timeoutMs?: number): Promise<CommandResult> {
    return runIn(this.netarpNs, argv, timeoutMs);
  }

  /** The kernel's neighbour entries on its veth end. */
  async kernelNeighbours(): Promise<string> {
    return must(['ip', '-n', this.kernelNs, 'neigh', 'show', 'dev', this.kernelIf]);
  }

  /** Starts netarp (peer-native.ts) in its namespace and waits until it is ready. */
  async startPeer(
    options: { pcap?: string; sysctl?: string[]; extraArgs?: string[] } = {},
  ): Promise<Peer> {
    const args = [
      '--link',
      this.kind,
      '--device',
      this.netarpDevice,
      '--mac',
      this.netarpMac,
      '--address',
      `${this.netarpAddress}/24`,
      ...(options.extraArgs ?? []),
    ];
    if (options.pcap !== undefined) args.push('--pcap', options.pcap);
    for (const setting of options.sysctl ?? []) args.push('--sysctl', setting);
    const peer = new Peer(
      spawn(
        systemProbes.findTool('ip') ?? 'ip',
        ['netns', 'exec', this.netarpNs, process.execPath, '--import', 'tsx', PEER_SCRIPT, ...args],
        { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
      ),
    );
    this.peers.push(peer);
    await peer.ready;
    // The TAP port has no carrier until netarp attaches to the device.
    if (this.kind === 'tap' && this.tapBridged) {
      await this.waitFor(this.netarpNs, this.tapDevice, FORWARDING);
    }
    return peer;
  }

  /** Stops the peers and deletes both namespaces (and with them every device in them). */
  async destroy(): Promise<void> {
    for (const peer of this.peers) await peer.close().catch(() => peer.kill());
    for (const ns of [this.netarpNs, this.kernelNs]) {
      if (!liveNamespaces.has(ns)) continue;
      await run(['ip', 'netns', 'del', ns]);
      liveNamespaces.delete(ns);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs `body` on a fresh topology and always tears it down, even when `body` fails. */
export async function withNativeTopology<T>(
  kind: NativeKind,
  body: (t: NativeTopology) => Promise<T>,
  options: { createTap?: boolean } = {},
): Promise<T> {
  const t = await NativeTopology.create(kind, options);
  try {
    return await body(t);
  } finally {
    await t.destroy();
  }
}

/** The peer's state, typed for the native links. */
export async function nativeState(peer: Peer): Promise<NativePeerState> {
  return (await peer.request({ cmd: 'state' })).state as NativePeerState;
}
