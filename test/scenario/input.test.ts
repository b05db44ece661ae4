/**
 * ARP input in the seed's order: arpintr's checks (l.579-618), in_arpinput's choice of "my
 * address" and its sanity checks (l.836-1037), and arp_update_oncpu's merge (l.671-822).
 * Every frame that is dropped moves exactly one named counter, checked here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Engine } from '../../src/core/engine.ts';
import { World } from '../../src/sim/world.ts';
import { ArpHardware } from '../../src/wire/arp.ts';
import { ETHERNET_HEADER_LEN } from '../../src/wire/ethernet.ts';
import {
  A,
  A_NEW_MAC,
  arpFrame,
  B,
  BROADCAST,
  C,
  counting,
  decodeArpFrame,
  expectDelivered,
  expectReply,
  expectRequest,
  fromHex,
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
  US1,
  view,
  whoHas,
} from './helpers.ts';

/** Feeds `frame` on interface `ifIndex` at second `at`; returns readable outputs and counters. */
function receive(engine: Engine, at: number, frame: Uint8Array, ifIndex = 0) {
  const { result, moved } = counting(engine, () => engine.handleFrame(s(at), ifIndex, frame));
  return { seen: view(engine, result), moved };
}

/** An engine that has resolved A at second 10 (so A's entry exists and is dynamic). */
function hostKnowingA(config: Record<string, number> = {}) {
  const host = makeHost({ config, twoInterfaces: true });
  host.engine.resolve(s(10), ip(A.ip), packet('p0'));
  host.engine.handleFrame(s(10), host.eth0, isAt(A, US));
  return host;
}

/** An ARP packet with any hln/pln: fixed header, then the given address bytes, after an Ethernet header. */
function rawArp(fields: {
  hrd?: number;
  pro?: number;
  hln: number;
  pln: number;
  op?: number;
  addresses: string;
}): Uint8Array {
  const header = fromHex(
    `ffffffffffff ${A.mac.replaceAll(':', '')} 0806` +
      (fields.hrd ?? 1).toString(16).padStart(4, '0') +
      (fields.pro ?? 0x0800).toString(16).padStart(4, '0') +
      fields.hln.toString(16).padStart(2, '0') +
      fields.pln.toString(16).padStart(2, '0') +
      (fields.op ?? 1).toString(16).padStart(4, '0'),
  );
  const addresses = fromHex(fields.addresses);
  const frame = new Uint8Array(header.length + addresses.length);
  frame.set(header);
  frame.set(addresses, header.length);
  return frame;
}

describe('ether_input: what reaches ARP at all', () => {
  it('drops a frame shorter than an Ethernet header (rxRuntEthernet)', () => {
    const { engine } = makeHost();
    assert.deepEqual(receive(engine, 10, new Uint8Array(13)), {
      seen: [],
      moved: { rxRuntEthernet: 1 },
    });
  });

  it('drops a frame whose EtherType is not ARP (rxNotArp)', () => {
    const { engine } = makeHost();
    const frame = whoHas(A, US.ip);
    frame[13] = 0x00; // 0x0800, IPv4
    assert.deepEqual(receive(engine, 10, frame), { seen: [], moved: { rxNotArp: 1 } });
  });

  it('drops a unicast frame for another station (rxNotForUs)', () => {
    const { engine } = makeHost();
    const frame = arpFrame({ op: 'reply', sha: A.mac, spa: A.ip, tha: B.mac, tpa: B.ip });
    assert.deepEqual(receive(engine, 10, frame), { seen: [], moved: { rxNotForUs: 1 } });
  });

  it('drops ARP on an IFF_NOARP interface, as ether_demux does (rxNoArp)', () => {
    const { engine } = makeHost();
    engine.setInterfaceFlags('eth0', { noarp: true });
    assert.deepEqual(receive(engine, 10, whoHas(A, US.ip)), { seen: [], moved: { rxNoArp: 1 } });
    assert.equal(engine.lookup(s(10), A.ip), undefined, 'nothing learned');
  });

  it('drops frames on an interface that is down or unknown (rxInterfaceDown)', () => {
    const { engine } = makeHost();
    engine.setInterfaceUp(s(1), 'eth0', false);
    assert.deepEqual(receive(engine, 10, whoHas(A, US.ip)), {
      seen: [],
      moved: { rxInterfaceDown: 1 },
    });
    assert.deepEqual(receive(engine, 10, whoHas(A, US.ip), 7), {
      seen: [],
      moved: { rxInterfaceDown: 1 },
    });
  });

  it('takes unicast to our MAC, broadcast, multicast, and a frame padded to 60 bytes', () => {
    const { engine } = makeHost();
    const toUs = arpFrame({ op: 'request', sha: A.mac, spa: A.ip, tpa: US.ip, dst: US.mac });
    const toGroup = arpFrame({
      op: 'request',
      sha: A.mac,
      spa: A.ip,
      tpa: US.ip,
      dst: '01:00:5e:00:00:01',
    });
    const padded = new Uint8Array(60);
    padded.set(whoHas(A, US.ip));
    for (const frame of [toUs, whoHas(A, US.ip), toGroup, padded]) {
      const { seen, moved } = receive(engine, 10, frame);
      assert.deepEqual(seen.at(-1), expectReply(US, A));
      assert.equal(moved.received, 1);
      assert.equal(moved.txreplies, 1);
    }
  });
});

describe('arpintr: the checks common to every protocol (l.579-618)', () => {
  it('logs and drops a packet shorter than the fixed ARP header', () => {
    const { engine } = makeHost();
    const frame = whoHas(A, US.ip).subarray(0, ETHERNET_HEADER_LEN + 7);
    assert.deepEqual(receive(engine, 10, frame), {
      seen: [logLine('err', 'arp: runt packet -- m_pullup failed')],
      moved: { received: 1, rxRuntHeader: 1 },
    });
  });

  it('logs and drops an unknown hardware address format', () => {
    const { engine } = makeHost();
    const frame = arpFrame({ op: 'request', sha: A.mac, spa: A.ip, tpa: US.ip, hardwareType: 2 });
    assert.deepEqual(receive(engine, 10, frame), {
      seen: [logLine('err', 'arp: unknown hardware address format (0x0002)')],
      moved: { received: 1, rxUnknownHardware: 1 },
    });
  });

  it('accepts IEEE 802 hardware (6) and answers in kind', () => {
    const { engine } = makeHost();
    const frame = arpFrame({
      op: 'request',
      sha: A.mac,
      spa: A.ip,
      tpa: US.ip,
      hardwareType: ArpHardware.Ieee802,
    });
    const { seen } = receive(engine, 10, frame);
    assert.deepEqual(seen.at(-1), expectReply(US, A, { hrd: ArpHardware.Ieee802 }));
  });

  it('logs and drops a packet shorter than its hln and pln say', () => {
    const { engine } = makeHost();
    for (const frame of [
      whoHas(A, US.ip).subarray(0, ETHERNET_HEADER_LEN + 27),
      rawArp({ hln: 16, pln: 4, addresses: '00'.repeat(20) }), // needs 48, has 28
    ]) {
      assert.deepEqual(receive(engine, 10, frame), {
        seen: [logLine('err', 'arp: runt packet')],
        moved: { received: 1, rxRuntAddresses: 1 },
      });
    }
  });

  it('drops a protocol other than IPv4 without a word', () => {
    const { engine } = makeHost();
    const frame = rawArp({ pro: 0x86dd, hln: 6, pln: 4, addresses: '00'.repeat(20) });
    assert.deepEqual(receive(engine, 10, frame), {
      seen: [],
      moved: { received: 1, rxNotIpv4: 1 },
    });
  });
});

describe('in_arpinput: sanity checks', () => {
  it('logs and drops a packet shorter than an Ethernet/IPv4 ARP packet', () => {
    const { engine } = makeHost();
    // hln 2 and pln 4 pass arpintr (8 + 12 bytes) but not in_arpinput's 28.
    const frame = rawArp({ hln: 2, pln: 4, addresses: '0a0a c000020a 0000 c0000201' });
    assert.deepEqual(receive(engine, 10, frame), {
      seen: [logLine('err', 'in_arp: runt packet -- m_pullup failed')],
      moved: { received: 1, rxRuntInet: 1 },
    });
  });

  it('drops a protocol address length other than 4 (rxBadProtocolLength)', () => {
    const { engine } = makeHost();
    const frame = rawArp({ hln: 6, pln: 16, addresses: '00'.repeat(44) });
    assert.deepEqual(receive(engine, 10, frame), {
      seen: [],
      moved: { received: 1, rxBadProtocolLength: 1 },
    });
  });

  it('ignores its own frames looped back (rxFromMe)', () => {
    const { engine } = makeHost();
    assert.deepEqual(receive(engine, 10, whoHas(US, A.ip)), {
      seen: [],
      moved: { received: 1, rxrequests: 1, rxFromMe: 1 },
    });
  });

  it('rejects a broadcast sender hardware address', () => {
    const { engine } = makeHost();
    const frame = whoHas({ mac: BROADCAST, ip: A.ip }, US.ip);
    assert.deepEqual(receive(engine, 10, frame), {
      seen: [logLine('err', 'arp: link address is broadcast for IP address 192.0.2.10!')],
      moved: { received: 1, rxrequests: 1, rxBroadcastSender: 1 },
    });
    assert.equal(engine.lookup(s(10), A.ip), undefined);
  });

  it('logs a station using my IP address, counts it, and defends with a unicast reply', () => {
    const { engine } = makeHost();
    const impostor: Station = { mac: A.mac, ip: US.ip };
    // A gratuitous request claiming 192.0.2.1: target and sender are both my address.
    assert.deepEqual(receive(engine, 10, whoHas(impostor, US.ip)), {
      seen: [
        logLine('err', 'arp: 02:00:00:00:00:0a is using my IP address 192.0.2.1!'),
        // itaddr = myaddr, then the ordinary reply: to the impostor, telling my MAC.
        expectReply(US, impostor),
      ],
      moved: { received: 1, rxrequests: 1, dupips: 1, txreplies: 1 },
    });
    // A reply claiming it is logged and counted, not answered.
    const claim = arpFrame({ op: 'reply', sha: A.mac, spa: US.ip, tha: BROADCAST, tpa: US.ip });
    assert.deepEqual(receive(engine, 11, claim), {
      seen: [logLine('err', 'arp: 02:00:00:00:00:0a is using my IP address 192.0.2.1!')],
      moved: { received: 1, rxreplies: 1, dupips: 1 },
    });
    assert.equal(engine.lookup(s(11), US.ip)?.state, 'local');
    assert.equal(engine.lookup(s(11), US.ip)?.mac, US.mac);
  });

  it('matches the sender against my addresses when the target is not mine (step 2)', () => {
    const { engine } = makeHost();
    // Sender 192.0.2.1 (mine) asking for B: myaddr becomes the sender, so it is a duplicate.
    const frame = whoHas({ mac: A.mac, ip: US.ip }, B.ip);
    assert.deepEqual(receive(engine, 10, frame), {
      seen: [
        logLine('err', 'arp: 02:00:00:00:00:0a is using my IP address 192.0.2.1!'),
        expectReply(US, { mac: A.mac, ip: US.ip }),
      ],
      moved: { received: 1, rxrequests: 1, dupips: 1, txreplies: 1 },
    });
  });

  it('falls back to the first address of the receiving interface, and drops without one', () => {
    const { engine, eth0, eth1 } = makeHost({ twoInterfaces: true });
    // The target is eth1's address but the request came in on eth0: no match, no reply.
    assert.deepEqual(receive(engine, 10, whoHas(A, US1.ip), eth0), {
      seen: [],
      moved: { received: 1, rxrequests: 1, rxNotOurs: 1 },
    });
    assert.equal(engine.lookup(s(10), A.ip), undefined, 'not the target: nothing learned');
    engine.removeAddress(s(10), 'eth1', US1.ip);
    assert.deepEqual(receive(engine, 10, whoHas(C, US1.ip), eth1), {
      seen: [],
      moved: { received: 1, rxrequests: 1, rxNoAddress: 1 },
    });
  });
});

describe('in_arpinput: CARP addresses (step 0)', () => {
  const vmac = '00:00:5e:00:01:07';
  const VIP = '192.0.2.100';

  function carpHost(state: 'master' | 'backup'): { engine: Engine; parent: number } {
    const { engine, eth0 } = makeHost();
    engine.addInterface({ name: 'carp0', carp: { parent: 'eth0', vhid: 7, state } });
    engine.addAddress(0, 'carp0', `${VIP}/24`);
    return { engine, parent: eth0 };
  }

  it('the master answers with the virtual MAC; the copy on the parent is dropped', () => {
    const { engine, parent } = carpHost('master');
    const { seen, moved } = receive(engine, 10, whoHas(A, VIP), parent);
    assert.deepEqual(seen, [
      // The sender's entry is cloned from the subnet route, which is eth0's. Differs from
      // if_ether.c: the seed's learning half would call carp0 the wrong interface (l.691) and
      // refuse; netarp treats a CARP interface and its parent as one link and learns.
      routeEvent('add', A.ip, 'learned'),
      routeEvent('resolve', A.ip, 'learned', A.mac),
      expectReply({ mac: vmac, ip: VIP }, A, { on: 'carp0' }),
    ]);
    assert.equal(engine.lookup(s(10), A.ip)?.ifName, 'eth0');
    // The frame is received twice, by carp0 and by its parent, as in the seed.
    assert.deepEqual(moved, {
      received: 2,
      rxrequests: 2,
      rxCarpParentCopy: 1,
      txreplies: 1,
    });
  });

  it('the backup stays silent', () => {
    const { engine, parent } = carpHost('backup');
    assert.deepEqual(receive(engine, 10, whoHas(A, VIP), parent), {
      seen: [],
      moved: { received: 1, rxrequests: 1, rxNotOurs: 1 },
    });
  });

  it('on the wire, the reply leaves the parent port from the virtual MAC', () => {
    const world = new World();
    world.addSegment('lan');
    world.addHost('r', [
      { name: 'em0', mac: mac(US.mac), segment: 'lan', addresses: [`${US.ip}/24`] },
      { name: 'carp0', carp: { parent: 'em0', vhid: 7 }, addresses: [`${VIP}/24`] },
    ]);
    world.addHost('a', [
      { name: 'eth0', mac: mac(A.mac), segment: 'lan', addresses: [`${A.ip}/24`] },
    ]);
    const frames: unknown[] = [];
    world.onTrace = (record) => {
      if (record.kind === 'frame' && record.frame[13] === 0x06) {
        frames.push(decodeArpFrame(record.frame, record.from));
      }
    };
    world.runUntil(s(10));
    world.ping('a', ip(VIP));
    world.runUntil(s(11));
    assert.deepEqual(frames, [
      expectRequest(A, VIP, { on: 'a/eth0' }),
      expectReply({ mac: vmac, ip: VIP }, A, { on: 'r/em0' }),
    ]);
  });
});

describe('in_arpinput: bridges (steps 1 and 2, and arp_update_oncpu l.691-734)', () => {
  const BRIDGE_MAC = '02:00:00:00:0b:00';
  const EM0_MAC = '02:00:00:00:0e:00';
  const EM1_MAC = '02:00:00:00:0e:01';
  const ME = '203.0.113.1';
  const X: Station = { mac: '02:00:00:00:0c:0c', ip: '203.0.113.12' };

  /** bridge0 with ports em0 and em1; our address on `addressOn`. */
  function bridged(addressOn: 'bridge0' | 'em0', config: Record<string, number> = {}) {
    const { engine } = makeHost({ config });
    const bridge0 = engine.addInterface({ name: 'bridge0', kind: 'bridge', mac: mac(BRIDGE_MAC) });
    const em0 = engine.addInterface({ name: 'em0', mac: mac(EM0_MAC), bridge: 'bridge0' });
    const em1 = engine.addInterface({ name: 'em1', mac: mac(EM1_MAC), bridge: 'bridge0' });
    engine.addAddress(0, addressOn, `${ME}/24`);
    return { engine, bridge0, em0, em1 };
  }

  it('answers as the bridge when the port that heard it and the address share a bridge', () => {
    const { engine, em1 } = bridged('em0');
    const { seen } = receive(engine, 10, whoHas(X, ME), em1);
    assert.deepEqual(seen.at(-1), expectReply({ mac: BRIDGE_MAC, ip: ME }, X, { on: 'bridge0' }));
  });

  it('answers on the bridge when the address is on one of its ports', () => {
    const { engine, bridge0 } = bridged('em0');
    const { seen } = receive(engine, 10, whoHas(X, ME), bridge0);
    assert.deepEqual(seen.at(-1), expectReply({ mac: BRIDGE_MAC, ip: ME }, X, { on: 'bridge0' }));
  });

  it("answers on the port, with the port's MAC, when the address is the bridge's", () => {
    const { engine, em0 } = bridged('bridge0');
    const { seen } = receive(engine, 10, whoHas(X, ME), em0);
    assert.deepEqual(seen.at(-1), expectReply({ mac: EM0_MAC, ip: ME }, X, { on: 'em0' }));
  });

  it('moves an entry to the bridge in the three bridge cases, logging only with level 2', () => {
    // [address on, entry first made on, frame heard on, entry ends on]
    const cases = [
      // (1) both ports of the same bridge
      ['bridge0', 'em0', 'em1', 'bridge0'],
      // (2) the entry's interface is a port of the bridge that heard it
      ['bridge0', 'em0', 'bridge0', 'bridge0'],
      // (3) the port that heard it belongs to the entry's bridge
      ['bridge0', 'bridge0', 'em0', 'bridge0'],
      // (1) again with the address on a port: the seed logs the port it was heard on
      ['em0', 'em0', 'em1', 'bridge0'],
    ] as const;
    for (const level of [0, 1, 2]) {
      for (const [addressOn, entryOn, heardOn, endsOn] of cases) {
        const label = `level ${level}: address on ${addressOn}, entry on ${entryOn}, heard on ${heardOn}`;
        const host = bridged(addressOn, { log_arp_wrong_iface: level });
        const { engine } = host;
        engine.resolve(s(10), ip(X.ip), packet('p'), host[entryOn]);
        assert.equal(engine.lookup(s(10), X.ip)?.ifName, entryOn, label);
        const { seen, moved } = receive(
          engine,
          10,
          isAt(X, { mac: BRIDGE_MAC, ip: ME }),
          host[heardOn],
        );
        const wrongIface = `arp: ${X.ip} is on ${entryOn} but got reply from ${X.mac} on ${heardOn}`;
        assert.deepEqual(
          seen.filter((o) => o.kind === 'log'),
          level === 2 ? [logLine('err', wrongIface)] : [],
          label,
        );
        assert.equal(moved.rxWrongInterface, undefined, label);
        const entry = engine.lookup(s(10), X.ip);
        assert.equal(entry?.ifName, endsOn, label);
        assert.equal(entry?.state, 'resolved', label);
        assert.equal(entry?.mac, X.mac, label);
      }
    }
  });
});

describe('in_arpinput: who learns what', () => {
  it('creates an entry only when the request is for me', () => {
    const { engine } = makeHost();
    assert.deepEqual(receive(engine, 10, whoHas(A, B.ip)), {
      seen: [],
      moved: { received: 1, rxrequests: 1, rxNotOurs: 1 },
    });
    assert.equal(engine.lookup(s(10), A.ip), undefined);
    assert.deepEqual(receive(engine, 10, whoHas(A, US.ip)), {
      seen: [
        routeEvent('add', A.ip, 'learned'),
        routeEvent('resolve', A.ip, 'learned', A.mac),
        expectReply(US, A),
      ],
      moved: { received: 1, rxrequests: 1, txreplies: 1 },
    });
    assert.equal(engine.lookup(s(10), A.ip)?.expiresIn, 1200);
  });

  it('refreshes an existing entry from traffic not meant for me', () => {
    const { engine } = hostKnowingA();
    assert.equal(engine.lookup(s(500), A.ip)?.expiresIn, 710);
    assert.deepEqual(receive(engine, 500, whoHas(A, B.ip)).seen, []);
    assert.equal(engine.lookup(s(500), A.ip)?.expiresIn, 1200);
  });

  it('restricted_match ignores ARP not targeted at me: no refresh and no proxy reply', () => {
    const { engine } = hostKnowingA({ restricted_match: 1 });
    engine.addEntry(s(10), { ip: ip(B.ip), mac: mac(B.mac), pub: true });
    assert.deepEqual(receive(engine, 500, whoHas(A, B.ip)), {
      seen: [],
      moved: { received: 1, rxrequests: 1, rxRestricted: 1 },
    });
    assert.equal(engine.lookup(s(500), A.ip)?.expiresIn, 710, 'not refreshed');
    // Targeted at me it is business as usual.
    assert.deepEqual(receive(engine, 500, whoHas(A, US.ip)).seen, [expectReply(US, A)]);
    assert.equal(engine.lookup(s(500), A.ip)?.expiresIn, 1200);
  });

  it('a STATICARP interface never learns but still replies', () => {
    const { engine } = makeHost();
    engine.setInterfaceFlags('eth0', { staticarp: true });
    engine.addEntry(s(10), { ip: ip(B.ip), mac: mac(B.mac) });
    assert.deepEqual(receive(engine, 10, whoHas(A, US.ip)), {
      seen: [expectReply(US, A)],
      moved: { received: 1, rxrequests: 1, txreplies: 1 },
    });
    assert.equal(engine.lookup(s(10), A.ip), undefined);
    // Not even a permanent entry's conflict is looked at.
    const fromNewB = whoHas({ mac: A_NEW_MAC, ip: B.ip }, US.ip);
    assert.deepEqual(receive(engine, 11, fromNewB).seen, [
      expectReply(US, { mac: A_NEW_MAC, ip: B.ip }),
    ]);
    assert.equal(engine.lookup(s(11), B.ip)?.mac, B.mac);
  });

  it('ignores ARP for an entry on another interface, logging per log_arp_wrong_iface', () => {
    for (const level of [0, 1, 2]) {
      const { engine, eth0, eth1 } = makeHost({
        twoInterfaces: true,
        config: { log_arp_wrong_iface: level },
      });
      engine.resolve(s(10), ip(C.ip), packet('p'));
      engine.handleFrame(s(10), eth1, isAt(C, US1));
      const fromCOnEth0 = arpFrame({
        op: 'reply',
        sha: A_NEW_MAC,
        spa: C.ip,
        tha: US.mac,
        tpa: US.ip,
      });
      const wrongIface = `arp: 198.51.100.12 is on eth1 but got reply from ${A_NEW_MAC} on eth0`;
      assert.deepEqual(
        receive(engine, 11, fromCOnEth0, eth0),
        {
          seen: level === 0 ? [] : [logLine('err', wrongIface)],
          moved: { received: 1, rxreplies: 1, rxWrongInterface: 1 },
        },
        `level ${level}`,
      );
      assert.equal(engine.lookup(s(11), C.ip)?.mac, C.mac);
      assert.equal(engine.lookup(s(11), C.ip)?.ifName, 'eth1');
    }
  });

  it('updates a dynamic entry whose MAC changed, logging the move per log_arp_movements', () => {
    for (const logging of [1, 0]) {
      const { engine } = hostKnowingA({ log_arp_movements: logging });
      const moved = logLine('info', `arp: 192.0.2.10 moved from ${A.mac} to ${A_NEW_MAC} on eth0`);
      const { seen } = receive(engine, 20, isAt({ mac: A_NEW_MAC, ip: A.ip }, US));
      assert.deepEqual(seen, [
        ...(logging ? [moved] : []),
        routeEvent('change', A.ip, 'moved', A_NEW_MAC),
      ]);
      assert.equal(engine.lookup(s(20), A.ip)?.mac, A_NEW_MAC);
      assert.equal(engine.lookup(s(20), A.ip)?.expiresIn, 1200);
    }
  });

  it('refuses to change a permanent entry, logging per log_arp_permanent_modify', () => {
    for (const logging of [1, 0]) {
      const { engine } = makeHost({ config: { log_arp_permanent_modify: logging } });
      engine.addEntry(s(1), { ip: ip(A.ip), mac: mac(A.mac) });
      const attempt = logLine(
        'err',
        `arp: ${A_NEW_MAC} attempts to modify permanent entry for 192.0.2.10 on eth0`,
      );
      assert.deepEqual(receive(engine, 20, isAt({ mac: A_NEW_MAC, ip: A.ip }, US)), {
        seen: logging ? [attempt] : [],
        moved: { received: 1, rxreplies: 1, rxPermanentModify: 1 },
      });
      assert.equal(engine.lookup(s(20), A.ip)?.mac, A.mac);
      assert.equal(engine.lookup(s(20), A.ip)?.state, 'permanent');
    }
  });

  it('ignores a hardware address length other than 6, with both warnings', () => {
    const { engine } = hostKnowingA();
    // hln 8: sender A's MAC and two more bytes, then a request for me.
    const frame = rawArp({
      hln: 8,
      pln: 4,
      op: 1,
      addresses: '02000000000a0000 c000020a 0000000000000000 c0000201',
    });
    assert.deepEqual(receive(engine, 500, frame), {
      seen: [
        logLine('warning', 'arp from 02:00:00:00:00:0a: new addr len 8, was 6'),
        logLine('warning', 'arp from 02:00:00:00:00:0a: addr len: new 8, i/f 6 (ignored)'),
      ],
      // Differs from if_ether.c (see input.ts): no reply shaped like an 8-byte request.
      moved: { received: 1, rxrequests: 1, rxAddressLength: 1, rxUnanswerableLength: 1 },
    });
    assert.equal(engine.lookup(s(500), A.ip)?.expiresIn, 710, 'not refreshed');
  });

  it('gives the first warning only when the entry already has an address', () => {
    const { engine } = makeHost();
    engine.resolve(s(10), ip(A.ip), packet('p'));
    const frame = rawArp({
      hln: 8,
      pln: 4,
      op: 2,
      addresses: '02000000000a0000 c000020a 0200000000010000 c0000201',
    });
    frame.set(fromHex(US.mac.replaceAll(':', '')), 0); // unicast to me, as a reply is
    assert.deepEqual(receive(engine, 10, frame), {
      seen: [logLine('warning', 'arp from 02:00:00:00:00:0a: addr len: new 8, i/f 6 (ignored)')],
      moved: { received: 1, rxreplies: 1, rxAddressLength: 1 },
    });
    assert.equal(engine.lookup(s(10), A.ip)?.state, 'incomplete');
  });

  it('the learned MAC releases what was held for it', () => {
    const { engine } = makeHost();
    engine.resolve(s(10), ip(A.ip), packet('p1'));
    // A request from A for me resolves A as well as a reply would.
    assert.deepEqual(receive(engine, 10, whoHas(A, US.ip)).seen, [
      routeEvent('resolve', A.ip, 'learned', A.mac),
      expectDelivered('p1', A),
      expectReply(US, A),
    ]);
  });
});
