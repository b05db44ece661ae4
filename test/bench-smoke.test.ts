/**
 * The benchmarks must never rot: `bench/run.ts --smoke --only wire` runs end to end (root:
 * namespaces, the C generator, netarp and the kernel under load, cold resolutions) and writes
 * well-formed results. No figure is judged here: a smoke run's numbers mean nothing. Without
 * root the wire part is skipped with the reason, as the interop suites are, and fails instead
 * under NETARP_REQUIRE_INTEROP=1.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { measurement, median, quantile } from '../bench/family.ts';
import type { BenchReport } from '../bench/run.ts';
import { wireUnavailableReason } from '../bench/wire/topology.ts';
import { planSuite } from './interop/helpers.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUN = fileURLToPath(new URL('../bench/run.ts', import.meta.url));

/** Runs bench/run.ts with `args` (bounded: a smoke run takes seconds). */
function bench(args: readonly string[], timeoutMs = 120_000) {
  return spawnSync(process.execPath, ['--import', 'tsx', RUN, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
}

/** Every figure the wire family reports, in every run (kernel-side latency needs tcpdump). */
const WIRE_IDS = [
  'wire.kernel.replies',
  'wire.netarp.replies',
  'wire.ratio',
  'wire.kernel.cpuPerReply',
  'wire.netarp.cpuPerReply',
  'wire.netarp.processCores',
  'wire.generator.coresNetarp',
  'wire.generator.userPerRequest',
  'wire.latency.held.median',
  'wire.latency.held.p99',
  'wire.latency.rtt.median',
];

describe('bench helpers', () => {
  it('median, nearest-rank p99 and the target verdict', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(quantile(hundred, 0.99), 99);
    assert.equal(quantile(hundred, 0.5), 50);
    const m = measurement('x', 'x', 'ms', [0.5, 2, 0.7], {
      statistic: 'p99',
      target: { op: '<=', value: 1, text: 'p99 <= 1 ms' },
    });
    assert.deepEqual(
      { value: m.value, min: m.min, max: m.max, met: m.met },
      {
        value: 2,
        min: 0.5,
        max: 2,
        met: false,
      },
    );
  });

  it('bench/run.ts rejects an unknown family with a usage error and lists the known ones', () => {
    const result = bench(['--only', 'no-such-family'], 30_000);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /unknown family no-such-family; known: .*wire/);
  });
});

const plan = planSuite('bench smoke (wire)', wireUnavailableReason(), process.env);

describe('bench smoke (wire)', () => {
  if (plan.kind === 'skip') {
    it('needs root, network namespaces, ip and cc', { skip: plan.message }, () => {});
    return;
  }
  if (plan.kind === 'fail') {
    it('needs root, network namespaces, ip and cc', () => assert.fail(plan.message));
    return;
  }
  it('runs netarp and the kernel under load over VXLAN and writes well-formed results', {
    timeout: 150_000,
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'netarp-bench-smoke-'));
    try {
      const json = join(dir, 'results.json');
      const result = bench(['--smoke', '--only', 'wire', '--json', json]);
      assert.equal(result.status, 0, `exit ${result.status}\n${result.stdout}\n${result.stderr}`);
      assert.match(result.stdout, /SMOKE RUN/);
      assert.match(result.stdout, /\[wire\]/);

      const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
      assert.equal(report.schema, 1);
      assert.equal(report.smoke, true);
      assert.deepEqual(
        report.families.map((f) => [f.family, f.status]),
        [['wire', 'ok']],
        JSON.stringify(report.families),
      );
      const wire = report.families[0]!;
      assert.ok(wire.status === 'ok');
      const ids = wire.measurements.map((m) => m.id);
      for (const id of WIRE_IDS) assert.ok(ids.includes(id), `${id} missing from ${ids}`);
      for (const m of wire.measurements) {
        assert.ok(m.samples.length > 0, `${m.id}: no samples`);
        for (const value of [m.value, m.min, m.max, ...m.samples]) {
          assert.ok(Number.isFinite(value), `${m.id}: ${value} is not a number`);
        }
        assert.ok(
          m.min <= m.value && m.value <= m.max,
          `${m.id}: ${m.min} <= ${m.value} <= ${m.max}`,
        );
      }
      // Both responders answered, and every reply the generator counted was correct.
      const figure = (id: string) => wire.measurements.find((m) => m.id === id)!.value;
      assert.ok(figure('wire.kernel.replies') > 0);
      assert.ok(figure('wire.netarp.replies') > 0);
      const details = wire.details as {
        settings: { latencyCount: number };
        runs: { subject: string; client: { invalid: number; valid: number } }[];
        latency: { netarp: unknown[] };
      };
      assert.deepEqual(
        details.runs.map((r) => [r.subject, r.client.invalid]),
        [
          ['kernel', 0],
          ['netarp', 0],
        ],
      );
      // Every cold resolution to the local kernel peer completed.
      assert.equal(details.latency.netarp.length, details.settings.latencyCount);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
