/**
 * The daemon in-process, on a memory hub shared with a neighbour (an Engine, Runner and Host
 * of its own), driven through the control client exactly as the CLI drives it.
 */
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  BASE_CONFIG,
  type ConfigParts,
  DaemonBench,
  type DaemonBenchOptions,
  daemonConfig,
  eventually,
  type OpenFailure,
  OUR_MAC,
  PEER_MAC,
  VX0,
  withBench,
} from '../../test/support/daemon-bench.ts';
import { ControlClient, ControlError } from '../control/client.ts';
import type { MonitorEvent } from '../control/protocol.ts';
import { ControlServerError } from '../control/server.ts';
import { CONFIG_KEYS } from '../core/config.ts';
import { ConfigError } from './config.ts';
import { DaemonError } from './daemon.ts';

const OTHER_MAC = '02:00:00:00:00:66';

/** The base config with a down host kept down 30 s, and `parts` in place of its own. */
function config(parts: Partial<ConfigParts> = {}): string {
  return daemonConfig({ sysctl: { ...BASE_CONFIG.sysctl, host_down_time: 30 }, ...parts });
}

/** The config of most tests. */
const CONFIG = config();

/** A second interface, on the same hub as vx0. */
const VX1 = {
  name: 'vx1',
  mac: '02:00:00:00:00:12',
  link: { type: 'vxlan', local: '127.0.0.1:4791', remote: ['127.0.0.1:4790'], vni: 42 },
};

/** A daemon on `text`, logging everything, its links reporting a counter; a neighbour on the hub. */
function bench(text: string, options: Partial<DaemonBenchOptions> = {}): DaemonBench {
  return new DaemonBench({
    config: text,
    logLevel: 'debug',
    linkIo: 'dgram',
    linkCounters: { sent: 1 },
    ...options,
  });
}

/** Opening `name`'s link fails as a VXLAN socket whose port is taken does. */
function bindFails(name: string): OpenFailure {
  return (_spec, ifName) => (ifName === name ? new Error('bind EADDRINUSE') : undefined);
}

function controlError(code: string, message?: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ControlError, String(error));
    assert.equal(error.code, code);
    if (message !== undefined) assert.equal(error.message, message);
    return true;
  };
}

describe('Daemon', () => {
  it('starts from the config: socket 0600, interfaces, entries and knobs', async () => {
    await withBench(bench(CONFIG), async (b) => {
      assert.equal(statSync(b.socket).mode & 0o777, 0o600);
      assert.deepEqual(await b.client.interfaces(), [
        {
          name: 'vx0',
          kind: 'ether',
          mac: OUR_MAC,
          up: true,
          flags: [],
          addresses: ['192.0.2.2/24'],
          link: { type: 'vxlan', name: 'hub/vx0', io: 'dgram' },
        },
      ]);
      const entries = await b.client.list();
      assert.deepEqual(
        entries.map((e) => [e.ip, e.mac, e.state, e.published]),
        [
          ['192.0.2.2', OUR_MAC, 'local', false],
          ['192.0.2.9', '02:00:00:00:00:09', 'permanent', true],
        ],
      );
      assert.deepEqual(await b.client.sysctlGet('maxtries'), [
        {
          name: 'net.link.ether.inet.maxtries',
          value: 2,
          description: 'ARP resolution attempts before returning error',
        },
      ]);
      assert.ok(
        b.logs.includes(
          `netarp: started: config ${b.file}, interfaces vx0, control socket ${b.socket}`,
        ),
        b.logs.join('\n'),
      );
    });
  });

  it('answers a neighbour, learns it, and resolves and pings through the engine', async () => {
    await withBench(bench(CONFIG), async (b) => {
      const ping = await b.peer.host.ping('192.0.2.2', { timeoutMs: 1000 });
      assert.equal(ping.received, 1, JSON.stringify(ping.probes));
      const learned = await b.client.get('192.0.2.1');
      assert.deepEqual([learned.mac, learned.state], [PEER_MAC, 'resolved']);
      assert.deepEqual((await b.client.list('vx0')).length, 3);

      const resolved = await b.client.resolve('192.0.2.1');
      assert.deepEqual(
        { ...resolved, elapsedMs: 0 },
        {
          resolved: true,
          ip: '192.0.2.1',
          mac: PEER_MAC,
          ifName: 'vx0',
          state: 'resolved',
          elapsedMs: 0,
        },
      );
      const ours = await b.client.ping('192.0.2.1', { count: 2, intervalMs: 10 });
      assert.equal(ours.received, 2, JSON.stringify(ours.probes));

      const stats = await b.client.stats();
      assert.equal(stats.engine.txreplies, 1);
      assert.equal(stats.host.rxEchoRequests, 1);
      assert.equal(stats.host.rxEchoReplies, 2);
      assert.deepEqual(stats.links, [
        { ifName: 'vx0', type: 'vxlan', name: 'hub/vx0', counters: { sent: 1 } },
      ]);
      assert.equal(stats.control.requests, 5, 'get, list, resolve, ping, stats');
    });
  });

  it('resolves from cold with one request, and reports down hosts and timeouts', async () => {
    await withBench(bench(CONFIG), async (b) => {
      const before = (await b.client.stats()).engine.txrequests;
      const cold = await b.client.resolve('192.0.2.1');
      assert.equal(cold.resolved && cold.mac, PEER_MAC);
      assert.equal((await b.client.stats()).engine.txrequests - before, 1, 'one ARP request');

      // Nobody has .77: maxtries (2) requests a second apart, then the host is down.
      const down = await b.client.resolve('192.0.2.77', 5000);
      assert.deepEqual(
        { ...down, elapsedMs: 0 },
        {
          resolved: false,
          ip: '192.0.2.77',
          reason: 'host is down',
          elapsedMs: 0,
        },
      );
      assert.ok(down.elapsedMs >= 1500, `gave up after ${down.elapsedMs} ms`);
      // While down, sends fail at once.
      const again = await b.client.resolve('192.0.2.77', 5000);
      assert.ok(!again.resolved && again.reason === 'host is down' && again.elapsedMs < 500);

      const late = await b.client.resolve('192.0.2.78', 50);
      assert.deepEqual(!late.resolved && late.reason, 'timeout');
      const offLink = await b.client.resolve('203.0.113.1');
      assert.deepEqual(!offLink.resolved && offLink.reason, 'no route to host');
    });
  });

  it('keeps a permanent entry against gratuitous ARP and logs the attempt', async () => {
    await withBench(bench(CONFIG), async (b) => {
      const set = await b.client.set({ host: '192.0.2.1', mac: OTHER_MAC });
      assert.deepEqual([set.mac, set.permanent, set.static], [OTHER_MAC, true, true]);
      // The neighbour announces itself (as on link up): a gratuitous request with its own MAC.
      b.peer.runner.apply((e, now) => e.setInterfaceUp(now, 'eth0', false));
      b.peer.runner.apply((e, now) => e.setInterfaceUp(now, 'eth0', true));
      const line = `arp: ${PEER_MAC} attempts to modify permanent entry for 192.0.2.1 on vx0`;
      await eventually('the log line', () => b.logs.includes(line));
      assert.equal((await b.client.get('192.0.2.1')).mac, OTHER_MAC, 'entry unchanged');

      await assert.rejects(
        b.client.set({ host: '192.0.2.1', mac: PEER_MAC }),
        controlError('EEXIST', '192.0.2.1: File exists'),
      );
      const replaced = await b.client.set({ host: '192.0.2.1', mac: PEER_MAC, replace: true });
      assert.equal(replaced.mac, PEER_MAC);
      await assert.rejects(
        b.client.set({ host: '10.9.9.9', mac: PEER_MAC }),
        controlError('ENETUNREACH', 'set: cannot intuit interface index and type for 10.9.9.9'),
      );
      await assert.rejects(
        b.client.set({ host: '192.0.2.5', mac: PEER_MAC, ifName: 'vx9' }),
        controlError('ENOENT', 'no such interface: vx9'),
      );
      await assert.rejects(
        b.client.set({ host: '192.0.2.5', mac: PEER_MAC, only: true }),
        controlError('EINVAL'),
      );
    });
  });

  it('deletes and flushes with arp(8) semantics and streams the events to a monitor', async () => {
    await withBench(bench(CONFIG), async (b) => {
      const monitor = await ControlClient.connect({ path: b.socket });
      const events: MonitorEvent[] = [];
      await monitor.monitor((event) => events.push(event));
      await b.client.set({ host: '192.0.2.10', mac: OTHER_MAC, pub: true, only: true });
      await b.client.set({ host: '192.0.2.11', mac: OTHER_MAC, temp: true });

      const deleted = await b.client.delete('192.0.2.10', true);
      assert.deepEqual(
        deleted.deleted.map((e) => [e.ip, e.proxyOnly]),
        [['192.0.2.10', true]],
      );
      await assert.rejects(
        b.client.delete('192.0.2.10'),
        controlError('ENOENT', '192.0.2.10 (192.0.2.10) -- no entry'),
      );
      await assert.rejects(
        b.client.delete('192.0.2.2'),
        controlError('EPERM', '192.0.2.2: cannot delete a local address'),
      );
      const flushed = await b.client.flush();
      assert.deepEqual(
        flushed.deleted.map((e) => e.ip),
        ['192.0.2.9', '192.0.2.11'],
      );
      assert.deepEqual(
        (await b.client.list()).map((e) => e.ip),
        ['192.0.2.2'],
      );

      await eventually(
        'the delete events',
        () => events.filter((e) => e.kind === 'route' && e.type === 'delete').length === 3,
      );
      assert.deepEqual(
        events.flatMap((e) => (e.kind === 'route' ? [`${e.type} ${e.ip}`] : [])),
        [
          'add 192.0.2.10',
          'add 192.0.2.11',
          'delete 192.0.2.10',
          'delete 192.0.2.9',
          'delete 192.0.2.11',
        ],
      );
      monitor.close();
    });
  });

  it('changes knobs at run time and refuses bad ones', async () => {
    await withBench(bench(CONFIG), async (b) => {
      assert.deepEqual(await b.client.sysctlSet('net.link.ether.inet.max_age', 60), {
        name: 'net.link.ether.inet.max_age',
        old: 1200,
        value: 60,
      });
      assert.ok(b.logs.includes('netarp: sysctl net.link.ether.inet.max_age: 1200 -> 60'));
      assert.deepEqual(
        (await b.client.sysctlGet()).map((s) => s.name),
        CONFIG_KEYS.map((key) => `net.link.ether.inet.${key}`),
      );
      await assert.rejects(
        b.client.sysctlSet('max_age', 0),
        controlError('EINVAL', 'net.link.ether.inet.max_age: 0 is not an integer in 1..31536000'),
      );
      await assert.rejects(
        b.client.sysctlGet('nope'),
        controlError('ENOENT', 'unknown sysctl: nope'),
      );
    });
  });

  it('reloads: adds an address (announced), updates the config entries, keeps the rest', async () => {
    await withBench(bench(CONFIG), async (b) => {
      // Learned from the neighbour, and one set at run time: a reload must keep both.
      assert.equal((await b.peer.host.ping('192.0.2.2')).received, 1);
      await b.client.set({ host: '192.0.2.20', mac: OTHER_MAC });
      const peerRequests = b.peer.engine.stats().rxrequests;

      const next = CONFIG.replace('"192.0.2.2/24"]', '"192.0.2.2/24", "192.0.2.3/24"]')
        .replace('"net.link.ether.inet.host_down_time" = 30', '')
        .replace(
          'host = "192.0.2.9"\nmac = "02:00:00:00:00:09"',
          'host = "192.0.2.9"\nmac = "02:00:00:00:00:99"',
        )
        .concat('\n[[static]]\nhost = "192.0.2.30"\nmac = "02:00:00:00:00:30"\n');
      assert.equal(await b.reload(next), true, b.logs.join('\n'));
      assert.ok(
        b.logs.includes(
          `netarp: reloaded ${b.file}: sysctl net.link.ether.inet.host_down_time 30 -> 20 (default); +address 192.0.2.3/24 on vx0; +static 192.0.2.9; +static 192.0.2.30`,
        ),
        b.logs.join('\n'),
      );
      assert.deepEqual((await b.client.interfaces())[0]?.addresses, [
        '192.0.2.2/24',
        '192.0.2.3/24',
      ]);
      assert.deepEqual(
        (await b.client.list()).map((e) => [e.ip, e.mac]),
        [
          ['192.0.2.1', PEER_MAC],
          ['192.0.2.2', OUR_MAC],
          ['192.0.2.3', OUR_MAC],
          ['192.0.2.9', '02:00:00:00:00:99'],
          ['192.0.2.20', OTHER_MAC],
          ['192.0.2.30', '02:00:00:00:00:30'],
        ],
      );
      // The new address was announced: the neighbour saw a request for it.
      await eventually('the announcement', () => b.peer.engine.stats().rxrequests > peerRequests);
      assert.equal((await b.peer.host.ping('192.0.2.3')).received, 1);

      // Dropping the statics from the file deletes the config's, not the operator's.
      assert.equal(await b.reload(CONFIG.replace(/\[\[static\]\][^[]*/, '')), true);
      assert.deepEqual(
        (await b.client.list()).map((e) => e.ip),
        ['192.0.2.1', '192.0.2.2', '192.0.2.20'],
      );
      assert.equal(
        b.logs.at(-1),
        `netarp: reloaded ${b.file}: sysctl net.link.ether.inet.host_down_time 20 -> 30; -static 192.0.2.9; -static 192.0.2.30; -address 192.0.2.3/24 on vx0`,
      );
      assert.equal(await b.reload(CONFIG.replace(/\[\[static\]\][^[]*/, '')), true);
      assert.equal(b.logs.at(-1), `netarp: reloaded ${b.file}: no changes`);
    });
  });

  it("reload puts back the file's entries the operator changed or deleted", async () => {
    await withBench(bench(CONFIG), async (b) => {
      await b.client.set({ host: '192.0.2.9', mac: OTHER_MAC, replace: true });
      assert.equal(await b.reload(CONFIG), true);
      assert.equal(b.logs.at(-1), `netarp: reloaded ${b.file}: +static 192.0.2.9`);
      assert.equal((await b.client.get('192.0.2.9')).mac, '02:00:00:00:00:09');
      await b.client.delete('192.0.2.9');
      assert.equal(await b.reload(CONFIG), true);
      assert.equal(b.logs.at(-1), `netarp: reloaded ${b.file}: +static 192.0.2.9`);
      // Set at run time exactly as the file says: nothing to do, and the config's again.
      await b.client.delete('192.0.2.9');
      await b.client.set({ host: '192.0.2.9', mac: '02:00:00:00:00:09', pub: true });
      assert.equal(await b.reload(CONFIG), true);
      assert.equal(b.logs.at(-1), `netarp: reloaded ${b.file}: no changes`);
      assert.equal(await b.reload(CONFIG.replace(/\[\[static\]\][^[]*/, '')), true);
      assert.equal(b.logs.at(-1), `netarp: reloaded ${b.file}: -static 192.0.2.9`);
    });
  });

  it('refuses a bad or unsupported reload and keeps the running config', async () => {
    await withBench(bench(CONFIG), async (b) => {
      assert.equal(await b.reload(CONFIG.replace('vni = 42', 'vni = "42"')), false);
      assert.equal(
        b.logs.at(-1),
        `netarp: reload refused, the running config stays: ${b.file}: interface[0].link.vni: expected an integer in 0..16777215, got the string "42"`,
      );
      assert.equal(await b.reload(CONFIG.replace(OUR_MAC, '01:00:5e:00:00:01')), false);
      assert.equal(
        b.logs.at(-1),
        `netarp: reload refused, the running config stays: ${b.file}: interface[0].mac: 01:00:5e:00:00:01 is not a unicast Ethernet address; an interface needs one of its own`,
      );
      // A link that cannot be opened: refused, and the old link is back in place.
      b.failOpen = bindFails('vx0');
      assert.equal(await b.reload(CONFIG.replace('vni = 42', 'vni = 43')), false);
      assert.equal(
        b.logs.at(-2),
        `netarp: reload refused, the running config stays: ${b.file}: interface[0].link: vx0: cannot open vxlan 127.0.0.1:4789 -> 127.0.0.1:4790 vni 43: bind EADDRINUSE`,
      );
      // The old link could not be reopened either (the opener fails for vx0): said so.
      assert.equal(b.logs.at(-1), 'netarp: interface vx0 is left without a link: bind EADDRINUSE');
      b.failOpen = undefined;
      // The same file as before: the link the failure took away is opened again.
      assert.equal(await b.reload(CONFIG), true);
      assert.equal(
        b.logs.at(-1),
        `netarp: reloaded ${b.file}: link vx0: vxlan 127.0.0.1:4789 -> 127.0.0.1:4790 vni 42`,
      );
      assert.equal(await b.reload(CONFIG.replace('vni = 42', 'vni = 43')), true);
      assert.equal((await b.client.interfaces())[0]?.link?.name, 'hub/vx0');
      assert.equal(
        (await b.peer.host.ping('192.0.2.2')).received,
        1,
        'the new link carries frames',
      );
    });
  });

  it("changes an interface's MAC on reload, and the neighbours hear of it at once", async () => {
    await withBench(bench(CONFIG), async (b) => {
      const peer = b.peer;
      const ours = () => peer.engine.lookup(b.clock.now(), '192.0.2.2')?.mac;
      assert.equal((await peer.host.ping('192.0.2.2')).received, 1);
      assert.equal(ours(), OUR_MAC);
      assert.equal(await b.reload(CONFIG.replace(OUR_MAC, OTHER_MAC)), true);
      assert.equal(
        b.logs.at(-1),
        `netarp: reloaded ${b.file}: mac vx0: ${OUR_MAC} -> ${OTHER_MAC}`,
      );
      // The gratuitous ARP moved the neighbour's entry, without waiting for it to expire.
      await eventually('the neighbour to learn the new MAC', () => ours() === OTHER_MAC);
      assert.equal((await b.client.interfaces())[0]?.mac, OTHER_MAC);
      assert.equal((await b.client.get('192.0.2.2')).mac, OTHER_MAC);
      assert.equal((await peer.host.ping('192.0.2.2')).received, 1, 'answers on the new MAC');
    });
  });

  it('removes an interface on reload and brings it back', async () => {
    const two = config({
      interfaces: [VX0, { ...VX1, addresses: ['198.51.100.2/24'] }],
      statics: [...BASE_CONFIG.statics, { host: '198.51.100.9', mac: '02:00:00:00:00:19' }],
    });
    await withBench(bench(two), async (b) => {
      assert.deepEqual(
        (await b.client.interfaces()).map((i) => i.name),
        ['vx0', 'vx1'],
      );
      assert.equal(await b.reload(CONFIG), true);
      assert.ok(b.logs.at(-1)?.includes('-static 198.51.100.9; -interface vx1'), b.logs.at(-1));
      assert.deepEqual(
        (await b.client.interfaces()).map((i) => i.name),
        ['vx0'],
      );
      assert.ok(!(await b.client.list()).some((e) => e.ip.startsWith('198.51.100.')));
      await assert.rejects(b.client.list('vx1'), controlError('ENOENT', 'no such interface: vx1'));
      assert.equal(await b.reload(two), true);
      assert.deepEqual(
        (await b.client.interfaces()).map((i) => [i.name, i.up, i.addresses]),
        [
          ['vx0', true, ['192.0.2.2/24']],
          ['vx1', true, ['198.51.100.2/24']],
        ],
      );
      assert.equal((await b.client.get('198.51.100.9')).mac, '02:00:00:00:00:19');
    });
  });

  it('stops cleanly: socket removed, links closed, requests refused', async () => {
    const b = await bench(CONFIG).start();
    await b.daemon.stop();
    assert.equal(existsSync(b.socket), false);
    assert.ok(
      b.ports.every((p) => p.closed),
      'every link closed',
    );
    await assert.rejects(b.client.list(), controlError('ECONNRESET'));
    await b.close();
  });
});

describe('Daemon.start refuses, leaving nothing open', () => {
  it('a bad config, before opening any link', async () => {
    const b = bench(CONFIG.replace('"192.0.2.2/24"', '"192.0.2.2/33"'));
    await assert.rejects(b.start(), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.location, 'interface[0].addresses[0]');
      return true;
    });
    assert.equal(b.opens, 0);
    assert.equal(existsSync(b.socket), false);
    await b.close();
  });

  it('a second link that fails, closing the first', async () => {
    const b = bench(config({ interfaces: [VX0, VX1] }));
    b.failOpen = bindFails('vx1');
    await assert.rejects(b.start(), (error: unknown) => {
      assert.ok(error instanceof DaemonError && error.code === 'ELINK');
      assert.equal(
        error.message,
        `${b.file}: interface[1].link: vx1: cannot open vxlan 127.0.0.1:4791 -> 127.0.0.1:4790 vni 42: bind EADDRINUSE`,
      );
      return true;
    });
    assert.deepEqual(
      b.ports.map((p) => [p.name, p.closed]),
      [['hub/vx0', true]],
    );
    assert.equal(existsSync(b.socket), false);
    await b.close();
  });

  it('a socket another daemon listens on', async () => {
    await withBench(bench(CONFIG), async (b) => {
      const second = bench(CONFIG, { socket: b.socket });
      await assert.rejects(second.start(), (error: unknown) => {
        assert.ok(error instanceof ControlServerError && error.code === 'EADDRINUSE');
        return true;
      });
      assert.equal(second.opens, 0, 'no link opened');
      assert.ok((await b.client.list()).length > 0, 'the first daemon is unharmed');
      await second.close();
    });
  });
});
