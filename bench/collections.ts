/**
 * Garbage collections as Node's performance timeline reports them, kept so that a benchmark
 * can say how much of a timed interval was collection (the first-packet resolutions of the
 * wire family, the longest timer calls of the in-process one).
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';

/** One collection: its kind, and when it started and how long it took (performance.now() ms). */
export interface Collection {
  readonly kind: string;
  readonly start: number;
  readonly duration: number;
}

/** The kinds of collection Node reports, by their perf_hooks constant. */
const KINDS: Readonly<Record<number, string>> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/**
 * Records the process's collections from now on, the last `keep` of them. The observer hears
 * of a collection asynchronously, a turn of the event loop after it ended.
 */
export class CollectionWatch {
  private readonly seen: Collection[] = [];
  private readonly observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind ?? 0;
      this.seen.push({
        kind: KINDS[kind] ?? String(kind),
        start: entry.startTime,
        duration: entry.duration,
      });
      if (this.seen.length > this.keep) this.seen.shift();
    }
  });

  constructor(private readonly keep = Number.POSITIVE_INFINITY) {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** The collections recorded (the last `keep`). */
  get collections(): readonly Collection[] {
    return this.seen;
  }

  /** Milliseconds of collection that overlapped [from, to] (performance.now() ms). */
  overlapMs(from: number, to: number): number {
    let total = 0;
    for (const c of this.seen) {
      const overlap = Math.min(to, c.start + c.duration) - Math.max(from, c.start);
      if (overlap > 0) total += overlap;
    }
    return total;
  }

  /** Waits for the observer to hear of the collections so far, then stops recording. */
  async stop(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    this.observer.disconnect();
  }
}
