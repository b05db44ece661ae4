/**
 * The neighbour cache: host entries keyed by IPv4 address (the seed's cloned host routes),
 * and, apart from them, the proxy-only entries of `arp -s ... pub only` (keyed with
 * SIN_PROXY in the seed, so they never answer a lookup for our own traffic).
 *
 * The seed's table grows without bound; netarp's dynamic entries are capped (`max_entries`,
 * `max_incomplete`), so it also keeps, in O(1) per change:
 *
 * - three LRU lists of the dynamic host entries, by eviction class (see `EntryClass`):
 *   `idle`, `holding` (packets wait for them) and `gateway` (a static route's next hop);
 * - the unresolved dynamic entries that are not gateways, oldest first.
 *
 * Our own, static and published entries are on no list, count against no cap and are never
 * evicted, as Linux exempts NUD_PERMANENT entries from its gc_thresh accounting.
 */
import type { Ipv4 } from '../wire/addr.ts';
import { DList, type Linked } from './dlist.ts';
import type { Entry, EntryClass } from './entry.ts';

/** An unresolved entry's place on the unresolved list. */
export class UnresolvedMark implements Linked<UnresolvedMark> {
  /** The entry that became unresolved after this one. */
  prev: UnresolvedMark | undefined = undefined;
  /** The entry that became unresolved before this one. */
  next: UnresolvedMark | undefined = undefined;

  constructor(readonly entry: Entry) {}
}

/** Host and proxy-only entries. */
export class NeighborTable {
  /** Host entries (dynamic, static, published and local). */
  readonly hosts = new Map<Ipv4, Entry>();
  /** Proxy-only published entries. */
  readonly proxies = new Map<Ipv4, Entry>();
  /** Dynamic entries with nothing waiting for them, most recently used first. */
  readonly idle = new DList<Entry>();
  /** Dynamic entries holding packets, most recently used first. */
  readonly holding = new DList<Entry>();
  /** Dynamic entries that are a static route's gateway, most recently used first. */
  readonly gateways = new DList<Entry>();
  /** Unresolved dynamic entries that are not gateways, newest first. */
  readonly unresolved = new DList<UnresolvedMark>();

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

  /** Number of dynamic entries (what `max_entries` caps). */
  get dynamicCount(): number {
    return this.idle.size + this.holding.size + this.gateways.size;
  }

  /** The list of a class, or undefined for `exempt`. */
  listOf(lruClass: EntryClass): DList<Entry> | undefined {
    switch (lruClass) {
      case 'idle':
        return this.idle;
      case 'holding':
        return this.holding;
      case 'gateway':
        return this.gateways;
      case 'exempt':
        return undefined;
    }
  }

  /** Moves `entry` to the list of `lruClass` (at its front), if it is not there already. */
  setClass(entry: Entry, lruClass: EntryClass): void {
    if (entry.lruClass === lruClass) return;
    this.listOf(entry.lruClass)?.remove(entry);
    entry.lruClass = lruClass;
    this.listOf(lruClass)?.pushFront(entry);
  }

  /** Puts `entry` on or takes it off the unresolved list. */
  setUnresolved(entry: Entry, unresolved: boolean): void {
    if (unresolved === (entry.unresolved !== undefined)) return;
    if (entry.unresolved) {
      this.unresolved.remove(entry.unresolved);
      entry.unresolved = undefined;
    } else {
      entry.unresolved = new UnresolvedMark(entry);
      this.unresolved.pushFront(entry.unresolved);
    }
  }

  /** Marks `entry` used in second `nowSec`: to the front of its list, at most once a second. */
  touch(entry: Entry, nowSec: number): void {
    if (entry.usedSec === nowSec) return;
    entry.usedSec = nowSec;
    this.listOf(entry.lruClass)?.moveToFront(entry);
  }
}
