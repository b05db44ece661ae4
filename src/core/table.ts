/**
 * The neighbour cache: host entries keyed by IPv4 address (the seed's cloned host routes),
 * and, apart from them, the proxy-only entries of `arp -s ... pub only` (keyed with
 * SIN_PROXY in the seed, so they never answer a lookup for our own traffic).
 *
 * An entry is a slot number. Its fields are columns: one typed array per field, indexed by
 * slot, grown by doubling. A million entries are then a few dozen flat arrays rather than a
 * million objects: about 110 bytes an entry, nothing for the garbage collector to trace, and
 * neighbouring addresses in neighbouring memory (docs/design.md, "The table's memory layout").
 *
 * The seed's table grows without bound; netarp's dynamic entries are capped (`max_entries`,
 * `max_incomplete`), so it also keeps, in O(1) per change:
 *
 * - three LRU lists of the dynamic host entries, by eviction class (see `LruClass`):
 *   idle, holding (packets wait for them) and gateway (a static route's next hop);
 * - the unresolved dynamic entries that are not gateways, oldest first.
 *
 * Our own, static and published entries are on no list, count against no cap and are never
 * evicted, as Linux exempts NUD_PERMANENT entries from its gc_thresh accounting.
 */
import type { Ipv4 } from '../wire/addr.ts';
import { NO_MAC, PERMANENT } from './entry.ts';

/** "No slot": the end of a list, an empty bucket, an address not in the table. */
export const NIL = -1;

/** Bits of `NeighborTable.flags`. */
export const Flag = {
  /** The slot holds an entry that is in the table (host or proxy-only). */
  Live: 1,
  /** RTF_REJECT: the host is down; sends fail until `expire`. */
  Reject: 2,
  /** RTF_STATIC: added by the operator (arp -s), never deleted by the prune pass. */
  Static: 4,
  /** One of our own addresses (permanent, the interface MAC). */
  Local: 8,
  /** arp -s ... pub: we answer requests for this address with its MAC. */
  Published: 16,
  /** arp -s ... pub only (SIN_PROXY): published, and not used for our own traffic. */
  ProxyOnly: 32,
  /** A request for this entry went out and no answer has been taken since (`accept`). */
  RequestOutstanding: 64,
  /** On the list of unresolved entries (`max_incomplete`). */
  Unresolved: 128,
} as const;

/**
 * Which eviction list a host entry is on: `Exempt` entries (ours, static, published, or not
 * in the table) are on none and never evicted; dynamic entries are `Idle`, `Holding` (packets
 * wait for them) or `Gateway` (a static route's next hop), evicted in that order of preference
 * when the table is full.
 */
export const LruClass = { Exempt: 0, Idle: 1, Holding: 2, Gateway: 3 } as const;

/** A value of `LruClass`. */
export type LruClassValue = (typeof LruClass)[keyof typeof LruClass];

/** The head, tail and length of one intrusive list of slots (its links live in a `Links`). */
export class SlotList {
  /** The newest slot, or NIL. */
  head = NIL;
  /** The oldest slot, or NIL. */
  tail = NIL;
  /** How many slots are on the list. */
  size = 0;
}

/**
 * The prev/next columns of intrusive doubly linked lists of slots (dlist.ts over slot numbers,
 * and why not a `Map`): adding, removing and moving to the front are O(1) and allocate
 * nothing. Several lists may share one `Links` when a slot is on at most one of them at a
 * time (the three LRU lists do). The links of a slot on no list are left as they were and
 * mean nothing: adding a slot sets both.
 */
export class Links {
  /** The neighbour towards the front (newer), or NIL. */
  prev: Int32Array;
  /** The neighbour towards the back (older), or NIL. */
  next: Int32Array;

  constructor(capacity: number) {
    this.prev = new Int32Array(capacity).fill(NIL);
    this.next = new Int32Array(capacity).fill(NIL);
  }

  /** Grows the columns to `capacity` slots, keeping the links. */
  grow(capacity: number): void {
    this.prev = grownInt32(this.prev, capacity, NIL);
    this.next = grownInt32(this.next, capacity, NIL);
  }

  /** Adds `slot` (on no list of these links) at the front of `list`. */
  pushFront(list: SlotList, slot: number): void {
    const head = list.head;
    this.prev[slot] = NIL;
    this.next[slot] = head;
    if (head === NIL) list.tail = slot;
    else this.prev[head] = slot;
    list.head = slot;
    list.size++;
  }

  /** Adds `slot` (on no list of these links) at the back of `list`. */
  pushBack(list: SlotList, slot: number): void {
    const tail = list.tail;
    this.next[slot] = NIL;
    this.prev[slot] = tail;
    if (tail === NIL) list.head = slot;
    else this.next[tail] = slot;
    list.tail = slot;
    list.size++;
  }

  /** Takes `slot`, which must be on `list`, off it (its own links are left as they were). */
  remove(list: SlotList, slot: number): void {
    const prev = this.prev[slot]!;
    const next = this.next[slot]!;
    if (prev === NIL) list.head = next;
    else this.next[prev] = next;
    if (next === NIL) list.tail = prev;
    else this.prev[next] = prev;
    list.size--;
  }

  /** Moves `slot`, which must be on `list`, to its front. */
  moveToFront(list: SlotList, slot: number): void {
    if (list.head === slot) return;
    this.remove(list, slot);
    this.pushFront(list, slot);
  }
}

/** A copy of `column` with `capacity` elements, the new ones set to `fill`. */
function grownInt32(column: Int32Array, capacity: number, fill: number): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(capacity);
  grown.set(column);
  if (fill !== 0) grown.fill(fill, column.length);
  return grown;
}

function grownUint32(column: Uint32Array, capacity: number): Uint32Array<ArrayBuffer> {
  const grown = new Uint32Array(capacity);
  grown.set(column);
  return grown;
}

function grownFloat64(column: Float64Array, capacity: number): Float64Array<ArrayBuffer> {
  const grown = new Float64Array(capacity);
  grown.set(column);
  return grown;
}

/** Slots a new table starts with. */
const INITIAL_CAPACITY = 16;

/**
 * The hash bucket of an address. The low bits are the address's own, XORed with a
 * multiplicative mix of its upper half: the addresses of one subnet (which is what a
 * neighbour table holds) fall into distinct, neighbouring buckets, so that they never collide
 * with each other while the table has as many buckets as the subnet has addresses, and a run
 * of neighbours shares cache lines; the mix spreads different /16s over the table.
 */
function hashIpv4(ip: number): number {
  return Math.imul(ip >>> 16, 0x9e37_79b1) ^ ip;
}

/** Host and proxy-only entries, as columns indexed by slot. */
export class NeighborTable {
  /** Slots allocated (live and free). */
  capacity = 0;

  // --- the fields of an entry, one column each ---------------------------------------------
  /** The neighbour's address (rt_key). */
  ip = new Uint32Array(0);
  /** The link-layer address, or NO_MAC. */
  mac = new Float64Array(0);
  /** rt_expire in whole seconds; PERMANENT (the seed's 0) for entries that never expire. */
  expire = new Float64Array(0);
  /** When `mac` was last set or changed, in milliseconds: the start of `locktime`. */
  macSetAt = new Float64Array(0);
  /** la_asked: requests sent since the entry was last resolved or reset. */
  asked = new Int32Array(0);
  /** la_preempt: pre-expiry refresh requests still allowed. */
  preempt = new Int32Array(0);
  /** rt_ifp: the interface the neighbour is on. */
  ifIndex = new Int32Array(0);
  /** The interface address covering the neighbour (rt_ifa): the SPA of our requests. */
  sourceIp = new Uint32Array(0);
  /**
   * The second (truncated to 32 bits) the entry was last moved to the front of its LRU list:
   * one move a second at most. Compared for equality only, so truncation costs at worst one
   * skipped move.
   */
  usedSec = new Int32Array(0);
  /** `Flag` bits. */
  flags = new Uint16Array(0);
  /** The entry's `LruClass`; kept right by `EngineState.relist`. */
  lruClass = new Uint8Array(0);
  /** la_hold: the first (oldest) held packet's slot in the `HoldQueue`, or NIL. */
  heldFirst = new Int32Array(0);
  /** The last (newest) held packet's slot, or NIL. */
  heldLast = new Int32Array(0);
  /** How many packets the entry holds (at most `maxhold`). */
  heldCount = new Int32Array(0);
  /** Bytes of the packets it holds (bounded by `maxhold_bytes`). */
  heldBytes = new Float64Array(0);

  // --- lists ------------------------------------------------------------------------------
  /** Links of the three LRU lists (an entry is on at most one). */
  readonly lru = new Links(0);
  /** Links of the unresolved list. */
  readonly unresolvedLinks = new Links(0);
  /** Links of the two insertion-order lists, and of the free slots (through `next`). */
  readonly order = new Links(0);
  /** Dynamic entries with nothing waiting for them, most recently used first. */
  readonly idle = new SlotList();
  /** Dynamic entries holding packets, most recently used first. */
  readonly holding = new SlotList();
  /** Dynamic entries that are a static route's gateway, most recently used first. */
  readonly gateways = new SlotList();
  /** Unresolved dynamic entries that are not gateways, newest first. */
  readonly unresolved = new SlotList();
  /** The list of each `LruClass`, by its value (none for `Exempt`). */
  private readonly lruLists: readonly (SlotList | undefined)[] = [
    undefined,
    this.idle,
    this.holding,
    this.gateways,
  ];
  /** Host entries in the order they were added (what `arp -a` and the prune pass walk). */
  readonly hostOrder = new SlotList();
  /** Proxy-only entries in the order they were added. */
  readonly proxyOrder = new SlotList();

  // --- lookup -----------------------------------------------------------------------------
  /** Hash buckets of host entries: the first slot of each chain, or NIL. */
  private buckets = new Int32Array(0);
  /** The next slot on the same chain, or NIL. */
  private chain = new Int32Array(0);
  /** buckets.length - 1 (a power of two less one). */
  private bucketMask = 0;
  /** Proxy-only entries by address: a handful at most, set by the operator. */
  private readonly proxies = new Map<Ipv4, number>();
  /** The first free slot (free slots are chained through `order.next`), or NIL. */
  private freeHead = NIL;

  constructor() {
    this.grow(INITIAL_CAPACITY);
  }

  /** The host entry for `ip`, or NIL. */
  host(ip: Ipv4): number {
    const ips = this.ip;
    const chain = this.chain;
    let slot = this.buckets[hashIpv4(ip) & this.bucketMask]!;
    while (slot !== NIL) {
      if (ips[slot] === ip) return slot;
      slot = chain[slot]!;
    }
    return NIL;
  }

  /** The proxy-only entry for `ip`, or NIL. */
  proxy(ip: Ipv4): number {
    return this.proxies.get(ip) ?? NIL;
  }

  /** The entry to answer requests for `ip` with: proxy-only first, then a published host entry. */
  published(ip: Ipv4): number {
    const proxy = this.proxies.get(ip);
    if (proxy !== undefined) return proxy;
    const host = this.host(ip);
    return host !== NIL && (this.flags[host]! & Flag.Published) !== 0 ? host : NIL;
  }

  /** Number of entries of both kinds. */
  get size(): number {
    return this.hostOrder.size + this.proxyOrder.size;
  }

  /** Number of dynamic entries (what `max_entries` caps). */
  get dynamicCount(): number {
    return this.idle.size + this.holding.size + this.gateways.size;
  }

  /** Whether `slot` holds an entry that is in the table. */
  isLive(slot: number): boolean {
    return (this.flags[slot]! & Flag.Live) !== 0;
  }

  /** Whether flag `bit` is set on `slot`. */
  has(slot: number, bit: number): boolean {
    return (this.flags[slot]! & bit) !== 0;
  }

  /** Sets or clears flag `bit` on `slot`. */
  setFlag(slot: number, bit: number, on: boolean): void {
    const flags = this.flags[slot]!;
    this.flags[slot] = on ? flags | bit : flags & ~bit;
  }

  /**
   * Adds an entry for `ip` (not in the table yet) as a host entry, or as a proxy-only one, at
   * the end of its insertion order. It starts unresolved, permanent, on no list, holding
   * nothing (a free slot holds nothing: `release` takes only such slots); returns its slot.
   */
  insert(ip: Ipv4, ifIndex: number, sourceIp: Ipv4, proxyOnly: boolean): number {
    if (this.freeHead === NIL) this.grow(this.capacity * 2);
    const slot = this.freeHead;
    this.freeHead = this.order.next[slot]!;
    this.ip[slot] = ip;
    this.mac[slot] = NO_MAC;
    this.expire[slot] = PERMANENT;
    this.macSetAt[slot] = 0;
    this.asked[slot] = 0;
    this.preempt[slot] = 0;
    this.ifIndex[slot] = ifIndex;
    this.sourceIp[slot] = sourceIp;
    this.usedSec[slot] = -1;
    this.lruClass[slot] = LruClass.Exempt;
    if (proxyOnly) {
      this.flags[slot] = Flag.Live | Flag.ProxyOnly;
      this.proxies.set(ip, slot);
      this.order.pushBack(this.proxyOrder, slot);
    } else {
      this.flags[slot] = Flag.Live;
      const bucket = hashIpv4(ip) & this.bucketMask;
      this.chain[slot] = this.buckets[bucket]!;
      this.buckets[bucket] = slot;
      this.order.pushBack(this.hostOrder, slot);
    }
    return slot;
  }

  /**
   * Takes `slot` out of the table: lookups no longer find it, and it is on no list (its LRU
   * class `Exempt`). Its fields stay readable (for the event that reports it) until `release`
   * returns the slot for reuse.
   */
  unlink(slot: number): void {
    const flags = this.flags[slot]!;
    const lruClass = this.lruClass[slot]!;
    if (lruClass !== LruClass.Exempt) {
      this.lru.remove(this.lruLists[lruClass]!, slot);
      this.lruClass[slot] = LruClass.Exempt;
    }
    if ((flags & Flag.Unresolved) !== 0) this.unresolvedLinks.remove(this.unresolved, slot);
    if ((flags & Flag.ProxyOnly) !== 0) {
      this.unlinkProxy(slot);
    } else {
      const bucket = hashIpv4(this.ip[slot]!) & this.bucketMask;
      let at = this.buckets[bucket]!;
      if (at === slot) {
        this.buckets[bucket] = this.chain[slot]!;
      } else {
        while (this.chain[at] !== slot) at = this.chain[at]!;
        this.chain[at] = this.chain[slot]!;
      }
      this.order.remove(this.hostOrder, slot);
    }
    this.flags[slot] = flags & ~(Flag.Live | Flag.Unresolved);
  }

  /** `unlink` for a proxy-only entry (rare: apart, to keep `unlink` small enough to inline). */
  private unlinkProxy(slot: number): void {
    this.proxies.delete(this.ip[slot]!);
    this.order.remove(this.proxyOrder, slot);
  }

  /** Returns an unlinked slot (on no list, holding nothing) for reuse. */
  release(slot: number): void {
    this.order.next[slot] = this.freeHead;
    this.freeHead = slot;
  }

  /** Moves `slot` to the list of `lruClass` (at its front), if it is not there already. */
  setClass(slot: number, lruClass: LruClassValue): void {
    const current = this.lruClass[slot]!;
    if (current === lruClass) return;
    const lists = this.lruLists;
    if (current !== LruClass.Exempt) this.lru.remove(lists[current]!, slot);
    this.lruClass[slot] = lruClass;
    if (lruClass !== LruClass.Exempt) this.lru.pushFront(lists[lruClass]!, slot);
  }

  /** Puts `slot` on or takes it off the unresolved list. */
  setUnresolved(slot: number, unresolved: boolean): void {
    const flags = this.flags[slot]!;
    if (unresolved === ((flags & Flag.Unresolved) !== 0)) return;
    if (unresolved) {
      this.flags[slot] = flags | Flag.Unresolved;
      this.unresolvedLinks.pushFront(this.unresolved, slot);
    } else {
      this.flags[slot] = flags & ~Flag.Unresolved;
      this.unresolvedLinks.remove(this.unresolved, slot);
    }
  }

  /** Marks `slot` used in second `nowSec`: to the front of its list, at most once a second. */
  touch(slot: number, nowSec: number): void {
    const second = nowSec | 0;
    if (this.usedSec[slot] === second) return;
    this.usedSec[slot] = second;
    const lruClass = this.lruClass[slot]!;
    if (lruClass !== LruClass.Exempt) this.lru.moveToFront(this.lruLists[lruClass]!, slot);
  }

  /** The host entries' slots, then the proxy-only ones', each in insertion order. */
  slots(): number[] {
    const out: number[] = [];
    for (const list of [this.hostOrder, this.proxyOrder]) {
      for (let slot = list.head; slot !== NIL; slot = this.order.next[slot]!) out.push(slot);
    }
    return out;
  }

  /** Grows every column to `capacity` slots (a power of two) and rebuilds the hash buckets. */
  private grow(capacity: number): void {
    const old = this.capacity;
    this.ip = grownUint32(this.ip, capacity);
    this.mac = grownFloat64(this.mac, capacity);
    this.expire = grownFloat64(this.expire, capacity);
    this.macSetAt = grownFloat64(this.macSetAt, capacity);
    this.asked = grownInt32(this.asked, capacity, 0);
    this.preempt = grownInt32(this.preempt, capacity, 0);
    this.ifIndex = grownInt32(this.ifIndex, capacity, 0);
    this.sourceIp = grownUint32(this.sourceIp, capacity);
    this.usedSec = grownInt32(this.usedSec, capacity, 0);
    const flags = new Uint16Array(capacity);
    flags.set(this.flags);
    this.flags = flags;
    const lruClass = new Uint8Array(capacity);
    lruClass.set(this.lruClass);
    this.lruClass = lruClass;
    this.heldFirst = grownInt32(this.heldFirst, capacity, NIL);
    this.heldLast = grownInt32(this.heldLast, capacity, NIL);
    this.heldCount = grownInt32(this.heldCount, capacity, 0);
    this.heldBytes = grownFloat64(this.heldBytes, capacity);
    this.lru.grow(capacity);
    this.unresolvedLinks.grow(capacity);
    this.order.grow(capacity);
    this.capacity = capacity;
    // The new slots become free, lowest first, so that entries fill the columns in order.
    for (let slot = capacity - 1; slot >= old; slot--) {
      this.order.next[slot] = this.freeHead;
      this.freeHead = slot;
    }
    // As many buckets as slots: chains stay short, and a subnet's addresses never collide.
    this.buckets = new Int32Array(capacity).fill(NIL);
    this.chain = new Int32Array(capacity).fill(NIL);
    this.bucketMask = capacity - 1;
    for (let slot = this.hostOrder.head; slot !== NIL; slot = this.order.next[slot]!) {
      const bucket = hashIpv4(this.ip[slot]!) & this.bucketMask;
      this.chain[slot] = this.buckets[bucket]!;
      this.buckets[bucket] = slot;
    }
  }
}
