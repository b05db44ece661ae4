/**
 * Time for the runtime. `SystemClock` is the only code in netarp that reads real time or sets
 * a real timer; everything else is handed a `Clock`. `ManualClock` moves only when a test
 * says so, which makes runtime tests exact.
 */

/** A timer that can be cancelled before it fires. */
export interface Timer {
  /** Cancels the timer; harmless after it fired. */
  cancel(): void;
}

/** Options for `Clock.setTimer`. */
export interface TimerOptions {
  /**
   * Keep the process alive until the timer fires (a ping waiting for its answer). By default
   * a timer never holds the process open: the engine's housekeeping must not keep a program
   * running that has nothing else to do.
   */
  keepAlive?: boolean;
}

/** Milliseconds and one-shot timers. */
export interface Clock {
  /** The current time in milliseconds since the Unix epoch (fractions allowed). */
  now(): number;
  /** Calls `fire` once, at or after `at` (a `now()` value). */
  setTimer(at: number, fire: () => void, options?: TimerOptions): Timer;
}

/** setTimeout's largest delay (a signed 32-bit count of milliseconds). */
const MAX_TIMEOUT_MS = 0x7fff_ffff;

/** Real time: a monotonic clock anchored at the Unix epoch, and Node timers. */
export class SystemClock implements Clock {
  /** performance.timeOrigin, read once: a getter call per `now` is not free. */
  private readonly origin = performance.timeOrigin;

  /**
   * performance.timeOrigin + performance.now(): epoch milliseconds that never step back when
   * the wall clock is set, so ageing in the engine is not disturbed by NTP adjustments.
   */
  now(): number {
    return this.origin + performance.now();
  }

  /** A Node timer, unref'd unless `keepAlive`. A far deadline fires early and is re-armed. */
  setTimer(at: number, fire: () => void, options: TimerOptions = {}): Timer {
    let handle: NodeJS.Timeout | undefined;
    const arm = (): void => {
      const remaining = at - this.now();
      if (remaining > MAX_TIMEOUT_MS) {
        handle = setTimeout(arm, MAX_TIMEOUT_MS);
      } else {
        // Node counts timeouts from the event loop's cached time, which may lag now(), so a
        // timer can fire a little before `at`: callers re-check their deadline when it fires.
        handle = setTimeout(fire, Math.max(0, Math.ceil(remaining)));
      }
      if (!options.keepAlive) handle.unref();
    };
    arm();
    return {
      cancel: () => {
        if (handle !== undefined) clearTimeout(handle);
        handle = undefined;
      },
    };
  }
}

interface PendingTimer {
  readonly at: number;
  readonly seq: number;
  readonly fire: () => void;
  cancelled: boolean;
}

/** A clock that only moves when told to; its timers fire, in order, as it passes them. */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private pending: PendingTimer[] = [];

  constructor(start = 0) {
    this.time = start;
  }

  /** The manual time. */
  now(): number {
    return this.time;
  }

  /** Registers a timer; it fires during a later `advance` or `runDue`, never at once. */
  setTimer(at: number, fire: () => void, _options?: TimerOptions): Timer {
    const timer: PendingTimer = { at, seq: this.seq++, fire, cancelled: false };
    this.pending.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
        this.pending = this.pending.filter((t) => t !== timer);
      },
    };
  }

  /** Timers not yet fired nor cancelled. */
  get pendingTimers(): number {
    return this.pending.length;
  }

  /** The deadline of the earliest pending timer. */
  nextTimerAt(): number | undefined {
    let next: number | undefined;
    for (const t of this.pending) if (next === undefined || t.at < next) next = t.at;
    return next;
  }

  /**
   * Moves time forward by `ms`, firing every timer due on the way at its own deadline
   * (timers they set within the window fire too), then stops at the end of the window.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock: advance needs ms >= 0, got ${ms}`);
    this.advanceTo(this.time + ms);
  }

  /** Moves time forward to `time` (see `advance`). */
  advanceTo(time: number): void {
    if (time < this.time)
      throw new RangeError(`ManualClock: time cannot go back (${time} < ${this.time})`);
    for (;;) {
      const due = this.earliestDue(time);
      if (!due) break;
      this.time = Math.max(this.time, due.at);
      this.pending = this.pending.filter((t) => t !== due);
      due.fire();
    }
    this.time = time;
  }

  /** Fires the timers already due, without moving time. */
  runDue(): void {
    this.advanceTo(this.time);
  }

  private earliestDue(limit: number): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.pending) {
      if (t.cancelled || t.at > limit) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
