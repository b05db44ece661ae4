/**
 * The Link: an Ethernet segment as the runtime sees it. A driver moves whole Ethernet II
 * frames (no FCS) in and out and nothing else: no ARP, no addresses, no clock. The in-memory
 * hub, VXLAN over UDP and the pcap tee all implement it, so the runtime and the tests treat
 * them alike.
 */

/** Receives a frame. The bytes are valid only during the call and must not be modified. */
export type FrameHandler = (frame: Uint8Array) => void;

/** Called when a batch of received frames has been handed to the frame handler. */
export type BatchEndHandler = () => void;

/** Receives an I/O error the link survived (it keeps running unless closed). */
export type LinkErrorHandler = (error: LinkError) => void;

/** An Ethernet link. */
export interface Link {
  /** A name for logs and errors ("vxlan 198.18.0.1:4789 vni 42"). */
  readonly name: string;
  /**
   * Puts a frame on the link. The link copies it (or hands it to the kernel) before
   * returning, so the caller may reuse the buffer at once. Never throws for I/O: a failed
   * send is counted and reported through `onError`; a send after `close` is dropped.
   */
  send(frame: Uint8Array): void;
  /**
   * Sets the handler for received frames, replacing the previous one. Frames are delivered
   * asynchronously, never from inside `send`, so a handler may send without re-entering itself.
   */
  onFrame(handler: FrameHandler): void;
  /**
   * Optional: sets the handler called at the end of each batch of received frames, replacing
   * the previous one. A link that has this method delivers every frame as part of a batch: a
   * run of frame handler calls made from one event-loop task (one wakeup of the link), at most
   * a wakeup's worth of frames (the link's read batch), followed by one call of this handler
   * (also after a batch whose handlers threw). A consumer may therefore read the clock once
   * per batch, and do per-batch work (re-arming a timer) here. A link without it delivers each
   * frame on its own.
   */
  onBatchEnd?(handler: BatchEndHandler): void;
  /**
   * Optional, with `commitTransmit`: lends the caller a buffer of at least `length` bytes to
   * write a frame into in place (a slot of the link's transmit ring), saving the copy `send`
   * makes. The caller writes the frame into its first `length` bytes and calls
   * `commitTransmit(length)` before anything else uses the link; a buffer not committed is
   * simply reused. Returns undefined when it cannot lend one (closed, too long): the caller
   * then uses `send`.
   */
  transmitBuffer?(length: number): Uint8Array | undefined;
  /** Sends the frame of `length` bytes written into the last `transmitBuffer`, like `send`. */
  commitTransmit?(length: number): void;
  /**
   * Optional: sends at once the frames queued by sends made outside a batch. A link that has
   * it queues such sends and, unless this is called, sends them in a microtask, so that the
   * sends of one task share one system call; a caller that knows a run of sends is complete
   * (the end of an engine input) calls it so that they leave before the caller's other work.
   * Does nothing when nothing is queued.
   */
  flush?(): void;
  /** Sets the handler for I/O errors, replacing the previous one. Errors never throw. */
  onError(handler: LinkErrorHandler): void;
  /** Stops sending and receiving and releases the link's resources; idempotent. */
  close(): Promise<void>;
}

/** What went wrong in a link: bad options (thrown) or I/O (reported through `onError`). */
export type LinkErrorCode =
  | 'EINVAL' // an option out of range or malformed (thrown when the link is opened)
  | 'EIO'; // a send, receive or write failed (reported, never thrown)

/** An error with a machine-readable `code`, naming the link and, for I/O, the cause. */
export class LinkError extends Error {
  constructor(
    readonly code: LinkErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LinkError';
  }
}

/** Wraps whatever a Node API threw or emitted as an `EIO` LinkError for `link`. */
export function ioError(linkName: string, what: string, cause: unknown): LinkError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new LinkError('EIO', `${linkName}: ${what}: ${detail}`, { cause });
}
