/**
 * One in-process measurement, in a process of its own (so that no workload's compiled code,
 * garbage or heap size colours another's), started by bench/inproc/index.ts:
 *
 *   node --import tsx --expose-gc bench/inproc/worker.ts '<JSON task>'
 *
 * It prints one line of JSON, the `WorkerResult`, on stdout. Tasks:
 *
 * - `workload`: build, verify byte for byte, warm up, then time repetitions; after each one
 *   check that every operation caused exactly what it must (the sink's counters);
 * - `harness`: the same loop with the engine call left out (the frame rewrite, the loop and
 *   the clock), to show what of each figure is the harness's;
 * - `memory`: heap bytes per entry, resolved or unresolved holding one packet;
 * - `timers`: with N entries, every `handleTimeout` call of the prune passes timed, up to the
 *   pass that frees them all.
 */
import { performance } from 'node:perf_hooks';
import { Engine } from '../../src/core/engine.ts';
import type { OutputSink } from '../../src/core/output.ts';
import { CollectionWatch } from '../collections.ts';
import { Driver, type Repetition } from './measure.ts';
import { addressPlan, fillerIp, hostIp, IF_NAME, InputFrame, OUR_MAC, PACKET_LEN } from './plan.ts';
import { BenchSink, FormattedEventSink, type SinkCounts } from './sink.ts';
import { buildWorkload, START_MS, type Workload, type WorkloadSpec } from './workloads.ts';

/** What the worker is asked to do. */
export type WorkerTask =
  | ({
      readonly kind: 'workload';
      readonly warmupMs: number;
      readonly repMs: number;
      readonly reps: number;
    } & WorkloadSpec)
  | { readonly kind: 'harness'; readonly h: number; readonly repMs: number; readonly reps: number }
  | { readonly kind: 'memory'; readonly entries: 'resolved' | 'incomplete'; readonly n: number }
  | { readonly kind: 'timers'; readonly n: number; readonly events: 'raw' | 'formatted' };

/** One prune pass as the timers task saw it. */
export interface PassTiming {
  /** The engine time of the pass, ms. */
  readonly at: number;
  /** Duration of each `handleTimeout` call, ms. */
  readonly callsMs: readonly number[];
  /**
   * The process's CPU time over each call, ms (all threads: the collector's and compiler's
   * helpers too). Far below the duration, the call was waiting for a CPU, not working.
   */
  readonly callsCpuMs: readonly number[];
  /** Entries freed by the pass. */
  readonly freed: number;
  /** The pass's longest call: when it started and ended (performance.now() ms). */
  readonly longest: { readonly start: number; readonly end: number };
  /** Garbage collection that overlapped the longest call, ms (filled in after the run). */
  longestGcMs: number;
}

/** What the worker prints. */
export type WorkerResult =
  | {
      readonly kind: 'workload';
      readonly spec: WorkloadSpec;
      readonly reps: readonly Repetition[];
      readonly warmup: Repetition;
      /** Byte-for-byte and per-operation checks that failed (none: empty). */
      readonly problems: readonly string[];
      readonly setupMs: number;
      readonly entries: number;
    }
  | { readonly kind: 'harness'; readonly reps: readonly Repetition[] }
  | {
      readonly kind: 'memory';
      readonly entries: 'resolved' | 'incomplete';
      readonly n: number;
      /** Growth per entry of the JavaScript heap and of ArrayBuffer memory (the columns). */
      readonly heapPerEntry: number;
      readonly arrayBuffersPerEntry: number;
      /** The caller's packets (incomplete only), measured before the engine saw them. */
      readonly packetBytesPerEntry: number;
      readonly fillMs: number;
    }
  | {
      readonly kind: 'timers';
      readonly n: number;
      readonly events: 'raw' | 'formatted';
      readonly passes: readonly PassTiming[];
      readonly fillMs: number;
      /** Collections during the passes, by kind: how many, and their total and longest ms. */
      readonly gc: Readonly<Record<string, { count: number; totalMs: number; longestMs: number }>>;
    };

declare const gc: (() => void) | undefined;

function collect(): void {
  if (typeof gc !== 'function') throw new Error('run with --expose-gc');
  gc();
  gc();
}

function elapsedMs(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e6;
}

/** Every counter and result of a repetition against `ops` times what one operation must cause. */
function checkRepetition(
  workload: Workload,
  before: SinkCounts & { resolved: number; held: number },
  ops: number,
): string[] {
  const problems: string[] = [];
  const now = {
    ...workload.counts,
    resolved: workload.results.resolved,
    held: workload.results.held,
  };
  for (const key of Object.keys(workload.perOp) as (keyof typeof now)[]) {
    const got = now[key] - before[key];
    const want = workload.perOp[key] * ops;
    if (got !== want) problems.push(`${key}: ${got} in ${ops} operations, expected ${want}`);
  }
  if (workload.results.other > 0) problems.push(`${workload.results.other} sends failed`);
  return problems;
}

function runWorkload(task: Extract<WorkerTask, { kind: 'workload' }>): WorkerResult {
  const started = process.hrtime.bigint();
  const workload = buildWorkload(task);
  const setupMs = elapsedMs(started);
  const driver = new Driver(workload);
  const problems = workload.verify(driver.now()).map((p) => `verify: ${p}`);
  // The warm-up also takes every workload to its steady state: a full cycle of the hosts
  // (and of the table), so that each later operation does what `perOp` says.
  const warmup = driver.repeat(task.warmupMs, task.h + task.n);
  collect();
  const reps: Repetition[] = [];
  for (let i = 0; i < task.reps; i++) {
    const before = {
      ...workload.counts,
      resolved: workload.results.resolved,
      held: workload.results.held,
    };
    const rep = driver.repeat(task.repMs);
    reps.push(rep);
    for (const p of checkRepetition(workload, before, rep.ops))
      problems.push(`repetition ${i + 1}: ${p}`);
    collect();
  }
  return {
    kind: 'workload',
    spec: { workload: task.workload, n: task.n, h: task.h, events: task.events },
    reps,
    warmup,
    problems,
    setupMs,
    entries: workload.engine.size,
  };
}

/** The workloads' loop without the engine: rewriting the frame for host c, the clock. */
function runHarness(task: Extract<WorkerTask, { kind: 'harness' }>): WorkerResult {
  const input = new InputFrame(1);
  const h = task.h;
  let sum = 0;
  // The host counter as the workloads keep it (no modulo per operation).
  let host = 0;
  const harness: Workload = {
    ...buildWorkload({ workload: 'learn', n: 16, h: 16, events: 'raw' }),
    run(_from: number, count: number, _now: number): void {
      // A byte of each frame is read back, in a local integer, so that the rewrite is not
      // dead code; a running total in the closure would box a number per operation.
      let read = 0;
      for (let i = 0; i < count; i++) {
        input.setHost(host);
        if (++host === h) host = 0;
        read = (read + input.bytes[31]!) | 0;
      }
      sum = (sum + read) | 0;
    },
  };
  const driver = new Driver(harness);
  driver.repeat(300);
  const reps = Array.from({ length: task.reps }, () => driver.repeat(task.repMs));
  if (sum === -1) process.stderr.write('unreachable\n');
  return { kind: 'harness', reps };
}

function memoryNow(): { heap: number; buffers: number } {
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, buffers: usage.arrayBuffers };
}

function runMemory(task: Extract<WorkerTask, { kind: 'memory' }>): WorkerResult {
  const { n } = task;
  const plan = addressPlan(n);
  const sink = new BenchSink();
  let packets: Uint8Array[] = [];
  collect();
  const bare = memoryNow();
  if (task.entries === 'incomplete') {
    packets = Array.from({ length: n }, () => new Uint8Array(PACKET_LEN));
  }
  collect();
  const withPackets = memoryNow();
  const engine = new Engine({ config: { max_entries: n, max_incomplete: n } });
  engine.addInterface({ name: IF_NAME, mac: OUR_MAC });
  engine.addAddress(START_MS, IF_NAME, plan.cidr);
  collect();
  const before = memoryNow();
  const started = process.hrtime.bigint();
  if (task.entries === 'resolved') {
    const input = new InputFrame(2);
    for (let c = 0; c < n; c++) {
      input.setHost(c);
      engine.handleFrameInto(START_MS, 0, input.bytes, sink);
    }
  } else {
    for (let j = 0; j < n; j++) engine.resolveInto(START_MS, fillerIp(plan, j), packets[j]!, sink);
  }
  const fillMs = elapsedMs(started);
  collect();
  const after = memoryNow();
  const size = engine.size - 1; // our own address's entry is not one of the N
  if (size !== n) throw new Error(`${size} entries after filling, not ${n}`);
  const sample = engine.lookup(
    START_MS,
    task.entries === 'resolved' ? hostIp(n - 1) : fillerIp(plan, n - 1),
  );
  const want = task.entries === 'resolved' ? 'resolved' : 'incomplete';
  if (sample?.state !== want || (want === 'incomplete' && sample.held !== 1)) {
    throw new Error(`the last entry is ${JSON.stringify(sample)}, not ${want}`);
  }
  return {
    kind: 'memory',
    entries: task.entries,
    n,
    heapPerEntry: (after.heap - before.heap) / n,
    arrayBuffersPerEntry: (after.buffers - before.buffers) / n,
    packetBytesPerEntry: (withPackets.heap + withPackets.buffers - bare.heap - bare.buffers) / n,
    fillMs,
  };
}

function runTimers(
  task: Extract<WorkerTask, { kind: 'timers' }>,
): Extract<WorkerResult, { kind: 'timers' }> {
  const { n } = task;
  const plan = addressPlan(n);
  const sink: OutputSink & { counts: SinkCounts } =
    task.events === 'raw' ? new BenchSink() : new FormattedEventSink();
  const engine = new Engine({ config: { max_entries: n } });
  engine.addInterface({ name: IF_NAME, mac: OUR_MAC });
  engine.addAddress(START_MS, IF_NAME, plan.cidr);
  const started = process.hrtime.bigint();
  const input = new InputFrame(2);
  for (let c = 0; c < n; c++) {
    input.setHost(c);
    engine.handleFrameInto(START_MS, 0, input.bytes, sink);
  }
  const fillMs = elapsedMs(started);
  collect();
  // The entries were learned at START_MS and expire max_age later; run every prune pass up
  // to the one that frees them, each as a runtime would: a call whenever the engine's
  // deadline has come, so back to back while a pass is under way.
  const expiry = START_MS + engine.getSysctl('max_age') * 1000;
  const passes: PassTiming[] = [];
  for (;;) {
    const at = engine.pollTimeout();
    if (at === undefined) throw new Error('no prune pass scheduled');
    const deletesBefore = sink.counts.deletes;
    const callsMs: number[] = [];
    const callsCpuMs: number[] = [];
    let longest = { start: 0, end: 0 };
    let due: number | undefined = at;
    while (due !== undefined && due <= at) {
      const cpu = process.cpuUsage();
      const start = performance.now();
      const callStart = process.hrtime.bigint();
      engine.handleTimeoutInto(at, sink);
      const ms = elapsedMs(callStart);
      if (ms > longest.end - longest.start) longest = { start, end: start + ms };
      callsMs.push(ms);
      const used = process.cpuUsage(cpu);
      callsCpuMs.push((used.user + used.system) / 1000);
      due = engine.pollTimeout();
    }
    passes.push({
      at,
      callsMs,
      callsCpuMs,
      freed: sink.counts.deletes - deletesBefore,
      longest,
      longestGcMs: 0,
    });
    if (at >= expiry) break;
  }
  const last = passes[passes.length - 1]!;
  if (last.freed !== n || engine.size !== 1) {
    throw new Error(`the last pass freed ${last.freed} of ${n}; ${engine.size} entries left`);
  }
  return { kind: 'timers', n, events: task.events, passes, fillMs, gc: {} };
}

/** What of `result`'s longest calls was garbage collection, and the collections by kind. */
function attributeCollections(
  result: Extract<WorkerResult, { kind: 'timers' }>,
  watch: CollectionWatch,
): WorkerResult {
  for (const pass of result.passes)
    pass.longestGcMs = watch.overlapMs(pass.longest.start, pass.longest.end);
  const gc: Record<string, { count: number; totalMs: number; longestMs: number }> = {};
  for (const c of watch.collections) {
    const entry = gc[c.kind] ?? { count: 0, totalMs: 0, longestMs: 0 };
    gc[c.kind] = entry;
    entry.count++;
    entry.totalMs += c.duration;
    entry.longestMs = Math.max(entry.longestMs, c.duration);
  }
  return { ...result, gc };
}

async function main(): Promise<void> {
  const task = JSON.parse(process.argv[2] ?? '') as WorkerTask;
  let result: WorkerResult;
  switch (task.kind) {
    case 'workload':
      result = runWorkload(task);
      break;
    case 'harness':
      result = runHarness(task);
      break;
    case 'memory':
      result = runMemory(task);
      break;
    case 'timers': {
      const watch = new CollectionWatch();
      const timers = runTimers(task);
      await watch.stop();
      result = attributeCollections(timers, watch);
      break;
    }
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
