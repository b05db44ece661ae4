/**
 * A VXLAN link's I/O over a node:dgram socket: one datagram per system call each way, and a
 * Buffer per datagram received. No native code, so it works wherever Node does; the batched
 * native backend (vxlan-native.ts) is the fast one.
 */
import { createSocket, type Socket } from 'node:dgram';
import { emitVxlanHeader, VXLAN_HEADER_LEN } from '../wire/vxlan.ts';
import { ioError } from './link.ts';
import type { VxlanIoBackend, VxlanIoOwner, VxlanRemote } from './vxlan-io.ts';

/** Binds a udp4 socket to `local` (exclusively) and resolves once it is ready. */
export async function openDgramVxlan(
  local: { readonly address: string; readonly port: number },
  remotes: readonly VxlanRemote[],
  vni: number,
): Promise<DgramVxlanIo> {
  const socket = createSocket({ type: 'udp4' });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      socket.close();
      reject(ioError(`vxlan ${local.address}:${local.port}`, 'bind', error));
    };
    socket.once('error', onError);
    socket.bind({ address: local.address, port: local.port, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
  return new DgramVxlanIo(socket, remotes, vni);
}

/** The node:dgram backend. */
export class DgramVxlanIo implements VxlanIoBackend {
  readonly io = 'dgram';
  readonly local: { readonly address: string; readonly port: number };
  private owner: VxlanIoOwner | undefined;
  /** Sends handed to node:dgram and not yet completed; close waits for them. */
  private inFlight = 0;
  private whenDrained: (() => void) | undefined;
  /** One callback for every send, so no closure is allocated per datagram. */
  private readonly afterSend = (error: Error | null): void => {
    const owner = this.owner;
    if (error && owner) {
      owner.counters.txErrors++;
      owner.report(ioError(owner.name, 'send', error));
    }
    if (--this.inFlight === 0) this.whenDrained?.();
  };

  constructor(
    private readonly socket: Socket,
    private readonly remotes: readonly VxlanRemote[],
    private readonly vni: number,
  ) {
    const { address, port } = socket.address();
    this.local = { address, port };
  }

  start(owner: VxlanIoOwner): void {
    this.owner = owner;
    // Each datagram is a batch of its own.
    this.socket.on('message', (message: Buffer) => {
      owner.counters.rxBatches++;
      try {
        owner.receive(message, 0, message.length);
      } finally {
        owner.batchEnd();
      }
    });
    // Without an 'error' listener a socket error would be thrown and end the process.
    this.socket.on('error', (error) => {
      owner.counters.socketErrors++;
      owner.report(ioError(owner.name, 'socket', error));
    });
  }

  /**
   * Encapsulates `frame` into a fresh datagram (so the caller may reuse its buffer, and the
   * kernel may keep ours until the send completes) and sends it to every remote VTEP.
   */
  send(frame: Uint8Array): void {
    const owner = this.owner!;
    const datagram = new Uint8Array(VXLAN_HEADER_LEN + frame.length);
    emitVxlanHeader(datagram, 0, this.vni);
    datagram.set(frame, VXLAN_HEADER_LEN);
    for (const remote of this.remotes) {
      owner.counters.txBatches++;
      try {
        this.socket.send(datagram, remote.port, remote.address, this.afterSend);
        this.inFlight++;
      } catch (error) {
        // dgram throws synchronously only for a closed socket or bad arguments.
        owner.counters.txErrors++;
        owner.report(ioError(owner.name, 'send', error));
      }
    }
  }

  /**
   * Waits for the sends under way (node:dgram drops a send still resolving its address when
   * the socket closes), then closes the socket.
   */
  async close(): Promise<void> {
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.whenDrained = resolve));
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
