/**
 * The engine's state and the small operations every part of it shares: sending a request,
 * creating, evicting and freeing entries, holding packets, reporting. `input.ts`,
 * `resolve.ts`, `announce.ts` and `admin.ts` are functions over this state; `engine.ts` is
 * the public facade.
 */
import { type Ipv4, MAC_BROADCAST, MAC_ZERO, type Mac } from '../wire/addr.ts';
import { ARP_ETHER_IPV4_LEN, ArpHardware, ArpOp, emitArp } from '../wire/arp.ts';
import { ETHERNET_HEADER_LEN, EtherType, emitEthernetHeader } from '../wire/ethernet.ts';
import type { ArpConfig } from './config.ts';
import { Entry, type EntryClass, NO_MAC } from './entry.ts';
import {
  type LogKind,
  type LogLevel,
  LogText,
  logEvent,
  type RouteEventType,
  routeEvent,
} from './events.ts';
import { HoldQueue } from './hold-queue.ts';
import type { Interface, InterfaceTable } from './iface.ts';
import type { OutputSink } from './output.ts';
import { LogLimiter, TokenBucket } from './ratelimit.ts';
import type { RouteTable } from './route.ts';
import type { ArpStats } from './stats.ts';
import type { NeighborTable } from './table.ts';
import { StationWatch } from './watch.ts';

/** Length of every ARP frame netarp sends: 14 + 28, unpadded. */
export const ARP_FRAME_LEN = ETHERNET_HEADER_LEN + ARP_ETHER_IPV4_LEN;

/** Everything the engine knows, shared by its parts. */
export class EngineState {
  /** The current second (time_second), updated by every input. */
  nowSec = 0;
  /** The current time in milliseconds, as the input gave it (locktime, held packets, rates). */
  nowMs = 0;
  /** Every held packet, in the order held (their `hold_timeout` deadlines, too). */
  readonly holds = new HoldQueue();
  /** The stations heard, for the arpwatch report. */
  readonly watch = new StationWatch();
  /** The engine-wide budget of requests (`max_requests_per_sec`). */
  private readonly requestBudget = new TokenBucket();
  /** The per-kind log budget (`log_ratelimit`). */
  private readonly logLimiter = new LogLimiter();
  /** Where outputs go during the current input. */
  sink!: OutputSink;
  /** When the next prune pass is due, in milliseconds; undefined until an address exists. */
  nextPruneAt: number | undefined = undefined;
  /** One frame buffer reused for every ARP frame sent (sinks copy what they keep). */
  private readonly frame = new Uint8Array(ARP_FRAME_LEN);

  constructor(
    readonly config: ArpConfig,
    readonly interfaces: InterfaceTable,
    readonly routes: RouteTable,
    readonly table: NeighborTable,
    readonly stats: ArpStats,
  ) {}

  /**
   * Reports a log line of `kind` (built by `LogText[kind](...args)`) unless `log_ratelimit`
   * suppresses it; the text is only built when the line goes out.
   */
  log<K extends LogKind>(level: LogLevel, kind: K, ...args: Parameters<(typeof LogText)[K]>): void {
    const suppressed = this.logLimiter.admit(kind, this.nowSec, this.config.log_ratelimit);
    if (suppressed < 0) {
      this.stats.logSuppressed++;
      return;
    }
    const build = LogText[kind] as (...values: typeof args) => string;
    this.sink.event(logEvent(level, build(...args), suppressed));
  }

  /** Reports an entry event. */
  report(type: RouteEventType, entry: Entry, reason: string): void {
    const iface = this.interfaces.get(entry.ifIndex);
    this.sink.event(
      routeEvent(
        type,
        iface?.name ?? '?',
        entry.ip,
        entry.mac === NO_MAC ? undefined : entry.mac,
        reason,
      ),
    );
  }

  /**
   * Sends an ARP packet on `iface`: Ethernet source is the interface's MAC (ether_output),
   * `senderMac` the ARP SHA.
   */
  sendArp(
    iface: Interface,
    ethernetDestination: Mac,
    operation: number,
    hardwareType: number,
    senderMac: Mac,
    senderIp: Ipv4,
    targetMac: Mac,
    targetIp: Ipv4,
  ): void {
    const frame = this.frame;
    emitEthernetHeader(frame, 0, ethernetDestination, iface.mac, EtherType.Arp);
    emitArp(frame, ETHERNET_HEADER_LEN, {
      hardwareType,
      operation,
      senderMac,
      senderIp,
      targetMac,
      targetIp,
    });
    this.sink.transmit(iface.index, frame);
  }

  /**
   * arprequest: broadcast a request for `targetIp` from `senderIp`. The SHA is `senderMac`
   * when given (a published entry's announcement), else the interface's (or its bridge's) MAC.
   */
  sendRequest(iface: Interface, senderIp: Ipv4, targetIp: Ipv4, senderMac?: Mac): void {
    this.sendArp(
      iface,
      MAC_BROADCAST,
      ArpOp.Request,
      ArpHardware.Ethernet,
      senderMac ?? this.interfaces.requestSourceMac(iface),
      senderIp,
      MAC_ZERO,
      targetIp,
    );
    if (senderIp === targetIp) this.stats.txannounces++;
    else this.stats.txrequests++;
  }

  /**
   * Whether a resolution or refresh request may go out now (`max_requests_per_sec`, a token
   * bucket over all entries); counts the ones it holds back.
   */
  requestAllowed(): boolean {
    const rate = this.config.max_requests_per_sec;
    if (rate === 0 || this.requestBudget.take(this.nowMs, rate)) return true;
    this.stats.txRateLimited++;
    return false;
  }

  /**
   * Creates a dynamic host entry (a cloned route) for our own traffic: unresolved, "expired"
   * as of now. Makes room first; our traffic may evict any dynamic entry, so it is never
   * refused.
   */
  createEntry(ip: Ipv4, iface: Interface, sourceIp: Ipv4, reason: string): Entry {
    this.makeRoom(false);
    return this.insertEntry(ip, iface, sourceIp, reason);
  }

  /**
   * Creates a dynamic host entry for a sender the network told us about (arp_update_oncpu's
   * arplookup with create), to be resolved at once. The network may only evict idle entries,
   * never one our packets wait for or a gateway; with none left the entry is refused
   * (counted), and undefined.
   */
  learnEntry(ip: Ipv4, iface: Interface, sourceIp: Ipv4, reason: string): Entry | undefined {
    if (!this.makeRoom(true)) return undefined;
    return this.insertEntry(ip, iface, sourceIp, reason);
  }

  /**
   * A learned entry the frame then failed to resolve (a wrong interface, a bad address
   * length) stays unresolved, as in the seed; beyond `max_incomplete` it goes at once instead,
   * so that such frames cannot push out the unresolved entries our packets wait for.
   */
  boundUnresolved(entry: Entry): void {
    if (entry.unresolved && this.table.unresolved.size > this.config.max_incomplete) {
      this.stats.evictedIncomplete++;
      this.deleteEntry(entry, 'evicted');
    }
  }

  private insertEntry(ip: Ipv4, iface: Interface, sourceIp: Ipv4, reason: string): Entry {
    const entry = new Entry(ip, iface.index, sourceIp);
    // A cloned route inherits the cloning route's non-zero rt_expire (arp_rtrequest, l.234):
    // dynamic, and not valid until resolved.
    entry.expire = this.nowSec;
    entry.usedSec = this.nowSec;
    this.table.hosts.set(ip, entry);
    this.relist(entry);
    this.report('add', entry, reason);
    return entry;
  }

  /**
   * Evicts until one more dynamic entry fits under `max_entries` and, for our own traffic
   * (whose new entries wait unresolved), `max_incomplete`. Under `max_incomplete` the oldest
   * unresolved entry goes; under `max_entries` the least recently used idle entry, and, for
   * our own traffic only, then the least recently used holding packets, then gateways.
   * Returns false (counted) if the network asked and nothing it may evict was left.
   */
  private makeRoom(forNetwork: boolean): boolean {
    const { table, config, stats } = this;
    if (!forNetwork) {
      for (let oldest = table.unresolved.tail; oldest; oldest = table.unresolved.tail) {
        if (table.unresolved.size < config.max_incomplete) break;
        stats.evictedIncomplete++;
        this.deleteEntry(oldest.entry, 'evicted');
      }
    }
    while (table.dynamicCount >= config.max_entries) {
      // Every dynamic entry is on one of the three lists, so while the count is at the cap
      // (at least 1) our own traffic always finds one.
      const victim =
        table.idle.tail ?? (forNetwork ? undefined : (table.holding.tail ?? table.gateways.tail));
      if (!victim) {
        stats.tableFull++;
        return false;
      }
      stats.evicted++;
      this.deleteEntry(victim, 'evicted');
    }
    return true;
  }

  /**
   * Puts `entry` on the eviction list its fields call for, and on or off the unresolved
   * list. Called after anything that changes what it is (created, deleted, resolved, made
   * static, started or stopped holding packets, became or stopped being a gateway).
   */
  relist(entry: Entry): void {
    const { table } = this;
    let lruClass: EntryClass;
    if (
      entry.isLocal ||
      entry.isStatic ||
      entry.published ||
      entry.proxyOnly ||
      table.hosts.get(entry.ip) !== entry
    ) {
      lruClass = 'exempt';
    } else if (this.routes.isGatewayReferenced(entry.ip)) {
      lruClass = 'gateway';
    } else if (entry.held) {
      lruClass = 'holding';
    } else {
      lruClass = 'idle';
    }
    table.setClass(entry, lruClass);
    table.setUnresolved(
      entry,
      (lruClass === 'idle' || lruClass === 'holding') && entry.mac === NO_MAC,
    );
  }

  /**
   * Holds `packet` for `entry` (la_hold): newest last; beyond `maxhold` packets or
   * `maxhold_bytes` bytes the oldest go, each counted, but the newest always stays.
   */
  hold(entry: Entry, packet: Uint8Array): void {
    const { holds, config, stats } = this;
    holds.add(entry, packet, this.nowMs);
    // With the seed's maxhold of 1 the newest replaces the held one (arpresolve, l.551).
    while (entry.held!.length > config.maxhold) {
      holds.removeOldest(entry);
      stats.dropped++;
    }
    if (config.maxhold_bytes > 0) {
      while (entry.held!.length > 1 && entry.heldBytes > config.maxhold_bytes) {
        holds.removeOldest(entry);
        stats.dropped++;
        stats.holdBytesDropped++;
      }
    }
    if (entry.lruClass === 'idle') this.relist(entry);
  }

  /** When the oldest held packet reaches `hold_timeout` (milliseconds), if one must. */
  holdDeadline(): number | undefined {
    const oldest = this.holds.oldest;
    const timeout = this.config.hold_timeout;
    return oldest && timeout > 0 ? oldest.heldAt + timeout * 1000 : undefined;
  }

  /** Drops the held packets whose `hold_timeout` has passed at `now` (milliseconds). */
  expireHeld(now: number): void {
    const { holds, stats } = this;
    for (let deadline = this.holdDeadline(); deadline !== undefined && deadline <= now; ) {
      // The engine-wide oldest is also its entry's oldest: both are in the order held.
      const entry = holds.oldest!.entry;
      holds.removeOldest(entry);
      stats.dropped++;
      stats.holdTimeouts++;
      if (!entry.held) this.relist(entry);
      deadline = this.holdDeadline();
    }
  }

  /** Drops every packet an entry holds, counting each. */
  dropHeld(entry: Entry): void {
    if (entry.held) this.stats.dropped += this.holds.removeAll(entry).length;
  }

  /** Removes a host or proxy entry, dropping what it holds, and reports it. */
  deleteEntry(entry: Entry, reason: string): void {
    const map = entry.proxyOnly ? this.table.proxies : this.table.hosts;
    if (map.get(entry.ip) !== entry) return;
    map.delete(entry.ip);
    this.dropHeld(entry);
    this.relist(entry);
    this.report('delete', entry, reason);
  }

  /** Hands the held packets of a now-resolved entry to the caller, oldest first. */
  deliverHeld(entry: Entry): void {
    if (!entry.held) return;
    const held = this.holds.removeAll(entry);
    this.relist(entry);
    const iface = this.interfaces.get(entry.ifIndex);
    if (!iface) return;
    for (const { packet } of held) {
      this.sink.deliverHeld(iface.index, entry.ip, entry.mac, iface.mac, packet);
    }
  }

  /** The arpwatch report: records a sender heard on `iface` and reports what it means. */
  watchStation(iface: Interface, ip: Ipv4, mac: Mac): void {
    const { config, stats } = this;
    const verdict = this.watch.hear(
      ip,
      mac,
      this.nowSec,
      config.max_entries,
      config.arpwatch_window,
    );
    switch (verdict.kind) {
      case 'known':
        return;
      case 'new station':
        stats.watchNewStations++;
        this.log('info', 'newStation', ip, mac, iface.name);
        return;
      case 'changed':
        stats.watchChanges++;
        this.log('info', 'changedAddress', ip, mac, verdict.previousMac, iface.name);
        return;
      case 'flip flop':
        stats.watchFlipFlops++;
        this.log('warning', 'flipFlop', ip, mac, verdict.previousMac, iface.name);
        return;
    }
  }
}
