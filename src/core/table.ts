/**
 * The neighbour cache: host entries keyed by IPv4 address (the seed's cloned host routes),
 * and, apart from them, the proxy-only entries of `arp -s ... pub only` (keyed with
 * SIN_PROXY in the seed, so they never answer a lookup for our own traffic).
 */
import type { Ipv4 } from '../wire/addr.ts';
import type { Entry } from './entry.ts';

/** Host and proxy-only entries. */
export class NeighborTable {
  /** Host entries (dynamic, static, published and local). */
  readonly hosts = new Map<Ipv4, Entry>();
  /** Proxy-only published entries. */
  readonly proxies = new Map<Ipv4, Entry>();

  /** The host entry for `ip`, if any. */
  host(ip: Ipv4): Entry | undefined {
    return this.hosts.get(ip);
  }

  /** The entry to answer requests for `ip` with: proxy-only first, then a published host entry. */
  published(ip: Ipv4): Entry | undefined {
    const proxy = this.proxies.get(ip);
    if (proxy) return proxy;
    const host = this.hosts.get(ip);
    return host?.published ? host : undefined;
  }

  /** Number of entries of both kinds. */
  get size(): number {
    return this.hosts.size + this.proxies.size;
  }
}
