/**
 * Link-layer (MAC-48) and IPv4 addresses as plain numbers.
 *
 * The engine keys its tables by address and compares addresses on every frame, so both are
 * kept as numbers rather than objects: an IPv4 address is an unsigned 32-bit integer
 * (`0xc0000201` is 192.0.2.1) and a MAC address is a 48-bit integer, exact in a double
 * (`0x020000000001` is 02:00:00:00:00:01). These helpers parse, format, read and write them.
 */

/** An IPv4 address as an unsigned 32-bit integer in network order (192.0.2.1 = 0xc0000201). */
export type Ipv4 = number;
/** A MAC-48 address as a 48-bit unsigned integer (02:00:00:00:00:01 = 0x020000000001). */
export type Mac = number;

const TWO_32 = 0x1_0000_0000;

/** ff:ff:ff:ff:ff:ff */
export const MAC_BROADCAST: Mac = 0xffff_ffff_ffff;
/** 00:00:00:00:00:00, the "unknown" target hardware address of an ARP request. */
export const MAC_ZERO: Mac = 0;
/** 0.0.0.0 (INADDR_ANY). */
export const IPV4_ANY: Ipv4 = 0;
/** 255.255.255.255 (INADDR_BROADCAST). */
export const IPV4_BROADCAST: Ipv4 = 0xffff_ffff;

/** Whether the MAC is a group (multicast or broadcast) address: the I/G bit of the first octet. */
export function isGroupMac(mac: Mac): boolean {
  return Math.floor(mac / 0x100_0000_0000) % 2 === 1;
}

/**
 * Whether `mac` can be a station's own address: a 48-bit integer, not zero and not a group
 * address (Linux's is_valid_ether_addr).
 */
export function isUnicastMac(mac: number): boolean {
  return Number.isInteger(mac) && mac > 0 && mac <= MAC_BROADCAST && !isGroupMac(mac);
}

/** Whether `s` is a MAC written as six hex octets separated by ':' or '-' (1 or 2 digits each). */
export function isValidMac(s: string): boolean {
  return parseMacOrUndefined(s) !== undefined;
}

/** Parses "02:00:00:00:00:01" (also '-' separated, one-digit octets as BSD arp(8) accepts). */
export function parseMacOrUndefined(s: string): Mac | undefined {
  const parts = s.split(/[:-]/);
  if (parts.length !== 6) return undefined;
  let mac = 0;
  for (const part of parts) {
    if (!/^[0-9a-fA-F]{1,2}$/.test(part)) return undefined;
    mac = mac * 256 + Number.parseInt(part, 16);
  }
  return mac;
}

/** Parses a MAC; throws a TypeError naming the bad text. */
export function parseMac(s: string): Mac {
  const mac = parseMacOrUndefined(s);
  if (mac === undefined) throw new TypeError(`invalid MAC address: ${JSON.stringify(s)}`);
  return mac;
}

/** Formats a MAC as six lower-case two-digit hex octets separated by ':' (BSD's %6D). */
export function formatMac(mac: Mac): string {
  let out = '';
  for (let shift = 5; shift >= 0; shift--) {
    const octet = Math.floor(mac / 256 ** shift) % 256;
    out += (shift === 5 ? '' : ':') + octet.toString(16).padStart(2, '0');
  }
  return out;
}

/** Reads a MAC from six bytes at `offset` (the caller has checked the length). */
export function readMac(bytes: Uint8Array, offset: number): Mac {
  const high = (bytes[offset]! << 8) | bytes[offset + 1]!;
  const low =
    ((bytes[offset + 2]! << 24) |
      (bytes[offset + 3]! << 16) |
      (bytes[offset + 4]! << 8) |
      bytes[offset + 5]!) >>>
    0;
  return high * TWO_32 + low;
}

/** Writes a MAC into six bytes at `offset`. */
export function writeMac(bytes: Uint8Array, offset: number, mac: Mac): void {
  const high = Math.floor(mac / TWO_32);
  const low = mac >>> 0;
  bytes[offset] = high >>> 8;
  bytes[offset + 1] = high & 0xff;
  bytes[offset + 2] = low >>> 24;
  bytes[offset + 3] = (low >>> 16) & 0xff;
  bytes[offset + 4] = (low >>> 8) & 0xff;
  bytes[offset + 5] = low & 0xff;
}

/** Whether `s` is a dotted-quad IPv4 address (four decimal octets, no leading zeros beyond "0"). */
export function isValidIpv4(s: string): boolean {
  return parseIpv4OrUndefined(s) !== undefined;
}

/** Parses a dotted quad such as "192.0.2.1"; undefined when it is not one. */
export function parseIpv4OrUndefined(s: string): Ipv4 | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let ip = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    ip = ip * 256 + octet;
  }
  return ip;
}

/** Parses a dotted quad; throws a TypeError naming the bad text. */
export function parseIpv4(s: string): Ipv4 {
  const ip = parseIpv4OrUndefined(s);
  if (ip === undefined) throw new TypeError(`invalid IPv4 address: ${JSON.stringify(s)}`);
  return ip;
}

/** Formats an IPv4 address as a dotted quad (inet_ntoa). */
export function formatIpv4(ip: Ipv4): string {
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}

/** Reads an IPv4 address from four bytes at `offset`. */
export function readIpv4(bytes: Uint8Array, offset: number): Ipv4 {
  return (
    ((bytes[offset]! << 24) |
      (bytes[offset + 1]! << 16) |
      (bytes[offset + 2]! << 8) |
      bytes[offset + 3]!) >>>
    0
  );
}

/** Writes an IPv4 address into four bytes at `offset`. */
export function writeIpv4(bytes: Uint8Array, offset: number, ip: Ipv4): void {
  bytes[offset] = ip >>> 24;
  bytes[offset + 1] = (ip >>> 16) & 0xff;
  bytes[offset + 2] = (ip >>> 8) & 0xff;
  bytes[offset + 3] = ip & 0xff;
}

/** The netmask of a prefix length 0..32 as an unsigned integer (24 -> 0xffffff00). */
export function prefixMask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffff_ffff << (32 - prefixLength)) >>> 0;
}

/** An IPv4 address with its prefix length, as in "192.0.2.1/24". */
export interface Ipv4Cidr {
  readonly address: Ipv4;
  readonly prefixLength: number;
}

/** Parses "192.0.2.1/24" (a bare address means /32); undefined when malformed. */
export function parseCidrOrUndefined(s: string): Ipv4Cidr | undefined {
  const slash = s.indexOf('/');
  const address = parseIpv4OrUndefined(slash < 0 ? s : s.slice(0, slash));
  if (address === undefined) return undefined;
  if (slash < 0) return { address, prefixLength: 32 };
  const lengthText = s.slice(slash + 1);
  if (!/^(0|[1-9][0-9]?)$/.test(lengthText)) return undefined;
  const prefixLength = Number(lengthText);
  if (prefixLength > 32) return undefined;
  return { address, prefixLength };
}

/** Parses "192.0.2.1/24"; throws a TypeError naming the bad text. */
export function parseCidr(s: string): Ipv4Cidr {
  const cidr = parseCidrOrUndefined(s);
  if (cidr === undefined) throw new TypeError(`invalid IPv4 prefix: ${JSON.stringify(s)}`);
  return cidr;
}

/** Formats an address with its prefix length. */
export function formatCidr(cidr: Ipv4Cidr): string {
  return `${formatIpv4(cidr.address)}/${cidr.prefixLength}`;
}

/** Whether `ip` is in 224.0.0.0/4 (IN_MULTICAST). */
export function isMulticastIpv4(ip: Ipv4): boolean {
  return ip >>> 28 === 0xe;
}

/**
 * The Ethernet group address an IPv4 multicast address maps to (RFC 1112 section 6.4):
 * 01:00:5e followed by the low 23 bits of the group (ETHER_MAP_IP_MULTICAST).
 */
export function multicastMac(ip: Ipv4): Mac {
  return 0x01005e_000000 + (ip & 0x7f_ffff);
}
