/**
 * Spoofing defences. ARP has no authentication: any station on the segment can claim any
 * address. Each defence is a knob, off by default (the seed's behaviour), and each refusal
 * moves a named counter: `restricted_match` (the seed's), `locktime` (the first answer wins),
 * `accept` (unsolicited ARP: any, none, or same subnet only), static pinning, the arpwatch
 * report (new stations, changed addresses, flip flops), RFC 5227 probes (answered, never
 * learned) and senders no host can be (multicast MACs, broadcast or multicast IPs).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Engine } from '../../src/core/engine.ts';
import { ArpHardware } from '../../src/wire/arp.ts';
import {
  A,
  A_NEW_MAC,
  arpFrame,
  B,
  BROADCAST,
  counting,
  expectDelivered,
  expectReply,
  expectRequest,
  GW,
  ip,
  isAt,
  logLine,
  logMessages,
  mac,
  makeHost,
  packet,
  routeEvent,
  routeEvents,
  type Station,
  s,
  US,
  view,
  whoHas,
} from './helpers.ts';

/** The attacker's MAC. */
const EVIL = '02:00:00:00:0e:0e';
/** The attacker claiming A's address. */
const FAKE_A: Station = { mac: EVIL, ip: A.ip };

/** An engine that asked for A at `at` seconds and got A's answer at once. */
function hostThatResolvedA(config: Record<string, number>, at = 10): Engine {
  const { engine, eth0 } = makeHost({ config });
  engine.resolve(s(at), ip(A.ip), packet('p0'));
  engine.handleFrame(s(at), eth0, isAt(A, US));
  assert.equal(engine.lookup(s(at), A.ip)?.mac, A.mac);
  return engine;
}

/** A's entry's MAC at `at` seconds. */
const macOfA = (engine: Engine, at: number): string | undefined => engine.lookup(s(at), A.ip)?.mac;

describe('restricted_match (the seed): ARP not aimed at us changes nothing', () => {
  it("ignores a gratuitous ARP claiming a neighbour's address, which by default moves it", () => {
    const claim = whoHas(FAKE_A, A.ip);
    const strict = hostThatResolvedA({ restricted_match: 1 });
    const refused = counting(strict, () => strict.handleFrame(s(11), 0, claim));
    assert.deepEqual(refused.result, []);
    assert.deepEqual(refused.moved, { received: 1, rxrequests: 1, rxRestricted: 1 });
    assert.equal(macOfA(strict, 11), A.mac);
    const open = hostThatResolvedA({});
    assert.deepEqual(routeEvents(open.handleFrame(s(11), 0, claim)), [
      routeEvent('change', A.ip, 'moved', EVIL),
    ]);
  });
});

describe('locktime: the first answer wins for a while', () => {
  it('ignores another MAC within locktime milliseconds of the answer, takes it after', () => {
    const engine = hostThatResolvedA({ locktime: 1000 });
    const early = counting(engine, () => engine.handleFrame(s(10.999), 0, isAt(FAKE_A, US)));
    assert.deepEqual(early.result, []);
    assert.deepEqual(early.moved, { received: 1, rxreplies: 1, rxLocked: 1 });
    assert.equal(macOfA(engine, 11), A.mac);
    const late = engine.handleFrame(s(11), 0, isAt(FAKE_A, US));
    assert.deepEqual(view(engine, late), [
      logLine('info', `arp: ${A.ip} moved from ${A.mac} to ${EVIL} on eth0`),
      routeEvent('change', A.ip, 'moved', EVIL),
    ]);
  });

  it('keeps the first of two answers to one request', () => {
    const { engine, eth0 } = makeHost({ config: { locktime: 1000 } });
    engine.resolve(s(10), ip(A.ip), packet('p'));
    const first = engine.handleFrame(s(10.001), eth0, isAt(A, US));
    const second = counting(engine, () => engine.handleFrame(s(10.002), eth0, isAt(FAKE_A, US)));
    assert.deepEqual(view(engine, first), [
      routeEvent('resolve', A.ip, 'learned', A.mac),
      expectDelivered('p', A),
    ]);
    assert.deepEqual(second.moved, { received: 1, rxreplies: 1, rxLocked: 1 });
    assert.equal(macOfA(engine, 10), A.mac);
  });

  it('lets a gratuitous ARP through, as Linux does, so that an address can move', () => {
    const engine = hostThatResolvedA({ locktime: 1000 });
    const moved = engine.handleFrame(s(10.5), 0, whoHas({ mac: A_NEW_MAC, ip: A.ip }, A.ip));
    assert.deepEqual(routeEvents(moved), [routeEvent('change', A.ip, 'moved', A_NEW_MAC)]);
  });

  it('counts from the last change of MAC, not from refreshes with the same one', () => {
    const engine = hostThatResolvedA({ locktime: 1000 });
    engine.handleFrame(s(10.9), 0, isAt(A, US)); // a refresh: the lock still ends at 11 s
    const moved = engine.handleFrame(s(11), 0, isAt(FAKE_A, US));
    assert.deepEqual(routeEvents(moved), [routeEvent('change', A.ip, 'moved', EVIL)]);
  });

  it('is off by default: the last answer wins, as in the seed', () => {
    const engine = hostThatResolvedA({});
    engine.handleFrame(s(10), 0, isAt(FAKE_A, US));
    assert.equal(macOfA(engine, 10), EVIL);
  });
});

describe('accept 1: only the answers to our own requests change the table', () => {
  it('ignores a gratuitous ARP for a known neighbour', () => {
    const engine = hostThatResolvedA({ accept: 1 });
    const { result, moved } = counting(engine, () =>
      engine.handleFrame(s(11), 0, whoHas(FAKE_A, A.ip)),
    );
    assert.deepEqual(result, []);
    assert.deepEqual(moved, { received: 1, rxrequests: 1, rxUnsolicited: 1, rxNotOurs: 1 });
    assert.equal(macOfA(engine, 11), A.mac);
  });

  it('answers a request for us from a new station without learning it', () => {
    const { engine, eth0 } = makeHost({ config: { accept: 1 } });
    const { result, moved } = counting(engine, () =>
      engine.handleFrame(s(10), eth0, whoHas(B, US.ip)),
    );
    assert.deepEqual(view(engine, result), [expectReply(US, B)]);
    assert.deepEqual(moved, { received: 1, rxrequests: 1, rxUnsolicited: 1, txreplies: 1 });
    assert.equal(engine.lookup(s(10), B.ip), undefined);
  });

  it('takes the one answer to an outstanding request, and no second one', () => {
    const { engine, eth0 } = makeHost({ config: { accept: 1 } });
    engine.resolve(s(10), ip(A.ip), packet('p'));
    // A reply that is not for us does not count as the answer.
    const notForUs = arpFrame({
      op: 'reply',
      sha: EVIL,
      spa: A.ip,
      tha: B.mac,
      tpa: B.ip,
      dst: BROADCAST,
    });
    assert.equal(
      counting(engine, () => engine.handleFrame(s(10), eth0, notForUs)).moved.rxUnsolicited,
      1,
    );
    assert.deepEqual(view(engine, engine.handleFrame(s(10), eth0, isAt(A, US))), [
      routeEvent('resolve', A.ip, 'learned', A.mac),
      expectDelivered('p', A),
    ]);
    const second = counting(engine, () => engine.handleFrame(s(10), eth0, isAt(FAKE_A, US)));
    assert.deepEqual(second.moved, { received: 1, rxreplies: 1, rxUnsolicited: 1 });
    assert.equal(macOfA(engine, 10), A.mac);
  });

  it('welcomes the answer to a pre-expiry refresh, even with a new MAC', () => {
    const engine = hostThatResolvedA({ accept: 1 });
    const refresh = engine.resolve(s(1206), ip(A.ip), packet('p'));
    assert.deepEqual(view(engine, refresh.outputs), [expectRequest(US, A.ip)]);
    const moved = engine.handleFrame(s(1206), 0, isAt({ mac: A_NEW_MAC, ip: A.ip }, US));
    assert.deepEqual(routeEvents(moved), [routeEvent('change', A.ip, 'moved', A_NEW_MAC)]);
  });
});

describe('accept 2: unsolicited ARP only from senders inside our subnets', () => {
  /** 203.0.113.0/24 is on-link through eth0 by an interface route, outside its subnet. */
  const OFF: Station = { mac: '02:00:00:00:03:07', ip: '203.0.113.7' };
  function hostWithInterfaceRoute(accept: number): Engine {
    const { engine } = makeHost({ config: { accept } });
    engine.addRoute('203.0.113.0/24', { ifName: 'eth0' });
    return engine;
  }

  it('does not learn a sender outside the subnet, which the seed would, and still answers', () => {
    const seed = hostWithInterfaceRoute(0);
    seed.handleFrame(s(10), 0, whoHas(OFF, US.ip));
    assert.equal(seed.lookup(s(10), OFF.ip)?.mac, OFF.mac);
    const engine = hostWithInterfaceRoute(2);
    const { result, moved } = counting(engine, () =>
      engine.handleFrame(s(10), 0, whoHas(OFF, US.ip)),
    );
    assert.deepEqual(view(engine, result), [expectReply(US, OFF)]);
    assert.deepEqual(moved, { received: 1, rxrequests: 1, rxOffSubnet: 1, txreplies: 1 });
    assert.equal(engine.lookup(s(10), OFF.ip), undefined);
  });

  it('learns senders inside the subnet as the seed does', () => {
    const engine = hostWithInterfaceRoute(2);
    assert.deepEqual(routeEvents(engine.handleFrame(s(10), 0, whoHas(B, US.ip))), [
      routeEvent('add', B.ip, 'learned'),
      routeEvent('resolve', B.ip, 'learned', B.mac),
    ]);
  });

  it('takes the answer to our own request from outside the subnet, then no other claim', () => {
    const engine = hostWithInterfaceRoute(2);
    engine.resolve(s(10), ip(OFF.ip), packet('p'));
    assert.deepEqual(view(engine, engine.handleFrame(s(10), 0, isAt(OFF, US))), [
      routeEvent('resolve', OFF.ip, 'learned', OFF.mac),
      expectDelivered('p', OFF),
    ]);
    const claim = counting(engine, () =>
      engine.handleFrame(s(11), 0, whoHas({ mac: EVIL, ip: OFF.ip }, OFF.ip)),
    );
    assert.deepEqual(claim.moved, { received: 1, rxrequests: 1, rxOffSubnet: 1, rxNotOurs: 1 });
    assert.equal(engine.lookup(s(11), OFF.ip)?.mac, OFF.mac);
  });
});

describe('static pinning: a permanent entry stands whatever the network says', () => {
  it('keeps the gateway through a storm of forged replies, announcements and requests', () => {
    const { engine, eth0 } = makeHost({ config: { log_ratelimit: 1 } });
    engine.addEntry(s(1), { ip: ip(GW.ip), mac: mac(GW.mac) });
    const forged: Station = { mac: EVIL, ip: GW.ip };
    const frames = [isAt(forged, US), whoHas(forged, GW.ip), whoHas(forged, US.ip)];
    const { result, moved } = counting(engine, () =>
      Array.from({ length: 300 }, (_, i) => i).flatMap((i) =>
        engine.handleFrame(s(10), eth0, frames[i % 3]!),
      ),
    );
    assert.equal(moved.rxPermanentModify, 300);
    assert.equal(moved.logSuppressed, 299, 'one line a second tells of it');
    assert.deepEqual(logMessages(result), [
      `arp: ${EVIL} attempts to modify permanent entry for ${GW.ip} on eth0`,
    ]);
    assert.deepEqual(routeEvents(result), []);
    assert.deepEqual(engine.resolve(s(10), ip(GW.ip), packet('p')).result, {
      kind: 'resolved',
      ifIndex: eth0,
      mac: mac(GW.mac),
      source: mac(US.mac),
    });
  });
});

describe('arpwatch: new stations, changed addresses and flip flops', () => {
  it('reports a new station, a change, and a change back as a flip flop', () => {
    const { engine, eth0 } = makeHost({ config: { arpwatch: 1 } });
    const first = counting(engine, () => engine.handleFrame(s(10), eth0, whoHas(A, US.ip)));
    assert.deepEqual(view(engine, first.result), [
      logLine('info', `arp: new station ${A.ip} ${A.mac} on eth0`),
      routeEvent('add', A.ip, 'learned'),
      routeEvent('resolve', A.ip, 'learned', A.mac),
      expectReply(US, A),
    ]);
    assert.equal(first.moved.watchNewStations, 1);
    assert.deepEqual(logMessages(engine.handleFrame(s(11), eth0, whoHas(A, US.ip))), []);
    const moved = counting(engine, () => engine.handleFrame(s(12), eth0, isAt(FAKE_A, US)));
    assert.deepEqual(logMessages(moved.result), [
      `arp: changed ethernet address ${A.ip} ${EVIL} (${A.mac}) on eth0`,
      `arp: ${A.ip} moved from ${A.mac} to ${EVIL} on eth0`,
    ]);
    assert.equal(moved.moved.watchChanges, 1);
    const back = counting(engine, () => engine.handleFrame(s(13), eth0, isAt(A, US)));
    assert.deepEqual(
      view(engine, back.result)[0],
      logLine('warning', `arp: flip flop ${A.ip} ${A.mac} (${EVIL}) on eth0`),
    );
    assert.equal(back.moved.watchFlipFlops, 1);
  });

  it('hears stations the table does not learn, but not probes or our own addresses', () => {
    const { engine, eth0 } = makeHost({ config: { arpwatch: 1 } });
    const heard = engine.handleFrame(s(10), eth0, whoHas(B, '192.0.2.99'));
    assert.deepEqual(logMessages(heard), [`arp: new station ${B.ip} ${B.mac} on eth0`]);
    assert.equal(engine.lookup(s(10), B.ip), undefined);
    const probe = arpFrame({ op: 'request', sha: A.mac, spa: '0.0.0.0', tpa: '192.0.2.99' });
    assert.deepEqual(logMessages(engine.handleFrame(s(10), eth0, probe)), []);
    const claim = engine.handleFrame(s(10), eth0, whoHas({ mac: EVIL, ip: US.ip }, US.ip));
    assert.deepEqual(logMessages(claim), [`arp: ${EVIL} is using my IP address ${US.ip}!`]);
  });

  it('with arpwatch_window, a change back after the window is just a change', () => {
    const { engine, eth0 } = makeHost({ config: { arpwatch: 1, arpwatch_window: 60 } });
    engine.handleFrame(s(10), eth0, whoHas(A, '192.0.2.99'));
    engine.handleFrame(s(20), eth0, whoHas(FAKE_A, '192.0.2.99'));
    assert.deepEqual(logMessages(engine.handleFrame(s(80), eth0, whoHas(A, '192.0.2.99'))), [
      `arp: changed ethernet address ${A.ip} ${A.mac} (${EVIL}) on eth0`,
    ]);
    assert.deepEqual(logMessages(engine.handleFrame(s(139), eth0, whoHas(FAKE_A, '192.0.2.99'))), [
      `arp: flip flop ${A.ip} ${EVIL} (${A.mac}) on eth0`,
    ]);
  });

  it('remembers at most max_entries stations, and forgets them all when turned off', () => {
    const { engine, eth0 } = makeHost({ config: { arpwatch: 1, max_entries: 2 } });
    const hear = (station: Station, at: number): number =>
      counting(engine, () => engine.handleFrame(s(at), eth0, whoHas(station, '192.0.2.99'))).moved
        .watchNewStations ?? 0;
    assert.deepEqual(
      [hear(A, 10), hear(B, 11), hear(A, 12), hear(GW, 13), hear(A, 14), hear(B, 15)],
      [1, 1, 0, 1, 0, 1],
    );
    engine.setSysctl('arpwatch', 0);
    assert.equal(hear(A, 16), 0, 'off: nothing is reported');
    engine.setSysctl('arpwatch', 1);
    assert.equal(hear(A, 17), 1, 'forgotten while off');
  });

  it('is off by default', () => {
    const { engine, eth0 } = makeHost();
    assert.deepEqual(logMessages(engine.handleFrame(s(10), eth0, whoHas(A, US.ip))), []);
    assert.equal(engine.stats().watchNewStations, 0);
  });
});

describe('RFC 5227 probes and senders no host can be', () => {
  const probeFor = (target: string): Uint8Array =>
    arpFrame({ op: 'request', sha: A.mac, spa: '0.0.0.0', tpa: target });

  it('answers a probe for our address, to the prober, and learns nothing', () => {
    const { engine, eth0 } = makeHost();
    engine.addRoute('0.0.0.0/0', { gateway: GW.ip }); // the seed would look 0.0.0.0 up and log
    const { result, moved } = counting(engine, () =>
      engine.handleFrame(s(10), eth0, probeFor(US.ip)),
    );
    assert.deepEqual(view(engine, result), [
      {
        kind: 'arp',
        on: 'eth0',
        dst: A.mac,
        src: US.mac,
        hrd: ArpHardware.Ethernet,
        op: 'reply',
        sha: US.mac,
        spa: US.ip,
        tha: A.mac,
        tpa: '0.0.0.0',
      },
    ]);
    assert.deepEqual(moved, { received: 1, rxrequests: 1, rxProbes: 1, txreplies: 1 });
    assert.deepEqual(
      engine.listEntries(s(10)).map((e) => e.ip),
      [US.ip],
    );
  });

  it('neither answers nor learns from a probe for another address', () => {
    const { engine, eth0 } = makeHost();
    const { result, moved } = counting(engine, () =>
      engine.handleFrame(s(10), eth0, probeFor(B.ip)),
    );
    assert.deepEqual(result, []);
    assert.deepEqual(moved, { received: 1, rxrequests: 1, rxProbes: 1, rxNotOurs: 1 });
  });

  it('drops a sender IP of 255.255.255.255 or a multicast group: no entry, no reply', () => {
    for (const spa of ['255.255.255.255', '224.0.0.251', '239.1.2.3']) {
      const { engine, eth0 } = makeHost();
      const frame = arpFrame({ op: 'request', sha: A.mac, spa, tpa: US.ip });
      const { result, moved } = counting(engine, () => engine.handleFrame(s(10), eth0, frame));
      assert.deepEqual(result, [], spa);
      assert.deepEqual(moved, { received: 1, rxrequests: 1, rxBadSenderIp: 1 }, spa);
    }
  });

  it('drops a multicast sender MAC, which RFC 1812 says never to believe', () => {
    const engine = hostThatResolvedA({});
    const multicast = '01:00:5e:00:00:fb';
    for (const frame of [
      isAt({ mac: multicast, ip: A.ip }, US),
      arpFrame({ op: 'request', sha: multicast, spa: A.ip, tpa: US.ip, src: A.mac }),
    ]) {
      const { result, moved } = counting(engine, () => engine.handleFrame(s(11), 0, frame));
      assert.deepEqual(result, []);
      assert.equal(moved.rxMulticastSender, 1);
    }
    assert.equal(macOfA(engine, 11), A.mac);
  });
});
