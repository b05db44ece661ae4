/**
 * An in-process Ethernet hub: every frame sent by one port reaches every other open port, as
 * on a shared segment. A first-class driver like VXLAN, with hooks to lose or delay frames
 * so that tests can impair a segment deterministically.
 */
import { type FrameHandler, type Link, LinkError, type LinkErrorHandler } from './link.ts';

/** Decides whether a frame from port `from` is lost on its way to port `to`. */
export type LossHook = (frame: Uint8Array, from: string, to: string) => boolean;

/** Milliseconds a frame from port `from` takes to reach port `to` (0 = next microtask). */
export type DelayHook = (frame: Uint8Array, from: string, to: string) => number;

/** Runs `deliver` after `delayMs`. Tests pass one driven by a manual clock. */
export type Scheduler = (delayMs: number, deliver: () => void) => void;

/** Options for a hub. */
export interface MemoryHubOptions {
  /** The hub's name, the prefix of its ports' names. */
  name?: string;
  /** Drops frames; by default none are lost. */
  loss?: LossHook;
  /** Delays frames, as a constant or per frame; by default 0. */
  delayMs?: number | DelayHook;
  /**
   * Schedules deliveries. By default a delay of 0 is a microtask and a longer one a timer
   * (which keeps the process alive until the frame arrives, as a frame in flight should).
   */
  schedule?: Scheduler;
}

/** The hub's counters. */
export interface MemoryHubStats {
  /** Frames sent by any port. */
  sent: number;
  /** Copies handed to a receiving port's handler. */
  delivered: number;
  /** Copies the loss hook dropped. */
  lost: number;
  /** Copies that arrived at a port closed meanwhile, or with no handler set. */
  undeliverable: number;
}

/** The default scheduler: a microtask for no delay, a timer otherwise. */
function defaultSchedule(delayMs: number, deliver: () => void): void {
  if (delayMs <= 0) queueMicrotask(deliver);
  else setTimeout(deliver, delayMs);
}

/** An in-process hub; `port(name)` plugs a new link into it. */
export class MemoryHub {
  readonly name: string;
  private readonly ports: MemoryLink[] = [];
  private readonly loss: LossHook | undefined;
  private readonly delay: DelayHook;
  private readonly schedule: Scheduler;
  private readonly counters: MemoryHubStats = { sent: 0, delivered: 0, lost: 0, undeliverable: 0 };

  constructor(options: MemoryHubOptions = {}) {
    this.name = options.name ?? 'hub';
    this.loss = options.loss;
    const delay = options.delayMs ?? 0;
    if (typeof delay === 'number') {
      if (!(delay >= 0)) throw new LinkError('EINVAL', `${this.name}: delayMs must be >= 0`);
      this.delay = () => delay;
    } else {
      this.delay = delay;
    }
    this.schedule = options.schedule ?? defaultSchedule;
  }

  /** Plugs a new port into the hub; `name` must be unique on this hub. */
  port(name: string): MemoryLink {
    if (this.ports.some((p) => p.portName === name)) {
      throw new LinkError('EINVAL', `${this.name}: port ${name} exists`);
    }
    const link = new MemoryLink(this, name);
    this.ports.push(link);
    return link;
  }

  /** A copy of the counters. */
  stats(): MemoryHubStats {
    return { ...this.counters };
  }

  /** Carries one frame from `sender` to every other open port. */
  carry(sender: MemoryLink, frame: Uint8Array): void {
    this.counters.sent++;
    // One copy for all receivers: handlers must not modify what they are given.
    const copy = frame.slice();
    for (const port of this.ports) {
      if (port === sender || port.closed) continue;
      if (this.loss?.(copy, sender.portName, port.portName)) {
        this.counters.lost++;
        continue;
      }
      const delayMs = this.delay(copy, sender.portName, port.portName);
      this.schedule(Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0, () => {
        if (port.receive(copy)) this.counters.delivered++;
        else this.counters.undeliverable++;
      });
    }
  }

  /** Unplugs a closed port. */
  unplug(port: MemoryLink): void {
    const at = this.ports.indexOf(port);
    if (at >= 0) this.ports.splice(at, 1);
  }
}

/** One port of a MemoryHub. */
export class MemoryLink implements Link {
  readonly name: string;
  closed = false;
  private handler: FrameHandler | undefined;

  constructor(
    private readonly hub: MemoryHub,
    readonly portName: string,
  ) {
    this.name = `${hub.name}/${portName}`;
  }

  /** Copies the frame onto the hub; dropped after close. */
  send(frame: Uint8Array): void {
    if (this.closed) return;
    this.hub.carry(this, frame);
  }

  /** Sets the receive handler. */
  onFrame(handler: FrameHandler): void {
    this.handler = handler;
  }

  /** A hub cannot fail: the handler is never called, but the method is part of every link. */
  onError(_handler: LinkErrorHandler): void {}

  /** Hands a frame to the handler; false when closed or without one. */
  receive(frame: Uint8Array): boolean {
    if (this.closed || !this.handler) return false;
    this.handler(frame);
    return true;
  }

  /** Unplugs the port; frames still in flight to it are counted as undeliverable. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hub.unplug(this);
  }
}
