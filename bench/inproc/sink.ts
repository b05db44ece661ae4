/**
 * The output sink the in-process workloads hand to the engine: what a runtime's sink does
 * with each output, at the least cost: a transmitted frame is written by the engine straight
 * into one reusable transmit buffer (`transmitBuffer`, a transmit ring reduced to one slot;
 * a frame handed to `transmit` instead is copied into it), a held packet handed back is
 * counted, and entry events are counted by type. It keeps the last frame so that a workload
 * can be checked byte for byte, and counters so that every repetition can be checked against
 * what each operation must cause.
 */
import type { EngineEvent, RouteEventType } from '../../src/core/events.ts';
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

  transmit(_ifIndex: number, frame: Uint8Array): void {
    this.tx.set(frame);
    this.txLength = frame.length;
    this.counts.transmits++;
  }

  /** The engine writes its frames straight into `tx` (no copy). */
  transmitBuffer(_ifIndex: number, _length: number): Uint8Array {
    return this.tx;
  }

  commitTransmit(_ifIndex: number, length: number): void {
    this.txLength = length;
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
    _ifName: string,
    _ip: Ipv4,
    _mac: Mac | undefined,
    _reason: string,
  ): void {
    this.countRoute(type);
  }

  /** The last frame transmitted (a copy). */
  lastFrame(): Uint8Array {
    return this.tx.slice(0, this.txLength);
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

  transmitBuffer(ifIndex: number, length: number): Uint8Array {
    return this.inner.transmitBuffer(ifIndex, length);
  }

  commitTransmit(ifIndex: number, length: number): void {
    this.inner.commitTransmit(ifIndex, length);
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
