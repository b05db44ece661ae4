/**
 * The in-process benchmarks must never rot: `bench/run.ts --smoke --only inproc` runs every
 * workload (reply, learn, hit, miss at N = 10 and 256, H = N and 4N), checks each one's frames
 * byte for byte against WORKLOADS.md's golden frames and every operation's outputs, measures
 * memory and timer calls at 10,000 entries, and writes well-formed results. No figure is
 * judged: a smoke run's numbers mean nothing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { WorkerResult } from '../bench/inproc/worker.ts';
import type { BenchReport } from '../bench/run.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUN = fileURLToPath(new URL('../bench/run.ts', import.meta.url));

/** Every figure the smoke run must report. */
const IDS = [
  'inproc.harness',
  // Each workload for every N with H = N, then again with H = 4N.
  ...['reply', 'learn', 'hit'].flatMap((w) =>
    ['hN', 'h4N'].flatMap((h) => [10, 256].map((n) => `inproc.${w}.n${n}.${h}`)),
  ),
  'inproc.miss.n10',
  'inproc.miss.n256',
  'inproc.reply.n256.h4N.formatted',
  'inproc.learn.n256.h4N.formatted',
  'inproc.miss.n256.formatted',
  'inproc.memory.resolved',
  'inproc.memory.incomplete',
  'inproc.timers.longestCall',
  'inproc.timers.call',
  'inproc.timers.ageingPass',
  'inproc.timers.steadyPass',
  'inproc.timers.callsPerAgeingPass',
];

describe('bench smoke (inproc)', () => {
  it('runs every workload, checked byte for byte, and memory and timers, with well-formed results', {
    timeout: 240_000,
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'netarp-bench-inproc-'));
    try {
      const json = join(dir, 'results.json');
      const result = spawnSync(
        process.execPath,
        ['--import', 'tsx', RUN, '--smoke', '--only', 'inproc', '--json', json],
        { cwd: REPO_ROOT, encoding: 'utf8', timeout: 220_000 },
      );
      assert.equal(result.status, 0, `exit ${result.status}\n${result.stdout}\n${result.stderr}`);
      assert.match(result.stdout, /SMOKE RUN/);

      const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
      assert.equal(report.smoke, true);
      assert.deepEqual(
        report.families.map((f) => [f.family, f.status]),
        [['inproc', 'ok']],
        JSON.stringify(report.families),
      );
      const family = report.families[0]!;
      assert.ok(family.status === 'ok');
      assert.deepEqual(
        family.measurements.map((m) => m.id),
        IDS,
      );
      for (const m of family.measurements) {
        assert.ok(m.samples.length > 0, `${m.id}: no samples`);
        for (const value of [m.value, m.min, m.max, ...m.samples]) {
          assert.ok(Number.isFinite(value) && value >= 0, `${m.id}: ${value}`);
        }
        assert.ok(
          m.min <= m.value && m.value <= m.max,
          `${m.id}: ${m.min} <= ${m.value} <= ${m.max}`,
        );
      }
      // The N = 10 rows carry the targets against lwIP (met or not, a smoke run's
      // verdict means nothing); the memory row at 10,000 entries carries none.
      const target = (id: string) => family.measurements.find((m) => m.id === id)?.target;
      assert.equal(target('inproc.hit.n10.hN')?.value, 2 * 8.9);
      assert.equal(target('inproc.hit.n10.h4N'), undefined);
      assert.equal(target('inproc.memory.resolved'), undefined);

      const details = family.details as {
        workloads: Extract<WorkerResult, { kind: 'workload' }>[];
        memory: Extract<WorkerResult, { kind: 'memory' }>[];
        timers: Extract<WorkerResult, { kind: 'timers' }>[];
      };
      // Every workload was checked against the golden frames and per operation, and passed
      // (a failed check fails the family); each ran the operations it reports.
      assert.equal(details.workloads.length, 17);
      for (const w of details.workloads) {
        assert.deepEqual(w.problems, []);
        assert.ok(w.reps.every((r) => r.ops > 0));
      }
      for (const m of details.memory) assert.ok(m.arrayBuffersPerEntry > 0, m.entries);
      // The last prune pass of each timer run freed all 10,000 entries, in several calls.
      for (const t of details.timers) {
        const last = t.passes.at(-1)!;
        assert.equal(last.freed, 10_000);
        assert.ok(last.callsMs.length > 1, `${last.callsMs.length} calls`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
