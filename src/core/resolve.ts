/**
 * arpresolve (with the parts of ip_output and rt_llroute it relies on): turn a destination
 * into the Ethernet address to send to, holding the packet while a request is out.
 *
 * RFC 1122 section 2.3.2.1: a host must not flood a silent neighbour with requests; the seed
 * sends at most one per second per entry, and after `maxtries` of them declares the host down
 * for `host_down_time` seconds (RTF_REJECT), during which sends fail at once.
 */
import {
  IPV4_BROADCAST,
  type Ipv4,
  isMulticastIpv4,
  MAC_BROADCAST,
  type Mac,
  multicastMac,
} from '../wire/addr.ts';
import { NO_MAC, PERMANENT } from './entry.ts';
import { assertNever, NetarpError } from './errors.ts';
import type { Interface } from './iface.ts';
import type { EngineState } from './state.ts';
import { Flag, NIL } from './table.ts';

/** Why a send failed (the errno the kernel would return, as text). */
export type ResolveFailure =
  | 'no route to host' // EHOSTUNREACH: no route, or the gateway is down
  | 'host is down' // EHOSTDOWN: the destination's entry is down (RTF_REJECT)
  | 'host is not on local network' // arplookup: the next hop is itself behind a gateway
  | 'network is down' // ENETDOWN: the interface is down
  | 'interface does not ARP'; // IFF_NOARP / IFF_STATICARP and no entry

/** What `resolve` decided for one packet. */
export type ResolveResult =
  | { readonly kind: 'resolved'; readonly ifIndex: number; readonly mac: Mac; readonly source: Mac }
  | { readonly kind: 'local'; readonly ifIndex: number }
  | { readonly kind: 'held'; readonly ifIndex: number; readonly nextHop: Ipv4 }
  | { readonly kind: 'failed'; readonly reason: ResolveFailure };

/**
 * A `ResolveResult` filled in place: `Engine.resolveInto` writes into one the caller owns
 * instead of allocating a result per packet (a result holds two MACs, which V8 boxes, so a
 * fresh one costs three allocations). It has the fields of every kind; only those `kind`
 * names are meaningful, as in `ResolveResult` (`mac` and `source` when resolved, `ifIndex`
 * unless failed, `nextHop` when held, `reason` when failed). It is overwritten by the next
 * call that is given it.
 */
export class MutableResolveResult {
  kind: ResolveResult['kind'] = 'failed';
  ifIndex = -1;
  /** The destination MAC (resolved). */
  mac: Mac = MAC_BROADCAST;
  /** The interface's MAC, the frame's source (resolved). */
  source: Mac = MAC_BROADCAST;
  /** The next hop the packet waits for (held). */
  nextHop: Ipv4 = 0;
  reason: ResolveFailure = 'no route to host';

  /** This result as a `ResolveResult` of its own, which the next call does not change. */
  toResult(): ResolveResult {
    switch (this.kind) {
      case 'resolved':
        return { kind: 'resolved', ifIndex: this.ifIndex, mac: this.mac, source: this.source };
      case 'local':
        return { kind: 'local', ifIndex: this.ifIndex };
      case 'held':
        return { kind: 'held', ifIndex: this.ifIndex, nextHop: this.nextHop };
      case 'failed':
        return { kind: 'failed', reason: this.reason };
      default:
        return assertNever(this.kind);
    }
  }

  /** Sets `resolved`: send to `mac` from `source` on `ifIndex`. */
  setResolved(ifIndex: number, mac: Mac, source: Mac): void {
    this.kind = 'resolved';
    this.ifIndex = ifIndex;
    this.mac = mac;
    this.source = source;
  }

  /** Sets `local`: our own address, looped back. */
  setLocal(ifIndex: number): void {
    this.kind = 'local';
    this.ifIndex = ifIndex;
  }

  /** Sets `held`: the packet waits for `nextHop` on `ifIndex`. */
  setHeld(ifIndex: number, nextHop: Ipv4): void {
    this.kind = 'held';
    this.ifIndex = ifIndex;
    this.nextHop = nextHop;
  }

  /** Sets `failed`, for `reason`. */
  setFailed(reason: ResolveFailure): void {
    this.kind = 'failed';
    this.reason = reason;
  }
}

/**
 * Resolves `destination` for `packet` (the IPv4 packet, kept if it must wait) into `out`.
 * `viaIfIndex` names the outgoing interface for broadcast and multicast without a route
 * (IP_MULTICAST_IF).
 */
export function resolveDestination(
  state: EngineState,
  destination: Ipv4,
  packet: Uint8Array,
  viaIfIndex: number,
  out: MutableResolveResult,
): void {
  const { stats, interfaces, routes, table } = state;
  if (destination !== destination >>> 0) {
    throw new NetarpError('EINVAL', `destination must be an IPv4 address, got ${destination}`);
  }
  // ip_output: find the interface and the next hop.
  let iface: Interface | undefined;
  let nextHop = destination;
  let viaGateway = false;
  const route = routes.lookup(destination);
  if (viaIfIndex >= 0) {
    iface = interfaces.get(viaIfIndex);
  } else if (route !== undefined) {
    if (route.kind === 'gateway') {
      viaGateway = true;
      nextHop = route.gateway;
      const gatewayRoute = routes.lookup(nextHop);
      if (!gatewayRoute) {
        stats.resolveUnreachable++;
        out.setFailed('no route to host');
        return;
      }
      if (gatewayRoute.kind === 'gateway') {
        // arplookup finds a route through a gateway for the next hop (l.1189), then
        // arpresolve gives up on the packet (l.506). Both log the next hop: ip_output hands
        // ether_output the route's gateway as `dst`, and that is what arpresolve looks up.
        state.log('debug', 'lookupFailed', nextHop, 'host is not on local network');
        state.log('debug', 'cantAllocate', nextHop, false, true);
        stats.resolveUnreachable++;
        out.setFailed('host is not on local network');
        return;
      }
      iface = gatewayRoute.iface;
    } else {
      iface = route.iface;
    }
  }
  if (iface === undefined) {
    stats.resolveUnreachable++;
    out.setFailed('no route to host');
    return;
  }
  if (!iface.up) {
    stats.resolveUnreachable++;
    out.setFailed('network is down');
    return;
  }
  // M_BCAST and M_MCAST: no ARP (arpresolve l.484-491).
  if (destination === IPV4_BROADCAST || routes.isBroadcastOn(iface.index, destination)) {
    out.setResolved(iface.index, MAC_BROADCAST, iface.mac);
    return;
  }
  if (isMulticastIpv4(destination)) {
    out.setResolved(iface.index, multicastMac(destination), iface.mac);
    return;
  }

  let slot = table.host(nextHop);
  if (slot !== NIL) {
    const flags = table.flags[slot]!;
    if ((flags & Flag.Local) !== 0) {
      // Our own address: looped back when useloopback, else sent out with our MAC (l.306).
      const ifIndex = table.ifIndex[slot]!;
      if (state.config.useloopback) out.setLocal(ifIndex);
      else out.setResolved(ifIndex, table.mac[slot]!, iface.mac);
      return;
    }
    // rt_llroute: a down entry refuses sends until its window ends.
    if ((flags & Flag.Reject) !== 0 && state.nowSec < table.expire[slot]!) {
      stats.resolveHostDown++;
      out.setFailed(viaGateway ? 'no route to host' : 'host is down');
      return;
    }
    iface = interfaces.get(table.ifIndex[slot]!) ?? iface;
  } else {
    // rt_ifa: the connected route to the destination, when it is this interface's, already
    // names the interface address covering it (the first of the longest prefix, as
    // `sourceAddressFor` would find).
    const sourceIp =
      route !== undefined && route.kind === 'connected' && route.iface === iface && !viaGateway
        ? route.address.address
        : sourceAddressFor(iface, nextHop);
    slot = state.createEntry(nextHop, iface, sourceIp, 'resolve');
  }
  arpResolve(state, iface, slot, packet, out);
}

/**
 * The interface address covering `ip` (rt_ifa), else the interface's first address. The
 * masks are compared as signed 32-bit integers (`| 0`), which V8 keeps unboxed.
 */
function sourceAddressFor(iface: Interface, ip: Ipv4): Ipv4 {
  const addresses = iface.addresses;
  let best = addresses[0];
  let bestCovers = best !== undefined && ((best.address ^ ip) & (best.mask | 0)) === 0;
  for (let i = 1; i < addresses.length; i++) {
    const address = addresses[i]!;
    if (((address.address ^ ip) & (address.mask | 0)) !== 0) continue;
    if (!bestCovers || address.prefixLength > best!.prefixLength) {
      best = address;
      bestCovers = true;
    }
  }
  return best?.address ?? 0;
}

/**
 * arpresolve proper, from the entry (in `slot`) on (l.512). The resolved case is here; the
 * rest is in functions of their own, so that this part is small enough for the compiler to
 * compile into its caller.
 */
function arpResolve(
  state: EngineState,
  iface: Interface,
  slot: number,
  packet: Uint8Array,
  out: MutableResolveResult,
): void {
  const table = state.table;
  const now = state.nowSec;
  // Our traffic uses the entry: it moves to the front of its LRU list (once a second).
  table.touch(slot, now);
  const mac = table.mac[slot]!;
  const expire = table.expire[slot]!;
  if (!(expire > now && mac !== NO_MAC)) {
    arpResolveUnresolved(state, iface, slot, packet, out);
    return;
  }
  // Resolved. If it expires within `preempt` seconds, ask again ahead of time (la_preempt).
  if (expire !== PERMANENT && now + table.preempt[slot]! > expire) refreshAhead(state, iface, slot);
  out.setResolved(iface.index, mac, iface.mac);
}

/**
 * la_preempt: a resolved entry close to expiry is asked for again before it expires: with a
 * broadcast request as the seed, or with `unicast_refresh` one to the MAC the entry has (a
 * neighbour that does not answer it is asked by broadcast once the entry has expired).
 */
function refreshAhead(state: EngineState, iface: Interface, slot: number): void {
  const table = state.table;
  // Held back by max_requests_per_sec, the refresh is tried again by the next packet.
  if (state.requestAllowed()) {
    const to = state.config.unicast_refresh === 1 ? table.mac[slot]! : undefined;
    state.sendRequest(iface, table.sourceIp[slot]!, table.ip[slot]!, undefined, to);
    table.setFlag(slot, Flag.RequestOutstanding, true);
    table.preempt[slot] = table.preempt[slot]! - 1;
  }
}

/** arpresolve for an entry that is not resolved (or has expired): hold and ask (l.542). */
function arpResolveUnresolved(
  state: EngineState,
  iface: Interface,
  slot: number,
  packet: Uint8Array,
  out: MutableResolveResult,
): void {
  const { config, table } = state;
  const now = state.nowSec;
  const mac = table.mac[slot]!;
  const expire = table.expire[slot]!;
  // If ARP is disabled or static on this interface, stop (l.542).
  if (iface.noarp || iface.staticarp) {
    refuseNoArp(state, slot, out);
    return;
  }
  // Hold the packet: with the seed's maxhold of 1 the newest replaces the held one (l.551).
  state.hold(slot, packet);
  const ip = table.ip[slot]!;
  if (expire !== PERMANENT || (table.has(slot, Flag.Static) && mac === NO_MAC)) {
    table.setFlag(slot, Flag.Reject, false);
    // At most one request a second: a new one only when none went out this second.
    const asked = table.asked[slot]!;
    if (asked === 0 || expire !== now) {
      if (asked < config.maxtries && !state.requestAllowed()) {
        // Held back by max_requests_per_sec: as if not asked, so the next packet tries again
        // and the host is not declared down for our own restraint.
        out.setHeld(iface.index, ip);
        return;
      }
      table.expire[slot] = now;
      table.asked[slot] = asked + 1;
      if (asked < config.maxtries) {
        state.sendRequest(iface, table.sourceIp[slot]!, ip);
        table.setFlag(slot, Flag.RequestOutstanding, true);
      } else {
        declareDown(state, slot);
      }
    }
  }
  out.setHeld(iface.index, ip);
}

/** An unresolved entry on an interface that does not ARP: the send fails (l.542). */
function refuseNoArp(state: EngineState, slot: number, out: MutableResolveResult): void {
  state.relist(slot); // a new entry is listed here, not by `hold`
  state.stats.resolveNoArp++;
  out.setFailed('interface does not ARP');
}

/** `maxtries` requests went unanswered: give up for host_down_time seconds (RTF_REJECT). */
function declareDown(state: EngineState, slot: number): void {
  const { config, table } = state;
  table.setFlag(slot, Flag.Reject, true);
  table.expire[slot] = state.nowSec + config.host_down_time;
  table.asked[slot] = 0;
  table.preempt[slot] = config.maxtries;
  state.stats.hostDown++;
  state.report('miss', slot, 'maxtries');
}
