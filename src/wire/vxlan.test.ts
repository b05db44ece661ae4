import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  emitVxlanHeader,
  encapsulateVxlan,
  parseVxlan,
  VXLAN_HEADER_LEN,
  VXLAN_MAX_VNI,
  VxlanPacket,
} from './vxlan.ts';

function fromHex(text: string): Uint8Array {
  return Uint8Array.from(text.replace(/\s+/g, '').match(/../g) ?? [], (b) => parseInt(b, 16));
}

// The benchmark's ARP request from host 0, carried in VNI 42 (0x00002a).
const FRAME = fromHex(
  'ffffffffffff 02000a000002 0806 0001 0800 06 04 0001 02000a000002 0a000002 000000000000 0a000001',
);
const HEADER_VNI_42 = fromHex('08 000000 00002a 00');

describe('VXLAN golden bytes', () => {
  it('encapsulates a frame behind the 8-byte header (RFC 7348 section 5)', () => {
    const packet = encapsulateVxlan(42, FRAME);
    assert.deepEqual(packet.subarray(0, VXLAN_HEADER_LEN), HEADER_VNI_42);
    assert.deepEqual(packet.subarray(VXLAN_HEADER_LEN), FRAME);
  });

  it('puts the 24-bit VNI in bytes 4..6, most significant first', () => {
    const bytes = new Uint8Array(10).fill(0xee);
    emitVxlanHeader(bytes, 1, 0x123456);
    assert.deepEqual(bytes, fromHex('ee 08 000000 123456 00 ee'));
  });

  it('parses the golden packet', () => {
    const bytes = new Uint8Array(VXLAN_HEADER_LEN + FRAME.length);
    bytes.set(HEADER_VNI_42);
    bytes.set(FRAME, VXLAN_HEADER_LEN);
    const repr = parseVxlan(bytes);
    assert.deepEqual(repr, { vni: 42, payload: FRAME });
    assert.ok(!('kind' in repr));
    assert.equal(repr.payload.buffer, bytes.buffer, 'payload is a view, not a copy');
  });
});

describe('VXLAN checks', () => {
  it('rejects every length below 8 bytes', () => {
    const packet = encapsulateVxlan(42, FRAME);
    for (let length = 0; length < VXLAN_HEADER_LEN; length++) {
      const expected = { kind: 'truncated', length };
      assert.deepEqual(VxlanPacket.checked(packet.subarray(0, length)), expected);
      assert.deepEqual(parseVxlan(packet.subarray(0, length)), expected);
    }
  });

  it('accepts a bare header as an empty payload', () => {
    assert.deepEqual(parseVxlan(HEADER_VNI_42), { vni: 42, payload: new Uint8Array(0) });
  });

  it('rejects a header without the I flag', () => {
    for (const flags of [0x00, 0xf7, 0x80, 0x01]) {
      const bytes = Uint8Array.from(HEADER_VNI_42);
      bytes[0] = flags;
      assert.deepEqual(parseVxlan(bytes), { kind: 'flags-missing-I', flags });
    }
  });

  it('ignores reserved bits and bytes on receipt (RFC 7348 section 5)', () => {
    const bytes = fromHex('ff ffffff 00002a ff');
    assert.deepEqual(parseVxlan(bytes), { vni: 42, payload: new Uint8Array(0) });
  });
});

describe('VXLAN round trips', () => {
  for (const vni of [0, 1, 42, 0x123456, VXLAN_MAX_VNI]) {
    it(`parse(encapsulate(${vni}, frame)) gives back ${vni} and the frame`, () => {
      assert.deepEqual(parseVxlan(encapsulateVxlan(vni, FRAME)), { vni, payload: FRAME });
    });
  }

  it('round-trips any VNI and payload', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: VXLAN_MAX_VNI }),
        fc.uint8Array({ maxLength: 100 }),
        (vni, frame) => {
          assert.deepEqual(parseVxlan(encapsulateVxlan(vni, frame)), { vni, payload: frame });
        },
      ),
    );
  });
});

describe('VXLAN on untrusted bytes', () => {
  it('checked and parse return a value or an error value, never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const repr = parseVxlan(bytes);
        if ('kind' in repr) {
          assert.match(repr.kind, /^(truncated|flags-missing-I)$/);
        } else {
          assert.ok(repr.vni >= 0 && repr.vni <= VXLAN_MAX_VNI);
          assert.equal(repr.payload.length, bytes.length - VXLAN_HEADER_LEN);
        }
      }),
    );
  });
});
