/**
 * The runtime: connects an Engine to real links and to time. Frames from each link go into
 * the engine as inputs on their interface; what the engine outputs goes out on links (a
 * bridge floods its member ports' links, a CARP interface uses its parent's); exactly one
 * timer is armed at `engine.pollTimeout()`, re-armed after every input.
 *
 * A link that delivers frames in batches (`Link.onBatchEnd`: the VXLAN, TAP and AF_PACKET
 * links, one wakeup's reads at a time) lets the runner do its per-input work once per batch:
 * the clock is read at the batch's first frame and every frame of the batch is handled at that
 * time, and the timer is re-armed when the batch ends. A batch is bounded (at most a wakeup's
 * worth of frames, all handled in one event-loop task, and the runner reads the clock again
 * after MAX_FRAMES_PER_CLOCK_READ frames whatever the link does), so the time a frame is
 * handled at is at most one batch old, and the timer cannot fire inside a batch anyway: it
 * fires no later than it would have. Links without it (the memory hub) are handled frame by
 * frame as before.
 *
 * The engine is never re-entered: frames that arrive while it is working wait in a backlog,
 * and events are handed to subscribers only after the input that caused them has finished,
 * so a subscriber may call back into the runner.
 */
import type { Engine } from '../core/engine.ts';
import { assertNever } from '../core/errors.ts';
import { type EngineEvent, routeEvent } from '../core/events.ts';
import type { Interface } from '../core/iface.ts';
import type { Output, OutputSink } from '../core/output.ts';
import type { ResolveResult } from '../core/resolve.ts';
import type { Link } from '../link/link.ts';
import { formatIpv4, formatMac, type Ipv4, type Mac } from '../wire/addr.ts';
import { ETHERNET_HEADER_LEN, EtherType, emitEthernetHeader } from '../wire/ethernet.ts';
import type { Clock, Timer } from './clock.ts';

/** What the runner reports to its subscribers, stamped with the clock's time. */
export type RuntimeEvent =
  | { readonly kind: 'engine'; readonly time: number; readonly event: EngineEvent }
  | {
      /** A packet held while its next hop was resolved has been framed and sent. */
      readonly kind: 'held-delivered';
      readonly time: number;
      readonly ifName: string;
      readonly nextHop: string;
      readonly mac: string;
      readonly length: number;
    };

/** Receives runtime events. */
export type RuntimeEventHandler = (event: RuntimeEvent) => void;

/** Receives errors the runner survived: link I/O errors and exceptions from handlers. */
export type RuntimeErrorHandler = (error: Error) => void;

/** Receives an IPv4 frame (EtherType 0x0800) that arrived on interface `ifIndex`. */
export type Ipv4FrameHandler = (ifIndex: number, frame: Uint8Array) => void;

/** Options for a runner. */
export interface RunnerOptions {
  /** The clock for `now` and for the engine's timer. */
  clock: Clock;
  /** Links by interface name (Ethernet interfaces only); more can be attached later. */
  links?: Readonly<Record<string, Link>>;
}

/** The runner's counters. */
export interface RunnerStats {
  /** Frames received from all links. */
  framesIn: number;
  /** Frames handed to links (a frame flooded to three links counts three). */
  framesOut: number;
  /** Held packets framed and sent after their next hop resolved. */
  heldDelivered: number;
  /** Frames the engine or the host sent on an interface that reaches no link. */
  unroutable: number;
  /** Times the engine's timer fired. */
  timerRuns: number;
  /** Exceptions thrown while handling an input or by a subscriber (caught and reported). */
  handlerErrors: number;
  /** I/O errors reported by links. */
  linkErrors: number;
}

/**
 * Frames of one batch handled at one clock reading, at most: past it the runner reads the
 * clock and re-arms the timer again, so a link that never ended its batch could not hold the
 * time still. Above every link's read batch (64 by default, the addon's maxBatch at most).
 */
export const MAX_FRAMES_PER_CLOCK_READ = 1024;

/** Bytes reserved at first for framing IPv4 packets; grows to the largest seen. */
const INITIAL_SCRATCH = 1514;

/** Links an Engine to links and a clock. */
export class Runner {
  private readonly links = new Map<number, Link>();
  /** Interface index -> the links its frames go out on, rebuilt when interfaces change. */
  private readonly routes = new Map<number, readonly Link[]>();
  private routedInterfaces = -1;
  private readonly eventHandlers: RuntimeEventHandler[] = [];
  private readonly errorHandlers: RuntimeErrorHandler[] = [];
  private ipv4Handler: Ipv4FrameHandler | undefined;
  private timer: Timer | undefined;
  private armedAt: number | undefined;
  private inEngine = false;
  /** The time of the engine input under way: what its events are stamped with. */
  private inputTime: number | undefined;
  /** The clock reading the current batch's frames are handled at, while a batch is open. */
  private batchTime: number | undefined;
  /** Frames handled at `batchTime` so far. */
  private batchFrames = 0;
  /** Whether an input of the open batch left the timer to be re-armed when it ends. */
  private rearmDue = false;
  /** The link that lent the sink its last transmit buffer, until the frame is committed. */
  private lender: Link | undefined;
  private closed = false;
  private readonly backlog: { ifIndex: number; frame: Uint8Array }[] = [];
  private readonly pendingEvents: RuntimeEvent[] = [];
  /** Whether a subscriber wants entry events now (`setEntryEventInterest`); absent: always. */
  private entryInterest: (() => boolean) | undefined;
  private scratch = new Uint8Array(INITIAL_SCRATCH);
  private readonly counters: RunnerStats = {
    framesIn: 0,
    framesOut: 0,
    heldDelivered: 0,
    unroutable: 0,
    timerRuns: 0,
    handlerErrors: 0,
    linkErrors: 0,
  };
  /** The sink handed to every engine input: frames go straight to links, events wait. */
  private readonly sink: OutputSink = {
    transmit: (ifIndex, frame) => this.transmit(ifIndex, frame),
    deliverHeld: (ifIndex, nextHop, destination, source, packet) =>
      this.deliverHeld(ifIndex, nextHop, destination, source, packet),
    event: (event) => {
      if (this.eventHandlers.length > 0) {
        this.pendingEvents.push({ kind: 'engine', time: this.eventTime(), event });
      }
    },
    // Entry events come raw, formatted (their addresses as text) only when someone wants
    // them, and the engine asks first: on a churning table (a flood of new senders) building
    // them was most of the cost.
    wantsEntryEvents: () => this.wantsEntryEvents(),
    entryEvent: (type, ifName, ip, mac, reason) => {
      this.pendingEvents.push({
        kind: 'engine',
        time: this.eventTime(),
        event: routeEvent(type, ifName, ip, mac, reason),
      });
    },
    // A frame goes out on exactly one link that can lend a buffer: the engine writes it there.
    transmitBuffer: (ifIndex, length) => this.transmitBuffer(ifIndex, length),
    commitTransmit: (_ifIndex, length) => this.commitTransmit(length),
  };
  private readonly fireTimer = (): void => {
    this.timer = undefined;
    this.armedAt = undefined;
    if (this.closed) return;
    this.counters.timerRuns++;
    this.guarded(() => this.enter(this.now(), this.timeoutInput));
  };
  private readonly timeoutInput = (now: number): void =>
    this.engine.handleTimeoutInto(now, this.sink);
  /** A batched link's batch has ended: the next frame reads the clock, the timer is re-armed. */
  private readonly endBatch = (): void => {
    this.batchTime = undefined;
    this.batchFrames = 0;
    if (this.rearmDue && !this.inEngine) this.rearm();
  };

  /** The clock inputs are stamped with. */
  readonly clock: Clock;

  constructor(
    readonly engine: Engine,
    options: RunnerOptions,
  ) {
    this.clock = options.clock;
    for (const [ifName, link] of Object.entries(options.links ?? {})) this.attach(ifName, link);
    this.rearm();
  }

  /** The clock's current time in milliseconds. */
  now(): number {
    return this.clock.now();
  }

  /**
   * Attaches `link` to the Ethernet interface `ifName`: its frames become inputs on that
   * interface, and frames for the interface (or a bridge or CARP interface over it) go out on
   * it. Throws if the interface does not exist, is a bridge or CARP interface, or has a link.
   */
  attach(ifName: string, link: Link): void {
    const ifIndex = this.engine.interfaceIndex(ifName);
    const iface = this.engine.interfaces()[ifIndex]!;
    if (iface.kind !== 'ether') {
      throw new Error(`runner: ${ifName} is a ${iface.kind} interface; attach links to its ports`);
    }
    if (this.links.has(ifIndex)) throw new Error(`runner: ${ifName} already has a link`);
    this.links.set(ifIndex, link);
    this.routes.clear();
    if (link.onBatchEnd !== undefined) {
      link.onFrame((frame) => this.receiveBatched(ifIndex, frame));
      link.onBatchEnd(this.endBatch);
    } else {
      link.onFrame((frame) => this.receive(ifIndex, frame));
    }
    link.onError((error) => {
      this.counters.linkErrors++;
      this.reportError(error);
    });
  }

  /** Subscribes to runtime events (engine events and held deliveries). */
  onEvent(handler: RuntimeEventHandler): void {
    this.eventHandlers.push(handler);
  }

  /**
   * Says when the subscribers want entry events (route events and held deliveries): while
   * `wants()` is false they are not built at all (the engine's log lines still are). A
   * subscriber that only sometimes needs them (a daemon with no monitor client, no debug log
   * and nobody waiting for a resolution) saves formatting every event of a churning table.
   */
  setEntryEventInterest(wants: (() => boolean) | undefined): void {
    this.entryInterest = wants;
  }

  /** Whether an entry event made now would reach anyone. */
  private wantsEntryEvents(): boolean {
    if (this.eventHandlers.length === 0) return false;
    const interest = this.entryInterest;
    return interest === undefined || interest();
  }

  /** Subscribes to errors the runner survived. */
  onError(handler: RuntimeErrorHandler): void {
    this.errorHandlers.push(handler);
  }

  /**
   * Takes IPv4 frames before the engine sees them (the host's IP layer); without a handler
   * they go to the engine, which counts them as not ARP.
   */
  setIpv4Handler(handler: Ipv4FrameHandler | undefined): void {
    this.ipv4Handler = handler;
  }

  /** A copy of the counters. */
  stats(): RunnerStats {
    return { ...this.counters };
  }

  /** The deadline the single timer is armed at, if any. */
  get timerDeadline(): number | undefined {
    return this.armedAt;
  }

  /**
   * A frame received on interface `ifIndex` on its own (what the handler of a link without
   * batches calls): handled at the clock's time, the timer re-armed after it.
   */
  receive(ifIndex: number, frame: Uint8Array): void {
    if (this.closed) return;
    this.counters.framesIn++;
    if (this.inEngine) {
      this.keep(ifIndex, frame);
      return;
    }
    try {
      this.dispatch(ifIndex, frame, this.clock.now(), false);
    } catch (error) {
      this.handlerFailed(error);
    }
  }

  /**
   * A frame of a batch (what a batched link's handler calls): handled at the time read at the
   * batch's first frame; the timer is re-armed when the batch ends (`endBatch`).
   */
  private receiveBatched(ifIndex: number, frame: Uint8Array): void {
    if (this.closed) return;
    this.counters.framesIn++;
    if (this.inEngine) {
      this.keep(ifIndex, frame);
      return;
    }
    let now = this.batchTime;
    if (now === undefined || this.batchFrames >= MAX_FRAMES_PER_CLOCK_READ) {
      if (now !== undefined && this.rearmDue) this.rearm();
      now = this.clock.now();
      this.batchTime = now;
      this.batchFrames = 0;
    }
    this.batchFrames++;
    try {
      this.dispatch(ifIndex, frame, now, true);
    } catch (error) {
      this.handlerFailed(error);
    }
  }

  /** A link delivered while the engine was busy: keep a copy for after the input. */
  private keep(ifIndex: number, frame: Uint8Array): void {
    this.backlog.push({ ifIndex, frame: frame.slice() });
  }

  /**
   * Resolves `destination` for an IPv4 `packet` (arpresolve): the result says whether the
   * caller sends it now (`resolved`), whether the engine holds it (it will come back through
   * the sink and go out as a frame), or why it failed.
   */
  resolve(destination: Ipv4, packet: Uint8Array, viaIfIndex = -1): ResolveResult {
    return this.enter(this.now(), (now) =>
      this.engine.resolveInto(now, destination, packet, this.sink, viaIfIndex),
    );
  }

  /**
   * Runs an engine command at the current time (addAddress, setInterfaceUp, addEntry, ...)
   * and puts the outputs it returns on the links.
   */
  apply(command: (engine: Engine, now: number) => Output[] | undefined): void {
    this.enter(this.now(), (now) => {
      for (const output of command(this.engine, now) ?? []) {
        switch (output.kind) {
          case 'transmit':
            this.transmit(output.ifIndex, output.frame);
            break;
          case 'deliver-held':
            this.deliverHeld(
              output.ifIndex,
              output.nextHop,
              output.destination,
              output.source,
              output.packet,
            );
            break;
          case 'event':
            // A command's entry events come built; they are dropped here as the sink's raw
            // ones are when nobody wants them.
            if (output.event.kind === 'log' || this.wantsEntryEvents()) {
              this.sink.event(output.event);
            }
            break;
          default:
            assertNever(output);
        }
      }
    });
  }

  /** Frames an IPv4 packet for `destination` and sends it on interface `ifIndex`. */
  sendIpv4(ifIndex: number, destination: Mac, source: Mac, packet: Uint8Array): void {
    const length = ETHERNET_HEADER_LEN + packet.length;
    if (this.scratch.length < length) this.scratch = new Uint8Array(length);
    const frame = this.scratch.subarray(0, length);
    emitEthernetHeader(frame, 0, destination, source, EtherType.Ipv4);
    frame.set(packet, ETHERNET_HEADER_LEN);
    // Links copy before returning, so the scratch buffer is free again at once.
    this.transmit(ifIndex, frame);
  }

  /** Cancels the timer, detaches and closes every link. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.armedAt = undefined;
    const links = [...this.links.values()];
    for (const link of links) link.onFrame(() => {});
    await Promise.all(links.map((link) => link.close()));
  }

  // --- internals --------------------------------------------------------------------------

  /**
   * Hands a frame to the IPv4 handler or, as an input at `now`, to the engine (the same work
   * as `enter`, written out so that a frame allocates no closure). `inBatch`: the timer is
   * re-armed when the batch ends rather than now.
   */
  private dispatch(ifIndex: number, frame: Uint8Array, now: number, inBatch: boolean): void {
    const etherType =
      frame.length >= ETHERNET_HEADER_LEN ? (frame[12]! << 8) | frame[13]! : undefined;
    if (etherType === EtherType.Ipv4 && this.ipv4Handler) {
      this.ipv4Handler(ifIndex, frame);
      return;
    }
    if (this.inEngine) {
      throw new Error('runner: re-entered from inside an engine input');
    }
    this.inEngine = true;
    this.inputTime = now;
    try {
      this.engine.handleFrameInto(now, ifIndex, frame, this.sink);
    } finally {
      this.inEngine = false;
      this.inputTime = undefined;
      this.afterInput(inBatch);
    }
  }

  /**
   * Runs one engine input at `now`. Afterwards (even if it threw): events go to subscribers,
   * the backlog is drained, and the timer is re-armed at the engine's new deadline.
   */
  private enter<T>(now: number, input: (now: number) => T): T {
    if (this.inEngine) {
      throw new Error('runner: re-entered from inside an engine input');
    }
    this.inEngine = true;
    this.inputTime = now;
    try {
      return input(now);
    } finally {
      this.inEngine = false;
      this.inputTime = undefined;
      this.afterInput(false);
    }
  }

  /**
   * After an input: events to subscribers, then the backlog; then the timer is re-armed, or,
   * inside a batch (`inBatch`), left for the batch's end.
   */
  private afterInput(inBatch: boolean): void {
    while (this.pendingEvents.length > 0) {
      const event = this.pendingEvents.shift()!;
      for (const handler of this.eventHandlers) {
        try {
          handler(event);
        } catch (error) {
          this.handlerFailed(error);
        }
      }
    }
    while (this.backlog.length > 0 && !this.inEngine) {
      const next = this.backlog.shift()!;
      try {
        this.dispatch(next.ifIndex, next.frame, this.clock.now(), inBatch);
      } catch (error) {
        this.handlerFailed(error);
      }
    }
    if (inBatch) {
      this.rearmDue = true;
    } else {
      // An input outside a batch is a batch of its own: its frames leave now, before the
      // caller goes on (a held packet's ARP request must not wait for the caller's other work).
      for (const link of this.links.values()) link.flush?.();
      this.rearm();
    }
  }

  /** The time an event is stamped with: its input's, else (outside any input) the clock's. */
  private eventTime(): number {
    return this.inputTime ?? this.clock.now();
  }

  /** Arms the one timer at the engine's deadline, unless it is already armed there. */
  private rearm(): void {
    this.rearmDue = false;
    const due = this.closed ? undefined : this.engine.pollTimeout();
    if (due === this.armedAt && (due === undefined || this.timer)) return;
    this.timer?.cancel();
    this.timer = undefined;
    this.armedAt = due;
    if (due !== undefined) this.timer = this.clock.setTimer(due, this.fireTimer);
  }

  private transmit(ifIndex: number, frame: Uint8Array): void {
    const links = this.linksOf(ifIndex);
    if (links.length === 0) {
      this.counters.unroutable++;
      return;
    }
    for (const link of links) {
      link.send(frame);
      this.counters.framesOut++;
    }
  }

  /**
   * Lends the engine a transmit buffer when the frame for `ifIndex` goes out on exactly one
   * link and that link lends one (`Link.transmitBuffer`); else undefined, and the frame comes
   * through `transmit` (a frame for several links, or none, is copied or counted there).
   */
  private transmitBuffer(ifIndex: number, length: number): Uint8Array | undefined {
    const links = this.linksOf(ifIndex);
    if (links.length !== 1) return undefined;
    const link = links[0]!;
    if (link.transmitBuffer === undefined || link.commitTransmit === undefined) return undefined;
    const buffer = link.transmitBuffer(length);
    this.lender = buffer === undefined ? undefined : link;
    return buffer;
  }

  /** Sends the frame the engine wrote into the buffer `transmitBuffer` lent. */
  private commitTransmit(length: number): void {
    const link = this.lender;
    this.lender = undefined;
    if (link === undefined) throw new Error('runner: commitTransmit without a lent buffer');
    link.commitTransmit!(length);
    this.counters.framesOut++;
  }

  private deliverHeld(
    ifIndex: number,
    nextHop: Ipv4,
    destination: Mac,
    source: Mac,
    packet: Uint8Array,
  ): void {
    this.sendIpv4(ifIndex, destination, source, packet);
    this.counters.heldDelivered++;
    if (!this.wantsEntryEvents()) return; // nobody listens: no event to build
    this.pendingEvents.push({
      kind: 'held-delivered',
      time: this.eventTime(),
      ifName: this.engine.interfaces()[ifIndex]?.name ?? '?',
      nextHop: formatIpv4(nextHop),
      mac: formatMac(destination),
      length: packet.length,
    });
  }

  /** The links frames for `ifIndex` go out on, cached until interfaces are added. */
  private linksOf(ifIndex: number): readonly Link[] {
    const interfaces = this.engine.interfaces();
    if (interfaces.length !== this.routedInterfaces) {
      this.routes.clear();
      this.routedInterfaces = interfaces.length;
    }
    let links = this.routes.get(ifIndex);
    if (!links) {
      links = this.computeLinks(interfaces, ifIndex, 0);
      this.routes.set(ifIndex, links);
    }
    return links;
  }

  private computeLinks(interfaces: readonly Interface[], ifIndex: number, depth: number): Link[] {
    const iface = interfaces[ifIndex];
    if (!iface || depth > interfaces.length) return [];
    const own = this.links.get(ifIndex);
    if (own) return [own];
    switch (iface.kind) {
      case 'carp':
        // A CARP interface sends through its parent (carp_output on carpdev).
        return this.computeLinks(interfaces, iface.carpParent, depth + 1);
      case 'bridge':
        // A bridge floods a frame it originates to every member port (bridge_output).
        return interfaces
          .filter((member) => member.bridge === ifIndex)
          .flatMap((member) => this.computeLinks(interfaces, member.index, depth + 1));
      case 'ether':
        return [];
      default:
        return assertNever(iface.kind);
    }
  }

  private guarded(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.handlerFailed(error);
    }
  }

  /** An exception from an input or a subscriber: counted and reported. */
  private handlerFailed(error: unknown): void {
    this.counters.handlerErrors++;
    this.reportError(error instanceof Error ? error : new Error(String(error)));
  }

  private reportError(error: Error): void {
    for (const handler of this.errorHandlers) {
      try {
        handler(error);
      } catch {
        // An error handler that throws has nowhere left to report to.
      }
    }
  }
}
