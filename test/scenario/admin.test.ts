/**
 * The table as arp(8) drives it: arp -s (permanent, temp, pub, pub only), -S (replace),
 * -d, -d -a, -a (BSD's line format) and -f (a file of `arp -s` arguments).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatArpLine, parseArpFile } from '../../src/core/admin.ts';
import { Engine } from '../../src/core/engine.ts';
import { NetarpError } from '../../src/core/errors.ts';
import {
  A,
  A_NEW_MAC,
  B,
  expectDelivered,
  ip,
  isAt,
  mac,
  makeHost,
  packet,
  routeEvent,
  s,
  US,
  view,
} from './helpers.ts';

/** Asserts that `action` throws a NetarpError with `code`. */
function throwsCode(action: () => unknown, code: string, message?: RegExp): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof NetarpError, String(error));
    assert.equal(error.code, code);
    if (message) assert.match(error.message, message);
    return true;
  });
}

/** The `arp -an` listing of `engine` at second `at`. */
function arpAn(engine: Engine, at: number): string[] {
  return engine.listEntries(s(at)).map((info) => formatArpLine(info));
}

describe('arp -s', () => {
  it('adds a permanent entry that is used at once and never expires', () => {
    const { engine, eth0 } = makeHost();
    assert.deepEqual(view(engine, engine.addEntry(s(10), { ip: ip(A.ip), mac: mac(A.mac) })), [
      routeEvent('add', A.ip, 'admin', A.mac),
    ]);
    assert.deepEqual(engine.resolve(s(10), ip(A.ip), packet('p')).result, {
      kind: 'resolved',
      ifIndex: eth0,
      mac: mac(A.mac),
      source: mac(US.mac),
    });
    const entry = engine.lookup(s(1e6), A.ip);
    assert.equal(entry?.state, 'permanent');
    assert.equal(entry?.static, true);
    assert.equal(entry?.expiresIn, undefined);
  });

  it('adds a temp entry that expires after max_age', () => {
    const { engine } = makeHost();
    engine.addEntry(s(10), { ip: ip(A.ip), mac: mac(A.mac), temp: true });
    assert.equal(engine.lookup(s(10), A.ip)?.state, 'resolved');
    assert.equal(engine.lookup(s(10), A.ip)?.expiresIn, 1200);
    engine.setSysctl('max_age', 60);
    engine.addEntry(s(20), { ip: ip(B.ip), mac: mac(B.mac), temp: true });
    assert.equal(engine.lookup(s(20), B.ip)?.expiresIn, 60);
  });

  it('will not replace a permanent entry (EEXIST) unless asked to (-S)', () => {
    const { engine } = makeHost();
    engine.addEntry(s(10), { ip: ip(A.ip), mac: mac(A.mac) });
    throwsCode(() => engine.addEntry(s(11), { ip: ip(A.ip), mac: mac(A_NEW_MAC) }), 'EEXIST');
    assert.equal(engine.lookup(s(11), A.ip)?.mac, A.mac);
    const replaced = engine.addEntry(s(12), { ip: ip(A.ip), mac: mac(A_NEW_MAC), replace: true });
    assert.deepEqual(view(engine, replaced), [routeEvent('change', A.ip, 'admin', A_NEW_MAC)]);
    assert.equal(engine.lookup(s(12), A.ip)?.mac, A_NEW_MAC);
  });

  it('will not replace one of our own addresses, even with -S', () => {
    const { engine } = makeHost();
    throwsCode(() => engine.addEntry(s(10), { ip: ip(US.ip), mac: mac(A.mac) }), 'EEXIST');
    throwsCode(
      () => engine.addEntry(s(10), { ip: ip(US.ip), mac: mac(A.mac), replace: true }),
      'EEXIST',
    );
    assert.equal(engine.lookup(s(10), US.ip)?.state, 'local');
  });

  it('overwrites a learned entry, and releases what an unresolved one held', () => {
    const { engine, eth0 } = makeHost();
    engine.resolve(s(10), ip(A.ip), packet('a1'));
    engine.handleFrame(s(10), eth0, isAt(A, US));
    assert.deepEqual(view(engine, engine.addEntry(s(11), { ip: ip(A.ip), mac: mac(A_NEW_MAC) })), [
      routeEvent('change', A.ip, 'admin', A_NEW_MAC),
    ]);
    assert.equal(engine.lookup(s(11), A.ip)?.state, 'permanent');
    engine.resolve(s(12), ip(B.ip), packet('b1'));
    assert.deepEqual(view(engine, engine.addEntry(s(13), { ip: ip(B.ip), mac: mac(B.mac) })), [
      routeEvent('change', B.ip, 'admin', B.mac),
      expectDelivered('b1', B),
    ]);
  });

  it('refuses an address no interface covers (ENETUNREACH) and an unknown interface (ENOENT)', () => {
    const { engine } = makeHost();
    throwsCode(
      () => engine.addEntry(s(10), { ip: ip('203.0.113.5'), mac: mac(A.mac) }),
      'ENETUNREACH',
    );
    throwsCode(
      () => engine.addEntry(s(10), { ip: ip(A.ip), mac: mac(A.mac), ifName: 'eth9' }),
      'ENOENT',
    );
  });
});

describe('arp -d and arp -d -a', () => {
  it('deletes one entry, and fails with ENOENT when there is none', () => {
    const { engine } = makeHost();
    engine.addEntry(s(10), { ip: ip(A.ip), mac: mac(A.mac) });
    assert.deepEqual(view(engine, engine.deleteEntry(s(11), A.ip)), [
      routeEvent('delete', A.ip, 'admin', A.mac),
    ]);
    assert.equal(engine.lookup(s(11), A.ip), undefined);
    throwsCode(() => engine.deleteEntry(s(12), A.ip), 'ENOENT', /192\.0\.2\.10/);
  });

  it('deletes a proxy-only entry with pub, or when no host entry exists', () => {
    const { engine } = makeHost();
    engine.addEntry(s(10), { ip: ip(A.ip), mac: mac(A.mac), pub: true, only: true });
    engine.addEntry(s(10), { ip: ip(B.ip), mac: mac(B.mac), pub: true, only: true });
    assert.deepEqual(routesOf(engine.deleteEntry(s(11), A.ip, true)), ['delete 192.0.2.10']);
    assert.deepEqual(routesOf(engine.deleteEntry(s(11), B.ip)), ['delete 192.0.2.11']);
  });

  it('will not delete one of our own addresses (EPERM)', () => {
    const { engine } = makeHost();
    throwsCode(() => engine.deleteEntry(s(10), US.ip), 'EPERM');
  });

  it('flushes every entry but our own addresses', () => {
    const { engine } = makeHost();
    engine.addEntry(s(10), { ip: ip(A.ip), mac: mac(A.mac) });
    engine.resolve(s(10), ip(B.ip), packet('b'));
    engine.addEntry(s(10), { ip: ip('192.0.2.50'), mac: mac(B.mac), pub: true, only: true });
    assert.deepEqual(view(engine, engine.flush(s(11))), [
      routeEvent('delete', A.ip, 'admin', A.mac),
      routeEvent('delete', B.ip, 'admin'),
      routeEvent('delete', '192.0.2.50', 'admin', B.mac),
    ]);
    assert.deepEqual(arpAn(engine, 11), [
      '? (192.0.2.1) at 02:00:00:00:00:01 on eth0 permanent [ethernet]',
    ]);
  });
});

function routesOf(outputs: ReturnType<Engine['flush']>): string[] {
  return outputs.flatMap((o) =>
    o.kind === 'event' && o.event.kind === 'route' ? [`${o.event.type} ${o.event.ip}`] : [],
  );
}

describe('arp -a', () => {
  it('prints each kind of entry as BSD arp(8) does', () => {
    const engine = new Engine();
    engine.addInterface({ name: 'eth0', mac: mac('02:00:00:00:00:02') });
    engine.addAddress(0, 'eth0', '192.0.2.2/24');
    for (let at = 3; at <= 8; at++) engine.resolve(s(at), ip('192.0.2.8'), packet('p')); // down
    // Learned at 10 s, listed at 23 s.
    engine.handleFrame(
      s(10),
      0,
      isAt(
        { mac: '02:00:00:00:00:01', ip: '192.0.2.1' },
        { mac: '02:00:00:00:00:02', ip: '192.0.2.2' },
      ),
    );
    engine.addEntry(s(10), { ip: ip('192.0.2.3'), mac: mac('02:00:00:00:00:03') });
    engine.addEntry(s(10), { ip: ip('192.0.2.4'), mac: mac('02:00:00:00:00:04'), pub: true });
    engine.addEntry(s(10), {
      ip: ip('192.0.2.5'),
      mac: mac('02:00:00:00:00:05'),
      pub: true,
      only: true,
    });
    engine.addEntry(s(10), { ip: ip('192.0.2.6'), mac: mac('02:00:00:00:00:06'), temp: true });
    engine.resolve(s(23), ip('192.0.2.9'), packet('p')); // asked for, unanswered
    assert.deepEqual(arpAn(engine, 23), [
      '? (192.0.2.1) at 02:00:00:00:00:01 on eth0 expires in 1187 seconds [ethernet]',
      '? (192.0.2.2) at 02:00:00:00:00:02 on eth0 permanent [ethernet]',
      '? (192.0.2.3) at 02:00:00:00:00:03 on eth0 permanent [ethernet]',
      '? (192.0.2.4) at 02:00:00:00:00:04 on eth0 permanent published [ethernet]',
      '? (192.0.2.6) at 02:00:00:00:00:06 on eth0 expires in 1187 seconds [ethernet]',
      // Down (RTF_REJECT) until 8 + 20 = 28: its rt_expire is still ahead.
      '? (192.0.2.8) at (incomplete) on eth0 expires in 5 seconds [ethernet]',
      // Incomplete: rt_expire is the second of the last request, never in the future.
      '? (192.0.2.9) at (incomplete) on eth0 [ethernet]',
      '? (192.0.2.5) at 02:00:00:00:00:05 on eth0 permanent published (proxy only) [ethernet]',
    ]);
    assert.equal(
      formatArpLine(engine.listEntries(s(23))[0]!, 'gw.example'),
      'gw.example (192.0.2.1) at 02:00:00:00:00:01 on eth0 expires in 1187 seconds [ethernet]',
    );
  });
});

describe('arp host', () => {
  it('finds the host entry and the proxy-only entry of one address, or none', () => {
    const { engine } = makeHost();
    assert.deepEqual(engine.lookupAll(s(10), A.ip), []);
    engine.addEntry(s(10), { ip: ip(A.ip), mac: mac(A.mac) });
    engine.addEntry(s(10), { ip: ip(A.ip), mac: mac(B.mac), pub: true, only: true });
    engine.addEntry(s(10), { ip: ip(B.ip), mac: mac(B.mac), pub: true, only: true });
    assert.deepEqual(
      engine.lookupAll(s(11), A.ip).map((e) => [e.ip, e.mac, e.proxyOnly]),
      [
        [A.ip, A.mac, false],
        [A.ip, B.mac, true],
      ],
    );
    assert.deepEqual(
      engine.lookupAll(s(11), ip(B.ip)).map((e) => [e.ip, e.proxyOnly]),
      [[B.ip, true]],
    );
    // lookup() answers the host entry first, as before.
    assert.equal(engine.lookup(s(11), A.ip)?.proxyOnly, false);
    engine.deleteEntry(s(12), A.ip);
    assert.deepEqual(
      engine.lookupAll(s(12), A.ip).map((e) => e.proxyOnly),
      [true],
    );
  });
});

describe('arp -f', () => {
  it('loads a file of arp -s arguments, reporting the lines it cannot use', () => {
    const { engine } = makeHost();
    const text = [
      '# neighbours of eth0',
      '192.0.2.20 02:00:00:00:00:20',
      '',
      '192.0.2.21 2:0:0:0:0:21 temp',
      '192.0.2.22 02-00-00-00-00-22 pub',
      '192.0.2.23 02:00:00:00:00:23 pub only',
      'router.example 02:00:00:00:00:24',
      '192.0.2.25 02:00:00:00:00:zz',
      '192.0.2.26 02:00:00:00:00:26 only',
      '192.0.2.27',
    ].join('\n');
    const { entries, errors } = parseArpFile(text);
    assert.deepEqual(errors, [
      { line: 7, message: 'router.example: not an IPv4 address' },
      { line: 8, message: "invalid Ethernet address '02:00:00:00:00:zz'" },
      { line: 9, message: "'only' must follow 'pub'" },
      { line: 10, message: 'expected: host ether_addr [temp] [pub [only]]' },
    ]);
    for (const entry of entries) engine.addEntry(s(10), entry);
    assert.deepEqual(arpAn(engine, 10), [
      '? (192.0.2.1) at 02:00:00:00:00:01 on eth0 permanent [ethernet]',
      '? (192.0.2.20) at 02:00:00:00:00:20 on eth0 permanent [ethernet]',
      '? (192.0.2.21) at 02:00:00:00:00:21 on eth0 expires in 1200 seconds [ethernet]',
      '? (192.0.2.22) at 02:00:00:00:00:22 on eth0 permanent published [ethernet]',
      '? (192.0.2.23) at 02:00:00:00:00:23 on eth0 permanent published (proxy only) [ethernet]',
    ]);
  });
});
