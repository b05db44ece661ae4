/**
 * The engine's state and the small operations every part of it shares: sending a request,
 * creating and freeing entries, reporting. `input.ts`, `resolve.ts`, `announce.ts` and
 * `admin.ts` are functions over this state; `engine.ts` is the public facade.
 */
import { type Ipv4, MAC_BROADCAST, MAC_ZERO, type Mac } from '../wire/addr.ts';
import { ARP_ETHER_IPV4_LEN, ArpHardware, ArpOp, emitArp } from '../wire/arp.ts';
import { ETHERNET_HEADER_LEN, EtherType, emitEthernetHeader } from '../wire/ethernet.ts';
import type { ArpConfig } from './config.ts';
import { Entry, NO_MAC } from './entry.ts';
import { type LogLevel, logEvent, type RouteEventType, routeEvent } from './events.ts';
import type { Interface, InterfaceTable } from './iface.ts';
import type { OutputSink } from './output.ts';
import type { RouteTable } from './route.ts';
import type { ArpStats } from './stats.ts';
import type { NeighborTable } from './table.ts';

/** Length of every ARP frame netarp sends: 14 + 28, unpadded. */
export const ARP_FRAME_LEN = ETHERNET_HEADER_LEN + ARP_ETHER_IPV4_LEN;

/** Everything the engine knows, shared by its parts. */
export class EngineState {
  /** The current second (time_second), updated by every input. */
  nowSec = 0;
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

  /** Reports a log line with the seed's text. */
  log(level: LogLevel, message: string): void {
    this.sink.event(logEvent(level, message));
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

  /** Creates a dynamic host entry (a cloned route): unresolved, "expired" as of now. */
  createEntry(
    ip: Ipv4,
    iface: Interface,
    sourceIp: Ipv4,
    reason: string,
    mac: Mac = NO_MAC,
  ): Entry {
    const entry = new Entry(ip, iface.index, sourceIp);
    // A cloned route inherits the cloning route's non-zero rt_expire (arp_rtrequest, l.234):
    // dynamic, and not valid until resolved.
    entry.expire = this.nowSec;
    entry.mac = mac;
    this.table.hosts.set(ip, entry);
    this.report('add', entry, reason);
    return entry;
  }

  /** Drops every packet an entry holds, counting each. */
  dropHeld(entry: Entry): void {
    if (entry.held) {
      this.stats.dropped += entry.held.length;
      entry.held = undefined;
    }
  }

  /** Removes a host or proxy entry, dropping what it holds, and reports it. */
  deleteEntry(entry: Entry, reason: string): void {
    const map = entry.proxyOnly ? this.table.proxies : this.table.hosts;
    if (map.get(entry.ip) !== entry) return;
    map.delete(entry.ip);
    this.dropHeld(entry);
    this.report('delete', entry, reason);
  }

  /** Hands the held packets of a now-resolved entry to the caller, oldest first. */
  deliverHeld(entry: Entry): void {
    const held = entry.held;
    if (!held) return;
    entry.held = undefined;
    const iface = this.interfaces.get(entry.ifIndex);
    if (!iface) return;
    for (const packet of held) {
      this.sink.deliverHeld(iface.index, entry.ip, entry.mac, iface.mac, packet);
    }
  }
}
