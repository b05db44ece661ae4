/**
 * Where the in-process workloads spend their time (`--profile DIR`): after the measured runs,
 * each workload at each N (H = N) runs once more, uncounted, in a worker of its own under
 * V8's CPU profiler, and once more under Linux perf when it is installed (JIT frames named
 * through --perf-basic-prof), attached after the warm-up so that only the timed loop is
 * sampled. Each profile is written with a text summary beside it.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findTool, run } from '../../test/support/commands.ts';
import { formatProfileSummary, newestMainProfile, summarizeProfileFile } from '../profile.ts';
import type { WorkerResult, WorkerTask } from './worker.ts';
import { WORKLOADS } from './workloads.ts';

/** How a worker is started: extra node flags, and who wants its pid. */
export interface WorkerLaunch {
  readonly nodeFlags?: readonly string[];
  readonly onSpawn?: (pid: number) => void;
}

/** Runs one worker task (index.ts's `runWorker`). */
export type RunWorker = (
  task: WorkerTask,
  timeoutMs: number,
  launch?: WorkerLaunch,
) => Promise<WorkerResult>;

/** The length of the timed loop of a profiled run, and its warm-up (ms). */
const PROFILE_MS = 3000;
const PROFILE_WARMUP_MS = 1000;

/** Profiles every workload at each of `sizes`, into `dir`; returns the files written. */
export async function profileWorkloads(
  runWorker: RunWorker,
  sizes: readonly number[],
  dir: string,
  log: (line: string) => void,
): Promise<string[]> {
  const written: string[] = [];
  const perf = findTool('perf');
  for (const n of sizes) {
    for (const workload of WORKLOADS) {
      const name = `inproc-${workload}-n${n}`;
      const task: WorkerTask = {
        kind: 'workload',
        workload,
        n,
        h: n,
        events: 'raw',
        warmupMs: PROFILE_WARMUP_MS,
        repMs: PROFILE_MS,
        reps: 1,
      };
      const budgetMs = 120_000 + 4 * (PROFILE_WARMUP_MS + PROFILE_MS) + n * 0.05;

      log(`inproc: profiling ${workload}, N = ${n} (V8)`);
      const v8Dir = join(dir, name);
      rmSync(v8Dir, { recursive: true, force: true });
      await runWorker(task, budgetMs, { nodeFlags: ['--cpu-prof', '--cpu-prof-dir', v8Dir] });
      const profile = newestMainProfile(v8Dir);
      if (profile !== undefined) {
        const summary = `${profile}.txt`;
        writeFileSync(summary, `${formatProfileSummary(summarizeProfileFile(profile, 40))}\n`);
        written.push(profile, summary);
      }

      if (perf === undefined) continue;
      log(`inproc: profiling ${workload}, N = ${n} (perf)`);
      written.push(...(await perfProfile(perf, runWorker, task, budgetMs, dir, name)));
    }
  }
  return written;
}

/** One run under perf, attached once the worker has warmed up; returns the reports. */
async function perfProfile(
  perf: string,
  runWorker: RunWorker,
  task: WorkerTask,
  budgetMs: number,
  dir: string,
  name: string,
): Promise<string[]> {
  const data = join(dir, `${name}-perf.data`);
  let pid: number | undefined;
  let recording: Promise<{ code: number | null; stderr: string }> | undefined;
  const worker = runWorker(task, budgetMs, {
    // --perf-basic-prof also turns on V8's log: into the profile directory, not the cwd.
    nodeFlags: [
      '--perf-basic-prof',
      `--logfile=${join(dir, `${name}-v8.log`)}`,
      '--no-logfile-per-isolate',
    ],
    onSpawn: (spawned) => {
      pid = spawned;
      // The worker loads, builds and warms up first; sample the timed loop only.
      recording = new Promise((wake) => setTimeout(wake, PROFILE_WARMUP_MS + 1500)).then(() =>
        run(
          [
            perf,
            'record',
            '-F',
            '2999',
            '-g',
            '-p',
            String(spawned),
            '-o',
            data,
            '--',
            'sleep',
            String(Math.max(1, Math.floor(PROFILE_MS / 1000) - 1)),
          ],
          PROFILE_MS + 30_000,
        ),
      );
    },
  });
  await worker;
  const recorded = await recording;
  // perf may end with SIGTERM's status once its `sleep` is over; what counts is the data.
  if (recorded === undefined || !recorded.stderr.includes('Captured and wrote')) {
    if (pid !== undefined) rmSync(`/tmp/perf-${pid}.map`, { force: true });
    throw new Error(`perf record failed: ${recorded?.stderr.trim() ?? 'not started'}`);
  }
  const reports: string[] = [];
  for (const [suffix, args] of [
    ['self', ['--no-children', '--sort', 'sym']],
    ['children', ['--children', '--sort', 'sym']],
  ] as const) {
    const report = await run(
      [perf, 'report', '-i', data, '--stdio', '-g', 'none', '--percent-limit', '0.5', ...args],
      120_000,
    );
    const path = join(dir, `${name}-perf-${suffix}.txt`);
    writeFileSync(path, report.stdout);
    reports.push(path);
  }
  // perf resolved the JIT frames through the map node wrote; it is not needed any more.
  if (pid !== undefined) rmSync(`/tmp/perf-${pid}.map`, { force: true });
  return reports;
}
