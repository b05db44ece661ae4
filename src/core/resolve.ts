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
import { NetarpError } from './errors.ts';
import { type Interface, isSubnetBroadcast } from './iface.ts';
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
 * Resolves `destination` for `packet` (the IPv4 packet, kept if it must wait). `viaIfIndex`
 * names the outgoing interface for broadcast and multicast without a route (IP_MULTICAST_IF).
 */
export function resolveDestination(
  state: EngineState,
  destination: Ipv4,
  packet: Uint8Array,
  viaIfIndex: number,
): ResolveResult {
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
  } else if (route) {
    if (route.kind === 'gateway') {
      viaGateway = true;
      nextHop = route.gateway;
      const gatewayRoute = routes.lookup(nextHop);
      if (!gatewayRoute) {
        stats.resolveUnreachable++;
        return { kind: 'failed', reason: 'no route to host' };
      }
      if (gatewayRoute.kind === 'gateway') {
        // arplookup finds a route through a gateway for the next hop (l.1189), then
        // arpresolve gives up on the packet (l.506). Both log the next hop: ip_output hands
        // ether_output the route's gateway as `dst`, and that is what arpresolve looks up.
        state.log('debug', 'lookupFailed', nextHop, 'host is not on local network');
        state.log('debug', 'cantAllocate', nextHop, false, true);
        stats.resolveUnreachable++;
        return { kind: 'failed', reason: 'host is not on local network' };
      }
      iface = gatewayRoute.iface;
    } else {
      iface = route.iface;
    }
  }
  if (!iface) {
    stats.resolveUnreachable++;
    return { kind: 'failed', reason: 'no route to host' };
  }
  if (!iface.up) {
    stats.resolveUnreachable++;
    return { kind: 'failed', reason: 'network is down' };
  }
  // M_BCAST and M_MCAST: no ARP (arpresolve l.484-491).
  if (destination === IPV4_BROADCAST || isBroadcastOn(iface, destination)) {
    return { kind: 'resolved', ifIndex: iface.index, mac: MAC_BROADCAST, source: iface.mac };
  }
  if (isMulticastIpv4(destination)) {
    return {
      kind: 'resolved',
      ifIndex: iface.index,
      mac: multicastMac(destination),
      source: iface.mac,
    };
  }

  let slot = table.host(nextHop);
  if (slot !== NIL) {
    const flags = table.flags[slot]!;
    if ((flags & Flag.Local) !== 0) {
      // Our own address: looped back when useloopback, else sent out with our MAC (l.306).
      const ifIndex = table.ifIndex[slot]!;
      if (state.config.useloopback) return { kind: 'local', ifIndex };
      return { kind: 'resolved', ifIndex, mac: table.mac[slot]!, source: iface.mac };
    }
    // rt_llroute: a down entry refuses sends until its window ends.
    if ((flags & Flag.Reject) !== 0 && state.nowSec < table.expire[slot]!) {
      stats.resolveHostDown++;
      return { kind: 'failed', reason: viaGateway ? 'no route to host' : 'host is down' };
    }
    iface = interfaces.get(table.ifIndex[slot]!) ?? iface;
  } else {
    const sourceIp = sourceAddressFor(iface, nextHop);
    slot = state.createEntry(nextHop, iface, sourceIp, 'resolve');
  }
  return arpResolve(state, iface, slot, packet);
}

/** Whether `ip` is the broadcast (or network) address of a subnet of `iface` (in_broadcast). */
function isBroadcastOn(iface: Interface, ip: Ipv4): boolean {
  const addresses = iface.addresses;
  for (let i = 0; i < addresses.length; i++) {
    if (isSubnetBroadcast(addresses[i]!, ip)) return true;
  }
  return false;
}

/** The interface address covering `ip` (rt_ifa), else the interface's first address. */
function sourceAddressFor(iface: Interface, ip: Ipv4): Ipv4 {
  let best = iface.addresses[0];
  for (const address of iface.addresses) {
    if (((address.address ^ ip) & address.mask) === 0) {
      if (
        !best ||
        address.prefixLength > best.prefixLength ||
        ((best.address ^ ip) & best.mask) !== 0
      ) {
        best = address;
      }
    }
  }
  return best?.address ?? 0;
}

/** arpresolve proper, from the entry (in `slot`) on (l.512). */
function arpResolve(
  state: EngineState,
  iface: Interface,
  slot: number,
  packet: Uint8Array,
): ResolveResult {
  const { config, stats, table } = state;
  const now = state.nowSec;
  // Our traffic uses the entry: it moves to the front of its LRU list (once a second).
  table.touch(slot, now);
  const mac = table.mac[slot]!;
  const expire = table.expire[slot]!;
  if (expire > now && mac !== NO_MAC) {
    // Resolved. If it expires within `preempt` seconds, ask again ahead of time (la_preempt).
    if (expire !== PERMANENT && now + table.preempt[slot]! > expire) {
      // Held back by max_requests_per_sec, the refresh is tried again by the next packet.
      if (state.requestAllowed()) {
        state.sendRequest(iface, table.sourceIp[slot]!, table.ip[slot]!);
        table.setFlag(slot, Flag.RequestOutstanding, true);
        table.preempt[slot] = table.preempt[slot]! - 1;
      }
    }
    return { kind: 'resolved', ifIndex: iface.index, mac, source: iface.mac };
  }
  // If ARP is disabled or static on this interface, stop (l.542).
  if (iface.noarp || iface.staticarp) {
    state.relist(slot); // a new entry is listed here, not by `hold`
    stats.resolveNoArp++;
    return { kind: 'failed', reason: 'interface does not ARP' };
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
        return { kind: 'held', ifIndex: iface.index, nextHop: ip };
      }
      table.expire[slot] = now;
      table.asked[slot] = asked + 1;
      if (asked < config.maxtries) {
        state.sendRequest(iface, table.sourceIp[slot]!, ip);
        table.setFlag(slot, Flag.RequestOutstanding, true);
      } else {
        // Give up for host_down_time seconds (RTF_REJECT).
        table.setFlag(slot, Flag.Reject, true);
        table.expire[slot] = now + config.host_down_time;
        table.asked[slot] = 0;
        table.preempt[slot] = config.maxtries;
        stats.hostDown++;
        state.report('miss', slot, 'maxtries');
      }
    }
  }
  return { kind: 'held', ifIndex: iface.index, nextHop: ip };
}
