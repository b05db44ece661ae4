/**
 * `npm run bench`: runs every benchmark family (bench/families.ts) and prints a table of the
 * results against the performance issue's targets; `--json FILE` also writes them as JSON.
 *
 *   node --import tsx bench/run.ts [--smoke] [--only NAME]... [--json FILE]
 *                                  [--param NAME=VALUE]... [--profile DIR] [--list]
 *
 * --smoke   a tiny, fast run that only proves each benchmark still works (CI); its figures
 *           are not meaningful and nothing is asserted about them
 * --only    run only the named families (repeatable, or comma-separated)
 * --param   a family setting, e.g. wire.window=128 (see each family)
 * --profile write CPU profiles of the measured code, and their summaries, to DIR
 *
 * Exit status: 0 when every family ran or was skipped (with its reason), 1 when one failed,
 * 2 for a usage error.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FAMILIES } from './families.ts';
import type { BenchFamily, FamilyResult, Measurement } from './family.ts';

/** The JSON document `--json` writes. */
export interface BenchReport {
  /** Bumped when the shape changes. */
  readonly schema: 1;
  readonly startedAt: string;
  readonly smoke: boolean;
  readonly argv: readonly string[];
  readonly machine: {
    readonly node: string;
    readonly platform: string;
    readonly kernel: string;
    readonly cpus: number;
    readonly cpuModel: string;
    /** The 1-minute load average before and after: other work on the machine skews figures. */
    readonly loadAverage: { readonly before: number; readonly after: number };
  };
  readonly families: readonly FamilyResult[];
}

/** Parsed command line. */
interface Cli {
  readonly smoke: boolean;
  readonly only: readonly string[];
  readonly json: string | undefined;
  readonly params: Record<string, string>;
  readonly profileDir: string | undefined;
  readonly list: boolean;
}

class UsageError extends Error {}

function parseCli(argv: readonly string[]): Cli {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      smoke: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true },
      json: { type: 'string' },
      param: { type: 'string', multiple: true },
      profile: { type: 'string' },
      list: { type: 'boolean', default: false },
    },
  });
  const params: Record<string, string> = {};
  for (const setting of values.param ?? []) {
    const at = setting.indexOf('=');
    if (at <= 0) throw new UsageError(`--param wants NAME=VALUE, got ${JSON.stringify(setting)}`);
    params[setting.slice(0, at)] = setting.slice(at + 1);
  }
  return {
    smoke: values.smoke ?? false,
    only: (values.only ?? []).flatMap((o) => o.split(',')).filter((o) => o !== ''),
    json: values.json,
    params,
    profileDir: values.profile === undefined ? undefined : resolve(values.profile),
    list: values.list ?? false,
  };
}

/** The families `--only` selects (all without it); unknown names are a usage error. */
function select(families: readonly BenchFamily[], only: readonly string[]): BenchFamily[] {
  if (only.length === 0) return [...families];
  const known = new Set(families.map((f) => f.name));
  const unknown = only.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown famil${unknown.length > 1 ? 'ies' : 'y'} ${unknown.join(', ')}; known: ${[...known].join(', ')}`,
    );
  }
  return families.filter((f) => only.includes(f.name));
}

/** A number for the table: 3 significant digits, thousands grouped above 1000. */
function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(3)).toString();
}

/** The results as an aligned text table, one block per family. */
export function formatTable(results: readonly FamilyResult[], smoke: boolean): string {
  const header = ['measure', 'value', 'min', 'max', 'unit', 'target', 'met'];
  const rows: string[][] = [];
  const lines: string[] = [];
  for (const result of results) {
    if (result.status !== 'ok') continue;
    for (const m of result.measurements) rows.push(row(m));
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i >= 1 && i <= 3 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  if (smoke) lines.push('SMOKE RUN: the figures below only prove the benchmarks run.');
  for (const result of results) {
    lines.push('');
    switch (result.status) {
      case 'skipped':
        lines.push(`[${result.family}] skipped: ${result.reason}`);
        break;
      case 'failed':
        lines.push(`[${result.family}] FAILED: ${result.error}`);
        break;
      case 'ok':
        lines.push(`[${result.family}] ${result.seconds.toFixed(1)} s`);
        lines.push(format(header));
        for (const m of result.measurements) lines.push(format(row(m)));
        for (const note of result.notes) lines.push(`  - ${note}`);
        break;
    }
  }
  return lines.join('\n');
}

function row(m: Measurement): string[] {
  const value = `${formatNumber(m.value)}${m.statistic === 'median' ? '' : ` (${m.statistic})`}`;
  return [
    `${m.id}: ${m.label}`,
    value,
    formatNumber(m.min),
    formatNumber(m.max),
    m.unit,
    m.target?.text ?? '',
    m.met === undefined ? '' : m.met ? 'yes' : 'NO',
  ];
}

/** Runs the selected families one after another; a family's failure does not stop the rest. */
export async function runBench(
  cli: Cli,
  families: readonly BenchFamily[],
  log: (line: string) => void,
): Promise<FamilyResult[]> {
  const results: FamilyResult[] = [];
  if (cli.profileDir !== undefined) mkdirSync(cli.profileDir, { recursive: true });
  for (const family of families) {
    log(`== ${family.name}${cli.smoke ? ' (smoke)' : ''}: ${family.description}`);
    const started = performance.now();
    try {
      const outcome = await family.run({
        smoke: cli.smoke,
        params: cli.params,
        profileDir: cli.profileDir,
        log,
      });
      if ('skipped' in outcome) {
        results.push({ family: family.name, status: 'skipped', reason: outcome.skipped });
      } else {
        const seconds = (performance.now() - started) / 1000;
        results.push({ family: family.name, status: 'ok', seconds, ...outcome });
      }
    } catch (error) {
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
      results.push({ family: family.name, status: 'failed', error: text });
    }
  }
  return results;
}

async function main(argv: readonly string[]): Promise<number> {
  let cli: Cli;
  let families: BenchFamily[];
  try {
    cli = parseCli(argv);
    families = select(FAMILIES, cli.only);
  } catch (error) {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  if (cli.list) {
    for (const f of FAMILIES) process.stdout.write(`${f.name.padEnd(12)} ${f.description}\n`);
    return 0;
  }
  const startedAt = new Date().toISOString();
  const loadBefore = loadavg()[0]!;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const results = await runBench(cli, families, log);
  const report: BenchReport = {
    schema: 1,
    startedAt,
    smoke: cli.smoke,
    argv: [...argv],
    machine: {
      node: process.version,
      platform: process.platform,
      kernel: release(),
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      loadAverage: { before: loadBefore, after: loadavg()[0]! },
    },
    families: results,
  };
  const { loadAverage } = report.machine;
  process.stdout.write(`${formatTable(results, cli.smoke)}\n`);
  process.stdout.write(
    `\nmachine: ${report.machine.cpus} x ${report.machine.cpuModel}, Linux ${report.machine.kernel}, ` +
      `node ${report.machine.node}; load average ${loadAverage.before.toFixed(2)} before, ` +
      `${loadAverage.after.toFixed(2)} after\n`,
  );
  if (cli.json !== undefined) {
    writeFileSync(cli.json, `${JSON.stringify(report, null, 2)}\n`);
    log(`results written to ${cli.json}`);
  }
  return results.some((r) => r.status === 'failed') ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  // Signals end the run through process.exit, so that the families' exit hooks clean up
  // (network namespaces, child processes).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => process.exit(130));
  }
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
