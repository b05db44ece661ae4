import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseIpv4 } from './addr.ts';
import {
  buildIcmpEcho,
  buildIcmpEchoReplyPacket,
  emitIcmpEcho,
  ICMP_HEADER_LEN,
  type IcmpEchoRepr,
  IcmpPacket,
  IcmpType,
  icmpEchoByteLength,
  icmpEchoReply,
  parseIcmpEcho,
} from './icmp.ts';
import { IpProtocol, type Ipv4Repr, internetChecksum, parseIpv4Packet } from './ipv4.ts';

function fromHex(text: string): Uint8Array {
  return Uint8Array.from(text.replace(/\s+/g, '').match(/../g) ?? [], (b) => parseInt(b, 16));
}

const DATA = new TextEncoder().encode('abcdefghijklmnopqrstuvwabcdefghi');
// Echo request id 0x1234 seq 1 with the 32-byte Windows ping pattern (checksum computed
// independently), and the reply to it.
const REQUEST_BYTES = fromHex(
  '0800 3b27 1234 0001 6162636465666768696a6b6c6d6e6f7071727374757677616263646566676869',
);
const REPLY_BYTES = fromHex(
  '0000 4327 1234 0001 6162636465666768696a6b6c6d6e6f7071727374757677616263646566676869',
);
const REQUEST: IcmpEchoRepr = {
  type: IcmpType.EchoRequest,
  code: 0,
  identifier: 0x1234,
  sequence: 1,
  data: DATA,
};
const REPLY: IcmpEchoRepr = { ...REQUEST, type: IcmpType.EchoReply };

const anyEcho: fc.Arbitrary<IcmpEchoRepr> = fc.record(
  {
    type: fc.constantFrom(IcmpType.EchoRequest, IcmpType.EchoReply),
    code: fc.integer({ min: 0, max: 255 }),
    identifier: fc.integer({ min: 0, max: 0xffff }),
    sequence: fc.integer({ min: 0, max: 0xffff }),
    data: fc.uint8Array({ maxLength: 100 }),
  },
  { noNullPrototype: true },
);

describe('ICMP echo golden bytes', () => {
  it('parses the request and the reply', () => {
    assert.deepEqual(parseIcmpEcho(REQUEST_BYTES), REQUEST);
    assert.deepEqual(parseIcmpEcho(REPLY_BYTES), REPLY);
    const packet = IcmpPacket.checked(REQUEST_BYTES);
    assert.ok(packet instanceof IcmpPacket);
    assert.equal(packet.checksum, 0x3b27);
    assert.equal(packet.checksumValid, true);
    assert.equal(packet.data.buffer, REQUEST_BYTES.buffer, 'data is a view, not a copy');
  });

  it('emits the request and the reply', () => {
    assert.deepEqual(buildIcmpEcho(REQUEST), REQUEST_BYTES);
    assert.deepEqual(buildIcmpEcho(REPLY), REPLY_BYTES);
    const bytes = new Uint8Array(icmpEchoByteLength(REQUEST) + 2).fill(0xee);
    emitIcmpEcho(bytes, 1, REQUEST);
    assert.deepEqual(bytes.subarray(1, -1), REQUEST_BYTES);
    assert.equal(bytes[0], 0xee);
    assert.equal(bytes.at(-1), 0xee);
  });

  it('turns a request into its reply (RFC 792: type 0, same id, seq and data)', () => {
    assert.deepEqual(icmpEchoReply(REQUEST), REPLY);
    assert.deepEqual(icmpEchoReply({ ...REQUEST, code: 7 }), REPLY);
  });

  it('builds the IPv4 reply packet to a request', () => {
    const ip: Ipv4Repr = {
      source: parseIpv4('192.0.2.1'),
      destination: parseIpv4('192.0.2.2'),
      protocol: IpProtocol.Icmp,
      ttl: 3,
      typeOfService: 0,
      identification: 0xabcd,
      dontFragment: false,
      moreFragments: false,
      fragmentOffset: 0,
      payloadLength: REQUEST_BYTES.length,
    };
    const packet = buildIcmpEchoReplyPacket(ip, REQUEST);
    // Header computed independently: 192.0.2.2 > 192.0.2.1, id 0, DF, TTL 64, ICMP.
    assert.deepEqual(
      packet.subarray(0, 20),
      fromHex('4500 003c 0000 4000 4001 b6bd c0000202 c0000201'),
    );
    assert.deepEqual(packet.subarray(20), REPLY_BYTES);
    const parsed = parseIpv4Packet(packet);
    assert.ok(!('kind' in parsed));
    assert.equal(parsed.payloadLength, REPLY_BYTES.length);
  });
});

describe('ICMP checks', () => {
  it('rejects every length below the 8-byte header', () => {
    for (let length = 0; length < ICMP_HEADER_LEN; length++) {
      const expected = { kind: 'truncated', length };
      assert.deepEqual(IcmpPacket.checked(REQUEST_BYTES.subarray(0, length)), expected);
      assert.deepEqual(parseIcmpEcho(REQUEST_BYTES.subarray(0, length)), expected);
    }
  });

  it('accepts an echo without data', () => {
    const empty = { ...REQUEST, data: new Uint8Array(0) };
    const bytes = buildIcmpEcho(empty);
    assert.equal(bytes.length, ICMP_HEADER_LEN);
    assert.deepEqual(parseIcmpEcho(bytes), empty);
  });

  it('rejects a bad checksum anywhere in the message, data included', () => {
    for (const index of [0, 2, 5, 8, REQUEST_BYTES.length - 1]) {
      const bytes = Uint8Array.from(REQUEST_BYTES);
      bytes[index]! ^= 0x01;
      const result = parseIcmpEcho(bytes);
      assert.equal('kind' in result && result.kind, 'bad-checksum', `byte ${index}`);
    }
  });

  it('rejects other types once the checksum verifies', () => {
    // Emitted with a correct checksum, so only the type is wrong.
    const unreachable = buildIcmpEcho({
      ...REQUEST,
      type: IcmpType.DestinationUnreachable,
      code: 1,
    });
    assert.deepEqual(parseIcmpEcho(unreachable), { kind: 'not-echo', type: 3, code: 1 });
  });
});

describe('ICMP round trips', () => {
  const fixtures: [string, IcmpEchoRepr][] = [
    ['the request', REQUEST],
    ['the reply', REPLY],
    ['an odd-length payload', { ...REQUEST, data: fromHex('010203') }],
    ['maximal fields', { ...REPLY, code: 255, identifier: 0xffff, sequence: 0xffff }],
  ];
  for (const [name, repr] of fixtures) {
    it(`parse(emit(repr)) equals repr for ${name}`, () => {
      assert.deepEqual(parseIcmpEcho(buildIcmpEcho(repr)), repr);
    });
  }

  it('parse(emit(repr)) equals repr for any echo', () => {
    fc.assert(
      fc.property(anyEcho, (repr) => {
        assert.deepEqual(parseIcmpEcho(buildIcmpEcho(repr)), repr);
      }),
    );
  });

  it('the reply to any request parses as a reply with the same id, seq and data', () => {
    fc.assert(
      fc.property(anyEcho, (request) => {
        const reply = parseIcmpEcho(buildIcmpEcho(icmpEchoReply(request)));
        assert.deepEqual(reply, { ...request, type: IcmpType.EchoReply, code: 0 });
      }),
    );
  });
});

describe('ICMP on untrusted bytes', () => {
  it('checked and parse return a value or an error value, never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.boolean(), (input, fixSum) => {
        const bytes = Uint8Array.from(input);
        // Half the inputs get a correct checksum so that parse gets past it.
        if (fixSum && bytes.length >= ICMP_HEADER_LEN) {
          bytes[2] = 0;
          bytes[3] = 0;
          const checksum = internetChecksum(bytes, 0, bytes.length);
          bytes[2] = checksum >>> 8;
          bytes[3] = checksum & 0xff;
        }
        const packet = IcmpPacket.checked(bytes);
        if (packet instanceof IcmpPacket) void packet.checksumValid;
        const repr = parseIcmpEcho(bytes);
        if ('kind' in repr) assert.match(repr.kind, /^(truncated|bad-checksum|not-echo)$/);
        else assert.equal(repr.data.length, bytes.length - ICMP_HEADER_LEN);
      }),
    );
  });
});
