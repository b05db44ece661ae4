/**
 * VXLAN encapsulation (RFC 7348 section 5): an 8-byte header in front of an Ethernet frame,
 * carried in UDP to port 4789.
 *
 * Layout:
 * ```
 *  0 flags (RRRRIRRR)  1..3 reserved  4..6 VXLAN Network Identifier (24 bits)  7 reserved
 * ```
 */

/** Bytes in a VXLAN header. */
export const VXLAN_HEADER_LEN = 8;
/** The I flag: "MUST be set to 1 for a valid VXLAN Network ID (VNI)" (RFC 7348 section 5). */
export const VXLAN_FLAG_I = 0x08;
/** The IANA-assigned UDP destination port (RFC 7348 section 5). */
export const VXLAN_UDP_PORT = 4789;
/** The largest VNI (24 bits). */
export const VXLAN_MAX_VNI = 0xff_ffff;

/** Why bytes are not a VXLAN packet. */
export type VxlanError =
  | { readonly kind: 'truncated'; readonly length: number }
  | { readonly kind: 'flags-missing-I'; readonly flags: number };

/** A checked, allocation-free view over a VXLAN packet (the UDP payload). */
export class VxlanPacket {
  private constructor(readonly bytes: Uint8Array) {}

  /** Wraps `bytes` after checking it holds the 8-byte header. */
  static checked(bytes: Uint8Array): VxlanPacket | Extract<VxlanError, { kind: 'truncated' }> {
    if (bytes.length < VXLAN_HEADER_LEN) return { kind: 'truncated', length: bytes.length };
    return new VxlanPacket(bytes);
  }

  /** The flags byte (only I is defined). */
  get flags(): number {
    return this.bytes[0]!;
  }
  /** The 24-bit VXLAN Network Identifier. */
  get vni(): number {
    return (this.bytes[4]! << 16) | (this.bytes[5]! << 8) | this.bytes[6]!;
  }
  /** The encapsulated Ethernet frame (a subarray). */
  get payload(): Uint8Array {
    return this.bytes.subarray(VXLAN_HEADER_LEN);
  }
}

/** A parsed VXLAN packet. `payload` is a subarray of the parsed bytes, not a copy. */
export interface VxlanRepr {
  readonly vni: number;
  readonly payload: Uint8Array;
}

/** Checks `bytes` and parses it; the reserved bits are ignored on receipt (RFC 7348 section 5). */
export function parseVxlan(bytes: Uint8Array): VxlanRepr | VxlanError {
  const packet = VxlanPacket.checked(bytes);
  if (!(packet instanceof VxlanPacket)) return packet;
  // RFC 7348 section 5: the I flag "MUST be set to 1 for a valid VXLAN Network ID (VNI). The
  // other 7 bits (designated "R") are reserved fields and MUST be set to zero on transmission
  // and ignored on receipt."
  if ((packet.flags & VXLAN_FLAG_I) === 0) return { kind: 'flags-missing-I', flags: packet.flags };
  return { vni: packet.vni, payload: packet.payload };
}

/** Writes an 8-byte header for `vni` (I set, reserved fields zero) into `bytes` at `offset`. */
export function emitVxlanHeader(bytes: Uint8Array, offset: number, vni: number): void {
  bytes[offset] = VXLAN_FLAG_I;
  bytes[offset + 1] = 0;
  bytes[offset + 2] = 0;
  bytes[offset + 3] = 0;
  bytes[offset + 4] = (vni >>> 16) & 0xff;
  bytes[offset + 5] = (vni >>> 8) & 0xff;
  bytes[offset + 6] = vni & 0xff;
  bytes[offset + 7] = 0;
}

/** Builds a VXLAN packet: the header for `vni` then a copy of `frame`. */
export function encapsulateVxlan(vni: number, frame: Uint8Array): Uint8Array {
  const packet = new Uint8Array(VXLAN_HEADER_LEN + frame.length);
  emitVxlanHeader(packet, 0, vni);
  packet.set(frame, VXLAN_HEADER_LEN);
  return packet;
}
