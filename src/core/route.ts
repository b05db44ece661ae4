/**
 * The routes ARP consults: connected routes (one per interface address: the cloning route
 * if_ether.c's entries are cloned from) and static routes via a gateway or out an interface.
 * Longest prefix wins; on a tie a connected route beats a static one. `rt_llroute` and
 * `rtpurelookup` of the seed both become `lookup`.
 */
import { formatCidr, type Ipv4, type Ipv4Cidr, prefixMask } from '../wire/addr.ts';
import { NetarpError } from './errors.ts';
import type { Interface, InterfaceAddress, InterfaceTable } from './iface.ts';

/** A static route (route add). */
export interface StaticRoute {
  readonly destination: Ipv4;
  readonly prefixLength: number;
  readonly mask: number;
  /** Next hop (RTF_GATEWAY), or undefined for an interface route. */
  readonly gateway: Ipv4 | undefined;
  /** For an interface route (route add -interface): the interface index. */
  readonly ifIndex: number;
}

/** What a lookup found. */
export type RouteMatch =
  | { readonly kind: 'connected'; readonly iface: Interface; readonly address: InterfaceAddress }
  | { readonly kind: 'gateway'; readonly gateway: Ipv4; readonly route: StaticRoute }
  | { readonly kind: 'interface'; readonly iface: Interface; readonly route: StaticRoute };

/**
 * A connected route as `lookup` scans it: the address's mask, network and broadcast as signed
 * 32-bit integers, which V8 keeps unboxed (an unsigned mask above 2^31 is a boxed double, and
 * each use of it a conversion).
 */
interface ConnectedRoute {
  readonly ifIndex: number;
  readonly prefixLength: number;
  readonly mask: number;
  readonly network: number;
  readonly broadcast: number;
  readonly match: RouteMatch;
}

/** Static routes plus the connected routes derived from the interfaces. */
export class RouteTable {
  private readonly routes: StaticRoute[] = [];
  /** The match each static route gives, built once (a lookup allocates nothing). */
  private readonly routeMatches = new Map<StaticRoute, RouteMatch>();
  /** Gateways of static routes: their entries count as referenced (rt_gwroute holds them). */
  private readonly gatewayRefs = new Map<Ipv4, number>();
  /**
   * The connected routes (one per interface address, interfaces in index order) with the
   * match each gives, rebuilt when the interfaces' addresses change.
   */
  private connected: ConnectedRoute[] = [];
  private connectedVersion = -1;

  constructor(private readonly interfaces: InterfaceTable) {}

  /** Adds a route via `gateway` or out `ifIndex`; throws EEXIST on a duplicate prefix. */
  add(prefix: Ipv4Cidr, next: { gateway: Ipv4 } | { ifIndex: number }): StaticRoute {
    const mask = prefixMask(prefix.prefixLength);
    const destination = (prefix.address & mask) >>> 0;
    if (this.find(destination, prefix.prefixLength)) {
      throw new NetarpError('EEXIST', `route ${formatCidr(prefix)} exists`);
    }
    const route: StaticRoute = {
      destination,
      prefixLength: prefix.prefixLength,
      mask,
      gateway: 'gateway' in next ? next.gateway : undefined,
      ifIndex: 'ifIndex' in next ? next.ifIndex : -1,
    };
    this.routes.push(route);
    this.routes.sort((a, b) => b.prefixLength - a.prefixLength);
    if (route.gateway !== undefined) {
      this.gatewayRefs.set(route.gateway, (this.gatewayRefs.get(route.gateway) ?? 0) + 1);
      this.routeMatches.set(route, { kind: 'gateway', gateway: route.gateway, route });
    }
    return route;
  }

  /** Removes the route for exactly this prefix; returns it, or undefined if there was none. */
  remove(prefix: Ipv4Cidr): StaticRoute | undefined {
    const mask = prefixMask(prefix.prefixLength);
    const route = this.find((prefix.address & mask) >>> 0, prefix.prefixLength);
    if (!route) return undefined;
    this.routes.splice(this.routes.indexOf(route), 1);
    this.routeMatches.delete(route);
    if (route.gateway !== undefined) {
      const refs = (this.gatewayRefs.get(route.gateway) ?? 1) - 1;
      if (refs === 0) this.gatewayRefs.delete(route.gateway);
      else this.gatewayRefs.set(route.gateway, refs);
    }
    return route;
  }

  /** All static routes, longest prefix first. */
  all(): readonly StaticRoute[] {
    return this.routes;
  }

  /** Whether a static route uses `ip` as its gateway (the entry is "referenced"). */
  isGatewayReferenced(ip: Ipv4): boolean {
    return this.gatewayRefs.size !== 0 && this.gatewayRefs.has(ip);
  }

  /**
   * Longest-prefix match for `ip`, connected routes winning ties; undefined if none. The
   * matches are built once per route, so callers must not keep them across changes.
   */
  lookup(ip: Ipv4): RouteMatch | undefined {
    if (this.connectedVersion !== this.interfaces.version) this.rebuildConnected();
    let best: RouteMatch | undefined;
    let bestLength = -1;
    const connected = this.connected;
    const bits = ip | 0;
    for (let i = 0; i < connected.length; i++) {
      const route = connected[i]!;
      if (route.prefixLength > bestLength && (bits & route.mask) === route.network) {
        best = route.match;
        bestLength = route.prefixLength;
      }
    }
    const routes = this.routes;
    for (let i = 0; i < routes.length; i++) {
      const route = routes[i]!;
      if (route.prefixLength <= bestLength) break;
      if (((route.destination ^ ip) & route.mask) !== 0) continue;
      if (route.gateway !== undefined) return this.routeMatches.get(route);
      const iface = this.interfaces.get(route.ifIndex);
      if (iface) return this.interfaceMatch(route, iface);
    }
    return best;
  }

  /** The match of an interface route: built on use, as its interface is looked up then. */
  private interfaceMatch(route: StaticRoute, iface: Interface): RouteMatch {
    const cached = this.routeMatches.get(route);
    if (cached?.kind === 'interface' && cached.iface === iface) return cached;
    const match: RouteMatch = { kind: 'interface', iface, route };
    this.routeMatches.set(route, match);
    return match;
  }

  /**
   * in_broadcast: whether `ip` is the broadcast (or network) address of a subnet of the
   * interface `ifIndex` (`isSubnetBroadcast` of one of its addresses).
   */
  isBroadcastOn(ifIndex: number, ip: Ipv4): boolean {
    if (this.connectedVersion !== this.interfaces.version) this.rebuildConnected();
    const connected = this.connected;
    const bits = ip | 0;
    for (let i = 0; i < connected.length; i++) {
      const route = connected[i]!;
      if (
        route.ifIndex === ifIndex &&
        route.prefixLength < 31 &&
        (bits === route.network || bits === route.broadcast)
      ) {
        return true;
      }
    }
    return false;
  }

  private rebuildConnected(): void {
    this.connected = [];
    for (const iface of this.interfaces.all()) {
      for (const address of iface.addresses) {
        const mask = address.mask | 0;
        const network = address.address & mask;
        this.connected.push({
          ifIndex: iface.index,
          prefixLength: address.prefixLength,
          mask,
          network,
          broadcast: network | ~mask,
          match: { kind: 'connected', iface, address },
        });
      }
    }
    this.connectedVersion = this.interfaces.version;
  }

  private find(destination: Ipv4, prefixLength: number): StaticRoute | undefined {
    return this.routes.find(
      (r) => r.destination === destination && r.prefixLength === prefixLength,
    );
  }
}
