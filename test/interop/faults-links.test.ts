/**
 * Link faults against the Linux kernel, in network namespaces (daemon-harness.ts builds them;
 * the skip policy is helpers.ts's): the daemon runs as its own process and is watched through
 * its log and its control socket while the kernel side breaks and comes back.
 *
 * - A VXLAN peer vanishes: first its vxlan device (the kernel answers our datagrams with ICMP
 *   port unreachable, which the native link reads through IP_RECVERR: counted, one log line
 *   naming the remote), then the underlay (every send fails: counted, no more lines in the
 *   same run of errors); it comes back and the daemon works again, saying so.
 * - A TAP device is deleted under the daemon: one line, the interface down and its learned
 *   entries evicted (evict_nocarrier); the daemon does not create the device again, and
 *   reattaches when the operator does, announcing its address.
 * - The TAP device's kernel side goes down and up: carrier lost (interface down), carrier
 *   back (interface up, announced), and the kernel reaches the daemon again.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { nativeUnavailableReason } from '../../src/link/native/addon.ts';
import type { Daemon } from '../support/daemon.ts';
import { sleep, waitFor } from '../support/wait.ts';
import { type Site, withLab } from './daemon-harness.ts';
import { interopSuite, must, run, runIn } from './helpers.ts';

const TEST_TIMEOUT_MS = 45_000;

/** The kernel pings the daemon; true when answered. */
async function kernelReaches(site: Site): Promise<boolean> {
  const ping = await site.kernel(['ping', '-c1', '-W2', site.netarpAddress]);
  return ping.code === 0;
}

/** Lines of the daemon's stderr that contain `fragment`. */
function lines(daemon: Daemon, fragment: string): string[] {
  return daemon.stderr.split('\n').filter((l) => l.includes(fragment));
}

interopSuite(
  'netarp daemon: link faults against the Linux kernel',
  () => {
    it('a VXLAN peer vanishes and comes back: counted, one line, no crash, working again', {
      timeout: TEST_TIMEOUT_MS,
    }, async (t) => {
      await withLab(async (lab) => {
        const site = lab.site;
        const daemon = await lab.startDaemon(lab.config({ maxtries: 2 }));
        assert.ok(await kernelReaches(site), daemon.stderr);

        // 1. The peer's vxlan device goes: the kernel answers with ICMP port unreachable.
        await must(['ip', '-n', site.ns, 'link', 'del', site.kernelIf]);
        const icmp = run(
          ['ip', 'netns', 'exec', lab.netarpNs, 'tcpdump', '-n', '-c1', '-i', 'u0', 'icmp'],
          8000,
        );
        await sleep(500);
        await daemon.client.flush();
        const silent = await daemon.client.resolve(site.kernelAddress, 5000);
        assert.deepEqual(!silent.resolved && silent.reason, 'host is down');
        const seen = await icmp;
        assert.match(seen.stdout, /udp port \d+ unreachable/, seen.stdout + seen.stderr);
        // The link reads the ICMP errors (IP_RECVERR): counted, and the run of errors logged
        // once, naming the remote that is gone.
        let stats = await daemon.client.stats();
        const icmpErrors = stats.links[0]?.counters.rxIcmpErrors ?? 0;
        assert.ok(icmpErrors >= 1, `rxIcmpErrors ${icmpErrors}\n${daemon.stderr}`);
        const icmpReports = stats.runner.linkErrors;
        assert.ok(icmpReports >= 1 && icmpReports <= icmpErrors, `linkErrors ${icmpReports}`);
        const errorLines = lines(daemon, 'more errors are counted, not logged');
        assert.equal(errorLines.length, 1, daemon.stderr);
        assert.match(
          errorLines[0]!,
          /^netarp: vx0: vxlan [\d.]+:\d+ vni \d+: remote [\d.]+:\d+: connection refused \(ECONNREFUSED\)( \(\d+ ICMP errors\))? \(more errors/,
        );

        // 2. The underlay goes too (deleting one end of a veth pair deletes both): sends fail,
        // each counted, within the same run of errors (no new line).
        await must(['ip', '-n', site.ns, 'link', 'del', 'u0']);
        const failing = await daemon.client.resolve(site.kernelAddress, 3000);
        assert.equal(failing.resolved, false);
        await daemon.client.resolve(site.address(77), 3000);
        assert.deepEqual(lines(daemon, 'more errors are counted, not logged'), errorLines);
        stats = await daemon.client.stats();
        const txErrors = stats.links[0]?.counters.txErrors ?? 0;
        assert.ok(txErrors >= 2, `txErrors ${txErrors}`);
        // One report per failed flush (one datagram each), besides the ICMP ones.
        assert.equal(stats.runner.linkErrors - icmpReports, txErrors);
        assert.ok((await daemon.client.list()).length > 0, 'still answering');

        // 3. The peer comes back: the kernel reaches the daemon, which says the link works.
        await lab.addUnderlay(site);
        await site.addKernelVxlan();
        await waitFor(
          'the kernel reaching the daemon again',
          async () => ((await kernelReaches(site)) ? true : undefined),
          10_000,
          () => daemon.stderr,
        );
        await waitFor(
          'the daemon saying the link works again',
          () => (lines(daemon, ' works again after ').length === 1 ? true : undefined),
          5000,
          () => daemon.stderr,
        );
        const again = await daemon.client.resolve(site.kernelAddress, 3000);
        assert.ok(again.resolved, JSON.stringify(again));
        t.diagnostic(errorLines[0]!);
        t.diagnostic(lines(daemon, ' works again after ')[0]!);
        assert.deepEqual(lines(daemon, 'internal error'), []);
      });
    });

    it('a TAP device deleted under the daemon: down, evicted, reattached when re-created', {
      timeout: TEST_TIMEOUT_MS,
    }, async (t) => {
      await withLab(async (lab) => {
        const ns = lab.netarpNs;
        await makeTap(ns);
        const daemon = await lab.startDaemon(tapConfig('evict_nocarrier = true'));
        assert.ok(await tapKernelReaches(ns), daemon.stderr);
        assert.deepEqual(await learned(daemon), ['192.0.2.1']);

        await must(['ip', '-n', ns, 'link', 'del', 'tapf0']);
        const lost = await waitFor(
          'the daemon noticing',
          () => {
            const found = lines(daemon, 'is down and its link is reopened once tapf0 exists again');
            return found.length > 0 ? found : undefined;
          },
          5000,
          () => daemon.stderr,
        );
        assert.equal(lost.length, 1, daemon.stderr);
        assert.match(
          lost[0]!,
          /^netarp: vx0: tap tapf0: the device tapf0 is gone .*; vx0 is down and its link is reopened once tapf0 exists again \(SIGHUP: at once\); 1 learned entries evicted$/,
        );
        const info = (await daemon.client.interfaces())[0]!;
        assert.deepEqual([info.up, info.flags], [false, ['evict_nocarrier', 'no-carrier']]);
        assert.deepEqual(await learned(daemon), []);

        // The daemon waits for the device; it does not create it again.
        await sleep(2500);
        const absent = await run(['ip', '-n', ns, 'link', 'show', 'tapf0']);
        assert.notEqual(absent.code, 0, 'the daemon re-created the device');

        await makeTap(ns);
        await daemon.logged('netarp: vx0: reattached tap tapf0; vx0 is up', 1, 15_000);
        assert.deepEqual((await daemon.client.interfaces())[0]?.up, true);
        assert.ok(await tapKernelReaches(ns), daemon.stderr);
        t.diagnostic(lost[0]!);
        t.diagnostic(lines(daemon, 'reattached')[0]!);
      });
    });

    it("a TAP device's kernel side down and up: carrier lost and back, working again", {
      timeout: TEST_TIMEOUT_MS,
    }, async () => {
      await withLab(async (lab) => {
        const ns = lab.netarpNs;
        await makeTap(ns);
        const daemon = await lab.startDaemon(tapConfig());
        assert.ok(await tapKernelReaches(ns), daemon.stderr);

        await must(['ip', '-n', ns, 'link', 'set', 'tapf0', 'down']);
        await daemon.logged(
          'netarp: vx0: no carrier on tap tapf0; vx0 is down until carrier is back',
          1,
          5000,
        );
        assert.equal((await daemon.client.interfaces())[0]?.fault, 'no carrier on tap tapf0');
        assert.deepEqual(await learned(daemon), ['192.0.2.1'], 'kept without evict_nocarrier');
        const down = await daemon.client.resolve('192.0.2.77', 500);
        assert.deepEqual(!down.resolved && down.reason, 'network is down');

        // Up again: the daemon comes up and announces its address (tcpdump on the device).
        const announce = runIn(ns, ['tcpdump', '-n', '-c1', '-i', 'tapf0', 'arp'], 8000);
        await must(['ip', '-n', ns, 'link', 'set', 'tapf0', 'up']);
        await daemon.logged(
          'netarp: vx0: carrier back on tap tapf0; vx0 is up and announces its addresses',
          1,
          5000,
        );
        const seen = await announce;
        assert.match(
          seen.stdout,
          /Request who-has 192\.0\.2\.2 tell 192\.0\.2\.2/,
          seen.stdout + seen.stderr,
        );
        assert.ok(await tapKernelReaches(ns), daemon.stderr);
      });
    });
  },
  nativeUnavailableReason,
);

/** A persistent TAP device in `ns` with the kernel's side at 192.0.2.1/24, up. */
async function makeTap(ns: string): Promise<void> {
  await must(['ip', '-n', ns, 'tuntap', 'add', 'dev', 'tapf0', 'mode', 'tap']);
  await must(['ip', '-n', ns, 'link', 'set', 'tapf0', 'address', '02:00:00:00:00:01']);
  await must(['ip', '-n', ns, 'addr', 'add', '192.0.2.1/24', 'dev', 'tapf0']);
  await must(['ip', '-n', ns, 'link', 'set', 'tapf0', 'up']);
}

/** The daemon on tapf0 as the host 192.0.2.2 beyond the device. */
function tapConfig(extra = ''): string {
  return `
[[interface]]
name = "vx0"
mac = "02:00:00:00:00:02"
addresses = ["192.0.2.2/24"]
link = { type = "tap", device = "tapf0" }
${extra}
`;
}

/** The kernel (the namespace's own stack, on tapf0) pings the daemon. */
async function tapKernelReaches(ns: string): Promise<boolean> {
  // The device gets carrier once the daemon holds it; the first try may race that.
  for (let i = 0; i < 3; i++) {
    if ((await runIn(ns, ['ping', '-c1', '-W2', '192.0.2.2'])).code === 0) return true;
  }
  return false;
}

async function learned(daemon: Daemon): Promise<string[]> {
  return (await daemon.client.list()).filter((e) => !e.static && !e.local).map((e) => e.ip);
}
