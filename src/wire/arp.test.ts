import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAC_BROADCAST, MAC_ZERO, parseIpv4, parseMac } from './addr.ts';
import {
  ARP_ETHER_IPV4_LEN,
  ARP_FIXED_HEADER_LEN,
  ArpHardware,
  ArpOp,
  ArpPacket,
  type ArpRepr,
  arpPacketLength,
  emitArp,
  parseArp,
} from './arp.ts';
import { buildEthernetFrame, ETHERNET_HEADER_LEN, EtherType } from './ethernet.ts';

function fromHex(text: string): Uint8Array {
  return Uint8Array.from(text.replace(/\s+/g, '').match(/../g) ?? [], (b) => parseInt(b, 16));
}

const US = { mac: parseMac('02:00:00:00:00:01'), ip: parseIpv4('10.0.0.1') };
const HOST0 = { mac: parseMac('02:00:0a:00:00:02'), ip: parseIpv4('10.0.0.2') };
const HOST1 = { mac: parseMac('02:00:0a:00:00:03'), ip: parseIpv4('10.0.0.3') };

/** The benchmark's frames (bench/WORKLOADS.md), each with the ARP packet it carries. */
const GOLDEN: { name: string; frame: Uint8Array; repr: ArpRepr }[] = [
  {
    name: 'request from host 0 for 10.0.0.1',
    frame: fromHex(
      'ffffffffffff 02000a000002 0806 0001 0800 06 04 0001 02000a000002 0a000002 000000000000 0a000001',
    ),
    repr: {
      hardwareType: ArpHardware.Ethernet,
      operation: ArpOp.Request,
      senderMac: HOST0.mac,
      senderIp: HOST0.ip,
      targetMac: MAC_ZERO,
      targetIp: US.ip,
    },
  },
  {
    name: 'reply to host 0',
    frame: fromHex(
      '02000a000002 020000000001 0806 0001 0800 06 04 0002 020000000001 0a000001 02000a000002 0a000002',
    ),
    repr: {
      hardwareType: ArpHardware.Ethernet,
      operation: ArpOp.Reply,
      senderMac: US.mac,
      senderIp: US.ip,
      targetMac: HOST0.mac,
      targetIp: HOST0.ip,
    },
  },
  {
    name: 'reply from host 1',
    frame: fromHex(
      '020000000001 02000a000003 0806 0001 0800 06 04 0002 02000a000003 0a000003 020000000001 0a000001',
    ),
    repr: {
      hardwareType: ArpHardware.Ethernet,
      operation: ArpOp.Reply,
      senderMac: HOST1.mac,
      senderIp: HOST1.ip,
      targetMac: US.mac,
      targetIp: US.ip,
    },
  },
  {
    name: 'request on a miss for 10.0.128.1',
    frame: fromHex(
      'ffffffffffff 020000000001 0806 0001 0800 06 04 0001 020000000001 0a000001 000000000000 0a008001',
    ),
    repr: {
      hardwareType: ArpHardware.Ethernet,
      operation: ArpOp.Request,
      senderMac: US.mac,
      senderIp: US.ip,
      targetMac: MAC_ZERO,
      targetIp: parseIpv4('10.0.128.1'),
    },
  },
];

/** A packet with the given fixed header and zeroed addresses of the lengths it declares. */
function packetWith(hardwareType: number, protocolType: number, hln: number, pln: number, op = 1) {
  const bytes = new Uint8Array(arpPacketLength(hln, pln));
  bytes.set([hardwareType >>> 8, hardwareType & 0xff, protocolType >>> 8, protocolType & 0xff]);
  bytes.set([hln, pln, op >>> 8, op & 0xff], 4);
  return bytes;
}

function checked(bytes: Uint8Array, offset = 0): ArpPacket {
  const packet = ArpPacket.checked(bytes, offset);
  assert.ok(packet instanceof ArpPacket, `expected a packet, got ${JSON.stringify(packet)}`);
  return packet;
}

describe('ARP golden bytes', () => {
  for (const { name, frame, repr } of GOLDEN) {
    it(`parses the ${name}`, () => {
      assert.equal(frame.length, 42);
      const packet = checked(frame, ETHERNET_HEADER_LEN);
      assert.equal(packet.hardwareType, 1);
      assert.equal(packet.protocolType, 0x0800);
      assert.equal(packet.hardwareLen, 6);
      assert.equal(packet.protocolLen, 4);
      assert.deepEqual(parseArp(packet), repr);
      // The same packet seen through a subarray instead of an offset.
      assert.deepEqual(parseArp(checked(frame.subarray(ETHERNET_HEADER_LEN))), repr);
    });

    it(`emits the ${name}`, () => {
      const payload = new Uint8Array(ARP_ETHER_IPV4_LEN);
      emitArp(payload, 0, repr);
      const header = {
        destination: repr.operation === ArpOp.Request ? MAC_BROADCAST : repr.targetMac,
        source: repr.senderMac,
        etherType: EtherType.Arp,
      };
      assert.deepEqual(buildEthernetFrame(header, payload), frame);
    });
  }

  it('emits at an offset without touching the bytes around it', () => {
    const bytes = new Uint8Array(ETHERNET_HEADER_LEN + ARP_ETHER_IPV4_LEN + 1).fill(0xee);
    const golden = GOLDEN[0]!;
    emitArp(bytes, ETHERNET_HEADER_LEN, golden.repr);
    assert.deepEqual(bytes.subarray(ETHERNET_HEADER_LEN, -1), golden.frame.subarray(14));
    assert.ok(bytes.subarray(0, ETHERNET_HEADER_LEN).every((b) => b === 0xee));
    assert.equal(bytes.at(-1), 0xee);
  });
});

describe('ARP length checks (arpintr runt checks)', () => {
  const payload = GOLDEN[0]!.frame.subarray(ETHERNET_HEADER_LEN);

  it('rejects every truncation of a 28-byte packet', () => {
    for (let length = 0; length < ARP_ETHER_IPV4_LEN; length++) {
      const expected =
        length < ARP_FIXED_HEADER_LEN
          ? { kind: 'truncated-header', length }
          : { kind: 'truncated-addresses', length, needed: ARP_ETHER_IPV4_LEN };
      assert.deepEqual(ArpPacket.checked(payload.subarray(0, length)), expected, `${length}`);
    }
    checked(payload.subarray(0, ARP_ETHER_IPV4_LEN));
  });

  it('measures the remaining bytes from the offset', () => {
    assert.deepEqual(ArpPacket.checked(GOLDEN[0]!.frame.subarray(0, 41), ETHERNET_HEADER_LEN), {
      kind: 'truncated-addresses',
      length: 27,
      needed: 28,
    });
  });

  it('accepts Ethernet padding after the packet', () => {
    const padded = new Uint8Array(46);
    padded.set(payload);
    assert.deepEqual(parseArp(checked(padded)), GOLDEN[0]!.repr);
  });

  it('views hln = pln = 0 as an 8-byte packet, then parse rejects the lengths', () => {
    const packet = checked(packetWith(1, 0x0800, 0, 0));
    assert.equal(packet.bytes.length, 8);
    assert.equal(packet.senderProtocolOffset, 8);
    assert.equal(packet.targetProtocolOffset, 8);
    assert.equal(packet.senderHardwareBytes.length, 0);
    assert.deepEqual(parseArp(packet), {
      kind: 'unsupported-lengths',
      hardwareLen: 0,
      protocolLen: 0,
    });
  });

  it('needs 1028 bytes for hln = pln = 255', () => {
    const bytes = packetWith(1, 0x0800, 255, 255);
    assert.equal(bytes.length, 1028);
    assert.deepEqual(ArpPacket.checked(bytes.subarray(0, 1027)), {
      kind: 'truncated-addresses',
      length: 1027,
      needed: 1028,
    });
    const packet = checked(bytes);
    assert.equal(packet.senderProtocolOffset, 8 + 255);
    assert.equal(packet.targetHardwareOffset, 8 + 510);
    assert.equal(packet.targetProtocolOffset, 8 + 765);
    assert.equal(packet.senderHardwareBytes.length, 255);
    assert.deepEqual(parseArp(packet), {
      kind: 'unsupported-lengths',
      hardwareLen: 255,
      protocolLen: 255,
    });
  });

  it('rejects hln 6 with pln 16 and hln 8 with pln 4', () => {
    assert.deepEqual(parseArp(checked(packetWith(1, 0x0800, 6, 16))), {
      kind: 'unsupported-lengths',
      hardwareLen: 6,
      protocolLen: 16,
    });
    assert.deepEqual(parseArp(checked(packetWith(1, 0x0800, 8, 4))), {
      kind: 'unsupported-lengths',
      hardwareLen: 8,
      protocolLen: 4,
    });
  });
});

describe('ARP unknown codes', () => {
  it('rejects hardware types other than Ethernet and IEEE 802, checked first', () => {
    for (const hardwareType of [0, 2, 7, 0xffff]) {
      assert.deepEqual(parseArp(checked(packetWith(hardwareType, 0x86dd, 0, 0))), {
        kind: 'unsupported-hardware',
        hardwareType,
      });
    }
  });

  it('accepts IEEE 802 hardware (ARPHRD_IEEE802)', () => {
    const repr = { ...GOLDEN[0]!.repr, hardwareType: ArpHardware.Ieee802 };
    const bytes = new Uint8Array(ARP_ETHER_IPV4_LEN);
    emitArp(bytes, 0, repr);
    assert.deepEqual(parseArp(checked(bytes)), repr);
  });

  it('rejects protocols other than IPv4, before the lengths', () => {
    assert.deepEqual(parseArp(checked(packetWith(1, 0x86dd, 6, 16))), {
      kind: 'unsupported-protocol',
      protocolType: 0x86dd,
    });
  });

  it('carries unknown opcodes as numbers', () => {
    for (const operation of [0, 3, 4, 8, 9, 0xffff]) {
      const repr = { ...GOLDEN[0]!.repr, operation };
      const bytes = new Uint8Array(ARP_ETHER_IPV4_LEN);
      emitArp(bytes, 0, repr);
      assert.equal(checked(bytes).operation, operation);
      assert.deepEqual(parseArp(checked(bytes)), repr);
    }
  });
});

describe('ARP round trips', () => {
  const anyRepr: fc.Arbitrary<ArpRepr> = fc.record(
    {
      hardwareType: fc.constantFrom(ArpHardware.Ethernet, ArpHardware.Ieee802),
      operation: fc.integer({ min: 0, max: 0xffff }),
      senderMac: fc.integer({ min: 0, max: 0xffff_ffff_ffff }),
      senderIp: fc.integer({ min: 0, max: 0xffff_ffff }),
      targetMac: fc.integer({ min: 0, max: 0xffff_ffff_ffff }),
      targetIp: fc.integer({ min: 0, max: 0xffff_ffff }),
    },
    { noNullPrototype: true },
  );

  it('parse(emit(repr)) equals repr for the fixtures', () => {
    for (const { repr } of GOLDEN) {
      const bytes = new Uint8Array(ARP_ETHER_IPV4_LEN);
      emitArp(bytes, 0, repr);
      assert.deepEqual(parseArp(checked(bytes)), repr);
    }
  });

  it('parse(emit(repr)) equals repr for any repr, at any offset', () => {
    fc.assert(
      fc.property(anyRepr, fc.nat(16), (repr, offset) => {
        const bytes = new Uint8Array(offset + ARP_ETHER_IPV4_LEN);
        emitArp(bytes, offset, repr);
        assert.deepEqual(parseArp(checked(bytes, offset)), repr);
      }),
    );
  });

  it('emit(parse(bytes)) restores any well-formed packet', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 28, maxLength: 28 }), (input) => {
        const bytes = Uint8Array.from(input);
        bytes.set([0x00, 0x01, 0x08, 0x00, 0x06, 0x04]);
        const repr = parseArp(checked(bytes));
        assert.ok(!('kind' in repr));
        const out = new Uint8Array(ARP_ETHER_IPV4_LEN);
        emitArp(out, 0, repr);
        assert.deepEqual(out, bytes);
      }),
    );
  });
});

describe('ARP on untrusted bytes', () => {
  it('checked and parseArp return a value or an error value, never throw', () => {
    // Bias the lengths towards the Ethernet/IPv4 case so that all paths are reached.
    const header = fc.tuple(
      fc.constantFrom(0, 1, 6, 0xffff),
      fc.constantFrom(0x0800, 0x86dd, 0),
      fc.constantFrom(0, 4, 6, 255),
      fc.constantFrom(0, 4, 6, 255),
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 1100 }),
        fc.option(header),
        fc.nat(20),
        (input, fixed, offset) => {
          const bytes = Uint8Array.from(input);
          if (fixed !== null && bytes.length >= offset + 6) {
            const [hrd, pro, hln, pln] = fixed;
            bytes.set([hrd >>> 8, hrd & 0xff, pro >>> 8, pro & 0xff, hln, pln], offset);
          }
          const packet = ArpPacket.checked(bytes, offset);
          if (!(packet instanceof ArpPacket)) {
            assert.match(packet.kind, /^truncated-/);
            return;
          }
          const repr = parseArp(packet);
          if ('kind' in repr) assert.match(repr.kind, /^unsupported-/);
          else {
            assert.equal(packet.hardwareLen, 6);
            assert.equal(packet.protocolLen, 4);
          }
          void packet.senderHardwareBytes;
          void packet.senderMac;
          void packet.targetIp;
        },
      ),
    );
  });
});
