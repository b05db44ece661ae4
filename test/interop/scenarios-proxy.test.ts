/**
 * Proxy ARP against the Linux kernel's arping: published entries (`arp -s host mac pub [only]`)
 * on one segment, and `proxyall` across two segments, each a VXLAN link to a kernel of its own
 * (see daemon-harness.ts). The seed answers for a published entry (in_arpinput, l.1084) and,
 * with proxyall, for any address routed out another interface than the one the request came
 * in on, never back out the receiving one (l.1071).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type ArpingResult, arping, SITE_A, SITE_B, withLab } from './daemon-harness.ts';
import { interopSuite } from './helpers.ts';

/** Namespaces, a daemon and real tools: each test stays well under this. */
const TEST_TIMEOUT_MS = 20_000;

/** The replies arping printed, as [address, MAC] pairs. */
function answers(result: ArpingResult): string[][] {
  return result.replies.map((r) => [r.ip, r.mac]);
}

interopSuite('netarp daemon scenarios: proxy ARP for the kernel', () => {
  it('6a: published and published-only entries are answered for the kernel with their MAC', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withLab(async (lab) => {
      const site = lab.site;
      const daemon = await lab.startDaemon();
      const pub = await daemon.client.set({
        host: site.address(50),
        mac: '02:00:00:00:00:50',
        pub: true,
      });
      assert.deepEqual([pub.published, pub.proxyOnly, pub.state], [true, false, 'permanent']);
      const only = await daemon.client.set({
        host: site.address(51),
        mac: '02:00:00:00:00:51',
        pub: true,
        only: true,
      });
      assert.deepEqual([only.published, only.proxyOnly], [true, true]);

      // Nobody has .50, .51 or .52; the daemon answers for the two it publishes, each with
      // the published MAC (not its own), and stays silent for the third (proxyall is 0).
      const [fifty, fiftyOne, fiftyTwo] = await Promise.all([
        arping(site, site.address(50)),
        arping(site, site.address(51)),
        arping(site, site.address(52), { waitSeconds: 1 }),
      ]);
      assert.deepEqual(answers(fifty), [[site.address(50), '02:00:00:00:00:50']], fifty.output);
      assert.deepEqual(
        answers(fiftyOne),
        [[site.address(51), '02:00:00:00:00:51']],
        fiftyOne.output,
      );
      assert.deepEqual(answers(fiftyTwo), [], fiftyTwo.output);
      assert.notEqual(fiftyTwo.code, 0, 'arping fails without an answer');

      // `pub` entries serve the daemon's own traffic too; `pub only` ones do not: resolving
      // .51 asks the network (nobody answers) instead of using the published MAC.
      const fromPub = await daemon.client.resolve(site.address(50), 1000);
      assert.deepEqual(fromPub.resolved && [fromPub.mac, fromPub.state], [
        '02:00:00:00:00:50',
        'permanent',
      ]);
      const before = (await daemon.client.stats()).engine.txrequests;
      const fromOnly = await daemon.client.resolve(site.address(51), 700);
      assert.deepEqual(!fromOnly.resolved && fromOnly.reason, 'timeout');
      assert.equal((await daemon.client.stats()).engine.txrequests - before, 1, 'asked once');

      // arp -d host pub removes the proxy-only entry: no more answers for .51.
      const deleted = await daemon.client.delete(site.address(51), true);
      assert.deepEqual(
        deleted.deleted.map((e) => [e.ip, e.proxyOnly]),
        [[site.address(51), true]],
      );
      const afterDelete = await arping(site, site.address(51), { waitSeconds: 1 });
      assert.deepEqual(answers(afterDelete), [], afterDelete.output);
    });
  });

  it('6b: proxyall answers for addresses routed out the other link, never back out the same one', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withLab(
      async (lab) => {
        const a = lab.sites[0]!;
        const b = lab.sites[1]!;
        // 203.0.113.0/25 lies behind B's kernel; 203.0.113.128/25 is routed nowhere.
        const daemon = await lab.startDaemon(
          lab.config({}, `[[route]]\nto = "203.0.113.0/25"\nvia = "${b.kernelAddress}"\n`),
        );
        const fromA = (target: string, waitSeconds = 1) =>
          arping(a, target, { source: a.kernelAddress, waitSeconds });
        const fromB = (target: string, waitSeconds = 1) =>
          arping(b, target, { source: b.kernelAddress, waitSeconds });

        // proxyall off (the seed's default): addresses on the other link are not answered.
        const off = await Promise.all([fromA(b.kernelAddress), fromA('203.0.113.9')]);
        assert.deepEqual(off.map(answers), [[], []], off.map((r) => r.output).join('\n'));

        const change = await daemon.client.sysctlSet('proxyall', 1);
        assert.deepEqual(change, { name: 'net.link.ether.inet.proxyall', old: 0, value: 1 });
        const statsBefore = (await daemon.client.stats()).engine;

        const [connectedB, behindB, onA, unrouted, backOutB, onB, connectedA] = await Promise.all([
          fromA(b.kernelAddress, 2), // B's segment, out vx1: answered on vx0 with vx0's MAC
          fromA('203.0.113.9', 2), // routed via B's kernel, out vx1: answered
          fromA(a.address(99)), // A's own segment: the request came in on vx0, silent
          fromA('203.0.113.200'), // no route at all: silent
          fromB('203.0.113.9'), // routed out vx1, the link the request came in on: silent
          fromB(b.address(99)), // B's own segment: silent
          fromB(a.kernelAddress, 2), // A's segment, out vx0: answered on vx1 with vx1's MAC
        ]);
        const outputs = [connectedB, behindB, onA, unrouted, backOutB, onB, connectedA]
          .map((r) => r.output)
          .join('\n');
        assert.deepEqual(
          {
            connectedB: answers(connectedB),
            behindB: answers(behindB),
            onA: answers(onA),
            unrouted: answers(unrouted),
            backOutB: answers(backOutB),
            onB: answers(onB),
            connectedA: answers(connectedA),
          },
          {
            connectedB: [[b.kernelAddress, a.netarpMac]],
            behindB: [['203.0.113.9', a.netarpMac]],
            onA: [],
            unrouted: [],
            backOutB: [],
            onB: [],
            connectedA: [[a.kernelAddress, b.netarpMac]],
          },
          outputs,
        );
        const stats = (await daemon.client.stats()).engine;
        assert.equal(stats.txreplies - statsBefore.txreplies, 3, 'three proxy replies');
        assert.equal(stats.rxNotOurs - statsBefore.rxNotOurs, 4, 'four requests left alone');
      },
      [SITE_A, SITE_B],
    );
  });
});
