import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAC_BROADCAST, parseMac } from './addr.ts';
import {
  buildEthernetFrame,
  ETHERNET_HEADER_LEN,
  EthernetFrame,
  type EthernetRepr,
  EtherType,
  emitEthernetHeader,
  parseEthernet,
} from './ethernet.ts';

function fromHex(text: string): Uint8Array {
  return Uint8Array.from(text.replace(/\s+/g, '').match(/../g) ?? [], (b) => parseInt(b, 16));
}

// The benchmark's ARP request from host 0 (bench/WORKLOADS.md).
const REQUEST_FRAME = fromHex(
  'ffffffffffff 02000a000002 0806 0001 0800 06 04 0001 02000a000002 0a000002 000000000000 0a000001',
);
const REQUEST_HEADER: EthernetRepr = {
  destination: MAC_BROADCAST,
  source: parseMac('02:00:0a:00:00:02'),
  etherType: EtherType.Arp,
};

describe('Ethernet II', () => {
  it('views the golden request header in place', () => {
    const frame = EthernetFrame.checked(REQUEST_FRAME);
    assert.ok(frame instanceof EthernetFrame);
    assert.equal(frame.destination, MAC_BROADCAST);
    assert.equal(frame.source, parseMac('02:00:0a:00:00:02'));
    assert.equal(frame.etherType, 0x0806);
    assert.deepEqual(frame.payload, REQUEST_FRAME.subarray(14));
    assert.equal(frame.payload.buffer, REQUEST_FRAME.buffer, 'payload is a view, not a copy');
    assert.deepEqual(parseEthernet(frame), REQUEST_HEADER);
  });

  it('emits the golden header', () => {
    const bytes = new Uint8Array(16).fill(0xee);
    emitEthernetHeader(bytes, 1, MAC_BROADCAST, parseMac('02:00:0a:00:00:02'), EtherType.Arp);
    assert.deepEqual(bytes.subarray(1, 15), REQUEST_FRAME.subarray(0, 14));
    assert.equal(bytes[0], 0xee);
    assert.equal(bytes[15], 0xee);
  });

  it('builds the golden frame from header and payload', () => {
    assert.deepEqual(buildEthernetFrame(REQUEST_HEADER, REQUEST_FRAME.subarray(14)), REQUEST_FRAME);
  });

  it('rejects every length below the header, accepts a bare header', () => {
    for (let length = 0; length < ETHERNET_HEADER_LEN; length++) {
      assert.deepEqual(EthernetFrame.checked(REQUEST_FRAME.subarray(0, length)), {
        kind: 'truncated',
        length,
      });
    }
    const bare = EthernetFrame.checked(REQUEST_FRAME.subarray(0, ETHERNET_HEADER_LEN));
    assert.ok(bare instanceof EthernetFrame);
    assert.equal(bare.payload.length, 0);
  });

  const fixtures: [string, EthernetRepr][] = [
    ['broadcast ARP', REQUEST_HEADER],
    [
      'unicast IPv4',
      { destination: 0x02_00_00_00_00_01, source: 0x02_00_00_00_00_02, etherType: 0x0800 },
    ],
    ['unknown EtherType', { destination: 0, source: 0xffff_ffff_ffff, etherType: 0xffff }],
    ['802.3 length field', { destination: 1, source: 2, etherType: 0x0000 }],
  ];
  for (const [name, repr] of fixtures) {
    it(`round-trips ${name}`, () => {
      const frame = EthernetFrame.checked(buildEthernetFrame(repr, new Uint8Array(46)));
      assert.ok(frame instanceof EthernetFrame);
      assert.deepEqual(parseEthernet(frame), repr);
    });
  }

  it('round-trips any header and payload', () => {
    const anyRepr = fc.record(
      {
        destination: fc.integer({ min: 0, max: 0xffff_ffff_ffff }),
        source: fc.integer({ min: 0, max: 0xffff_ffff_ffff }),
        etherType: fc.integer({ min: 0, max: 0xffff }),
      },
      { noNullPrototype: true },
    );
    fc.assert(
      fc.property(anyRepr, fc.uint8Array({ maxLength: 64 }), (repr, payload) => {
        const frame = EthernetFrame.checked(buildEthernetFrame(repr, payload));
        assert.ok(frame instanceof EthernetFrame);
        assert.deepEqual(parseEthernet(frame), repr);
        assert.deepEqual(frame.payload, payload);
      }),
    );
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const frame = EthernetFrame.checked(bytes);
        if (frame instanceof EthernetFrame) {
          parseEthernet(frame);
          assert.equal(frame.payload.length, bytes.length - ETHERNET_HEADER_LEN);
        } else {
          assert.equal(frame.kind, 'truncated');
          assert.ok(bytes.length < ETHERNET_HEADER_LEN);
        }
      }),
    );
  });
});
