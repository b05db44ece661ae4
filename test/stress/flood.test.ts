/**
 * The interop flood at CI size (flood.ts; `npm run stress` runs it at full size): the daemon
 * keeps answering a real kernel peer while 4,096 senders flood it with requests, its table
 * stays at max_entries, and every reply the flood gets is right. Follows the interop skip
 * policy (helpers.ts `interopSuite`); also needs a C compiler for the load generator. Probe
 * success is asserted, not latency: a probe counts as answered within the tools' own
 * one-second wait.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { interopSuite } from '../interop/helpers.ts';
import { floodUnavailableReason, runFlood } from './flood.ts';

interopSuite(
  'stress: a flood of senders against the daemon, a kernel peer pinging it',
  () => {
    it('keeps answering the kernel and the flood, with the table at its cap', {
      timeout: 90_000,
    }, async (t) => {
      const maxEntries = 1024;
      const f = await runFlood({
        hosts: 4096,
        window: 64,
        durationMs: 5000,
        probes: 20,
        maxEntries,
      });
      t.diagnostic(
        `flood ${Math.round(f.flood.repliesPerSecond)} replies/s; kernel ping ${f.during.ping.answered}/${f.during.ping.sent} ` +
          `(p50 ${f.during.ping.p50Ms} ms), arping ${f.during.arping.answered}/${f.during.arping.sent} ` +
          `(p50 ${f.during.arping.p50Ms} ms); daemon RSS peak ${(f.daemon.rssPeak / 2 ** 20).toFixed(1)} MiB`,
      );
      // The quiet baseline works, or the rest means nothing.
      assert.equal(f.baseline.ping.answered, f.baseline.ping.sent, 'pings before the flood');
      assert.equal(f.baseline.arping.answered, f.baseline.arping.sent, 'arpings before the flood');
      // During the flood the kernel still resolves and reaches the daemon.
      assert.ok(
        f.during.arping.answered >= f.during.arping.sent / 2,
        `arping answered ${f.during.arping.answered} of ${f.during.arping.sent} during the flood`,
      );
      assert.ok(
        f.during.ping.answered >= f.during.ping.sent / 2,
        `ping answered ${f.during.ping.answered} of ${f.during.ping.sent} during the flood`,
      );
      // The flood was answered, correctly, and the table stayed at its cap.
      assert.ok(f.flood.valid > 0, 'the flood got replies');
      // The daemon sends every frame to both remotes, so the generator also sees the replies
      // to the kernel's arpings (and to its request before the first ping), which it counts
      // as invalid (their target is not one of its senders): those, and no other.
      assert.ok(
        f.flood.invalid <= f.during.arping.answered + 2,
        `${f.flood.invalid} invalid replies for ${f.during.arping.answered} arpings answered`,
      );
      assert.equal(f.daemon.exitedEarly, false, 'the daemon is still running');
      assert.equal(f.daemon.maxEntries, maxEntries);
      // Our two addresses are local entries, beyond the cap; everything else is dynamic.
      assert.ok(f.daemon.entries <= maxEntries + 2, `${f.daemon.entries} entries`);
      assert.ok((f.daemon.counters.evicted ?? 0) > 0, 'senders beyond the cap evicted others');
      assert.equal(f.daemon.counters.tableFull ?? 0, 0, 'no sender refused: idle entries go first');
    });
  },
  floodUnavailableReason,
);
