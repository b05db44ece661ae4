/**
 * Ageing: the prune pass (arptimer, l.177-189) runs one second after the first address and
 * then every prune_intvl seconds; it frees each entry whose rt_expire has passed, except that a
 * static or referenced one is only reset to unresolved (arptfree, l.1146-1164). Between passes
 * an expired entry still exists, and arpresolve treats it as unresolved (l.517).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine } from '../../src/core/engine.ts';
import { World } from '../../src/sim/world.ts';
import {
  A,
  B,
  counting,
  expectDelivered,
  expectRequest,
  GW,
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

/** Runs every prune pass due up to `until` (ms), as a runtime arming one timer would. */
function runTimers(engine: Engine, until: number) {
  const passes: { at: number; seen: ReturnType<typeof view> }[] = [];
  for (
    let due = engine.pollTimeout();
    due !== undefined && due <= until;
    due = engine.pollTimeout()
  ) {
    passes.push({ at: due, seen: view(engine, engine.handleTimeout(due)) });
  }
  return passes;
}

describe('the prune pass schedule', () => {
  it('is due one second after the first address, then every prune_intvl seconds', () => {
    const engine = new Engine();
    engine.addInterface({ name: 'eth0', mac: mac(US.mac) });
    assert.equal(engine.pollTimeout(), undefined, 'nothing to do without an address');
    engine.addAddress(2500, 'eth0', `${US.ip}/24`);
    assert.equal(engine.pollTimeout(), 3500);
    assert.deepEqual(engine.handleTimeout(3000), [], 'not due yet');
    assert.equal(engine.pollTimeout(), 3500);
    assert.deepEqual(engine.handleTimeout(3500), []);
    assert.equal(engine.pollTimeout(), 3500 + s(300));
    engine.setSysctl('prune_intvl', 60);
    engine.handleTimeout(3500 + s(300));
    assert.equal(engine.pollTimeout(), 3500 + s(300) + s(60));
  });
});

describe('the prune pass', () => {
  it('frees expired dynamic entries with a delete event, counting timeouts and held packets', () => {
    const { engine, eth0 } = makeHost();
    engine.resolve(s(10), ip(A.ip), packet('p0'));
    engine.handleFrame(s(10), eth0, isAt(A, US)); // A expires at 1210
    engine.addEntry(s(10), { ip: ip(GW.ip), mac: mac(GW.mac) }); // permanent
    const passes = runTimers(engine, s(1400));
    assert.deepEqual(
      passes.map((p) => p.at),
      [s(1), s(301), s(601), s(901), s(1201)],
    );
    assert.ok(passes.every((p) => p.seen.length === 0));
    assert.equal(engine.lookup(s(1400), A.ip)?.state, 'expired');
    engine.resolve(s(1400), ip(B.ip), packet('b1')); // incomplete, rt_expire = 1400
    const { result, moved } = counting(engine, () => runTimers(engine, s(1501)));
    assert.deepEqual(result, [
      {
        at: s(1501),
        seen: [routeEvent('delete', A.ip, 'expired', A.mac), routeEvent('delete', B.ip, 'expired')],
      },
    ]);
    assert.deepEqual(moved, { timeouts: 2, dropped: 1 });
    assert.equal(engine.lookup(s(1501), A.ip), undefined);
    assert.equal(engine.lookup(s(1501), B.ip), undefined);
    assert.equal(engine.lookup(s(1501), GW.ip)?.state, 'permanent');
    assert.equal(engine.lookup(s(1501), US.ip)?.state, 'local');
  });

  it('spares an entry asked for in the second of the pass, and frees it at the next one', () => {
    // Differs from if_ether.c: the seed frees it (its rt_expire is that very second), losing
    // the held packet just before the reply arrives.
    const { engine, eth0 } = makeHost();
    engine.resolve(s(1), ip(A.ip), packet('p'));
    const first = counting(engine, () => runTimers(engine, s(1)));
    assert.deepEqual(first.result, [{ at: s(1), seen: [] }]);
    assert.deepEqual(first.moved, {});
    assert.deepEqual(view(engine, engine.handleFrame(s(1) + 3, eth0, isAt(A, US))), [
      routeEvent('resolve', A.ip, 'learned', A.mac),
      expectDelivered('p', A),
    ]);
    // One that stays unanswered goes at the next pass.
    engine.resolve(s(2), ip(B.ip), packet('q'));
    const next = counting(engine, () => runTimers(engine, s(301)));
    assert.deepEqual(next.result, [{ at: s(301), seen: [routeEvent('delete', B.ip, 'expired')] }]);
    assert.deepEqual(next.moved, { timeouts: 1, dropped: 1 });
  });

  it('spares an entry asked for in the second before the pass: maxtries is not exceeded', () => {
    const { engine } = makeHost({ config: { maxtries: 3 } });
    engine.resolve(s(300), ip(A.ip), packet('p1'));
    // The first pass is due at 1 s after the first address and then every 300 s: 301 s.
    const pass = counting(engine, () => runTimers(engine, s(301)));
    assert.deepEqual(pass.moved, {});
    assert.equal(engine.lookup(s(301), A.ip)?.asked, 1, 'the count of requests survives');
  });

  it('a new prune_intvl moves the pass already scheduled', () => {
    const { engine } = makeHost();
    assert.equal(engine.pollTimeout(), 1000);
    engine.handleTimeout(1000);
    assert.equal(engine.pollTimeout(), 301_000);
    engine.setSysctl('net.link.ether.inet.prune_intvl', 2);
    assert.equal(engine.pollTimeout(), 3000);
    engine.setSysctl('prune_intvl', 10);
    assert.equal(engine.pollTimeout(), 11_000);
  });

  it('resets an expired static temp entry to unresolved instead of freeing it', () => {
    const { engine, eth0 } = makeHost();
    engine.addEntry(s(10), { ip: ip(A.ip), mac: mac(A.mac), temp: true });
    assert.equal(engine.lookup(s(10), A.ip)?.expiresIn, 1200);
    const { result, moved } = counting(engine, () => runTimers(engine, s(1501)));
    assert.deepEqual(result.at(-1), {
      at: s(1501),
      seen: [routeEvent('change', A.ip, 'expired')],
    });
    assert.deepEqual(moved, {});
    const entry = engine.lookup(s(1501), A.ip);
    assert.equal(entry?.state, 'incomplete');
    assert.equal(entry?.static, true);
    // It is asked for again when used, and the answer fills it in once more.
    const again = engine.resolve(s(1502), ip(A.ip), packet('p1'));
    assert.deepEqual(view(engine, again.outputs), [expectRequest(US, A.ip)]);
    assert.deepEqual(view(engine, engine.handleFrame(s(1502), eth0, isAt(A, US))), [
      routeEvent('resolve', A.ip, 'learned', A.mac),
      expectDelivered('p1', A),
    ]);
    assert.equal(engine.lookup(s(1502), A.ip)?.expiresIn, 1200);
  });

  it('resets the expired entry of a route gateway to unresolved instead of freeing it', () => {
    const { engine, eth0 } = makeHost();
    engine.addRoute('203.0.113.0/24', { gateway: GW.ip });
    engine.resolve(s(10), ip('203.0.113.5'), packet('p0'));
    engine.handleFrame(s(10), eth0, isAt(GW, US));
    const { result, moved } = counting(engine, () => runTimers(engine, s(1501)));
    assert.deepEqual(result.at(-1), {
      at: s(1501),
      seen: [routeEvent('change', GW.ip, 'expired')],
    });
    assert.deepEqual(moved, {});
    assert.equal(engine.lookup(s(1501), GW.ip)?.state, 'incomplete');
  });
});

describe('an expired entry the prune pass has not reached yet', () => {
  it('is unresolved to arpresolve: the packet is held and a request goes out', () => {
    const { engine, eth0 } = makeHost();
    engine.resolve(s(10), ip(A.ip), packet('p0'));
    engine.handleFrame(s(10), eth0, isAt(A, US));
    assert.equal(engine.lookup(s(1209), A.ip)?.state, 'resolved');
    assert.equal(engine.lookup(s(1210), A.ip)?.state, 'expired');
    const { result, moved } = counting(engine, () =>
      engine.resolve(s(1300), ip(A.ip), packet('p1')),
    );
    assert.deepEqual(result.result, { kind: 'held', ifIndex: eth0, nextHop: ip(A.ip) });
    assert.deepEqual(view(engine, result.outputs), [expectRequest(US, A.ip)]);
    assert.deepEqual(moved, { txrequests: 1 });
    // The same MAC answers: no event, the held packet goes.
    assert.deepEqual(view(engine, engine.handleFrame(s(1300), eth0, isAt(A, US))), [
      expectDelivered('p1', A),
    ]);
    assert.equal(engine.lookup(s(1300), A.ip)?.state, 'resolved');
  });

  it('is freed by the pass the runtime arms in a world of hosts', () => {
    const world = new World();
    world.addSegment('lan');
    world.addHost('us', [
      { name: 'eth0', mac: mac(US.mac), segment: 'lan', addresses: [`${US.ip}/24`] },
    ]);
    world.addHost('a', [
      { name: 'eth0', mac: mac(A.mac), segment: 'lan', addresses: [`${A.ip}/24`] },
    ]);
    const deletes: string[] = [];
    world.onTrace = (record) => {
      if (
        record.kind === 'event' &&
        record.event.kind === 'route' &&
        record.event.type === 'delete'
      ) {
        deletes.push(`${record.time} ${record.host}: ${record.event.ip} ${record.event.reason}`);
      }
    };
    world.runUntil(s(10));
    world.ping('us', ip(A.ip)); // each host learns the other at 10 s, until 1210 s
    world.runUntil(s(2000));
    assert.deepEqual(deletes, [`${s(1501)} us: ${A.ip} expired`, `${s(1501)} a: ${US.ip} expired`]);
  });
});
