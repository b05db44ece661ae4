/**
 * An arpwatch(8)-style watch of the stations heard on the links (knob `arpwatch`): every
 * sender IP/MAC pair in a well-formed ARP frame is checked against what was heard before:
 *
 * - an address never heard (or forgotten) is a "new station";
 * - an address heard with another MAC is a "changed ethernet address";
 * - an address heard with the MAC it had before the current one is a "flip flop", arpwatch's
 *   sign of two stations fighting over one address (spoofing, or a misconfiguration); with
 *   `arpwatch_window` > 0 only when the previous change was less than that many seconds ago.
 *
 * arpwatch keeps its history in a file without bound; netarp keeps it in memory, bounded by
 * `max_entries` stations, forgetting the least recently heard one first.
 */
import type { Ipv4, Mac } from '../wire/addr.ts';
import { DList, type Linked } from './dlist.ts';

/** What is remembered about one address. */
export class Station implements Linked<Station> {
  /** The station heard more recently. */
  prev: Station | undefined = undefined;
  /** The station heard less recently. */
  next: Station | undefined = undefined;
  /** The MAC before `mac`, if it ever changed. */
  previousMac: Mac | undefined = undefined;
  /** The second `mac` last changed. */
  changedAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly ip: Ipv4,
    /** The MAC heard last. */
    public mac: Mac,
  ) {}
}

/** What hearing a pair meant. */
export type WatchVerdict =
  | { readonly kind: 'known' }
  | { readonly kind: 'new station' }
  | { readonly kind: 'changed' | 'flip flop'; readonly previousMac: Mac };

const KNOWN: WatchVerdict = { kind: 'known' };
const NEW_STATION: WatchVerdict = { kind: 'new station' };

/** The stations heard, most recently heard first. */
export class StationWatch {
  private readonly byIp = new Map<Ipv4, Station>();
  private readonly order = new DList<Station>();

  /** Number of stations remembered. */
  get size(): number {
    return this.byIp.size;
  }

  /** Forgets every station (the watch was turned off). */
  clear(): void {
    this.byIp.clear();
    while (this.order.tail) this.order.remove(this.order.tail);
  }

  /**
   * Records that `ip` was heard at `mac` in second `nowSec`; `capacity` bounds the history
   * and `window` (seconds, 0: none) bounds what counts as a flip flop.
   */
  hear(ip: Ipv4, mac: Mac, nowSec: number, capacity: number, window: number): WatchVerdict {
    const station = this.byIp.get(ip);
    if (!station) {
      while (this.order.tail && this.byIp.size >= capacity) {
        const oldest = this.order.tail;
        this.order.remove(oldest);
        this.byIp.delete(oldest.ip);
      }
      const heard = new Station(ip, mac);
      this.byIp.set(ip, heard);
      this.order.pushFront(heard);
      return NEW_STATION;
    }
    this.order.moveToFront(station);
    if (station.mac === mac) return KNOWN;
    const previousMac = station.mac;
    const flipFlop =
      station.previousMac === mac && (window === 0 || nowSec - station.changedAt < window);
    station.previousMac = previousMac;
    station.mac = mac;
    station.changedAt = nowSec;
    return { kind: flipFlop ? 'flip flop' : 'changed', previousMac };
  }
}
