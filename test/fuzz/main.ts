/**
 * Runs the frame-input fuzzer from the command line:
 *
 * ```sh
 * node --import tsx test/fuzz/main.ts [--seconds 60] [--seed N] [--executions N]
 *      [--corpus fuzz/corpus] [--write-corpus DIR] [--crashes DIR] [--list-covered]
 *      [--list-uncovered] [--strict]
 * ```
 * It starts from the seeds and the corpus in `--corpus`, prints what it covered, writes each
 * violation's minimised input to `--crashes` (default: a scratch directory) and, with
 * `--write-corpus`, replaces that directory's *.json with a distilled corpus. `--strict`
 * fails on the known issues too (target.ts KNOWN_ISSUES). Exit status 1 when an invariant
 * broke, 2 for a usage error.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distil, fuzz, writeInput } from './fuzzer.ts';

function main(argv: readonly string[]): number {
  const options = {
    seconds: 60,
    seed: 1,
    executions: Number.POSITIVE_INFINITY,
    corpus: 'fuzz/corpus',
    writeCorpus: undefined as string | undefined,
    crashes: join(tmpdir(), 'netarp-fuzz-crashes'),
    listCovered: false,
    listUncovered: false,
    strict: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--seconds') options.seconds = Number(value());
    else if (flag === '--seed') options.seed = Number(value());
    else if (flag === '--executions') options.executions = Number(value());
    else if (flag === '--corpus') options.corpus = value();
    else if (flag === '--write-corpus') options.writeCorpus = value();
    else if (flag === '--crashes') options.crashes = value();
    else if (flag === '--list-covered') options.listCovered = true;
    else if (flag === '--list-uncovered') options.listUncovered = true;
    else if (flag === '--strict') options.strict = true;
    else {
      process.stderr.write(`fuzz: unknown option ${flag}\n`);
      return 2;
    }
  }
  const report = fuzz({
    seed: options.seed,
    timeMs: options.seconds * 1000,
    maxExecutions: options.executions,
    corpusDir: options.corpus,
    strict: options.strict,
    log: (line) => process.stderr.write(`fuzz: ${line}\n`),
  });
  const lines = [
    `executions       ${report.executions} in ${report.seconds.toFixed(1)} s (${report.executionsPerSecond.toFixed(0)}/s)`,
    `covered          ${report.covered} features (functions and blocks of src/core, src/wire) of ${report.known} known`,
    `corpus           ${report.corpus.length} inputs kept`,
    `frames sent      ${report.transmitted}`,
    `counters moved   ${report.countersMoved.size}`,
    `known issues     ${JSON.stringify(report.knownIssues)}`,
    `violations       ${report.crashes.length}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  for (const crash of report.crashes) {
    const path = writeInput(options.crashes, crash.input, `${crash.violation.kind}-`);
    process.stdout.write(
      `  ${crash.violation.kind} at step ${crash.violation.step}: ${crash.violation.detail}\n  input: ${path}\n`,
    );
  }
  if (options.listCovered) process.stdout.write(`${report.coveredNames().join('\n')}\n`);
  if (options.listUncovered) {
    process.stdout.write(`never covered:\n${report.uncoveredNames().join('\n')}\n`);
  }
  if (options.writeCorpus !== undefined) {
    const kept = distil(report.corpus);
    mkdirSync(options.writeCorpus, { recursive: true });
    for (const name of readdirSync(options.writeCorpus)) {
      if (name.endsWith('.json')) rmSync(join(options.writeCorpus, name));
    }
    for (const input of kept) writeInput(options.writeCorpus, input);
    process.stdout.write(`wrote ${kept.length} inputs to ${options.writeCorpus}\n`);
  }
  return report.crashes.length > 0 ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
