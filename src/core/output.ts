/**
 * What the engine's inputs cause, as values. The engine never sends: it hands each output to
 * a sink. `CollectingSink` gathers them into an array (what tests compare with deepEqual); a
 * runtime can pass its own sink to put frames on a link without building an array.
 */
import type { Ipv4, Mac } from '../wire/addr.ts';
import type { EngineEvent, RouteEventType } from './events.ts';

/** A frame to put on an interface's link. */
export interface TransmitOutput {
  readonly kind: 'transmit';
  readonly ifIndex: number;
  readonly frame: Uint8Array;
}

/**
 * A packet that was held while its next hop was unresolved, now resolved: the caller frames it
 * (`destination` and `source` are the Ethernet addresses to use) and sends it on `ifIndex`.
 */
export interface DeliverHeldOutput {
  readonly kind: 'deliver-held';
  readonly ifIndex: number;
  readonly nextHop: Ipv4;
  readonly destination: Mac;
  readonly source: Mac;
  readonly packet: Uint8Array;
}

/** An entry event or a log line. */
export interface EventOutput {
  readonly kind: 'event';
  readonly event: EngineEvent;
}

/** Everything an input can cause. */
export type Output = TransmitOutput | DeliverHeldOutput | EventOutput;

/**
 * Receives outputs as they happen. `transmit` may be handed a scratch buffer the engine reuses:
 * a sink that keeps the frame must copy it.
 */
export interface OutputSink {
  transmit(ifIndex: number, frame: Uint8Array): void;
  deliverHeld(
    ifIndex: number,
    nextHop: Ipv4,
    destination: Mac,
    source: Mac,
    packet: Uint8Array,
  ): void;
  event(event: EngineEvent): void;
  /**
   * Optional: takes entry events as raw values instead of `event`. A sink that has this method
   * receives every entry event here, and the engine builds no `RouteEvent` and formats no
   * address for it (`routeEvent` in events.ts builds the same event from these values). On a
   * table churning at line rate (a sender flood, a scan) that formatting is most of the cost.
   */
  entryEvent?(
    type: RouteEventType,
    ifName: string,
    ip: Ipv4,
    mac: Mac | undefined,
    reason: string,
  ): void;
  /**
   * Optional: whether the sink wants entry events at the moment. When it says no, the engine
   * reports none (neither `entryEvent` nor a `RouteEvent`), and reads nothing to build them;
   * log lines are unaffected. Asked once per event, so it must be cheap.
   */
  wantsEntryEvents?(): boolean;
  /**
   * Optional, with `commitTransmit`: lets the engine write a frame straight into the sink's
   * own buffer (a transmit ring's slot) rather than into a scratch buffer the sink must copy
   * from. Returns a buffer of at least `length` bytes; the engine writes the frame for
   * `ifIndex` into its first `length` bytes and then calls `commitTransmit(ifIndex, length)`
   * instead of `transmit`. Returning undefined (or a shorter buffer) sends this frame through
   * `transmit` as usual.
   */
  transmitBuffer?(ifIndex: number, length: number): Uint8Array | undefined;
  /** The frame of `length` bytes the engine wrote into the last `transmitBuffer` is complete. */
  commitTransmit?(ifIndex: number, length: number): void;
}

/** A sink that copies every output into an array. */
export class CollectingSink implements OutputSink {
  outputs: Output[] = [];

  transmit(ifIndex: number, frame: Uint8Array): void {
    this.outputs.push({ kind: 'transmit', ifIndex, frame: frame.slice() });
  }
  deliverHeld(
    ifIndex: number,
    nextHop: Ipv4,
    destination: Mac,
    source: Mac,
    packet: Uint8Array,
  ): void {
    this.outputs.push({ kind: 'deliver-held', ifIndex, nextHop, destination, source, packet });
  }
  event(event: EngineEvent): void {
    this.outputs.push({ kind: 'event', event });
  }
  /** Returns what was collected and starts a new array. */
  take(): Output[] {
    const outputs = this.outputs;
    this.outputs = [];
    return outputs;
  }
}
