/**
 * What the engine reports besides frames: route-socket-like events (add, resolve, change,
 * delete, miss) carrying interface, address, MAC and reason, and FreeBSD's arpstat counters,
 * followed through one story of a host's life.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Output } from '../../src/core/output.ts';
import {
  A,
  A_NEW_MAC,
  B,
  countersMoved,
  GW,
  ip,
  isAt,
  mac,
  makeHost,
  packet,
  routeEvent,
  routeEvents,
  s,
  US,
  whoHas,
} from './helpers.ts';

describe('route events and arpstat counters', () => {
  it('follow a host through learning, moving, giving up, publishing and ageing', () => {
    const { engine, eth0 } = makeHost();
    const outputs: Output[] = [];
    const run = (produced: Output[]) => outputs.push(...produced);
    run(engine.handleTimeout(s(1))); // the first prune pass, on an empty table
    const before = engine.stats();

    run(engine.resolve(s(10), ip(A.ip), packet('a1')).outputs); // asks for A
    run(engine.handleFrame(s(10), eth0, isAt(A, US))); // A answers
    run(engine.handleFrame(s(11), eth0, whoHas(B, US.ip))); // B asks for me
    run(engine.handleFrame(s(12), eth0, isAt({ mac: A_NEW_MAC, ip: A.ip }, US))); // A moves
    for (let at = 13; at <= 18; at++) {
      run(engine.resolve(s(at), ip(GW.ip), packet(`g${at}`)).outputs); // GW never answers
    }
    run(engine.handleFrame(s(19), eth0, whoHas({ mac: B.mac, ip: US.ip }, US.ip))); // B claims me
    run(engine.addEntry(s(20), { ip: ip('192.0.2.50'), mac: mac('02:00:00:00:00:50'), pub: true }));
    for (
      let due = engine.pollTimeout();
      due !== undefined && due <= s(1501);
      due = engine.pollTimeout()
    ) {
      run(engine.handleTimeout(due));
    }

    assert.deepEqual(routeEvents(outputs), [
      routeEvent('add', A.ip, 'resolve'),
      routeEvent('resolve', A.ip, 'learned', A.mac),
      routeEvent('add', B.ip, 'learned'),
      routeEvent('resolve', B.ip, 'learned', B.mac),
      routeEvent('change', A.ip, 'moved', A_NEW_MAC),
      routeEvent('add', GW.ip, 'resolve'),
      routeEvent('miss', GW.ip, 'maxtries'),
      routeEvent('add', '192.0.2.50', 'admin', '02:00:00:00:00:50'),
      // The pass at 301 s: GW's down window ended at 38 s.
      routeEvent('delete', GW.ip, 'expired'),
      // The pass at 1501 s: A (refreshed at 12 s) and B (learned at 11 s) are past 1200 s.
      routeEvent('delete', A.ip, 'expired', A_NEW_MAC),
      routeEvent('delete', B.ip, 'expired', B.mac),
    ]);
    assert.deepEqual(countersMoved(before, engine.stats()), {
      txrequests: 6, // A once, GW five times
      txreplies: 2, // to B's request, and defending 192.0.2.1
      txannounces: 1, // the published entry
      rxrequests: 2,
      rxreplies: 2,
      received: 4,
      dropped: 6, // g13..g17 replaced, g18 freed with GW's entry
      timeouts: 3,
      dupips: 1,
      hostDown: 1,
    });
  });

  it('name the interface of the entry', () => {
    const { engine } = makeHost({ twoInterfaces: true });
    const { outputs } = engine.resolve(s(10), ip('198.51.100.12'), packet('p'));
    assert.deepEqual(routeEvents(outputs), [
      routeEvent('add', '198.51.100.12', 'resolve', undefined, 'eth1'),
    ]);
  });
});
