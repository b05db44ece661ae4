/**
 * The table's own mechanics (table.ts): lookups through the hash chains, including addresses
 * that share a bucket, while entries come and go and the columns grow; the insertion order
 * that `arp -a` and the prune pass walk; slots reused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Flag, NeighborTable, NIL } from './table.ts';

/** Every host entry's address, in the table's order. */
function order(table: NeighborTable): number[] {
  return table.slots().map((slot) => table.ip[slot]!);
}

describe('the neighbour table', () => {
  it('finds every address, those sharing a bucket too, through removals and growth', () => {
    const table = new NeighborTable();
    // One /16, addresses 16 apart: with the 16 buckets of a new table they all share one.
    const colliding = Array.from({ length: 12 }, (_, i) => 0x0a_00_00_00 + 16 * i);
    for (const ip of colliding) table.insert(ip, 0, 1, false);
    for (const ip of colliding) assert.equal(table.ip[table.host(ip)]!, ip);
    assert.equal(table.host(0x0a_00_00_08), NIL, 'an address in the same bucket, absent');

    // Out of the head, the middle and the end of the chain.
    for (const ip of [colliding[0]!, colliding[5]!, colliding[11]!]) {
      table.unlink(table.host(ip));
    }
    const left = colliding.filter((_, i) => i !== 0 && i !== 5 && i !== 11);
    for (const ip of left) assert.equal(table.ip[table.host(ip)]!, ip);
    assert.equal(table.host(colliding[5]!), NIL);

    // Past the first capacity (16), and far past it: the buckets are rebuilt each time.
    const more = Array.from({ length: 5000 }, (_, i) => 0x0b_00_00_00 + 7 * i);
    for (const ip of more) table.insert(ip, 0, 1, false);
    assert.ok(table.capacity >= 5009);
    for (const ip of [...left, ...more]) assert.equal(table.ip[table.host(ip)]!, ip);
    assert.equal(table.size, left.length + more.length);
    assert.deepEqual(order(table), [...left, ...more]);
  });

  it('keeps the insertion order, puts a re-added address last, and reuses freed slots', () => {
    const table = new NeighborTable();
    const a = table.insert(0x0a_00_00_01, 0, 1, false);
    const b = table.insert(0x0a_00_00_02, 0, 1, false);
    table.insert(0x0a_00_00_03, 0, 1, false);
    table.unlink(b);
    table.release(b);
    assert.equal(table.isLive(b), false);
    const again = table.insert(0x0a_00_00_02, 0, 1, false);
    assert.equal(again, b, 'the freed slot is taken first');
    assert.deepEqual(order(table), [0x0a_00_00_01, 0x0a_00_00_03, 0x0a_00_00_02]);
    assert.equal(table.isLive(a), true);
  });

  it('keeps proxy-only entries apart from host entries with the same address', () => {
    const table = new NeighborTable();
    const host = table.insert(0x0a_00_00_05, 0, 1, false);
    const proxy = table.insert(0x0a_00_00_05, 0, 1, true);
    assert.equal(table.host(0x0a_00_00_05), host);
    assert.equal(table.proxy(0x0a_00_00_05), proxy);
    assert.equal(table.has(proxy, Flag.ProxyOnly), true);
    assert.equal(table.published(0x0a_00_00_05), proxy);
    table.unlink(proxy);
    assert.equal(table.proxy(0x0a_00_00_05), NIL);
    assert.equal(table.published(0x0a_00_00_05), NIL, 'the host entry is not published');
    table.setFlag(host, Flag.Published, true);
    assert.equal(table.published(0x0a_00_00_05), host);
    assert.deepEqual(table.slots(), [host]);
  });
});
