/**
 * `resolve`: the MAC of a neighbour, found the way the kernel finds one, through arpresolve.
 *
 * An entry that already has a MAC answers at once and nothing is sent. Otherwise a probe
 * packet (an ICMP echo request from our address, what `ping` would send) is offered to the
 * engine's resolve path: the engine holds it and sends an ARP request, exactly as for any
 * outgoing packet. Like a program that keeps sending, the probe is offered again once a
 * second, so the engine's own pacing applies (at most one request a second, `maxtries` of
 * them, then the host is down for `host_down_time`; RFC 1122 section 2.3.2.1). Each re-offer
 * replaces the held probe, which the engine counts in `dropped`, as it would any replaced
 * packet. When the reply comes the held probe goes out as a real echo request and its answer
 * is counted by the host as an unmatched reply: the price of using the real path.
 *
 * The request ends when the entry has a MAC (resolved), when the engine fails the send (the
 * errno text) or declares the host down, or at the timeout.
 */

import type { ResolveInfo } from '../control/protocol.ts';
import type { EntryInfo } from '../core/admin.ts';
import type { Engine } from '../core/engine.ts';
import type { Timer } from '../runtime/clock.ts';
import type { Runner, RuntimeEvent } from '../runtime/runner.ts';
import { formatIpv4, type Ipv4, parseIpv4 } from '../wire/addr.ts';
import { buildIcmpEcho, IcmpType } from '../wire/icmp.ts';
import { buildIpv4Packet, IPV4_DEFAULT_TTL, IpProtocol } from '../wire/ipv4.ts';

/** The ICMP identifier of resolve probes ("NR"), distinct from the host's pings ("NA"). */
const PROBE_IDENTIFIER = 0x4e52;

/** How often a waiting resolve offers its probe again: the engine sends at most one request a second. */
const RETRY_INTERVAL_MS = 1000;

interface Waiter {
  readonly ip: string;
  /** Re-checks the entry after an event about it. */
  readonly check: () => void;
  /** Ends the wait as timed out. */
  readonly cancel: () => void;
}

/** Runs `resolve` requests against a runner. */
export class Resolver {
  private readonly waiters = new Set<Waiter>();
  private sequence = 0;

  constructor(
    private readonly runner: Runner,
    private readonly engine: Engine,
  ) {}

  /** Hands a runtime event to the waiting requests (the daemon calls it for every event). */
  /** Whether a resolution is waiting for its entry's events. */
  get waiting(): boolean {
    return this.waiters.size > 0;
  }

  onEvent(event: RuntimeEvent): void {
    if (event.kind !== 'engine' || event.event.kind !== 'route') return;
    for (const waiter of this.waiters) if (waiter.ip === event.event.ip) waiter.check();
  }

  /** Ends every waiting request as timed out (the daemon is stopping). */
  cancelAll(): void {
    for (const waiter of [...this.waiters]) waiter.cancel();
  }

  /** Resolves `host` (dotted IPv4), waiting at most `timeoutMs`. Never rejects. */
  resolve(host: string, timeoutMs: number): Promise<ResolveInfo> {
    const target = parseIpv4(host);
    const ip = formatIpv4(target);
    const clock = this.runner.clock;
    const start = clock.now();
    const elapsed = (): number => Math.max(0, clock.now() - start);

    return new Promise<ResolveInfo>((settle) => {
      let retry: Timer | undefined;
      let deadline: Timer | undefined;
      const finish = (info: ResolveInfo): void => {
        if (!this.waiters.delete(waiter)) return;
        retry?.cancel();
        deadline?.cancel();
        settle(info);
      };
      const fail = (reason: Extract<ResolveInfo, { resolved: false }>['reason']): void =>
        finish({ resolved: false, ip, reason, elapsedMs: elapsed() });
      /** Settles from the entry if it has a MAC or is down; returns whether it did. */
      const fromEntry = (): boolean => {
        const entry = this.usableEntry(target);
        if (entry?.state === 'down') {
          fail('host is down');
          return true;
        }
        if (entry?.mac !== undefined) {
          finish({
            resolved: true,
            ip,
            mac: entry.mac,
            ifName: entry.ifName,
            state: entry.state,
            elapsedMs: elapsed(),
          });
          return true;
        }
        return false;
      };
      const attempt = (): void => {
        retry = undefined;
        if (fromEntry()) return;
        const result = this.runner.resolve(target, this.probe(target));
        switch (result.kind) {
          case 'failed':
            fail(result.reason);
            return;
          case 'resolved':
          case 'local':
            // The entry has its MAC now; the probe is not needed and is not sent.
            if (!fromEntry()) fail('no route to host');
            return;
          case 'held':
            // The attempt may have given up (maxtries reached: the entry is now down).
            if (fromEntry()) return;
            retry = clock.setTimer(clock.now() + RETRY_INTERVAL_MS, attempt);
            return;
        }
      };
      const waiter: Waiter = {
        ip,
        check: () => {
          fromEntry();
        },
        cancel: () => fail('timeout'),
      };
      this.waiters.add(waiter);
      deadline = clock.setTimer(start + timeoutMs, () => fail('timeout'));
      attempt();
    });
  }

  /** The entry for `ip` our own traffic would use: the host entry, never a proxy-only one. */
  private usableEntry(ip: Ipv4): EntryInfo | undefined {
    const entry = this.engine.lookup(this.runner.now(), ip);
    if (!entry || entry.proxyOnly) return undefined;
    if (entry.state === 'expired' || entry.state === 'incomplete')
      return { ...entry, mac: undefined };
    return entry;
  }

  /** An ICMP echo request to `destination` from the address that covers it. */
  private probe(destination: Ipv4): Uint8Array {
    this.sequence = (this.sequence + 1) & 0xffff;
    const echo = buildIcmpEcho({
      type: IcmpType.EchoRequest,
      code: 0,
      identifier: PROBE_IDENTIFIER,
      sequence: this.sequence,
      data: new Uint8Array(0),
    });
    return buildIpv4Packet(
      {
        source: this.sourceFor(destination),
        destination,
        protocol: IpProtocol.Icmp,
        ttl: IPV4_DEFAULT_TTL,
        typeOfService: 0,
        // RFC 6864 section 4.1: an atomic datagram (DF set) may carry identification 0.
        identification: 0,
        dontFragment: true,
        moreFragments: false,
        fragmentOffset: 0,
      },
      echo,
    );
  }

  /** The longest-prefix interface address covering `destination`, else the first address. */
  private sourceFor(destination: Ipv4): Ipv4 {
    let best: { address: Ipv4; prefixLength: number } | undefined;
    let first: Ipv4 | undefined;
    for (const iface of this.engine.interfaces()) {
      for (const a of iface.addresses) {
        first ??= a.address;
        if (((a.address ^ destination) & a.mask) !== 0) continue;
        if (!best || a.prefixLength > best.prefixLength) best = a;
      }
    }
    return best?.address ?? first ?? 0;
  }
}
