/**
 * The engine's state and the small operations every part of it shares: sending a request,
 * creating, evicting and freeing entries, holding packets, reporting. `input.ts`,
 * `resolve.ts`, `announce.ts` and `admin.ts` are functions over this state; `engine.ts` is
 * the public facade.
 */
import { type Ipv4, type Mac, writeMac } from '../wire/addr.ts';
import { ARP_ETHER_IPV4_LEN, ArpHardware, ArpOp } from '../wire/arp.ts';
import { ETHERNET_HEADER_LEN } from '../wire/ethernet.ts';
import type { ArpConfig } from './config.ts';
import { NO_MAC } from './entry.ts';
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
import { PRUNE_COST_CHANGED, PrunePass } from './prune.ts';
import { LogLimiter, TokenBucket } from './ratelimit.ts';
import type { RouteTable } from './route.ts';
import type { ArpStats } from './stats.ts';
import { Flag, LruClass, type LruClassValue, type NeighborTable, NIL } from './table.ts';
import { StationWatch } from './watch.ts';

/** Length of every ARP frame netarp sends: 14 + 28, unpadded. */
export const ARP_FRAME_LEN = ETHERNET_HEADER_LEN + ARP_ETHER_IPV4_LEN;

/** 2^-32. Scaling by a power of two is exact, and a multiplication far cheaper than a division. */
const TWO_POW_MINUS_32 = 2 ** -32;

/** Flags that exempt an entry from the eviction lists (with Live cleared: not in the table). */
const EXEMPT_FLAGS = Flag.Live | Flag.Local | Flag.Static | Flag.Published | Flag.ProxyOnly;

/** Everything the engine knows, shared by its parts. Entries are slots of `table`. */
export class EngineState {
  /** The current second (time_second), updated by every input. */
  nowSec = 0;
  /** The current time in milliseconds, as the input gave it (locktime, held packets, rates). */
  nowMs = 0;
  /** Every held packet, in the order held (their `hold_timeout` deadlines, too). */
  readonly holds: HoldQueue;
  /** The prune pass (arptimer), which may be spread over several timer calls. */
  readonly prune = new PrunePass();
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
  ) {
    this.holds = new HoldQueue(table);
  }

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

  /**
   * Reports an entry event: raw to a sink that takes them so (`entryEvent`), else as a
   * formatted `RouteEvent`; to a sink that says it wants none now (`wantsEntryEvents`), not at
   * all.
   */
  report(type: RouteEventType, slot: number, reason: string): void {
    const { table, sink } = this;
    if (sink.wantsEntryEvents !== undefined && !sink.wantsEntryEvents()) return;
    const name = this.interfaces.get(table.ifIndex[slot]!)?.name ?? '?';
    const mac = table.mac[slot]!;
    if (sink.entryEvent !== undefined) {
      sink.entryEvent(type, name, table.ip[slot]!, mac === NO_MAC ? undefined : mac, reason);
    } else {
      this.reportFormatted(type, name, slot, reason);
    }
  }

  /** `report` to a sink that takes `EngineEvent`s (apart, to keep `report` small). */
  private reportFormatted(type: RouteEventType, name: string, slot: number, reason: string): void {
    const { table } = this;
    const mac = table.mac[slot]!;
    this.sink.event(
      routeEvent(type, name, table.ip[slot]!, mac === NO_MAC ? undefined : mac, reason),
    );
  }

  /**
   * Sends the reply to the ARP request in `request`, whose ar_sha (6 bytes) is at
   * `shaOffset`, on `ifp`: back to the requester's hardware address with the fields swapped,
   * saying that `targetIp` is at `ifp`'s MAC, or at the MAC of the published entry in slot
   * `published` (NIL: none).
   *
   * The frame (the layout of `emitEthernetHeader` + `emitArp`) is written byte by byte into
   * the sink's transmit buffer or the engine's reused frame, so that sending allocates
   * nothing: the requester's address copied from the request, the MACs read here rather
   * than passed (a MAC is a double, and passing one to a function the compiler did not
   * inline allocates a box for it), split by a multiplication by 2^-32 (exact, and far
   * cheaper than writeMac's division), and no helper called (the compiler does not always
   * inline one into this path).
   */
  sendReply(
    ifp: Interface,
    request: Uint8Array,
    shaOffset: number,
    hardwareType: number,
    published: number,
    targetIp: Ipv4,
    senderIp: Ipv4,
  ): void {
    const frame = this.frameFor(ifp.index);
    // The requester's address: the Ethernet destination and ar_tha.
    frame[0] = frame[32] = request[shaOffset]!;
    frame[1] = frame[33] = request[shaOffset + 1]!;
    frame[2] = frame[34] = request[shaOffset + 2]!;
    frame[3] = frame[35] = request[shaOffset + 3]!;
    frame[4] = frame[36] = request[shaOffset + 4]!;
    frame[5] = frame[37] = request[shaOffset + 5]!;
    // The Ethernet source, and ar_sha unless a published entry's MAC is the answer.
    const source = ifp.mac;
    let high = (source * TWO_POW_MINUS_32) | 0;
    let low = source >>> 0;
    frame[6] = frame[22] = high >>> 8;
    frame[7] = frame[23] = high;
    frame[8] = frame[24] = low >>> 24;
    frame[9] = frame[25] = low >>> 16;
    frame[10] = frame[26] = low >>> 8;
    frame[11] = frame[27] = low;
    if (published !== NIL) {
      const answer = this.table.mac[published]!;
      high = (answer * TWO_POW_MINUS_32) | 0;
      low = answer >>> 0;
      frame[22] = high >>> 8;
      frame[23] = high;
      frame[24] = low >>> 24;
      frame[25] = low >>> 16;
      frame[26] = low >>> 8;
      frame[27] = low;
    }
    // EtherType ARP; hrd as asked, pro IPv4, hln 6, pln 4, op reply.
    frame[12] = 0x08;
    frame[13] = 0x06;
    frame[14] = hardwareType >>> 8;
    frame[15] = hardwareType;
    frame[16] = 0x08;
    frame[17] = 0x00;
    frame[18] = 6;
    frame[19] = 4;
    frame[20] = 0;
    frame[21] = ArpOp.Reply;
    // ar_spa: the address asked for; ar_tpa: the requester's.
    frame[28] = targetIp >>> 24;
    frame[29] = targetIp >>> 16;
    frame[30] = targetIp >>> 8;
    frame[31] = targetIp;
    frame[38] = senderIp >>> 24;
    frame[39] = senderIp >>> 16;
    frame[40] = senderIp >>> 8;
    frame[41] = senderIp;
    this.transmit(ifp.index, frame);
  }

  /**
   * arprequest: broadcast a request for `targetIp` from `senderIp` on `iface`. The SHA is
   * `senderMac` when given (a published entry's announcement), else the interface's (or its
   * bridge's) MAC. Given `destination`, the request goes to that MAC alone (a unicast poll,
   * `unicast_refresh`). Written as `sendReply` writes its frame.
   */
  sendRequest(
    iface: Interface,
    senderIp: Ipv4,
    targetIp: Ipv4,
    senderMac?: Mac,
    destination?: Mac,
  ): void {
    const frame = this.frameFor(iface.index);
    // The Ethernet destination: broadcast unless given (rare: a refresh); ar_tha: zero.
    if (destination === undefined) {
      frame[0] = frame[1] = frame[2] = frame[3] = frame[4] = frame[5] = 0xff;
    } else {
      writeMac(frame, 0, destination);
    }
    frame[32] = frame[33] = frame[34] = frame[35] = frame[36] = frame[37] = 0;
    const source = iface.mac;
    let high = (source * TWO_POW_MINUS_32) | 0;
    let low = source >>> 0;
    frame[6] = high >>> 8;
    frame[7] = high;
    frame[8] = low >>> 24;
    frame[9] = low >>> 16;
    frame[10] = low >>> 8;
    frame[11] = low;
    // ar_sha: the interface's MAC unless bridged or given. (Split in each branch, not chosen
    // first: a value that is either a parameter or a field would be boxed to be merged.)
    if (senderMac !== undefined) {
      high = (senderMac * TWO_POW_MINUS_32) | 0;
      low = senderMac >>> 0;
    } else if (iface.bridge >= 0) {
      const bridgeMac = this.interfaces.requestSourceMac(iface);
      high = (bridgeMac * TWO_POW_MINUS_32) | 0;
      low = bridgeMac >>> 0;
    }
    frame[22] = high >>> 8;
    frame[23] = high;
    frame[24] = low >>> 24;
    frame[25] = low >>> 16;
    frame[26] = low >>> 8;
    frame[27] = low;
    // EtherType ARP; hrd Ethernet, pro IPv4, hln 6, pln 4, op request.
    frame[12] = 0x08;
    frame[13] = 0x06;
    frame[14] = 0;
    frame[15] = ArpHardware.Ethernet;
    frame[16] = 0x08;
    frame[17] = 0x00;
    frame[18] = 6;
    frame[19] = 4;
    frame[20] = 0;
    frame[21] = ArpOp.Request;
    frame[28] = senderIp >>> 24;
    frame[29] = senderIp >>> 16;
    frame[30] = senderIp >>> 8;
    frame[31] = senderIp;
    frame[38] = targetIp >>> 24;
    frame[39] = targetIp >>> 16;
    frame[40] = targetIp >>> 8;
    frame[41] = targetIp;
    this.transmit(iface.index, frame);
    if (senderIp === targetIp) this.stats.txannounces++;
    else this.stats.txrequests++;
  }

  /**
   * The buffer the next ARP frame sent on `ifIndex` is written into: the sink's own
   * (`OutputSink.transmitBuffer`), so that it need not copy the frame, else the engine's
   * reused one.
   */
  private frameFor(ifIndex: number): Uint8Array {
    const sink = this.sink;
    if (sink.transmitBuffer !== undefined && sink.commitTransmit !== undefined) {
      const buffer = sink.transmitBuffer(ifIndex, ARP_FRAME_LEN);
      if (buffer !== undefined && buffer.length >= ARP_FRAME_LEN) return buffer;
    }
    return this.frame;
  }

  /** Hands the sink the frame `frameFor` gave and the caller wrote. */
  private transmit(ifIndex: number, frame: Uint8Array): void {
    if (frame === this.frame) this.sink.transmit(ifIndex, frame);
    else this.sink.commitTransmit!(ifIndex, ARP_FRAME_LEN);
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
   * refused. Returns its slot. The entry is on no eviction list yet: the caller holds the
   * packet it was made for (which lists it as holding) or relists it, before anything else.
   */
  createEntry(ip: Ipv4, iface: Interface, sourceIp: Ipv4, reason: string): number {
    this.makeRoom(false);
    return this.insertEntry(ip, iface, sourceIp, reason, false);
  }

  /**
   * Creates a dynamic host entry for a sender the network told us about (arp_update_oncpu's
   * arplookup with create), to be resolved at once. The network may only evict idle entries,
   * never one our packets wait for or a gateway; with none left the entry is refused
   * (counted), and NIL.
   */
  learnEntry(ip: Ipv4, iface: Interface, sourceIp: Ipv4, reason: string): number {
    if (!this.makeRoom(true)) return NIL;
    return this.insertEntry(ip, iface, sourceIp, reason, true);
  }

  /**
   * A learned entry the frame then failed to resolve (a wrong interface, a bad address
   * length) stays unresolved, as in the seed; beyond `max_incomplete` it goes at once instead,
   * so that such frames cannot push out the unresolved entries our packets wait for.
   */
  boundUnresolved(slot: number): void {
    const { table } = this;
    if (table.has(slot, Flag.Unresolved) && table.unresolved.size > this.config.max_incomplete) {
      this.stats.evictedIncomplete++;
      this.deleteEntry(slot, 'evicted');
    }
  }

  private insertEntry(
    ip: Ipv4,
    iface: Interface,
    sourceIp: Ipv4,
    reason: string,
    list: boolean,
  ): number {
    const { table } = this;
    const slot = table.insert(ip, iface.index, sourceIp, false);
    // A cloned route inherits the cloning route's non-zero rt_expire (arp_rtrequest, l.234):
    // dynamic, and not valid until resolved.
    table.expire[slot] = this.nowSec;
    table.usedSec[slot] = this.nowSec | 0;
    if (list) this.relist(slot);
    this.report('add', slot, reason);
    return slot;
  }

  /**
   * Evicts until one more dynamic entry fits under `max_entries` and, for our own traffic
   * (whose new entries wait unresolved), `max_incomplete`. Under `max_incomplete` the oldest
   * unresolved entry goes; under `max_entries` the least recently used idle entry, and, for
   * our own traffic only, then the least recently used holding packets, then gateways.
   * Returns false (counted) if the network asked and nothing it may evict was left.
   */
  private makeRoom(forNetwork: boolean): boolean {
    const { table, config } = this;
    if (!forNetwork) {
      while (table.unresolved.tail !== NIL && table.unresolved.size >= config.max_incomplete) {
        this.stats.evictedIncomplete++;
        this.deleteEntry(table.unresolved.tail, 'evicted');
      }
    }
    return table.dynamicCount < config.max_entries || this.evictForCap(forNetwork);
  }

  /** `makeRoom` under `max_entries` (apart, to keep `makeRoom` small). */
  private evictForCap(forNetwork: boolean): boolean {
    const { table, config, stats } = this;
    while (table.dynamicCount >= config.max_entries) {
      // Every dynamic entry is on one of the three lists, so while the count is at the cap
      // (at least 1) our own traffic always finds one.
      let victim = table.idle.tail;
      if (victim === NIL && !forNetwork) {
        victim = table.holding.tail !== NIL ? table.holding.tail : table.gateways.tail;
      }
      if (victim === NIL) {
        stats.tableFull++;
        return false;
      }
      stats.evicted++;
      this.deleteEntry(victim, 'evicted');
    }
    return true;
  }

  /**
   * Puts the entry in `slot` on the eviction list its fields call for, and on or off the
   * unresolved list. Called after anything that changes what it is (created, deleted,
   * resolved, made static, started or stopped holding packets, became or stopped being a
   * gateway).
   */
  relist(slot: number): void {
    const { table } = this;
    let lruClass: LruClassValue;
    if ((table.flags[slot]! & EXEMPT_FLAGS) !== Flag.Live) {
      lruClass = LruClass.Exempt;
    } else if (this.routes.isGatewayReferenced(table.ip[slot]!)) {
      lruClass = LruClass.Gateway;
    } else if (table.heldCount[slot] !== 0) {
      lruClass = LruClass.Holding;
    } else {
      lruClass = LruClass.Idle;
    }
    table.setClass(slot, lruClass);
    table.setUnresolved(
      slot,
      (lruClass === LruClass.Idle || lruClass === LruClass.Holding) && table.mac[slot] === NO_MAC,
    );
  }

  /**
   * Holds `packet` for the entry in `slot` (la_hold): newest last; beyond `maxhold` packets or
   * `maxhold_bytes` bytes the oldest go, each counted, but the newest always stays.
   */
  hold(slot: number, packet: Uint8Array): void {
    const { holds, table } = this;
    holds.setHeldAt(holds.add(slot, packet), this.nowMs);
    // One packet is within both bounds (`maxhold` is at least 1, and the newest stays).
    if (table.heldCount[slot]! > 1) this.trimHeld(slot);
    // Idle, or new (not listed yet): now holding. A static entry's relist changes nothing.
    const lruClass = table.lruClass[slot];
    if (lruClass === LruClass.Idle || lruClass === LruClass.Exempt) this.relist(slot);
  }

  /** Drops the oldest packets `slot` holds beyond `maxhold` and `maxhold_bytes`, counting each. */
  private trimHeld(slot: number): void {
    const { holds, config, stats, table } = this;
    // With the seed's maxhold of 1 the newest replaces the held one (arpresolve, l.551).
    while (table.heldCount[slot]! > config.maxhold) {
      holds.removeOldest(slot);
      stats.dropped++;
    }
    if (config.maxhold_bytes > 0) {
      while (table.heldCount[slot]! > 1 && table.heldBytes[slot]! > config.maxhold_bytes) {
        holds.removeOldest(slot);
        stats.dropped++;
        stats.holdBytesDropped++;
      }
    }
  }

  /** When the oldest held packet reaches `hold_timeout` (milliseconds), if one must. */
  holdDeadline(): number | undefined {
    const oldest = this.holds.oldest;
    const timeout = this.config.hold_timeout;
    return oldest !== NIL && timeout > 0 ? this.holds.heldAt(oldest) + timeout * 1000 : undefined;
  }

  /**
   * Drops the held packets whose `hold_timeout` has passed at `now` (milliseconds) while
   * `budget` lasts, each costing `PRUNE_COST_CHANGED` of it (as an entry the prune pass
   * frees); returns what is left of the budget. Packets left over are still due.
   */
  expireHeld(now: number, budget: number): number {
    const { holds, stats, table } = this;
    for (let deadline = this.holdDeadline(); deadline !== undefined && deadline <= now; ) {
      if (budget <= 0) return 0;
      budget -= PRUNE_COST_CHANGED;
      // The engine-wide oldest is also its entry's oldest: both are in the order held.
      const slot = holds.ownerOf(holds.oldest);
      holds.removeOldest(slot);
      stats.dropped++;
      stats.holdTimeouts++;
      if (table.heldCount[slot] === 0) this.relist(slot);
      deadline = this.holdDeadline();
    }
    return budget;
  }

  /** Drops every packet an entry holds, counting each. */
  dropHeld(slot: number): void {
    if (this.table.heldCount[slot] !== 0) this.stats.dropped += this.holds.removeAll(slot);
  }

  /** Removes a host or proxy entry, dropping what it holds, and reports it. */
  deleteEntry(slot: number, reason: string): void {
    const { table } = this;
    if (!table.isLive(slot)) return;
    this.prune.forget(table, slot);
    table.unlink(slot);
    this.dropHeld(slot);
    this.report('delete', slot, reason);
    table.release(slot);
  }

  /** Hands the held packets of a now-resolved entry to the caller, oldest first. */
  deliverHeld(slot: number): void {
    const { table } = this;
    if (table.heldCount[slot] === 0) return;
    const held: Uint8Array[] = [];
    this.holds.removeAll(slot, held);
    this.relist(slot);
    const iface = this.interfaces.get(table.ifIndex[slot]!);
    if (!iface) return;
    const ip = table.ip[slot]!;
    const mac = table.mac[slot]!;
    for (let i = 0; i < held.length; i++) {
      this.sink.deliverHeld(iface.index, ip, mac, iface.mac, held[i]!);
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
