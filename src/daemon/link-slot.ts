/**
 * A link whose driver can be swapped while the runner keeps the slot attached. The runner
 * attaches one link per interface for good; the daemon's reload needs to close an
 * interface's link, open another one in its place (a new remote, a new capture file), or
 * leave the interface without one (removed from the config), so it attaches slots.
 */
import type { FrameHandler, Link, LinkErrorHandler } from '../link/link.ts';

/** A Link that forwards to whichever link is in it, if any. */
export class LinkSlot implements Link {
  private inner: Link | undefined;
  private handler: FrameHandler | undefined;
  private errorHandler: LinkErrorHandler | undefined;
  private dropped = 0;

  constructor(
    /** The interface the slot is attached to, for the name when empty. */
    readonly ifName: string,
  ) {}

  /** The inner link's name, or "IFNAME (no link)". */
  get name(): string {
    return this.inner?.name ?? `${this.ifName} (no link)`;
  }

  /** The link in the slot, if any. */
  get current(): Link | undefined {
    return this.inner;
  }

  /** Frames sent while the slot was empty. */
  get sentWhileEmpty(): number {
    return this.dropped;
  }

  /**
   * Puts `link` (or nothing) in the slot and returns the link that was there, detached from
   * the slot's handlers but not closed: the caller closes it, or puts it back.
   */
  replace(link: Link | undefined): Link | undefined {
    const previous = this.inner;
    previous?.onFrame(() => {});
    previous?.onError(() => {});
    this.inner = link;
    link?.onFrame((frame) => this.handler?.(frame));
    link?.onError((error) => this.errorHandler?.(error));
    return previous;
  }

  /** Sends on the inner link; an empty slot counts the frame and drops it. */
  send(frame: Uint8Array): void {
    if (this.inner) this.inner.send(frame);
    else this.dropped++;
  }

  /** Sets the frame handler (kept across swaps). */
  onFrame(handler: FrameHandler): void {
    this.handler = handler;
  }

  /** Sets the error handler (kept across swaps). */
  onError(handler: LinkErrorHandler): void {
    this.errorHandler = handler;
  }

  /** Empties the slot and closes the link that was in it. */
  async close(): Promise<void> {
    await this.replace(undefined)?.close();
  }
}
