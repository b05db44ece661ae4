/**
 * The in-process family (performance issue, items 1 to 3): the engine's hot paths timed
 * through its public API against lwIP's figures in WORKLOADS.md, its memory per entry at a
 * million entries, and how long its timer calls block the event loop at a million entries.
 *
 * Every measurement runs in a child process of its own (bench/inproc/worker.ts), so that one
 * workload's compiled code, garbage and heap do not colour the next one's. A workload's
 * repetitions are spread over several processes, in rounds over all the workloads, so that
 * the differences between processes and the machine's drift land on every figure alike, and
 * the N = 1,000,000 figure and the N = 1024 one it is judged against are measured side by side.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { workerPoolSize } from '../../src/runtime/worker-pool.ts';
import type { BenchFamily, BenchOptions, FamilyReport, Measurement, Target } from '../family.ts';
import { maxOf, measurement, median } from '../family.ts';
import { LARGE_N } from './plan.ts';
import { profileWorkloads, type WorkerLaunch } from './profiling.ts';
import type { PassTiming, WorkerResult, WorkerTask } from './worker.ts';
import { WORKLOADS, type WorkloadName } from './workloads.ts';

/** lwIP etharp.c, median ns per op, N = H (WORKLOADS.md). */
export const LWIP_NS: Readonly<Record<number, Readonly<Record<WorkloadName, number>>>> = {
  10: { reply: 28.5, learn: 15.2, hit: 8.9, miss: 42.1 },
  256: { reply: 126.5, learn: 104.1, hit: 80.8, miss: 316.6 },
  1024: { reply: 371.1, learn: 356.7, hit: 268.1, miss: 1008.7 },
};

/** The settings of a run; `--param inproc.NAME=VALUE` overrides each. */
export interface InprocSettings {
  /** Table sizes N, comma-separated in params. */
  sizes: number[];
  /** Timed repetitions per workload, and their minimum length (ms). */
  reps: number;
  repMs: number;
  /**
   * Processes the repetitions of a workload are spread over, one round of every workload per
   * process: the figures move more between processes (how V8 compiled and laid out the code)
   * than between repetitions in one, and rounds spread the machine's drift over all of them.
   */
  processes: number;
  /** Warm-up per workload (ms; at least a full cycle of the hosts as well). */
  warmupMs: number;
  /** Also time the runs with a sink taking formatted events, at this N (0: not). */
  formattedAt: number;
  /** 0: skip the workloads (to measure memory and timers alone). */
  workloads: number;
  /** Entries for the memory and timer measurements (0: skip them). */
  memoryN: number;
  timersN: number;
  /**
   * V8's worker pool in the worker processes (`--v8-pool-size`), as `bin/netarp` sizes it for
   * the daemon by default; 0: Node's own default (four).
   */
  v8Pool: number;
}

const FULL: InprocSettings = {
  sizes: [10, 256, 1024, 1_000_000],
  reps: 5,
  repMs: 1000,
  processes: 5,
  warmupMs: 1000,
  formattedAt: 1024,
  workloads: 1,
  memoryN: 1_000_000,
  timersN: 1_000_000,
  v8Pool: workerPoolSize(),
};

/** The smoke run: each workload briefly at small N, memory and timers at 10,000 entries. */
const SMOKE: InprocSettings = {
  sizes: [10, 256],
  reps: 2,
  repMs: 50,
  processes: 1,
  warmupMs: 50,
  formattedAt: 256,
  workloads: 1,
  memoryN: 10_000,
  timersN: 10_000,
  v8Pool: workerPoolSize(),
};

/** The settings for `options`: the smoke or full defaults, then `inproc.*` params. */
export function inprocSettings(options: Pick<BenchOptions, 'smoke' | 'params'>): InprocSettings {
  const settings: InprocSettings = { ...(options.smoke ? SMOKE : FULL) };
  for (const [key, text] of Object.entries(options.params)) {
    if (!key.startsWith('inproc.')) continue;
    const name = key.slice('inproc.'.length);
    if (name === 'sizes') {
      settings.sizes = text.split(',').map((s) => Number(s));
      if (settings.sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 4_000_000)) {
        throw new Error(`${key} must be integers in 1..4000000`);
      }
      continue;
    }
    if (!(name in settings)) throw new Error(`unknown parameter ${key}`);
    const value = Number(text);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${key} must be an integer >= 0`);
    (settings as unknown as Record<string, number>)[name] = value;
  }
  if (settings.reps < 1) throw new Error('inproc.reps must be at least 1');
  if (settings.processes < 1 || settings.processes > settings.reps) {
    throw new Error('inproc.processes must be 1..inproc.reps');
  }
  return settings;
}

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

/**
 * The worker processes' V8 worker pool: the setting's size (as `bin/netarp` starts the
 * daemon), or Node's default for 0. Set once per run by `run`.
 */
let poolFlags: readonly string[] = [];

/** Runs one worker task in a child process; its JSON line is the result. */
function runWorker(
  task: WorkerTask,
  timeoutMs: number,
  launch: WorkerLaunch = {},
): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--expose-gc',
        '--max-old-space-size=8192',
        ...poolFlags,
        ...(launch.nodeFlags ?? []),
        WORKER,
        JSON.stringify(task),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    if (child.pid !== undefined) launch.onSpawn?.(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(
          new Error(
            `worker ${JSON.stringify(task)} ended with ${signal ?? `exit ${code}`}\n${stderr.trim()}`,
          ),
        );
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as WorkerResult);
      } catch (error) {
        reject(
          new Error(
            `worker ${JSON.stringify(task)} printed no result: ${String(error)}\n${stderr}`,
          ),
        );
      }
    });
  });
}

/** How one figure of a workload row is labelled, e.g. "reply, N = 1024, H = 4N". */
function label(workload: WorkloadName, n: number, h: number, events: 'raw' | 'formatted'): string {
  const hosts = workload === 'miss' ? '' : h === n ? ', H = N' : `, H = ${h / n}N`;
  const formatted = events === 'formatted' ? ', events formatted' : '';
  return `${workload}, N = ${n.toLocaleString('en-US')}${hosts}${formatted}`;
}

function workloadId(
  workload: WorkloadName,
  n: number,
  h: number,
  events: 'raw' | 'formatted',
): string {
  const hosts = workload === 'miss' ? '' : h === n ? '.hN' : `.h${h / n}N`;
  return `inproc.${workload}.n${n}${hosts}${events === 'formatted' ? '.formatted' : ''}`;
}

/** The target a workload row is judged by, if the issue sets one for it. */
function workloadTarget(
  workload: WorkloadName,
  n: number,
  ownAt1024: number | undefined,
): Target | undefined {
  const lwip = LWIP_NS[n]?.[workload];
  if (n === 10 && lwip !== undefined) {
    return { op: '<=', value: 2 * lwip, text: `<= 2x lwIP (${(2 * lwip).toFixed(1)} ns)` };
  }
  if (n === 1024 && lwip !== undefined) {
    return { op: '<=', value: lwip / 4, text: `lwIP / 4 (${(lwip / 4).toFixed(1)} ns)` };
  }
  if (n === 1_000_000 && ownAt1024 !== undefined) {
    return {
      op: '<=',
      value: 3 * ownAt1024,
      text: `<= 3x own N = 1024 (${(3 * ownAt1024).toFixed(0)} ns)`,
    };
  }
  return undefined;
}

/** One workload, as the family keeps it: what was asked, and each process's result. */
interface WorkloadRun {
  readonly task: Extract<WorkerTask, { kind: 'workload' }>;
  readonly results: Extract<WorkerResult, { kind: 'workload' }>[];
}

async function measureWorkloads(
  settings: InprocSettings,
  options: BenchOptions,
  measurements: Measurement[],
  notes: string[],
): Promise<WorkloadRun[]> {
  const perProcess = Math.ceil(settings.reps / settings.processes);
  const base = { warmupMs: settings.warmupMs, repMs: settings.repMs, reps: perProcess };
  const runs: WorkloadRun[] = [];
  for (const workload of WORKLOADS) {
    // miss takes no hosts: one run per N.
    const multipliers = workload === 'miss' ? [1] : [1, 4];
    for (const multiplier of multipliers) {
      for (const n of settings.sizes) {
        const task = { kind: 'workload', workload, n, h: multiplier * n, events: 'raw', ...base };
        runs.push({ task: task as WorkloadRun['task'], results: [] });
      }
    }
  }
  if (settings.formattedAt > 0) {
    const n = settings.formattedAt;
    for (const workload of ['reply', 'learn'] as const) {
      const task = {
        kind: 'workload',
        workload,
        n,
        h: 4 * n,
        events: 'formatted',
        ...base,
      } as const;
      runs.push({ task, results: [] });
    }
    const task = {
      kind: 'workload',
      workload: 'miss',
      n,
      h: n,
      events: 'formatted',
      ...base,
    } as const;
    runs.push({ task, results: [] });
  }
  for (let round = 1; round <= settings.processes; round++) {
    for (const run of runs) {
      const { task } = run;
      const name = label(task.workload, task.n, task.h, task.events);
      const budgetMs = 120_000 + (task.warmupMs + task.reps * task.repMs) * 4 + task.n * 0.05;
      const result = await runWorker(task, budgetMs);
      if (result.kind !== 'workload') throw new Error(`unexpected worker result ${result.kind}`);
      if (result.problems.length > 0) {
        throw new Error(`${name} failed its checks:\n  ${result.problems.join('\n  ')}`);
      }
      run.results.push(result);
      const ns = median(result.reps.map((r) => r.ns));
      options.log(`inproc: round ${round}/${settings.processes}, ${name}: ${ns.toFixed(1)} ns/op`);
    }
  }
  const samplesOf = (run: WorkloadRun) => run.results.flatMap((r) => r.reps.map((rep) => rep.ns));
  const own = (workload: WorkloadName) => {
    const run = runs.find(
      (r) =>
        r.task.workload === workload &&
        r.task.n === 1024 &&
        r.task.h === 1024 &&
        r.task.events === 'raw',
    );
    return run ? median(samplesOf(run)) : undefined;
  };
  for (const { task, results } of runs) {
    const target =
      task.h === task.n && task.events === 'raw'
        ? workloadTarget(task.workload, task.n, own(task.workload))
        : undefined;
    measurements.push(
      measurement(
        workloadId(task.workload, task.n, task.h, task.events),
        label(task.workload, task.n, task.h, task.events),
        'ns/op',
        samplesOf({ task, results }),
        target ? { target } : {},
      ),
    );
  }
  for (const workload of WORKLOADS) {
    const run = runs.find(
      (r) =>
        r.task.workload === workload &&
        r.task.n === 256 &&
        r.task.h === 256 &&
        r.task.events === 'raw',
    );
    if (run) {
      const at256 = median(samplesOf(run));
      notes.push(
        `${workload}, N = 256: ${at256.toFixed(1)} ns against lwIP's ${LWIP_NS[256]![workload]} (${(LWIP_NS[256]![workload] / at256).toFixed(1)}x as fast)`,
      );
    }
  }
  return runs;
}

async function measureMemory(
  settings: InprocSettings,
  options: BenchOptions,
  measurements: Measurement[],
): Promise<Extract<WorkerResult, { kind: 'memory' }>[]> {
  const results: Extract<WorkerResult, { kind: 'memory' }>[] = [];
  const n = settings.memoryN;
  for (const entries of ['resolved', 'incomplete'] as const) {
    options.log(`inproc: memory, ${n.toLocaleString('en-US')} ${entries} entries`);
    const result = await runWorker({ kind: 'memory', entries, n }, 300_000);
    if (result.kind !== 'memory') throw new Error(`unexpected worker result ${result.kind}`);
    results.push(result);
    const perEntry = result.heapPerEntry + result.arrayBuffersPerEntry;
    const id = `inproc.memory.${entries}`;
    const what =
      entries === 'resolved'
        ? `heap per resolved entry, N = ${n.toLocaleString('en-US')}`
        : `heap per incomplete entry holding one packet (packet not counted), N = ${n.toLocaleString('en-US')}`;
    measurements.push(
      measurement(id, what, 'bytes', [perEntry], {
        ...(entries === 'resolved' && n >= 1_000_000
          ? { target: { op: '<=', value: 200, text: '<= 200 bytes' } }
          : {}),
      }),
    );
    options.log(
      `inproc:   ${perEntry.toFixed(1)} bytes/entry (heap ${result.heapPerEntry.toFixed(1)}, columns ${result.arrayBuffersPerEntry.toFixed(1)})`,
    );
  }
  return results;
}

async function measureTimers(
  settings: InprocSettings,
  options: BenchOptions,
  measurements: Measurement[],
): Promise<Extract<WorkerResult, { kind: 'timers' }>[]> {
  const results: Extract<WorkerResult, { kind: 'timers' }>[] = [];
  const n = settings.timersN;
  for (const events of ['raw', 'formatted'] as const) {
    options.log(`inproc: timers, ${n.toLocaleString('en-US')} entries, events ${events}`);
    const result = await runWorker({ kind: 'timers', n, events }, 300_000);
    if (result.kind !== 'timers') throw new Error(`unexpected worker result ${result.kind}`);
    results.push(result);
  }
  const passes: PassTiming[] = results.flatMap((r) => r.passes);
  const longest = passes.map((p) => maxOf(p.callsMs));
  const count = n.toLocaleString('en-US');
  measurements.push(
    measurement(
      'inproc.timers.longestCall',
      `longest handleTimeout call, ${count} entries (the largest of each pass's longest)`,
      'ms',
      longest,
      { statistic: 'p99', target: { op: '<=', value: 5, text: '<= 5 ms' } },
    ),
  );
  const calls = passes.flatMap((p) => p.callsMs);
  measurements.push(
    measurement(
      'inproc.timers.call',
      `handleTimeout call, ${count} entries, p99 over every call of every pass`,
      'ms',
      calls,
      { statistic: 'p99' },
    ),
  );
  const freeing = results.map((r) => r.passes.at(-1)!);
  measurements.push(
    measurement(
      'inproc.timers.ageingPass',
      `one ageing pass freeing ${count} entries, all calls (raw and formatted events)`,
      'ms',
      freeing.map((p) => p.callsMs.reduce((a, b) => a + b, 0)),
    ),
  );
  const steady = results.flatMap((r) => r.passes.slice(0, -1));
  measurements.push(
    measurement(
      'inproc.timers.steadyPass',
      `one prune pass over ${count} entries freeing none, all calls`,
      'ms',
      steady.map((p) => p.callsMs.reduce((a, b) => a + b, 0)),
    ),
  );
  measurements.push(
    measurement(
      'inproc.timers.callsPerAgeingPass',
      `handleTimeout calls of the ageing pass, ${count} entries`,
      'calls',
      freeing.map((p) => p.callsMs.length),
    ),
  );
  return results;
}

async function run(options: BenchOptions): Promise<FamilyReport> {
  const settings = inprocSettings(options);
  poolFlags = settings.v8Pool > 0 ? [`--v8-pool-size=${settings.v8Pool}`] : [];
  const measurements: Measurement[] = [];
  const notes: string[] = [
    `wall-clock ns per operation, median of ${settings.reps} repetitions of at least ${settings.repMs} ms ` +
      `spread over ${settings.processes} process(es) per workload, run in rounds; ` +
      'the table capacity N is set with the max_entries sysctl (max_incomplete = N)',
    settings.v8Pool > 0
      ? `each measured process runs with V8's worker pool at ${settings.v8Pool} thread(s) (--v8-pool-size), as bin/netarp starts the daemon on this machine`
      : "each measured process runs with Node's default V8 worker pool (4 threads)",
    "targets compare with lwIP's figures in WORKLOADS.md, which were measured on another machine (a Zen 5 vCPU)",
  ];
  options.log('inproc: harness alone (frame rewrite, loop, clock)');
  const harness = await runWorker(
    { kind: 'harness', h: 1024, repMs: settings.repMs, reps: settings.reps },
    60_000,
  );
  if (harness.kind !== 'harness') throw new Error('unexpected harness result');
  measurements.push(
    measurement(
      'inproc.harness',
      'the loop alone: frame rewrite for host c, loop, clock (included in every row)',
      'ns/op',
      harness.reps.map((r) => r.ns),
    ),
  );
  const workloads =
    settings.workloads > 0 ? await measureWorkloads(settings, options, measurements, notes) : [];
  const memory = settings.memoryN > 0 ? await measureMemory(settings, options, measurements) : [];
  const timers = settings.timersN > 0 ? await measureTimers(settings, options, measurements) : [];
  if (timers.length > 0) notes.push(longestCallNote(timers));
  if (options.profileDir !== undefined && settings.workloads > 0) {
    // Profiles at the sizes measured, up to the scaled plan's (setting up a million entries
    // in each profiled worker adds nothing the smaller tables do not show).
    const sizes = settings.sizes.filter((n) => n < LARGE_N);
    const files = await profileWorkloads(runWorker, sizes, options.profileDir, options.log);
    notes.push(
      `profiles of the workloads (N = ${sizes.join(', ')}): ${files.length} files in ${options.profileDir}`,
    );
  }
  return {
    measurements,
    notes,
    details: {
      settings,
      workloads: workloads.flatMap((w) => w.results),
      harness,
      memory,
      timers,
    },
  };
}

/**
 * What the longest timer call was made of: its CPU time (all the process's threads) and the
 * garbage collection that overlapped it, and the collections of the timer runs by kind.
 */
function longestCallNote(results: readonly Extract<WorkerResult, { kind: 'timers' }>[]): string {
  let worst: { ms: number; cpuMs: number; gcMs: number; events: string } | undefined;
  for (const result of results) {
    for (const pass of result.passes) {
      pass.callsMs.forEach((ms, i) => {
        if (worst !== undefined && ms <= worst.ms) return;
        worst = { ms, cpuMs: pass.callsCpuMs[i]!, gcMs: pass.longestGcMs, events: result.events };
      });
    }
  }
  const collections = results
    .flatMap((r) =>
      Object.entries(r.gc).map(
        ([kind, c]) =>
          `${r.events} ${kind} ${c.count} (${c.totalMs.toFixed(1)} ms, longest ${c.longestMs.toFixed(2)})`,
      ),
    )
    .join(', ');
  return worst === undefined
    ? 'timers: no call timed'
    : `timers: the longest call (${worst.events} events) took ${worst.ms.toFixed(2)} ms, ` +
        `${worst.cpuMs.toFixed(2)} ms of the process's CPU, ${worst.gcMs.toFixed(2)} ms of it ` +
        `in garbage collection; collections during the runs: ${collections || 'none'}`;
}

/** The in-process family. */
export const inprocFamily: BenchFamily = {
  name: 'inproc',
  description:
    'engine hot paths (reply, learn, hit, miss) vs lwIP, heap per entry and timer blocking at 1M entries',
  run,
};
