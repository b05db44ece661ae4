/**
 * The output sink the in-process workloads hand to the engine: what a runtime's sink does
 * with each output, at the least cost: a transmitted frame is copied into one reusable
 * transmit buffer (the engine's own frame is a scratch buffer), a held packet handed back is
 * counted, and entry events are counted by type. It keeps the last frame and event so that a
 * workload can be checked byte for byte, and counters so that every repetition can be checked
 * against what each operation must cause.
 */
import type { EngineEvent, RouteEventType } from '../../src/core/events.ts';
import { routeEvent } from '../../src/core/events.ts';
import type { OutputSink } from '../../src/core/output.ts';
import type { Ipv4, Mac } from '../../src/wire/addr.ts';

/** Counters of what the engine handed to a sink. */
export interface SinkCounts {
  transmits: number;
  delivered: number;
  adds: number;
  resolves: number;
  changes: number;
  deletes: number;
  misses: number;
  logs: number;
}

/** A zeroed `SinkCounts`. */
export function zeroCounts(): SinkCounts {
  return {
    transmits: 0,
    delivered: 0,
    adds: 0,
    resolves: 0,
    changes: 0,
    deletes: 0,
    misses: 0,
    logs: 0,
  };
}

/** A sink taking entry events raw (`entryEvent`): the engine formats nothing for it. */
export class BenchSink implements OutputSink {
  /** The buffer every frame is copied into: a runtime's transmit ring, reduced to one slot. */
  readonly tx = new Uint8Array(1514);
  /** Length of the last frame copied into `tx`. */
  txLength = 0;
  readonly counts: SinkCounts = zeroCounts();
  /** The last entry event's values, formatted only when a check asks for them. */
  private lastType: RouteEventType | undefined = undefined;
  private lastIfName = '';
  private lastIp: Ipv4 = 0;
  private lastMac: Mac | undefined = undefined;
  private lastReason = '';

  transmit(_ifIndex: number, frame: Uint8Array): void {
    this.tx.set(frame);
    this.txLength = frame.length;
    this.counts.transmits++;
  }

  deliverHeld(
    _ifIndex: number,
    _nextHop: Ipv4,
    _destination: Mac,
    _source: Mac,
    _packet: Uint8Array,
  ): void {
    this.counts.delivered++;
  }

  event(event: EngineEvent): void {
    if (event.kind === 'log') this.counts.logs++;
    else this.countRoute(event.type);
  }

  entryEvent(
    type: RouteEventType,
    ifName: string,
    ip: Ipv4,
    mac: Mac | undefined,
    reason: string,
  ): void {
    this.countRoute(type);
    this.lastType = type;
    this.lastIfName = ifName;
    this.lastIp = ip;
    this.lastMac = mac;
    this.lastReason = reason;
  }

  /** The last frame transmitted (a copy). */
  lastFrame(): Uint8Array {
    return this.tx.slice(0, this.txLength);
  }

  /** The last entry event, as the engine would have formatted it. */
  lastRouteEvent(): EngineEvent | undefined {
    if (this.lastType === undefined) return undefined;
    return routeEvent(this.lastType, this.lastIfName, this.lastIp, this.lastMac, this.lastReason);
  }

  protected countRoute(type: RouteEventType): void {
    const counts = this.counts;
    switch (type) {
      case 'add':
        counts.adds++;
        break;
      case 'resolve':
        counts.resolves++;
        break;
      case 'change':
        counts.changes++;
        break;
      case 'delete':
        counts.deletes++;
        break;
      case 'miss':
        counts.misses++;
        break;
    }
  }
}

/**
 * The same sink without `entryEvent`: the engine builds and formats every entry event (IP and
 * MAC as text) before handing it over, as it does for a sink that wants `EngineEvent`s.
 */
export class FormattedEventSink implements OutputSink {
  private readonly inner = new BenchSink();
  readonly counts = this.inner.counts;

  transmit(ifIndex: number, frame: Uint8Array): void {
    this.inner.transmit(ifIndex, frame);
  }

  deliverHeld(
    ifIndex: number,
    nextHop: Ipv4,
    destination: Mac,
    source: Mac,
    packet: Uint8Array,
  ): void {
    this.inner.deliverHeld(ifIndex, nextHop, destination, source, packet);
  }

  event(event: EngineEvent): void {
    this.inner.event(event);
  }
}
