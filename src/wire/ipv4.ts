/**
 * IPv4 headers (RFC 791) and the Internet checksum (RFC 1071).
 *
 * Layout (offsets in bytes):
 * ```
 *  0 version(4) | ihl(4)   1 type of service   2 total length (u16)
 *  4 identification (u16)  6 flags(3) | fragment offset(13)
 *  8 ttl  9 protocol  10 header checksum (u16)  12 source  16 destination  20 options...
 * ```
 * netarp only needs IPv4 to answer `ping` and to describe frames, so options are skipped,
 * not interpreted: a header with IHL > 5 is accepted and its payload starts after them.
 */
import { type Ipv4, readIpv4, writeIpv4 } from './addr.ts';

/** Bytes in an IPv4 header without options (IHL = 5). */
export const IPV4_HEADER_LEN = 20;
/** Default time to live of packets we originate (RFC 1700 / Linux and BSD `net.inet.ip.ttl`). */
export const IPV4_DEFAULT_TTL = 64;

/** Protocol numbers netarp knows by name (IANA); any other value is carried as a number. */
export const IpProtocol = { Icmp: 1, Tcp: 6, Udp: 17 } as const;

/** Why bytes cannot be viewed as an IPv4 packet (what `Ipv4Packet.checked` rejects). */
export type Ipv4HeaderError =
  | { readonly kind: 'truncated'; readonly length: number }
  | { readonly kind: 'bad-version'; readonly version: number }
  | { readonly kind: 'bad-ihl'; readonly ihl: number }
  | { readonly kind: 'bad-total-length'; readonly totalLength: number; readonly length: number };

/** Why bytes are not an IPv4 packet netarp accepts (what `parseIpv4Packet` rejects). */
export type Ipv4Error =
  | Ipv4HeaderError
  | { readonly kind: 'bad-checksum'; readonly checksum: number };

/**
 * The Internet checksum (RFC 1071): the one's complement of the one's complement sum of the
 * big-endian 16-bit words of `length` bytes at `offset`, an odd last byte padded with zero.
 * Over a header that holds its own correct checksum the result is 0. Bytes past the end of
 * `bytes` count as zero, so a bad range gives a wrong sum, never an exception.
 */
export function internetChecksum(bytes: Uint8Array, offset: number, length: number): number {
  let sum = 0;
  const end = offset + length;
  let i = offset;
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8;
  // Fold the carries back in (RFC 1071 section 4.1); division keeps sums above 2^32 exact.
  while (sum > 0xffff) sum = (sum % 0x1_0000) + Math.floor(sum / 0x1_0000);
  return ~sum & 0xffff;
}

/** A checked, allocation-free view over an IPv4 packet (the checksum is verified by parse). */
export class Ipv4Packet {
  private constructor(readonly bytes: Uint8Array) {}

  /** Wraps `bytes` after checking version, IHL and that the total length fits the buffer. */
  static checked(bytes: Uint8Array): Ipv4Packet | Ipv4HeaderError {
    if (bytes.length < IPV4_HEADER_LEN) return { kind: 'truncated', length: bytes.length };
    const packet = new Ipv4Packet(bytes);
    if (packet.version !== 4) return { kind: 'bad-version', version: packet.version };
    if (packet.ihl < 5) return { kind: 'bad-ihl', ihl: packet.ihl };
    // The total length must cover the header and fit in what the link delivered; bytes
    // beyond it are Ethernet padding (a 60-byte minimum frame), not payload.
    const totalLength = packet.totalLength;
    if (totalLength < packet.headerLength || totalLength > bytes.length) {
      return { kind: 'bad-total-length', totalLength, length: bytes.length };
    }
    return packet;
  }

  /** Version (4 for IPv4). */
  get version(): number {
    return this.bytes[0]! >>> 4;
  }
  /** Internet header length in 32-bit words (5 without options). */
  get ihl(): number {
    return this.bytes[0]! & 0x0f;
  }
  /** Header length in bytes (IHL * 4). */
  get headerLength(): number {
    return this.ihl * 4;
  }
  /** Type of service byte (DSCP and ECN, RFC 2474 / RFC 3168). */
  get typeOfService(): number {
    return this.bytes[1]!;
  }
  /** Total length of header and payload in bytes. */
  get totalLength(): number {
    return (this.bytes[2]! << 8) | this.bytes[3]!;
  }
  /** Identification, used to reassemble fragments. */
  get identification(): number {
    return (this.bytes[4]! << 8) | this.bytes[5]!;
  }
  /** The DF flag: the packet must not be fragmented. */
  get dontFragment(): boolean {
    return (this.bytes[6]! & 0x40) !== 0;
  }
  /** The MF flag: more fragments follow. */
  get moreFragments(): boolean {
    return (this.bytes[6]! & 0x20) !== 0;
  }
  /** Fragment offset in 8-byte units. */
  get fragmentOffset(): number {
    return ((this.bytes[6]! & 0x1f) << 8) | this.bytes[7]!;
  }
  /** Time to live. */
  get ttl(): number {
    return this.bytes[8]!;
  }
  /** Protocol of the payload (1 = ICMP). */
  get protocol(): number {
    return this.bytes[9]!;
  }
  /** The header checksum field as received. */
  get checksum(): number {
    return (this.bytes[10]! << 8) | this.bytes[11]!;
  }
  /** Whether the header checksum verifies (the sum over the header, options included, is 0). */
  get checksumValid(): boolean {
    return internetChecksum(this.bytes, 0, this.headerLength) === 0;
  }
  /** Source address. */
  get source(): Ipv4 {
    return readIpv4(this.bytes, 12);
  }
  /** Destination address. */
  get destination(): Ipv4 {
    return readIpv4(this.bytes, 16);
  }
  /** The bytes after the header (options skipped) up to the total length; a subarray. */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.headerLength, this.totalLength);
  }
}

/** A parsed IPv4 header (options are not represented; emit writes none). */
export interface Ipv4Repr {
  readonly source: Ipv4;
  readonly destination: Ipv4;
  readonly protocol: number;
  readonly ttl: number;
  readonly typeOfService: number;
  readonly identification: number;
  readonly dontFragment: boolean;
  readonly moreFragments: boolean;
  /** In 8-byte units, as on the wire. */
  readonly fragmentOffset: number;
  /** Bytes after the header: total length minus header length. */
  readonly payloadLength: number;
}

/** Checks `bytes` and parses its header, verifying the header checksum (RFC 791 / RFC 1122 3.2.1.2). */
export function parseIpv4Packet(bytes: Uint8Array): Ipv4Repr | Ipv4Error {
  const packet = Ipv4Packet.checked(bytes);
  if (!(packet instanceof Ipv4Packet)) return packet;
  // RFC 1122 section 3.2.1.2: "A host MUST verify the IP header checksum on every received
  // datagram and silently discard every datagram that has a bad checksum."
  if (!packet.checksumValid) return { kind: 'bad-checksum', checksum: packet.checksum };
  return {
    source: packet.source,
    destination: packet.destination,
    protocol: packet.protocol,
    ttl: packet.ttl,
    typeOfService: packet.typeOfService,
    identification: packet.identification,
    dontFragment: packet.dontFragment,
    moreFragments: packet.moreFragments,
    fragmentOffset: packet.fragmentOffset,
    payloadLength: packet.totalLength - packet.headerLength,
  };
}

/** Writes a 20-byte header (IHL 5, no options) with its checksum into `bytes` at `offset`. */
export function emitIpv4Header(bytes: Uint8Array, offset: number, repr: Ipv4Repr): void {
  const totalLength = IPV4_HEADER_LEN + repr.payloadLength;
  const flags = (repr.dontFragment ? 0x40 : 0) | (repr.moreFragments ? 0x20 : 0);
  bytes[offset] = 0x45;
  bytes[offset + 1] = repr.typeOfService;
  bytes[offset + 2] = totalLength >>> 8;
  bytes[offset + 3] = totalLength & 0xff;
  bytes[offset + 4] = repr.identification >>> 8;
  bytes[offset + 5] = repr.identification & 0xff;
  bytes[offset + 6] = flags | ((repr.fragmentOffset >>> 8) & 0x1f);
  bytes[offset + 7] = repr.fragmentOffset & 0xff;
  bytes[offset + 8] = repr.ttl;
  bytes[offset + 9] = repr.protocol;
  bytes[offset + 10] = 0;
  bytes[offset + 11] = 0;
  writeIpv4(bytes, offset + 12, repr.source);
  writeIpv4(bytes, offset + 16, repr.destination);
  const checksum = internetChecksum(bytes, offset, IPV4_HEADER_LEN);
  bytes[offset + 10] = checksum >>> 8;
  bytes[offset + 11] = checksum & 0xff;
}

/** Builds a packet: a header whose payload length is `payload.length`, then a copy of it. */
export function buildIpv4Packet(
  repr: Omit<Ipv4Repr, 'payloadLength'>,
  payload: Uint8Array,
): Uint8Array {
  const packet = new Uint8Array(IPV4_HEADER_LEN + payload.length);
  emitIpv4Header(packet, 0, { ...repr, payloadLength: payload.length });
  packet.set(payload, IPV4_HEADER_LEN);
  return packet;
}
