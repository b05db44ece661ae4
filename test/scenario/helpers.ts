/**
 * Shared vocabulary of the scenario tests: the addresses of the test network, a builder for
 * ARP frames, and a `view` that turns an engine's outputs into plain objects (frames decoded
 * field by field, events as they are) so that a test reads like the behaviour it checks and
 * asserts everything with one deepEqual.
 */
import assert from 'node:assert/strict';
import { Engine, type EngineOptions } from '../../src/core/engine.ts';
import { assertNever } from '../../src/core/errors.ts';
import type { LogEvent, LogLevel, RouteEvent, RouteEventType } from '../../src/core/events.ts';
import type { InterfaceSpec } from '../../src/core/iface.ts';
import type { Output } from '../../src/core/output.ts';
import type { ArpStats } from '../../src/core/stats.ts';
import {
  formatIpv4,
  formatMac,
  type Ipv4,
  type Mac,
  parseIpv4,
  parseMac,
} from '../../src/wire/addr.ts';
import {
  ARP_ETHER_IPV4_LEN,
  ArpHardware,
  ArpOp,
  ArpPacket,
  emitArp,
  parseArp,
} from '../../src/wire/arp.ts';
import {
  ETHERNET_HEADER_LEN,
  EthernetFrame,
  EtherType,
  emitEthernetHeader,
} from '../../src/wire/ethernet.ts';
import { describeFrame } from '../../src/wire/format.ts';

// --- the test network ---------------------------------------------------------------------

/** A station: its MAC and IPv4 address, written as an operator would. */
export interface Station {
  readonly mac: string;
  readonly ip: string;
}

/** The engine under test, on eth0 (192.0.2.0/24). */
export const US: Station = { mac: '02:00:00:00:00:01', ip: '192.0.2.1' };
/** Neighbours on eth0's segment. */
export const A: Station = { mac: '02:00:00:00:00:0a', ip: '192.0.2.10' };
export const B: Station = { mac: '02:00:00:00:00:0b', ip: '192.0.2.11' };
/** A's MAC after its NIC was swapped. */
export const A_NEW_MAC = '02:00:00:00:00:aa';
/** The engine's second interface, eth1 (198.51.100.0/24), and a neighbour there. */
export const US1: Station = { mac: '02:00:00:00:01:01', ip: '198.51.100.1' };
export const C: Station = { mac: '02:00:00:00:01:0c', ip: '198.51.100.12' };
/** The router on eth0 that static routes point at. */
export const GW: Station = { mac: '02:00:00:00:00:fe', ip: '192.0.2.254' };
export const BROADCAST = 'ff:ff:ff:ff:ff:ff';
export const ZERO_MAC = '00:00:00:00:00:00';

/** "192.0.2.1" as the engine's number. */
export const ip = (text: string): Ipv4 => parseIpv4(text);
/** "02:00:00:00:00:01" as the engine's number. */
export const mac = (text: string): Mac => parseMac(text);
/** Seconds as the engine's milliseconds. */
export const s = (seconds: number): number => seconds * 1000;

/** A recognisable IPv4 packet stand-in: the engine holds and hands back bytes it never reads. */
export function packet(name: string): Uint8Array {
  return new TextEncoder().encode(name);
}

/** An engine with eth0 (US, 192.0.2.1/24, up) and, with `twoInterfaces`, eth1 (US1/24). */
export function makeHost(options: EngineOptions & { twoInterfaces?: boolean; at?: number } = {}): {
  engine: Engine;
  eth0: number;
  eth1: number;
} {
  const engine = new Engine(options);
  const at = options.at ?? 0;
  const eth0 = engine.addInterface({ name: 'eth0', mac: mac(US.mac) });
  engine.addAddress(at, 'eth0', `${US.ip}/24`);
  let eth1 = -1;
  if (options.twoInterfaces) {
    eth1 = engine.addInterface({ name: 'eth1', mac: mac(US1.mac) });
    engine.addAddress(at, 'eth1', `${US1.ip}/24`);
  }
  return { engine, eth0, eth1 };
}

/** Adds an interface with one address, discarding the announcement; returns its index. */
export function addInterface(engine: Engine, spec: InterfaceSpec, cidr?: string): number {
  const index = engine.addInterface(spec);
  if (cidr !== undefined) engine.addAddress(0, spec.name, cidr);
  return index;
}

// --- frames in -----------------------------------------------------------------------------

/** An ARP frame to feed the engine; addresses as text, defaults as RFC 826 would have them. */
export interface ArpFrameSpec {
  op: 'request' | 'reply' | number;
  sha: string;
  spa: string;
  /** Default: zero for a request, the Ethernet destination for a reply. */
  tha?: string;
  tpa: string;
  /** Ethernet destination; default broadcast for a request, `tha` for a reply. */
  dst?: string;
  /** Ethernet source; default `sha`. */
  src?: string;
  /** ar_hrd; default Ethernet. */
  hardwareType?: number;
}

function opcode(op: ArpFrameSpec['op']): number {
  if (op === 'request') return ArpOp.Request;
  if (op === 'reply') return ArpOp.Reply;
  return op;
}

/** Builds a 42-byte Ethernet/IPv4 ARP frame. */
export function arpFrame(spec: ArpFrameSpec): Uint8Array {
  const isRequest = spec.op === 'request';
  const tha = spec.tha ?? (isRequest ? ZERO_MAC : (spec.dst ?? BROADCAST));
  const dst = spec.dst ?? (isRequest ? BROADCAST : tha);
  const frame = new Uint8Array(ETHERNET_HEADER_LEN + ARP_ETHER_IPV4_LEN);
  emitEthernetHeader(frame, 0, mac(dst), mac(spec.src ?? spec.sha), EtherType.Arp);
  emitArp(frame, ETHERNET_HEADER_LEN, {
    hardwareType: spec.hardwareType ?? ArpHardware.Ethernet,
    operation: opcode(spec.op),
    senderMac: mac(spec.sha),
    senderIp: ip(spec.spa),
    targetMac: mac(tha),
    targetIp: ip(spec.tpa),
  });
  return frame;
}

/** `from` asks who has `targetIp` (a broadcast request). */
export function whoHas(from: Station, targetIp: string): Uint8Array {
  return arpFrame({ op: 'request', sha: from.mac, spa: from.ip, tpa: targetIp });
}

/** `from` tells `to` that `from.ip` is at `from.mac` (a unicast reply). */
export function isAt(from: Station, to: Station): Uint8Array {
  return arpFrame({ op: 'reply', sha: from.mac, spa: from.ip, tha: to.mac, tpa: to.ip });
}

/** Hex text ("ffff ffff ...", spaces ignored) as bytes. */
export function fromHex(text: string): Uint8Array {
  return Uint8Array.from(text.replace(/\s+/g, '').match(/../g) ?? [], (b) => parseInt(b, 16));
}

/** Golden hex written with spaces between fields, as `toHex` prints it (no spaces). */
export function golden(text: string): string {
  return text.replace(/\s+/g, '').toLowerCase();
}

/** Bytes as lower-case hex without separators. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// --- outputs, as plain objects -------------------------------------------------------------

/** An ARP frame the engine sent, every field decoded. */
export interface SentArp {
  readonly kind: 'arp';
  readonly on: string;
  readonly dst: string;
  readonly src: string;
  readonly hrd: number;
  readonly op: 'request' | 'reply' | number;
  readonly sha: string;
  readonly spa: string;
  readonly tha: string;
  readonly tpa: string;
}

/** A held packet handed back for sending, with the Ethernet addresses to frame it with. */
export interface Delivered {
  readonly kind: 'deliver';
  readonly on: string;
  readonly nextHop: string;
  readonly dst: string;
  readonly src: string;
  readonly packet: string;
}

/** One output in readable form. */
export type Seen = SentArp | Delivered | RouteEvent | LogEvent;

/** Decodes a frame netarp sent; fails the test unless it is a 42-byte Ethernet/IPv4 ARP frame. */
export function decodeArpFrame(frame: Uint8Array, on = '?'): SentArp {
  assert.equal(frame.length, ETHERNET_HEADER_LEN + ARP_ETHER_IPV4_LEN, describeFrame(frame));
  const ethernet = EthernetFrame.checked(frame);
  assert.ok(ethernet instanceof EthernetFrame);
  assert.equal(ethernet.etherType, EtherType.Arp);
  const packet = ArpPacket.checked(frame, ETHERNET_HEADER_LEN);
  assert.ok(packet instanceof ArpPacket);
  const arp = parseArp(packet);
  assert.ok(!('kind' in arp), `not Ethernet/IPv4 ARP: ${JSON.stringify(arp)}`);
  const op =
    arp.operation === ArpOp.Request
      ? 'request'
      : arp.operation === ArpOp.Reply
        ? 'reply'
        : arp.operation;
  return {
    kind: 'arp',
    on,
    dst: formatMac(ethernet.destination),
    src: formatMac(ethernet.source),
    hrd: arp.hardwareType,
    op,
    sha: formatMac(arp.senderMac),
    spa: formatIpv4(arp.senderIp),
    tha: formatMac(arp.targetMac),
    tpa: formatIpv4(arp.targetIp),
  };
}

/** Every output of `engine`, in order, as plain objects. */
export function view(engine: Engine, outputs: readonly Output[]): Seen[] {
  const names = engine.interfaces().map((i) => i.name);
  const name = (index: number): string => names[index] ?? `#${index}`;
  return outputs.map((output): Seen => {
    switch (output.kind) {
      case 'transmit':
        return decodeArpFrame(output.frame, name(output.ifIndex));
      case 'deliver-held':
        return {
          kind: 'deliver',
          on: name(output.ifIndex),
          nextHop: formatIpv4(output.nextHop),
          dst: formatMac(output.destination),
          src: formatMac(output.source),
          packet: new TextDecoder().decode(output.packet),
        };
      case 'event':
        return output.event;
      default:
        return assertNever(output);
    }
  });
}

/** Only the frames in `outputs`. */
export function sentFrames(engine: Engine, outputs: readonly Output[]): SentArp[] {
  return view(engine, outputs).filter((o): o is SentArp => o.kind === 'arp');
}

/** Only the route events in `outputs`. */
export function routeEvents(outputs: readonly Output[]): RouteEvent[] {
  const events: RouteEvent[] = [];
  for (const o of outputs) if (o.kind === 'event' && o.event.kind === 'route') events.push(o.event);
  return events;
}

/** Only the log messages in `outputs`. */
export function logMessages(outputs: readonly Output[]): string[] {
  const messages: string[] = [];
  for (const o of outputs)
    if (o.kind === 'event' && o.event.kind === 'log') messages.push(o.event.message);
  return messages;
}

// --- expected outputs ----------------------------------------------------------------------

/** The broadcast request netarp sends on `on` from `sender` for `tpa`. */
export function expectRequest(
  sender: Station,
  tpa: string,
  options: { on?: string; src?: string } = {},
): SentArp {
  return {
    kind: 'arp',
    on: options.on ?? 'eth0',
    dst: BROADCAST,
    src: options.src ?? sender.mac,
    hrd: ArpHardware.Ethernet,
    op: 'request',
    sha: sender.mac,
    spa: sender.ip,
    tha: ZERO_MAC,
    tpa,
  };
}

/** The unicast reply netarp sends: `sender` is-at, to `requester`. */
export function expectReply(
  sender: Station,
  requester: Station,
  options: { on?: string; src?: string; hrd?: number } = {},
): SentArp {
  return {
    kind: 'arp',
    on: options.on ?? 'eth0',
    dst: requester.mac,
    src: options.src ?? sender.mac,
    hrd: options.hrd ?? ArpHardware.Ethernet,
    op: 'reply',
    sha: sender.mac,
    spa: sender.ip,
    tha: requester.mac,
    tpa: requester.ip,
  };
}

/** A route event as the engine reports it. */
export function routeEvent(
  type: RouteEventType,
  ipText: string,
  reason: string,
  macText?: string,
  ifName = 'eth0',
): RouteEvent {
  return { kind: 'route', type, ifName, ip: ipText, mac: macText, reason };
}

/** A log line as the engine reports it. */
export function logLine(level: LogLevel, message: string): LogEvent {
  return { kind: 'log', level, message };
}

/** A held packet handed back for `nextHop`, to be framed from `src` to `dst`. */
export function expectDelivered(
  name: string,
  nextHop: Station,
  options: { on?: string; src?: string } = {},
): Delivered {
  return {
    kind: 'deliver',
    on: options.on ?? 'eth0',
    nextHop: nextHop.ip,
    dst: nextHop.mac,
    src: options.src ?? US.mac,
    packet: name,
  };
}

// --- counters ------------------------------------------------------------------------------

/** The counters that moved between two snapshots, with how much. */
export function countersMoved(before: ArpStats, after: ArpStats): Partial<ArpStats> {
  const moved: Partial<ArpStats> = {};
  for (const key of Object.keys(after) as (keyof ArpStats)[]) {
    const delta = after[key] - before[key];
    if (delta !== 0) moved[key] = delta;
  }
  return moved;
}

/** Runs `action` and returns its result with the counters it moved. */
export function counting<T>(
  engine: Engine,
  action: () => T,
): { result: T; moved: Partial<ArpStats> } {
  const before = engine.stats();
  const result = action();
  return { result, moved: countersMoved(before, engine.stats()) };
}
