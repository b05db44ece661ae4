/**
 * VXLAN (RFC 7348) over a node:dgram UDP socket: an Ethernet segment shared with other
 * VTEPs, the Linux kernel's vxlan device among them. Every frame sent is encapsulated once
 * and flooded to each configured remote VTEP (head-end replication, RFC 7348 section 4.2);
 * every datagram received is checked and its frame handed on only when its VNI is ours.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isValidIpv4 } from '../wire/addr.ts';
import {
  emitVxlanHeader,
  parseVxlan,
  VXLAN_HEADER_LEN,
  VXLAN_MAX_VNI,
  VXLAN_UDP_PORT,
} from '../wire/vxlan.ts';
import { type FrameHandler, ioError, type Link, LinkError, type LinkErrorHandler } from './link.ts';

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
}

/** The link's counters: every datagram received is counted exactly once among the rx ones. */
export interface VxlanLinkStats {
  /** Frames handed to the frame handler. */
  rxFrames: number;
  /** Datagrams shorter than the VXLAN header or without the I flag (RFC 7348 section 5). */
  rxBadHeader: number;
  /** Datagrams for another VNI. */
  rxWrongVni: number;
  /** Good datagrams received while no frame handler was set. */
  rxNoHandler: number;
  /** Frames sent (each counted once, whatever the number of remotes). */
  txFrames: number;
  /** Datagrams (frame x remote) whose send failed. */
  txErrors: number;
  /** Frames dropped because the link was closed. */
  txClosed: number;
  /** Socket errors reported besides failed sends. */
  socketErrors: number;
}

interface Remote {
  readonly address: string;
  readonly port: number;
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

/** A VXLAN tunnel endpoint bound to a local UDP port. Open it with `VxlanLink.open`. */
export class VxlanLink implements Link {
  private handler: FrameHandler | undefined;
  private errorHandler: LinkErrorHandler | undefined;
  private closed = false;
  private readonly counters: VxlanLinkStats = {
    rxFrames: 0,
    rxBadHeader: 0,
    rxWrongVni: 0,
    rxNoHandler: 0,
    txFrames: 0,
    txErrors: 0,
    txClosed: 0,
    socketErrors: 0,
  };
  /** One callback for every send, so no closure is allocated per datagram. */
  private readonly afterSend = (error: Error | null): void => {
    if (error) {
      this.counters.txErrors++;
      this.report(ioError(this.name, 'send', error));
    }
  };

  private constructor(
    readonly name: string,
    readonly vni: number,
    private readonly socket: Socket,
    private readonly remotes: readonly Remote[],
  ) {
    socket.on('message', (message, rinfo) => this.receive(message, rinfo));
    // Without an 'error' listener a socket error would be thrown and end the process.
    socket.on('error', (error) => {
      this.counters.socketErrors++;
      this.report(ioError(this.name, 'socket', error));
    });
  }

  /** Validates the options, binds the socket and resolves once it is ready. */
  static async open(options: VxlanLinkOptions): Promise<VxlanLink> {
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
    const remotes = options.remotes.map((r) => ({
      address: checkAddress('remote', r.address),
      port: checkPort('remote', r.port ?? VXLAN_UDP_PORT, false),
    }));
    const socket = createSocket({ type: 'udp4' });
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => {
        socket.close();
        reject(ioError(`vxlan ${localAddress}:${localPort}`, 'bind', error));
      };
      socket.once('error', onError);
      socket.bind({ address: localAddress, port: localPort, exclusive: true }, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    const bound = socket.address();
    const name = options.name ?? `vxlan ${bound.address}:${bound.port} vni ${vni}`;
    return new VxlanLink(name, vni, socket, remotes);
  }

  /** The bound local address and port (useful when port 0 was asked for). */
  localEndpoint(): { address: string; port: number } {
    const { address, port } = this.socket.address();
    return { address, port };
  }

  /** A copy of the counters. */
  stats(): VxlanLinkStats {
    return { ...this.counters };
  }

  /**
   * Encapsulates `frame` into a fresh datagram (so the caller may reuse its buffer, and the
   * kernel may keep ours until the send completes) and sends it to every remote VTEP.
   */
  send(frame: Uint8Array): void {
    if (this.closed) {
      this.counters.txClosed++;
      return;
    }
    const datagram = new Uint8Array(VXLAN_HEADER_LEN + frame.length);
    emitVxlanHeader(datagram, 0, this.vni);
    datagram.set(frame, VXLAN_HEADER_LEN);
    this.counters.txFrames++;
    for (const remote of this.remotes) {
      try {
        this.socket.send(datagram, remote.port, remote.address, this.afterSend);
      } catch (error) {
        // dgram throws synchronously only for a closed socket or bad arguments.
        this.counters.txErrors++;
        this.report(ioError(this.name, 'send', error));
      }
    }
  }

  /** Sets the frame handler. */
  onFrame(handler: FrameHandler): void {
    this.handler = handler;
  }

  /** Sets the error handler; without one, errors are only counted. */
  onError(handler: LinkErrorHandler): void {
    this.errorHandler = handler;
  }

  /** Closes the socket; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  /**
   * A datagram from any source (as the kernel's vxlan device accepts them): checked, then
   * its frame handed on. Bad bytes are counted and dropped, never thrown.
   */
  private receive(message: Buffer, _rinfo: RemoteInfo): void {
    if (this.closed) return;
    // A plain Uint8Array view: Buffer's slice() shares memory, and the engine's sinks rely on
    // Uint8Array's copying slice().
    const bytes = new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
    const packet = parseVxlan(bytes);
    if ('kind' in packet) {
      this.counters.rxBadHeader++;
      return;
    }
    if (packet.vni !== this.vni) {
      this.counters.rxWrongVni++;
      return;
    }
    if (!this.handler) {
      this.counters.rxNoHandler++;
      return;
    }
    this.counters.rxFrames++;
    this.handler(packet.payload);
  }

  private report(error: LinkError): void {
    this.errorHandler?.(error);
  }
}
