/**
 * A neighbour cache entry: the seed's cloned host route (rtentry) with its llinfo_arp, in one
 * object. Times are whole seconds, as the seed's rt_expire and time_second are.
 *
 * The fields mirror the seed; the state an entry is in is derived from them by `entryState`,
 * so that no combination of flags can disagree with a separately stored state:
 *
 * | state      | seed condition                                                   |
 * |------------|------------------------------------------------------------------|
 * | local      | key is one of our addresses (arp_rtrequest's loopback fix-up)    |
 * | down       | RTF_REJECT and time_second < rt_expire (or permanent)            |
 * | incomplete | sdl_alen == 0                                                    |
 * | permanent  | sdl_alen != 0 and rt_expire == 0                                 |
 * | resolved   | sdl_alen != 0 and rt_expire > time_second                        |
 * | expired    | sdl_alen != 0 and rt_expire <= time_second (not pruned yet)      |
 */
import type { Ipv4, Mac } from '../wire/addr.ts';
import type { Linked } from './dlist.ts';
import type { HeldPacket } from './hold-queue.ts';
import type { UnresolvedMark } from './table.ts';

/**
 * `expire` of an entry that never expires. The seed uses rt_expire == 0; netarp's clock may
 * start at 0, so "never" is Infinity, which every comparison the seed makes treats the same
 * way (`expire > now` holds, `expire <= now` does not).
 */
export const PERMANENT = Number.POSITIVE_INFINITY;

/** Marks "no link-layer address yet" (sdl_alen == 0). */
export const NO_MAC = -1;

/**
 * Which eviction list a host entry is on (see `NeighborTable`): `exempt` entries (ours,
 * static, published, or not in the table) are on none and never evicted; dynamic entries are
 * `idle`, `holding` (packets wait for them) or `gateway` (a static route's next hop), and are
 * evicted in that order of preference when the table is full.
 */
export type EntryClass = 'exempt' | 'idle' | 'holding' | 'gateway';

/** The derived state of an entry at a given second. */
export type EntryState = 'local' | 'down' | 'incomplete' | 'permanent' | 'resolved' | 'expired';

/** One neighbour (rtentry + llinfo_arp). */
export class Entry implements Linked<Entry> {
  /** The link-layer address, or NO_MAC. */
  mac: Mac = NO_MAC;
  /** rt_expire in whole seconds; PERMANENT (the seed's 0) for entries that never expire. */
  expire = PERMANENT;
  /** la_asked: requests sent since the entry was last resolved or reset. */
  asked = 0;
  /** la_preempt: pre-expiry refresh requests still allowed. */
  preempt = 0;
  /** RTF_REJECT: the host is down; sends fail until `expire`. */
  reject = false;
  /** RTF_STATIC: added by the operator (arp -s), never deleted by the prune pass. */
  isStatic = false;
  /** One of our own addresses (permanent, the interface MAC). */
  isLocal = false;
  /** arp -s ... pub: we answer requests for this address with `mac`. */
  published = false;
  /** arp -s ... pub only (SIN_PROXY): published, and not used for our own traffic. */
  proxyOnly = false;
  /** la_hold: packets waiting for `mac`, oldest first (at most `maxhold`). */
  held: HeldPacket[] | undefined = undefined;
  /** Bytes of the packets in `held` (bounded by `maxhold_bytes`). */
  heldBytes = 0;
  /** The eviction list the entry is on; kept right by `EngineState.relist`. */
  lruClass: EntryClass = 'exempt';
  /** The newer neighbour on the entry's eviction list. */
  prev: Entry | undefined = undefined;
  /** The older neighbour on the entry's eviction list. */
  next: Entry | undefined = undefined;
  /**
   * The second the entry was last moved to the front of its list (one move a second). An
   * integer, not -Infinity, so that V8 keeps it unboxed; a stale -1 costs one skipped move.
   */
  usedSec = -1;
  /** Its place on the list of unresolved entries (`max_incomplete`), while it is on it. */
  unresolved: UnresolvedMark | undefined = undefined;
  /** When `mac` was last set or changed, in milliseconds: the start of `locktime`. */
  macSetAt = 0;
  /** A request for this entry went out and no answer has been taken since (`accept`). */
  requestOutstanding = false;

  constructor(
    /** The neighbour's address (rt_key). */
    readonly ip: Ipv4,
    /** rt_ifp: the interface the neighbour is on. */
    public ifIndex: number,
    /** The interface address covering `ip` (rt_ifa): the SPA of our requests. */
    public sourceIp: Ipv4,
  ) {}
}

/** Which state `entry` is in at second `nowSec`. */
export function entryState(entry: Entry, nowSec: number): EntryState {
  if (entry.isLocal) return 'local';
  if (entry.reject && nowSec < entry.expire) return 'down';
  if (entry.mac === NO_MAC) return 'incomplete';
  if (entry.expire === PERMANENT) return 'permanent';
  return entry.expire > nowSec ? 'resolved' : 'expired';
}
