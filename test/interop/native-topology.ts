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
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { addNamespace, addVethPair, buildOrDestroy, runThenDestroy } from '../support/netns.ts';
import { sleep } from '../support/wait.ts';
import {
  type CommandResult,
  must,
  OPER_UP,
  type Peer,
  type PeerOptions,
  type PeerState,
  PeerTopology,
  runIn,
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

const PEER_SCRIPT = fileURLToPath(new URL('./peer-native.ts', import.meta.url));

let topologyCount = 0;

/** One netarp/kernel pair on a veth segment, netarp on a TAP device or an AF_PACKET socket. */
export class NativeTopology extends PeerTopology {
  /** The kernel peer's veth end. */
  readonly kernelIf = 'vk';
  /** netarp's veth end (the AF_PACKET link's device; a bridge port in the TAP topology). */
  readonly netarpVeth = 'vn';
  /** The TAP device in the TAP topology. */
  readonly tapDevice = 'tap0';
  /** The bridge joining the TAP device and the veth in the TAP topology. */
  readonly bridge = 'br0';
  private tapBridged = false;

  private constructor(
    readonly kind: NativeKind,
    readonly id: number,
  ) {
    super(`netarp-${kind}-${process.pid}-${id}`);
  }

  /** The device netarp's link opens. */
  get netarpDevice(): string {
    return this.kind === 'tap' ? this.tapDevice : this.netarpVeth;
  }

  /**
   * Builds both namespaces and the veth segment; for TAP also the bridge, and the TAP device
   * itself unless `createTap` is false (then netarp creates it, and `bridgeTap` must follow).
   */
  static create(kind: NativeKind, options: { createTap?: boolean } = {}): Promise<NativeTopology> {
    const t = new NativeTopology(kind, ++topologyCount);
    return buildOrDestroy(t, () => t.build(options.createTap ?? true));
  }

  private async build(createTap: boolean): Promise<void> {
    const { netarpNs: a, kernelNs: b } = this;
    await addNamespace(a);
    await addNamespace(b);
    // netarp's end stays down until it is netarp's alone (packet) or a bridge port (tap).
    await addVethPair(
      { ns: a, dev: this.netarpVeth, up: false },
      { ns: b, dev: this.kernelIf, mac: this.kernelMac, address: `${this.kernelAddress}/24` },
    );
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

  /** Runs a command in netarp's namespace (ip, tcpdump). */
  netarpSide(argv: readonly string[], timeoutMs?: number): Promise<CommandResult> {
    return runIn(this.netarpNs, argv, timeoutMs);
  }

  /** Starts netarp (peer-native.ts) in its namespace and waits until it is ready. */
  async startPeer(options: PeerOptions & { extraArgs?: string[] } = {}): Promise<Peer> {
    const peer = await this.startPeerProcess(
      PEER_SCRIPT,
      [
        '--link',
        this.kind,
        '--device',
        this.netarpDevice,
        '--mac',
        this.netarpMac,
        '--address',
        `${this.netarpAddress}/24`,
        ...(options.extraArgs ?? []),
      ],
      options,
    );
    // The TAP port has no carrier until netarp attaches to the device.
    if (this.kind === 'tap' && this.tapBridged) {
      await this.waitFor(this.netarpNs, this.tapDevice, FORWARDING);
    }
    return peer;
  }
}

/** Runs `body` on a fresh topology and always tears it down, even when `body` fails. */
export function withNativeTopology<T>(
  kind: NativeKind,
  body: (t: NativeTopology) => Promise<T>,
  options: { createTap?: boolean } = {},
): Promise<T> {
  return runThenDestroy(() => NativeTopology.create(kind, options), body);
}

/** The peer's state, typed for the native links. */
export async function nativeState(peer: Peer): Promise<NativePeerState> {
  return (await peer.request({ cmd: 'state' })).state as NativePeerState;
}

/**
 * Deletes `device` in netarp's namespace under the running peer, and asserts what must follow:
 * the link says it is gone (`gone` matches its message) in one error, the process lives on
 * and still answers, and a later send is counted as a txError, not reported again. Returns
 * the one error reported.
 */
export async function deleteUnderPeer(
  topo: NativeTopology,
  peer: Peer,
  device: string,
  gone: RegExp,
): Promise<string> {
  await must(['ip', '-n', topo.netarpNs, 'link', 'del', device]);
  const deadline = Date.now() + 3000;
  let state = await nativeState(peer);
  while (state.native.gone === undefined && Date.now() < deadline) {
    await sleep(50);
    state = await nativeState(peer);
  }
  assert.match(state.native.gone ?? 'not gone', gone);
  const errors = peer.errors.filter((e) => e.includes('is gone'));
  assert.equal(errors.length, 1, peer.errors.join('\n'));

  const before = state.link.txErrors;
  const ping = await peer.ping(topo.kernelAddress, { count: 1, timeoutMs: 300 });
  assert.equal(ping.received, 0);
  state = await nativeState(peer);
  assert.ok(state.link.txErrors > before, JSON.stringify(state.link));
  assert.equal(peer.errors.filter((e) => e.includes('is gone')).length, 1);
  return errors[0]!;
}
