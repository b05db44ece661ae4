/**
 * One-line, tcpdump-like descriptions of Ethernet frames for the simulator trace and monitors:
 * ```
 * 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ARP, Request who-has 192.0.2.2 tell 192.0.2.1, length 28
 * ```
 *
 * Lengths follow `tcpdump -e`: for ARP and unknown EtherTypes the bytes after the Ethernet
 * header (padding included), for IPv4 the bytes after the IP header up to its total length.
 * Any bytes at all produce a line; nothing here throws.
 */
import { formatIpv4, formatMac, IPV4_ANY, MAC_ZERO } from './addr.ts';
import { ArpOp, ArpPacket, parseArp } from './arp.ts';
import { EthernetFrame, EtherType } from './ethernet.ts';
import { IcmpPacket, IcmpType } from './icmp.ts';
import { IpProtocol, Ipv4Packet } from './ipv4.ts';

/** Describes an Ethernet frame in one line: the two MACs, then the payload. */
export function describeFrame(bytes: Uint8Array): string {
  const frame = EthernetFrame.checked(bytes);
  if (!(frame instanceof EthernetFrame)) return `Ethernet, truncated (${bytes.length} bytes)`;
  const macs = `${formatMac(frame.source)} > ${formatMac(frame.destination)}`;
  const payload = frame.payload;
  switch (frame.etherType) {
    case EtherType.Arp:
      return `${macs}, ARP, ${describeArp(payload)}`;
    case EtherType.Ipv4:
      return `${macs}, ${describeIpv4(payload)}`;
    default:
      return `${macs}, ethertype ${hex4(frame.etherType)}, length ${payload.length}`;
  }
}

/** The ARP part, after "ARP, ". */
function describeArp(bytes: Uint8Array): string {
  const packet = ArpPacket.checked(bytes);
  if (!(packet instanceof ArpPacket)) return `truncated (${bytes.length} bytes)`;
  return `${describeArpPacket(packet)}, length ${bytes.length}`;
}

/** A checked ARP packet, without its length. */
function describeArpPacket(packet: ArpPacket): string {
  const arp = parseArp(packet);
  if ('kind' in arp) {
    return (
      `hardware type ${hex4(packet.hardwareType)}, protocol type ${hex4(packet.protocolType)}, ` +
      `hln ${packet.hardwareLen}, pln ${packet.protocolLen}, op ${packet.operation}`
    );
  }
  const sender = formatIpv4(arp.senderIp);
  const target = formatIpv4(arp.targetIp);
  switch (arp.operation) {
    case ArpOp.Request:
      // RFC 5227 section 2.1.1: a probe has an all-zero sender IP address.
      if (arp.senderIp === IPV4_ANY) return `Probe ${target}`;
      // RFC 5227 section 2.3: an announcement has sender and target IP both the sender's.
      if (arp.senderIp === arp.targetIp) return `Announcement ${sender}`;
      // tcpdump shows a target hardware address only when the sender filled one in.
      return arp.targetMac === MAC_ZERO
        ? `Request who-has ${target} tell ${sender}`
        : `Request who-has ${target} (${formatMac(arp.targetMac)}) tell ${sender}`;
    case ArpOp.Reply:
      if (arp.senderIp === arp.targetIp) {
        return `Reply Announcement ${sender} is-at ${formatMac(arp.senderMac)}`;
      }
      return `Reply ${sender} is-at ${formatMac(arp.senderMac)}`;
    default:
      return (
        `op ${arp.operation}, sender ${sender} (${formatMac(arp.senderMac)}), ` +
        `target ${target} (${formatMac(arp.targetMac)})`
      );
  }
}

/** The whole IPv4 part, "IPv4 a > b: ...". */
function describeIpv4(bytes: Uint8Array): string {
  const packet = Ipv4Packet.checked(bytes);
  if (!(packet instanceof Ipv4Packet)) {
    switch (packet.kind) {
      case 'truncated':
        return `IPv4, truncated (${packet.length} bytes)`;
      case 'bad-version':
        return `IPv4, bad version ${packet.version}`;
      case 'bad-ihl':
        return `IPv4, bad header length ${packet.ihl * 4}`;
      case 'bad-total-length':
        return `IPv4, bad total length ${packet.totalLength} (${packet.length} bytes)`;
    }
  }
  const addresses = `IPv4 ${formatIpv4(packet.source)} > ${formatIpv4(packet.destination)}`;
  const payload = packet.payload;
  const checksum = packet.checksumValid ? '' : ', bad header checksum';
  if (packet.moreFragments || packet.fragmentOffset !== 0) {
    return (
      `${addresses}: proto ${packet.protocol}, fragment id ${packet.identification} ` +
      `offset ${packet.fragmentOffset * 8}${packet.moreFragments ? '+' : ''}, ` +
      `length ${payload.length}${checksum}`
    );
  }
  if (packet.protocol === IpProtocol.Icmp) {
    return `${addresses}: ${describeIcmp(payload)}${checksum}`;
  }
  return `${addresses}: proto ${packet.protocol}, length ${payload.length}${checksum}`;
}

/** The ICMP part, after "a > b: ". */
function describeIcmp(bytes: Uint8Array): string {
  const packet = IcmpPacket.checked(bytes);
  if (!(packet instanceof IcmpPacket)) return `ICMP, truncated (${bytes.length} bytes)`;
  const checksum = packet.checksumValid ? '' : ', bad checksum';
  const length = `, length ${bytes.length}${checksum}`;
  const type = packet.type;
  if (type === IcmpType.EchoRequest || type === IcmpType.EchoReply) {
    const name = type === IcmpType.EchoRequest ? 'request' : 'reply';
    return `ICMP echo ${name}, id ${packet.identifier}, seq ${packet.sequence}${length}`;
  }
  return `ICMP type ${type} code ${packet.code}${length}`;
}

function hex4(value: number): string {
  return `0x${value.toString(16).padStart(4, '0')}`;
}
