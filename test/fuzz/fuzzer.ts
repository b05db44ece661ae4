/**
 * A seeded, coverage-guided mutation fuzzer for the frame input path. It starts from the seed
 * inputs (and the committed corpus), mutates a corpus input, runs it on a fresh busy engine
 * with every invariant checked after every step (target.ts), and keeps the mutant when it
 * covers a block of src/core or src/wire no earlier input covered (coverage.ts). Bounded by
 * time and by executions; deterministic for a seed and an execution count.
 *
 * A violation is minimised (steps removed, frames shortened, while the same kind of violation
 * remains) and returned; known issues (target.ts KNOWN_ISSUES) are counted, not failed on.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlockCoverage } from './coverage.ts';
import { mutateInput, Random, seedFrames, seedInputs } from './mutate.ts';
import {
  type CorpusFile,
  type FuzzInput,
  fromCorpusFile,
  runInput,
  toCorpusFile,
  type Violation,
} from './target.ts';

/** How long and from what a run goes. */
export interface FuzzOptions {
  readonly seed: number;
  /** Wall-clock budget in milliseconds. */
  readonly timeMs: number;
  /** At most this many executions (mutants), whatever the time left. */
  readonly maxExecutions?: number;
  /** Corpus files (JSON) to start from, besides the seeds. */
  readonly corpusDir?: string;
  /** Stop at the first violation (CI) or go on collecting one per kind. */
  readonly stopOnViolation?: boolean;
  /** Progress lines, e.g. to stderr. */
  readonly log?: (line: string) => void;
  /** Known issues count as violations. */
  readonly strict?: boolean;
}

/** A violation found, with the minimised input that shows it. */
export interface Crash {
  readonly violation: Violation;
  readonly input: FuzzInput;
}

/** One kept input and what it covered. */
export interface CorpusEntry {
  readonly input: FuzzInput;
  readonly features: ReadonlySet<number>;
}

/** What a run found. */
export interface FuzzReport {
  readonly executions: number;
  readonly seconds: number;
  readonly executionsPerSecond: number;
  /** Features (functions and blocks of src/core and src/wire) covered by some input. */
  readonly covered: number;
  /** Features known (covered or seen not run). */
  readonly known: number;
  /** Of which functions covered, and blocks covered. */
  readonly corpus: readonly CorpusEntry[];
  readonly crashes: readonly Crash[];
  /** Known issues hit, by kind. */
  readonly knownIssues: Readonly<Record<string, number>>;
  /** Counters moved at least once, over all executions. */
  readonly countersMoved: ReadonlySet<string>;
  /** Frames the engine sent, over all executions. */
  readonly transmitted: number;
  /** The names of the covered features (for a human reading a report). */
  readonly coveredNames: () => string[];
  /** The names of the features known but never covered. */
  readonly uncoveredNames: () => string[];
}

/** Reads every *.json corpus file of `dir` (none if it does not exist). */
export function readCorpus(dir: string): { name: string; input: FuzzInput }[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  return names.sort().map((name) => ({
    name,
    input: fromCorpusFile(JSON.parse(readFileSync(join(dir, name), 'utf8')) as CorpusFile),
  }));
}

/** Writes `input` as pretty JSON named by its content hash; returns the path. */
export function writeInput(dir: string, input: FuzzInput, prefix = ''): string {
  mkdirSync(dir, { recursive: true });
  const text = `${JSON.stringify(toCorpusFile(input), null, 2)}\n`;
  const name = `${prefix}${createHash('sha256').update(text).digest('hex').slice(0, 12)}.json`;
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Runs the fuzzer. */
export function fuzz(options: FuzzOptions): FuzzReport {
  const log = options.log ?? (() => {});
  const random = new Random(options.seed);
  const frames = seedFrames();
  const coverage = new BlockCoverage();
  const covered = new Set<number>();
  const corpus: CorpusEntry[] = [];
  const crashes: Crash[] = [];
  const crashKinds = new Set<string>();
  const knownIssues: Record<string, number> = {};
  const countersMoved = new Set<string>();
  let transmitted = 0;
  let executions = 0;
  const started = performance.now();
  const deadline = started + options.timeMs;
  const maxExecutions = options.maxExecutions ?? Number.POSITIVE_INFINITY;

  /** Runs one input under coverage; returns its features, or a crash. */
  const execute = (input: FuzzInput): { features: Set<number>; crash?: Violation } => {
    // No reset before the run: the previous collect did it, and what ran in between (the
    // mutation) touches the same few address parsers every time, which are never new.
    const result = runInput(input, options.strict);
    const features = coverage.collect();
    executions++;
    transmitted += result.transmitted;
    for (const [key, value] of Object.entries(result.stats)) {
      if (value !== 0) countersMoved.add(key);
    }
    for (const { issue } of result.known)
      knownIssues[issue.kind] = (knownIssues[issue.kind] ?? 0) + 1;
    return { features, crash: result.violations[0] };
  };

  const consider = (input: FuzzInput): boolean => {
    const { features, crash } = execute(input);
    if (crash) {
      if (!crashKinds.has(crash.kind)) {
        crashKinds.add(crash.kind);
        const minimal = minimise(input, crash.kind, options.strict);
        crashes.push({
          violation: firstViolation(minimal, options.strict) ?? crash,
          input: minimal,
        });
        log(`violation ${crash.kind} at step ${crash.step}: ${crash.detail}`);
      }
      return true;
    }
    let fresh = false;
    for (const f of features) {
      if (!covered.has(f)) {
        covered.add(f);
        fresh = true;
      }
    }
    if (fresh) corpus.push({ input, features });
    return false;
  };

  coverage.start();
  try {
    const initial = [
      ...seedInputs(),
      ...(options.corpusDir ? readCorpus(options.corpusDir).map((c) => c.input) : []),
    ];
    for (const input of initial) {
      if (consider(input) && options.stopOnViolation) break;
    }
    log(`seeds: ${initial.length} inputs, ${corpus.length} kept, ${covered.size} features`);
    let lastLog = performance.now();
    while (
      !(options.stopOnViolation && crashes.length > 0) &&
      executions < maxExecutions &&
      performance.now() < deadline &&
      corpus.length > 0
    ) {
      // Newer entries reached further: pick among the last third half of the time.
      const recent = random.chance(0.5) ? Math.floor((corpus.length * 2) / 3) : 0;
      const parent = corpus[recent + random.below(corpus.length - recent)]!;
      const child = mutateInput(
        random,
        parent.input,
        corpus.map((c) => c.input),
        frames,
      );
      consider(child);
      if (performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        log(`${executions} executions, ${corpus.length} kept, ${covered.size} features`);
      }
    }
  } finally {
    coverage.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    executions,
    seconds,
    executionsPerSecond: executions / seconds,
    covered: covered.size,
    known: coverage.known,
    corpus,
    crashes,
    knownIssues,
    countersMoved,
    transmitted,
    coveredNames: () => [...covered].sort((a, b) => a - b).map((id) => coverage.describe(id)),
    uncoveredNames: () =>
      Array.from({ length: coverage.known }, (_, id) => id)
        .filter((id) => !covered.has(id))
        .map((id) => coverage.describe(id)),
  };
}

/** The first violation of `input` (known issues set apart unless `strict`), or undefined. */
export function firstViolation(input: FuzzInput, strict = false): Violation | undefined {
  return runInput(input, strict).violations[0];
}

/**
 * Delta-debugs `input` towards a smaller one that still breaks invariant `kind`: drop steps,
 * then drop trailing bytes of each frame, each kept only while the violation stays.
 */
export function minimise(input: FuzzInput, kind: string, strict = false): FuzzInput {
  const breaks = (candidate: FuzzInput) =>
    runInput(candidate, strict).violations.some((v) => v.kind === kind);
  let current = input;
  for (let i = current.steps.length - 1; i >= 0; i--) {
    const candidate = { ...current, steps: current.steps.filter((_, j) => j !== i) };
    if (candidate.steps.length > 0 && breaks(candidate)) current = candidate;
  }
  for (let i = 0; i < current.steps.length; i++) {
    const step = current.steps[i]!;
    if (step.kind !== 'frame') continue;
    let length = step.frame.length;
    while (length > 0) {
      const steps = [...current.steps];
      steps[i] = { ...step, frame: step.frame.slice(0, length - 1) };
      if (!breaks({ ...current, steps })) break;
      current = { ...current, steps };
      length--;
    }
  }
  return current;
}

/**
 * A small corpus covering everything the whole corpus covered: greedily the input adding the
 * most features not yet covered, then each kept input with its steps dropped while it still
 * covers what it was kept for. Needs coverage, so it runs its own session.
 */
export function distil(entries: readonly CorpusEntry[]): FuzzInput[] {
  const all = new Set<number>();
  for (const e of entries) for (const f of e.features) all.add(f);
  const chosen: CorpusEntry[] = [];
  const have = new Set<number>();
  const left = [...entries];
  while (have.size < all.size && left.length > 0) {
    let best = 0;
    let bestGain = -1;
    left.forEach((e, i) => {
      let gain = 0;
      for (const f of e.features) if (!have.has(f)) gain++;
      // Ties go to the shorter session.
      if (
        gain > bestGain ||
        (gain === bestGain && e.input.steps.length < left[best]!.input.steps.length)
      ) {
        best = i;
        bestGain = gain;
      }
    });
    if (bestGain <= 0) break;
    const [entry] = left.splice(best, 1);
    for (const f of entry!.features) have.add(f);
    chosen.push(entry!);
  }
  const coverage = new BlockCoverage();
  coverage.start();
  try {
    const featuresOf = (input: FuzzInput) => {
      coverage.reset();
      runInput(input);
      return coverage.collect();
    };
    // Blocks become known when first seen not run: run every input once so that each is
    // judged against the same known blocks.
    for (const entry of chosen) featuresOf(entry.input);
    return chosen.map((entry) => {
      const wanted = featuresOf(entry.input);
      let current = entry.input;
      for (let i = current.steps.length - 1; i >= 0 && current.steps.length > 1; i--) {
        const candidate = { ...current, steps: current.steps.filter((_, j) => j !== i) };
        const got = featuresOf(candidate);
        if ([...wanted].every((f) => got.has(f))) current = candidate;
      }
      return current;
    });
  } finally {
    coverage.stop();
  }
}
