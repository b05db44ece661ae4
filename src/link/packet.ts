/**
 * AF_PACKET on an existing interface (a NIC, a veth end, a bridge): netarp sends and receives
 * raw Ethernet frames on the same wire as the kernel, which keeps running its own stack on
 * that interface. This is what an ARP responder on a real LAN needs; docs/links.md explains
 * how the two share the interface (the kernel answers ARP for the addresses configured on it;
 * netarp should own addresses the kernel does not have).
 *
 * A packet socket never gets its own transmissions back (the kernel skips the sending socket,
 * skb_loop_sk), but it does get a copy of every other frame the host transmits on the
 * interface: the host's own ARP and IP traffic, other packet sockets'. Those never reach the
 * wire's other receivers as received frames, so they are kept out here too
 * (PACKET_IGNORE_OUTGOING, or a check of each frame's sll_pkttype on kernels before 4.20):
 * netarp hears exactly what a separate host on the wire would hear from others.
 */
import { type Mac, parseMacOrUndefined } from '../wire/addr.ts';
import { LinkError } from './link.ts';
import { ChannelMode, type NativeAddon, PacketFilter } from './native/addon.ts';
import {
  checkBatch,
  checkDeviceName,
  DEFAULT_BATCH,
  errnoCode,
  NativeLink,
  type NativeLinkStats,
  openError,
  requireNative,
} from './native/native-link.ts';

/** Which frames the link takes from the interface. */
export type PacketProtocols =
  /** ARP and IPv4 only, filtered in the kernel (all the runtime uses): the default. */
  | 'arp+ipv4'
  /** Every frame (ETH_P_ALL). */
  | 'all';

/** Options for an AF_PACKET link. */
export interface PacketLinkOptions {
  /** The interface, which must exist: "eth0", a veth end, a bridge. */
  device: string;
  /** Which frames to take (default "arp+ipv4"). */
  protocols?: PacketProtocols;
  /**
   * netarp's own MAC when it differs from the interface's: it is added to the interface's
   * unicast filter (PACKET_MR_UNICAST, or promiscuous mode where the driver has no filter) so
   * that frames sent to it reach us, for as long as the link is open. Not needed on veth,
   * which delivers frames for any MAC.
   */
  unicastMac?: Mac | string;
  /**
   * Whether the kernel drops the host's own transmissions before they are queued to us
   * (PACKET_IGNORE_OUTGOING, Linux >= 4.20; default true). False leaves it to the link's own
   * check of each frame's packet type, which older kernels rely on anyway; tests use it to
   * exercise that check.
   */
  kernelIgnoresOutgoing?: boolean;
  /** Frames read per wakeup at most (default 64). */
  batch?: number;
  /** A name for logs; by default "packet DEVICE". */
  name?: string;
}

/** The counters of an AF_PACKET link. */
export type PacketLinkStats = NativeLinkStats;

/** The ARP hardware type of Ethernet interfaces (linux/if_arp.h, RFC 826's ar$hrd 1). */
const ARPHRD_ETHER = 1;

/** What `open` adds to the kernel's word when it refuses, keyed by errno name. */
const OPEN_HINTS: Readonly<Record<string, string>> = {
  EPERM: ' (AF_PACKET needs CAP_NET_RAW)',
  ENODEV: ' (no such interface in this network namespace)',
};

/** An AF_PACKET socket on an interface. Open it with `PacketLink.open`. */
export class PacketLink extends NativeLink {
  private constructor(
    readonly device: string,
    /** The interface's index when the link opened: a device re-created later has another. */
    readonly ifIndex: number,
    /** The interface's own MAC (the kernel's), if it has one. */
    readonly deviceMac: number | undefined,
    /** The interface's MTU when the link opened. */
    readonly mtu: number | undefined,
    /** Whether the kernel drops the host's transmissions (PACKET_IGNORE_OUTGOING, >= 4.20). */
    readonly ignoresOutgoing: boolean,
    private readonly native: NativeAddon,
    fd: number,
    batch: number,
    name: string,
  ) {
    super({ name, addon: native, fd, mode: ChannelMode.Recvmmsg, mtu: mtu ?? -1, batch });
  }

  /** Validates the options, opens and binds the socket, and starts reading. */
  static async open(options: PacketLinkOptions): Promise<PacketLink> {
    const device = checkDeviceName('packet', options.device);
    const protocols = options.protocols ?? 'arp+ipv4';
    if (protocols !== 'arp+ipv4' && protocols !== 'all') {
      throw new LinkError(
        'EINVAL',
        `packet: protocols must be "arp+ipv4" or "all", got ${JSON.stringify(protocols)}`,
      );
    }
    const unicastMac =
      typeof options.unicastMac === 'string'
        ? parseMacOrUndefined(options.unicastMac)
        : options.unicastMac;
    if (
      options.unicastMac !== undefined &&
      (unicastMac === undefined ||
        !Number.isInteger(unicastMac) ||
        unicastMac < 0 ||
        unicastMac > 0xffff_ffff_ffff)
    ) {
      throw new LinkError(
        'EINVAL',
        `packet: unicastMac must be a MAC address, got ${JSON.stringify(options.unicastMac)}`,
      );
    }
    const native = requireNative(`packet ${device}`);
    const batch = checkBatch('packet', options.batch ?? DEFAULT_BATCH, native);
    const filter = protocols === 'all' ? PacketFilter.All : PacketFilter.ArpIpv4;
    const info = native.interfaceInfo(device);
    if (info.ifIndex === 0) {
      throw new LinkError('EIO', `packet ${device}: no such interface in this network namespace`);
    }
    if (info.hardwareType !== ARPHRD_ETHER) {
      // SOCK_RAW frames carry the device's own link-layer header: only Ethernet's is ours.
      throw new LinkError(
        'EINVAL',
        `packet ${device}: not an Ethernet interface (ARPHRD type ${info.hardwareType})`,
      );
    }
    let opened: ReturnType<NativeAddon['openPacket']>;
    try {
      opened = native.openPacket(
        device,
        filter,
        unicastMac ?? -1,
        options.kernelIgnoresOutgoing ?? true,
      );
    } catch (error) {
      throw openError(`packet ${device}`, error, OPEN_HINTS[errnoCode(error) ?? ''] ?? '');
    }
    return new PacketLink(
      device,
      opened.ifIndex,
      info.mac >= 0 ? info.mac : undefined,
      info.mtu > 0 ? info.mtu : undefined,
      opened.ignoresOutgoing,
      native,
      opened.fd,
      batch,
      options.name ?? `packet ${device}`,
    );
  }

  /**
   * The kernel unhooks a packet socket from a deleted interface and reports ENETDOWN once
   * (packet_notifier), exactly as for an interface merely set down; later writes fail with
   * ENXIO. So the answer is in the interface table: is our interface (by index) still there?
   */
  protected deviceGone(_code: string): string | undefined {
    if (this.native.interfaceIndex(this.device) === this.ifIndex) return undefined;
    return `${this.name}: the interface ${this.device} is gone (deleted or moved to another namespace); close the link and open it again`;
  }
}
