/**
 * Held packets (the seed's la_hold, grown into a queue). Each entry keeps its own packets,
 * oldest first; every held packet of every entry is also on one engine-wide list in the order
 * it was held. Because `hold_timeout` is the same for every packet, that order is also the
 * order of their deadlines, so the next packet to age out is always the list's oldest and
 * `pollTimeout` needs no heap and no periodic tick.
 *
 * Bounds (per entry): `maxhold` packets and `maxhold_bytes` bytes, the oldest dropped first,
 * but the newest packet is always kept, as Linux's __neigh_event_send does with
 * unres_qlen_bytes; so with the default `maxhold` of 1 the seed's behaviour (the newest packet
 * replaces the held one, whatever its size) is unchanged.
 */
import { DList, type Linked } from './dlist.ts';
import type { Entry } from './entry.ts';

/** One held packet. */
export class HeldPacket implements Linked<HeldPacket> {
  /** The packet held just after this one (engine-wide). */
  prev: HeldPacket | undefined = undefined;
  /** The packet held just before this one (engine-wide). */
  next: HeldPacket | undefined = undefined;

  constructor(
    /** The IPv4 packet, as the caller handed it to `resolve`. */
    readonly packet: Uint8Array,
    /** The entry it waits for. */
    readonly entry: Entry,
    /** When it was held, in milliseconds. */
    readonly heldAt: number,
  ) {}
}

/** Every held packet, newest at the front. */
export class HoldQueue {
  private readonly list = new DList<HeldPacket>();

  /** Number of packets held engine-wide. */
  get size(): number {
    return this.list.size;
  }

  /** The packet held longest, or undefined. */
  get oldest(): HeldPacket | undefined {
    return this.list.tail;
  }

  /** Holds `packet` for `entry` at `now` (after the entry's older ones). */
  add(entry: Entry, packet: Uint8Array, now: number): void {
    const held = new HeldPacket(packet, entry, now);
    if (entry.held) entry.held.push(held);
    else entry.held = [held];
    entry.heldBytes += packet.byteLength;
    this.list.pushFront(held);
  }

  /** Removes and returns the oldest packet `entry` holds (it must hold one). */
  removeOldest(entry: Entry): HeldPacket {
    const held = entry.held!.shift()!;
    this.list.remove(held);
    entry.heldBytes -= held.packet.byteLength;
    if (entry.held!.length === 0) entry.held = undefined;
    return held;
  }

  /** Removes and returns every packet `entry` holds, oldest first. */
  removeAll(entry: Entry): HeldPacket[] {
    const held = entry.held ?? [];
    for (const packet of held) this.list.remove(packet);
    entry.held = undefined;
    entry.heldBytes = 0;
    return held;
  }
}
