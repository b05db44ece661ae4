import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseIpv4 } from './addr.ts';
import {
  buildIpv4Packet,
  emitIpv4Header,
  IPV4_HEADER_LEN,
  IpProtocol,
  Ipv4Packet,
  type Ipv4Repr,
  internetChecksum,
  parseIpv4Packet,
} from './ipv4.ts';

function fromHex(text: string): Uint8Array {
  return Uint8Array.from(text.replace(/\s+/g, '').match(/../g) ?? [], (b) => parseInt(b, 16));
}

/** A straightforward RFC 1071 reference: fold after every addition. */
function referenceChecksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  return ~sum & 0xffff;
}

// The UDP header example of the "IPv4 header checksum" literature: checksum 0xb861.
const UDP_HEADER = fromHex('4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7');
const UDP_REPR: Ipv4Repr = {
  source: parseIpv4('192.168.0.1'),
  destination: parseIpv4('192.168.0.199'),
  protocol: IpProtocol.Udp,
  ttl: 64,
  typeOfService: 0,
  identification: 0,
  dontFragment: true,
  moreFragments: false,
  fragmentOffset: 0,
  payloadLength: 0x73 - 20,
};

// An echo request 192.0.2.1 > 192.0.2.2 (checksums computed independently).
const PING_HEADER = fromHex('4500 003c abcd 4000 4001 0af0 c0000201 c0000202');
const PING_REPR: Ipv4Repr = {
  source: parseIpv4('192.0.2.1'),
  destination: parseIpv4('192.0.2.2'),
  protocol: IpProtocol.Icmp,
  ttl: 64,
  typeOfService: 0,
  identification: 0xabcd,
  dontFragment: true,
  moreFragments: false,
  fragmentOffset: 0,
  payloadLength: 40,
};

/** `header` followed by enough zero bytes to reach its total length (and `extra` more). */
function withPayload(header: Uint8Array, extra = 0): Uint8Array {
  const totalLength = (header[2]! << 8) | header[3]!;
  const bytes = new Uint8Array(Math.max(totalLength, header.length) + extra);
  bytes.set(header);
  return bytes;
}

/** Rewrites the header checksum after a test edits the header. */
function fixChecksum(bytes: Uint8Array): Uint8Array {
  const headerLength = (bytes[0]! & 0x0f) * 4;
  bytes[10] = 0;
  bytes[11] = 0;
  const checksum = internetChecksum(bytes, 0, headerLength);
  bytes[10] = checksum >>> 8;
  bytes[11] = checksum & 0xff;
  return bytes;
}

const anyRepr: fc.Arbitrary<Ipv4Repr> = fc.record(
  {
    source: fc.integer({ min: 0, max: 0xffff_ffff }),
    destination: fc.integer({ min: 0, max: 0xffff_ffff }),
    protocol: fc.integer({ min: 0, max: 255 }),
    ttl: fc.integer({ min: 0, max: 255 }),
    typeOfService: fc.integer({ min: 0, max: 255 }),
    identification: fc.integer({ min: 0, max: 0xffff }),
    dontFragment: fc.boolean(),
    moreFragments: fc.boolean(),
    fragmentOffset: fc.integer({ min: 0, max: 0x1fff }),
    payloadLength: fc.integer({ min: 0, max: 600 }),
  },
  { noNullPrototype: true },
);

describe('internetChecksum (RFC 1071)', () => {
  it('matches the worked example of RFC 1071 section 3', () => {
    // Words 0001 f203 f4f5 f6f7 sum to 0x2ddf0, folded 0xddf2; the checksum is its complement.
    assert.equal(internetChecksum(fromHex('0001f203f4f5f6f7'), 0, 8), 0x220d);
  });

  it('pads an odd last byte with zero', () => {
    assert.equal(internetChecksum(fromHex('01'), 0, 1), 0xfeff);
    assert.equal(internetChecksum(fromHex('0001f203f4f5f6'), 0, 7), ~0xdcfb & 0xffff);
  });

  it('gives 0xffff for all zeros and 0 over a header holding its checksum', () => {
    assert.equal(internetChecksum(new Uint8Array(20), 0, 20), 0xffff);
    assert.equal(internetChecksum(UDP_HEADER, 0, 20), 0);
    assert.equal(internetChecksum(PING_HEADER, 0, 20), 0);
  });

  it('sums only the given range', () => {
    const bytes = new Uint8Array([0xff, 0x00, 0x01, 0xf2, 0x03, 0xff]);
    assert.equal(internetChecksum(bytes, 1, 4), internetChecksum(fromHex('0001f203'), 0, 4));
  });

  it('folds carries exactly on long inputs', () => {
    const ones = new Uint8Array(200_000).fill(0xff);
    assert.equal(internetChecksum(ones, 0, ones.length), 0);
    const big = new Uint8Array(200_001).fill(0xfe);
    assert.equal(internetChecksum(big, 0, big.length), referenceChecksum(big));
  });

  it('agrees with the reference and verifies once the checksum is appended', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const checksum = internetChecksum(bytes, 0, bytes.length);
        assert.equal(checksum, referenceChecksum(bytes));
        const even = new Uint8Array(bytes.length + (bytes.length % 2) + 2);
        even.set(bytes);
        even[even.length - 2] = checksum >>> 8;
        even[even.length - 1] = checksum & 0xff;
        assert.equal(internetChecksum(even, 0, even.length), 0);
      }),
    );
  });
});

describe('IPv4 golden bytes', () => {
  const goldens: [string, Uint8Array, Ipv4Repr][] = [
    ['UDP header with checksum 0xb861', UDP_HEADER, UDP_REPR],
    ['ICMP echo request header', PING_HEADER, PING_REPR],
  ];
  for (const [name, header, repr] of goldens) {
    it(`parses the ${name}`, () => {
      const bytes = withPayload(header);
      assert.deepEqual(parseIpv4Packet(bytes), repr);
      const packet = Ipv4Packet.checked(bytes);
      assert.ok(packet instanceof Ipv4Packet);
      assert.equal(packet.version, 4);
      assert.equal(packet.ihl, 5);
      assert.equal(packet.checksum, (header[10]! << 8) | header[11]!);
      assert.equal(packet.checksumValid, true);
      assert.equal(packet.payload.length, repr.payloadLength);
    });

    it(`emits the ${name}`, () => {
      const bytes = new Uint8Array(IPV4_HEADER_LEN + 2).fill(0xee);
      emitIpv4Header(bytes, 1, repr);
      assert.deepEqual(bytes.subarray(1, 21), header);
      assert.equal(bytes[0], 0xee);
      assert.equal(bytes[21], 0xee);
    });
  }

  it('builds a packet whose payload length comes from the payload', () => {
    const payload = Uint8Array.from({ length: 40 }, (_, i) => i);
    // A full Repr is accepted; its payloadLength is ignored in favour of the payload's.
    const repr: Ipv4Repr = { ...PING_REPR, payloadLength: 9999 };
    const packet = buildIpv4Packet(repr, payload);
    assert.deepEqual(packet.subarray(0, 20), PING_HEADER);
    assert.deepEqual(packet.subarray(20), payload);
  });
});

describe('IPv4 checks', () => {
  it('rejects every length below 20 bytes as truncated', () => {
    const bytes = withPayload(PING_HEADER);
    for (let length = 0; length < IPV4_HEADER_LEN; length++) {
      const expected = { kind: 'truncated', length };
      assert.deepEqual(Ipv4Packet.checked(bytes.subarray(0, length)), expected);
      assert.deepEqual(parseIpv4Packet(bytes.subarray(0, length)), expected);
    }
  });

  it('rejects versions other than 4', () => {
    for (const version of [0, 6, 15]) {
      const bytes = withPayload(PING_HEADER);
      bytes[0] = (version << 4) | 5;
      assert.deepEqual(parseIpv4Packet(fixChecksum(bytes)), { kind: 'bad-version', version });
    }
  });

  it('rejects an IHL below 5', () => {
    for (const ihl of [0, 4]) {
      const bytes = withPayload(PING_HEADER);
      bytes[0] = 0x40 | ihl;
      assert.deepEqual(parseIpv4Packet(bytes), { kind: 'bad-ihl', ihl });
    }
  });

  it('rejects a total length beyond the buffer or inside the header', () => {
    const short = withPayload(PING_HEADER).subarray(0, 59);
    assert.deepEqual(parseIpv4Packet(short), {
      kind: 'bad-total-length',
      totalLength: 60,
      length: 59,
    });
    const inside = withPayload(PING_HEADER);
    inside[3] = 19;
    assert.deepEqual(parseIpv4Packet(fixChecksum(inside)), {
      kind: 'bad-total-length',
      totalLength: 19,
      length: 60,
    });
    // IHL 15 (60 bytes) with a total length of 40: the header cannot fit.
    const options = withPayload(PING_HEADER);
    options[0] = 0x4f;
    options[3] = 40;
    assert.deepEqual(parseIpv4Packet(options), {
      kind: 'bad-total-length',
      totalLength: 40,
      length: 60,
    });
  });

  it('rejects a bad header checksum in parse but still views the packet', () => {
    const bytes = withPayload(PING_HEADER);
    bytes[8] = 63;
    assert.deepEqual(parseIpv4Packet(bytes), { kind: 'bad-checksum', checksum: 0x0af0 });
    const packet = Ipv4Packet.checked(bytes);
    assert.ok(packet instanceof Ipv4Packet);
    assert.equal(packet.checksumValid, false);
  });

  it('does not cover the payload with the header checksum', () => {
    const bytes = withPayload(PING_HEADER);
    bytes[30] = 0x55;
    assert.deepEqual(parseIpv4Packet(bytes), PING_REPR);
  });

  it('skips options: IHL 6 moves the payload start to byte 24', () => {
    const bytes = new Uint8Array(28);
    bytes.set(PING_HEADER);
    bytes[0] = 0x46;
    bytes[3] = 28;
    bytes.set([0x94, 0x04, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef], 20); // Router Alert, then data
    fixChecksum(bytes);
    const packet = Ipv4Packet.checked(bytes);
    assert.ok(packet instanceof Ipv4Packet);
    assert.equal(packet.headerLength, 24);
    assert.deepEqual(packet.payload, fromHex('deadbeef'));
    assert.deepEqual(parseIpv4Packet(bytes), { ...PING_REPR, payloadLength: 4 });
  });

  it('stops the payload at the total length, leaving Ethernet padding out', () => {
    const bytes = withPayload(PING_HEADER, 6);
    const packet = Ipv4Packet.checked(bytes);
    assert.ok(packet instanceof Ipv4Packet);
    assert.equal(packet.payload.length, 40);
    assert.deepEqual(parseIpv4Packet(bytes), PING_REPR);
  });

  it('reads the flags and the fragment offset', () => {
    const bytes = withPayload(PING_HEADER);
    bytes[6] = 0x3f; // MF, offset 0x1fff
    bytes[7] = 0xff;
    const repr = parseIpv4Packet(fixChecksum(bytes));
    assert.ok(!('kind' in repr));
    assert.equal(repr.dontFragment, false);
    assert.equal(repr.moreFragments, true);
    assert.equal(repr.fragmentOffset, 0x1fff);
  });
});

describe('IPv4 round trips', () => {
  const fixtures: [string, Ipv4Repr][] = [
    ['the UDP golden', UDP_REPR],
    ['the ping golden', PING_REPR],
    [
      'a middle fragment with every field set',
      {
        source: 0xffff_ffff,
        destination: 0,
        protocol: 253,
        ttl: 1,
        typeOfService: 0xb8,
        identification: 0xffff,
        dontFragment: false,
        moreFragments: true,
        fragmentOffset: 185,
        payloadLength: 1480,
      },
    ],
    ['an empty payload', { ...PING_REPR, payloadLength: 0 }],
  ];
  for (const [name, repr] of fixtures) {
    it(`parse(emit(repr)) equals repr for ${name}`, () => {
      const bytes = new Uint8Array(IPV4_HEADER_LEN + repr.payloadLength);
      emitIpv4Header(bytes, 0, repr);
      assert.deepEqual(parseIpv4Packet(bytes), repr);
    });
  }

  it('parse(emit(repr)) equals repr for any repr', () => {
    fc.assert(
      fc.property(anyRepr, (repr) => {
        const bytes = new Uint8Array(IPV4_HEADER_LEN + repr.payloadLength);
        emitIpv4Header(bytes, 0, repr);
        assert.deepEqual(parseIpv4Packet(bytes), repr);
      }),
    );
  });
});

describe('IPv4 on untrusted bytes', () => {
  it('checked and parse return a value or an error value, never throw', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 120 }),
        fc.boolean(),
        fc.nat(120),
        (input, plausible, totalLength) => {
          const bytes = Uint8Array.from(input);
          // Half the inputs get a version 4 header with a small total length, to go deeper.
          if (plausible && bytes.length >= 4) {
            bytes[0] = 0x40 | (bytes[0]! & 0x0f);
            bytes[2] = 0;
            bytes[3] = totalLength;
          }
          const packet = Ipv4Packet.checked(bytes);
          if (packet instanceof Ipv4Packet) {
            assert.ok(packet.payload.length <= bytes.length - 20);
            void packet.checksumValid;
          }
          const repr = parseIpv4Packet(bytes);
          if ('kind' in repr) {
            assert.match(
              repr.kind,
              /^(truncated|bad-version|bad-ihl|bad-total-length|bad-checksum)$/,
            );
          } else {
            assert.ok(packet instanceof Ipv4Packet);
            assert.equal(repr.payloadLength, packet.payload.length);
          }
        },
      ),
    );
  });
});
