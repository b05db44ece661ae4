/**
 * The ARP engine: if_ether.c as a pure state machine. Every input takes the current time in
 * milliseconds and returns (or hands to a sink) what it caused; nothing here reads a clock,
 * sets a timer or touches I/O. The runtime arms one timer at `pollTimeout()` and calls
 * `handleTimeout` when it fires.
 */
import { type Ipv4, type Ipv4Cidr, parseCidr, parseIpv4 } from '../wire/addr.ts';
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
import { Entry, NO_MAC, PERMANENT } from './entry.ts';
import { NetarpError } from './errors.ts';
import { type CarpState, type Interface, type InterfaceSpec, InterfaceTable } from './iface.ts';
import { etherInput } from './input.ts';
import { CollectingSink, type Output, type OutputSink } from './output.ts';
import { type ResolveResult, resolveDestination } from './resolve.ts';
import { RouteTable, type StaticRoute } from './route.ts';
import { EngineState } from './state.ts';
import { type ArpStats, makeStats } from './stats.ts';
import { NeighborTable } from './table.ts';

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

/** The first prune pass runs one second after the first address appears (arp_rtrequest, l.209). */
const FIRST_PRUNE_DELAY_MS = 1000;

/** An ARP engine for a set of interfaces. */
export class Engine {
  private readonly state: EngineState;
  private readonly collector = new CollectingSink();

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
    if (!Number.isFinite(now))
      throw new NetarpError('EINVAL', `now must be a finite number, got ${now}`);
    this.state.nowSec = Math.floor(now / 1000);
    this.state.nowMs = now;
    this.state.sink = sink;
    return this.state;
  }

  private collect(): Output[] {
    this.state.sink = this.collector;
    return this.collector.take();
  }

  /**
   * When `handleTimeout` next has work (milliseconds), or undefined when it has none: the next
   * prune pass, or the moment the oldest held packet reaches `hold_timeout`.
   */
  pollTimeout(): number | undefined {
    const prune = this.state.nextPruneAt;
    const held = this.state.holdDeadline();
    if (held === undefined) return prune;
    return prune === undefined ? held : Math.min(prune, held);
  }

  /** Does the work due at `now`: held packets past `hold_timeout`, the prune pass (arptimer). */
  handleTimeout(now: number): Output[] {
    this.handleTimeoutInto(now, this.collector);
    return this.collect();
  }

  /** `handleTimeout`, handing outputs to `sink`. */
  handleTimeoutInto(now: number, sink: OutputSink): void {
    const state = this.at(now, sink);
    state.expireHeld(now);
    if (state.nextPruneAt === undefined || now < state.nextPruneAt) return;
    this.prune();
    state.nextPruneAt = now + state.config.prune_intvl * 1000;
  }

  /**
   * arptimer: free the entries whose time is up. One still referenced (the gateway of a
   * route) or static is only reset to unresolved (arptfree, l.1146).
   */
  private prune(): void {
    const state = this.state;
    const now = state.nowSec;
    for (const map of [state.table.hosts, state.table.proxies]) {
      for (const entry of map.values()) {
        if (entry.expire === PERMANENT || entry.expire > now) continue;
        // Differs from if_ether.c: an entry whose request went out this very second is not
        // freed. The seed frees it (its rt_expire is the time of the request), so a reply
        // arriving a moment later finds no entry and the held packet is lost.
        if (entry.mac === NO_MAC && entry.asked > 0 && !entry.reject && entry.expire === now) {
          continue;
        }
        if (entry.isStatic || state.routes.isGatewayReferenced(entry.ip)) {
          const hadMac = entry.mac !== NO_MAC;
          entry.mac = NO_MAC;
          entry.preempt = 0;
          entry.asked = 0;
          entry.reject = false;
          state.relist(entry);
          if (hadMac) state.report('change', entry, 'expired');
          continue;
        }
        state.stats.timeouts++;
        state.deleteEntry(entry, 'expired');
      }
    }
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

  /** `resolve`, handing outputs to `sink`. */
  resolveInto(
    now: number,
    destination: Ipv4,
    packet: Uint8Array,
    sink: OutputSink,
    viaIfIndex = -1,
  ): ResolveResult {
    return resolveDestination(this.at(now, sink), destination, packet, viaIfIndex);
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
    const previous = state.table.hosts.get(address);
    if (previous && !previous.isLocal) state.deleteEntry(previous, 'local');
    if (!previous?.isLocal) {
      const entry = new Entry(address, iface.index, address);
      entry.mac = iface.mac;
      entry.expire = PERMANENT;
      entry.isLocal = true;
      state.table.hosts.set(address, entry);
      state.report('add', entry, 'local');
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
    const own = state.table.hosts.get(ip);
    if (own?.isLocal && own.ifIndex === iface.index) {
      const other = state.interfaces.ownersOf(ip)[0];
      if (other) own.ifIndex = other.index;
      else state.deleteEntry(own, 'local');
    }
    for (const entry of [...state.table.hosts.values()]) {
      if (entry.ifIndex !== iface.index || entry.isLocal || entry.isStatic) continue;
      if (!iface.addresses.some((a) => ((a.address ^ entry.ip) & a.mask) === 0)) {
        state.deleteEntry(entry, 'address removed');
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
    const entry = this.state.table.hosts.get(gateway);
    if (entry) this.state.relist(entry);
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
    const entry = state.table.hosts.get(key) ?? state.table.proxies.get(key);
    return entry ? describeEntry(state, entry) : undefined;
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
    this.state.config[key] = validateConfigValue(key, value);
    if (key === 'arpwatch' && value === 0) this.state.watch.clear();
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
