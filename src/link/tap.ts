/**
 * A Linux TAP device (/dev/net/tun with IFF_TAP|IFF_NO_PI): netarp sits at the far end of a
 * virtual Ethernet cable whose near end is a kernel interface. Every frame the kernel sends
 * out of the device is read here; every frame written here arrives at the kernel as if
 * received on it. netarp is therefore a separate host on that wire, with its own MAC (not
 * the device's): bridge the device, or address it, to reach others.
 *
 * The device is created when it does not exist (and then vanishes when the link closes), or
 * attached when it does (one made persistent by `ip tuntap add dev NAME mode tap`). Bringing
 * it up and bridging or addressing it is the operator's part (docs/links.md).
 */
import { ChannelMode, type NativeAddon } from './native/addon.ts';
import {
  checkBatch,
  checkDeviceName,
  DEFAULT_BATCH,
  errnoCode,
  isGoneErrno,
  NativeLink,
  type NativeLinkStats,
  openError,
  requireNative,
} from './native/native-link.ts';

/** Options for a TAP link. */
export interface TapLinkOptions {
  /** The device's name; a pattern with "%d" ("tap%d") lets the kernel choose a free one. */
  device: string;
  /** Frames read per wakeup at most (default 64). */
  batch?: number;
  /** A name for logs; by default "tap DEVICE". */
  name?: string;
}

/** The counters of a TAP link. */
export type TapLinkStats = NativeLinkStats;

/** What `open` adds to the kernel's word when it refuses, keyed by errno name. */
const OPEN_HINTS: Readonly<Record<string, string>> = {
  EPERM:
    ' (needs CAP_NET_ADMIN, or a device made persistent for this user: ip tuntap add ... user)',
  EACCES: ' (needs read/write access to /dev/net/tun)',
  ENOENT: ' (no /dev/net/tun: load the tun module, or in a container pass the device in)',
  EINVAL: ' (a device of that name exists and is not a TAP device)',
  EBUSY: ' (another process has the device open)',
};

/** A TAP device. Open it with `TapLink.open`. */
export class TapLink extends NativeLink {
  private constructor(
    readonly device: string,
    /** The kernel side's MAC (the device's own; netarp must use a different one). */
    readonly deviceMac: number | undefined,
    /** The device's MTU when the link opened. */
    readonly mtu: number | undefined,
    private readonly native: NativeAddon,
    fd: number,
    batch: number,
    name: string,
  ) {
    super({ name, addon: native, fd, mode: ChannelMode.Read, mtu: mtu ?? -1, batch });
  }

  /** Validates the options, then creates or attaches the device and starts reading. */
  static async open(options: TapLinkOptions): Promise<TapLink> {
    const device = checkDeviceName('tap', options.device);
    const native = requireNative(`tap ${device}`);
    const batch = checkBatch('tap', options.batch ?? DEFAULT_BATCH, native);
    let opened: ReturnType<NativeAddon['openTap']>;
    try {
      opened = native.openTap(device);
    } catch (error) {
      throw openError(`tap ${device}`, error, OPEN_HINTS[errnoCode(error) ?? ''] ?? '');
    }
    return new TapLink(
      opened.name,
      opened.mac >= 0 ? opened.mac : undefined,
      opened.mtu > 0 ? opened.mtu : undefined,
      native,
      opened.fd,
      batch,
      options.name ?? `tap ${opened.name}`,
    );
  }

  /**
   * A TAP descriptor whose device was deleted (`ip link del`) fails with EBADFD and can never
   * be attached again; the device being merely down is not an error for reads.
   */
  protected deviceGone(code: string): string | undefined {
    if (!isGoneErrno(code) && this.native.interfaceIndex(this.device) !== 0) return undefined;
    return `${this.name}: the device ${this.device} is gone (deleted?); close the link and open it again`;
  }
}
