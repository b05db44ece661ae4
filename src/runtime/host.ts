/**
 * A minimal IPv4 host over a Runner: enough IP for `ping` in both directions. It answers ICMP
 * echo requests addressed to one of the engine's addresses (so a real `ping` gets answers),
 * and sends echo requests through the engine's resolve path, so the first one from cold
 * caches is held while ARP runs and then delivered as a real frame.
 *
 * Deliberately small: no fragments, no options handling, no forwarding, no other protocols.
 */
import type { ResolveFailure, ResolveResult } from '../core/resolve.ts';
import { formatIpv4, type Ipv4, MAC_BROADCAST, parseIpv4, readMac } from '../wire/addr.ts';
import { ETHERNET_HEADER_LEN } from '../wire/ethernet.ts';
import {
  buildIcmpEchoReplyPacket,
  emitIcmpEcho,
  ICMP_HEADER_LEN,
  IcmpType,
  parseIcmpEcho,
} from '../wire/icmp.ts';
import {
  emitIpv4Header,
  IPV4_DEFAULT_TTL,
  IPV4_HEADER_LEN,
  IpProtocol,
  parseIpv4Packet,
} from '../wire/ipv4.ts';
import type { Timer } from './clock.ts';
import type { Runner } from './runner.ts';

/** Options for `Host.ping`. */
export interface PingOptions {
  /** Echo requests to send (ping -c); default 1. */
  count?: number;
  /** How long each request waits for its reply (ping -W, in ms); default 2000. */
  timeoutMs?: number;
  /** Time between requests (ping -i, in ms); default 1000. */
  intervalMs?: number;
  /** Bytes of echo data (ping -s); default 56, which makes an 84-byte IP packet. */
  dataLength?: number;
}

/** Why a probe got no answer: the send failed at once (with the errno text), or it timed out. */
export type PingFailure = ResolveFailure | 'timeout';

/** The outcome of one echo request. */
export type PingProbe =
  | {
      readonly sequence: number;
      readonly ok: true;
      /** Round-trip time in milliseconds, from the runtime clock. */
      readonly rttMs: number;
      /** TTL of the reply. */
      readonly ttl: number;
    }
  | { readonly sequence: number; readonly ok: false; readonly reason: PingFailure };

/** The outcome of `Host.ping`. */
export interface PingResult {
  readonly destination: string;
  readonly transmitted: number;
  readonly received: number;
  /** Every probe, in sequence order. */
  readonly probes: readonly PingProbe[];
  /** The round-trip times of the answered probes, in milliseconds. */
  readonly rttsMs: readonly number[];
}

/** Options for a host. */
export interface HostOptions {
  /** The ICMP echo identifier of this host's pings; default 0x4e41 ("NA"). */
  identifier?: number;
}

/** The host's counters: every IPv4 frame received is counted once among the rx ones. */
export interface HostStats {
  /** IPv4 frames for a MAC that is not ours (a hub or VXLAN segment delivers everything). */
  rxNotForUs: number;
  /** IPv4 frames on an interface that is down. */
  rxInterfaceDown: number;
  /** Malformed IPv4 (bad header, checksum or length). */
  rxBadIpv4: number;
  /** Fragments (not reassembled). */
  rxFragment: number;
  /** IPv4 to an address that is not ours (we do not forward). */
  rxNotOurAddress: number;
  /** Our IPv4, but not an ICMP echo we accept (another protocol, another ICMP type, bad checksum). */
  rxNotEcho: number;
  /** Echo requests received (each answered, see txEchoReplies and txFailed). */
  rxEchoRequests: number;
  /** Echo replies that answered one of our probes. */
  rxEchoReplies: number;
  /** Echo replies matching no probe (late, duplicate, or someone else's). */
  rxUnmatchedReplies: number;
  /** Echo requests sent (or held for resolution). */
  txEchoRequests: number;
  /** Echo replies sent (or held for resolution). */
  txEchoReplies: number;
  /** Sends that failed at once (no route, host down, ...). */
  txFailed: number;
}

interface PendingProbe {
  readonly destination: Ipv4;
  readonly sentAt: number;
  readonly settle: (probe: PingProbe) => void;
  timer: Timer | undefined;
}

/** A minimal IPv4 host: echo replies for our addresses, `ping` for outgoing echo. */
export class Host {
  private readonly identifier: number;
  private sequence = 0;
  private identification = 0;
  /** The echo data of the last length asked for (`echoData`). */
  private data = new Uint8Array(0);
  private readonly pending = new Map<number, PendingProbe>();
  private readonly counters: HostStats = {
    rxNotForUs: 0,
    rxInterfaceDown: 0,
    rxBadIpv4: 0,
    rxFragment: 0,
    rxNotOurAddress: 0,
    rxNotEcho: 0,
    rxEchoRequests: 0,
    rxEchoReplies: 0,
    rxUnmatchedReplies: 0,
    txEchoRequests: 0,
    txEchoReplies: 0,
    txFailed: 0,
  };

  constructor(
    readonly runner: Runner,
    options: HostOptions = {},
  ) {
    const identifier = options.identifier ?? 0x4e41;
    if (!Number.isInteger(identifier) || identifier < 0 || identifier > 0xffff) {
      throw new RangeError(`host: identifier must be an integer 0..65535, got ${identifier}`);
    }
    this.identifier = identifier;
    runner.setIpv4Handler((ifIndex, frame) => this.receiveFrame(ifIndex, frame));
  }

  /** A copy of the counters. */
  stats(): HostStats {
    return { ...this.counters };
  }

  /**
   * Sends `count` echo requests to `destination`, `intervalMs` apart, and resolves when each
   * has been answered, has failed, or has waited `timeoutMs`.
   */
  async ping(destination: Ipv4 | string, options: PingOptions = {}): Promise<PingResult> {
    const target = typeof destination === 'string' ? parseIpv4(destination) : destination;
    const count = options.count ?? 1;
    const timeoutMs = options.timeoutMs ?? 2000;
    const intervalMs = options.intervalMs ?? 1000;
    const dataLength = options.dataLength ?? 56;
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`ping: count must be a positive integer, got ${count}`);
    }
    if (!(timeoutMs > 0)) throw new RangeError(`ping: timeoutMs must be > 0, got ${timeoutMs}`);
    if (!(intervalMs >= 0))
      throw new RangeError(`ping: intervalMs must be >= 0, got ${intervalMs}`);
    if (!Number.isInteger(dataLength) || dataLength < 0 || dataLength > 65507) {
      throw new RangeError(`ping: dataLength must be 0..65507, got ${dataLength}`);
    }
    const probes: Promise<PingProbe>[] = [];
    for (let i = 0; i < count; i++) {
      if (i > 0) await this.sleep(intervalMs);
      probes.push(this.probe(target, timeoutMs, dataLength));
    }
    const settled = await Promise.all(probes);
    const rttsMs = settled.flatMap((p) => (p.ok ? [p.rttMs] : []));
    return {
      destination: formatIpv4(target),
      transmitted: count,
      received: rttsMs.length,
      probes: settled,
      rttsMs,
    };
  }

  /** Cancels every outstanding probe (they settle as timed out), e.g. before closing. */
  cancelAll(): void {
    for (const [sequence, probe] of this.pending) {
      probe.timer?.cancel();
      this.pending.delete(sequence);
      probe.settle({ sequence, ok: false, reason: 'timeout' });
    }
  }

  // --- sending ----------------------------------------------------------------------------

  private probe(destination: Ipv4, timeoutMs: number, dataLength: number): Promise<PingProbe> {
    this.sequence = (this.sequence + 1) & 0xffff;
    const sequence = this.sequence;
    this.identification = (this.identification + 1) & 0xffff;
    const packet = this.echoRequest(destination, sequence, dataLength);
    const clock = this.runner.clock;
    return new Promise<PingProbe>((settle) => {
      const probe: PendingProbe = { destination, sentAt: clock.now(), settle, timer: undefined };
      this.pending.get(sequence)?.settle({ sequence, ok: false, reason: 'timeout' });
      this.pending.set(sequence, probe);
      const result = this.send(destination, packet);
      if (result.kind === 'failed') {
        this.pending.delete(sequence);
        settle({ sequence, ok: false, reason: result.reason });
        return;
      }
      this.counters.txEchoRequests++;
      probe.timer = clock.setTimer(
        probe.sentAt + timeoutMs,
        () => {
          if (this.pending.get(sequence) !== probe) return;
          this.pending.delete(sequence);
          settle({ sequence, ok: false, reason: 'timeout' });
        },
        { keepAlive: true },
      );
    });
  }

  /** An echo request to `destination` as an IPv4 packet: header and message in one buffer. */
  private echoRequest(destination: Ipv4, sequence: number, dataLength: number): Uint8Array {
    const data = this.echoData(dataLength);
    const packet = new Uint8Array(IPV4_HEADER_LEN + ICMP_HEADER_LEN + dataLength);
    emitIpv4Header(packet, 0, {
      source: this.sourceAddressFor(destination),
      destination,
      protocol: IpProtocol.Icmp,
      ttl: IPV4_DEFAULT_TTL,
      typeOfService: 0,
      identification: this.identification,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      payloadLength: ICMP_HEADER_LEN + dataLength,
    });
    emitIcmpEcho(packet, IPV4_HEADER_LEN, {
      type: IcmpType.EchoRequest,
      code: 0,
      identifier: this.identifier,
      sequence,
      data,
    });
    return packet;
  }

  /** The echo data of `length` bytes (0x10, 0x11, ... as ping's pattern), made once per length. */
  private echoData(length: number): Uint8Array {
    let data = this.data;
    if (data.length !== length) {
      data = new Uint8Array(length);
      for (let i = 0; i < length; i++) data[i] = (0x10 + i) & 0xff;
      this.data = data;
    }
    return data;
  }

  /**
   * ip_output's last step: resolve the next hop, then frame and send at once, or leave the
   * packet with the engine (held), or loop it back to ourselves.
   */
  private send(destination: Ipv4, packet: Uint8Array): ResolveResult {
    const result = this.runner.resolve(destination, packet);
    switch (result.kind) {
      case 'resolved':
        this.runner.sendIpv4(result.ifIndex, result.mac, result.source, packet);
        break;
      case 'local':
        // useloopback: our own address, answered without touching a link (after this call
        // returns, as a loopback interface would).
        queueMicrotask(() => this.receivePacket(packet));
        break;
      case 'held':
        break; // the runner frames and sends it when the reply comes (deliver-held)
      case 'failed':
        this.counters.txFailed++;
        break;
    }
    return result;
  }

  /** The source for packets to `destination`: the covering address, else the first one. */
  private sourceAddressFor(destination: Ipv4): Ipv4 {
    let best: { address: Ipv4; prefixLength: number } | undefined;
    let first: Ipv4 | undefined;
    for (const iface of this.runner.engine.interfaces()) {
      for (const a of iface.addresses) {
        first ??= a.address;
        if (((a.address ^ destination) & a.mask) !== 0) continue;
        if (!best || a.prefixLength > best.prefixLength) best = a;
      }
    }
    return best?.address ?? first ?? 0;
  }

  private sleep(ms: number): Promise<void> {
    const clock = this.runner.clock;
    return new Promise((wake) => clock.setTimer(clock.now() + ms, wake, { keepAlive: true }));
  }

  // --- receiving --------------------------------------------------------------------------

  /** ether_input for IPv4: accept frames for our MACs and broadcast, then IP input. */
  private receiveFrame(ifIndex: number, frame: Uint8Array): void {
    const interfaces = this.runner.engine.interfaces();
    const iface = interfaces[ifIndex];
    if (!iface?.up) {
      this.counters.rxInterfaceDown++;
      return;
    }
    const destination = readMac(frame, 0);
    const bridge = iface.bridge >= 0 ? interfaces[iface.bridge] : undefined;
    const ours =
      destination === iface.mac ||
      destination === MAC_BROADCAST ||
      destination === bridge?.mac ||
      iface.carpChildren.some((c) => {
        const child = interfaces[c];
        return child?.carpState === 'master' && child.mac === destination;
      });
    if (!ours) {
      this.counters.rxNotForUs++;
      return;
    }
    this.receivePacket(frame.subarray(ETHERNET_HEADER_LEN));
  }

  /** IP input: only echo requests and replies addressed to one of our addresses. */
  private receivePacket(packet: Uint8Array): void {
    const ip = parseIpv4Packet(packet);
    if ('kind' in ip) {
      this.counters.rxBadIpv4++;
      return;
    }
    if (ip.moreFragments || ip.fragmentOffset !== 0) {
      this.counters.rxFragment++;
      return;
    }
    if (!this.isOurAddress(ip.destination)) {
      this.counters.rxNotOurAddress++;
      return;
    }
    if (ip.protocol !== IpProtocol.Icmp) {
      this.counters.rxNotEcho++;
      return;
    }
    const headerLength = (packet[0]! & 0x0f) * 4;
    const echo = parseIcmpEcho(packet.subarray(headerLength, headerLength + ip.payloadLength));
    if ('kind' in echo) {
      this.counters.rxNotEcho++;
      return;
    }
    if (echo.type === IcmpType.EchoRequest) {
      // RFC 1122 section 3.2.2.6: "Every host MUST implement an ICMP Echo server function".
      this.counters.rxEchoRequests++;
      const sent = this.send(ip.source, buildIcmpEchoReplyPacket(ip, echo));
      if (sent.kind !== 'failed') this.counters.txEchoReplies++;
      return;
    }
    const probe = this.pending.get(echo.sequence);
    if (echo.identifier !== this.identifier || !probe || probe.destination !== ip.source) {
      this.counters.rxUnmatchedReplies++;
      return;
    }
    this.counters.rxEchoReplies++;
    this.pending.delete(echo.sequence);
    probe.timer?.cancel();
    probe.settle({
      sequence: echo.sequence,
      ok: true,
      rttMs: this.runner.clock.now() - probe.sentAt,
      ttl: ip.ttl,
    });
  }

  /** Weak host model (RFC 1122 section 3.3.4.2): any interface's address is ours. */
  private isOurAddress(ip: Ipv4): boolean {
    for (const iface of this.runner.engine.interfaces()) {
      if (iface.addresses.some((a) => a.address === ip)) return true;
    }
    return false;
  }
}
