/**
 * The stress scenarios at 1/20 of the size (`npm run stress` runs them at full size),
 * each in a process of its own: table sizes and counters exact, memory under ceilings with
 * generous headroom, and flat once the caps are reached. No timing is asserted.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ScenarioResult } from './scenarios.ts';
import { runWorker } from './workers.ts';

const SCALE = 1 / 20;
const MiB = 1024 * 1024;
/** The most memory a table entry may take here: about four times what one takes (docs/security.md). */
const ENTRY_CEILING = 1024;

/** Asserts that retained memory did not grow from the first checkpoint to the last by more than `slack`. */
function assertFlat(r: ScenarioResult, slack: number): void {
  const retained = r.checkpoints.map((c) => c.heapRetained);
  const growth = retained.at(-1)! - retained[0]!;
  assert.ok(
    growth <= slack,
    `memory grew ${(growth / MiB).toFixed(2)} MiB after the caps were reached: ${retained.map((b) => (b / MiB).toFixed(2)).join(', ')} MiB`,
  );
}

/** Asserts retained memory over the baseline stays under `ceiling`. */
function assertUnder(r: ScenarioResult, ceiling: number): void {
  const used = Math.max(...r.checkpoints.map((c) => c.heapRetained)) - r.heapBaseline;
  assert.ok(
    used <= ceiling,
    `${(used / MiB).toFixed(2)} MiB retained, ceiling ${(ceiling / MiB).toFixed(2)}`,
  );
}

describe(`stress at 1/${1 / SCALE} of full size`, { timeout: 300_000 }, () => {
  it('1,000,000 senders (here 50,000): the table stays at max_entries, memory flat', async () => {
    const r = await runWorker('senders', SCALE);
    assert.equal(r.inputs, 50_000);
    assert.equal(r.maxEntries, 3277, 'max_entries scaled with the flood');
    assert.equal(r.entries, r.maxEntries + 1, 'the cap, and our own address');
    assert.equal(r.peakEntries, r.maxEntries + 1);
    assert.deepEqual(r.counters, {
      received: r.inputs,
      rxrequests: r.inputs,
      txreplies: r.inputs,
      evicted: r.inputs - r.maxEntries,
    });
    // The first checkpoint (10,000 frames) is past the cap (3,277 senders).
    assertFlat(r, 1 * MiB);
    assertUnder(r, r.maxEntries * ENTRY_CEILING + 2 * MiB);
  });

  it('a request storm for our address from one sender: one entry, one reply each', async () => {
    const r = await runWorker('storm-one', SCALE);
    assert.equal(r.entries, 2);
    assert.deepEqual(r.counters, { received: r.inputs, rxrequests: r.inputs, txreplies: r.inputs });
    assert.deepEqual(r.sink, {
      transmits: r.inputs,
      replies: r.inputs,
      logLines: 0,
      entryEvents: 2,
    });
    assertFlat(r, 1 * MiB);
    assertUnder(r, 2 * MiB);
  });

  it('a request storm from a thousand senders in turn: a thousand entries', async () => {
    const r = await runWorker('storm-many', SCALE);
    assert.equal(r.entries, 1001);
    assert.deepEqual(r.counters, { received: r.inputs, rxrequests: r.inputs, txreplies: r.inputs });
    assert.equal(r.sink.entryEvents, 2000, 'an add and a resolve per sender, once');
    assertFlat(r, 1 * MiB);
    assertUnder(r, 1000 * ENTRY_CEILING + 2 * MiB);
  });

  it('claims on our address: each defended; by default each logged', async () => {
    const r = await runWorker('claims', SCALE);
    assert.equal(r.entries, 1, 'nothing learned');
    assert.deepEqual(r.counters, {
      received: r.inputs,
      rxrequests: r.inputs,
      dupips: r.inputs,
      txreplies: r.inputs,
    });
    assert.equal(r.sink.logLines, r.inputs, 'log_ratelimit 0: one line per frame');
    assertFlat(r, 1 * MiB);
  });

  it('claims on our address with log_ratelimit 1: one line a second, the rest counted', async () => {
    const r = await runWorker('claims-ratelimited', SCALE);
    assert.equal(r.virtualSeconds, 5);
    assert.ok(r.sink.logLines <= 6, `${r.sink.logLines} lines in 5 seconds`);
    assert.equal(r.counters.logSuppressed, r.inputs - r.sink.logLines);
    assert.equal(r.counters.txreplies, r.inputs);
  });

  it('resolve() to 100,000 dead addresses (here 5,000): max_incomplete entries, as many packets', async () => {
    const r = await runWorker('dead', SCALE);
    assert.equal(r.inputs, 5000);
    assert.equal(r.maxIncomplete, 1024);
    assert.equal(r.peakEntries, r.maxIncomplete + 1);
    assert.equal(r.extra.entriesAfterSends, r.maxIncomplete + 1);
    assert.equal(r.extra.heldAfterSends, r.maxIncomplete, 'maxhold 1 per entry');
    assert.equal(r.extra.requestsAfterSends, r.inputs, 'one request per new address');
    assert.equal(r.counters.evictedIncomplete, r.inputs - r.maxIncomplete);
    // Half an hour later the down entries are gone, and their packets with them.
    assert.equal(r.entries, 1);
    assert.equal(r.held, 0);
    assert.equal(r.counters.dropped, r.inputs, 'every packet dropped and counted');
    // 1024 held packets of 1500 bytes, and their entries.
    assertUnder(r, r.maxIncomplete * (1500 + ENTRY_CEILING) + 2 * MiB);
  });

  it('resolve() to dead addresses with max_requests_per_sec 100 and hold_timeout 3', async () => {
    const r = await runWorker('dead-limited', SCALE);
    const sendSeconds = r.inputs * 0.0001;
    const requests = r.extra.requestsAfterSends!;
    assert.ok(requests <= 100 * (sendSeconds + 1), `${requests} requests in ${sendSeconds} s`);
    assert.equal(requests + (r.counters.txRateLimited ?? 0), r.inputs);
    assert.equal(r.extra.heldAfterSends, r.maxIncomplete);
    assert.equal(r.counters.holdTimeouts, r.maxIncomplete, 'the last held packets timed out');
    assert.equal(r.held, 0);
    assert.equal(r.entries, 1);
  });
});
