/**
 * A VXLAN link's I/O through the native addon: a UDP socket polled on Node's event loop,
 * read a batch at a time and written a batch at a time.
 *
 * Receiving: each wakeup reads up to a batch of datagrams with one recvmmsg() into a ring the
 * link allocated once, then makes one call into JavaScript for the batch. Each datagram's
 * header is checked in place and the handler gets a view of its frame: no Buffer, no source
 * address object, no allocation but the view.
 *
 * Sending: a frame is encapsulated straight into a slot of a transmit ring (the header, then
 * a copy of the frame), so `send` keeps the Link contract (the caller may reuse its buffer at
 * once) without allocating. Queued datagrams go out together with one sendmmsg() to every
 * remote:
 * - sends made while a batch is being handled (the runtime answers from inside the frame
 *   handler) when the batch's handlers are done, so a batch of requests costs one system
 *   call for all the replies;
 * - sends made outside a batch (timers, the host's pings, another link's handler) from a
 *   microtask scheduled by the first of them, so a lone send goes out at once and the sends
 *   of one tick share a system call;
 * - and at once whenever the ring is full.
 * A frame may also be written straight into a slot (`transmitBuffer`, then `commitTransmit`),
 * which saves the copy; it is queued and sent the same way.
 * A datagram the kernel does not take is counted in txErrors, and each flush that failed is
 * reported once, in the words node:dgram uses ("send ENETUNREACH 198.18.0.2:4789"), with how
 * many of its datagrams were lost when it had more than one.
 *
 * ICMP errors about datagrams sent (a remote with nothing on its port answers port
 * unreachable) are read from the socket's error queue (IP_RECVERR, set by the addon), counted
 * in rxIcmpErrors and reported once per wakeup; receiving goes on.
 */
import { formatIpv4 } from '../wire/addr.ts';
import { emitVxlanHeader, VXLAN_HEADER_LEN } from '../wire/vxlan.ts';
import { LinkError } from './link.ts';
import { ChannelMode, type NativeAddon, type NativeChannel } from './native/addon.ts';
import { openError } from './native/native-link.ts';
import {
  VXLAN_MAX_DATAGRAM,
  VXLAN_MAX_FRAME,
  type VxlanIoBackend,
  type VxlanIoOwner,
  type VxlanRemote,
} from './vxlan-io.ts';

/** Datagrams read per wakeup at most: enough to drain a burst in one call. */
export const NATIVE_RX_BATCH = 64;

/**
 * Datagrams queued before a flush is forced: a batch's worth of replies. Fewer with many
 * remotes, so that slots x remotes message headers stay at most NATIVE_MAX_MESSAGES.
 */
export const NATIVE_TX_SLOTS = 64;

/** The most datagrams one flush sends (slots x remotes). */
const NATIVE_MAX_MESSAGES = 4096;

/** Receive failures in a row, with no datagram between, after which the link stops reading. */
const MAX_ERRORS_IN_A_ROW = 100;

/** Opens and binds the socket (exclusively) and sets up both rings. */
export function openNativeVxlan(
  addon: NativeAddon,
  local: { readonly address: string; readonly port: number },
  remotes: readonly VxlanRemote[],
  vni: number,
): NativeVxlanIo {
  const what = `vxlan ${local.address}:${local.port}`;
  let opened: ReturnType<NativeAddon['openUdp']>;
  try {
    opened = addon.openUdp(local.address, local.port);
  } catch (error) {
    throw openError(what, error);
  }
  return new NativeVxlanIo(addon, opened, remotes, vni, what);
}

/** The native backend. */
export class NativeVxlanIo implements VxlanIoBackend {
  readonly io = 'native';
  readonly local: { readonly address: string; readonly port: number };
  /** Transmit slots: datagrams queued before a flush is forced. */
  readonly txSlots: number;
  private owner: VxlanIoOwner | undefined;
  private readonly channel: NativeChannel;
  private readonly rxBytes: Uint8Array;
  private readonly rxLengths: Uint32Array;
  private readonly txBytes: Uint8Array;
  private readonly txLengths: Uint32Array;
  /** Each transmit slot's frame area (after its header), made once. */
  private readonly txFrames: Uint8Array[] = [];
  /** Datagrams queued in the transmit ring (slots 0..queued-1). */
  private queued = 0;
  /** Whether a batch's handlers are running: their sends wait for the end of the batch. */
  private inBatch = false;
  private flushScheduled = false;
  private closed = false;
  private errorsInARow = 0;
  private readonly flushTask = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  constructor(
    private readonly addon: NativeAddon,
    opened: { readonly fd: number; readonly address: string; readonly port: number },
    private readonly remotes: readonly VxlanRemote[],
    vni: number,
    what: string,
  ) {
    this.local = { address: opened.address, port: opened.port };
    const rxRing = new ArrayBuffer(VXLAN_MAX_DATAGRAM * NATIVE_RX_BATCH);
    this.rxBytes = new Uint8Array(rxRing);
    this.rxLengths = new Uint32Array(NATIVE_RX_BATCH);
    this.txSlots = Math.max(
      1,
      Math.min(NATIVE_TX_SLOTS, Math.floor(NATIVE_MAX_MESSAGES / remotes.length)),
    );
    const txRing = new ArrayBuffer(VXLAN_MAX_DATAGRAM * this.txSlots);
    this.txBytes = new Uint8Array(txRing);
    this.txLengths = new Uint32Array(this.txSlots);
    // Every datagram starts with the same header: written once into each slot, never again.
    for (let slot = 0; slot < this.txSlots; slot++) {
      emitVxlanHeader(this.txBytes, slot * VXLAN_MAX_DATAGRAM, vni);
      this.txFrames.push(
        new Uint8Array(txRing, slot * VXLAN_MAX_DATAGRAM + VXLAN_HEADER_LEN, VXLAN_MAX_FRAME),
      );
    }
    try {
      this.channel = new addon.Channel(
        opened.fd,
        ChannelMode.Udp,
        rxRing,
        VXLAN_MAX_DATAGRAM,
        this.rxLengths,
        (count, error, truncated, _outgoing, icmpErrors, icmpErrno, icmpAddress, icmpPort) => {
          if (icmpErrors > 0) this.icmpErrors(icmpErrors, icmpErrno, icmpAddress, icmpPort);
          this.onBatch(count, error, truncated);
        },
      );
    } catch (error) {
      addon.closeFd(opened.fd);
      throw openError(what, error);
    }
    try {
      this.channel.setTransmit(txRing, VXLAN_MAX_DATAGRAM, this.txLengths, remotes);
    } catch (error) {
      this.channel.close();
      throw openError(what, error);
    }
  }

  start(owner: VxlanIoOwner): void {
    this.owner = owner;
    this.channel.start();
  }

  /** Queues the datagram for `frame`; see the file's comment for when it goes out. */
  send(frame: Uint8Array): void {
    this.txFrames[this.freeSlot()]!.set(frame);
    this.commitTransmit(frame.length);
  }

  /**
   * The frame area of the next free transmit slot (VXLAN_MAX_FRAME bytes, after the header
   * written once): the caller writes a frame there and queues it with `commitTransmit`.
   */
  transmitBuffer(_length: number): Uint8Array {
    return this.txFrames[this.freeSlot()]!;
  }

  /** Queues the frame of `length` bytes written into the free slot's frame area. */
  commitTransmit(length: number): void {
    const slot = this.freeSlot();
    this.queued = slot + 1;
    this.txLengths[slot] = VXLAN_HEADER_LEN + length;
    if (!this.inBatch && !this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flushTask);
    }
  }

  /** The next free transmit slot, flushing the ring first when it is full. */
  private freeSlot(): number {
    if (this.queued === this.txSlots) this.flush();
    return this.queued;
  }

  /** Sends what is queued (frames accepted before close still go out), then closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.channel.close();
  }

  /**
   * Sends every queued datagram to every remote, in one sendmmsg() when the kernel takes all
   * (see Link.flush; a microtask already scheduled then finds nothing to send).
   */
  flush(): void {
    const count = this.queued;
    if (count === 0 || this.closed) return;
    this.queued = 0;
    const owner = this.owner!;
    const notSent = this.channel.flush(count);
    owner.counters.txBatches++;
    if (notSent === 0) return;
    owner.counters.txErrors += notSent;
    // One report per flush, however many datagrams it lost: the daemon rate-limits the log.
    const failure = this.channel.flushError();
    const remote = this.remotes[failure.remote];
    const total = count * this.remotes.length;
    owner.report(
      new LinkError(
        'EIO',
        `${owner.name}: send: send ${this.addon.errorName(failure.errno)} ${remote?.address}:${remote?.port}` +
          (total > 1 ? ` (${notSent} of ${total} datagrams not sent)` : ''),
      ),
    );
  }

  /**
   * One wakeup's batch, from the addon: datagrams in ring slots 0..count-1. A slot of length 0
   * is a datagram dropped as longer than a slot (`truncated` of them) or an empty one.
   */
  private onBatch(count: number, error: number, truncated: number): void {
    const owner = this.owner!;
    const counters = owner.counters;
    counters.rxTooLong += truncated;
    if (count > 0) {
      counters.rxBatches++;
      this.errorsInARow = 0;
    }
    let empty = 0;
    let thrown: { error: unknown } | undefined;
    this.inBatch = true;
    try {
      for (let i = 0; i < count; i++) {
        const length = this.rxLengths[i]!;
        if (length === 0) {
          empty++;
        } else if (!owner.isClosed()) {
          try {
            owner.receive(this.rxBytes, i * VXLAN_MAX_DATAGRAM, length);
          } catch (caught) {
            // The rest of the batch is still delivered and its replies sent; the first
            // exception is then rethrown, so a throwing handler surfaces as an uncaught
            // exception, as it would from a node:dgram 'message' event.
            thrown ??= { error: caught };
          }
        }
      }
    } finally {
      this.inBatch = false;
      if (count > 0 && !owner.isClosed()) {
        try {
          owner.batchEnd();
        } catch (caught) {
          thrown ??= { error: caught };
        }
      }
      this.flush();
    }
    // An empty datagram has no VXLAN header.
    counters.rxBadHeader += empty - truncated;
    if (error !== 0 && !this.closed) this.receiveFailed(error);
    if (thrown) throw thrown.error;
  }

  /**
   * ICMP errors about datagrams we sent arrived (IP_RECVERR): counted, and reported once per
   * wakeup with the last one's destination, e.g. a remote with no VXLAN endpoint on its port
   * ("connection refused", ICMP port unreachable). Receiving goes on.
   */
  private icmpErrors(count: number, errno: number, address: number, port: number): void {
    const owner = this.owner!;
    owner.counters.rxIcmpErrors += count;
    const text = `${this.addon.errorText(errno)} (${this.addon.errorName(errno)})`;
    owner.report(
      new LinkError(
        'EIO',
        `${owner.name}: remote ${formatIpv4(address)}:${port}: ${text}` +
          (count > 1 ? ` (${count} ICMP errors)` : ''),
      ),
    );
  }

  /** A receive failed and polling stopped: report it and poll again, unless it keeps failing. */
  private receiveFailed(error: number): void {
    const owner = this.owner!;
    owner.counters.socketErrors++;
    const text =
      error === -1
        ? 'end of file'
        : `${this.addon.errorText(error)} (${this.addon.errorName(error)})`;
    if (++this.errorsInARow >= MAX_ERRORS_IN_A_ROW) {
      owner.report(
        new LinkError(
          'EIO',
          `${owner.name}: receive failed ${this.errorsInARow} times in a row: ${text}; no longer receiving (close the link and open it again)`,
        ),
      );
      return;
    }
    owner.report(new LinkError('EIO', `${owner.name}: receive: ${text}`));
    this.channel.resume();
  }
}
