/**
 * Replies (in_arpinput from `reply:`, l.1038-1112): only requests are answered; for one of my
 * addresses with my MAC, for a published entry with its MAC, and under proxyall for anything
 * routed out another interface with my MAC. The reply goes back to the requester's hardware
 * address with sender and target swapped (RFC 826: "swap hardware and protocol fields").
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Engine } from '../../src/core/engine.ts';
import {
  A,
  arpFrame,
  B,
  C,
  counting,
  expectReply,
  expectRequest,
  fromHex,
  GW,
  golden,
  ip,
  isAt,
  mac,
  makeHost,
  packet,
  routeEvent,
  type Station,
  s,
  toHex,
  US,
  US1,
  view,
  whoHas,
} from './helpers.ts';

const PUBLISHED: Station = { mac: '02:00:00:00:00:50', ip: '192.0.2.50' };

function ask(engine: Engine, frame: Uint8Array, ifIndex = 0, at = 10) {
  const { result, moved } = counting(engine, () => engine.handleFrame(s(at), ifIndex, frame));
  return { outputs: result, seen: view(engine, result), moved };
}

describe('replies: what is answered', () => {
  it('answers a request for my address with golden bytes: unicast, fields swapped', () => {
    const { engine } = makeHost();
    const request = fromHex(
      'ffffffffffff 02000000000a 0806 0001 0800 06 04 0001 02000000000a c000020a 000000000000 c0000201',
    );
    const { outputs, moved } = ask(engine, request);
    const frames = outputs.flatMap((o) => (o.kind === 'transmit' ? [toHex(o.frame)] : []));
    assert.deepEqual(frames, [
      // to A, from me | ARP Ethernet/IPv4 | reply | sha=me spa=me | tha=A tpa=A
      golden(
        '02000000000a 020000000001 0806 0001 0800 06 04 0002 020000000001 c0000201 02000000000a c000020a',
      ),
    ]);
    assert.deepEqual(moved, { received: 1, rxrequests: 1, txreplies: 1 });
  });

  it('never answers a reply, nor any other opcode, though it learns from them', () => {
    const { engine } = makeHost();
    const reply = ask(engine, isAt(A, US));
    assert.deepEqual(reply.seen, [
      routeEvent('add', A.ip, 'learned'),
      routeEvent('resolve', A.ip, 'learned', A.mac),
    ]);
    assert.deepEqual(reply.moved, { received: 1, rxreplies: 1 });
    // InARP request (8): the seed merges the sender like any other, then only answers op 1.
    const inarp = arpFrame({ op: 8, sha: B.mac, spa: B.ip, tha: US.mac, tpa: US.ip });
    const { seen, moved } = ask(engine, inarp);
    assert.deepEqual(seen, [
      routeEvent('add', B.ip, 'learned'),
      routeEvent('resolve', B.ip, 'learned', B.mac),
    ]);
    assert.deepEqual(moved, { received: 1 });
  });

  it('answers for a published entry (arp -s ... pub) with its MAC', () => {
    const { engine } = makeHost();
    engine.addEntry(s(1), { ip: ip(PUBLISHED.ip), mac: mac(PUBLISHED.mac), pub: true });
    const { outputs, seen, moved } = ask(engine, whoHas(A, PUBLISHED.ip));
    assert.deepEqual(seen, [expectReply(PUBLISHED, A, { src: US.mac })]);
    const frames = outputs.flatMap((o) => (o.kind === 'transmit' ? [toHex(o.frame)] : []));
    assert.deepEqual(frames, [
      // to A, from my interface | reply | sha=the published MAC spa=192.0.2.50 | tha=A tpa=A
      golden(
        '02000000000a 020000000001 0806 0001 0800 06 04 0002 020000000050 c0000232 02000000000a c000020a',
      ),
    ]);
    assert.deepEqual(moved, { received: 1, rxrequests: 1, txreplies: 1 });
    // Published and not proxy-only: also used for my own traffic.
    assert.equal(engine.resolve(s(10), ip(PUBLISHED.ip), packet('p')).result.kind, 'resolved');
  });

  it('answers for a proxy-only entry (arp -s ... pub only), which my traffic does not use', () => {
    const { engine, eth0 } = makeHost();
    engine.addEntry(s(1), {
      ip: ip(PUBLISHED.ip),
      mac: mac(PUBLISHED.mac),
      pub: true,
      only: true,
    });
    assert.deepEqual(ask(engine, whoHas(A, PUBLISHED.ip)).seen, [
      expectReply(PUBLISHED, A, { src: US.mac }),
    ]);
    const own = engine.resolve(s(10), ip(PUBLISHED.ip), packet('p'));
    assert.deepEqual(own.result, { kind: 'held', ifIndex: eth0, nextHop: ip(PUBLISHED.ip) });
    assert.deepEqual(view(engine, own.outputs), [
      routeEvent('add', PUBLISHED.ip, 'resolve'),
      expectRequest(US, PUBLISHED.ip),
    ]);
  });

  it('does not answer for an entry that is not published (rxNotOurs)', () => {
    const { engine } = makeHost();
    engine.addEntry(s(1), { ip: ip(B.ip), mac: mac(B.mac) });
    assert.deepEqual(ask(engine, whoHas(A, B.ip)), {
      outputs: [],
      seen: [],
      moved: { received: 1, rxrequests: 1, rxNotOurs: 1 },
    });
  });
});

describe('replies: proxyall (l.1054-1083)', () => {
  it('answers with my MAC for an address routed out another interface', () => {
    const { engine, eth0 } = makeHost({ twoInterfaces: true, config: { proxyall: 1 } });
    const { seen, moved } = ask(engine, whoHas(A, C.ip), eth0);
    assert.deepEqual(seen, [expectReply({ mac: US.mac, ip: C.ip }, A)]);
    assert.deepEqual(moved, { received: 1, rxrequests: 1, txreplies: 1 });
    assert.equal(engine.lookup(s(10), A.ip), undefined, 'the request was not for me');
  });

  it('follows a gateway route to the interface it leaves by', () => {
    const { engine, eth0, eth1 } = makeHost({ twoInterfaces: true, config: { proxyall: 1 } });
    engine.addRoute('0.0.0.0/0', { gateway: GW.ip }); // the router is on eth0
    assert.deepEqual(ask(engine, whoHas(C, '203.0.113.9'), eth1).seen, [
      expectReply({ mac: US1.mac, ip: '203.0.113.9' }, C, { on: 'eth1' }),
    ]);
    // Never back out the interface the request came in on.
    assert.deepEqual(ask(engine, whoHas(A, '203.0.113.9'), eth0), {
      outputs: [],
      seen: [],
      moved: { received: 1, rxrequests: 1, rxNotOurs: 1 },
    });
  });

  it('never proxies for a node on the receiving interface, nor without a route, nor when off', () => {
    const on = makeHost({ twoInterfaces: true, config: { proxyall: 1 } });
    const off = makeHost({ twoInterfaces: true });
    const cases: [Engine, Uint8Array, number][] = [
      [on.engine, whoHas(A, B.ip), on.eth0], // B is on eth0 too
      [on.engine, whoHas(C, '198.51.100.77'), on.eth1],
      [on.engine, whoHas(A, '203.0.113.9'), on.eth0], // no route at all
      [off.engine, whoHas(A, C.ip), off.eth0], // proxyall 0
    ];
    for (const [engine, frame, ifIndex] of cases) {
      assert.deepEqual(ask(engine, frame, ifIndex), {
        outputs: [],
        seen: [],
        moved: { received: 1, rxrequests: 1, rxNotOurs: 1 },
      });
    }
  });

  it('prefers a published entry to proxyall', () => {
    const { engine, eth0 } = makeHost({ twoInterfaces: true, config: { proxyall: 1 } });
    engine.addEntry(s(1), { ip: ip(C.ip), mac: mac(C.mac), pub: true });
    assert.deepEqual(ask(engine, whoHas(A, C.ip), eth0).seen, [expectReply(C, A, { src: US.mac })]);
  });
});
