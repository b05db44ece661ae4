/**
 * Operator commands with arp(8) semantics: add (-s/-S, temp, pub, pub only), delete (-d,
 * -d -a), list in the BSD `arp -a` line format, and the file format of `arp -f`.
 */
import {
  formatIpv4,
  formatMac,
  type Ipv4,
  type Mac,
  parseIpv4OrUndefined,
  parseMacOrUndefined,
} from '../wire/addr.ts';
import { type EntryState, entryState, NO_MAC, PERMANENT } from './entry.ts';
import { NetarpError } from './errors.ts';
import type { Interface } from './iface.ts';
import type { EngineState } from './state.ts';
import { Flag, NIL } from './table.ts';

/** An `arp -s` request. */
export interface StaticEntrySpec {
  ip: Ipv4;
  mac: Mac;
  /** Interface name; by default the one whose subnet covers `ip`. */
  ifName?: string;
  /** temp: the entry ages like a learned one (expires after max_age). */
  temp?: boolean;
  /** pub: answer requests for `ip` with `mac`. */
  pub?: boolean;
  /** pub only: answer for `ip`, but do not use the entry for our own traffic. */
  only?: boolean;
  /** -S: replace an existing permanent entry instead of failing with "File exists". */
  replace?: boolean;
}

/** One row of the table as `arp -a` and the control API show it. */
export interface EntryInfo {
  readonly ip: string;
  readonly mac: string | undefined;
  readonly ifName: string;
  readonly state: EntryState;
  /** Seconds until expiry, when the entry expires and has not yet. */
  readonly expiresIn: number | undefined;
  readonly permanent: boolean;
  readonly static: boolean;
  readonly local: boolean;
  readonly published: boolean;
  readonly proxyOnly: boolean;
  /** Packets waiting for resolution. */
  readonly held: number;
  /** Requests sent since last resolved. */
  readonly asked: number;
}

/** The interface an entry for `ip` belongs on: named, else the one whose subnet covers it. */
function interfaceFor(state: EngineState, ip: Ipv4, ifName: string | undefined): Interface {
  if (ifName !== undefined) return state.interfaces.require(ifName);
  const route = state.routes.lookup(ip);
  if (route && route.kind !== 'gateway') return route.iface;
  throw new NetarpError(
    'ENETUNREACH',
    `set: cannot intuit interface index and type for ${formatIpv4(ip)}`,
  );
}

/** arp -s / -S: adds or overwrites a static entry (its slot); EEXIST over a permanent one. */
export function addStaticEntry(state: EngineState, spec: StaticEntrySpec): number {
  const { table } = state;
  if (spec.ip !== spec.ip >>> 0) {
    throw new NetarpError('EINVAL', `ip must be an IPv4 address, got ${spec.ip}`);
  }
  const iface = interfaceFor(state, spec.ip, spec.ifName);
  const proxyOnly = spec.pub === true && spec.only === true;
  const existing = proxyOnly ? table.proxy(spec.ip) : table.host(spec.ip);
  if (existing !== NIL && table.has(existing, Flag.Local)) {
    throw new NetarpError('EEXIST', `${formatIpv4(spec.ip)}: File exists (a local address)`);
  }
  if (existing !== NIL && table.expire[existing] === PERMANENT && !spec.replace) {
    throw new NetarpError('EEXIST', `${formatIpv4(spec.ip)}: File exists`);
  }
  const slot =
    existing !== NIL
      ? existing
      : table.insert(spec.ip, iface.index, sourceFor(iface, spec.ip), proxyOnly);
  const changed =
    existing !== NIL &&
    (table.mac[existing] !== spec.mac || table.ifIndex[existing] !== iface.index);
  table.ifIndex[slot] = iface.index;
  table.mac[slot] = spec.mac;
  table.expire[slot] = spec.temp ? state.nowSec + state.config.max_age : PERMANENT;
  let flags = table.flags[slot]! | Flag.Static;
  flags &= ~(Flag.Published | Flag.ProxyOnly | Flag.Reject | Flag.RequestOutstanding);
  if (spec.pub === true) flags |= Flag.Published;
  if (proxyOnly) flags |= Flag.ProxyOnly;
  table.flags[slot] = flags;
  table.asked[slot] = 0;
  table.preempt[slot] = state.config.maxtries;
  table.macSetAt[slot] = state.nowMs;
  if (existing === NIL) {
    state.report('add', slot, 'admin');
  } else if (changed) {
    state.report('change', slot, 'admin');
  }
  // Static now: off the eviction lists, counted against no cap.
  state.relist(slot);
  // Packets waiting for this address can go now.
  state.deliverHeld(slot);
  // RTF_ANNOUNCE: a published entry is announced with its MAC (arp_rtrequest, l.238).
  if (spec.pub === true && iface.up) state.sendRequest(iface, spec.ip, spec.ip, spec.mac);
  return slot;
}

/** The interface address covering `ip`, else the first (0 when the interface has none). */
function sourceFor(iface: Interface, ip: Ipv4): Ipv4 {
  const covering = iface.addresses.find((a) => ((a.address ^ ip) & a.mask) === 0);
  return (covering ?? iface.addresses[0])?.address ?? 0;
}

/** arp -d: deletes the entry for `ip` (the proxy-only one with `pub`). Throws ENOENT/EPERM. */
export function deleteStaticEntry(state: EngineState, ip: Ipv4, pub = false): void {
  const { table } = state;
  let slot = pub ? table.proxy(ip) : table.host(ip);
  // arp(8) falls back to the published entry when there is no host entry.
  if (slot === NIL && !pub) slot = table.proxy(ip);
  if (slot === NIL) {
    throw new NetarpError('ENOENT', `${formatIpv4(ip)} (${formatIpv4(ip)}) -- no entry`);
  }
  if (table.has(slot, Flag.Local)) {
    throw new NetarpError('EPERM', `${formatIpv4(ip)}: cannot delete a local address`);
  }
  state.deleteEntry(slot, 'admin');
}

/** arp -d -a: deletes every entry but our own addresses; returns how many. */
export function flushEntries(state: EngineState): number {
  const { table } = state;
  let removed = 0;
  for (const slot of table.slots()) {
    if (table.has(slot, Flag.Local)) continue;
    state.deleteEntry(slot, 'admin');
    removed++;
  }
  return removed;
}

/** Describes the entry in `slot` at second `nowSec`. */
export function describeEntry(state: EngineState, slot: number): EntryInfo {
  const { table } = state;
  const now = state.nowSec;
  const expire = table.expire[slot]!;
  const mac = table.mac[slot]!;
  const flags = table.flags[slot]!;
  const permanent = expire === PERMANENT;
  const isLocal = (flags & Flag.Local) !== 0;
  return {
    ip: formatIpv4(table.ip[slot]!),
    mac: mac === NO_MAC ? undefined : formatMac(mac),
    ifName: state.interfaces.get(table.ifIndex[slot]!)?.name ?? '?',
    state: entryState({ isLocal, reject: (flags & Flag.Reject) !== 0, expire, mac }, now),
    expiresIn: !permanent && expire > now ? expire - now : undefined,
    permanent,
    static: (flags & Flag.Static) !== 0,
    local: isLocal,
    published: (flags & Flag.Published) !== 0,
    proxyOnly: (flags & Flag.ProxyOnly) !== 0,
    held: table.heldCount[slot]!,
    asked: table.asked[slot]!,
  };
}

/** Every entry, host entries then proxy-only ones, each in address order (as arp -a walks). */
export function listEntries(state: EngineState): EntryInfo[] {
  const { table } = state;
  const byIp = (a: number, b: number): number => table.ip[a]! - table.ip[b]!;
  const hosts: number[] = [];
  const proxies: number[] = [];
  for (const slot of table.slots()) {
    (table.has(slot, Flag.ProxyOnly) ? proxies : hosts).push(slot);
  }
  hosts.sort(byIp);
  proxies.sort(byIp);
  return [...hosts, ...proxies].map((slot) => describeEntry(state, slot));
}

/**
 * One `arp -a` line, as BSD arp(8) prints it:
 * `? (192.0.2.1) at 02:00:00:00:00:01 on vx0 expires in 1187 seconds [ethernet]`.
 * `host` is the resolved name, or "?" (always "?" with -n).
 */
export function formatArpLine(info: EntryInfo, host = '?'): string {
  let line = `${host} (${info.ip}) at ${info.mac ?? '(incomplete)'} on ${info.ifName}`;
  if (info.permanent) line += ' permanent';
  else if (info.expiresIn !== undefined) line += ` expires in ${info.expiresIn} seconds`;
  if (info.proxyOnly) line += ' published (proxy only)';
  else if (info.published) line += ' published';
  return `${line} [ethernet]`;
}

/** A parse problem in an `arp -f` file: 1-based line and what is wrong. */
export interface ArpFileError {
  readonly line: number;
  readonly message: string;
}

/**
 * Parses an `arp -f` file: one `host mac [temp] [pub [only]]` per line; blank lines and
 * lines starting with '#' are skipped. Hosts must be IPv4 addresses (the pure core does no DNS).
 */
export function parseArpFile(text: string): { entries: StaticEntrySpec[]; errors: ArpFileError[] } {
  const entries: StaticEntrySpec[] = [];
  const errors: ArpFileError[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const words = lines[i]!.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0 || words[0]!.startsWith('#')) continue;
    const parsed = parseSetWords(words);
    if (typeof parsed === 'string') errors.push({ line: i + 1, message: parsed });
    else entries.push(parsed);
  }
  return { entries, errors };
}

/** Parses the words of `arp -s host mac [temp] [pub [only]]`; a string is the error. */
export function parseSetWords(words: readonly string[]): StaticEntrySpec | string {
  const [hostText, macText, ...rest] = words;
  if (hostText === undefined || macText === undefined)
    return 'expected: host ether_addr [temp] [pub [only]]';
  const ip = parseIpv4OrUndefined(hostText);
  if (ip === undefined) return `${hostText}: not an IPv4 address`;
  const mac = parseMacOrUndefined(macText);
  if (mac === undefined) return `invalid Ethernet address '${macText}'`;
  const spec: StaticEntrySpec = { ip, mac };
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    if (word === 'temp') spec.temp = true;
    else if (word === 'pub') {
      spec.pub = true;
      if (rest[i + 1] === 'only') {
        spec.only = true;
        i++;
      }
    } else if (word === 'only') return "'only' must follow 'pub'";
    else return `unknown word '${word}'`;
  }
  return spec;
}
