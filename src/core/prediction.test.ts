/**
 * The shortcuts of ARP input (input.ts) agree with the seed's checks taken one by one. On an
 * engine without bridges and CARP interfaces, `predictedInput` handles the frame of a known
 * neighbour asking for or answering us in one pass, and `commonArpInput` skips the checks a
 * well-formed Ethernet/IPv4 ARP frame passes; an engine with a bridge takes neither. So the
 * same engine twice, once with an idle bridge added (no members, no addresses: it changes
 * nothing the seed would do), must give the same outputs, counters and table for every frame.
 * The frames are drawn around the predicted case: each field either the common value or one
 * that sends the frame down another branch.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type Ipv4, type Mac, writeIpv4, writeMac } from '../wire/addr.ts';
import { Engine } from './engine.ts';

const OUR_MAC: Mac = 0x02_00_00_00_00_01;
const OUR_MAC_1: Mac = 0x02_00_00_00_01_01;
const OUR_IP: Ipv4 = 0xc0_00_02_01; // 192.0.2.1/24 on eth0
const OUR_IP_2: Ipv4 = 0x0a_00_00_01; // 10.0.0.1/16, eth0's second address
const OUR_IP_1: Ipv4 = 0xc6_33_64_01; // 198.51.100.1/24 on eth1
/** Neighbours: index i is 192.0.2.10 + i with MAC 02:00:00:00:00:(0x10 + i). */
const NEIGHBOURS = 6;
const neighbourIp = (i: number): Ipv4 => OUR_IP + 9 + i;
const neighbourMac = (i: number): Mac => 0x02_00_00_00_00_10 + i;
const PUBLISHED_IP: Ipv4 = 0xc0_00_02_c8; // 192.0.2.200, arp -s ... pub
const PROXY_IP: Ipv4 = 0xc0_00_02_c9; // 192.0.2.201, arp -s ... pub only

/** The knobs the shortcuts depend on. */
interface Setup {
  readonly accept: number;
  readonly arpwatch: number;
  readonly restrictedMatch: number;
  readonly proxyall: number;
  readonly locktime: number;
  readonly staticarp: boolean;
  readonly noarp: boolean;
  readonly secondAddress: boolean;
}

/** An engine as `setup` says, a few neighbours learned, with an idle bridge or without. */
function makeEngine(setup: Setup, withBridge: boolean): Engine {
  const engine = new Engine({
    config: {
      accept: setup.accept,
      arpwatch: setup.arpwatch,
      restricted_match: setup.restrictedMatch,
      proxyall: setup.proxyall,
      locktime: setup.locktime,
    },
  });
  engine.addInterface({ name: 'eth0', mac: OUR_MAC });
  engine.addInterface({ name: 'eth1', mac: OUR_MAC_1 });
  if (withBridge) engine.addInterface({ name: 'br0', kind: 'bridge', mac: 0x02_00_00_00_0b_00 });
  engine.addAddress(1000, 'eth0', '192.0.2.1/24');
  if (setup.secondAddress) engine.addAddress(1000, 'eth0', '10.0.0.1/16');
  engine.addAddress(1000, 'eth1', '198.51.100.1/24');
  engine.addEntry(1000, { ip: PUBLISHED_IP, mac: 0x02_00_00_00_00_c8, pub: true });
  engine.addEntry(1000, { ip: PROXY_IP, mac: 0x02_00_00_00_00_c9, pub: true, only: true });
  // Half the neighbours are known (learned from their replies), the rest are not.
  for (let i = 0; i < NEIGHBOURS / 2; i++) {
    engine.handleFrame(1000, 0, frameOf(defaultFields(i, 2)));
  }
  engine.setInterfaceFlags('eth0', { staticarp: setup.staticarp, noarp: setup.noarp });
  return engine;
}

/** The fields of one received frame. */
interface Fields {
  ethernetDestination: Mac;
  etherType: number;
  hardwareType: number;
  protocolType: number;
  hardwareLen: number;
  protocolLen: number;
  operation: number;
  senderMac: Mac;
  senderIp: Ipv4;
  targetMac: Mac;
  targetIp: Ipv4;
  /** Bytes of the frame (it is cut or zero-padded to this). */
  length: number;
  /** The Ethernet source (not looked at by ARP). */
  ethernetSource: Mac;
}

/** A request (operation 1) or reply (2) from neighbour `i` to us on eth0. */
function defaultFields(i: number, operation: number): Fields {
  return {
    ethernetDestination: operation === 1 ? 0xffff_ffff_ffff : OUR_MAC,
    etherType: 0x0806,
    hardwareType: 1,
    protocolType: 0x0800,
    hardwareLen: 6,
    protocolLen: 4,
    operation,
    senderMac: neighbourMac(i),
    senderIp: neighbourIp(i),
    targetMac: operation === 1 ? 0 : OUR_MAC,
    targetIp: OUR_IP,
    length: 42,
    ethernetSource: neighbourMac(i),
  };
}

/** The frame's bytes. hln and pln other than 6 and 4 shift the later fields, as on the wire. */
function frameOf(f: Fields): Uint8Array {
  const bytes = new Uint8Array(Math.max(f.length, 14 + 8 + 2 * f.hardwareLen + 2 * f.protocolLen));
  writeMac(bytes, 0, f.ethernetDestination);
  writeMac(bytes, 6, f.ethernetSource);
  bytes[12] = f.etherType >>> 8;
  bytes[13] = f.etherType & 0xff;
  bytes[14] = f.hardwareType >>> 8;
  bytes[15] = f.hardwareType & 0xff;
  bytes[16] = f.protocolType >>> 8;
  bytes[17] = f.protocolType & 0xff;
  bytes[18] = f.hardwareLen;
  bytes[19] = f.protocolLen;
  bytes[20] = f.operation >>> 8;
  bytes[21] = f.operation & 0xff;
  const sha = 22;
  const spa = sha + f.hardwareLen;
  const tha = spa + f.protocolLen;
  const tpa = tha + f.hardwareLen;
  const scratch = new Uint8Array(8);
  const put = (offset: number, length: number, value: Uint8Array): void => {
    bytes.set(value.subarray(0, Math.min(length, value.length)), offset);
  };
  writeMac(scratch, 0, f.senderMac);
  put(sha, f.hardwareLen, scratch);
  writeIpv4(scratch, 0, f.senderIp);
  put(spa, f.protocolLen, scratch.subarray(0, 4));
  writeMac(scratch, 0, f.targetMac);
  put(tha, f.hardwareLen, scratch);
  writeIpv4(scratch, 0, f.targetIp);
  put(tpa, f.protocolLen, scratch.subarray(0, 4));
  return bytes.subarray(0, f.length);
}

/** The common value of a field most of the time, else one of the others. */
function mostly<T>(common: T, ...others: T[]): fc.Arbitrary<T> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constant(common) },
    { weight: 1, arbitrary: fc.constantFrom(...others) },
  );
}

/** One frame: a neighbour, an operation, and each field either as usual or changed. */
const frameArbitrary: fc.Arbitrary<{ ifIndex: number; fields: Fields; advanceMs: number }> = fc
  .record({
    neighbour: fc.integer({ min: 0, max: NEIGHBOURS - 1 }),
    operation: mostly(1, 2, 3, 0x0101),
    ifIndex: mostly(0, 1),
    destination: mostly<'usual' | Mac>(
      'usual',
      0xffff_ffff_ffff,
      OUR_MAC,
      OUR_MAC_1,
      0x01_00_5e_00_00_01,
      0x02_00_00_00_00_99,
    ),
    etherType: mostly(0x0806, 0x0800, 0x0807),
    hardwareType: mostly(1, 6, 0x0101, 2),
    protocolType: mostly(0x0800, 0x0806, 0x0801),
    hardwareLen: mostly(6, 8, 4, 0),
    protocolLen: mostly(4, 6, 0),
    senderMac: mostly<'usual' | 'other' | Mac>(
      'usual',
      'other',
      OUR_MAC,
      OUR_MAC_1,
      0xffff_ffff_ffff,
      0x01_00_5e_00_00_01,
      0x03_00_00_00_00_10,
    ),
    senderIp: mostly<'usual' | Ipv4>(
      'usual',
      0,
      0xffff_ffff,
      0xe0_00_00_01,
      0xf0_00_00_01,
      OUR_IP,
      OUR_IP_2,
      OUR_IP_2 + 7,
      OUR_IP_1 + 5,
      0x08_08_08_08,
      PUBLISHED_IP,
    ),
    targetIp: mostly<Ipv4>(
      OUR_IP,
      OUR_IP_2,
      OUR_IP_1,
      PUBLISHED_IP,
      PROXY_IP,
      neighbourIp(1),
      0xc0_00_02_63,
      0x08_08_08_08,
    ),
    length: mostly(42, 60, 41, 28, 13, 20),
    advanceMs: fc.constantFrom(0, 1, 300, 1000, 60_000, 1_300_000),
  })
  .map((r) => {
    const fields = defaultFields(r.neighbour, r.operation);
    if (r.destination !== 'usual') fields.ethernetDestination = r.destination;
    if (r.senderMac === 'other') fields.senderMac = neighbourMac((r.neighbour + 1) % NEIGHBOURS);
    else if (r.senderMac !== 'usual') fields.senderMac = r.senderMac;
    if (r.senderIp !== 'usual') fields.senderIp = r.senderIp;
    fields.etherType = r.etherType;
    fields.hardwareType = r.hardwareType;
    fields.protocolType = r.protocolType;
    fields.hardwareLen = r.hardwareLen;
    fields.protocolLen = r.protocolLen;
    fields.targetIp = r.targetIp;
    fields.length = r.length;
    return { ifIndex: r.ifIndex, fields, advanceMs: r.advanceMs };
  });

const setupArbitrary: fc.Arbitrary<Setup> = fc.record({
  accept: mostly(0, 1, 2),
  arpwatch: mostly(0, 1),
  restrictedMatch: mostly(0, 1),
  proxyall: mostly(0, 1),
  locktime: mostly(0, 5000),
  staticarp: mostly(false, true),
  noarp: mostly(false, true),
  secondAddress: mostly(false, true),
});

describe('ARP input shortcuts', () => {
  it('give the outputs, counters and table of the checks taken one by one', () => {
    fc.assert(
      fc.property(setupArbitrary, fc.array(frameArbitrary, { maxLength: 30 }), (setup, frames) => {
        const plain = makeEngine(setup, false);
        const bridged = makeEngine(setup, true);
        let now = 2000;
        for (const { ifIndex, fields, advanceMs } of frames) {
          now += advanceMs;
          const bytes = frameOf(fields);
          const expected = bridged.handleFrame(now, ifIndex, bytes.slice());
          assert.deepEqual(plain.handleFrame(now, ifIndex, bytes.slice()), expected);
          assert.deepEqual(plain.stats(), bridged.stats());
          assert.deepEqual(plain.listEntries(now), bridged.listEntries(now));
        }
      }),
      { numRuns: 400 },
    );
  });

  it('take the predicted frame, and count it as the checks would', () => {
    // A request from a known neighbour for our address: answered, its entry refreshed.
    const setup: Setup = {
      accept: 0,
      arpwatch: 0,
      restrictedMatch: 0,
      proxyall: 0,
      locktime: 0,
      staticarp: false,
      noarp: false,
      secondAddress: false,
    };
    const plain = makeEngine(setup, false);
    const bridged = makeEngine(setup, true);
    const bytes = frameOf(defaultFields(0, 1));
    const outputs = plain.handleFrame(500_000, 0, bytes);
    assert.deepEqual(outputs, bridged.handleFrame(500_000, 0, bytes));
    assert.equal(outputs.length, 1);
    assert.equal(outputs[0]?.kind, 'transmit');
    const stats = plain.stats();
    assert.equal(stats.received, 1 + NEIGHBOURS / 2);
    assert.equal(stats.rxrequests, 1);
    assert.equal(stats.txreplies, 1);
    assert.deepEqual(stats, bridged.stats());
    const entry = plain.lookup(500_000, neighbourIp(0));
    assert.equal(entry?.expiresIn, 1200, 'refreshed for another max_age');
  });
});
