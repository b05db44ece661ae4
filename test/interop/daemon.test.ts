/**
 * The daemon against the Linux kernel, over VXLAN, each in its own network namespace (see
 * helpers.ts for the topology and the skip policy). The daemon runs as its own process,
 * `daemon-entry.ts` inside netarp's namespace, configured by a TOML file; the test drives it
 * through the control socket with the client library, and the kernel side with iputils
 * `ping`, `arping` and `ip neigh`.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { Daemon } from '../support/daemon.ts';
import { sleep, waitFor } from '../support/wait.ts';
import { interopSuite, must, type Topology, withTopology } from './helpers.ts';

/** Each test builds namespaces, starts node and runs real tools: well under this. */
const TEST_TIMEOUT_MS = 30_000;

/** A MAC nobody on the segment has, for the permanent entry that must not change. */
const OTHER_MAC = '02:00:00:00:00:66';

/** The config of the daemon in `topo`, with `addresses` on its VXLAN interface. */
function configFor(
  topo: Topology,
  addresses: string[],
  pcap?: string,
  mac = topo.netarpMac,
): string {
  return `
[sysctl]
"net.link.ether.inet.maxtries" = 3

[[interface]]
name = "vx0"
mac = "${mac}"
addresses = ${JSON.stringify(addresses)}
link = { type = "vxlan", local = "${topo.netarpUnderlay}:${topo.vxlanPort}", remote = ["${topo.kernelUnderlay}:${topo.vxlanPort}"], vni = ${topo.vni} }
${pcap === undefined ? '' : `pcap = "${pcap}"`}
`;
}

/** Runs `body` with a daemon in a fresh topology; always stops the daemon and the topology. */
async function withDaemon(
  addresses: string[],
  body: (topo: Topology, daemon: Daemon) => Promise<void>,
): Promise<void> {
  await withTopology(async (topo) => {
    const daemon = await Daemon.start({
      ns: topo.netarpNs,
      dir: topo.dir,
      config: configFor(topo, addresses),
      monitor: false,
    });
    try {
      await body(topo, daemon);
    } finally {
      await daemon.stop();
    }
  });
}

interopSuite('netarp daemon <-> Linux kernel over VXLAN', () => {
  it('a: the kernel pings the daemon; list shows the kernel learned', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withDaemon(['192.0.2.2/24'], async (topo, daemon) => {
      const ping = await topo.kernel(['ping', '-c1', '-W2', topo.netarpAddress]);
      assert.equal(ping.code, 0, `ping failed:\n${ping.stdout}${ping.stderr}\n${daemon.stderr}`);
      assert.match(ping.stdout, /1 packets transmitted, 1 received/);
      assert.match(
        await topo.kernelNeighbours(),
        new RegExp(`^192\\.0\\.2\\.2 lladdr ${topo.netarpMac} REACHABLE`, 'm'),
      );
      const entries = await daemon.client.list();
      const kernel = entries.find((e) => e.ip === topo.kernelAddress);
      assert.deepEqual(
        { mac: kernel?.mac, state: kernel?.state, static: kernel?.static },
        { mac: topo.kernelMac, state: 'resolved', static: false },
      );
      // The route events are logged at debug level, in route(4) terms.
      await daemon.logged(`route: add ${topo.kernelAddress} on vx0 (learned)`);
      await daemon.logged(
        `route: resolve ${topo.kernelAddress} at ${topo.kernelMac} on vx0 (learned)`,
      );
    });
  });

  it('b: resolve and ping from the daemon, cold: one request, the held echo answered', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withDaemon(['192.0.2.2/24'], async (topo, daemon) => {
      const before = (await daemon.client.stats()).engine.txrequests;
      const resolved = await daemon.client.resolve(topo.kernelAddress, 3000);
      assert.ok(resolved.resolved, JSON.stringify(resolved));
      assert.equal(resolved.mac, topo.kernelMac);
      assert.equal((await daemon.client.stats()).engine.txrequests - before, 1, 'one request');
      const ping = await daemon.client.ping(topo.kernelAddress, { count: 2, intervalMs: 200 });
      assert.equal(ping.received, 2, JSON.stringify(ping.probes));
      // Nobody has .77: maxtries (3) requests, then the host is down.
      const down = await daemon.client.resolve('192.0.2.77', 8000);
      assert.deepEqual(!down.resolved && down.reason, 'host is down');
    });
  });

  it("c: a permanent entry survives the kernel's gratuitous ARP, and the attempt is logged", {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withDaemon(['192.0.2.2/24'], async (topo, daemon) => {
      const set = await daemon.client.set({ host: topo.kernelAddress, mac: OTHER_MAC });
      assert.deepEqual([set.mac, set.permanent], [OTHER_MAC, true]);
      const arping = await topo.kernel([
        'arping',
        '-U',
        '-c1',
        '-w2',
        '-I',
        topo.kernelIf,
        topo.kernelAddress,
      ]);
      assert.match(arping.stdout, /Sent 1 probe/, arping.stdout + arping.stderr);
      await daemon.logged(
        `arp: ${topo.kernelMac} attempts to modify permanent entry for ${topo.kernelAddress} on vx0`,
      );
      const entry = await daemon.client.get(topo.kernelAddress);
      assert.deepEqual([entry.mac, entry.permanent], [OTHER_MAC, true], 'entry unchanged');
    });
  });

  it('d: SIGHUP adds an address (announced, answered); SIGTERM exits 0 and removes the socket', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withDaemon(['192.0.2.2/24'], async (topo, daemon) => {
      const file = daemon.configFile;
      const capture = join(topo.dir, 'd.pcap');
      writeFileSync(file, configFor(topo, ['192.0.2.2/24', '192.0.2.3/24'], capture));
      daemon.signal('SIGHUP');
      await daemon.logged(
        `netarp: reloaded ${file}: link vx0: vxlan ${topo.netarpUnderlay}:${topo.vxlanPort} -> ${topo.kernelUnderlay}:${topo.vxlanPort} vni ${topo.vni}; +address 192.0.2.3/24 on vx0`,
      );
      assert.deepEqual((await daemon.client.interfaces())[0]?.addresses, [
        '192.0.2.2/24',
        '192.0.2.3/24',
      ]);
      const ping = await topo.kernel(['ping', '-c1', '-W2', '192.0.2.3']);
      assert.equal(ping.code, 0, ping.stdout + ping.stderr);

      daemon.client.close();
      daemon.signal('SIGTERM');
      assert.deepEqual(await daemon.exited, { code: 0, signal: null }, daemon.stderr);
      assert.equal(existsSync(daemon.socket), false, 'socket removed');
      await daemon.logged('netarp: stopping');

      // The reload reopened the link with a capture, then announced the new address: the
      // capture starts with that gratuitous request and holds the echo answered from it.
      const decoded = await must(['tcpdump', '-r', capture, '-n', '-e']);
      const first = decoded.split('\n')[0] ?? '';
      assert.ok(
        first.endsWith(
          `${topo.netarpMac} > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 192.0.2.3 tell 192.0.2.3, length 28`,
        ),
        decoded,
      );
      assert.match(decoded, /192\.0\.2\.3 > 192\.0\.2\.1: ICMP echo reply/, decoded);
    });
  });

  it("e: SIGHUP with a new MAC: the kernel's entry for us moves to it at once", {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withDaemon(['192.0.2.2/24'], async (topo, daemon) => {
      const entryFor = (mac: string) => new RegExp(`^192\\.0\\.2\\.2 lladdr ${mac} `, 'm');
      const ping = await topo.kernel(['ping', '-c1', '-W2', '192.0.2.2']);
      assert.equal(ping.code, 0, ping.stdout + ping.stderr);
      assert.match(await topo.kernelNeighbours(), entryFor(topo.netarpMac));
      // Past the kernel's locktime (1 s), so that only the announcement can move the entry.
      await sleep(1100);
      const file = daemon.configFile;
      writeFileSync(file, configFor(topo, ['192.0.2.2/24'], undefined, OTHER_MAC));
      daemon.signal('SIGHUP');
      await daemon.logged(`netarp: reloaded ${file}: mac vx0: ${topo.netarpMac} -> ${OTHER_MAC}`);
      // The gratuitous ARP moved the kernel's entry: no waiting for it to go stale.
      await waitFor(
        "the kernel's entry at the new MAC",
        async () => (entryFor(OTHER_MAC).test(await topo.kernelNeighbours()) ? true : undefined),
        3000,
      );
      const again = await topo.kernel(['ping', '-c1', '-W2', '192.0.2.2']);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.equal((await daemon.client.interfaces())[0]?.mac, OTHER_MAC);
    });
  });
});
