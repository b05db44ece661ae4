/**
 * What TAP and AF_PACKET links share: a descriptor the native addon polls on Node's event
 * loop, a ring of frame slots filled by one wakeup's batch of reads, and the policy for
 * errors. A read error either passes (the link reports it and polls again) or means the
 * device is gone (deleted under us): that is reported once, clearly, and the link goes quiet
 * until it is closed. Nothing here throws for I/O, and nothing ends the process.
 */
import {
  type BatchEndHandler,
  type FrameHandler,
  type Link,
  LinkError,
  type LinkErrorHandler,
} from '../link.ts';
import {
  type ChannelMode,
  loadNative,
  type NativeAddon,
  type NativeChannel,
  type NativeLoad,
} from './addon.ts';

/** Frames read per wakeup unless asked otherwise: enough to drain a burst in one call. */
export const DEFAULT_BATCH = 64;

/** The smallest slot: a full untagged Ethernet frame (1514) rounded up. */
const MIN_SLOT = 2048;

/** An Ethernet header plus an 802.1Q tag: what a frame adds to the MTU. */
const FRAME_OVERHEAD = 18;

/** The counters of a TAP or AF_PACKET link; every frame read is counted once among rx*. */
export interface NativeLinkStats {
  /** Frames handed to the frame handler. */
  rxFrames: number;
  /** Frames read while no frame handler was set. */
  rxNoHandler: number;
  /** Frames larger than a slot (the MTU grew after the link opened): dropped. */
  rxTruncated: number;
  /**
   * The host's own transmissions copied to an AF_PACKET socket (PACKET_OUTGOING; only where
   * the kernel does not drop them itself): dropped.
   */
  rxOutgoing: number;
  /** Wakeups that read at least one frame (rxFrames / rxBatches is the batch size). */
  rxBatches: number;
  /** Read errors reported (the link polled again afterwards, unless the device was gone). */
  rxErrors: number;
  /** Frames written. */
  txFrames: number;
  /**
   * Frames whose write failed, or dropped because the device is gone. The first of a run of
   * failures with the same errno is reported; the rest only counted, until a write succeeds.
   */
  txErrors: number;
  /** Frames dropped because the link was closed. */
  txClosed: number;
}

/** Reads that fail this many times in a row, with no frame between, count as a lost device. */
const MAX_ERRORS_IN_A_ROW = 100;

/** The errnos after which a descriptor will never work again: its device is gone. */
const GONE_ERRNOS = new Set(['EBADFD', 'EBADF', 'ENODEV', 'ENXIO', 'EIDRM']);

/** How a native link is built (by TapLink.open and PacketLink.open). */
export interface NativeLinkSetup {
  readonly name: string;
  readonly addon: NativeAddon;
  /** The descriptor; the link owns it from here on (closed even if setup fails). */
  readonly fd: number;
  readonly mode: ChannelMode;
  /** The device's MTU (slots are sized from it), or -1 if unknown. */
  readonly mtu: number;
  /** Frames read per wakeup, 1..addon.maxBatch. */
  readonly batch: number;
}

/** The addon, or an EIO LinkError naming `what` and why the addon is unavailable. */
export function requireNative(what: string, load: NativeLoad = loadNative()): NativeAddon {
  if (load.kind === 'unavailable') throw new LinkError('EIO', `${what}: ${load.reason}`);
  return load.addon;
}

/** Checks a batch size option. */
export function checkBatch(what: string, batch: number, addon: NativeAddon): number {
  if (!Number.isInteger(batch) || batch < 1 || batch > addon.maxBatch) {
    throw new LinkError(
      'EINVAL',
      `${what}: batch must be an integer 1..${addon.maxBatch}, got ${batch}`,
    );
  }
  return batch;
}

/**
 * Checks an interface name as Linux takes it (dev_valid_name): 1..15 bytes, not "." or "..",
 * no "/", ":" or white space.
 */
export function checkDeviceName(what: string, name: string): string {
  const bytes = new TextEncoder().encode(name).length;
  if (bytes < 1 || bytes > 15 || name === '.' || name === '..' || /[/:\s]/.test(name)) {
    throw new LinkError(
      'EINVAL',
      `${what}: device must be an interface name of 1..15 bytes without "/", ":" or spaces, got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

/** What a native open threw, as an EIO LinkError naming `what` (plus a hint for the errno). */
export function openError(what: string, cause: unknown, hint = ''): LinkError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  const message = detail.startsWith(`${what}:`) ? detail : `${what}: ${detail}`;
  return new LinkError('EIO', `${message}${hint}`, { cause });
}

/** The errno name an Error from the addon carries ("EPERM"), if any. */
export function errnoCode(cause: unknown): string | undefined {
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A TAP or AF_PACKET link: the Link contract over a native channel. */
export abstract class NativeLink implements Link {
  readonly name: string;
  /** The size of each ring slot: the largest frame this link receives. */
  readonly slotSize: number;
  private handler: FrameHandler | undefined;
  private batchEndHandler: BatchEndHandler | undefined;
  private errorHandler: LinkErrorHandler | undefined;
  private closed = false;
  /** Set once the device is gone: the reason, reported once. */
  private goneReason: string | undefined;
  private errorsInARow = 0;
  /** The errno name of the last failed write, until a write succeeds. */
  private lastWriteError: string | undefined;
  private readonly addon: NativeAddon;
  private readonly channel: NativeChannel;
  private readonly ring: ArrayBuffer;
  private readonly lengths: Uint32Array;
  private readonly counters: NativeLinkStats = {
    rxFrames: 0,
    rxNoHandler: 0,
    rxTruncated: 0,
    rxOutgoing: 0,
    rxBatches: 0,
    rxErrors: 0,
    txFrames: 0,
    txErrors: 0,
    txClosed: 0,
  };

  protected constructor(setup: NativeLinkSetup) {
    this.name = setup.name;
    this.addon = setup.addon;
    this.slotSize = Math.max(MIN_SLOT, setup.mtu + FRAME_OVERHEAD);
    this.ring = new ArrayBuffer(this.slotSize * setup.batch);
    this.lengths = new Uint32Array(setup.batch);
    try {
      this.channel = new setup.addon.Channel(
        setup.fd,
        setup.mode,
        this.ring,
        this.slotSize,
        this.lengths,
        (count, error, truncated, outgoing) => this.onBatch(count, error, truncated, outgoing),
      );
      this.channel.start();
    } catch (error) {
      setup.addon.closeFd(setup.fd);
      throw openError(this.name, error);
    }
  }

  /**
   * Whether the device behind the link is gone, asked after a read or write failed with
   * `code`: a message saying so, or undefined while it is still there.
   */
  protected abstract deviceGone(code: string): string | undefined;

  /** A copy of the counters. */
  stats(): NativeLinkStats {
    return { ...this.counters };
  }

  /** Why the link stopped working (its device was deleted), or undefined while it works. */
  get gone(): string | undefined {
    return this.goneReason;
  }

  /** Writes the frame (the kernel copies it before returning). */
  send(frame: Uint8Array): void {
    if (this.closed) {
      this.counters.txClosed++;
      return;
    }
    if (this.goneReason !== undefined) {
      this.counters.txErrors++;
      return;
    }
    const written = this.channel.send(frame);
    if (written >= 0) {
      this.counters.txFrames++;
      this.lastWriteError = undefined;
      return;
    }
    this.counters.txErrors++;
    const code = this.addon.errorName(-written);
    const gone = this.deviceGone(code);
    if (gone !== undefined) {
      this.lose(`${gone} (write: ${this.addon.errorText(-written)})`);
      return;
    }
    // A device that is down fails every write the same way (EIO on TAP, ENETDOWN on
    // AF_PACKET): report the first of a run, count them all.
    if (code === this.lastWriteError) return;
    this.lastWriteError = code;
    this.report(
      new LinkError('EIO', `${this.name}: write: ${this.addon.errorText(-written)} (${code})`),
    );
  }

  /** Sets the frame handler. */
  onFrame(handler: FrameHandler): void {
    this.handler = handler;
  }

  /** Sets the batch-end handler: called after each wakeup's frames (at most the batch size). */
  onBatchEnd(handler: BatchEndHandler): void {
    this.batchEndHandler = handler;
  }

  /** Sets the error handler; without one, errors are only counted. */
  onError(handler: LinkErrorHandler): void {
    this.errorHandler = handler;
  }

  /** Stops polling and closes the descriptor (a TAP device the link created goes with it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channel.close();
  }

  /** One wakeup's batch, from the addon. */
  private onBatch(count: number, error: number, truncated: number, outgoing: number): void {
    this.counters.rxTruncated += truncated;
    this.counters.rxOutgoing += outgoing;
    if (count > 0) {
      this.counters.rxBatches++;
      this.errorsInARow = 0;
    }
    let thrown: { error: unknown } | undefined;
    for (let i = 0; i < count && !this.closed; i++) {
      const length = this.lengths[i]!;
      if (length === 0) continue;
      const handler = this.handler;
      if (!handler) {
        this.counters.rxNoHandler++;
        continue;
      }
      this.counters.rxFrames++;
      try {
        handler(new Uint8Array(this.ring, i * this.slotSize, length));
      } catch (caught) {
        // The rest of the batch is still delivered; the first exception is then rethrown,
        // so a throwing handler surfaces as an uncaught exception like a socket's would.
        thrown ??= { error: caught };
      }
    }
    if (count > 0 && !this.closed && this.batchEndHandler !== undefined) {
      try {
        this.batchEndHandler();
      } catch (caught) {
        thrown ??= { error: caught };
      }
    }
    if (error !== 0 && !this.closed) this.readFailed(error);
    if (thrown) throw thrown.error;
  }

  /** A read failed (polling has stopped): carry on, or give the device up for gone. */
  private readFailed(error: number): void {
    this.counters.rxErrors++;
    if (error === -1) {
      this.lose(`${this.name}: the other end closed (end of file)`);
      return;
    }
    const code = this.addon.errorName(error);
    const text = `${this.addon.errorText(error)} (${code})`;
    const gone = this.deviceGone(code);
    if (gone !== undefined) {
      this.lose(`${gone} (read: ${text})`);
      return;
    }
    if (++this.errorsInARow >= MAX_ERRORS_IN_A_ROW) {
      this.lose(`${this.name}: read failed ${this.errorsInARow} times in a row: ${text}`);
      return;
    }
    this.report(new LinkError('EIO', `${this.name}: read: ${text}`));
    this.channel.resume();
  }

  /** The device is gone: report it once and stop polling (the descriptor is closed). */
  private lose(reason: string): void {
    if (this.goneReason !== undefined) return;
    this.goneReason = reason;
    this.channel.close();
    this.report(new LinkError('EIO', reason));
  }

  private report(error: LinkError): void {
    this.errorHandler?.(error);
  }
}

/** Whether an errno name means the descriptor's device cannot come back. */
export function isGoneErrno(code: string): boolean {
  return GONE_ERRNOS.has(code);
}
