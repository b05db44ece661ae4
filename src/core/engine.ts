/**
 * The ARP engine: if_ether.c as a pure state machine. Every input takes the current time in
 * milliseconds and returns (or hands to a sink) what it caused; nothing here reads a clock,
 * sets a timer or touches I/O. The runtime arms one timer at `pollTimeout()` and calls
 * `handleTimeout` when it fires.
 */
import {
  formatMac,
  type Ipv4,
  type Ipv4Cidr,
  isUnicastMac,
  MAC_BROADCAST,
  type Mac,
  parseCidr,
  parseIpv4,
} from '../wire/addr.ts';
import {
  addStaticEntry,
  deleteStaticEntry,
  describeEntry,
  type EntryInfo,
  flushEntries,
  listEntries,
  type StaticEntrySpec,
} from './admin.ts';
import { announceAddress } from './announce.ts';
import {
  type ArpConfig,
  CONFIG_KEYS,
  configKeyOf,
  makeConfig,
  SYSCTL_PREFIX,
  validateConfigValue,
} from './config.ts';
import { PERMANENT } from './entry.ts';
import { NetarpError } from './errors.ts';
import { type CarpState, type Interface, type InterfaceSpec, InterfaceTable } from './iface.ts';
import { etherInput } from './input.ts';
import { CollectingSink, type Output, type OutputSink } from './output.ts';
import { MutableResolveResult, type ResolveResult, resolveDestination } from './resolve.ts';
import { RouteTable, type StaticRoute } from './route.ts';
import { EngineState } from './state.ts';
import { type ArpStats, makeStats } from './stats.ts';
import { Flag, NeighborTable, NIL } from './table.ts';

/** Options for a new engine. */
export interface EngineOptions {
  /** Sysctl overrides by short ("max_age") or full ("net.link.ether.inet.max_age") name. */
  config?: Partial<Record<string, number>>;
}

/** The result of `resolve`: the decision, and the outputs it caused (a request, events). */
export interface ResolveOutcome {
  readonly result: ResolveResult;
  readonly outputs: Output[];
}

/** A MAC for an error message, whatever number was given. */
function formatMacLoosely(mac: number): string {
  return Number.isInteger(mac) && mac >= 0 && mac <= MAC_BROADCAST ? formatMac(mac) : String(mac);
}

/** The first prune pass runs one second after the first address appears (arp_rtrequest, l.209). */
const FIRST_PRUNE_DELAY_MS = 1000;

/**
 * The work one `handleTimeout` call may do, in units of `PRUNE_COST_EXAMINED` (an entry the
 * prune pass looks at) and `PRUNE_COST_CHANGED` (one it frees or resets, with its event, or a
 * held packet timed out): 1024 entries looked at, or 31 freed. Sized so that a call stays
 * under the performance issue's 5 ms bound on a slow, shared machine even while the code runs
 * unoptimized, as it does the first time a pass frees entries or after the compiler
 * discards code compiled for the input paths (docs/performance.md, "Timers").
 */
const TIMEOUT_BUDGET = 1024;

/** An ARP engine for a set of interfaces. */
export class Engine {
  private readonly state: EngineState;
  private readonly collector = new CollectingSink();
  /** The first millisecond of `state.nowSec` (NaN before the first input). */
  private secondStartMs = Number.NaN;
  /** Where `resolveInto` writes when its caller gives no result of its own. */
  private readonly scratchResult = new MutableResolveResult();

  constructor(options: EngineOptions = {}) {
    const interfaces = new InterfaceTable();
    this.state = new EngineState(
      makeConfig(options.config),
      interfaces,
      new RouteTable(interfaces),
      new NeighborTable(),
      makeStats(),
    );
    this.state.sink = this.collector;
  }

  // --- time -------------------------------------------------------------------------------

  private at(now: number, sink: OutputSink): EngineState {
    const state = this.state;
    // Inputs come many to a second: the second is only recomputed (a division) when `now`
    // has left the one of the previous input.
    if (!(now >= this.secondStartMs && now < this.secondStartMs + 1000)) {
      if (!Number.isFinite(now))
        throw new NetarpError('EINVAL', `now must be a finite number, got ${now}`);
      state.nowSec = Math.floor(now / 1000);
      this.secondStartMs = state.nowSec * 1000;
    }
    state.nowMs = now;
    state.sink = sink;
    return state;
  }

  private collect(): Output[] {
    this.state.sink = this.collector;
    return this.collector.take();
  }

  /**
   * When `handleTimeout` next has work (milliseconds), or undefined when it has none: the next
   * prune pass, or the moment the oldest held packet reaches `hold_timeout`. While a prune
   * pass is under way (a large table's is spread over several calls), the time of its last
   * slice: due at once.
   */
  pollTimeout(): number | undefined {
    const state = this.state;
    const prune = state.prune.active ? state.prune.resumeAt : state.nextPruneAt;
    const held = state.holdDeadline();
    if (held === undefined) return prune;
    return prune === undefined ? held : Math.min(prune, held);
  }

  /** Does the work due at `now`: held packets past `hold_timeout`, the prune pass (arptimer). */
  handleTimeout(now: number): Output[] {
    this.handleTimeoutInto(now, this.collector);
    return this.collect();
  }

  /**
   * `handleTimeout`, handing outputs to `sink`. One call does a bounded amount of work; what
   * is left is due at once (`pollTimeout`).
   */
  handleTimeoutInto(now: number, sink: OutputSink): void {
    const state = this.at(now, sink);
    const budget = state.expireHeld(now, TIMEOUT_BUDGET);
    const prune = state.prune;
    if (!prune.active) {
      if (state.nextPruneAt === undefined || now < state.nextPruneAt) return;
      prune.start(state);
      state.nextPruneAt = now + state.config.prune_intvl * 1000;
    }
    prune.resumeAt = now;
    prune.run(state, budget);
  }

  // --- inputs -----------------------------------------------------------------------------

  /** A frame received on interface `ifIndex`. Never throws on bad bytes: each drop is counted. */
  handleFrame(now: number, ifIndex: number, frame: Uint8Array): Output[] {
    this.handleFrameInto(now, ifIndex, frame, this.collector);
    return this.collect();
  }

  /** `handleFrame`, handing outputs to `sink` (frames passed to it are reused buffers). */
  handleFrameInto(now: number, ifIndex: number, frame: Uint8Array, sink: OutputSink): void {
    const state = this.at(now, sink);
    const iface = state.interfaces.get(ifIndex);
    if (!iface?.up) {
      state.stats.rxInterfaceDown++;
      return;
    }
    etherInput(state, iface, frame);
  }

  /**
   * arpresolve: the Ethernet destination for an IPv4 packet to `destination`. `packet` is
   * held if a request must go out first; it comes back as a `deliver-held` output.
   */
  resolve(now: number, destination: Ipv4, packet: Uint8Array, viaIfIndex = -1): ResolveOutcome {
    const result = this.resolveInto(now, destination, packet, this.collector, viaIfIndex);
    return { result, outputs: this.collect() };
  }

  /**
   * `resolve`, handing outputs to `sink`. Given `into`, the result is written there and
   * `into` returned, so that a caller resolving packet after packet allocates nothing;
   * otherwise a new result is returned.
   */
  resolveInto(
    now: number,
    destination: Ipv4,
    packet: Uint8Array,
    sink: OutputSink,
    viaIfIndex?: number,
  ): ResolveResult;
  resolveInto(
    now: number,
    destination: Ipv4,
    packet: Uint8Array,
    sink: OutputSink,
    viaIfIndex: number,
    into: MutableResolveResult,
  ): MutableResolveResult;
  resolveInto(
    now: number,
    destination: Ipv4,
    packet: Uint8Array,
    sink: OutputSink,
    viaIfIndex = -1,
    into?: MutableResolveResult,
  ): ResolveResult | MutableResolveResult {
    const out = into ?? this.scratchResult;
    resolveDestination(this.at(now, sink), destination, packet, viaIfIndex, out);
    return into ?? out.toResult();
  }

  // --- interfaces, addresses, routes ------------------------------------------------------

  /** Adds an interface; returns its index. */
  addInterface(spec: InterfaceSpec): number {
    return this.state.interfaces.add(spec).index;
  }

  /** The index of the interface named `name`; throws ENOENT. */
  interfaceIndex(name: string): number {
    return this.state.interfaces.require(name).index;
  }

  /** A snapshot of every interface. */
  interfaces(): readonly Readonly<Interface>[] {
    return this.state.interfaces.all();
  }

  /**
   * Adds an address to an interface: our own entry appears (permanent, the interface's MAC),
   * and the address is announced with gratuitous ARP if the interface is up (arp_ifaddr).
   */
  addAddress(now: number, ifName: string, cidr: string | Ipv4Cidr): Output[] {
    const state = this.at(now, this.collector);
    const iface = state.interfaces.require(ifName);
    const { address, prefixLength } = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
    state.interfaces.addAddress(iface, address, prefixLength);
    const { table } = state;
    const previous = table.host(address);
    const previousIsLocal = previous !== NIL && table.has(previous, Flag.Local);
    if (previous !== NIL && !previousIsLocal) state.deleteEntry(previous, 'local');
    if (!previousIsLocal) {
      const slot = table.insert(address, iface.index, address, false);
      table.mac[slot] = iface.mac;
      table.expire[slot] = PERMANENT;
      table.setFlag(slot, Flag.Local, true);
      state.report('add', slot, 'local');
    }
    if (state.nextPruneAt === undefined) state.nextPruneAt = now + FIRST_PRUNE_DELAY_MS;
    announceAddress(state, iface, address);
    return this.collect();
  }

  /**
   * Removes an address: its own entry goes, and so do the learned entries of that interface
   * that no remaining address covers (the cloned routes die with their parent).
   */
  removeAddress(now: number, ifName: string, address: Ipv4 | string): Output[] {
    const state = this.at(now, this.collector);
    const iface = state.interfaces.require(ifName);
    const ip = typeof address === 'string' ? parseIpv4(address) : address;
    if (!state.interfaces.removeAddress(iface, ip)) {
      throw new NetarpError('ENOENT', `${ifName} has no address ${address}`);
    }
    const { table } = state;
    const own = table.host(ip);
    if (own !== NIL && table.has(own, Flag.Local) && table.ifIndex[own] === iface.index) {
      const other = state.interfaces.ownersOf(ip)[0];
      if (other) table.ifIndex[own] = other.index;
      else state.deleteEntry(own, 'local');
    }
    for (const slot of table.slots()) {
      if (table.has(slot, Flag.ProxyOnly)) continue;
      if (table.ifIndex[slot] !== iface.index) continue;
      if (table.has(slot, Flag.Local) || table.has(slot, Flag.Static)) continue;
      const entryIp = table.ip[slot]!;
      if (!iface.addresses.some((a) => ((a.address ^ entryIp) & a.mask) === 0)) {
        state.deleteEntry(slot, 'address removed');
      }
    }
    return this.collect();
  }

  /**
   * Brings an interface up or down. Frames on a down interface are dropped and sends fail.
   * Differs from if_ether.c: coming up announces the interface's addresses, as FreeBSD does on
   * link up, so that caches on the segment learn about an address added while it was down.
   */
  setInterfaceUp(now: number, ifName: string, up: boolean): Output[] {
    const state = this.at(now, this.collector);
    const iface = state.interfaces.require(ifName);
    const wasUp = iface.up;
    iface.up = up;
    if (up && !wasUp) for (const a of iface.addresses) announceAddress(state, iface, a.address);
    return this.collect();
  }

  /**
   * Changes an interface's MAC (if_setlladdr). Our own entries on it take the new MAC (each
   * reported as changed), replies and requests carry it from now on, and frames to the old
   * one are no longer ours. Beyond the seed, which leaves caches on the segment to time out:
   * the interface's addresses are announced with gratuitous ARP if it is up, as FreeBSD's
   * arp_iflladdr does, so that neighbours move to the new MAC at once. A CARP interface's MAC
   * is its vhid's (EINVAL); so is a group, zero or out-of-range MAC.
   */
  setInterfaceMac(now: number, ifName: string, mac: Mac): Output[] {
    const state = this.at(now, this.collector);
    const iface = state.interfaces.require(ifName);
    if (iface.kind === 'carp') {
      throw new NetarpError('EINVAL', `${ifName} is a CARP interface: its MAC is its vhid's`);
    }
    if (!isUnicastMac(mac)) {
      throw new NetarpError('EINVAL', `${ifName}: not a unicast MAC: ${formatMacLoosely(mac)}`);
    }
    if (iface.mac === mac) return this.collect();
    iface.mac = mac;
    const { table } = state;
    // Our own entries are those of the interface's addresses (an address two interfaces share
    // has one entry, on one of them).
    for (const { address } of iface.addresses) {
      const slot = table.host(address);
      if (slot === NIL || !table.has(slot, Flag.Local) || table.ifIndex[slot] !== iface.index) {
        continue;
      }
      table.mac[slot] = mac;
      state.report('change', slot, 'lladdr');
    }
    for (const { address } of iface.addresses) announceAddress(state, iface, address);
    return this.collect();
  }

  /** Sets the NOARP / STATICARP flags of an interface. */
  setInterfaceFlags(ifName: string, flags: { noarp?: boolean; staticarp?: boolean }): void {
    const iface = this.state.interfaces.require(ifName);
    if (flags.noarp !== undefined) iface.noarp = flags.noarp;
    if (flags.staticarp !== undefined) iface.staticarp = flags.staticarp;
  }

  /** Sets the CARP state of a CARP interface (master answers for its addresses). */
  setCarpState(ifName: string, carpState: CarpState): void {
    const iface = this.state.interfaces.require(ifName);
    if (iface.kind !== 'carp') throw new NetarpError('EINVAL', `${ifName} is not a CARP interface`);
    iface.carpState = carpState;
  }

  /** Adds a static route via a gateway or out an interface. */
  addRoute(
    prefix: string | Ipv4Cidr,
    next: { gateway: Ipv4 | string } | { ifName: string },
  ): StaticRoute {
    const cidr = typeof prefix === 'string' ? parseCidr(prefix) : prefix;
    if ('gateway' in next) {
      const gateway = typeof next.gateway === 'string' ? parseIpv4(next.gateway) : next.gateway;
      const route = this.state.routes.add(cidr, { gateway });
      this.relistGateway(gateway);
      return route;
    }
    return this.state.routes.add(cidr, { ifIndex: this.interfaceIndex(next.ifName) });
  }

  /** Removes the static route for exactly this prefix; returns whether there was one. */
  removeRoute(prefix: string | Ipv4Cidr): boolean {
    const removed = this.state.routes.remove(
      typeof prefix === 'string' ? parseCidr(prefix) : prefix,
    );
    if (removed?.gateway !== undefined) this.relistGateway(removed.gateway);
    return removed !== undefined;
  }

  /** A route's gateway changed: its entry moves to or from the gateways' eviction list. */
  private relistGateway(gateway: Ipv4): void {
    const slot = this.state.table.host(gateway);
    if (slot !== NIL) this.state.relist(slot);
  }

  // --- the table (arp(8)) -----------------------------------------------------------------

  /** arp -s (or -S with `replace`): adds a static entry; throws NetarpError (EEXIST, ...). */
  addEntry(now: number, spec: StaticEntrySpec): Output[] {
    addStaticEntry(this.at(now, this.collector), spec);
    return this.collect();
  }

  /** arp -d: deletes one entry; throws NetarpError ENOENT when there is none. */
  deleteEntry(now: number, ip: Ipv4 | string, pub = false): Output[] {
    deleteStaticEntry(
      this.at(now, this.collector),
      typeof ip === 'string' ? parseIpv4(ip) : ip,
      pub,
    );
    return this.collect();
  }

  /** arp -d -a: deletes every entry except our own addresses. */
  flush(now: number): Output[] {
    flushEntries(this.at(now, this.collector));
    return this.collect();
  }

  /** arp -a: every entry as of `now`, in address order. */
  listEntries(now: number): EntryInfo[] {
    return listEntries(this.at(now, this.collector));
  }

  /** arp host: the entry for `ip` as of `now` (the host entry, else the proxy-only one). */
  lookup(now: number, ip: Ipv4 | string): EntryInfo | undefined {
    const state = this.at(now, this.collector);
    const key = typeof ip === 'string' ? parseIpv4(ip) : ip;
    let slot = state.table.host(key);
    if (slot === NIL) slot = state.table.proxy(key);
    return slot !== NIL ? describeEntry(state, slot) : undefined;
  }

  /**
   * arp host, every entry: the host entry for `ip`, then its proxy-only (`pub only`) one, as of
   * `now`; the table keeps at most one of each. Two hash lookups, whatever the table's size.
   */
  lookupAll(now: number, ip: Ipv4 | string): EntryInfo[] {
    const state = this.at(now, this.collector);
    const key = typeof ip === 'string' ? parseIpv4(ip) : ip;
    const found: EntryInfo[] = [];
    const host = state.table.host(key);
    if (host !== NIL) found.push(describeEntry(state, host));
    const proxy = state.table.proxy(key);
    if (proxy !== NIL) found.push(describeEntry(state, proxy));
    return found;
  }

  /** Number of entries (host and proxy-only). */
  get size(): number {
    return this.state.table.size;
  }

  // --- sysctl and counters ----------------------------------------------------------------

  /**
   * Sets a knob by short or full name; validated; takes effect at once. Lowered caps are
   * enforced when the next entry is created; turning `arpwatch` off forgets its history.
   */
  setSysctl(name: string, value: number): void {
    const key = configKeyOf(name);
    const previous = this.state.config[key];
    this.state.config[key] = validateConfigValue(key, value);
    if (key === 'arpwatch' && value === 0) this.state.watch.clear();
    // Differs from if_ether.c, where a new prune_intvl applies from the next pass on: the
    // pass already scheduled moves to the last pass plus the new interval, so the change
    // takes effect at once, as the control protocol promises.
    const next = this.state.nextPruneAt;
    if (key === 'prune_intvl' && next !== undefined && !this.state.prune.active) {
      this.state.nextPruneAt = next + (value - previous) * 1000;
    }
  }

  /** Reads a knob by short or full name. */
  getSysctl(name: string): number {
    return this.state.config[configKeyOf(name)];
  }

  /** Every knob with its full sysctl name, in a stable order. */
  sysctls(): { name: string; value: number }[] {
    return CONFIG_KEYS.map((key) => ({ name: SYSCTL_PREFIX + key, value: this.state.config[key] }));
  }

  /** A copy of the current config. */
  config(): ArpConfig {
    return { ...this.state.config };
  }

  /** A copy of the counters. */
  stats(): ArpStats {
    return { ...this.state.stats };
  }
}
