/**
 * The CLI against a real daemon in this process: Daemon.start on memory links, a neighbour
 * (an Engine, Runner and Host of its own) on vx0's hub, the control socket in a temporary
 * directory, and `main` run with captured output, a table of names instead of DNS, and
 * signals the test sends.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CapturedIo, captureIo } from '../../test/support/cli-io.ts';
import {
  DaemonBench,
  type DaemonBenchOptions,
  daemonConfig,
  eventually,
  FakeSignals,
  OUR_MAC,
  PEER_MAC,
  VX0,
} from '../../test/support/daemon-bench.ts';
import type { EntryInfo } from '../core/admin.ts';
import { CONFIG_KEYS } from '../core/config.ts';
import type { CliIo, SignalSource } from './command.ts';
import { main } from './main.ts';
import { HostLookupError, type NameService } from './names.ts';

const VX1_MAC = '02:00:00:00:00:12';

/** vx0, and vx1 on a hub of its own; no entries. */
const CONFIG = daemonConfig({
  interfaces: [
    VX0,
    {
      name: 'vx1',
      mac: VX1_MAC,
      addresses: ['198.51.100.2/24'],
      link: { type: 'vxlan', local: '127.0.0.1:4791', remote: ['127.0.0.1:4792'], vni: 43 },
    },
  ],
  statics: [],
});

/** Names the tests use instead of DNS. */
const NAMES: NameService = {
  async lookup(name) {
    const table: Record<string, string> = { 'peer.example': '192.0.2.1' };
    const address = table[name];
    if (address === undefined) throw new HostLookupError(name, 'Unknown host');
    return address;
  },
  async reverse(ip) {
    return ip === '192.0.2.1' ? 'peer.example' : undefined;
  },
};

/** What one run of `netarp` did. */
interface Run {
  code: number;
  out: string;
  err: string;
}

/** The daemon, its neighbour, and `netarp` pointed at its socket. */
class Bench extends DaemonBench {
  constructor(config = CONFIG, options: Partial<DaemonBenchOptions> = {}) {
    super({
      config,
      hubPerInterface: true,
      logLevel: 'err',
      linkCounters: { sent: 0 },
      connect: false,
      ...options,
    });
  }

  /** An io for `netarp`: captured output, NETARP_SOCKET set to the daemon's socket. */
  io(signals: SignalSource = new FakeSignals()): CapturedIo {
    return captureIo({ env: { NETARP_SOCKET: this.socket }, names: NAMES, signals });
  }

  /** Runs `netarp ...argv` to completion. */
  async run(...argv: string[]): Promise<Run> {
    const io = this.io();
    const code = await main(argv, io);
    return { code, out: io.out, err: io.err };
  }

  /** `netarp -an` as lines. */
  async table(...extra: string[]): Promise<string[]> {
    const result = await this.run('-an', ...extra);
    assert.equal(result.code, 0, result.err);
    return result.out.split('\n').filter(Boolean);
  }
}

const ok = (out = ''): Run => ({ code: 0, out, err: '' });
const failed = (err: string, out = ''): Run => ({ code: 1, out, err });

const OUR_LINE = `? (192.0.2.2) at ${OUR_MAC} on vx0 permanent [ethernet]`;
const VX1_LINE = `? (198.51.100.2) at ${VX1_MAC} on vx1 permanent [ethernet]`;

describe('netarp against a running daemon', () => {
  const b = new Bench();
  before(() => b.start());
  after(() => b.close());

  it('-s sets a permanent entry; over it, -s fails with File exists and -S replaces', async () => {
    assert.deepEqual(await b.run('-s', '192.0.2.20', '02:00:00:00:00:20'), ok());
    assert.deepEqual(
      await b.run('-n', '192.0.2.20'),
      ok('? (192.0.2.20) at 02:00:00:00:00:20 on vx0 permanent [ethernet]\n'),
    );
    assert.deepEqual(
      await b.run('-s', '192.0.2.20', '02:00:00:00:00:21'),
      failed('netarp: 192.0.2.20: File exists\n'),
    );
    assert.deepEqual(
      await b.run('-S', '192.0.2.20', '02:00:00:00:00:21'),
      ok('192.0.2.20 (192.0.2.20) deleted\n'),
    );
    assert.deepEqual(
      await b.run('-n', '192.0.2.20'),
      ok('? (192.0.2.20) at 02:00:00:00:00:21 on vx0 permanent [ethernet]\n'),
    );
    // -S where there was nothing: set, and nothing deleted.
    assert.deepEqual(await b.run('-S', '192.0.2.21', '02:00:00:00:00:22', 'temp'), ok());
    assert.match(
      (await b.run('-n', '192.0.2.21')).out,
      /^\? \(192\.0\.2\.21\) at 02:00:00:00:00:22 on vx0 expires in 1[12]\d\d seconds \[ethernet\]\n$/,
    );
    assert.deepEqual(
      await b.run('-s', '192.0.2.2', '02:00:00:00:00:66'),
      failed('netarp: 192.0.2.2: File exists (a local address)\n'),
    );
    assert.deepEqual(
      await b.run('-s', '10.9.9.9', '02:00:00:00:00:66'),
      failed('netarp: set: cannot intuit interface index and type for 10.9.9.9\n'),
    );
    await b.run('-d', '192.0.2.20');
    await b.run('-d', '192.0.2.21');
  });

  it('-s pub, pub only, auto, and names for hosts', async () => {
    assert.deepEqual(await b.run('-s', '192.0.2.30', 'auto', 'pub', 'only'), ok());
    assert.deepEqual(await b.run('-s', 'peer.example', PEER_MAC, 'pub'), ok());
    assert.deepEqual(await b.table(), [
      `? (192.0.2.1) at ${PEER_MAC} on vx0 permanent published [ethernet]`,
      OUR_LINE,
      VX1_LINE,
      // Proxy-only entries come after the host entries, as arp -a walks them.
      `? (192.0.2.30) at ${OUR_MAC} on vx0 permanent published (proxy only) [ethernet]`,
    ]);
    assert.deepEqual(
      await b.run('-s', 'nohost.example', PEER_MAC),
      failed('netarp: nohost.example: Unknown host\n'),
    );
    assert.deepEqual(
      await b.run('-s', '203.0.113.5', 'auto', 'pub'),
      failed('netarp: no interface found for 203.0.113.5\n'),
    );
    assert.deepEqual(
      await b.run('-d', '192.0.2.30', 'pub'),
      ok('192.0.2.30 (192.0.2.30) deleted\n'),
    );
    assert.deepEqual(await b.run('-d', 'peer.example'), ok('peer.example (192.0.2.1) deleted\n'));
  });

  it('host: its entry, with its reverse name unless -n; no entry is status 1', async () => {
    assert.deepEqual(await b.run('-s', '192.0.2.1', PEER_MAC), ok());
    const line = `(192.0.2.1) at ${PEER_MAC} on vx0 permanent [ethernet]\n`;
    assert.deepEqual(await b.run('192.0.2.1'), ok(`peer.example ${line}`));
    assert.deepEqual(await b.run('-n', 'peer.example'), ok(`? ${line}`));
    assert.deepEqual(await b.run('192.0.2.9'), {
      code: 1,
      out: '192.0.2.9 (192.0.2.9) -- no entry\n',
      err: '',
    });
    assert.deepEqual(await b.run('-i', 'vx1', '192.0.2.1'), {
      code: 1,
      out: '192.0.2.1 (192.0.2.1) -- no entry on vx1\n',
      err: '',
    });
    assert.deepEqual(
      await b.run('-i', 'vx9', '192.0.2.1'),
      failed('netarp: no such interface: vx9\n'),
    );
    const json = await b.run('192.0.2.1', '--json');
    assert.equal(json.code, 0);
    const fields = {
      ip: '192.0.2.1',
      mac: PEER_MAC,
      ifName: 'vx0',
      state: 'permanent',
      permanent: true,
      static: true,
      local: false,
      published: false,
      proxyOnly: false,
      held: 0,
      asked: 0,
    };
    // The daemon's `get` answer: the entry's fields (as before `entries`), and every entry.
    assert.deepEqual(JSON.parse(json.out), { ...fields, entries: [fields] });
    assert.deepEqual(
      await b.run('--json', '192.0.2.9'),
      failed('netarp: 192.0.2.9 (192.0.2.9) -- no entry\n'),
    );
    await b.run('-d', '192.0.2.1');
  });

  it('host: every entry for the host, as arp(8) prints them; -i one interface', async () => {
    // The same address with a host entry on vx0 and a published proxy-only one on vx1.
    assert.deepEqual(await b.run('-s', '192.0.2.1', PEER_MAC), ok());
    assert.deepEqual(await b.run('-i', 'vx1', '-s', '192.0.2.1', VX1_MAC, 'pub', 'only'), ok());
    const host = `? (192.0.2.1) at ${PEER_MAC} on vx0 permanent [ethernet]\n`;
    const proxy = `? (192.0.2.1) at ${VX1_MAC} on vx1 permanent published (proxy only) [ethernet]\n`;
    assert.deepEqual(await b.run('-n', '192.0.2.1'), ok(host + proxy));
    const named = (line: string): string => line.replace('? ', 'peer.example ');
    assert.deepEqual(await b.run('192.0.2.1'), ok(named(host) + named(proxy)));
    assert.deepEqual(await b.run('-n', '-i', 'vx1', 'peer.example'), ok(proxy));
    assert.deepEqual(await b.run('-n', '-i', 'vx0', '192.0.2.1'), ok(host));
    const json = await b.run('--json', '-n', '192.0.2.1');
    assert.equal(json.code, 0, json.err);
    const answer = JSON.parse(json.out) as EntryInfo & { entries: EntryInfo[] };
    assert.deepEqual(
      answer.entries.map((e) => [e.ifName, e.mac, e.proxyOnly]),
      [
        ['vx0', PEER_MAC, false],
        ['vx1', VX1_MAC, true],
      ],
    );
    assert.deepEqual([answer.ifName, answer.proxyOnly], ['vx0', false], 'the first, as before');
    const onVx1 = JSON.parse((await b.run('--json', '-i', 'vx1', '192.0.2.1')).out) as EntryInfo;
    assert.deepEqual([onVx1.ifName, onVx1.proxyOnly], ['vx1', true]);

    // -d -i: only the entry on that interface, here the proxy-only one (no pub needed).
    assert.deepEqual(
      await b.run('-d', '-i', 'vx1', 'peer.example'),
      ok('peer.example (192.0.2.1) deleted\n'),
    );
    assert.deepEqual(await b.run('-n', '192.0.2.1'), ok(host));
    assert.deepEqual(
      await b.run('-d', '-i', 'vx1', '192.0.2.1'),
      failed('netarp: 192.0.2.1 (192.0.2.1) -- no entry on vx1\n'),
    );
    assert.deepEqual(
      await b.run('-d', '-i', 'vx0', '192.0.2.1', 'pub'),
      failed('netarp: 192.0.2.1 (192.0.2.1) -- no entry on vx0\n'),
      'pub: the proxy-only entry, and there is none on vx0',
    );
    assert.deepEqual(
      await b.run('-d', '-i', 'vx9', '192.0.2.1'),
      failed('netarp: no such interface: vx9\n'),
    );
    assert.deepEqual(
      await b.run('-d', '-i', 'vx0', '192.0.2.2'),
      failed('netarp: 192.0.2.2: cannot delete a local address\n'),
    );
    assert.deepEqual(await b.run('-n', '192.0.2.1'), ok(host), 'the failures deleted nothing');
    const deleted = await b.run('-d', '-i', 'vx0', '192.0.2.1', '--json');
    assert.equal(deleted.code, 0, deleted.err);
    assert.deepEqual(
      (JSON.parse(deleted.out) as EntryInfo[]).map((e) => [e.ip, e.ifName]),
      [['192.0.2.1', 'vx0']],
    );
    assert.deepEqual(await b.run('-n', '192.0.2.1'), {
      code: 1,
      out: '192.0.2.1 (192.0.2.1) -- no entry\n',
      err: '',
    });

    await b.run('-i', 'vx1', '-s', '192.0.2.1', PEER_MAC);
    await b.run('-s', '192.0.2.1', OUR_MAC, 'pub', 'only');
    // -S ... pub only says it replaced the proxy-only entry (arp -S deletes, then sets), even
    // with a host entry beside it.
    assert.deepEqual(
      await b.run('-S', '192.0.2.1', VX1_MAC, 'pub', 'only'),
      ok('192.0.2.1 (192.0.2.1) deleted\n'),
    );
    // Without -i, -d takes the host entry first, whichever interface holds it, then the
    // proxy-only one.
    assert.deepEqual(await b.run('-d', '192.0.2.1'), ok('192.0.2.1 (192.0.2.1) deleted\n'));
    assert.deepEqual(
      await b.run('-n', '192.0.2.1'),
      ok(`? (192.0.2.1) at ${VX1_MAC} on vx0 permanent published (proxy only) [ethernet]\n`),
    );
    assert.deepEqual(await b.run('-d', '192.0.2.1'), ok('192.0.2.1 (192.0.2.1) deleted\n'));
    assert.equal((await b.run('-n', '192.0.2.1')).code, 1);
  });

  it('-a lists every entry, -i only one interface, --json as the daemon has them', async () => {
    await b.run('-s', '198.51.100.9', '02:00:00:00:00:99');
    await b.run('-s', '192.0.2.1', PEER_MAC);
    const all = await b.run('-a');
    assert.deepEqual(
      all,
      ok(
        [
          `peer.example (192.0.2.1) at ${PEER_MAC} on vx0 permanent [ethernet]`,
          OUR_LINE,
          VX1_LINE,
          '? (198.51.100.9) at 02:00:00:00:00:99 on vx1 permanent [ethernet]',
          '',
        ].join('\n'),
      ),
    );
    assert.deepEqual(
      await b.table(),
      all.out.replace('peer.example', '?').split('\n').filter(Boolean),
    );
    assert.deepEqual(await b.table('-i', 'vx1'), [
      VX1_LINE,
      '? (198.51.100.9) at 02:00:00:00:00:99 on vx1 permanent [ethernet]',
    ]);
    assert.deepEqual(await b.run('-a', '-i', 'vx9'), failed('netarp: no such interface: vx9\n'));
    const json = await b.run('-a', '--json', '-i', 'vx1');
    assert.deepEqual(
      (JSON.parse(json.out) as EntryInfo[]).map((e) => [e.ip, e.state]),
      [
        ['198.51.100.2', 'local'],
        ['198.51.100.9', 'permanent'],
      ],
    );
  });

  it('-d deletes one entry, -d -i IF -a one interface, -d -a all but our own', async () => {
    assert.deepEqual(
      await b.run('-d', '192.0.2.2'),
      failed('netarp: 192.0.2.2: cannot delete a local address\n'),
    );
    assert.deepEqual(
      await b.run('-d', '192.0.2.77'),
      failed('netarp: 192.0.2.77 (192.0.2.77) -- no entry\n'),
    );
    await b.run('-s', '192.0.2.40', '02:00:00:00:00:40', 'pub', 'only');
    await b.run('-s', '192.0.2.41', '02:00:00:00:00:41', 'temp');
    assert.deepEqual(
      await b.run('-d', '-i', 'vx1', '-a'),
      ok('198.51.100.9 (198.51.100.9) deleted\n'),
    );
    assert.deepEqual(
      await b.run('-d', '-a'),
      ok(
        [
          '192.0.2.1 (192.0.2.1) deleted',
          '192.0.2.41 (192.0.2.41) deleted',
          '192.0.2.40 (192.0.2.40) deleted',
          '',
        ].join('\n'),
      ),
    );
    assert.deepEqual(await b.table(), [OUR_LINE, VX1_LINE]);
    assert.deepEqual(await b.run('-da'), ok(), 'nothing left to delete');
  });

  it('-f sets each line, reports each failing line with its number, and fails at the end', async () => {
    await b.run('-s', '192.0.2.50', '02:00:00:00:00:50');
    const file = join(b.dir, 'ethers');
    writeFileSync(
      file,
      [
        '# netarp -f',
        '192.0.2.51 02:00:00:00:00:51',
        '192.0.2.52 02:00:00:00:00:5g',
        '',
        '192.0.2.53',
        'nohost.example 02:00:00:00:00:54',
        '192.0.2.50 02:00:00:00:00:55   # already there, permanent',
        'peer.example 02:00:00:00:00:01 temp',
        '192.0.2.56 02:00:00:00:00:56 pub only',
        '192.0.2.57 02:00:00:00:00:57 pub sometimes',
        '10.1.1.1 02:00:00:00:00:58',
      ].join('\n'),
    );
    const result = await b.run('-f', file);
    assert.deepEqual(result, {
      code: 1,
      out: '',
      err: [
        `netarp: ${file}:3: invalid Ethernet address '02:00:00:00:00:5g'`,
        `netarp: ${file}:5: bad line: 192.0.2.53`,
        `netarp: ${file}:6: nohost.example: Unknown host`,
        `netarp: ${file}:7: 192.0.2.50: File exists`,
        `netarp: ${file}:10: unknown word 'sometimes' (expected temp, pub or pub only)`,
        `netarp: ${file}:11: set: cannot intuit interface index and type for 10.1.1.1`,
        '',
      ].join('\n'),
    });
    const table = await b.table();
    assert.deepEqual(
      table.map((l) => l.replace(/expires in \d+ seconds/, 'expires')),
      [
        `? (192.0.2.1) at ${PEER_MAC} on vx0 expires [ethernet]`,
        OUR_LINE,
        '? (192.0.2.50) at 02:00:00:00:00:50 on vx0 permanent [ethernet]',
        '? (192.0.2.51) at 02:00:00:00:00:51 on vx0 permanent [ethernet]',
        VX1_LINE,
        '? (192.0.2.56) at 02:00:00:00:00:56 on vx0 permanent published (proxy only) [ethernet]',
      ],
    );
    const good = join(b.dir, 'good');
    writeFileSync(good, '198.51.100.60 02:00:00:00:00:60\n');
    const json = await b.run('-f', good, '--json', '-i', 'vx1');
    assert.equal(json.code, 0, json.err);
    assert.deepEqual(
      (JSON.parse(json.out) as EntryInfo[]).map((e) => [e.ip, e.ifName]),
      [['198.51.100.60', 'vx1']],
    );
    assert.deepEqual(
      await b.run('-f', join(b.dir, 'missing')),
      failed(`netarp: cannot open ${join(b.dir, 'missing')}: no such file\n`),
    );
    await b.run('-d', '-a');
  });

  it('sysctl reads, sets and refuses like sysctl(8)', async () => {
    assert.deepEqual(await b.run('sysctl', 'max_age'), ok('net.link.ether.inet.max_age: 1200\n'));
    assert.deepEqual(
      await b.run('sysctl', 'net.link.ether.inet.max_age=600', 'maxtries'),
      ok('net.link.ether.inet.max_age: 1200 -> 600\nnet.link.ether.inet.maxtries: 2\n'),
    );
    assert.deepEqual(await b.run('sysctl', '-n', 'max_age'), ok('600\n'));
    assert.deepEqual(
      await b.run('sysctl', 'max_age=0', 'nope', 'maxtries=3'),
      failed(
        "netarp: sysctl: net.link.ether.inet.max_age: 0 is not an integer in 1..31536000\nnetarp: sysctl: unknown oid 'nope'\n",
        'net.link.ether.inet.maxtries: 2 -> 3\n',
      ),
    );
    assert.deepEqual(await b.run('sysctl', 'max_age=soon'), {
      code: 2,
      out: '',
      err: "netarp: sysctl: invalid integer 'soon' for max_age\n",
    });
    const all = await b.run('sysctl');
    assert.equal(all.code, 0);
    assert.deepEqual(
      all.out
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(':')[0]),
      CONFIG_KEYS.map((key) => `net.link.ether.inet.${key}`),
    );
    assert.deepEqual(await b.run('sysctl', 'net.link.ether'), all);
    assert.deepEqual(await b.run('sysctl', '-a'), all);
    assert.match(
      (await b.run('sysctl', '-d', 'max_age')).out,
      /^net\.link\.ether\.inet\.max_age: seconds a resolved entry stays valid\n$/,
    );
    const json = await b.run('sysctl', '--json', 'max_age', 'max_age=1200');
    assert.deepEqual(JSON.parse(json.out), [
      {
        name: 'net.link.ether.inet.max_age',
        value: 600,
        description: 'seconds a resolved entry stays valid',
      },
      { name: 'net.link.ether.inet.max_age', old: 600, value: 1200 },
    ]);
    await b.run('sysctl', 'maxtries=2');
  });

  it('resolve prints the MAC, or the reason and status 1', async () => {
    assert.deepEqual(await b.run('resolve', '192.0.2.1'), ok(`${PEER_MAC}\n`));
    assert.deepEqual(await b.run('resolve', 'peer.example'), ok(`${PEER_MAC}\n`));
    assert.deepEqual(
      await b.run('resolve', '203.0.113.1'),
      failed('netarp: 203.0.113.1 (203.0.113.1): no route to host\n'),
    );
    assert.deepEqual(
      await b.run('resolve', '192.0.2.78', '--timeout', '50'),
      failed('netarp: 192.0.2.78 (192.0.2.78): timeout\n'),
    );
    const json = await b.run('resolve', '--json', '192.0.2.1');
    assert.equal(json.code, 0);
    assert.deepEqual(
      { ...(JSON.parse(json.out) as object), elapsedMs: 0 },
      {
        resolved: true,
        ip: '192.0.2.1',
        mac: PEER_MAC,
        ifName: 'vx0',
        state: 'resolved',
        elapsedMs: 0,
      },
    );
  });

  it('ping prints ping(8) lines; no reply is status 1', async () => {
    const pinged = await b.run('ping', '192.0.2.1', '-c', '2', '-i', '0.01');
    assert.equal(pinged.code, 0, pinged.err);
    assert.match(
      pinged.out,
      /^PING 192\.0\.2\.1 \(192\.0\.2\.1\): 56 data bytes\n64 bytes from 192\.0\.2\.1: icmp_seq=\d+ ttl=64 time=\d+\.\d{3} ms\n64 bytes from .*\n\n--- 192\.0\.2\.1 ping statistics ---\n2 packets transmitted, 2 packets received, 0\.0% packet loss\nround-trip min\/avg\/max\/stddev = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms\n$/,
    );
    const silent = await b.run('ping', '192.0.2.79', '-W', '50');
    assert.equal(silent.code, 1);
    assert.match(silent.out, /\nRequest timeout for icmp_seq \d+\n/);
    assert.match(silent.out, /1 packets transmitted, 0 packets received, 100\.0% packet loss\n$/);
  });

  it('ping prints each reply as it arrives, and the statistics at the end', async () => {
    const io = b.io();
    let done = false;
    const ping = main(['ping', '192.0.2.1', '-c', '3', '-i', '0.3'], io).finally(() => {
      done = true;
    });
    await eventually('the first reply', () => /^64 bytes from/m.test(io.out));
    assert.equal(done, false, 'still pinging');
    assert.match(
      io.out,
      /^PING 192\.0\.2\.1 \(192\.0\.2\.1\): 56 data bytes\n64 bytes from 192\.0\.2\.1: icmp_seq=\d+ ttl=64 time=[\d.]+ ms\n$/,
    );
    assert.equal(await ping, 0);
    assert.equal(io.err, '');
    const lines = io.out.split('\n');
    assert.equal(lines.filter((l) => l.startsWith('64 bytes from')).length, 3);
    assert.match(io.out, /\n3 packets transmitted, 3 packets received, 0\.0% packet loss\n/);
  });

  it('ping: Ctrl-C prints the statistics so far and stops the daemon sending', async () => {
    const echoes = (): number => b.peer.host.stats().rxEchoRequests;
    const signals = new FakeSignals();
    const io = b.io(signals);
    const before = echoes();
    const ping = main(['ping', '192.0.2.1', '-c', '100', '-i', '0.05'], io);
    await eventually(
      'two replies',
      () => io.out.split('\n').filter((l) => l.startsWith('64 ')).length >= 2,
    );
    assert.equal(signals.listening('SIGINT'), 1);
    signals.send('SIGINT');
    assert.equal(await ping, 0);
    assert.equal(signals.listening('SIGINT'), 0, 'the handler is removed');
    assert.equal(io.err, '');
    const match =
      /\n--- 192\.0\.2\.1 ping statistics ---\n(\d+) packets transmitted, (\d+) packets received, [\d.]+% packet loss\nround-trip min\/avg\/max\/stddev = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms\n$/.exec(
        io.out,
      );
    assert.ok(match, io.out);
    const [transmitted, received] = [Number(match[1]), Number(match[2])];
    const replies = io.out.split('\n').filter((l) => l.startsWith('64 bytes from')).length;
    assert.equal(received, replies, 'counts the replies printed');
    assert.ok(transmitted >= received && transmitted < 100, `${transmitted} transmitted`);
    // The daemon stops once the client has gone: no more echoes reach the neighbour.
    // (It notices at its next request, 50 ms on at most; were it still sending, 300 ms would
    // show about six more.)
    await new Promise((resolve) => setTimeout(resolve, 300));
    const sent = echoes() - before;
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(echoes() - before, sent, 'nothing sent after the interrupt');
    assert.ok(sent < 100 && sent <= transmitted + 1, `${sent} echoes sent`);

    // No reply at all: 100% loss and status 1; --json prints the result so far.
    const quiet = new FakeSignals();
    const json = b.io(quiet);
    const silent = main(
      ['ping', '192.0.2.80', '-c', '5', '-i', '0.05', '-W', '5000', '--json'],
      json,
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    quiet.send('SIGINT');
    assert.equal(await silent, 1);
    const result = JSON.parse(json.out) as {
      transmitted: number;
      received: number;
      probes: unknown[];
    };
    assert.equal(result.received, 0);
    assert.ok(
      result.transmitted >= 1 && result.transmitted < 5,
      `${result.transmitted} transmitted`,
    );
    assert.deepEqual(result.probes, [], 'none timed out yet');
  });

  it('stats prints every counter as "name value"', async () => {
    const stats = await b.run('stats');
    assert.equal(stats.code, 0, stats.err);
    const lines = stats.out.trimEnd().split('\n');
    const path = b.statePath;
    // Every value is a number but the state file's path.
    for (const line of lines.filter((l) => !l.startsWith('state.path '))) {
      assert.match(line, /^[a-z]+(\.[A-Za-z0-9_]+)+ \d+$/);
    }
    const value = (name: string): number =>
      Number(lines.find((l) => l.startsWith(`${name} `))?.split(' ')[1]);
    assert.ok(value('engine.txrequests') >= 1, 'the resolutions above sent requests');
    assert.ok(value('host.rxEchoReplies') >= 2, 'the pings above were answered');
    assert.equal(value('link.vx0.sent'), 0);
    // The state file: the changes above were saved, none failed; the path, last of the group.
    const state = lines.filter((l) => l.startsWith('state.'));
    assert.deepEqual(
      state.map((l) => l.split(' ')[0]),
      ['state.changes', 'state.writes', 'state.failures', 'state.path'],
    );
    assert.ok(value('state.writes') >= 10, 'every change above was written');
    assert.equal(value('state.failures'), 0);
    assert.equal(state[3], `state.path ${path}`);
    assert.equal(lines.at(-1)?.split(' ')[0], 'daemon.uptimeMs');
    const json = JSON.parse((await b.run('stats', '--json')).out) as {
      engine: object;
      state: { path: string; changes: number; writes: number; failures: number };
    };
    assert.equal(
      Object.keys(json.engine).length,
      lines.filter((l) => l.startsWith('engine.')).length,
    );
    assert.deepEqual(Object.keys(json.state), ['path', 'changes', 'writes', 'failures']);
    assert.equal(json.state.path, path);
    assert.equal(json.state.changes, value('state.changes'));
    assert.equal(json.state.failures, 0);
  });

  it('interfaces lists what the daemon runs', async () => {
    assert.deepEqual(
      await b.run('interfaces'),
      ok(
        [
          'vx0: flags=<UP> kind ether',
          `\tether ${OUR_MAC}`,
          '\tinet 192.0.2.2/24',
          '\tlink: hub/vx0',
          'vx1: flags=<UP> kind ether',
          `\tether ${VX1_MAC}`,
          '\tinet 198.51.100.2/24',
          '\tlink: hub/vx1',
          '',
        ].join('\n'),
      ),
    );
    const json = JSON.parse((await b.run('interfaces', '--json')).out) as { name: string }[];
    assert.deepEqual(
      json.map((i) => i.name),
      ['vx0', 'vx1'],
    );
  });

  it('monitor shows events as they happen until interrupted', async () => {
    const signals = new FakeSignals();
    const io = b.io(signals);
    const monitor = main(['monitor'], io);
    // The subscription is made asynchronously: repeat the change until the monitor sees it.
    await eventually('the RTM_ADD line', async () => {
      await b.run('-s', '192.0.2.60', '02:00:00:00:00:60');
      await b.run('-d', '192.0.2.60');
      return io.out.includes('RTM_ADD vx0 192.0.2.60 02:00:00:00:00:60 [admin]\n');
    });
    assert.equal(signals.listening('SIGINT'), 1);
    signals.send('SIGINT');
    assert.equal(await monitor, 0);
    assert.equal(io.err, '');
    assert.equal(signals.listening('SIGINT'), 0, 'the handler is removed');
    assert.match(io.out, /^RTM_DELETE vx0 192\.0\.2\.60 02:00:00:00:00:60 \[admin\]$/m);

    // --json -c 1: one event, as the protocol has it, then exit.
    const once = b.io();
    const counted = main(['monitor', '--json', '-c', '1'], once);
    await eventually('one event', async () => {
      await b.run('-s', '192.0.2.61', '02:00:00:00:00:61');
      await b.run('-d', '192.0.2.61');
      return once.out !== '';
    });
    assert.equal(await counted, 0);
    const event = JSON.parse(once.out) as { kind: string; ip: string };
    assert.deepEqual([event.kind, event.ip], ['route', '192.0.2.61']);
  });
});

describe('netarp without a daemon', () => {
  it('says it cannot connect, naming the socket, and exits 1', async () => {
    const path = join(tmpdir(), 'netarp-nonexistent', 'netarp.sock');
    for (const argv of [['-a'], ['stats'], ['sysctl'], ['-d', '-a'], ['monitor']]) {
      let err = '';
      const code = await main(['--socket', path, ...argv], {
        stdout: () => assert.fail('no output expected'),
        stderr: (text) => {
          err += text;
        },
      });
      assert.deepEqual(
        { code, err },
        { code: 1, err: `netarp: cannot connect to ${path}: is the daemon running?\n` },
        argv.join(' '),
      );
    }
  });

  it('takes the socket from $NETARP_SOCKET, and --socket over it', async () => {
    let err = '';
    const io: CliIo = {
      env: { NETARP_SOCKET: '/nonexistent/env.sock' },
      stdout: () => {},
      stderr: (text) => {
        err += text;
      },
    };
    assert.equal(await main(['interfaces'], io), 1);
    assert.equal(err, 'netarp: cannot connect to /nonexistent/env.sock: is the daemon running?\n');
    err = '';
    assert.equal(await main(['interfaces', '--socket', '/nonexistent/opt.sock'], io), 1);
    assert.equal(err, 'netarp: cannot connect to /nonexistent/opt.sock: is the daemon running?\n');
  });
});

describe('netarp monitor when the daemon stops', () => {
  it('exits 1 saying the daemon closed the connection', async () => {
    const b = new Bench();
    await b.start();
    try {
      const io = b.io();
      const monitor = main(['monitor'], io);
      await eventually('the subscription', async () => {
        await b.run('-s', '192.0.2.60', '02:00:00:00:00:60');
        await b.run('-d', '192.0.2.60');
        return io.out !== '';
      });
      await b.daemon.stop();
      assert.equal(await monitor, 1);
      assert.equal(io.err, `netarp: ${b.socket}: the daemon closed the connection\n`);
      assert.match(io.out, /^netarp: stopping$/m);
    } finally {
      await b.close();
    }
  });
});

describe('netarp interfaces when a link has a fault', () => {
  it('shows the interface DOWN, NO-CARRIER, and the fault the daemon reports', async () => {
    // VXLAN has no carrier (links.ts probeDevice); the TAP device's is the bench's `device`.
    const b = new Bench(
      CONFIG.replace(
        /link = \{ type = "vxlan"[^}]*vni = 43 \}/,
        'link = { type = "tap", device = "tapx1" }',
      ),
      { linkWatch: { carrierPollMs: 10 } },
    );
    await b.start();
    try {
      const vx1 = async (): Promise<string> => {
        const run = await b.run('interfaces');
        assert.equal(run.code, 0, run.err);
        return run.out.slice(run.out.indexOf('vx1:'));
      };
      assert.equal(
        await vx1(),
        [
          'vx1: flags=<UP> kind ether',
          `\tether ${VX1_MAC}`,
          '\tinet 198.51.100.2/24',
          '\tlink: hub/vx1',
          '',
        ].join('\n'),
      );
      b.device = 'down';
      await eventually('the fault', async () => (await vx1()).includes('DOWN'));
      assert.equal(
        await vx1(),
        [
          'vx1: flags=<DOWN,NO-CARRIER> kind ether',
          `\tether ${VX1_MAC}`,
          '\tinet 198.51.100.2/24',
          '\tlink: hub/vx1',
          '\tfault: no carrier on tap tapx1',
          '',
        ].join('\n'),
      );
      const json = JSON.parse((await b.run('interfaces', '--json')).out) as {
        name: string;
        fault?: string;
      }[];
      assert.deepEqual(
        json.map((i) => [i.name, i.fault]),
        [
          ['vx0', undefined],
          ['vx1', 'no carrier on tap tapx1'],
        ],
      );
      b.device = 'up';
      await eventually('carrier back', async () => !(await vx1()).includes('fault'));
      assert.match(await vx1(), /^vx1: flags=<UP> kind ether\n/);
    } finally {
      await b.close();
    }
  });
});
