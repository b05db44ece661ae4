/**
 * Ethernet II framing (IEEE 802.3 with an EtherType): 6-byte destination, 6-byte source,
 * 2-byte EtherType, then the payload. The frame check sequence is not part of what links
 * hand us. A checked view reads fields in place; `EthernetRepr` is the parsed form.
 */
import { type Mac, readMac, writeMac } from './addr.ts';

/** Bytes in an Ethernet II header. */
export const ETHERNET_HEADER_LEN = 14;
/** The smallest frame on the wire without its FCS (60 bytes: 14 header + 46 payload). */
export const ETHERNET_MIN_FRAME_LEN = 60;

/** EtherType values netarp knows by name; any other value is carried as a plain number. */
export const EtherType = {
  Ipv4: 0x0800,
  Arp: 0x0806,
  Vlan: 0x8100,
  Ipv6: 0x86dd,
} as const;

/** Why bytes are not an Ethernet frame. */
export type EthernetError = { readonly kind: 'truncated'; readonly length: number };

/** A checked, allocation-free view over an Ethernet II frame. */
export class EthernetFrame {
  private constructor(readonly bytes: Uint8Array) {}

  /** Wraps `bytes` after checking it holds at least a header. */
  static checked(bytes: Uint8Array): EthernetFrame | EthernetError {
    if (bytes.length < ETHERNET_HEADER_LEN) return { kind: 'truncated', length: bytes.length };
    return new EthernetFrame(bytes);
  }

  /** Destination MAC. */
  get destination(): Mac {
    return readMac(this.bytes, 0);
  }
  /** Source MAC. */
  get source(): Mac {
    return readMac(this.bytes, 6);
  }
  /** EtherType (big-endian u16 at offset 12). */
  get etherType(): number {
    return (this.bytes[12]! << 8) | this.bytes[13]!;
  }
  /** The bytes after the header (a subarray, not a copy). */
  get payload(): Uint8Array {
    return this.bytes.subarray(ETHERNET_HEADER_LEN);
  }
}

/** A parsed Ethernet II header. */
export interface EthernetRepr {
  readonly destination: Mac;
  readonly source: Mac;
  readonly etherType: number;
}

/** Parses the header of a checked frame. */
export function parseEthernet(frame: EthernetFrame): EthernetRepr {
  return { destination: frame.destination, source: frame.source, etherType: frame.etherType };
}

/** Writes an Ethernet II header into `bytes` at `offset` (14 bytes). */
export function emitEthernetHeader(
  bytes: Uint8Array,
  offset: number,
  destination: Mac,
  source: Mac,
  etherType: number,
): void {
  writeMac(bytes, offset, destination);
  writeMac(bytes, offset + 6, source);
  bytes[offset + 12] = etherType >>> 8;
  bytes[offset + 13] = etherType & 0xff;
}

/** Builds a frame: header plus a copy of `payload`. */
export function buildEthernetFrame(repr: EthernetRepr, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(ETHERNET_HEADER_LEN + payload.length);
  emitEthernetHeader(frame, 0, repr.destination, repr.source, repr.etherType);
  frame.set(payload, ETHERNET_HEADER_LEN);
  return frame;
}
