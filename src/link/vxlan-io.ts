/**
 * What a VXLAN link (vxlan.ts) shares with its two I/O backends: node:dgram (vxlan-dgram.ts)
 * and the native addon's batched UDP channel (vxlan-native.ts). The link checks options,
 * parses each datagram's header and keeps the frame counters; a backend only moves datagrams
 * and counts what happens to them on the socket. Both count into the same counters, so a link
 * reads the same whichever backend it runs on.
 */
import { VXLAN_HEADER_LEN } from '../wire/vxlan.ts';
import type { LinkError } from './link.ts';

/** How a VXLAN link does its I/O: the native addon's batched UDP channel, or node:dgram. */
export type VxlanIo = 'native' | 'dgram';

/** What may be asked for: `auto` is native when the addon loads here, else dgram. */
export const VXLAN_IO_CHOICES = ['auto', 'native', 'dgram'] as const;

/** An `io` option. */
export type VxlanIoChoice = (typeof VXLAN_IO_CHOICES)[number];

/**
 * The largest datagram a VXLAN link receives or sends: the 8-byte header and a frame of up to
 * 9208 bytes, so that jumbo frames (a 9000-byte MTU, with an 802.1Q tag) fit. It sizes the
 * native backend's ring slots; both backends drop (and count) longer ones.
 */
export const VXLAN_MAX_DATAGRAM = 9216;

/** The longest frame a VXLAN link carries. */
export const VXLAN_MAX_FRAME = VXLAN_MAX_DATAGRAM - VXLAN_HEADER_LEN;

/** The link's counters. Every datagram received is counted exactly once among the rx ones. */
export interface VxlanCounters {
  /** Frames handed to the frame handler. */
  rxFrames: number;
  /** Datagrams shorter than the VXLAN header or without the I flag (RFC 7348 section 5). */
  rxBadHeader: number;
  /** Datagrams for another VNI. */
  rxWrongVni: number;
  /** Good datagrams received while no frame handler was set. */
  rxNoHandler: number;
  /** Datagrams longer than VXLAN_MAX_DATAGRAM: dropped. */
  rxTooLong: number;
  /**
   * Receive wakeups that read at least one datagram: one recvmmsg() each on the native
   * backend, one per datagram on node:dgram. Datagrams received / rxBatches is the batch size.
   */
  rxBatches: number;
  /** Frames sent (each counted once, whatever the number of remotes). */
  txFrames: number;
  /** Datagrams (frame x remote) not sent: refused by the kernel, or a frame too long. */
  txErrors: number;
  /** Frames dropped because the link was closed. */
  txClosed: number;
  /**
   * Sends made to the kernel: one flush (one sendmmsg() for every queued datagram and remote)
   * on the native backend, one per datagram on node:dgram.
   */
  txBatches: number;
  /** Socket errors reported besides failed sends (a failed receive, an error event). */
  socketErrors: number;
  /**
   * ICMP errors about datagrams sent (a remote with nothing listening on its port, a remote
   * with no route to it): read on the native backend (IP_RECVERR); node:dgram never hears of
   * them, so 0 there.
   */
  rxIcmpErrors: number;
}

/** The counters and the backend in use. */
export interface VxlanLinkStats extends VxlanCounters {
  /** The backend the link runs on. */
  io: VxlanIo;
}

/** A remote VTEP, checked. */
export interface VxlanRemote {
  readonly address: string;
  readonly port: number;
}

/** What a link gives its backend when it starts it. */
export interface VxlanIoOwner {
  /** The link's name, for errors. */
  readonly name: string;
  /** The link's counters, which the backend updates too. */
  readonly counters: VxlanCounters;
  /**
   * A datagram received, `length` bytes at `offset` in `bytes` (valid during the call only):
   * checked, counted, and its frame handed on.
   */
  receive(bytes: Uint8Array, offset: number, length: number): void;
  /**
   * The datagrams of one wakeup have all been passed to `receive` (one recvmmsg() on the
   * native backend, each datagram on node:dgram): the link's batch-end handler runs.
   */
  batchEnd(): void;
  /** Whether the link was closed (a batch stops handing frames on then). */
  isClosed(): boolean;
  /** Reports an I/O error the link survived. */
  report(error: LinkError): void;
}

/** A VXLAN link's socket: receives datagrams for its owner, and sends frames to every remote. */
export interface VxlanIoBackend {
  readonly io: VxlanIo;
  /** The address and port bound. */
  readonly local: { readonly address: string; readonly port: number };
  /** Starts receiving into `owner`; called once. */
  start(owner: VxlanIoOwner): void;
  /**
   * Encapsulates `frame` (at most VXLAN_MAX_FRAME bytes) and sends it to every remote. Copies
   * it before returning; never throws for I/O (failures are counted in txErrors and reported).
   */
  send(frame: Uint8Array): void;
  /**
   * Optional: a transmit slot's frame area (at least `length` bytes, at most
   * VXLAN_MAX_FRAME) for a frame written in place, sent by `commitTransmit(length)` as `send`
   * would send it (see Link.transmitBuffer).
   */
  transmitBuffer?(length: number): Uint8Array;
  /** Queues the frame of `length` bytes written into the last `transmitBuffer`. */
  commitTransmit?(length: number): void;
  /** Optional: sends what is queued now rather than in a microtask (see Link.flush). */
  flush?(): void;
  /** Sends what is still queued, then closes the socket. */
  close(): Promise<void>;
}
