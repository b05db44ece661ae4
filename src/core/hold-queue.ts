/**
 * Held packets (the seed's la_hold, grown into a queue). Each entry keeps its own packets,
 * oldest first; every held packet of every entry is also on one engine-wide list in the order
 * it was held. Because `hold_timeout` is the same for every packet, that order is also the
 * order of their deadlines, so the next packet to age out is always the list's oldest and
 * `pollTimeout` needs no heap and no periodic tick.
 *
 * Like the table, the queue is columns indexed by a packet slot (the packet itself, its entry,
 * when it was held, its links), so holding and delivering a packet allocate nothing; an
 * entry's first and last packet and its counts are columns of the table.
 *
 * Bounds (per entry): `maxhold` packets and `maxhold_bytes` bytes, the oldest dropped first,
 * but the newest packet is always kept, as Linux's __neigh_event_send does with
 * unres_qlen_bytes; so with the default `maxhold` of 1 the seed's behaviour (the newest packet
 * replaces the held one, whatever its size) is unchanged.
 */
import { Links, type NeighborTable, NIL, SlotList } from './table.ts';

/** Packet slots a new queue starts with. */
const INITIAL_CAPACITY = 16;

/** Every held packet, newest at the front of the engine-wide list. */
export class HoldQueue {
  private capacity = 0;
  /** The IPv4 packet in each slot, as the caller handed it to `resolve` (undefined: free). */
  private packets: (Uint8Array | undefined)[] = [];
  /** The entry (table slot) each packet waits for. */
  private owner = new Int32Array(0);
  /** When each packet was held, in milliseconds. */
  private heldAtColumn = new Float64Array(0);
  /** The entry's next newer packet, or NIL. */
  private nextOfEntry = new Int32Array(0);
  /** Links of the engine-wide list (and of the free slots, through `next`). */
  private readonly links = new Links(0);
  private readonly list = new SlotList();
  private freeHead = NIL;

  constructor(private readonly table: NeighborTable) {
    this.grow(INITIAL_CAPACITY);
  }

  /** Number of packets held engine-wide. */
  get size(): number {
    return this.list.size;
  }

  /** The slot of the packet held longest, or NIL. */
  get oldest(): number {
    return this.list.tail;
  }

  /** When the packet in `slot` was held, in milliseconds. */
  heldAt(slot: number): number {
    return this.heldAtColumn[slot]!;
  }

  /** The entry the packet in `slot` waits for. */
  ownerOf(slot: number): number {
    return this.owner[slot]!;
  }

  /**
   * Holds `packet` for `entry` (after the entry's older ones); returns its slot, whose time
   * the caller then sets (`setHeldAt`).
   */
  add(entry: number, packet: Uint8Array): number {
    if (this.freeHead === NIL) this.grow(this.capacity * 2);
    const slot = this.freeHead;
    this.freeHead = this.links.next[slot]!;
    this.packets[slot] = packet;
    this.owner[slot] = entry;
    this.nextOfEntry[slot] = NIL;
    const table = this.table;
    const last = table.heldLast[entry]!;
    if (last === NIL) table.heldFirst[entry] = slot;
    else this.nextOfEntry[last] = slot;
    table.heldLast[entry] = slot;
    table.heldCount[entry] = table.heldCount[entry]! + 1;
    table.heldBytes[entry] = table.heldBytes[entry]! + packet.length;
    this.links.pushFront(this.list, slot);
    return slot;
  }

  /**
   * Sets when the packet in `slot` was held, in milliseconds. Apart from `add` so that the
   * time, a double, is not boxed to be passed to a function the compiler may not inline.
   */
  setHeldAt(slot: number, now: number): void {
    this.heldAtColumn[slot] = now;
  }

  /** Removes and returns the oldest packet `entry` holds (it must hold one). */
  removeOldest(entry: number): Uint8Array {
    const table = this.table;
    const slot = table.heldFirst[entry]!;
    const next = this.nextOfEntry[slot]!;
    table.heldFirst[entry] = next;
    if (next === NIL) table.heldLast[entry] = NIL;
    table.heldCount[entry] = table.heldCount[entry]! - 1;
    const packet = this.free(slot);
    table.heldBytes[entry] = table.heldBytes[entry]! - packet.length;
    return packet;
  }

  /**
   * Removes every packet `entry` holds; appends them, oldest first, to `into` when given.
   * Returns how many there were.
   */
  removeAll(entry: number, into?: Uint8Array[]): number {
    const table = this.table;
    let count = 0;
    for (let slot = table.heldFirst[entry]!; slot !== NIL; count++) {
      const next = this.nextOfEntry[slot]!;
      const packet = this.free(slot);
      into?.push(packet);
      slot = next;
    }
    table.heldFirst[entry] = NIL;
    table.heldLast[entry] = NIL;
    table.heldCount[entry] = 0;
    table.heldBytes[entry] = 0;
    return count;
  }

  /** Takes `slot` off the engine-wide list and returns it for reuse; returns its packet. */
  private free(slot: number): Uint8Array {
    const packet = this.packets[slot]!;
    this.packets[slot] = undefined;
    this.links.remove(this.list, slot);
    this.links.next[slot] = this.freeHead;
    this.freeHead = slot;
    return packet;
  }

  private grow(capacity: number): void {
    const old = this.capacity;
    const owner = new Int32Array(capacity);
    owner.set(this.owner);
    this.owner = owner;
    const heldAt = new Float64Array(capacity);
    heldAt.set(this.heldAtColumn);
    this.heldAtColumn = heldAt;
    const nextOfEntry = new Int32Array(capacity).fill(NIL);
    nextOfEntry.set(this.nextOfEntry);
    this.nextOfEntry = nextOfEntry;
    this.links.grow(capacity);
    for (let slot = old; slot < capacity; slot++) this.packets.push(undefined);
    this.capacity = capacity;
    for (let slot = capacity - 1; slot >= old; slot--) {
      this.links.next[slot] = this.freeHead;
      this.freeHead = slot;
    }
  }
}
