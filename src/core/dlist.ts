/**
 * An intrusive doubly linked list: the links live in the items themselves, so adding,
 * removing and moving an item to the front are O(1) and allocate nothing. The arpwatch
 * history (watch.ts) is such a list of objects; the table's LRU orders, its unresolved
 * entries and the held packets are the same lists over slot numbers, with their links in
 * columns (`Links` in table.ts).
 *
 * A `Map` used as an ordered set (delete + set to move to the back, the first key as the
 * oldest) was measured and rejected: V8 leaves a hole for every deleted key until it rehashes,
 * and finding the first live key walks the holes, so "evict the oldest" degrades to O(n)
 * under churn (see docs/design.md, "Table limits").
 */

/** An item that can be on one list at a time (the list owns `prev` and `next`). */
export interface Linked<T> {
  /** The neighbour towards the front (newer), or undefined. */
  prev: T | undefined;
  /** The neighbour towards the back (older), or undefined. */
  next: T | undefined;
}

/** A list whose front is the newest item and whose back the oldest. */
export class DList<T extends Linked<T>> {
  /** The newest item. */
  head: T | undefined = undefined;
  /** The oldest item. */
  tail: T | undefined = undefined;
  /** How many items are on the list. */
  size = 0;

  /** Adds `item` (on no list) at the front. */
  pushFront(item: T): void {
    item.prev = undefined;
    item.next = this.head;
    if (this.head) this.head.prev = item;
    else this.tail = item;
    this.head = item;
    this.size++;
  }

  /** Adds `item` (on no list) at the back. */
  pushBack(item: T): void {
    item.next = undefined;
    item.prev = this.tail;
    if (this.tail) this.tail.next = item;
    else this.head = item;
    this.tail = item;
    this.size++;
  }

  /** Takes `item`, which must be on this list, off it. */
  remove(item: T): void {
    if (item.prev) item.prev.next = item.next;
    else this.head = item.next;
    if (item.next) item.next.prev = item.prev;
    else this.tail = item.prev;
    item.prev = undefined;
    item.next = undefined;
    this.size--;
  }

  /** Moves `item`, which must be on this list, to the front. */
  moveToFront(item: T): void {
    if (this.head === item) return;
    this.remove(item);
    this.pushFront(item);
  }
}
