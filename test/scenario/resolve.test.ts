/**
 * arpresolve (if_ether.c l.476-573): which destinations need no ARP, how an unknown neighbour
 * is asked for (one request a second, `maxtries` of them, then `host_down_time` seconds down),
 * what is held meanwhile, what a reply releases, and the pre-expiry refresh (la_preempt).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Engine } from '../../src/core/engine.ts';
import { World } from '../../src/sim/world.ts';
import { describeFrame } from '../../src/wire/format.ts';
import {
  A,
  B,
  BROADCAST,
  counting,
  decodeArpFrame,
  expectDelivered,
  expectReply,
  expectRequest,
  GW,
  golden,
  ip,
  isAt,
  logLine,
  mac,
  makeHost,
  packet,
  routeEvent,
  s,
  toHex,
  US,
  view,
  whoHas,
} from './helpers.ts';

/** An engine that resolved A at second `at` (held p0, asked once, A answered at once). */
function hostThatResolvedA(at: number, config: Record<string, number> = {}): Engine {
  const { engine } = makeHost({ config });
  engine.resolve(s(at), ip(A.ip), packet('p0'));
  engine.handleFrame(s(at), 0, isAt(A, US));
  assert.equal(engine.lookup(s(at), A.ip)?.state, 'resolved');
  return engine;
}

describe('arpresolve: broadcast and multicast destinations need no ARP (l.484-491)', () => {
  it('sends to 255.255.255.255 at ff:ff:ff:ff:ff:ff without an entry or a request', () => {
    const { engine, eth0 } = makeHost();
    const { result, moved } = counting(engine, () =>
      engine.resolve(s(5), ip('255.255.255.255'), packet('p'), eth0),
    );
    assert.deepEqual(result, {
      result: { kind: 'resolved', ifIndex: eth0, mac: mac(BROADCAST), source: mac(US.mac) },
      outputs: [],
    });
    assert.deepEqual(moved, {});
    assert.equal(engine.size, 1, 'only our own address is in the table');
  });

  it('sends to the subnet broadcast 192.0.2.255 at ff:ff:ff:ff:ff:ff', () => {
    const { engine, eth0 } = makeHost();
    const { result, moved } = counting(engine, () =>
      engine.resolve(s(5), ip('192.0.2.255'), packet('p')),
    );
    assert.deepEqual(result, {
      result: { kind: 'resolved', ifIndex: eth0, mac: mac(BROADCAST), source: mac(US.mac) },
      outputs: [],
    });
    assert.deepEqual(moved, {});
    assert.equal(engine.size, 1);
  });

  it('maps IPv4 multicast to 01:00:5e and the low 23 bits of the group (RFC 1112 6.4)', () => {
    const { engine, eth0 } = makeHost();
    const cases: [string, string][] = [
      ['224.0.0.251', '01:00:5e:00:00:fb'],
      ['239.255.255.250', '01:00:5e:7f:ff:fa'],
      // The 24th bit of the group is not carried: 224.128.1.2 and 224.0.1.2 share a MAC.
      ['224.128.1.2', '01:00:5e:00:01:02'],
    ];
    for (const [group, groupMac] of cases) {
      const { result, moved } = counting(engine, () =>
        engine.resolve(s(5), ip(group), packet('p'), eth0),
      );
      assert.deepEqual(
        result,
        {
          result: { kind: 'resolved', ifIndex: eth0, mac: mac(groupMac), source: mac(US.mac) },
          outputs: [],
        },
        group,
      );
      assert.deepEqual(moved, {});
    }
    assert.equal(engine.size, 1);
  });
});

describe('arpresolve: an unknown on-link destination', () => {
  it('creates an entry, holds the packet and broadcasts one request', () => {
    const { engine, eth0 } = makeHost();
    const { result, moved } = counting(engine, () => engine.resolve(s(10), ip(A.ip), packet('p1')));
    assert.deepEqual(result.result, { kind: 'held', ifIndex: eth0, nextHop: ip(A.ip) });
    assert.deepEqual(view(engine, result.outputs), [
      routeEvent('add', A.ip, 'resolve'),
      expectRequest(US, A.ip),
    ]);
    assert.deepEqual(moved, { txrequests: 1 });
    const frame = result.outputs.find((o) => o.kind === 'transmit');
    assert.equal(
      frame && toHex(frame.frame),
      // broadcast, from me | ARP Ethernet/IPv4 | request | sha=me spa=me | tha=0 tpa=A
      golden(
        'ffffffffffff 020000000001 0806 0001 0800 06 04 0001 020000000001 c0000201 000000000000 c000020a',
      ),
    );
    assert.deepEqual(engine.lookup(s(10), A.ip), {
      ip: A.ip,
      mac: undefined,
      ifName: 'eth0',
      state: 'incomplete',
      expiresIn: undefined,
      permanent: false,
      static: false,
      local: false,
      published: false,
      proxyOnly: false,
      held: 1,
      asked: 1,
    });
  });

  it('asks from the interface address that covers the destination (rt_ifa)', () => {
    const { engine } = makeHost();
    engine.addAddress(0, 'eth0', '10.1.0.1/16');
    const { outputs } = engine.resolve(s(10), ip('10.1.2.3'), packet('p1'));
    assert.deepEqual(view(engine, outputs), [
      routeEvent('add', '10.1.2.3', 'resolve'),
      expectRequest({ mac: US.mac, ip: '10.1.0.1' }, '10.1.2.3'),
    ]);
  });

  it('puts the bridge MAC in the request when the interface is a bridge member (arprequest)', () => {
    const { engine } = makeHost();
    const bridgeMac = '02:00:00:00:0b:00';
    const portMac = '02:00:00:00:0e:00';
    engine.addInterface({ name: 'bridge0', kind: 'bridge', mac: mac(bridgeMac) });
    engine.addInterface({ name: 'em0', mac: mac(portMac), bridge: 'bridge0' });
    engine.addAddress(0, 'em0', '203.0.113.1/24');
    const { outputs } = engine.resolve(s(10), ip('203.0.113.7'), packet('p1'));
    assert.deepEqual(view(engine, outputs), [
      routeEvent('add', '203.0.113.7', 'resolve', undefined, 'em0'),
      // Ethernet source: the port (ether_output); ARP sender: the bridge.
      expectRequest({ mac: bridgeMac, ip: '203.0.113.1' }, '203.0.113.7', {
        on: 'em0',
        src: portMac,
      }),
    ]);
  });

  it('sends no second request in the same second, keeping only the newest packet (maxhold 1)', () => {
    const { engine } = makeHost();
    engine.resolve(s(10), ip(A.ip), packet('p1'));
    for (const [at, name] of [
      [10.3, 'p2'],
      [10.999, 'p3'],
    ] as const) {
      const { result, moved } = counting(engine, () =>
        engine.resolve(s(at), ip(A.ip), packet(name)),
      );
      assert.equal(result.result.kind, 'held');
      assert.deepEqual(result.outputs, [], `no request at ${at}s`);
      assert.deepEqual(moved, { dropped: 1 }, `the packet held before ${name} is dropped`);
    }
    assert.equal(engine.lookup(s(10.999), A.ip)?.held, 1);
    assert.equal(engine.lookup(s(10.999), A.ip)?.asked, 1);
    const reply = engine.handleFrame(s(11), 0, isAt(A, US));
    assert.deepEqual(view(engine, reply), [
      routeEvent('resolve', A.ip, 'learned', A.mac),
      expectDelivered('p3', A),
    ]);
  });

  it('keeps the newest maxhold packets in order (maxhold 3)', () => {
    const { engine } = makeHost({ config: { maxhold: 3 } });
    const { moved } = counting(engine, () => {
      for (const name of ['p1', 'p2', 'p3', 'p4', 'p5']) {
        engine.resolve(s(10), ip(A.ip), packet(name));
      }
    });
    assert.deepEqual(moved, { txrequests: 1, dropped: 2 });
    assert.equal(engine.lookup(s(10), A.ip)?.held, 3);
    const reply = engine.handleFrame(s(10), 0, isAt(A, US));
    assert.deepEqual(view(engine, reply), [
      routeEvent('resolve', A.ip, 'learned', A.mac),
      expectDelivered('p3', A),
      expectDelivered('p4', A),
      expectDelivered('p5', A),
    ]);
  });

  it('asks at most once a second, goes down after maxtries requests, and asks again after host_down_time', () => {
    const { engine } = makeHost();
    const request = expectRequest(US, A.ip);
    const miss = routeEvent('miss', A.ip, 'maxtries');
    // [second, what the send returns, what it puts out, the counters it moves]
    const steps: [number, string, unknown[], Record<string, number>][] = [
      [10, 'held', [routeEvent('add', A.ip, 'resolve'), request], { txrequests: 1 }],
      [10.5, 'held', [], { dropped: 1 }],
      [11, 'held', [request], { txrequests: 1, dropped: 1 }],
      [11.9, 'held', [], { dropped: 1 }],
      [12, 'held', [request], { txrequests: 1, dropped: 1 }],
      [13, 'held', [request], { txrequests: 1, dropped: 1 }],
      [14, 'held', [request], { txrequests: 1, dropped: 1 }],
      // The sixth second: asked == maxtries, so RTF_REJECT for host_down_time (l.564).
      [15, 'held', [miss], { hostDown: 1, dropped: 1 }],
      [15.5, 'host is down', [], { resolveHostDown: 1 }],
      [34.999, 'host is down', [], { resolveHostDown: 1 }],
      // 15 + 20: the window is over and asking starts again from one.
      [35, 'held', [request], { txrequests: 1, dropped: 1 }],
    ];
    for (const [at, expected, outputs, counters] of steps) {
      const { result, moved } = counting(engine, () =>
        engine.resolve(s(at), ip(A.ip), packet(`p@${at}`)),
      );
      const kind = result.result.kind === 'failed' ? result.result.reason : result.result.kind;
      assert.equal(kind, expected, `send at ${at}s`);
      assert.deepEqual(view(engine, result.outputs), outputs, `outputs at ${at}s`);
      assert.deepEqual(moved, counters, `counters at ${at}s`);
      if (at === 15) {
        const entry = engine.lookup(s(15), A.ip);
        assert.equal(entry?.state, 'down');
        assert.equal(entry?.expiresIn, 20);
        assert.equal(entry?.asked, 0);
      }
    }
    assert.equal(engine.lookup(s(35), A.ip)?.asked, 1);
  });

  it('declares the host down after the configured maxtries', () => {
    const { engine } = makeHost({ config: { maxtries: 2, host_down_time: 3 } });
    const frames = (at: number): number =>
      engine.resolve(s(at), ip(A.ip), packet('p')).outputs.filter((o) => o.kind === 'transmit')
        .length;
    assert.deepEqual([10, 11, 12, 13, 14, 15].map(frames), [1, 1, 0, 0, 0, 1]);
    assert.equal(engine.stats().hostDown, 1);
  });
});

describe('arpresolve: off-link destinations', () => {
  it('resolves the gateway of a static route, not the destination', () => {
    const { engine, eth0 } = makeHost();
    engine.addRoute('203.0.113.0/24', { gateway: GW.ip });
    const first = engine.resolve(s(10), ip('203.0.113.5'), packet('p1'));
    assert.deepEqual(first.result, { kind: 'held', ifIndex: eth0, nextHop: ip(GW.ip) });
    assert.deepEqual(view(engine, first.outputs), [
      routeEvent('add', GW.ip, 'resolve'),
      expectRequest(US, GW.ip),
    ]);
    const reply = engine.handleFrame(s(10), eth0, isAt(GW, US));
    assert.deepEqual(view(engine, reply), [
      routeEvent('resolve', GW.ip, 'learned', GW.mac),
      expectDelivered('p1', GW),
    ]);
    const second = engine.resolve(s(11), ip('203.0.113.99'), packet('p2'));
    assert.deepEqual(second, {
      result: { kind: 'resolved', ifIndex: eth0, mac: mac(GW.mac), source: mac(US.mac) },
      outputs: [],
    });
  });

  it("fails with 'no route to host' when nothing covers the destination", () => {
    const { engine } = makeHost();
    const { result, moved } = counting(engine, () =>
      engine.resolve(s(10), ip('198.18.0.1'), packet('p1')),
    );
    assert.deepEqual(result, {
      result: { kind: 'failed', reason: 'no route to host' },
      outputs: [],
    });
    assert.deepEqual(moved, { resolveUnreachable: 1 });
    assert.equal(engine.size, 1);
  });

  it("fails with 'host is not on local network' when the gateway is itself behind a gateway", () => {
    const { engine } = makeHost();
    engine.addRoute('203.0.113.0/24', { gateway: '198.51.100.1' });
    engine.addRoute('198.51.100.0/24', { gateway: GW.ip });
    const { result, moved } = counting(engine, () =>
      engine.resolve(s(10), ip('203.0.113.5'), packet('p1')),
    );
    assert.deepEqual(result.result, { kind: 'failed', reason: 'host is not on local network' });
    // ip_output hands ether_output the gateway as dst; arplookup and arpresolve both log it
    // (l.1198 and l.506: "rt" is the gateway route rt_llroute found, "la" is absent).
    assert.deepEqual(view(engine, result.outputs), [
      logLine('debug', 'arplookup 198.51.100.1 failed: host is not on local network'),
      logLine('debug', "arpresolve: can't allocate llinfo for 198.51.100.1 rt"),
    ]);
    assert.deepEqual(moved, { resolveUnreachable: 1 });
    assert.equal(engine.size, 1);
  });
});

describe('arpresolve: refusals before any entry is touched', () => {
  it("fails with 'network is down' when the interface is down", () => {
    const { engine } = makeHost();
    engine.setInterfaceUp(s(5), 'eth0', false);
    const { result, moved } = counting(engine, () => engine.resolve(s(10), ip(A.ip), packet('p1')));
    assert.deepEqual(result, {
      result: { kind: 'failed', reason: 'network is down' },
      outputs: [],
    });
    assert.deepEqual(moved, { resolveUnreachable: 1 });
    assert.equal(engine.lookup(s(10), A.ip), undefined);
  });

  it("fails with 'no route to host' while the gateway of the route is down", () => {
    const { engine } = makeHost();
    engine.addRoute('203.0.113.0/24', { gateway: GW.ip });
    for (let at = 10; at <= 15; at++) engine.resolve(s(at), ip('203.0.113.5'), packet('p'));
    assert.equal(engine.lookup(s(16), GW.ip)?.state, 'down');
    const { result, moved } = counting(engine, () =>
      engine.resolve(s(16), ip('203.0.113.5'), packet('p')),
    );
    // FreeBSD's rt_check: EHOSTUNREACH when the rejecting route is not the destination's own.
    assert.deepEqual(result, {
      result: { kind: 'failed', reason: 'no route to host' },
      outputs: [],
    });
    assert.deepEqual(moved, { resolveHostDown: 1 });
    assert.equal(engine.resolve(s(16), ip(GW.ip), packet('p')).result.kind, 'failed');
  });
});

describe('a reply arrives for a held packet', () => {
  it('resolves the entry, releases the held packets in order and reports resolve', () => {
    const { engine, eth0 } = makeHost({ config: { maxhold: 3 } });
    for (const name of ['p1', 'p2', 'p3']) engine.resolve(s(10), ip(A.ip), packet(name));
    const { result, moved } = counting(engine, () =>
      engine.handleFrame(s(10.5), eth0, isAt(A, US)),
    );
    assert.deepEqual(view(engine, result), [
      routeEvent('resolve', A.ip, 'learned', A.mac),
      expectDelivered('p1', A),
      expectDelivered('p2', A),
      expectDelivered('p3', A),
    ]);
    assert.deepEqual(moved, { received: 1, rxreplies: 1 });
    const entry = engine.lookup(s(10.5), A.ip);
    assert.equal(entry?.state, 'resolved');
    assert.equal(entry?.mac, A.mac);
    assert.equal(entry?.expiresIn, 1200, 'max_age');
    assert.equal(entry?.asked, 0);
    assert.equal(entry?.held, 0);
    assert.deepEqual(engine.resolve(s(11), ip(A.ip), packet('p4')), {
      result: { kind: 'resolved', ifIndex: eth0, mac: mac(A.mac), source: mac(US.mac) },
      outputs: [],
    });
  });

  it('clears the down state of an entry when its reply comes late', () => {
    const { engine, eth0 } = makeHost();
    for (let at = 10; at <= 15; at++) engine.resolve(s(at), ip(A.ip), packet(`p@${at}`));
    assert.equal(engine.lookup(s(16), A.ip)?.state, 'down');
    const outputs = engine.handleFrame(s(16), eth0, isAt(A, US));
    // The packet held when the entry went down is still there, and goes now.
    assert.deepEqual(view(engine, outputs), [
      routeEvent('resolve', A.ip, 'learned', A.mac),
      expectDelivered('p@15', A),
    ]);
    assert.equal(engine.lookup(s(16), A.ip)?.state, 'resolved');
    assert.equal(engine.lookup(s(16), A.ip)?.expiresIn, 1200);
    assert.equal(engine.resolve(s(16), ip(A.ip), packet('q')).result.kind, 'resolved');
  });

  it('puts the request, the reply and the held packet on the wire in order (two hosts)', () => {
    const world = new World();
    world.addSegment('lan');
    const frames: string[] = [];
    world.onTrace = (record) => {
      if (record.kind === 'frame') frames.push(`${record.from}: ${describeFrame(record.frame)}`);
    };
    world.addHost('us', [
      { name: 'eth0', mac: mac(US.mac), segment: 'lan', addresses: [`${US.ip}/24`] },
    ]);
    world.addHost('a', [
      { name: 'eth0', mac: mac(A.mac), segment: 'lan', addresses: [`${A.ip}/24`] },
    ]);
    world.runUntil(s(10));
    assert.equal(world.ping('us', ip(A.ip)).kind, 'held');
    world.runUntil(s(11));
    assert.deepEqual(frames, [
      'us/eth0: 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ARP, Announcement 192.0.2.1, length 28',
      'a/eth0: 02:00:00:00:00:0a > ff:ff:ff:ff:ff:ff, ARP, Announcement 192.0.2.10, length 28',
      'us/eth0: 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ARP, Request who-has 192.0.2.10 tell 192.0.2.1, length 28',
      'a/eth0: 02:00:00:00:00:0a > 02:00:00:00:00:01, ARP, Reply 192.0.2.10 is-at 02:00:00:00:00:0a, length 28',
      'us/eth0: 02:00:00:00:00:01 > 02:00:00:00:00:0a, IPv4 192.0.2.1 > 192.0.2.10: ICMP echo request, id 1, seq 1, length 64',
      'a/eth0: 02:00:00:00:00:0a > 02:00:00:00:00:01, IPv4 192.0.2.10 > 192.0.2.1: ICMP echo reply, id 1, seq 1, length 64',
    ]);
    // A learned us from the request it was the target of, so its echo reply needed no ARP.
    assert.equal(world.host('a').engine.lookup(world.now, US.ip)?.state, 'resolved');
    assert.equal(world.host('us').engine.stats().txrequests, 1);
    assert.equal(world.host('a').engine.stats().txrequests, 0);
  });

  it('decodes to exactly the fields RFC 826 asks for', () => {
    const world = new World();
    world.addSegment('lan');
    const arp: unknown[] = [];
    world.addHost('us', [
      { name: 'eth0', mac: mac(US.mac), segment: 'lan', addresses: [`${US.ip}/24`] },
    ]);
    world.addHost('a', [
      { name: 'eth0', mac: mac(A.mac), segment: 'lan', addresses: [`${A.ip}/24`] },
    ]);
    world.onTrace = (record) => {
      if (record.kind === 'frame' && record.frame[13] === 0x06) {
        arp.push(decodeArpFrame(record.frame, record.from));
      }
    };
    world.runUntil(s(10));
    world.ping('us', ip(A.ip));
    world.runUntil(s(11));
    assert.deepEqual(arp, [
      expectRequest(US, A.ip, { on: 'us/eth0' }),
      expectReply(A, US, { on: 'a/eth0' }),
    ]);
  });
});

describe('pre-expiry refresh (la_preempt, l.524)', () => {
  const resolvedToA = {
    kind: 'resolved',
    ifIndex: 0,
    mac: mac(A.mac),
    source: mac(US.mac),
  };

  it('asks again in each of the last maxtries - 1 seconds of a used entry', () => {
    const engine = hostThatResolvedA(10); // expires at 1210
    const requestsAt: number[] = [];
    for (let at = 1200; at < 1210; at++) {
      const { result, outputs } = engine.resolve(s(at), ip(A.ip), packet('p'));
      assert.deepEqual(result, resolvedToA, `still resolved at ${at}s`);
      const frames = view(engine, outputs);
      if (frames.length > 0) {
        assert.deepEqual(frames, [expectRequest(US, A.ip)], `a broadcast request at ${at}s`);
        requestsAt.push(at);
      }
    }
    // now + preempt > expire: 1205 + 5 is not past 1210; 1206 + 5, 1207 + 4, 1208 + 3 and
    // 1209 + 2 are, and each request lowers preempt by one.
    assert.deepEqual(requestsAt, [1206, 1207, 1208, 1209]);
    assert.equal(engine.stats().txrequests, 1 + 4);
  });

  it('asks maxtries - 1 times when used repeatedly within the last second, then stops', () => {
    const engine = hostThatResolvedA(10);
    let requests = 0;
    for (let i = 0; i < 10; i++) {
      const { outputs } = engine.resolve(s(1209.5), ip(A.ip), packet('p'));
      requests += outputs.length;
    }
    // 1209 + 5, + 4, + 3, + 2 are past 1210; 1209 + 1 is not.
    assert.equal(requests, 4);
  });

  it('starts the countdown again when the neighbour answers the refresh', () => {
    const engine = hostThatResolvedA(10);
    assert.equal(engine.resolve(s(1206), ip(A.ip), packet('p')).outputs.length, 1);
    assert.deepEqual(engine.handleFrame(s(1206), 0, isAt(A, US)), [], 'no event: same MAC');
    assert.equal(engine.lookup(s(1206), A.ip)?.expiresIn, 1200);
    assert.deepEqual(engine.resolve(s(1207), ip(A.ip), packet('p')).outputs, []);
  });

  it('never refreshes a permanent entry', () => {
    const { engine } = makeHost();
    engine.addEntry(s(0), { ip: ip(B.ip), mac: mac(B.mac) });
    assert.deepEqual(engine.resolve(s(1_000_000), ip(B.ip), packet('p')).outputs, []);
  });

  it('answers a request from the neighbour too, without a refresh of its own', () => {
    const engine = hostThatResolvedA(10);
    const outputs = engine.handleFrame(s(1209), 0, whoHas(A, US.ip));
    assert.deepEqual(view(engine, outputs), [expectReply(US, A)]);
  });
});

describe('pre-expiry refresh by unicast (unicast_refresh, as FreeBSD and Linux)', () => {
  it('asks the neighbour at the MAC its entry has, in the same seconds', () => {
    const engine = hostThatResolvedA(10, { unicast_refresh: 1 });
    const requestsAt: number[] = [];
    for (let at = 1200; at < 1210; at++) {
      const frames = view(engine, engine.resolve(s(at), ip(A.ip), packet('p')).outputs);
      if (frames.length === 0) continue;
      // Ethernet destination A's MAC; THA zero, as in a broadcast request.
      assert.deepEqual(frames, [{ ...expectRequest(US, A.ip), dst: A.mac }], `at ${at}s`);
      requestsAt.push(at);
    }
    assert.deepEqual(requestsAt, [1206, 1207, 1208, 1209]);
  });

  it("restarts the countdown on the neighbour's answer", () => {
    const engine = hostThatResolvedA(10, { unicast_refresh: 1 });
    assert.equal(engine.resolve(s(1206), ip(A.ip), packet('p')).outputs.length, 1);
    engine.handleFrame(s(1206.1), 0, isAt(A, US));
    assert.equal(engine.lookup(s(1207), A.ip)?.expiresIn, 1199);
    assert.deepEqual(engine.resolve(s(1207), ip(A.ip), packet('p')).outputs, []);
  });

  it('asks by broadcast once the entry has expired unanswered (the neighbour may have moved)', () => {
    const engine = hostThatResolvedA(10, { unicast_refresh: 1 });
    for (let at = 1206; at < 1210; at++) engine.resolve(s(at), ip(A.ip), packet('p'));
    const { result, outputs } = engine.resolve(s(1210), ip(A.ip), packet('late'));
    assert.equal(result.kind, 'held');
    assert.deepEqual(view(engine, outputs), [expectRequest(US, A.ip)]);
  });

  it('takes effect at once when switched at run time', () => {
    const engine = hostThatResolvedA(10);
    engine.setSysctl('unicast_refresh', 1);
    const frames = view(engine, engine.resolve(s(1206), ip(A.ip), packet('p')).outputs);
    assert.deepEqual(frames, [{ ...expectRequest(US, A.ip), dst: A.mac }]);
    engine.setSysctl('net.link.ether.inet.unicast_refresh', 0);
    const again = view(engine, engine.resolve(s(1207), ip(A.ip), packet('p')).outputs);
    assert.deepEqual(again, [expectRequest(US, A.ip)]);
  });
});
