/**
 * What a benchmark family is and what it returns. `bench/run.ts` runs the families listed in
 * `bench/families.ts`; each one measures, and says how its figures compare with the targets
 * of the performance issue (see docs/performance.md).
 */

/** Options every family receives from `bench/run.ts`. */
export interface BenchOptions {
  /**
   * A tiny, fast run that only proves the benchmark still works (CI runs it). Its figures
   * are real but not meaningful; nothing may be asserted about them.
   */
  readonly smoke: boolean;
  /** Family-specific settings from `--param NAME=VALUE` (e.g. `wire.window=64`). */
  readonly params: Readonly<Record<string, string>>;
  /** A directory to write CPU profiles and their summaries to (`--profile DIR`), if asked. */
  readonly profileDir: string | undefined;
  /** Writes one progress line (to stderr, so that stdout stays the results table). */
  readonly log: (line: string) => void;
}

/** A target from the performance issue: the headline figure must be `op` `value`. */
export interface Target {
  readonly op: '<=' | '>=';
  readonly value: number;
  /** How the issue states it, e.g. ">= 0.9x the kernel". */
  readonly text: string;
}

/** Which statistic of the samples the headline `value` is. */
export type Statistic = 'median' | 'p99';

/** One measured figure, with every sample it was computed from. */
export interface Measurement {
  /** A stable dotted name, e.g. "wire.netarp.replies". */
  readonly id: string;
  /** What a reader sees in the table. */
  readonly label: string;
  /** The unit of `value`, `min`, `max` and `samples`. */
  readonly unit: string;
  /** The headline figure: `statistic` of `samples`. */
  readonly value: number;
  readonly statistic: Statistic;
  readonly min: number;
  readonly max: number;
  /** One figure per repetition (or per event, for latencies), in the order measured. */
  readonly samples: readonly number[];
  readonly target?: Target;
  /** Whether `value` meets `target` (absent without a target). */
  readonly met?: boolean;
}

/** What a family's `run` returns when it could run. */
export interface FamilyReport {
  readonly measurements: readonly Measurement[];
  /** Plain-language remarks: set-up, caveats, what bounds a figure. */
  readonly notes: readonly string[];
  /** Raw per-run data, kept in the JSON output for later analysis. */
  readonly details?: unknown;
}

/** Why a family did not run (not root, a tool missing, ...). */
export interface FamilySkip {
  readonly skipped: string;
}

/** A family's result as `bench/run.ts` records it. */
export type FamilyResult =
  | ({ readonly family: string; readonly status: 'ok'; readonly seconds: number } & FamilyReport)
  | { readonly family: string; readonly status: 'skipped'; readonly reason: string }
  | { readonly family: string; readonly status: 'failed'; readonly error: string };

/** A benchmark family: a name, and a run that measures or says why it cannot. */
export interface BenchFamily {
  /** The name `--only` selects it by. */
  readonly name: string;
  /** One line for `--list`. */
  readonly description: string;
  /** Measures. Throwing marks the family failed; returning `{ skipped }` skips it. */
  run(options: BenchOptions): Promise<FamilyReport | FamilySkip>;
}

/** The q-quantile (0..1) of `values`, nearest rank on the sorted values. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** The median of `values` (the mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Builds a Measurement from its samples: the headline statistic, min, max, and the verdict. */
export function measurement(
  id: string,
  label: string,
  unit: string,
  samples: readonly number[],
  options: { statistic?: Statistic; target?: Target } = {},
): Measurement {
  const statistic = options.statistic ?? 'median';
  const value = statistic === 'median' ? median(samples) : quantile(samples, 0.99);
  const target = options.target;
  return {
    id,
    label,
    unit,
    value,
    statistic,
    min: minOf(samples),
    max: maxOf(samples),
    samples,
    ...(target === undefined
      ? {}
      : { target, met: target.op === '<=' ? value <= target.value : value >= target.value }),
  };
}

/**
 * The smallest and the largest of `samples` (NaN for none). Loops, not `Math.min(...samples)`:
 * spreading a hundred thousand samples as arguments overflows the stack.
 */
export function minOf(samples: readonly number[]): number {
  return extreme(samples, (a, b) => a < b);
}

/** See `minOf`. */
export function maxOf(samples: readonly number[]): number {
  return extreme(samples, (a, b) => a > b);
}

/** The sample that `better` prefers to every other (NaN for none). */
function extreme(samples: readonly number[], better: (a: number, b: number) => boolean): number {
  if (samples.length === 0) return Number.NaN;
  let best = samples[0]!;
  for (const sample of samples) if (better(sample, best)) best = sample;
  return best;
}
