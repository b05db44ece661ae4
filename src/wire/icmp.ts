/**
 * ICMP echo request and reply (RFC 792), enough for `ping` to a netarp host.
 *
 * Layout:
 * ```
 *  0 type  1 code  2 checksum (u16)  4 identifier (u16)  6 sequence number (u16)  8 data...
 * ```
 * The checksum covers the whole ICMP message (RFC 792: "the 16-bit one's complement of the
 * one's complement sum of the ICMP message starting with the ICMP Type").
 */
import {
  emitIpv4Header,
  IPV4_DEFAULT_TTL,
  IPV4_HEADER_LEN,
  IpProtocol,
  type Ipv4Repr,
  internetChecksum,
} from './ipv4.ts';

/** Bytes in an ICMP header (type, code, checksum and the 4-byte rest of header). */
export const ICMP_HEADER_LEN = 8;

/** ICMP types netarp knows by name (RFC 792); any other value is carried as a number. */
export const IcmpType = {
  EchoReply: 0,
  DestinationUnreachable: 3,
  EchoRequest: 8,
  TimeExceeded: 11,
} as const;

/** Why bytes are not an ICMP echo message netarp accepts. */
export type IcmpError =
  | { readonly kind: 'truncated'; readonly length: number }
  | { readonly kind: 'bad-checksum'; readonly checksum: number }
  | { readonly kind: 'not-echo'; readonly type: number; readonly code: number };

/** A checked, allocation-free view over an ICMP message (any type; echo accessors). */
export class IcmpPacket {
  private constructor(readonly bytes: Uint8Array) {}

  /** Wraps `bytes` (the IPv4 payload) after checking it holds at least the 8-byte header. */
  static checked(bytes: Uint8Array): IcmpPacket | Extract<IcmpError, { kind: 'truncated' }> {
    if (bytes.length < ICMP_HEADER_LEN) return { kind: 'truncated', length: bytes.length };
    return new IcmpPacket(bytes);
  }

  /** Type (0 echo reply, 8 echo request). */
  get type(): number {
    return this.bytes[0]!;
  }
  /** Code (0 for echo). */
  get code(): number {
    return this.bytes[1]!;
  }
  /** The checksum field as received. */
  get checksum(): number {
    return (this.bytes[2]! << 8) | this.bytes[3]!;
  }
  /** Whether the checksum over the whole message verifies. */
  get checksumValid(): boolean {
    return internetChecksum(this.bytes, 0, this.bytes.length) === 0;
  }
  /** Echo identifier (bytes 4..5). */
  get identifier(): number {
    return (this.bytes[4]! << 8) | this.bytes[5]!;
  }
  /** Echo sequence number (bytes 6..7). */
  get sequence(): number {
    return (this.bytes[6]! << 8) | this.bytes[7]!;
  }
  /** The bytes after the header (a subarray). */
  get data(): Uint8Array {
    return this.bytes.subarray(ICMP_HEADER_LEN);
  }
}

/** A parsed echo request or reply. `data` is a subarray of the parsed bytes, not a copy. */
export interface IcmpEchoRepr {
  readonly type: number;
  readonly code: number;
  readonly identifier: number;
  readonly sequence: number;
  readonly data: Uint8Array;
}

/** Checks `bytes` (an IPv4 payload), verifies the checksum and parses an echo request or reply. */
export function parseIcmpEcho(bytes: Uint8Array): IcmpEchoRepr | IcmpError {
  const packet = IcmpPacket.checked(bytes);
  if (!(packet instanceof IcmpPacket)) return packet;
  if (!packet.checksumValid) return { kind: 'bad-checksum', checksum: packet.checksum };
  const type = packet.type;
  if (type !== IcmpType.EchoRequest && type !== IcmpType.EchoReply) {
    return { kind: 'not-echo', type, code: packet.code };
  }
  return {
    type,
    code: packet.code,
    identifier: packet.identifier,
    sequence: packet.sequence,
    data: packet.data,
  };
}

/** The length `emitIcmpEcho` writes: header plus data. */
export function icmpEchoByteLength(repr: IcmpEchoRepr): number {
  return ICMP_HEADER_LEN + repr.data.length;
}

/** Writes an echo message with its checksum into `bytes` at `offset` (icmpEchoByteLength bytes). */
export function emitIcmpEcho(bytes: Uint8Array, offset: number, repr: IcmpEchoRepr): void {
  bytes[offset] = repr.type;
  bytes[offset + 1] = repr.code;
  bytes[offset + 2] = 0;
  bytes[offset + 3] = 0;
  bytes[offset + 4] = repr.identifier >>> 8;
  bytes[offset + 5] = repr.identifier & 0xff;
  bytes[offset + 6] = repr.sequence >>> 8;
  bytes[offset + 7] = repr.sequence & 0xff;
  bytes.set(repr.data, offset + ICMP_HEADER_LEN);
  const checksum = internetChecksum(bytes, offset, icmpEchoByteLength(repr));
  bytes[offset + 2] = checksum >>> 8;
  bytes[offset + 3] = checksum & 0xff;
}

/** Builds an echo message into fresh bytes. */
export function buildIcmpEcho(repr: IcmpEchoRepr): Uint8Array {
  const bytes = new Uint8Array(icmpEchoByteLength(repr));
  emitIcmpEcho(bytes, 0, repr);
  return bytes;
}

/**
 * The reply to an echo request. RFC 792: "the source and destination addresses are simply
 * reversed, the type code changed to 0, and the checksum recomputed"; the identifier,
 * sequence number and data are returned unchanged (RFC 1122 section 3.2.2.6).
 */
export function icmpEchoReply(request: IcmpEchoRepr): IcmpEchoRepr {
  return {
    type: IcmpType.EchoReply,
    code: 0,
    identifier: request.identifier,
    sequence: request.sequence,
    data: request.data,
  };
}

/**
 * The IPv4 packet answering an echo request that arrived in `ip` (addressed to us, unicast):
 * addresses swapped, the TOS kept as Linux does, TTL 64, and DF set with identification 0,
 * which RFC 6864 section 4.1 permits for an atomic datagram, so no per-host counter is needed.
 */
export function buildIcmpEchoReplyPacket(ip: Ipv4Repr, request: IcmpEchoRepr): Uint8Array {
  const reply = icmpEchoReply(request);
  const payloadLength = icmpEchoByteLength(reply);
  const packet = new Uint8Array(IPV4_HEADER_LEN + payloadLength);
  emitIpv4Header(packet, 0, {
    source: ip.destination,
    destination: ip.source,
    protocol: IpProtocol.Icmp,
    ttl: IPV4_DEFAULT_TTL,
    typeOfService: ip.typeOfService,
    identification: 0,
    dontFragment: true,
    moreFragments: false,
    fragmentOffset: 0,
    payloadLength,
  });
  emitIcmpEcho(packet, IPV4_HEADER_LEN, reply);
  return packet;
}
