/**
 * arptimer, the prune pass: every `prune_intvl` seconds, free the entries whose time is up.
 * One still referenced (the gateway of a route) or static is only reset to unresolved
 * (arptfree, l.1146).
 *
 * The seed walks the whole table in one timer call. At a million entries that blocks the
 * event loop for a long time (every input waits behind it), so the pass is cut into slices of
 * bounded work: `run` does at most a budget's worth and remembers where it stopped, and the
 * engine reports the timer due again at once until the pass is through. The pass judges every
 * entry against the second it started in, and examines only the entries that existed then
 * (those added later are behind `last`), so its outcome is the seed's single pass as of that
 * second, except for an entry an input changed in between, which is judged as it is when the
 * pass reaches it (docs/design.md, "The prune pass in slices").
 */
import { NO_MAC, PERMANENT } from './entry.ts';
import type { EngineState } from './state.ts';
import { Flag, type NeighborTable, NIL } from './table.ts';

/** Budget units an examined entry costs. */
export const PRUNE_COST_EXAMINED = 1;
/** Budget units an entry freed or reset costs (it is unlinked and reported): some 32 examined. */
export const PRUNE_COST_CHANGED = 32;

/** The pass in progress, if any: how far it got in each of the two lists it walks. */
export class PrunePass {
  /** Whether a pass is under way. */
  active = false;
  /** When the engine should resume the pass (milliseconds): the last slice's time. */
  resumeAt = 0;
  /** The second the pass judges expiry against (the second it started in). */
  private second = 0;
  /**
   * Per list walked (the host entries, then the proxy-only ones): the next slot to examine,
   * or NIL when that list is done.
   */
  private readonly cursors = [NIL, NIL];
  /** Per list: the last slot that existed when the pass started. */
  private readonly lasts = [NIL, NIL];

  /** Starts a pass at `state.nowSec` / `state.nowMs`. */
  start(state: EngineState): void {
    const { hostOrder, proxyOrder } = state.table;
    this.active = true;
    this.second = state.nowSec;
    this.resumeAt = state.nowMs;
    this.cursors[0] = hostOrder.head;
    this.lasts[0] = hostOrder.tail;
    this.cursors[1] = proxyOrder.head;
    this.lasts[1] = proxyOrder.tail;
  }

  /**
   * The entry in `slot` is about to leave the table: if the pass was to examine it next, or
   * last, move on from it. (Small, so that the compiler inlines it into every removal: most
   * removals happen with no pass under way.)
   */
  forget(table: NeighborTable, slot: number): void {
    if (this.active) this.forgetDuringPass(table, slot);
  }

  private forgetDuringPass(table: NeighborTable, slot: number): void {
    for (let list = 0; list < 2; list++) {
      const cursor = this.cursors[list]!;
      if (cursor === NIL) continue;
      if (slot === this.lasts[list]) {
        if (slot === cursor) this.cursors[list] = NIL;
        else this.lasts[list] = table.order.prev[slot]!;
      } else if (slot === cursor) {
        this.cursors[list] = table.order.next[slot]!;
      }
    }
  }

  /**
   * Examines entries until the pass is through or `budget` units are spent; returns whether
   * the pass is through.
   */
  run(state: EngineState, budget: number): boolean {
    const { table, stats, routes } = state;
    const now = this.second;
    for (let list = 0; list < 2; list++) {
      while (this.cursors[list] !== NIL) {
        if (budget <= 0) return false;
        const slot = this.cursors[list]!;
        this.cursors[list] = slot === this.lasts[list] ? NIL : table.order.next[slot]!;
        budget -= PRUNE_COST_EXAMINED;
        const expire = table.expire[slot]!;
        if (expire === PERMANENT || expire > now) continue;
        const mac = table.mac[slot]!;
        const flags = table.flags[slot]!;
        // Differs from if_ether.c: an entry whose request went out this second or the one
        // before is not freed: its resolution is under way. The seed frees it (its rt_expire
        // is the time of the request), so a reply arriving a moment later finds no entry, the
        // held packet is lost, and the asking starts over, past maxtries.
        if (
          mac === NO_MAC &&
          table.asked[slot]! > 0 &&
          (flags & Flag.Reject) === 0 &&
          expire >= now - 1
        ) {
          continue;
        }
        budget -= PRUNE_COST_CHANGED;
        if ((flags & Flag.Static) !== 0 || routes.isGatewayReferenced(table.ip[slot]!)) {
          table.mac[slot] = NO_MAC;
          table.preempt[slot] = 0;
          table.asked[slot] = 0;
          table.flags[slot] = flags & ~Flag.Reject;
          state.relist(slot);
          if (mac !== NO_MAC) state.report('change', slot, 'expired');
          continue;
        }
        stats.timeouts++;
        state.deleteEntry(slot, 'expired');
      }
    }
    this.active = false;
    return true;
  }
}
