import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { IPV4_ANY, MAC_BROADCAST, MAC_ZERO, type Mac, parseIpv4, parseMac } from './addr.ts';
import { ARP_ETHER_IPV4_LEN, ArpOp, type ArpRepr, emitArp } from './arp.ts';
import { buildEthernetFrame, EtherType } from './ethernet.ts';
import { describeFrame } from './format.ts';
import { buildIcmpEcho, IcmpType } from './icmp.ts';
import { buildIpv4Packet, IpProtocol, type Ipv4Repr } from './ipv4.ts';

function fromHex(text: string): Uint8Array {
  return Uint8Array.from(text.replace(/\s+/g, '').match(/../g) ?? [], (b) => parseInt(b, 16));
}

const A = { mac: parseMac('02:00:00:00:00:01'), ip: parseIpv4('192.0.2.1') };
const B = { mac: parseMac('02:00:00:00:00:02'), ip: parseIpv4('192.0.2.2') };

function frame(source: Mac, destination: Mac, etherType: number, payload: Uint8Array) {
  return buildEthernetFrame({ destination, source, etherType }, payload);
}

function arpFrame(destination: Mac, arp: Partial<ArpRepr>, padTo = ARP_ETHER_IPV4_LEN) {
  const repr: ArpRepr = {
    hardwareType: 1,
    operation: ArpOp.Request,
    senderMac: A.mac,
    senderIp: A.ip,
    targetMac: MAC_ZERO,
    targetIp: B.ip,
    ...arp,
  };
  const payload = new Uint8Array(padTo);
  emitArp(payload, 0, repr);
  return frame(repr.senderMac, destination, EtherType.Arp, payload);
}

const IP_A_TO_B: Omit<Ipv4Repr, 'payloadLength'> = {
  source: A.ip,
  destination: B.ip,
  protocol: IpProtocol.Icmp,
  ttl: 64,
  typeOfService: 0,
  identification: 1,
  dontFragment: true,
  moreFragments: false,
  fragmentOffset: 0,
};

function ipFrame(ip: Partial<Omit<Ipv4Repr, 'payloadLength'>>, payload: Uint8Array) {
  return frame(A.mac, B.mac, EtherType.Ipv4, buildIpv4Packet({ ...IP_A_TO_B, ...ip }, payload));
}

const ECHO = { type: IcmpType.EchoRequest, code: 0, identifier: 1, sequence: 1 };
// ping's default: 56 bytes of data, 64 bytes of ICMP.
const PING = buildIcmpEcho({ ...ECHO, data: new Uint8Array(56) });

const MACS_AB = '02:00:00:00:00:01 > 02:00:00:00:00:02';

describe('describeFrame: ARP', () => {
  const cases: [string, Uint8Array, string][] = [
    [
      'a request',
      arpFrame(MAC_BROADCAST, {}),
      '02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ARP, Request who-has 192.0.2.2 tell 192.0.2.1, length 28',
    ],
    [
      'a reply',
      arpFrame(A.mac, {
        operation: ArpOp.Reply,
        senderMac: B.mac,
        senderIp: B.ip,
        targetMac: A.mac,
        targetIp: A.ip,
      }),
      '02:00:00:00:00:02 > 02:00:00:00:00:01, ARP, Reply 192.0.2.2 is-at 02:00:00:00:00:02, length 28',
    ],
    [
      'a unicast poll naming the target MAC, as tcpdump shows it',
      arpFrame(B.mac, { targetMac: B.mac }),
      `${MACS_AB}, ARP, Request who-has 192.0.2.2 (02:00:00:00:00:02) tell 192.0.2.1, length 28`,
    ],
    [
      'a gratuitous request (RFC 5227 announcement)',
      arpFrame(MAC_BROADCAST, { targetIp: A.ip }),
      '02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ARP, Announcement 192.0.2.1, length 28',
    ],
    [
      'a gratuitous reply',
      arpFrame(MAC_BROADCAST, { operation: ArpOp.Reply, targetIp: A.ip }),
      '02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ARP, Reply Announcement 192.0.2.1 is-at 02:00:00:00:00:01, length 28',
    ],
    [
      'a probe (RFC 5227: sender IP 0.0.0.0)',
      arpFrame(MAC_BROADCAST, { senderIp: IPV4_ANY, targetIp: parseIpv4('192.0.2.9') }),
      '02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ARP, Probe 192.0.2.9, length 28',
    ],
    [
      'another opcode (InARP request)',
      arpFrame(B.mac, { operation: 8, targetMac: B.mac }),
      `${MACS_AB}, ARP, op 8, sender 192.0.2.1 (02:00:00:00:00:01), target 192.0.2.2 (02:00:00:00:00:02), length 28`,
    ],
    [
      'a request padded to the 60-byte minimum, like tcpdump -e',
      arpFrame(MAC_BROADCAST, {}, 46),
      '02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ARP, Request who-has 192.0.2.2 tell 192.0.2.1, length 46',
    ],
    [
      'a truncated packet',
      frame(A.mac, B.mac, EtherType.Arp, fromHex('0001 0800 06 04 0001 0200')),
      `${MACS_AB}, ARP, truncated (10 bytes)`,
    ],
    [
      'an unknown hardware type',
      frame(A.mac, B.mac, EtherType.Arp, fromHex('0007 0800 00 00 0001')),
      `${MACS_AB}, ARP, hardware type 0x0007, protocol type 0x0800, hln 0, pln 0, op 1, length 8`,
    ],
    [
      'an IPv6 protocol type',
      frame(A.mac, B.mac, EtherType.Arp, fromHex('0001 86dd 00 00 0002')),
      `${MACS_AB}, ARP, hardware type 0x0001, protocol type 0x86dd, hln 0, pln 0, op 2, length 8`,
    ],
  ];
  for (const [name, bytes, expected] of cases) {
    it(`describes ${name}`, () => assert.equal(describeFrame(bytes), expected));
  }
});

describe('describeFrame: IPv4 and others', () => {
  const cases: [string, Uint8Array, string][] = [
    [
      'an echo request (length is the ICMP length)',
      ipFrame({}, PING),
      `${MACS_AB}, IPv4 192.0.2.1 > 192.0.2.2: ICMP echo request, id 1, seq 1, length 64`,
    ],
    [
      'an echo reply',
      ipFrame(
        {},
        buildIcmpEcho({ ...ECHO, type: IcmpType.EchoReply, sequence: 7, data: fromHex('00') }),
      ),
      `${MACS_AB}, IPv4 192.0.2.1 > 192.0.2.2: ICMP echo reply, id 1, seq 7, length 9`,
    ],
    [
      'an echo with a bad ICMP checksum',
      ipFrame(
        {},
        Uint8Array.from(PING, (b, i) => (i === 20 ? b ^ 1 : b)),
      ),
      `${MACS_AB}, IPv4 192.0.2.1 > 192.0.2.2: ICMP echo request, id 1, seq 1, length 64, bad checksum`,
    ],
    [
      'another ICMP type',
      ipFrame({}, fromHex('0301 fcfe 00000000')),
      `${MACS_AB}, IPv4 192.0.2.1 > 192.0.2.2: ICMP type 3 code 1, length 8`,
    ],
    [
      'a truncated ICMP message',
      ipFrame({}, fromHex('0800 00')),
      `${MACS_AB}, IPv4 192.0.2.1 > 192.0.2.2: ICMP, truncated (3 bytes)`,
    ],
    [
      'a UDP packet',
      ipFrame({ protocol: IpProtocol.Udp }, new Uint8Array(12)),
      `${MACS_AB}, IPv4 192.0.2.1 > 192.0.2.2: proto 17, length 12`,
    ],
    [
      'a fragment',
      ipFrame({ identification: 9, moreFragments: true, fragmentOffset: 185 }, PING),
      `${MACS_AB}, IPv4 192.0.2.1 > 192.0.2.2: proto 1, fragment id 9 offset 1480+, length 64`,
    ],
    [
      'an IPv4 packet with a bad header checksum',
      frame(
        A.mac,
        B.mac,
        EtherType.Ipv4,
        fromHex('4500 0014 0000 4000 4011 0000 c0000201 c0000202'),
      ),
      `${MACS_AB}, IPv4 192.0.2.1 > 192.0.2.2: proto 17, length 0, bad header checksum`,
    ],
    [
      'a truncated IPv4 header',
      frame(A.mac, B.mac, EtherType.Ipv4, fromHex('4500 0014 0000')),
      `${MACS_AB}, IPv4, truncated (6 bytes)`,
    ],
    [
      'a bad IP version',
      frame(A.mac, B.mac, EtherType.Ipv4, new Uint8Array(20).fill(0x65, 0, 1)),
      `${MACS_AB}, IPv4, bad version 6`,
    ],
    [
      'a bad IHL',
      frame(A.mac, B.mac, EtherType.Ipv4, new Uint8Array(20).fill(0x44, 0, 1)),
      `${MACS_AB}, IPv4, bad header length 16`,
    ],
    [
      'a total length beyond the frame',
      frame(
        A.mac,
        B.mac,
        EtherType.Ipv4,
        fromHex('4500 0040 0000 0000 4001 0000 c0000201 c0000202'),
      ),
      `${MACS_AB}, IPv4, bad total length 64 (20 bytes)`,
    ],
    [
      'an IPv6 frame',
      frame(A.mac, B.mac, EtherType.Ipv6, new Uint8Array(40)),
      `${MACS_AB}, ethertype 0x86dd, length 40`,
    ],
    [
      'a frame with nothing after the header',
      frame(A.mac, B.mac, 0x88cc, new Uint8Array(0)),
      `${MACS_AB}, ethertype 0x88cc, length 0`,
    ],
    ['a runt of 13 bytes', new Uint8Array(13), 'Ethernet, truncated (13 bytes)'],
  ];
  for (const [name, bytes, expected] of cases) {
    it(`describes ${name}`, () => assert.equal(describeFrame(bytes), expected));
  }
});

describe('describeFrame on untrusted bytes', () => {
  it('returns one line for any bytes, never throws', () => {
    const etherType = fc.constantFrom(EtherType.Arp, EtherType.Ipv4, EtherType.Ipv6, 0x1234);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.option(etherType), (input, type) => {
        const bytes = Uint8Array.from(input);
        // Most inputs get a known EtherType and, for IPv4, a version 4 first byte.
        if (type !== null && bytes.length >= 14) {
          bytes[12] = type >>> 8;
          bytes[13] = type & 0xff;
          if (type === EtherType.Ipv4 && bytes.length > 14) bytes[14] = 0x45;
        }
        const line = describeFrame(bytes);
        assert.equal(typeof line, 'string');
        assert.ok(line.length > 0 && !line.includes('\n'));
        assert.ok(!line.includes('undefined') && !line.includes('NaN'), line);
      }),
    );
  });
});
