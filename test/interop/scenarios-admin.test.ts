/**
 * arp(8)'s administrative verbs against a live segment: the daemon (its own process, driven
 * through the control client) and the Linux kernel over VXLAN (see daemon-harness.ts).
 *
 * - `-d` removes the entry the kernel's traffic made, and the next kernel ping makes it again;
 * - `-s` over a permanent entry is refused with "File exists", `-S` replaces it, and the
 *   replacement is what the daemon's own traffic to the kernel uses.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ControlError } from '../../src/control/client.ts';
import type { Daemon } from '../support/daemon.ts';
import { type Site, withLab } from './daemon-harness.ts';
import { interopSuite } from './helpers.ts';

/** Namespaces, a daemon and real tools: each test stays well under this. */
const TEST_TIMEOUT_MS = 20_000;

/** A MAC nobody on the segment has. */
const OTHER_MAC = '02:00:00:00:00:66';

/** The daemon's entry for the kernel, reduced to what the tests compare, or undefined. */
async function kernelEntry(daemon: Daemon, site: Site) {
  const entry = (await daemon.client.list()).find((e) => e.ip === site.kernelAddress);
  return entry && { mac: entry.mac, state: entry.state, static: entry.static };
}

/** Asserts that `promise` rejects with a ControlError of `code` and `message`. */
async function rejectsWith(promise: Promise<unknown>, code: string, message: string) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ControlError, String(error));
    assert.deepEqual({ code: error.code, message: error.message }, { code, message });
    return true;
  });
}

interopSuite('netarp daemon scenarios: arp -d, -s and -S against the kernel', () => {
  it("5a: -d removes the kernel's learned entry; the next kernel ping makes it again", {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withLab(async (lab) => {
      const site = lab.site;
      const daemon = await lab.startDaemon();
      const ping = await site.kernel(['ping', '-c1', '-W2', site.netarpAddress]);
      assert.equal(ping.code, 0, `${ping.stdout}${ping.stderr}\n${daemon.stderr}`);
      assert.deepEqual(await kernelEntry(daemon, site), {
        mac: site.kernelMac,
        state: 'resolved',
        static: false,
      });

      const mark = daemon.events.length;
      const deleted = await daemon.client.delete(site.kernelAddress);
      assert.deepEqual(
        deleted.deleted.map((e) => [e.ip, e.mac, e.state]),
        [[site.kernelAddress, site.kernelMac, 'resolved']],
      );
      assert.equal(await kernelEntry(daemon, site), undefined, 'gone from the list');
      const gone = await daemon.routeEvent('delete', site.kernelAddress, mark);
      assert.equal(gone.reason, 'admin');
      await rejectsWith(
        daemon.client.delete(site.kernelAddress),
        'ENOENT',
        `${site.kernelAddress} (${site.kernelAddress}) -- no entry`,
      );
      await rejectsWith(
        daemon.client.get(site.kernelAddress),
        'ENOENT',
        `${site.kernelAddress} (${site.kernelAddress}) -- no entry`,
      );
      // Our own address is not an entry arp -d may remove.
      await rejectsWith(
        daemon.client.delete(site.netarpAddress),
        'EPERM',
        `${site.netarpAddress}: cannot delete a local address`,
      );

      // The kernel still has our MAC, so its next echo comes without asking: to answer it the
      // daemon must ask for the kernel itself, which proves the entry was really gone.
      assert.match(await site.neighbours(), new RegExp(`lladdr ${site.netarpMac} REACHABLE`));
      const before = (await daemon.client.stats()).engine.txrequests;
      const again = await site.kernel(['ping', '-c1', '-W2', site.netarpAddress]);
      assert.equal(again.code, 0, `${again.stdout}${again.stderr}\n${daemon.stderr}`);
      assert.equal((await daemon.client.stats()).engine.txrequests - before, 1, 'one request');
      assert.deepEqual(await kernelEntry(daemon, site), {
        mac: site.kernelMac,
        state: 'resolved',
        static: false,
      });
      await daemon.routeEvent('resolve', site.kernelAddress, mark);
      assert.deepEqual(
        daemon.routeEvents(site.kernelAddress, mark).map((e) => [e.type, e.reason, e.mac]),
        [
          ['delete', 'admin', site.kernelMac],
          ['add', 'resolve', undefined],
          ['resolve', 'learned', site.kernelMac],
        ],
      );
    });
  });

  it('5b: -s over a permanent entry fails with "File exists"; -S replaces it, and traffic follows', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withLab(async (lab) => {
      const site = lab.site;
      const daemon = await lab.startDaemon();
      const set = await daemon.client.set({ host: site.kernelAddress, mac: OTHER_MAC });
      assert.deepEqual([set.mac, set.state, set.permanent], [OTHER_MAC, 'permanent', true]);

      await rejectsWith(
        daemon.client.set({ host: site.kernelAddress, mac: site.kernelMac }),
        'EEXIST',
        `${site.kernelAddress}: File exists`,
      );
      const kept = await daemon.client.get(site.kernelAddress);
      assert.deepEqual([kept.mac, kept.permanent], [OTHER_MAC, true], 'refused set changed it');

      // The permanent entry governs the daemon's own traffic: it answers the kernel's echo,
      // but to the wrong MAC, which the kernel's vx0 drops.
      const echoesBefore = (await daemon.client.stats()).host.txEchoReplies ?? 0;
      const lost = await site.kernel(['ping', '-c1', '-W1', site.netarpAddress]);
      assert.match(lost.stdout, /1 packets transmitted, 0 received/, lost.stdout + lost.stderr);
      const stats = await daemon.client.stats();
      assert.equal((stats.host.txEchoReplies ?? 0) - echoesBefore, 1, 'answered, to OTHER_MAC');
      assert.equal(stats.engine.txrequests, 0, 'a permanent entry is never asked for');

      const replaced = await daemon.client.set({
        host: site.kernelAddress,
        mac: site.kernelMac,
        replace: true,
      });
      assert.deepEqual(
        [replaced.mac, replaced.state, replaced.permanent],
        [site.kernelMac, 'permanent', true],
      );
      const ping = await site.kernel(['ping', '-c1', '-W2', site.netarpAddress]);
      assert.equal(ping.code, 0, `${ping.stdout}${ping.stderr}\n${daemon.stderr}`);
      const after = await daemon.client.get(site.kernelAddress);
      assert.deepEqual([after.mac, after.permanent], [site.kernelMac, true]);
      assert.equal((await daemon.client.stats()).engine.txrequests, 0);
    });
  });
});
