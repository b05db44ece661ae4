/**
 * The hold queue's own mechanics (hold-queue.ts): against a plain model, through many random
 * holds, deliveries and drops, each entry's packets stay in the order held, the engine-wide
 * oldest is always the packet held longest of those still held, and slots are reused and the
 * columns grown under them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HoldQueue } from './hold-queue.ts';
import { NeighborTable, NIL } from './table.ts';

/** A deterministic pseudo-random sequence (xorshift32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

/** A held packet in the model: its entry, and the packet itself. */
interface Held {
  readonly entry: number;
  readonly packet: Uint8Array;
}

describe('the hold queue', () => {
  for (const seed of [1, 2, 3, 0xdead_beef]) {
    it(`keeps every entry's packets and the engine-wide order (seed ${seed})`, () => {
      const next = random(seed);
      const table = new NeighborTable();
      const entries = Array.from({ length: 40 }, (_, i) =>
        table.insert(0x0a_00_00_00 + i, 0, 1, false),
      );
      const queue = new HoldQueue(table);
      // The model: every held packet, oldest first.
      let model: Held[] = [];
      let maxHeld = 0;
      for (let step = 0; step < 20_000; step++) {
        const entry = entries[Math.floor(next() * entries.length)]!;
        const roll = next();
        if (roll < 0.55) {
          const packet = new Uint8Array(1 + Math.floor(next() * 100));
          queue.setHeldAt(queue.add(entry, packet), step);
          model.push({ entry, packet });
        } else if (roll < 0.8) {
          if (table.heldCount[entry] === 0) continue;
          const packet = queue.removeOldest(entry);
          const index = model.findIndex((held) => held.entry === entry);
          assert.equal(packet, model[index]!.packet, 'an entry gives up its oldest packet');
          model.splice(index, 1);
        } else if (roll < 0.9) {
          const taken: Uint8Array[] = [];
          const count = queue.removeAll(entry, taken);
          const expected = model.filter((held) => held.entry === entry).map((h) => h.packet);
          assert.equal(count, expected.length);
          assert.deepEqual(taken, expected, 'every packet of the entry, oldest first');
          model = model.filter((held) => held.entry !== entry);
        } else {
          // The engine-wide oldest, as hold_timeout takes it.
          const oldest = queue.oldest;
          if (model.length === 0) {
            assert.equal(oldest, NIL);
            continue;
          }
          assert.notEqual(oldest, NIL);
          assert.equal(queue.ownerOf(oldest), model[0]!.entry);
          assert.equal(queue.removeOldest(model[0]!.entry), model[0]!.packet);
          model.shift();
        }
        maxHeld = Math.max(maxHeld, model.length);
        assert.equal(queue.size, model.length);
      }
      assert.ok(maxHeld > 100, 'the queue grew well past its first capacity');
      // Every entry's count and bytes agree with the model; then everything drains in order.
      for (const entry of entries) {
        const mine = model.filter((held) => held.entry === entry);
        assert.equal(table.heldCount[entry], mine.length);
        assert.equal(
          table.heldBytes[entry],
          mine.reduce((sum, held) => sum + held.packet.length, 0),
        );
      }
      for (const held of model) {
        const oldest = queue.oldest;
        assert.equal(queue.ownerOf(oldest), held.entry);
        assert.equal(queue.removeOldest(held.entry), held.packet);
      }
      assert.equal(queue.oldest, NIL);
      assert.equal(queue.size, 0);
    });
  }
});
