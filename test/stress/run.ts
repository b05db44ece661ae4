/**
 * `npm run stress`: every stress scenario at the full size, each in a process of its
 * own, then the interop flood against a real kernel peer (as root, with network namespaces and
 * a C compiler; otherwise skipped with the reason), printed as tables.
 *
 * ```sh
 * npm run stress                      # everything at full size
 * npm run stress -- --scale 0.05      # the CI size
 * npm run stress -- --only senders,dead --json out.json
 * npm run stress -- --no-flood
 * ```
 * Progress goes to stderr, the tables to stdout. Exit status 1 if a scenario failed, 2 for a
 * usage error.
 */
import { writeFileSync } from 'node:fs';
import { interopUnavailableReason, systemProbes } from '../interop/helpers.ts';
import { type FloodOptions, type FloodResult, floodUnavailableReason, runFlood } from './flood.ts';
import { SCENARIOS, type ScenarioName, type ScenarioResult } from './scenarios.ts';
import { runWorker } from './workers.ts';

const MiB = 1024 * 1024;

/** The flood at full size: 65,536 senders (the generator's most), the defaults. */
const FULL_FLOOD: FloodOptions = { hosts: 65_536, window: 128, durationMs: 20_000, probes: 50 };

const mib = (bytes: number) => (bytes / MiB).toFixed(1);
const count = (n: number | undefined) => (n ?? 0).toLocaleString('en-US');

/** Lays out rows under a header, columns padded to their widest cell. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The counters worth a column, per scenario. */
function keyCounters(r: ScenarioResult): string {
  const c = r.counters;
  const parts: string[] = [];
  if (c.txreplies) parts.push(`replies ${count(c.txreplies)}`);
  if (c.txrequests) parts.push(`requests ${count(c.txrequests)}`);
  if (c.evicted) parts.push(`evicted ${count(c.evicted)}`);
  if (c.evictedIncomplete) parts.push(`evicted unresolved ${count(c.evictedIncomplete)}`);
  if (c.txRateLimited) parts.push(`rate-limited ${count(c.txRateLimited)}`);
  if (c.holdTimeouts) parts.push(`held timed out ${count(c.holdTimeouts)}`);
  if (r.sink.logLines) parts.push(`log lines ${count(r.sink.logLines)}`);
  if (c.logSuppressed) parts.push(`suppressed ${count(c.logSuppressed)}`);
  return parts.join(', ');
}

function scenarioTable(results: readonly ScenarioResult[]): string {
  return table(
    [
      'scenario',
      'inputs',
      'inputs/s',
      'entries end/peak',
      'cap',
      'held peak',
      'heap base',
      'heap peak',
      'retained',
      'RSS peak',
      'checkpoints retained (MiB)',
      'counters',
    ],
    results.map((r) => [
      r.name,
      count(r.inputs),
      count(Math.round(r.inputsPerSecond)),
      `${count(r.entries)}/${count(r.peakEntries)}`,
      count(r.maxEntries),
      count(r.peakHeld),
      mib(r.heapBaseline),
      mib(r.heapPeak),
      mib(r.heapRetained),
      mib(r.rssPeak),
      r.checkpoints.map((c) => mib(c.heapRetained)).join(' '),
      keyCounters(r),
    ]),
  );
}

function floodTable(f: FloodResult): string {
  const probe = (p: { sent: number; answered: number; p50Ms: number; maxMs: number }) =>
    `${p.answered}/${p.sent}  p50 ${p.p50Ms.toFixed(2)} ms  max ${p.maxMs.toFixed(2)} ms`;
  const lines = [
    `flood: ${count(f.options.hosts)} senders, window ${f.options.window}, ${f.options.durationMs / 1000} s measured`,
    table(
      ['what', 'figure'],
      [
        ['replies/s to the flood', count(Math.round(f.flood.repliesPerSecond))],
        ['requests sent / answered', `${count(f.flood.sent)} / ${count(f.flood.valid)}`],
        ['unanswered within 200 ms', count(f.flood.lostMeasured)],
        ["replies not for a flood sender (the kernel's)", count(f.flood.invalid)],
        ['flood round trip p50 / p99', `${f.flood.rttP50Us} us / ${f.flood.rttP99Us} us`],
        ['kernel ping, quiet', probe(f.baseline.ping)],
        ['kernel ping, during the flood', probe(f.during.ping)],
        ['kernel arping, quiet', probe(f.baseline.arping)],
        ['kernel arping, during the flood', probe(f.during.arping)],
        [
          'daemon entries / max_entries',
          `${count(f.daemon.entries)} / ${count(f.daemon.maxEntries)}`,
        ],
        ['daemon evictions', count(f.daemon.counters.evicted)],
        ['daemon RSS peak / now', `${mib(f.daemon.rssPeak)} / ${mib(f.daemon.rss)} MiB`],
        ['daemon still running', f.daemon.exitedEarly ? 'no' : 'yes'],
      ],
    ),
  ];
  return lines.join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  let scale = 1;
  let only: string[] | undefined;
  let json: string | undefined;
  let flood = true;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => argv[++i] ?? '';
    if (flag === '--scale') scale = Number(value());
    else if (flag === '--only') only = value().split(',');
    else if (flag === '--json') json = value();
    else if (flag === '--no-flood') flood = false;
    else {
      process.stderr.write(`stress: unknown option ${flag}\n`);
      return 2;
    }
  }
  if (!(scale > 0 && scale <= 1)) {
    process.stderr.write('stress: --scale must be in (0, 1]\n');
    return 2;
  }
  const names = SCENARIOS.filter((n) => only === undefined || only.includes(n));
  const results: ScenarioResult[] = [];
  let failed = false;
  for (const name of names) {
    process.stderr.write(`stress: ${name} at scale ${scale}\n`);
    try {
      results.push(await runWorker(name as ScenarioName, scale, 600_000));
    } catch (error) {
      failed = true;
      process.stderr.write(`stress: ${name} failed: ${error}\n`);
    }
  }
  process.stdout.write(
    `\nIn-process scenarios (scale ${scale}; memory is heap + ArrayBuffers, MiB)\n`,
  );
  process.stdout.write(`${scenarioTable(results)}\n`);

  let floodResult: FloodResult | undefined;
  if (flood && (only === undefined || only.includes('flood'))) {
    const reason = interopUnavailableReason(systemProbes) ?? floodUnavailableReason();
    if (reason !== undefined) {
      process.stdout.write(`\nInterop flood skipped: ${reason}\n`);
    } else {
      const options: FloodOptions =
        scale === 1
          ? FULL_FLOOD
          : { hosts: 4096, window: 64, durationMs: 5000, probes: 20, maxEntries: 1024 };
      process.stderr.write(`stress: interop flood, ${options.hosts} senders\n`);
      try {
        floodResult = await runFlood(options);
        process.stdout.write(`\nInterop flood against a kernel peer\n${floodTable(floodResult)}\n`);
      } catch (error) {
        failed = true;
        process.stderr.write(`stress: interop flood failed: ${error}\n`);
      }
    }
  }
  if (json !== undefined) {
    writeFileSync(json, `${JSON.stringify({ scale, results, flood: floodResult }, null, 2)}\n`);
  }
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
