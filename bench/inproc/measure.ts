/**
 * The timing loop of the in-process workloads: a warm-up, then repetitions of at least a
 * given time each, every one reported as nanoseconds per operation of wall-clock time (and,
 * beside it, of this process's CPU time, which the other work on a shared machine does not
 * inflate).
 *
 * A hand loop rather than a benchmark library: an operation costs tens of nanoseconds, so
 * the loop must not call a function or read a clock per operation (tinybench does both, and
 * its overhead would be most of the figure). The workload's own loop makes BATCH calls to the
 * engine between two reads of the clock; that reading is also the engine's `now`, so time
 * advances as it would in a runtime, and the engine's once-a-second work (an LRU move per
 * entry) happens at its real rate.
 */
import { START_MS, type Workload } from './workloads.ts';

/** Operations between two clock reads. */
const BATCH = 1024;

/** One timed repetition. */
export interface Repetition {
  readonly ops: number;
  /** Wall-clock nanoseconds per operation. */
  readonly ns: number;
  /** Process CPU (user + system) nanoseconds per operation. */
  readonly cpuNs: number;
}

/** Drives a workload with the clock; keeps the operation index across calls. */
export class Driver {
  private op = 0;
  private readonly origin = process.hrtime.bigint();

  constructor(private readonly workload: Workload) {}

  /** The engine time now: START_MS plus the real time since the driver was made. */
  now(): number {
    return START_MS + Number(process.hrtime.bigint() - this.origin) / 1e6;
  }

  /** Runs until at least `minMs` passed and at least `minOps` operations were done. */
  repeat(minMs: number, minOps = 0): Repetition {
    const workload = this.workload;
    const limit = BigInt(Math.round(minMs * 1e6));
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    let clock = start;
    let ops = 0;
    do {
      workload.run(this.op, BATCH, START_MS + Number(clock - this.origin) / 1e6);
      this.op += BATCH;
      ops += BATCH;
      clock = process.hrtime.bigint();
    } while (clock - start < limit || ops < minOps);
    const used = process.cpuUsage(cpu);
    return {
      ops,
      ns: Number(clock - start) / ops,
      cpuNs: ((used.user + used.system) * 1000) / ops,
    };
  }
}
