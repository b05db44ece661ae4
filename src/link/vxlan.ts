/**
 * VXLAN (RFC 7348) over UDP: an Ethernet segment shared with other VTEPs, the Linux kernel's
 * vxlan device among them. Every frame sent is encapsulated once and flooded to each
 * configured remote VTEP (head-end replication, RFC 7348 section 4.2); every datagram received
 * is checked and its frame handed on only when its VNI is ours.
 *
 * The UDP socket is either the native addon's, read and written a batch of datagrams per
 * system call (vxlan-native.ts), or node:dgram's, one datagram per call (vxlan-dgram.ts). The
 * link behaves and counts the same on both; `io` says which one it runs on.
 */
import { isValidIpv4 } from '../wire/addr.ts';
import { VXLAN_FLAG_I, VXLAN_HEADER_LEN, VXLAN_MAX_VNI, VXLAN_UDP_PORT } from '../wire/vxlan.ts';
import {
  type BatchEndHandler,
  type FrameHandler,
  type Link,
  LinkError,
  type LinkErrorHandler,
} from './link.ts';
import { loadNative, type NativeAddon, type NativeLoad } from './native/addon.ts';
import { requireNative } from './native/native-link.ts';
import { openDgramVxlan } from './vxlan-dgram.ts';
import {
  VXLAN_IO_CHOICES,
  VXLAN_MAX_DATAGRAM,
  VXLAN_MAX_FRAME,
  type VxlanCounters,
  type VxlanIo,
  type VxlanIoBackend,
  type VxlanIoChoice,
  type VxlanLinkStats,
  type VxlanRemote,
} from './vxlan-io.ts';
import { openNativeVxlan } from './vxlan-native.ts';

export {
  VXLAN_IO_CHOICES,
  VXLAN_MAX_DATAGRAM,
  VXLAN_MAX_FRAME,
  type VxlanIo,
  type VxlanIoChoice,
  type VxlanLinkStats,
};

/** A UDP endpoint: an IPv4 address and a port (4789 when omitted). */
export interface VxlanEndpoint {
  address: string;
  port?: number;
}

/** Options for a VXLAN link. */
export interface VxlanLinkOptions {
  /** The VXLAN Network Identifier (0..16777215) sent, and the only one accepted. */
  vni: number;
  /** Where to bind: a local IPv4 address ("0.0.0.0" for all) and UDP port (0 = any free one). */
  local: VxlanEndpoint;
  /** The remote VTEPs every frame is flooded to; at least one. */
  remotes: readonly VxlanEndpoint[];
  /** A name for logs; by default "vxlan ADDRESS:PORT vni N". */
  name?: string;
  /**
   * The I/O backend: "native" (the addon's batched UDP channel), "dgram" (node:dgram), or
   * "auto" (the default): native when the addon loads here, else dgram.
   */
  io?: VxlanIoChoice;
}

/** Checks a port number; `allowZero` for the local side (0 lets the kernel choose). */
function checkPort(what: string, port: number, allowZero: boolean): number {
  if (!Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 0xffff) {
    throw new LinkError(
      'EINVAL',
      `vxlan: ${what} port must be an integer ${allowZero ? 0 : 1}..65535, got ${port}`,
    );
  }
  return port;
}

/** Checks an IPv4 address in dotted form. */
function checkAddress(what: string, address: string): string {
  if (!isValidIpv4(address)) {
    throw new LinkError(
      'EINVAL',
      `vxlan: ${what} address must be dotted IPv4, got ${JSON.stringify(address)}`,
    );
  }
  return address;
}

/** The backend an `io` choice means here. */
export type VxlanIoDecision =
  | { readonly io: 'dgram' }
  | { readonly io: 'native'; readonly addon: NativeAddon };

/**
 * Which backend `choice` gives with the addon as `native` found it: "auto" is native when the
 * addon loaded, else dgram; "native" without the addon throws EIO naming `what` and the
 * addon's reason.
 */
export function chooseVxlanIo(
  choice: VxlanIoChoice,
  what: string,
  native: NativeLoad,
): VxlanIoDecision {
  switch (choice) {
    case 'dgram':
      return { io: 'dgram' };
    case 'native':
      return { io: 'native', addon: requireNative(what, native) };
    case 'auto':
      return native.kind === 'loaded' ? { io: 'native', addon: native.addon } : { io: 'dgram' };
    default:
      throw new LinkError(
        'EINVAL',
        `vxlan: io must be one of ${VXLAN_IO_CHOICES.map((c) => `"${c}"`).join(', ')}, got ${JSON.stringify(choice)}`,
      );
  }
}

/** A VXLAN tunnel endpoint bound to a local UDP port. Open it with `VxlanLink.open`. */
export class VxlanLink implements Link {
  /** The backend the link runs on. */
  readonly io: VxlanIo;
  private handler: FrameHandler | undefined;
  private batchEndHandler: BatchEndHandler | undefined;
  private errorHandler: LinkErrorHandler | undefined;
  private closed = false;
  /**
   * The last byte array `receive` was given and its ArrayBuffer: the native backend passes
   * the same ring every time, and asking a typed array for its buffer is not free.
   */
  private receivedFrom: Uint8Array | undefined;
  private receivedBuffer: ArrayBufferLike | undefined;
  private readonly counters: VxlanCounters = {
    rxFrames: 0,
    rxBadHeader: 0,
    rxWrongVni: 0,
    rxNoHandler: 0,
    rxTooLong: 0,
    rxBatches: 0,
    txFrames: 0,
    txErrors: 0,
    txClosed: 0,
    txBatches: 0,
    socketErrors: 0,
    rxIcmpErrors: 0,
  };

  private constructor(
    readonly name: string,
    readonly vni: number,
    private readonly backend: VxlanIoBackend,
    private readonly remoteCount: number,
  ) {
    this.io = backend.io;
    backend.start({
      name,
      counters: this.counters,
      receive: (bytes, offset, length) => this.receive(bytes, offset, length),
      batchEnd: () => this.batchEndHandler?.(),
      isClosed: () => this.closed,
      report: (error) => this.report(error),
    });
  }

  /**
   * Validates the options, binds the socket on the backend `options.io` asks for, and
   * resolves once it is ready. `native` is the addon as loaded (tests pass one that is not).
   */
  static async open(
    options: VxlanLinkOptions,
    native: NativeLoad = loadNative(),
  ): Promise<VxlanLink> {
    const { vni } = options;
    if (!Number.isInteger(vni) || vni < 0 || vni > VXLAN_MAX_VNI) {
      throw new LinkError(
        'EINVAL',
        `vxlan: vni must be an integer 0..${VXLAN_MAX_VNI}, got ${vni}`,
      );
    }
    const localAddress = checkAddress('local', options.local.address);
    const localPort = checkPort('local', options.local.port ?? VXLAN_UDP_PORT, true);
    if (options.remotes.length === 0) {
      throw new LinkError('EINVAL', 'vxlan: remotes must name at least one VTEP');
    }
    const remotes: VxlanRemote[] = options.remotes.map((r) => ({
      address: checkAddress('remote', r.address),
      port: checkPort('remote', r.port ?? VXLAN_UDP_PORT, false),
    }));
    const local = { address: localAddress, port: localPort };
    const decision = chooseVxlanIo(
      options.io ?? 'auto',
      `vxlan ${localAddress}:${localPort}`,
      native,
    );
    const backend =
      decision.io === 'native'
        ? openNativeVxlan(decision.addon, local, remotes, vni)
        : await openDgramVxlan(local, remotes, vni);
    const bound = backend.local;
    const name = options.name ?? `vxlan ${bound.address}:${bound.port} vni ${vni}`;
    return new VxlanLink(name, vni, backend, remotes.length);
  }

  /** The bound local address and port (useful when port 0 was asked for). */
  localEndpoint(): { address: string; port: number } {
    const { address, port } = this.backend.local;
    return { address, port };
  }

  /** A copy of the counters, and the backend in use. */
  stats(): VxlanLinkStats {
    return { io: this.io, ...this.counters };
  }

  /**
   * Encapsulates `frame` and sends it to every remote VTEP; the frame is copied before this
   * returns. On the native backend the datagrams go out with the batch's other sends (see
   * vxlan-native.ts), on node:dgram at once.
   */
  send(frame: Uint8Array): void {
    if (this.closed) {
      this.counters.txClosed++;
      return;
    }
    if (frame.length > VXLAN_MAX_FRAME) {
      this.counters.txErrors += this.remoteCount;
      this.report(
        new LinkError(
          'EIO',
          `${this.name}: send: a frame of ${frame.length} bytes is longer than the ${VXLAN_MAX_FRAME} a VXLAN datagram carries here`,
        ),
      );
      return;
    }
    this.counters.txFrames++;
    this.backend.send(frame);
  }

  /** Sets the frame handler. */
  onFrame(handler: FrameHandler): void {
    this.handler = handler;
  }

  /**
   * Sets the batch-end handler: called after each wakeup's datagrams (at most
   * NATIVE_RX_BATCH on the native backend; each datagram alone on node:dgram).
   */
  onBatchEnd(handler: BatchEndHandler): void {
    this.batchEndHandler = handler;
  }

  /**
   * On the native backend, a transmit slot to write a frame of `length` bytes into (see
   * Link.transmitBuffer); undefined on node:dgram, after close, or for a frame too long, so
   * that `send` takes it and counts it.
   */
  transmitBuffer(length: number): Uint8Array | undefined {
    if (this.closed || length > VXLAN_MAX_FRAME) return undefined;
    return this.backend.transmitBuffer?.(length);
  }

  /** Sends the frame written into the last `transmitBuffer`, counted as `send` counts it. */
  commitTransmit(length: number): void {
    const backend = this.backend;
    if (this.closed) {
      this.counters.txClosed++;
      return;
    }
    if (backend.commitTransmit === undefined) {
      throw new LinkError('EINVAL', `${this.name}: commitTransmit without a transmit buffer`);
    }
    this.counters.txFrames++;
    backend.commitTransmit(length);
  }

  /**
   * Sends now what sends outside a batch queued (the native backend queues them for a
   * microtask; node:dgram sends each at once). See Link.flush.
   */
  flush(): void {
    if (!this.closed) this.backend.flush?.();
  }

  /** Sets the error handler; without one, errors are only counted. */
  onError(handler: LinkErrorHandler): void {
    this.errorHandler = handler;
  }

  /** Sends what is still queued, then closes the socket; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.backend.close();
  }

  /**
   * A datagram from any source (as the kernel's vxlan device accepts them), `length` bytes at
   * `offset` of `bytes`: checked in place, then its frame handed on as a plain Uint8Array
   * view (Buffer's slice() shares memory, and the engine's sinks rely on Uint8Array's copying
   * one). Bad bytes are counted and dropped, never thrown.
   */
  private receive(bytes: Uint8Array, offset: number, length: number): void {
    if (this.closed) return;
    const counters = this.counters;
    if (length > VXLAN_MAX_DATAGRAM) {
      counters.rxTooLong++;
      return;
    }
    // RFC 7348 section 5: the I flag "MUST be set to 1 for a valid VXLAN Network ID (VNI)";
    // the reserved bits and bytes are "ignored on receipt".
    if (length < VXLAN_HEADER_LEN || (bytes[offset]! & VXLAN_FLAG_I) === 0) {
      counters.rxBadHeader++;
      return;
    }
    const vni = (bytes[offset + 4]! << 16) | (bytes[offset + 5]! << 8) | bytes[offset + 6]!;
    if (vni !== this.vni) {
      counters.rxWrongVni++;
      return;
    }
    const handler = this.handler;
    if (!handler) {
      counters.rxNoHandler++;
      return;
    }
    counters.rxFrames++;
    if (bytes !== this.receivedFrom) {
      this.receivedFrom = bytes;
      this.receivedBuffer = bytes.buffer;
    }
    handler(
      new Uint8Array(
        this.receivedBuffer!,
        bytes.byteOffset + offset + VXLAN_HEADER_LEN,
        length - VXLAN_HEADER_LEN,
      ),
    );
  }

  private report(error: LinkError): void {
    this.errorHandler?.(error);
  }
}
