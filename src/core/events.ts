/**
 * What the engine reports besides frames: route-socket-like events about table entries
 * (RTM_ADD, RTM_RESOLVE, RTM_CHANGE, RTM_DELETE, RTM_MISS) and the seed's log(9) lines,
 * with their exact text, which operators grep for. The daemon decides where they go.
 */
import { formatIpv4, formatMac, type Ipv4, type Mac } from '../wire/addr.ts';

/** syslog(3) priorities the seed logs at. */
export type LogLevel = 'err' | 'warning' | 'info' | 'debug';

/** Route-socket-like entry events (route(4) message types, lower-cased). */
export type RouteEventType = 'add' | 'resolve' | 'change' | 'delete' | 'miss';

/** An entry was created, resolved, changed, deleted, or gave up (down). */
export interface RouteEvent {
  readonly kind: 'route';
  readonly type: RouteEventType;
  /** Interface name ("vx0"). */
  readonly ifName: string;
  /** The neighbour's IPv4 address, dotted. */
  readonly ip: string;
  /** Its MAC when known, else undefined. */
  readonly mac: string | undefined;
  /** Why: "learned", "request", "admin", "expired", "moved", "maxtries", ... */
  readonly reason: string;
}

/** A log line: `message` is the seed's text without the trailing newline. */
export interface LogEvent {
  readonly kind: 'log';
  readonly level: LogLevel;
  readonly message: string;
  /**
   * Lines of the same kind suppressed by `log_ratelimit` since the last one let through;
   * present only when some were (FreeBSD's ppsratecheck drops them without a word).
   */
  readonly suppressed?: number;
}

/** Anything the engine reports. */
export type EngineEvent = RouteEvent | LogEvent;

/** Builds a route event. */
export function routeEvent(
  type: RouteEventType,
  ifName: string,
  ip: Ipv4,
  mac: Mac | undefined,
  reason: string,
): RouteEvent {
  return {
    kind: 'route',
    type,
    ifName,
    ip: ipText(ip),
    mac: mac === undefined ? undefined : macText(mac),
    reason,
  };
}

/** "0".."255" and "00".."ff": an event formats an address by joining table entries. */
const DECIMAL_OCTETS = Array.from({ length: 256 }, (_, i) => String(i));
const HEX_OCTETS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * formatIpv4, from a table: a table that churns (a flood, a scan, a mass expiry) reports an
 * event or two per entry, and the formatting was most of their cost.
 */
function ipText(ip: Ipv4): string {
  if (ip !== ip >>> 0) return formatIpv4(ip);
  return `${DECIMAL_OCTETS[ip >>> 24]}.${DECIMAL_OCTETS[(ip >>> 16) & 0xff]}.${DECIMAL_OCTETS[(ip >>> 8) & 0xff]}.${DECIMAL_OCTETS[ip & 0xff]}`;
}

/** formatMac, from a table (see `ipText`); anything but a MAC-48 integer goes to formatMac. */
function macText(mac: Mac): string {
  if (!(mac >= 0 && mac <= 0xffff_ffff_ffff && Number.isInteger(mac))) return formatMac(mac);
  const high = (mac * 2 ** -32) | 0;
  const low = mac >>> 0;
  return `${HEX_OCTETS[high >>> 8]}:${HEX_OCTETS[high & 0xff]}:${HEX_OCTETS[low >>> 24]}:${HEX_OCTETS[(low >>> 16) & 0xff]}:${HEX_OCTETS[(low >>> 8) & 0xff]}:${HEX_OCTETS[low & 0xff]}`;
}

/** Builds a log event; `suppressed` is left out when 0. */
export function logEvent(level: LogLevel, message: string, suppressed = 0): LogEvent {
  return suppressed > 0
    ? { kind: 'log', level, message, suppressed }
    : { kind: 'log', level, message };
}

/** %*D of a hardware address with ':' between octets, for any length (hln may not be 6). */
function hexBytes(bytes: Uint8Array, separator: string): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    out += (i === 0 ? '' : separator) + bytes[i]!.toString(16).padStart(2, '0');
  }
  return out;
}

/**
 * The seed's log messages, one builder each, with the text of if_ether.c. The line number
 * in each comment is where the seed logs it. The last few are netarp's own (the arpwatch
 * report), worded as arpwatch(8) words them. Each builder is one kind for `log_ratelimit`.
 */
export const LogText = {
  /** arpintr, l.588 */
  runtPullupFailed: (): string => 'arp: runt packet -- m_pullup failed',
  /** arpintr, l.595: %2D with "" prints the two bytes of ar_hrd as hex. */
  unknownHardware: (hardwareType: number): string =>
    `arp: unknown hardware address format (0x${hardwareType.toString(16).padStart(4, '0')})`,
  /** arpintr, l.603 */
  runt: (): string => 'arp: runt packet',
  /** in_arpinput, l.855 */
  inArpRunt: (): string => 'in_arp: runt packet -- m_pullup failed',
  /** arp_update_oncpu, l.717 */
  wrongInterface: (ip: Ipv4, entryIf: string, sha: Uint8Array, rcvIf: string): string =>
    `arp: ${formatIpv4(ip)} is on ${entryIf} but got reply from ${hexBytes(sha, ':')} on ${rcvIf}`,
  /** arp_update_oncpu, l.740 */
  moved: (ip: Ipv4, from: Mac, to: Uint8Array, ifName: string): string =>
    `arp: ${formatIpv4(ip)} moved from ${formatMac(from)} to ${hexBytes(to, ':')} on ${ifName}`,
  /** arp_update_oncpu, l.750 */
  permanentModify: (sha: Uint8Array, ip: Ipv4, ifName: string): string =>
    `arp: ${hexBytes(sha, ':')} attempts to modify permanent entry for ${formatIpv4(ip)} on ${ifName}`,
  /** arp_update_oncpu, l.765 (the seed has no newline here) */
  newAddrLen: (sha: Uint8Array, newLen: number, wasLen: number): string =>
    `arp from ${hexBytes(sha, ':')}: new addr len ${newLen}, was ${wasLen}`,
  /** arp_update_oncpu, l.772 */
  addrLenIgnored: (sha: Uint8Array, newLen: number, ifLen: number): string =>
    `arp from ${hexBytes(sha, ':')}: addr len: new ${newLen}, i/f ${ifLen} (ignored)`,
  /** in_arpinput, l.1006 */
  broadcastSender: (ip: Ipv4): string =>
    `arp: link address is broadcast for IP address ${formatIpv4(ip)}!`,
  /** in_arpinput, l.1013 */
  usingMyIp: (sha: Uint8Array, ip: Ipv4): string =>
    `arp: ${hexBytes(sha, ':')} is using my IP address ${formatIpv4(ip)}!`,
  /** arplookup, l.1198 */
  lookupFailed: (ip: Ipv4, why: string): string => `arplookup ${formatIpv4(ip)} failed: ${why}`,
  /** arpresolve, l.506 */
  cantAllocate: (ip: Ipv4, haveEntry: boolean, haveRoute: boolean): string =>
    `arpresolve: can't allocate llinfo for ${formatIpv4(ip)}${haveEntry ? 'la' : ' '}${haveRoute ? 'rt' : ''}`,
  /** in_arpinput under DEBUG_PROXY, l.1082 */
  proxying: (ip: Ipv4): string => `arp: proxying for ${formatIpv4(ip)}`,
  /** netarp's arpwatch: an address heard for the first time. */
  newStation: (ip: Ipv4, mac: Mac, ifName: string): string =>
    `arp: new station ${formatIpv4(ip)} ${formatMac(mac)} on ${ifName}`,
  /** netarp's arpwatch: an address heard with a new MAC (the old one in parentheses). */
  changedAddress: (ip: Ipv4, mac: Mac, previous: Mac, ifName: string): string =>
    `arp: changed ethernet address ${formatIpv4(ip)} ${formatMac(mac)} (${formatMac(previous)}) on ${ifName}`,
  /** netarp's arpwatch: an address back at the MAC it had before (the one left in parentheses). */
  flipFlop: (ip: Ipv4, mac: Mac, previous: Mac, ifName: string): string =>
    `arp: flip flop ${formatIpv4(ip)} ${formatMac(mac)} (${formatMac(previous)}) on ${ifName}`,
} as const;

/** A kind of log line (a `LogText` builder's name), the unit `log_ratelimit` counts in. */
export type LogKind = keyof typeof LogText;
