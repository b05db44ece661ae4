/**
 * Conflicts the Linux kernel causes on a live segment with the daemon (see daemon-harness.ts):
 *
 * - the kernel claims the daemon's address: the seed logs "is using my IP address" and, for a
 *   request, defends the address with a reply (in_arpinput, l.1011-1017);
 * - the kernel changes its MAC: the seed logs "moved from" and updates the entry
 *   (arp_update_oncpu, l.737-745).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { sleep } from '../support/wait.ts';
import { arping, type SeenArp, withLab } from './daemon-harness.ts';
import { interopSuite } from './helpers.ts';

/** Namespaces, a daemon and real tools: each test stays well under this. */
const TEST_TIMEOUT_MS = 20_000;

/** The kernel's MAC after it changes. */
const NEW_KERNEL_MAC = '02:00:00:00:00:07';

interopSuite('netarp daemon scenarios: address conflicts and moves caused by the kernel', () => {
  it('7: the kernel claims our address; logged, and a request is answered in defence', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withLab(async (lab) => {
      const site = lab.site;
      const daemon = await lab.startDaemon();
      // arping binds its socket to the source address; the kernel must allow a foreign one.
      await site.mustKernel(['sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_nonlocal_bind']);
      const capture = await lab.capture();
      const ours = site.netarpAddress;
      const defence = (f: SeenArp) =>
        f.op === 'reply' &&
        f.source === site.netarpMac &&
        f.destination === site.kernelMac &&
        f.ip === ours &&
        f.other === site.netarpMac;
      const conflict = `arp: ${site.kernelMac} is using my IP address ${ours}!`;

      // A gratuitous request (RFC 5227's announcement) from the kernel with our address.
      const claim = await arping(site, ours, { source: ours, extra: ['-U'], waitSeconds: 1 });
      assert.match(claim.output, /Sent 1 probe/, claim.output);
      await daemon.logged(conflict);
      const [request] = await capture.waitFor(
        (f) => f.op === 'request' && f.source === site.kernelMac && f.ip === ours,
      );
      const [reply] = await capture.waitFor(defence);
      assert.ok(request!.time <= reply!.time, capture.text());

      // A gratuitous reply with our address: logged again, but the seed answers only requests.
      const answer = await arping(site, ours, { source: ours, extra: ['-A'], waitSeconds: 1 });
      assert.match(answer.output, /Sent 1 probe/, answer.output);
      await daemon.logged(conflict, 2);
      await capture.waitFor(
        (f) => f.op === 'reply' && f.source === site.kernelMac && f.ip === ours,
      );
      await sleep(300);
      assert.equal(capture.matching(defence).length, 1, capture.text());

      const stats = (await daemon.client.stats()).engine;
      assert.equal(stats.dupips, 2);
      // The claim changed nothing: our address is still ours, and the kernel was not learned.
      const entries = await daemon.client.list();
      assert.deepEqual(
        entries.map((e) => [e.ip, e.mac, e.state]),
        [[ours, site.netarpMac, 'local']],
      );
    });
  });

  it('8: the kernel changes its MAC; "moved from" logged and the entry updated', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withLab(async (lab) => {
      const site = lab.site;
      const daemon = await lab.startDaemon();
      const first = await site.kernel(['ping', '-c1', '-W2', site.netarpAddress]);
      assert.equal(first.code, 0, `${first.stdout}${first.stderr}\n${daemon.stderr}`);
      const learned = await daemon.client.get(site.kernelAddress);
      assert.deepEqual([learned.mac, learned.state], [site.kernelMac, 'resolved']);

      const mark = daemon.events.length;
      await site.mustKernel(['ip', 'link', 'set', site.kernelIf, 'address', NEW_KERNEL_MAC]);
      // Forget our MAC so that the kernel asks again, from its new address.
      await site.mustKernel(['ip', 'neigh', 'flush', 'dev', site.kernelIf]);
      // The echo reply reaches the kernel only if it is sent to the new MAC.
      const second = await site.kernel(['ping', '-c1', '-W2', site.netarpAddress]);
      assert.equal(second.code, 0, `${second.stdout}${second.stderr}\n${daemon.stderr}`);

      await daemon.logged(
        `arp: ${site.kernelAddress} moved from ${site.kernelMac} to ${NEW_KERNEL_MAC} on ${site.netarpIf}`,
      );
      const moved = await daemon.client.get(site.kernelAddress);
      assert.deepEqual([moved.mac, moved.state], [NEW_KERNEL_MAC, 'resolved']);
      const change = await daemon.routeEvent('change', site.kernelAddress, mark);
      assert.deepEqual([change.mac, change.reason], [NEW_KERNEL_MAC, 'moved']);
      assert.deepEqual(
        daemon.routeEvents(site.kernelAddress, mark).map((e) => e.type),
        ['change'],
        'updated in place: not deleted and added again',
      );
    });
  });
});
