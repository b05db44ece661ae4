/**
 * ARP packets (RFC 826), as if_ether.c sees them.
 *
 * Layout (struct arphdr then the four variable-length addresses):
 * ```
 *  0 hrd (u16)  2 pro (u16)  4 hln (u8)  5 pln (u8)  6 op (u16)
 *  8 sha[hln]   spa[pln]     tha[hln]    tpa[pln]
 * ```
 * The view parses any hln/pln so that the engine can reject them exactly where the seed does;
 * the Ethernet/IPv4 accessors (`senderMac`, `senderIp`, ...) assume hln = 6 and pln = 4 unless
 * said otherwise. Unknown hardware types, protocols and opcodes are values, not errors.
 */
import { type Ipv4, type Mac, readIpv4, readMac, writeIpv4, writeMac } from './addr.ts';

/** The fixed part of an ARP header (hrd, pro, hln, pln, op). */
export const ARP_FIXED_HEADER_LEN = 8;
/** An Ethernet/IPv4 ARP packet: 8 + 2 * 6 + 2 * 4. */
export const ARP_ETHER_IPV4_LEN = 28;

/** ar_hrd values the seed accepts: ARPHRD_ETHER and ARPHRD_IEEE802. */
export const ArpHardware = { Ethernet: 1, Ieee802: 6 } as const;
/** ar_op values (RFC 826; 3/4 are RARP, 8/9 InARP: carried as numbers). */
export const ArpOp = { Request: 1, Reply: 2 } as const;
/** ar_pro for IPv4 (ETHERTYPE_IP). */
export const ARP_PROTOCOL_IPV4 = 0x0800;

/** Why bytes are not an ARP packet. */
export type ArpError =
  | { readonly kind: 'truncated-header'; readonly length: number }
  | { readonly kind: 'truncated-addresses'; readonly length: number; readonly needed: number };

/** arphdr_len: the length of a packet with these address lengths. */
export function arpPacketLength(hardwareLen: number, protocolLen: number): number {
  return ARP_FIXED_HEADER_LEN + 2 * hardwareLen + 2 * protocolLen;
}

/** A checked, allocation-free view over an ARP packet (any hln/pln). */
export class ArpPacket {
  private constructor(
    readonly bytes: Uint8Array,
    readonly offset: number,
  ) {}

  /** Checks the fixed header and then the variable address area (arpintr's two runt checks). */
  static checked(bytes: Uint8Array, offset = 0): ArpPacket | ArpError {
    const length = bytes.length - offset;
    if (length < ARP_FIXED_HEADER_LEN) return { kind: 'truncated-header', length };
    const needed = arpPacketLength(bytes[offset + 4]!, bytes[offset + 5]!);
    if (length < needed) return { kind: 'truncated-addresses', length, needed };
    return new ArpPacket(bytes, offset);
  }

  /** ar_hrd */
  get hardwareType(): number {
    return (this.bytes[this.offset]! << 8) | this.bytes[this.offset + 1]!;
  }
  /** ar_pro */
  get protocolType(): number {
    return (this.bytes[this.offset + 2]! << 8) | this.bytes[this.offset + 3]!;
  }
  /** ar_hln */
  get hardwareLen(): number {
    return this.bytes[this.offset + 4]!;
  }
  /** ar_pln */
  get protocolLen(): number {
    return this.bytes[this.offset + 5]!;
  }
  /** ar_op */
  get operation(): number {
    return (this.bytes[this.offset + 6]! << 8) | this.bytes[this.offset + 7]!;
  }
  /** Offset of ar_sha in `bytes`. */
  get senderHardwareOffset(): number {
    return this.offset + ARP_FIXED_HEADER_LEN;
  }
  /** Offset of ar_spa in `bytes`. */
  get senderProtocolOffset(): number {
    return this.senderHardwareOffset + this.hardwareLen;
  }
  /** Offset of ar_tha in `bytes`. */
  get targetHardwareOffset(): number {
    return this.senderProtocolOffset + this.protocolLen;
  }
  /** Offset of ar_tpa in `bytes`. */
  get targetProtocolOffset(): number {
    return this.targetHardwareOffset + this.hardwareLen;
  }
  /** Sender hardware address bytes (hln of them; a subarray). */
  get senderHardwareBytes(): Uint8Array {
    return this.bytes.subarray(this.senderHardwareOffset, this.senderProtocolOffset);
  }
  /** The first six bytes of ar_sha as a MAC (the seed compares if_addrlen bytes). */
  get senderMac(): Mac {
    return readMac(this.bytes, this.senderHardwareOffset);
  }
  /** ar_spa as IPv4 (pln = 4). */
  get senderIp(): Ipv4 {
    return readIpv4(this.bytes, this.senderProtocolOffset);
  }
  /** ar_tha as a MAC (hln = 6). */
  get targetMac(): Mac {
    return readMac(this.bytes, this.targetHardwareOffset);
  }
  /** ar_tpa as IPv4 (pln = 4). */
  get targetIp(): Ipv4 {
    return readIpv4(this.bytes, this.targetProtocolOffset);
  }
}

/** A parsed Ethernet/IPv4 ARP packet: the only kind netarp builds. */
export interface ArpRepr {
  readonly hardwareType: number;
  readonly operation: number;
  readonly senderMac: Mac;
  readonly senderIp: Ipv4;
  readonly targetMac: Mac;
  readonly targetIp: Ipv4;
}

/** Why a checked packet is not an Ethernet/IPv4 ARP packet netarp represents. */
export type ArpReprError =
  | { readonly kind: 'unsupported-hardware'; readonly hardwareType: number }
  | { readonly kind: 'unsupported-protocol'; readonly protocolType: number }
  | {
      readonly kind: 'unsupported-lengths';
      readonly hardwareLen: number;
      readonly protocolLen: number;
    };

/** Parses a checked packet as Ethernet (or IEEE 802) hardware carrying IPv4. */
export function parseArp(packet: ArpPacket): ArpRepr | ArpReprError {
  const hardwareType = packet.hardwareType;
  if (hardwareType !== ArpHardware.Ethernet && hardwareType !== ArpHardware.Ieee802) {
    return { kind: 'unsupported-hardware', hardwareType };
  }
  if (packet.protocolType !== ARP_PROTOCOL_IPV4) {
    return { kind: 'unsupported-protocol', protocolType: packet.protocolType };
  }
  if (packet.hardwareLen !== 6 || packet.protocolLen !== 4) {
    return {
      kind: 'unsupported-lengths',
      hardwareLen: packet.hardwareLen,
      protocolLen: packet.protocolLen,
    };
  }
  return {
    hardwareType,
    operation: packet.operation,
    senderMac: packet.senderMac,
    senderIp: packet.senderIp,
    targetMac: packet.targetMac,
    targetIp: packet.targetIp,
  };
}

/** Writes an Ethernet/IPv4 ARP packet (28 bytes) into `bytes` at `offset`. */
export function emitArp(bytes: Uint8Array, offset: number, repr: ArpRepr): void {
  bytes[offset] = repr.hardwareType >>> 8;
  bytes[offset + 1] = repr.hardwareType & 0xff;
  bytes[offset + 2] = ARP_PROTOCOL_IPV4 >>> 8;
  bytes[offset + 3] = ARP_PROTOCOL_IPV4 & 0xff;
  bytes[offset + 4] = 6;
  bytes[offset + 5] = 4;
  bytes[offset + 6] = repr.operation >>> 8;
  bytes[offset + 7] = repr.operation & 0xff;
  writeMac(bytes, offset + 8, repr.senderMac);
  writeIpv4(bytes, offset + 14, repr.senderIp);
  writeMac(bytes, offset + 18, repr.targetMac);
  writeIpv4(bytes, offset + 24, repr.targetIp);
}
