/**
 * The native addon (native/netarp_native.cc, see docs/native.md): its typed surface, and the
 * one place that loads it. Loading never throws: when the addon is missing or stale, the
 * reason is returned instead, so TAP and AF_PACKET links fail with it, VXLAN links fall back
 * to node:dgram (or fail with it when the native path was asked for), and their tests skip
 * with it.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The addon's interface version this code was written for (kApiVersion in the C++). */
export const NATIVE_API_VERSION = 3;

/** Where native/build.mjs puts the built addon. */
export const NATIVE_ADDON_PATH = fileURLToPath(
  new URL('../../../native/build/Release/netarp_native.node', import.meta.url),
);

/** How a channel reads a wakeup's batch. */
export const ChannelMode = {
  /** read() until EAGAIN: one frame per call (TAP, SOCK_SEQPACKET pairs). */
  Read: 0,
  /** One recvmmsg() for the whole batch (AF_PACKET, datagram sockets). */
  Recvmmsg: 1,
  /**
   * Recvmmsg on a UDP socket from `openUdp`, which also reads the ICMP errors IP_RECVERR
   * queues about datagrams sent (reported to the batch callback, not as a failure).
   */
  Udp: 2,
} as const;

/** A channel mode. */
export type ChannelMode = (typeof ChannelMode)[keyof typeof ChannelMode];

/** Which frames an AF_PACKET socket takes (a classic BPF filter run in the kernel). */
export const PacketFilter = {
  /** Every frame (ETH_P_ALL). */
  All: 0,
  /** EtherType ARP (0x0806) or IPv4 (0x0800) only. */
  ArpIpv4: 1,
} as const;

/** A packet filter. */
export type PacketFilter = (typeof PacketFilter)[keyof typeof PacketFilter];

/**
 * Called once per wakeup: `count` frames are in ring slots 0..count-1 (a slot whose length is
 * 0 is skipped); `error` is 0, an errno after which polling has stopped (call `resume` or
 * `close`), or -1 for end of file; `truncated` and `outgoing` count frames dropped in this
 * batch as too large for a slot or as the host's own transmissions (PACKET_OUTGOING). A
 * `ChannelMode.Udp` channel also says how many ICMP errors about datagrams it sent arrived
 * (`icmpErrors`), and for the last of them the errno it maps to and the destination it was
 * about (`icmpAddress` as a 32-bit number, `icmpPort`); polling goes on.
 */
export type BatchCallback = (
  count: number,
  error: number,
  truncated: number,
  outgoing: number,
  icmpErrors: number,
  icmpErrno: number,
  icmpAddress: number,
  icmpPort: number,
) => void;

/** A UDP destination of a channel's transmit ring. */
export interface UdpRemote {
  /** Dotted IPv4. */
  readonly address: string;
  /** 1..65535. */
  readonly port: number;
}

/** A non-blocking descriptor polled on Node's event loop; it owns and closes the descriptor. */
export interface NativeChannel {
  /** Arms the poll. */
  start(): void;
  /** Re-arms the poll after an error stopped it. */
  resume(): void;
  /** Writes one frame: the number of bytes written, or -errno. */
  send(frame: Uint8Array): number;
  /**
   * Gives a UDP channel its transmit ring: `lengths.length` slots of `slotSize` bytes in
   * `ring`, and the remotes every queued datagram is sent to. Throws a RangeError when the
   * sizes do not fit (at most `maxBatch` slots, slots x remotes at most 65536).
   */
  setTransmit(
    ring: ArrayBuffer,
    slotSize: number,
    lengths: Uint32Array,
    remotes: readonly UdpRemote[],
  ): void;
  /**
   * Sends transmit slots 0..count-1 (`lengths[i]` bytes each) to every remote with
   * sendmmsg(): the number of the count x remotes datagrams not sent, 0 when all went out.
   * Never throws for I/O.
   */
  flush(count: number): number;
  /**
   * Why the last flush did not send everything: the errno of the first datagram it did not
   * send (0 when all went out) and the index of that datagram's remote.
   */
  flushError(): { readonly errno: number; readonly remote: number };
  /** Stops polling and closes the descriptor; idempotent. */
  close(): void;
}

/** A TAP device opened by `openTap`. */
export interface OpenedTap {
  readonly fd: number;
  /** The device's name (the kernel's choice when a pattern such as "tap%d" was given). */
  readonly name: string;
  /** The kernel side's MAC as a 48-bit number, or -1 if it could not be read. */
  readonly mac: number;
  /** The device's MTU, or -1 if it could not be read. */
  readonly mtu: number;
}

/** A UDP socket opened by `openUdp`. */
export interface OpenedUdp {
  readonly fd: number;
  /** The address bound (dotted IPv4). */
  readonly address: string;
  /** The port bound (the kernel's choice when 0 was asked for). */
  readonly port: number;
}

/** What any process may learn of an interface (`interfaceInfo`). */
export interface InterfaceInfo {
  /** The interface's index, or 0 when there is no such interface. */
  readonly ifIndex: number;
  /** The interface's ARPHRD_* type (1 for Ethernet), or -1 if it could not be read. */
  readonly hardwareType: number;
  /** The interface's MAC as a 48-bit number, or -1 if it has none. */
  readonly mac: number;
  /** The interface's MTU, or -1 if it could not be read. */
  readonly mtu: number;
}

/** An AF_PACKET socket opened by `openPacket`. */
export interface OpenedPacket {
  readonly fd: number;
  /** The index of the interface the socket is bound to. */
  readonly ifIndex: number;
  /** Whether PACKET_IGNORE_OUTGOING took (Linux >= 4.20); else the channel drops them. */
  readonly ignoresOutgoing: boolean;
}

/** The addon's exports (see native/netarp_native.cc). */
export interface NativeAddon {
  readonly apiVersion: number;
  /** The largest batch a channel accepts. */
  readonly maxBatch: number;
  /** Creates or attaches a TAP device; throws an Error with `code` (an errno name). */
  openTap(name: string): OpenedTap;
  /**
   * Opens AF_PACKET on `device`; `unicastMac` -1 for none; `ignoreOutgoing` asks the kernel to
   * drop the host's own transmissions (else the channel does). Throws like `openTap`.
   */
  openPacket(
    device: string,
    filter: PacketFilter,
    unicastMac: number,
    ignoreOutgoing: boolean,
  ): OpenedPacket;
  /**
   * A non-blocking UDP socket bound to `address`:`port` (0: any free port), exclusively (no
   * SO_REUSEADDR), with IP_RECVERR (read it with a `ChannelMode.Udp` channel). Throws like
   * `openTap` ("vxlan ADDRESS:PORT: bind: address already in use").
   */
  openUdp(address: string, port: number): OpenedUdp;
  /** The interface's index, type, MAC and MTU (no privilege needed). */
  interfaceInfo(name: string): InterfaceInfo;
  /** The interface's index, or 0 when there is no such interface. */
  interfaceIndex(name: string): number;
  /** A connected non-blocking AF_UNIX pair, for tests. */
  socketPair(type: 'seqpacket' | 'dgram'): [number, number];
  /** Closes a descriptor no channel took over. */
  closeFd(fd: number): void;
  /** The errno's name ("ENODEV"). */
  errorName(errno: number): string;
  /** The errno's text ("no such device"). */
  errorText(errno: number): string;
  /** Takes over `fd`. */
  Channel: new (
    fd: number,
    mode: ChannelMode,
    ring: ArrayBuffer,
    slotSize: number,
    lengths: Uint32Array,
    onBatch: BatchCallback,
  ) => NativeChannel;
}

/** The addon, or why it cannot be used. */
export type NativeLoad =
  | { readonly kind: 'loaded'; readonly addon: NativeAddon }
  | { readonly kind: 'unavailable'; readonly reason: string };

let cached: NativeLoad | undefined;

/** Loads the addon once; later calls return the same outcome. */
export function loadNative(): NativeLoad {
  cached ??= loadNativeFrom(NATIVE_ADDON_PATH);
  return cached;
}

/** Why the addon cannot be used here, or undefined when it can. */
export function nativeUnavailableReason(): string | undefined {
  const load = loadNative();
  return load.kind === 'unavailable' ? load.reason : undefined;
}

const REBUILD_HINT =
  'build it with `npm run build:native` (needs g++, make, python3 and the Node.js headers)';

/** Loads the addon at `path` (uncached; `loadNative` is the one to use). */
export function loadNativeFrom(path: string): NativeLoad {
  if (process.platform !== 'linux') {
    return {
      kind: 'unavailable',
      reason: `the native addon (TAP, AF_PACKET, batched VXLAN) needs Linux, not ${process.platform}`,
    };
  }
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why = code === 'MODULE_NOT_FOUND' ? 'not built' : (error as Error).message;
    return { kind: 'unavailable', reason: `native addon ${why}; ${REBUILD_HINT}` };
  }
  if (addon.apiVersion !== NATIVE_API_VERSION) {
    return {
      kind: 'unavailable',
      reason: `native addon is stale (interface ${addon.apiVersion}, want ${NATIVE_API_VERSION}); ${REBUILD_HINT}`,
    };
  }
  return { kind: 'loaded', addon };
}
