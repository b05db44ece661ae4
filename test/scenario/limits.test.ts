/**
 * netarp's limits, none of which the seed had: the table's size (`max_entries`, LRU eviction
 * that spares static and published entries and, from the network, entries our packets wait
 * for and gateways), unresolved entries (`max_incomplete`), the requests we send
 * (`max_requests_per_sec`), held packets by bytes and age (`maxhold_bytes`, `hold_timeout`)
 * and log lines per kind (`log_ratelimit`). Each drop or eviction moves a named counter;
 * each default leaves the seed's behaviour as it was.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Engine } from '../../src/core/engine.ts';
import {
  A,
  A_NEW_MAC,
  arpFrame,
  B,
  BROADCAST,
  C,
  counting,
  expectDelivered,
  expectReply,
  expectRequest,
  GW,
  ip,
  isAt,
  logLine,
  mac,
  makeHost,
  packet,
  routeEvent,
  type Station,
  s,
  US,
  view,
  whoHas,
} from './helpers.ts';

/** Neighbour n on eth0: 192.0.2.n at 02:00:00:00:02:n. */
function neighbour(n: number): Station {
  return { mac: `02:00:00:00:02:${n.toString(16).padStart(2, '0')}`, ip: `192.0.2.${n}` };
}
const X = neighbour(20);
const Y = neighbour(21);
const Z = neighbour(22);
const W = neighbour(23);

/** The addresses in the table, in order. */
function addresses(engine: Engine, at: number): string[] {
  return engine.listEntries(s(at)).map((e) => e.ip);
}

describe('max_entries: the table is capped, the least recently used dynamic entry goes', () => {
  it('learning evicts the least recently used idle entry, reported as deleted (evicted)', () => {
    const { engine, eth0 } = makeHost({ config: { max_entries: 2 } });
    engine.handleFrame(s(10), eth0, whoHas(A, US.ip));
    engine.handleFrame(s(11), eth0, whoHas(B, US.ip));
    engine.resolve(s(12), ip(A.ip), packet('to A')); // A is used: B is now the oldest
    const { result, moved } = counting(engine, () =>
      engine.handleFrame(s(13), eth0, whoHas(X, US.ip)),
    );
    assert.deepEqual(view(engine, result), [
      routeEvent('delete', B.ip, 'evicted', B.mac),
      routeEvent('add', X.ip, 'learned'),
      routeEvent('resolve', X.ip, 'learned', X.mac),
      expectReply(US, X),
    ]);
    assert.deepEqual(moved, { received: 1, rxrequests: 1, evicted: 1, txreplies: 1 });
    assert.deepEqual(addresses(engine, 13), [US.ip, A.ip, X.ip]);
  });

  it('our traffic evicts an idle entry before one that holds packets, however old', () => {
    const { engine, eth0 } = makeHost({ config: { max_entries: 2 } });
    engine.resolve(s(10), ip(X.ip), packet('for X'));
    engine.handleFrame(s(11), eth0, whoHas(A, US.ip));
    const { result, moved } = counting(engine, () => engine.resolve(s(12), ip(Y.ip), packet('y')));
    assert.deepEqual(result.result, { kind: 'held', ifIndex: eth0, nextHop: ip(Y.ip) });
    assert.deepEqual(view(engine, result.outputs), [
      routeEvent('delete', A.ip, 'evicted', A.mac),
      routeEvent('add', Y.ip, 'resolve'),
      expectRequest(US, Y.ip),
    ]);
    assert.deepEqual(moved, { evicted: 1, txrequests: 1 });
    assert.equal(engine.lookup(s(12), X.ip)?.held, 1, "X's packet still waits");
  });

  it('with only entries holding packets, a miss evicts the oldest: one request, packet held', () => {
    // The "miss" workload: a table full of unresolved entries, each holding one packet.
    const { engine, eth0 } = makeHost({ config: { max_entries: 3 } });
    engine.resolve(s(10), ip(X.ip), packet('x'));
    engine.resolve(s(11), ip(Y.ip), packet('y'));
    engine.resolve(s(12), ip(Z.ip), packet('z'));
    const { result, moved } = counting(engine, () => engine.resolve(s(13), ip(W.ip), packet('w')));
    assert.deepEqual(result.result, { kind: 'held', ifIndex: eth0, nextHop: ip(W.ip) });
    assert.deepEqual(view(engine, result.outputs), [
      routeEvent('delete', X.ip, 'evicted'),
      routeEvent('add', W.ip, 'resolve'),
      expectRequest(US, W.ip),
    ]);
    assert.deepEqual(moved, { evicted: 1, dropped: 1, txrequests: 1 });
    assert.deepEqual(addresses(engine, 13), [US.ip, Y.ip, Z.ip, W.ip]);
  });

  it('the network cannot evict what our packets wait for: the sender is not learned, still answered', () => {
    const { engine, eth0 } = makeHost({ config: { max_entries: 2 } });
    engine.resolve(s(10), ip(X.ip), packet('x'));
    engine.resolve(s(11), ip(Y.ip), packet('y'));
    const { result, moved } = counting(engine, () =>
      engine.handleFrame(s(12), eth0, whoHas(A, US.ip)),
    );
    assert.deepEqual(view(engine, result), [expectReply(US, A)]);
    assert.deepEqual(moved, { received: 1, rxrequests: 1, tableFull: 1, txreplies: 1 });
    assert.deepEqual(addresses(engine, 12), [US.ip, X.ip, Y.ip]);
  });

  it('never evicts, nor counts, our own, static and published entries', () => {
    const { engine, eth0 } = makeHost({ config: { max_entries: 1 } });
    engine.addEntry(s(5), { ip: ip(B.ip), mac: mac(B.mac) });
    engine.addEntry(s(5), { ip: ip('192.0.2.50'), mac: mac('02:00:00:00:00:50'), pub: true });
    engine.addEntry(s(5), { ip: ip('192.0.2.51'), mac: mac('02:00:00:00:00:51'), temp: true });
    const first = counting(engine, () => engine.handleFrame(s(10), eth0, whoHas(A, US.ip)));
    assert.equal(first.moved.evicted, undefined, 'one dynamic entry fits');
    const second = counting(engine, () => engine.handleFrame(s(11), eth0, whoHas(X, US.ip)));
    assert.deepEqual(routeEventsOf(engine, second.result), [
      routeEvent('delete', A.ip, 'evicted', A.mac),
      routeEvent('add', X.ip, 'learned'),
      routeEvent('resolve', X.ip, 'learned', X.mac),
    ]);
    assert.equal(second.moved.evicted, 1);
    assert.deepEqual(addresses(engine, 11), [US.ip, B.ip, X.ip, '192.0.2.50', '192.0.2.51']);
  });

  it('evicts a gateway last, and only for our own traffic; a lowered cap applies at the next entry', () => {
    const { engine, eth0 } = makeHost({ config: { max_entries: 2 } });
    engine.addRoute('203.0.113.0/24', { gateway: GW.ip });
    engine.resolve(s(10), ip('203.0.113.5'), packet('via GW'));
    engine.handleFrame(s(10), eth0, isAt(GW, US));
    engine.resolve(s(11), ip(X.ip), packet('x'));
    // Full: X (holding) goes before the older GW.
    const y = engine.resolve(s(12), ip(Y.ip), packet('y'));
    assert.deepEqual(view(engine, y.outputs).slice(0, 1), [routeEvent('delete', X.ip, 'evicted')]);
    // The network may not evict the gateway.
    engine.setSysctl('max_entries', 1);
    engine.deleteEntry(s(13), Y.ip);
    const asked = counting(engine, () => engine.handleFrame(s(13), eth0, whoHas(A, US.ip)));
    assert.equal(asked.moved.tableFull, 1);
    assert.deepEqual(addresses(engine, 13), [US.ip, GW.ip]);
    // Our own traffic may, when nothing else is left; two over the cap go at once.
    engine.setSysctl('max_entries', 3);
    engine.resolve(s(14), ip(Z.ip), packet('z'));
    engine.resolve(s(14), ip(W.ip), packet('w'));
    engine.setSysctl('max_entries', 1);
    const { result, moved } = counting(engine, () => engine.resolve(s(15), ip(Y.ip), packet('y')));
    assert.deepEqual(view(engine, result.outputs), [
      routeEvent('delete', Z.ip, 'evicted'),
      routeEvent('delete', W.ip, 'evicted'),
      routeEvent('delete', GW.ip, 'evicted', GW.mac),
      routeEvent('add', Y.ip, 'resolve'),
      expectRequest(US, Y.ip),
    ]);
    assert.deepEqual(moved, { evicted: 3, dropped: 2, txrequests: 1 });
    // The route still works: the gateway's entry comes back on the next send through it.
    const again = engine.resolve(s(16), ip('203.0.113.5'), packet('via GW again'));
    assert.deepEqual(again.result, { kind: 'held', ifIndex: eth0, nextHop: ip(GW.ip) });
  });

  it('by default keeps a thousand neighbours and a thousand unresolved destinations', () => {
    const { engine, eth0 } = makeHost();
    engine.addAddress(0, 'eth0', '10.0.0.1/16');
    const { moved } = counting(engine, () => {
      for (let n = 0; n < 1000; n++) {
        const hex = (byte: number): string => byte.toString(16).padStart(2, '0');
        const sender = {
          mac: `02:00:00:01:${hex(n >> 8)}:${hex(n & 255)}`,
          ip: `10.0.${1 + (n >> 8)}.${n & 255}`,
        };
        engine.handleFrame(s(10), eth0, whoHas(sender, '10.0.0.1'));
        engine.resolve(s(10), ip(`10.0.${128 + (n >> 8)}.${n & 255}`), packet('p'));
      }
    });
    assert.equal(moved.evicted, undefined);
    assert.equal(moved.evictedIncomplete, undefined);
    assert.equal(engine.size, 2 + 1000 + 1000);
  });
});

describe('max_incomplete: unresolved entries are capped separately, the oldest goes', () => {
  it('a new destination evicts the oldest unresolved entry and leaves resolved ones alone', () => {
    const { engine, eth0 } = makeHost({ config: { max_incomplete: 2 } });
    engine.handleFrame(s(9), eth0, whoHas(A, US.ip));
    engine.resolve(s(10), ip(X.ip), packet('x'));
    engine.resolve(s(11), ip(Y.ip), packet('y'));
    engine.resolve(s(11.5), ip(X.ip), packet('x again')); // used, but still the oldest unresolved
    const { result, moved } = counting(engine, () => engine.resolve(s(12), ip(Z.ip), packet('z')));
    assert.deepEqual(view(engine, result.outputs), [
      routeEvent('delete', X.ip, 'evicted'),
      routeEvent('add', Z.ip, 'resolve'),
      expectRequest(US, Z.ip),
    ]);
    assert.deepEqual(moved, { evictedIncomplete: 1, dropped: 1, txrequests: 1 });
    assert.deepEqual(addresses(engine, 12), [US.ip, A.ip, Y.ip, Z.ip]);
  });

  it('a flood of sends to silent addresses holds at most max_incomplete of them', () => {
    const { engine, eth0 } = makeHost({ config: { max_incomplete: 16 } });
    engine.addAddress(0, 'eth0', '10.0.0.1/16');
    engine.handleFrame(s(9), eth0, whoHas(A, US.ip));
    const { moved } = counting(engine, () => {
      for (let k = 0; k < 1000; k++) {
        engine.resolve(s(10) + k, ip(`10.0.${128 + (k >> 8)}.${k & 255}`), packet(`${k}`));
      }
    });
    assert.deepEqual(moved, { txrequests: 1000, evictedIncomplete: 984, dropped: 984 });
    const entries = engine.listEntries(s(11));
    assert.equal(entries.filter((e) => e.state === 'incomplete').length, 16);
    assert.equal(engine.lookup(s(11), A.ip)?.state, 'resolved');
  });

  it('does not stop learning: a learned entry is resolved at once', () => {
    const { engine, eth0 } = makeHost({ config: { max_incomplete: 1 } });
    engine.resolve(s(10), ip(X.ip), packet('x'));
    const { result, moved } = counting(engine, () =>
      engine.handleFrame(s(11), eth0, whoHas(A, US.ip)),
    );
    assert.deepEqual(view(engine, result), [
      routeEvent('add', A.ip, 'learned'),
      routeEvent('resolve', A.ip, 'learned', A.mac),
      expectReply(US, A),
    ]);
    assert.deepEqual(moved, { received: 1, rxrequests: 1, txreplies: 1 });
  });

  it('a learned entry the frame leaves unresolved goes at once when over the cap', () => {
    // C's address is on eth1; a request for us from C heard on eth0 creates C's entry on eth1
    // and then fails the wrong-interface check, leaving it unresolved (as in the seed).
    const { engine, eth0 } = makeHost({ twoInterfaces: true, config: { max_incomplete: 1 } });
    engine.resolve(s(10), ip(X.ip), packet('x'));
    const fromC = whoHas(C, US.ip);
    const { result, moved } = counting(engine, () => engine.handleFrame(s(11), eth0, fromC));
    assert.deepEqual(view(engine, result), [
      routeEvent('add', C.ip, 'learned', undefined, 'eth1'),
      logLine('err', `arp: ${C.ip} is on eth1 but got reply from ${C.mac} on eth0`),
      routeEvent('delete', C.ip, 'evicted', undefined, 'eth1'),
      expectReply(US, C),
    ]);
    assert.deepEqual(moved, {
      received: 1,
      rxrequests: 1,
      rxWrongInterface: 1,
      evictedIncomplete: 1,
      txreplies: 1,
    });
    assert.equal(engine.lookup(s(11), X.ip)?.held, 1, "X's packet still waits");
    assert.equal(engine.lookup(s(11), C.ip), undefined);
  });
});

describe('max_requests_per_sec: a token bucket over every request we send', () => {
  it('holds back requests beyond the rate; the packet waits and the next send asks', () => {
    const { engine } = makeHost({ config: { max_requests_per_sec: 2 } });
    const burst = counting(engine, () =>
      [X, Y, Z, W, A].map((n) => engine.resolve(s(10), ip(n.ip), packet(n.ip))),
    );
    assert.deepEqual(
      burst.result.map((r) => r.result.kind),
      ['held', 'held', 'held', 'held', 'held'],
    );
    assert.deepEqual(
      burst.result.map((r) => view(engine, r.outputs).filter((o) => o.kind === 'arp').length),
      [1, 1, 0, 0, 0],
    );
    assert.deepEqual(burst.moved, { txrequests: 2, txRateLimited: 3 });
    // Not counted as asked: our own restraint does not bring the host closer to "down".
    assert.equal(engine.lookup(s(10), Z.ip)?.asked, 0);
    // Half a second refills one token: Z asks now; W asks at 11 s, and A must wait again.
    const half = counting(engine, () => engine.resolve(s(10.5), ip(Z.ip), packet('z')));
    assert.deepEqual(view(engine, half.result.outputs), [expectRequest(US, Z.ip)]);
    const later = counting(engine, () => [
      engine.resolve(s(11), ip(W.ip), packet('w')),
      engine.resolve(s(11), ip(A.ip), packet('a')),
    ]);
    assert.deepEqual(view(engine, later.result[0]!.outputs), [expectRequest(US, W.ip)]);
    assert.deepEqual(later.result[1]!.outputs, []);
    assert.deepEqual(later.moved, { txrequests: 1, txRateLimited: 1, dropped: 2 });
  });

  it('holds back a pre-expiry refresh too, which the next packet then sends', () => {
    const { engine, eth0 } = makeHost({ config: { max_requests_per_sec: 1 } });
    engine.resolve(s(10), ip(A.ip), packet('a'));
    engine.handleFrame(s(10), eth0, isAt(A, US));
    engine.resolve(s(1206), ip(X.ip), packet('x')); // takes the token
    const refresh = counting(engine, () => engine.resolve(s(1206), ip(A.ip), packet('a')));
    assert.equal(refresh.result.result.kind, 'resolved');
    assert.deepEqual(refresh.moved, { txRateLimited: 1 });
    const next = engine.resolve(s(1207), ip(A.ip), packet('a'));
    assert.deepEqual(view(engine, next.outputs), [expectRequest(US, A.ip)]);
  });

  it('never holds back replies or announcements', () => {
    const { engine, eth0 } = makeHost({ config: { max_requests_per_sec: 1 } });
    engine.resolve(s(10), ip(X.ip), packet('x'));
    const reply = counting(engine, () => engine.handleFrame(s(10), eth0, whoHas(A, US.ip)));
    assert.equal(reply.moved.txreplies, 1);
    const announce = counting(engine, () => engine.addAddress(s(10), 'eth0', '192.0.2.2/24'));
    assert.deepEqual(announce.moved, { txannounces: 1 });
  });

  it('is off by default: a burst of a hundred new destinations sends a hundred requests', () => {
    const { engine } = makeHost();
    const { moved } = counting(engine, () => {
      for (let n = 20; n < 120; n++) engine.resolve(s(10), ip(`192.0.2.${n}`), packet('p'));
    });
    assert.deepEqual(moved, { txrequests: 100 });
  });
});

describe('held packets: bounded by packets, bytes (maxhold_bytes) and age (hold_timeout)', () => {
  it('drops the oldest beyond maxhold_bytes', () => {
    const { engine, eth0 } = makeHost({ config: { maxhold: 4, maxhold_bytes: 10 } });
    engine.resolve(s(10), ip(X.ip), packet('aaaa'));
    engine.resolve(s(10), ip(X.ip), packet('bbbb'));
    const { moved } = counting(engine, () => engine.resolve(s(10), ip(X.ip), packet('cccc')));
    assert.deepEqual(moved, { dropped: 1, holdBytesDropped: 1 });
    assert.deepEqual(view(engine, engine.handleFrame(s(10), eth0, isAt(X, US))), [
      routeEvent('resolve', X.ip, 'learned', X.mac),
      expectDelivered('bbbb', X),
      expectDelivered('cccc', X),
    ]);
  });

  it('always keeps the newest packet, even one larger than maxhold_bytes', () => {
    const { engine } = makeHost({ config: { maxhold: 4, maxhold_bytes: 3 } });
    const first = counting(engine, () => engine.resolve(s(10), ip(X.ip), packet('too long')));
    assert.deepEqual(first.moved, { txrequests: 1 });
    const second = counting(engine, () => engine.resolve(s(10), ip(X.ip), packet('xy')));
    assert.deepEqual(second.moved, { dropped: 1, holdBytesDropped: 1 });
    assert.equal(engine.lookup(s(10), X.ip)?.held, 1);
  });

  it('by default holds the largest IPv4 packet as the seed did (maxhold 1)', () => {
    const { engine, eth0 } = makeHost();
    const big = new Uint8Array(65_535).fill(0x45);
    const { moved } = counting(engine, () => {
      engine.resolve(s(10), ip(X.ip), big);
      engine.resolve(s(10), ip(X.ip), big);
    });
    assert.deepEqual(moved, { txrequests: 1, dropped: 1 });
    const delivered = engine.handleFrame(s(10), eth0, isAt(X, US));
    assert.deepEqual(
      delivered.map((o) => (o.kind === 'deliver-held' ? o.packet.length : o.kind)),
      ['event', 65_535],
    );
  });

  it('drops a packet held for hold_timeout seconds at a deadline pollTimeout reports', () => {
    const { engine, eth0 } = makeHost({ config: { maxhold: 2, hold_timeout: 3 } });
    engine.handleTimeout(s(1)); // the first prune pass; the next is at 301 s
    engine.resolve(s(10), ip(X.ip), packet('p1'));
    engine.resolve(s(11.5), ip(X.ip), packet('p2'));
    assert.equal(engine.pollTimeout(), s(13));
    assert.deepEqual(counting(engine, () => engine.handleTimeout(s(12.999))).moved, {});
    const first = counting(engine, () => engine.handleTimeout(s(13)));
    assert.deepEqual(first.result, []);
    assert.deepEqual(first.moved, { dropped: 1, holdTimeouts: 1 });
    assert.equal(engine.pollTimeout(), s(14.5));
    assert.deepEqual(counting(engine, () => engine.handleTimeout(s(14.5))).moved, {
      dropped: 1,
      holdTimeouts: 1,
    });
    assert.equal(engine.pollTimeout(), s(301), 'back to the prune pass');
    // The entry stays, unresolved; the answer finds nothing left to deliver.
    assert.equal(engine.lookup(s(15), X.ip)?.state, 'incomplete');
    assert.deepEqual(view(engine, engine.handleFrame(s(15), eth0, isAt(X, US))), [
      routeEvent('resolve', X.ip, 'learned', X.mac),
    ]);
  });

  it('applies a hold_timeout set at run time to packets already held', () => {
    const { engine } = makeHost();
    engine.handleTimeout(s(1));
    engine.resolve(s(10), ip(X.ip), packet('p'));
    assert.equal(engine.pollTimeout(), s(301), 'by default a held packet has no deadline');
    engine.setSysctl('hold_timeout', 5);
    assert.equal(engine.pollTimeout(), s(15));
  });

  it('by default holds a packet until the answer comes, however late', () => {
    const { engine, eth0 } = makeHost();
    engine.handleTimeout(s(1));
    engine.resolve(s(10), ip(X.ip), packet('patient'));
    assert.deepEqual(engine.handleTimeout(s(250)), []);
    assert.deepEqual(view(engine, engine.handleFrame(s(250), eth0, isAt(X, US))), [
      routeEvent('resolve', X.ip, 'learned', X.mac),
      expectDelivered('patient', X),
    ]);
  });
});

describe('log_ratelimit: lines per second per kind, with the count of those suppressed', () => {
  /** A request whose sender hardware address is broadcast: the seed logs it every time. */
  const broadcastSender = arpFrame({
    op: 'request',
    sha: BROADCAST,
    spa: A.ip,
    tpa: US.ip,
    src: A.mac,
  });
  const BROADCAST_LINE = `arp: link address is broadcast for IP address ${A.ip}!`;

  it('lets one line a second through and tells the next how many were suppressed', () => {
    const { engine, eth0 } = makeHost({ config: { log_ratelimit: 1 } });
    const first = counting(engine, () =>
      [10, 10.2, 10.9].map((at) => engine.handleFrame(s(at), eth0, broadcastSender)),
    );
    assert.deepEqual(
      first.result.map((o) => view(engine, o)),
      [[logLine('err', BROADCAST_LINE)], [], []],
    );
    assert.equal(first.moved.logSuppressed, 2);
    assert.equal(first.moved.rxBroadcastSender, 3, 'every frame is still counted');
    assert.deepEqual(view(engine, engine.handleFrame(s(11), eth0, broadcastSender)), [
      { ...logLine('err', BROADCAST_LINE), suppressed: 2 },
    ]);
    assert.deepEqual(view(engine, engine.handleFrame(s(12), eth0, broadcastSender)), [
      logLine('err', BROADCAST_LINE),
    ]);
  });

  it('counts each kind apart', () => {
    const { engine, eth0 } = makeHost({ config: { log_ratelimit: 1 } });
    engine.handleFrame(s(10), eth0, whoHas(A, US.ip));
    engine.handleFrame(s(10), eth0, broadcastSender);
    engine.handleFrame(s(10), eth0, broadcastSender);
    const moved = engine.handleFrame(s(10), eth0, isAt({ mac: A_NEW_MAC, ip: A.ip }, US));
    assert.deepEqual(view(engine, moved), [
      logLine('info', `arp: ${A.ip} moved from ${A.mac} to ${A_NEW_MAC} on eth0`),
      routeEvent('change', A.ip, 'moved', A_NEW_MAC),
    ]);
  });

  it('is off by default: every line, without a suppressed count', () => {
    const { engine, eth0 } = makeHost();
    const { result, moved } = counting(engine, () =>
      [1, 2, 3, 4, 5].flatMap(() => engine.handleFrame(s(10), eth0, broadcastSender)),
    );
    assert.deepEqual(view(engine, result), Array(5).fill(logLine('err', BROADCAST_LINE)));
    assert.equal(moved.logSuppressed, undefined);
  });
});

/** Only the route events among `outputs`, as the helpers build them. */
function routeEventsOf(engine: Engine, outputs: Parameters<typeof view>[1]): unknown[] {
  return view(engine, outputs).filter((o) => o.kind === 'route');
}

describe('the limits hold under any mix of traffic, frames, timeouts and knobs', () => {
  /** One thing that happens to the engine. */
  type Step =
    | { kind: 'send'; host: number; wait: number }
    | {
        kind: 'frame';
        op: 'request' | 'reply';
        host: number;
        macOf: number;
        toUs: boolean;
        wait: number;
      }
    | { kind: 'timeout' };

  const HOSTS = 12; // 192.0.2.20 .. 192.0.2.31; 192.0.2.30 is a gateway
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({
      kind: fc.constant('send' as const),
      host: fc.nat({ max: HOSTS - 1 }),
      wait: fc.nat({ max: 1500 }),
    }),
    fc.record({
      kind: fc.constant('frame' as const),
      op: fc.constantFrom('request' as const, 'reply' as const),
      host: fc.nat({ max: HOSTS - 1 }),
      macOf: fc.nat({ max: 2 }),
      toUs: fc.boolean(),
      wait: fc.nat({ max: 1500 }),
    }),
    fc.record({ kind: fc.constant('timeout' as const) }),
  );
  const knobs = fc.record({
    max_entries: fc.integer({ min: 1, max: 6 }),
    max_incomplete: fc.integer({ min: 1, max: 4 }),
    maxhold: fc.integer({ min: 1, max: 3 }),
    maxhold_bytes: fc.constantFrom(0, 4, 10),
    hold_timeout: fc.nat({ max: 3 }),
    max_requests_per_sec: fc.nat({ max: 3 }),
    locktime: fc.constantFrom(0, 500),
    accept: fc.nat({ max: 2 }),
    arpwatch: fc.nat({ max: 1 }),
    log_ratelimit: fc.nat({ max: 2 }),
  });

  it('keeps every cap, never touches a static entry, and counts every eviction', () => {
    fc.assert(
      fc.property(knobs, fc.array(step, { maxLength: 60 }), (config, steps) => {
        const { engine, eth0 } = makeHost({ config });
        const gateway = '192.0.2.30';
        engine.addRoute('203.0.113.0/24', { gateway });
        engine.addEntry(0, { ip: ip(B.ip), mac: mac(B.mac) });
        const pinned = engine.lookup(0, B.ip);
        let now = s(1);
        let deletes = 0;
        for (const next of steps) {
          let outputs: ReturnType<Engine['handleFrame']>;
          if (next.kind === 'timeout') {
            const due = engine.pollTimeout();
            if (due === undefined) continue;
            now = Math.max(now, due);
            outputs = engine.handleTimeout(now);
          } else if (next.kind === 'send') {
            now += next.wait;
            const target = next.host === 10 ? '203.0.113.5' : `192.0.2.${20 + next.host}`;
            outputs = engine.resolve(
              now,
              ip(target),
              packet('p'.repeat(1 + (next.host % 5))),
            ).outputs;
          } else {
            now += next.wait;
            const sender = neighbour(20 + next.host);
            const from = { ip: sender.ip, mac: [sender.mac, A_NEW_MAC, A.mac][next.macOf]! };
            outputs = engine.handleFrame(
              now,
              eth0,
              next.op === 'request'
                ? whoHas(from, next.toUs ? US.ip : '192.0.2.99')
                : arpFrame({
                    op: 'reply',
                    sha: from.mac,
                    spa: from.ip,
                    tha: US.mac,
                    tpa: next.toUs ? US.ip : '192.0.2.99',
                    dst: US.mac,
                  }),
            );
          }
          for (const o of outputs) {
            if (o.kind === 'event' && o.event.kind === 'route' && o.event.reason === 'evicted')
              deletes++;
          }
          const entries = engine.listEntries(now);
          const dynamic = entries.filter((e) => !e.local && !e.static);
          assert.ok(dynamic.length <= config.max_entries, `${dynamic.length} dynamic entries`);
          const unresolved = dynamic.filter((e) => e.mac === undefined && e.ip !== gateway);
          assert.ok(unresolved.length <= config.max_incomplete, `${unresolved.length} unresolved`);
          for (const e of entries) assert.ok(e.held <= config.maxhold, `${e.ip} holds ${e.held}`);
          assert.deepEqual(engine.lookup(now, B.ip), pinned);
        }
        const stats = engine.stats();
        assert.equal(stats.evicted + stats.evictedIncomplete, deletes, 'every eviction is counted');
      }),
      { numRuns: 300 },
    );
  });
});
