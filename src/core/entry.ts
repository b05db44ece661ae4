/**
 * A neighbour cache entry: the seed's cloned host route (rtentry) with its llinfo_arp. Times
 * are whole seconds, as the seed's rt_expire and time_second are.
 *
 * The entries live in the packed columns of `NeighborTable` (one typed array per field,
 * indexed by slot; see docs/design.md, "The table's memory layout"); this module names the
 * values those fields take. The state an entry is in is derived from its fields by
 * `entryState`, so that no combination of flags can disagree with a separately stored state:
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
import type { Mac } from '../wire/addr.ts';

/**
 * `expire` of an entry that never expires. The seed uses rt_expire == 0; netarp's clock may
 * start at 0, so "never" is Infinity, which every comparison the seed makes treats the same
 * way (`expire > now` holds, `expire <= now` does not).
 */
export const PERMANENT = Number.POSITIVE_INFINITY;

/** Marks "no link-layer address yet" (sdl_alen == 0). */
export const NO_MAC = -1;

/** The derived state of an entry at a given second. */
export type EntryState = 'local' | 'down' | 'incomplete' | 'permanent' | 'resolved' | 'expired';

/** The fields `entryState` reads. */
export interface EntryStateFields {
  /** One of our own addresses. */
  readonly isLocal: boolean;
  /** RTF_REJECT: the host is down until `expire`. */
  readonly reject: boolean;
  /** rt_expire in whole seconds, PERMANENT for never. */
  readonly expire: number;
  /** The link-layer address, or NO_MAC. */
  readonly mac: Mac;
}

/** Which state an entry with these fields is in at second `nowSec`. */
export function entryState(entry: EntryStateFields, nowSec: number): EntryState {
  if (entry.isLocal) return 'local';
  if (entry.reject && nowSec < entry.expire) return 'down';
  if (entry.mac === NO_MAC) return 'incomplete';
  if (entry.expire === PERMANENT) return 'permanent';
  return entry.expire > nowSec ? 'resolved' : 'expired';
}
