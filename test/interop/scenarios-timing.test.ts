/**
 * The seed's timers against real time, with the Linux kernel as the peer (see
 * daemon-harness.ts), small sysctl values keeping each test to a few seconds:
 *
 * - an on-link host nobody has: arpresolve sends at most one request a second, `maxtries` of
 *   them, then the entry is down (RTF_REJECT) for `host_down_time` and sends fail at once
 *   (l.555-569, RFC 1122 section 2.3.2.1); after the window asking starts again;
 * - ageing: a learned entry expires `max_age` after it was confirmed and the prune pass,
 *   every `prune_intvl`, frees it (arptimer, l.178-188);
 * - with `unicast_refresh`, the pre-expiry refresh (la_preempt, l.524) is a unicast request
 *   to the MAC the entry has, which the kernel answers.
 *
 * The kernel-side tcpdump stamps each frame when it reaches the kernel's vx0, so the spacing
 * checked is the spacing on the wire, not the daemon's intent.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sleep, waitFor } from '../support/wait.ts';
import { parseTcpdumpArp, type SeenArp, withLab } from './daemon-harness.ts';
import { interopSuite } from './helpers.ts';

/** Namespaces, a daemon and real tools: each test stays well under this. */
const TEST_TIMEOUT_MS = 25_000;

/** Slack for scheduling (node timers, the daemon's event loop, VXLAN delivery), in ms. */
const SLACK_MS = 350;

interopSuite('netarp daemon scenarios: retries, host-down window and ageing in real time', () => {
  it('9: an unreachable on-link host: maxtries requests 1 s apart, down for host_down_time, then asked again', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    await withLab(async (lab) => {
      const site = lab.site;
      const maxtries = 3;
      const downTime = 3;
      const daemon = await lab.startDaemon(
        lab.config({ maxtries, host_down_time: downTime, prune_intvl: 600 }),
      );
      const capture = await lab.capture();
      const missing = site.address(77);
      const asks = (f: SeenArp) =>
        f.op === 'request' &&
        f.source === site.netarpMac &&
        f.ip === missing &&
        f.other === site.netarpAddress;

      // The first prune pass runs a second after start (arp_rtrequest, l.209) and, like the
      // seed's arptimer, frees an incomplete entry whose last request is a second old, which
      // restarts the count: let it pass first (prune_intvl keeps the next one far away).
      await waitFor('the first prune pass', async () =>
        (await daemon.client.stats()).runner.timerRuns >= 1 ? true : undefined,
      );

      // Nobody has .77: maxtries requests, then the next attempt declares the host down.
      const started = Date.now();
      const down = await daemon.client.resolve(missing, 8000);
      assert.deepEqual(!down.resolved && down.reason, 'host is down', JSON.stringify(down));
      const tookMs = Date.now() - started;
      assert.ok(
        tookMs >= maxtries * 1000 - SLACK_MS && tookMs <= maxtries * 1000 + 2 * SLACK_MS,
        `host declared down after ${tookMs} ms, expected about ${maxtries * 1000}:\n${capture.text()}`,
      );
      const miss = await daemon.routeEvent('miss', missing);
      assert.equal(miss.reason, 'maxtries');
      await daemon.logged(`route: miss ${missing} on ${site.netarpIf} (maxtries)`);

      const requests = await capture.waitFor(asks, maxtries);
      assert.equal(requests.length, maxtries, capture.text());
      for (const request of requests) assert.equal(request.destination, 'ff:ff:ff:ff:ff:ff');
      const gaps = requests.slice(1).map((r, i) => Math.round((r.time - requests[i]!.time) * 1000));
      for (const gap of gaps) {
        assert.ok(
          gap >= 1000 - SLACK_MS && gap <= 1000 + SLACK_MS,
          `requests ${gaps.join(', ')} ms apart, expected about 1000:\n${capture.text()}`,
        );
      }

      t.diagnostic(`down after ${tookMs} ms; requests ${gaps.join(', ')} ms apart on the wire`);

      // The kernel takes .77 now, and would answer; but inside the down window the daemon
      // refuses at once, without asking.
      await site.mustKernel(['ip', 'addr', 'add', `${missing}/24`, 'dev', site.kernelIf]);
      const entry = await daemon.client.get(missing);
      assert.deepEqual([entry.state, entry.mac], ['down', undefined]);
      const refused = await daemon.client.resolve(missing, 2000);
      assert.deepEqual(!refused.resolved && refused.reason, 'host is down');
      assert.ok(refused.elapsedMs < 200, `refused after ${refused.elapsedMs} ms`);

      // The window ends host_down_time seconds after the second the host was declared down
      // (whole seconds, like the seed's time_second): after it, one new request, answered.
      const windowEnd = (Math.floor(miss.time / 1000) + downTime) * 1000;
      assert.ok(Date.now() < windowEnd, 'the refusal above came inside the window');
      await sleep(windowEnd - Date.now() + 150);
      assert.equal(
        capture.matching(asks).length,
        maxtries,
        `silent in the window:\n${capture.text()}`,
      );
      const back = await daemon.client.resolve(missing, 3000);
      assert.deepEqual(
        back.resolved && [back.mac, back.state],
        [site.kernelMac, 'resolved'],
        JSON.stringify(back),
      );
      // Asked at the first attempt after the window, not refused and retried a second later.
      assert.ok(back.elapsedMs < SLACK_MS, `resolved after ${back.elapsedMs} ms`);
      const all = await capture.waitFor(asks, maxtries + 1);
      assert.equal(all.length, maxtries + 1, capture.text());
      await capture.waitFor(
        (f) => f.op === 'reply' && f.source === site.kernelMac && f.ip === missing,
      );
    });
  });

  it('10: ageing: a learned entry expires after max_age and the prune pass deletes it', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    await withLab(async (lab) => {
      const site = lab.site;
      const pruneInterval = 2;
      const maxAge = 3;
      // The prune interval is read when a pass is scheduled (the seed's callout_reset), so it
      // is set at start; max_age is read whenever an entry is confirmed, so it may change live.
      const daemon = await lab.startDaemon(lab.config({ prune_intvl: pruneInterval }));
      assert.deepEqual(await daemon.client.sysctlSet('max_age', maxAge), {
        name: 'net.link.ether.inet.max_age',
        old: 1200,
        value: maxAge,
      });

      const pingStart = Date.now();
      const ping = await site.kernel(['ping', '-c1', '-W2', site.netarpAddress]);
      assert.equal(ping.code, 0, `${ping.stdout}${ping.stderr}\n${daemon.stderr}`);
      const pingEnd = Date.now();
      const learned = await daemon.client.get(site.kernelAddress);
      assert.deepEqual([learned.mac, learned.state], [site.kernelMac, 'resolved']);
      assert.ok(
        learned.expiresIn !== undefined && learned.expiresIn >= 1 && learned.expiresIn <= maxAge,
        `expiresIn ${learned.expiresIn}`,
      );
      const timeoutsBefore = (await daemon.client.stats()).engine.timeouts;

      // Listed until it expires (not before pingStart + max_age - 1 s, whole seconds), gone
      // after the next prune pass (by pingEnd + max_age + prune_intvl).
      let lastSeen = pingEnd;
      const statesSeen = new Set<string>();
      const goneAt = await waitFor(
        'the entry pruned',
        async () => {
          const entry = (await daemon.client.list()).find((e) => e.ip === site.kernelAddress);
          if (entry) {
            lastSeen = Date.now();
            statesSeen.add(entry.state);
          }
          return entry ? undefined : Date.now();
        },
        (maxAge + pruneInterval + 3) * 1000,
      );
      assert.ok(
        lastSeen >= pingStart + (maxAge - 1) * 1000 - SLACK_MS,
        `listed only until ${lastSeen - pingStart} ms after the ping`,
      );
      const deleted = await daemon.routeEvent('delete', site.kernelAddress);
      assert.deepEqual([deleted.reason, deleted.mac], ['expired', site.kernelMac]);
      const age = deleted.time - pingStart;
      assert.ok(
        age >= (maxAge - 1) * 1000 - SLACK_MS &&
          deleted.time <= pingEnd + (maxAge + pruneInterval) * 1000 + SLACK_MS,
        `deleted ${Math.round(age)} ms after the ping (max_age ${maxAge}, prune_intvl ${pruneInterval})`,
      );
      t.diagnostic(
        `deleted ${Math.round(age)} ms after the ping started; last listed at ${lastSeen - pingStart} ms; listed as ${[...statesSeen].join(', ')}`,
      );
      // Expired entries stay listed (state "expired") until the prune pass frees them.
      assert.ok(goneAt >= deleted.time - 5, 'listed until the delete event');
      assert.deepEqual(
        [...statesSeen].filter((s) => s !== 'resolved' && s !== 'expired'),
        [],
        'only resolved, then expired',
      );
      assert.equal((await daemon.client.stats()).engine.timeouts - timeoutsBefore, 1);
      await daemon.logged(
        `route: delete ${site.kernelAddress} at ${site.kernelMac} on ${site.netarpIf} (expired)`,
      );
    });
  });

  it('11: unicast_refresh: the pre-expiry refresh goes to the kernel alone, and it answers', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    await withLab(async (lab) => {
      const site = lab.site;
      // Any ARP from the kernel confirms its entry again (the seed's arp_update), and the
      // kernel checks its own entry for us with a unicast request some 5 s after learning it:
      // a max_age shorter than that lets the refresh come first. With maxtries 2 the refresh
      // window is the entry's last second (now + 2 > expire).
      const maxAge = 4;
      const daemon = await lab.startDaemon(
        lab.config({ unicast_refresh: 1, max_age: maxAge, maxtries: 2, prune_intvl: 600 }),
      );
      const capture = await lab.capture();
      const learned = await daemon.client.resolve(site.kernelAddress, 3000);
      assert.deepEqual(learned.resolved && [learned.mac, learned.state], [
        site.kernelMac,
        'resolved',
      ]);
      const refreshes = (f: SeenArp) =>
        f.op === 'request' &&
        f.source === site.netarpMac &&
        f.ip === site.kernelAddress &&
        f.other === site.netarpAddress;
      // Broadcast once, to learn the kernel's MAC.
      const [first] = await capture.waitFor(refreshes);
      assert.equal(first?.destination, 'ff:ff:ff:ff:ff:ff', capture.text());

      // Our traffic (pings through the engine's resolve path; `resolve` only reads a resolved
      // entry) keeps using the entry; in its last maxtries - 1 seconds (la_preempt) it is
      // asked for again, by unicast to the MAC it has.
      const refresh = await waitFor(
        'a refresh request',
        async () => {
          await daemon.client.ping(site.kernelAddress, { count: 1, timeoutMs: 500 });
          const found = capture.matching(refreshes).slice(1);
          return found.length > 0 ? found[0] : undefined;
        },
        // Should the kernel's own check of its entry for us come first, it confirms ours
        // again and moves the refresh a max_age later: allow for that.
        (2 * maxAge + 3) * 1000,
        () => capture.text(),
        250,
      );
      assert.equal(refresh.destination, site.kernelMac, capture.text());
      const answer = await capture.waitFor(
        (f) => f.op === 'reply' && f.source === site.kernelMac && f.time >= refresh.time,
      );
      assert.equal(answer[0]?.destination, site.netarpMac);
      // The answer confirmed the entry for another max_age.
      const entry = await daemon.client.get(site.kernelAddress);
      assert.ok(
        entry.state === 'resolved' &&
          entry.expiresIn !== undefined &&
          entry.expiresIn >= maxAge - 1,
        JSON.stringify(entry),
      );
      assert.equal(
        capture.matching((f) => refreshes(f) && f.destination === 'ff:ff:ff:ff:ff:ff').length,
        1,
        `only the first request was broadcast:\n${capture.text()}`,
      );
      t.diagnostic(
        `refreshed by unicast ${Math.round((refresh.time - (first?.time ?? 0)) * 1000)} ms after learning; answered in ${Math.round(((answer[0]?.time ?? 0) - refresh.time) * 1e6)} us`,
      );
    });
  });
});

// The timing and silence checks above read tcpdump's lines: golden lines as tcpdump 4.99
// prints them, so that a line the parser missed cannot pass for a frame never sent.
describe('the tcpdump ARP line parser of the scenario harness', () => {
  it('reads requests (with and without a target MAC) and replies, and nothing else', () => {
    const request =
      '1795816719.131940 02:00:00:00:00:02 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 192.0.2.77 tell 192.0.2.2, length 28';
    const announcement =
      '1795816675.213680 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 192.0.2.2 (ff:ff:ff:ff:ff:ff) tell 192.0.2.2, length 28';
    const reply =
      '1795816661.929144 02:00:00:00:00:02 > 02:00:00:00:00:01, ethertype ARP (0x0806), length 42: Reply 192.0.2.2 is-at 02:00:00:00:00:02, length 28';
    const strip = (seen: SeenArp | undefined) => seen && { ...seen, line: undefined };
    assert.deepEqual(strip(parseTcpdumpArp(request)), {
      time: 1795816719.13194,
      source: '02:00:00:00:00:02',
      destination: 'ff:ff:ff:ff:ff:ff',
      op: 'request',
      ip: '192.0.2.77',
      other: '192.0.2.2',
      line: undefined,
    });
    const announced = parseTcpdumpArp(announcement);
    assert.deepEqual(
      [announced?.op, announced?.ip, announced?.other],
      ['request', '192.0.2.2', '192.0.2.2'],
    );
    assert.deepEqual(strip(parseTcpdumpArp(reply)), {
      time: 1795816661.929144,
      source: '02:00:00:00:00:02',
      destination: '02:00:00:00:00:01',
      op: 'reply',
      ip: '192.0.2.2',
      other: '02:00:00:00:00:02',
      line: undefined,
    });
    assert.equal(
      parseTcpdumpArp(
        'listening on vx0, link-type EN10MB (Ethernet), snapshot length 262144 bytes',
      ),
      undefined,
    );
  });
});
