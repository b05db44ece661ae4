/**
 * A link whose driver can be swapped while the runner keeps the slot attached. The runner
 * attaches one link per interface for good; the daemon's reload needs to close an
 * interface's link, open another one in its place (a new remote, a new capture file), or
 * leave the interface without one (removed from the config, or its device deleted until it
 * comes back), so it attaches slots.
 *
 * The slot also watches its link's health for the daemon: errors come in runs (a VXLAN peer
 * whose underlay route is gone fails every send), so it tells the daemon which error starts a
 * run, and that the run ended when a frame arrives again, so that one log line says what
 * broke and one that it works again, with the count in between.
 */
import type { FrameHandler, Link, LinkError, LinkErrorHandler } from '../link/link.ts';

/** What the slot tells the daemon about its link's health. */
export type LinkIssue =
  | {
      /** An I/O error; `first` when it starts a run (the link had worked until then). */
      readonly kind: 'error';
      readonly error: LinkError;
      readonly first: boolean;
    }
  | {
      /** A frame arrived after a run of `errors` errors: the link works again. */
      readonly kind: 'recovered';
      readonly errors: number;
    };

/** Receives the slot's health reports. */
export type LinkIssueHandler = (issue: LinkIssue) => void;

/** A Link that forwards to whichever link is in it, if any. */
export class LinkSlot implements Link {
  private inner: Link | undefined;
  private handler: FrameHandler | undefined;
  private errorHandler: LinkErrorHandler | undefined;
  private issueHandler: LinkIssueHandler | undefined;
  private dropped = 0;
  /** Errors since the link last worked (0: it works). */
  private run = 0;
  private total = 0;

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

  /** Errors of the links in the slot since it was made. */
  get errors(): number {
    return this.total;
  }

  /** Errors since the link in the slot last worked (0 while it works). */
  get failing(): number {
    return this.run;
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
    // A new link starts healthy.
    this.run = 0;
    link?.onFrame((frame) => {
      if (this.run > 0) this.recovered();
      this.handler?.(frame);
    });
    link?.onError((error) => {
      this.total++;
      this.run++;
      this.errorHandler?.(error);
      this.issueHandler?.({ kind: 'error', error, first: this.run === 1 });
    });
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

  /** Sets the handler of health reports (kept across swaps). */
  onIssue(handler: LinkIssueHandler): void {
    this.issueHandler = handler;
  }

  /** Empties the slot and closes the link that was in it. */
  async close(): Promise<void> {
    await this.replace(undefined)?.close();
  }

  private recovered(): void {
    const errors = this.run;
    this.run = 0;
    this.issueHandler?.({ kind: 'recovered', errors });
  }
}
