/**
 * A deterministic virtual Ethernet world: hosts running netarp engines, segments (in-memory
 * hubs with optional loss and delay), stations that run no engine and only inject frames, and
 * one virtual clock. Nothing here reads a real clock: the same actions give the same trace.
 *
 * Each host also runs a minimal IPv4 layer: it answers ICMP echo for its addresses and sends
 * echo requests through the engine's resolve path, so held packets are real packets.
 */
import { Engine, type EngineOptions, type Engine as EngineType } from '../core/engine.ts';
import type { EngineEvent } from '../core/events.ts';
import type { InterfaceSpec } from '../core/iface.ts';
import type { OutputSink } from '../core/output.ts';
import type { ResolveResult } from '../core/resolve.ts';
import { formatIpv4, type Ipv4, MAC_BROADCAST, readMac } from '../wire/addr.ts';
import { buildEthernetFrame, ETHERNET_HEADER_LEN, EtherType } from '../wire/ethernet.ts';
import { buildIcmpEcho, buildIcmpEchoReplyPacket, IcmpType, parseIcmpEcho } from '../wire/icmp.ts';
import { buildIpv4Packet, IPV4_DEFAULT_TTL, IpProtocol, parseIpv4Packet } from '../wire/ipv4.ts';

/** A segment's impairments. */
export interface SegmentOptions {
  /** Probability 0..1 that a frame is lost on its way to each receiver. */
  loss?: number;
  /** Milliseconds from transmit to delivery (default 0). */
  delayMs?: number;
}

/** One record of what happened, in order. */
export type TraceRecord =
  | {
      readonly kind: 'frame';
      readonly time: number;
      readonly segment: string;
      /** "host/ifname" of the sender, or the station name for injected frames. */
      readonly from: string;
      readonly frame: Uint8Array;
    }
  | {
      readonly kind: 'event';
      readonly time: number;
      readonly host: string;
      readonly event: EngineEvent;
    }
  | {
      readonly kind: 'send';
      readonly time: number;
      readonly host: string;
      readonly destination: string;
      readonly result: ResolveResult;
    }
  | {
      readonly kind: 'receive';
      readonly time: number;
      readonly host: string;
      readonly ifName: string;
      readonly what: string;
    }
  | { readonly kind: 'lost'; readonly time: number; readonly segment: string; readonly to: string };

/** A host's interface: the engine interface plus the segment it is plugged into. */
export interface HostInterfaceSpec extends InterfaceSpec {
  /** Segment name; bridges and CARP interfaces have none (they use their ports/parent). */
  segment?: string;
  /** Addresses as "192.0.2.1/24". */
  addresses?: string[];
}

interface Port {
  readonly host: SimHost;
  readonly ifIndex: number;
  readonly label: string;
}

interface Segment {
  readonly name: string;
  readonly loss: number;
  readonly delayMs: number;
  readonly ports: Port[];
}

interface Delivery {
  readonly time: number;
  readonly seq: number;
  readonly port: Port;
  readonly frame: Uint8Array;
}

/** A host in the world: an engine and where its interfaces are plugged. */
export class SimHost {
  readonly engine: EngineType;
  /** Interface index -> segment, for interfaces plugged into one. */
  readonly segments = new Map<number, Segment>();
  /** Echo identifier for the pings this host sends. */
  pingSequence = 0;

  constructor(
    readonly name: string,
    options: EngineOptions,
  ) {
    this.engine = new Engine(options);
  }
}

/** A small seeded PRNG (mulberry32), so that loss is the same on every run. */
function makeRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The virtual world. */
export class World {
  /** Virtual time in milliseconds. */
  now = 0;
  readonly hosts = new Map<string, SimHost>();
  private readonly segments = new Map<string, Segment>();
  private readonly queue: Delivery[] = [];
  private seq = 0;
  private readonly random: () => number;
  /** Called with every trace record as it happens. */
  onTrace: (record: TraceRecord) => void = () => {};

  constructor(seed = 1) {
    this.random = makeRandom(seed);
  }

  /** Adds a segment (an Ethernet hub). */
  addSegment(name: string, options: SegmentOptions = {}): void {
    if (this.segments.has(name)) throw new Error(`segment ${name} exists`);
    const loss = options.loss ?? 0;
    const delayMs = options.delayMs ?? 0;
    if (!(loss >= 0 && loss <= 1)) throw new Error(`segment ${name}: loss must be in 0..1`);
    if (!(delayMs >= 0)) throw new Error(`segment ${name}: delayMs must be >= 0`);
    this.segments.set(name, { name, loss, delayMs, ports: [] });
  }

  /** Adds a host with its interfaces (added in order: bridges and CARP parents first). */
  addHost(name: string, interfaces: HostInterfaceSpec[], options: EngineOptions = {}): SimHost {
    if (this.hosts.has(name)) throw new Error(`host ${name} exists`);
    const host = new SimHost(name, options);
    this.hosts.set(name, host);
    for (const spec of interfaces) {
      const ifIndex = host.engine.addInterface(spec);
      if (spec.segment !== undefined) {
        const segment = this.segment(spec.segment);
        segment.ports.push({ host, ifIndex, label: `${name}/${spec.name}` });
        host.segments.set(ifIndex, segment);
      }
    }
    for (const spec of interfaces) {
      for (const address of spec.addresses ?? []) this.addAddress(name, spec.name, address);
    }
    return host;
  }

  /** The host named `name`; throws if there is none. */
  host(name: string): SimHost {
    const host = this.hosts.get(name);
    if (!host) throw new Error(`no such host: ${name}`);
    return host;
  }

  private segment(name: string): Segment {
    const segment = this.segments.get(name);
    if (!segment) throw new Error(`no such segment: ${name}`);
    return segment;
  }

  /** A sink that routes one host's outputs into the world. */
  private sinkFor(host: SimHost): OutputSink {
    return {
      transmit: (ifIndex, frame) => this.transmit(host, ifIndex, frame.slice()),
      deliverHeld: (ifIndex, _nextHop, destination, source, packet) =>
        this.transmit(
          host,
          ifIndex,
          buildEthernetFrame({ destination, source, etherType: EtherType.Ipv4 }, packet),
        ),
      event: (event) => this.onTrace({ kind: 'event', time: this.now, host: host.name, event }),
    };
  }

  /** Puts a frame from a host interface onto its segment(s): bridges flood, CARP uses its parent. */
  private transmit(host: SimHost, ifIndex: number, frame: Uint8Array): void {
    for (const segment of this.segmentsOf(host, ifIndex)) {
      const port = segment.ports.find(
        (p) => p.host === host && host.segments.get(p.ifIndex) === segment,
      );
      this.broadcast(segment, port?.label ?? `${host.name}`, frame, port);
    }
  }

  private segmentsOf(host: SimHost, ifIndex: number): Segment[] {
    const direct = host.segments.get(ifIndex);
    if (direct) return [direct];
    const iface = host.engine.interfaces()[ifIndex];
    if (!iface) return [];
    if (iface.kind === 'carp') return this.segmentsOf(host, iface.carpParent);
    if (iface.kind === 'bridge') {
      return host.engine
        .interfaces()
        .filter((member) => member.bridge === ifIndex)
        .flatMap((member) => this.segmentsOf(host, member.index));
    }
    return [];
  }

  private broadcast(
    segment: Segment,
    from: string,
    frame: Uint8Array,
    sender: Port | undefined,
  ): void {
    this.onTrace({ kind: 'frame', time: this.now, segment: segment.name, from, frame });
    for (const port of segment.ports) {
      if (port === sender) continue;
      if (segment.loss > 0 && this.random() < segment.loss) {
        this.onTrace({ kind: 'lost', time: this.now, segment: segment.name, to: port.label });
        continue;
      }
      this.queue.push({ time: this.now + segment.delayMs, seq: this.seq++, port, frame });
    }
    this.queue.sort((a, b) => a.time - b.time || a.seq - b.seq);
  }

  /** Injects a raw frame on a segment as a station that runs no engine. */
  inject(segmentName: string, station: string, frame: Uint8Array): void {
    this.broadcast(this.segment(segmentName), station, frame, undefined);
  }

  /** Sends an ICMP echo request from `hostName` to `destination` through its engine. */
  ping(hostName: string, destination: Ipv4, dataLength = 56): ResolveResult {
    const host = this.host(hostName);
    const engine = host.engine;
    const sequence = ++host.pingSequence;
    const echo = buildIcmpEcho({
      type: IcmpType.EchoRequest,
      code: 0,
      identifier: 1,
      sequence,
      data: new Uint8Array(dataLength).map((_, i) => i & 0xff),
    });
    const source =
      this.sourceAddress(host, destination) ?? engine.interfaces()[0]?.addresses[0]?.address ?? 0;
    const packet = buildIpv4Packet(
      {
        source,
        destination,
        protocol: IpProtocol.Icmp,
        ttl: IPV4_DEFAULT_TTL,
        typeOfService: 0,
        identification: sequence,
        dontFragment: true,
        moreFragments: false,
        fragmentOffset: 0,
      },
      echo,
    );
    return this.sendPacket(host, destination, packet, true);
  }

  /** The host address to send from toward `destination`: the covering one, else the first. */
  private sourceAddress(host: SimHost, destination: Ipv4): Ipv4 | undefined {
    for (const iface of host.engine.interfaces()) {
      for (const a of iface.addresses) {
        if (((a.address ^ destination) & a.mask) === 0) return a.address;
      }
    }
    return undefined;
  }

  private sendPacket(
    host: SimHost,
    destination: Ipv4,
    packet: Uint8Array,
    traced: boolean,
  ): ResolveResult {
    const result = host.engine.resolveInto(this.now, destination, packet, this.sinkFor(host));
    if (traced) {
      this.onTrace({
        kind: 'send',
        time: this.now,
        host: host.name,
        destination: formatIpv4(destination),
        result,
      });
    }
    if (result.kind === 'resolved') {
      this.transmit(
        host,
        result.ifIndex,
        buildEthernetFrame(
          { destination: result.mac, source: result.source, etherType: EtherType.Ipv4 },
          packet,
        ),
      );
    } else if (result.kind === 'local') {
      this.receiveIpv4(host, result.ifIndex, packet);
    }
    return result;
  }

  /** Runs `fn` against a host's engine with the world's sink, for admin commands. */
  withHost<T>(hostName: string, fn: (engine: EngineType, sink: OutputSink) => T): T {
    const host = this.host(hostName);
    return fn(host.engine, this.sinkFor(host));
  }

  /** Adds an address to a host interface (gratuitous ARP goes out). */
  addAddress(hostName: string, ifName: string, cidr: string): void {
    const host = this.host(hostName);
    this.emit(host, host.engine.addAddress(this.now, ifName, cidr));
  }

  /** Replays an array of outputs a host's engine returned. */
  emit(host: SimHost, outputs: ReturnType<EngineType['handleFrame']>): void {
    const sink = this.sinkFor(host);
    for (const output of outputs) {
      if (output.kind === 'transmit') sink.transmit(output.ifIndex, output.frame);
      else if (output.kind === 'event') sink.event(output.event);
      else
        sink.deliverHeld(
          output.ifIndex,
          output.nextHop,
          output.destination,
          output.source,
          output.packet,
        );
    }
  }

  /** The earliest time anything is due: a delivery or an engine timer. */
  nextDue(): number | undefined {
    let next = this.queue[0]?.time;
    for (const host of this.hosts.values()) {
      const t = host.engine.pollTimeout();
      if (t !== undefined && (next === undefined || t < next)) next = t;
    }
    return next;
  }

  /** Runs everything due up to and including `time`, then sets the clock to `time`. */
  runUntil(time: number): void {
    if (time < this.now) throw new Error(`time cannot go back (${time} < ${this.now})`);
    for (;;) {
      const next = this.nextDue();
      if (next === undefined || next > time) break;
      this.now = Math.max(this.now, next);
      this.step();
    }
    this.now = time;
  }

  /** Does what is due at `this.now`: deliveries first (in order), then engine timers. */
  private step(): void {
    while (this.queue.length > 0 && this.queue[0]!.time <= this.now) {
      const delivery = this.queue.shift()!;
      this.deliver(delivery.port, delivery.frame);
    }
    for (const host of this.hosts.values()) {
      const due = host.engine.pollTimeout();
      if (due !== undefined && due <= this.now)
        host.engine.handleTimeoutInto(this.now, this.sinkFor(host));
    }
  }

  private deliver(port: Port, frame: Uint8Array): void {
    const host = port.host;
    if (
      frame.length >= ETHERNET_HEADER_LEN &&
      ((frame[12]! << 8) | frame[13]!) === EtherType.Ipv4
    ) {
      const iface = host.engine.interfaces()[port.ifIndex];
      const destination = readMac(frame, 0);
      if (iface?.up && (destination === iface.mac || destination === MAC_BROADCAST)) {
        this.receiveIpv4(host, port.ifIndex, frame.subarray(ETHERNET_HEADER_LEN));
      }
      return;
    }
    host.engine.handleFrameInto(this.now, port.ifIndex, frame, this.sinkFor(host));
  }

  /** The host's IPv4 layer: answer echo requests for our addresses, note echo replies. */
  private receiveIpv4(host: SimHost, ifIndex: number, packet: Uint8Array): void {
    const ip = parseIpv4Packet(packet);
    const ifName = host.engine.interfaces()[ifIndex]?.name ?? '?';
    if (!('source' in ip) || ip.protocol !== IpProtocol.Icmp) return;
    const mine = host.engine
      .interfaces()
      .some((i) => i.addresses.some((a) => a.address === ip.destination));
    if (!mine) return;
    const headerLength = (packet[0]! & 0x0f) * 4;
    const echo = parseIcmpEcho(packet.subarray(headerLength, headerLength + ip.payloadLength));
    if (!('identifier' in echo)) return;
    const what = `ICMP echo ${echo.type === IcmpType.EchoRequest ? 'request' : 'reply'} from ${formatIpv4(ip.source)} seq ${echo.sequence}`;
    this.onTrace({ kind: 'receive', time: this.now, host: host.name, ifName, what });
    if (echo.type === IcmpType.EchoRequest) {
      this.sendPacket(host, ip.source, buildIcmpEchoReplyPacket(ip, echo), false);
    }
  }
}
