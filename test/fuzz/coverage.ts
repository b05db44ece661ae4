/**
 * The fuzzer's guide: V8's precise block coverage, read through the inspector protocol in the
 * same process (Profiler.startPreciseCoverage with detailed block ranges), and restricted to
 * the engine's own files (src/core and src/wire).
 *
 * Counts are used rather than V8's binary mode (callCount false), which reports a function as
 * run only the first time it runs in the process, useless for telling one input from the
 * next. Each take reports, per function, its own range and count and the nested block ranges
 * whose count differs from their parent's (a block that ran as often as its parent is folded
 * into it), then resets the counters. So a block becomes known the first time it is reported,
 * and an execution covers it when the innermost range reported around it has a count above
 * zero. An execution's features are the functions it ran and the known blocks it covered,
 * each numbered once for the whole process; the fuzzer keeps inputs that bring a new one.
 */
import { Session } from 'node:inspector';
import { fileURLToPath } from 'node:url';

/** The engine's files: what coverage is counted over. */
const ENGINE_DIRS = ['src/core/', 'src/wire/'].map((dir) =>
  new URL(`../../${dir}`, import.meta.url).toString(),
);

interface CoverageRange {
  readonly startOffset: number;
  readonly endOffset: number;
  readonly count: number;
}

interface FunctionCoverage {
  readonly functionName: string;
  readonly ranges: readonly CoverageRange[];
}

interface ScriptCoverage {
  readonly scriptId: string;
  readonly url: string;
  readonly functions: readonly FunctionCoverage[];
}

/** A known block of one function: its range and its feature number. */
interface Block {
  readonly start: number;
  readonly end: number;
  readonly id: number;
}

/** Reads block coverage of the engine's files, one execution at a time. */
export class BlockCoverage {
  private readonly session = new Session();
  private readonly ids = new Map<string, number>();
  /** Per function (url and range), the blocks reported at least once. */
  private readonly blocks = new Map<string, Block[]>();
  /** What each feature number stands for: the file, the function, the block's offsets. */
  private readonly names: { url: string; fn: string; start: number; end: number }[] = [];
  /** The script id of each file seen (its source is fetched only to describe a block). */
  private readonly scriptIds = new Map<string, string>();
  private readonly sources = new Map<string, string>();
  private started = false;
  private connected = false;

  /** Starts precise coverage; what ran before is discarded. */
  start(): void {
    this.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
    this.started = true;
    this.take();
  }

  /** Stops coverage and disconnects. */
  stop(): void {
    if (!this.started) return;
    this.post('Profiler.stopPreciseCoverage');
    this.post('Profiler.disable');
    this.session.disconnect();
    this.connected = false;
    this.started = false;
  }

  private connect(): void {
    if (this.connected) return;
    this.session.connect();
    this.connected = true;
  }

  /** Forgets what ran since the last take (set-up work that is the same for every input). */
  reset(): void {
    this.take();
  }

  /** The features of what ran since the last take or reset. */
  collect(): Set<number> {
    const features = new Set<number>();
    for (const script of this.take()) {
      if (!ENGINE_DIRS.some((dir) => script.url.startsWith(dir))) continue;
      this.scriptIds.set(script.url, script.scriptId);
      for (const fn of script.functions) {
        const [own, ...nested] = fn.ranges;
        if (!own || own.count === 0) continue;
        const key = `${script.url}#${own.startOffset}-${own.endOffset}`;
        const name = fn.functionName || '(anonymous)';
        features.add(
          this.id(key, { url: script.url, fn: name, start: own.startOffset, end: own.endOffset }),
        );
        let known = this.blocks.get(key);
        if (!known) {
          known = [];
          this.blocks.set(key, known);
        }
        for (const r of nested) {
          if (known.some((b) => b.start === r.startOffset && b.end === r.endOffset)) continue;
          known.push({
            start: r.startOffset,
            end: r.endOffset,
            id: this.id(`${key}@${r.startOffset}-${r.endOffset}`, {
              url: script.url,
              fn: name,
              start: r.startOffset,
              end: r.endOffset,
            }),
          });
        }
        // A block ran as often as the innermost range reported around it (its own, when it
        // ran a different number of times than its parent).
        for (const block of known) {
          let count = own.count;
          let innermost = own.startOffset;
          for (const r of nested) {
            if (
              r.startOffset <= block.start &&
              block.end <= r.endOffset &&
              r.startOffset >= innermost
            ) {
              innermost = r.startOffset;
              count = r.count;
            }
          }
          if (count > 0) features.add(block.id);
        }
      }
    }
    return features;
  }

  /** Every feature numbered so far (functions, and blocks known). */
  get known(): number {
    return this.names.length;
  }

  /**
   * What feature `id` stands for: file, function, and the start of the block's code (as the
   * loader compiled it, types stripped). Fetches the file's source the first time.
   */
  describe(id: number): string {
    const name = this.names[id];
    if (!name) return `#${id}`;
    let source = this.sources.get(name.url);
    const scriptId = this.scriptIds.get(name.url);
    if (source === undefined && scriptId !== undefined) {
      this.connect();
      this.post('Debugger.enable');
      source = (this.post('Debugger.getScriptSource', { scriptId }) as { scriptSource: string })
        .scriptSource;
      this.post('Debugger.disable');
      this.sources.set(name.url, source);
    }
    const code = (source ?? '').slice(name.start, Math.min(name.end, name.start + 60));
    return `${shortName(name.url)} ${name.fn}: ${code.replace(/\s+/g, ' ')}`;
  }

  private id(key: string, name: { url: string; fn: string; start: number; end: number }): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(key, id);
      this.names.push(name);
    }
    return id;
  }

  private take(): readonly ScriptCoverage[] {
    const answer = this.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] };
    return answer.result;
  }

  /** In-thread inspector sessions answer synchronously; this relies on it and checks it. */
  private post(method: string, params: object = {}): unknown {
    let result: unknown;
    let failure: Error | null = null;
    let answered = false;
    this.session.post(method, params, (error, value) => {
      failure = error;
      result = value;
      answered = true;
    });
    if (!answered) throw new Error(`inspector: ${method} did not answer synchronously`);
    if (failure) throw failure;
    return result;
  }
}

/** "src/core/input.ts" from a file URL. */
function shortName(url: string): string {
  const path = fileURLToPath(url);
  const at = path.lastIndexOf('/src/');
  return at >= 0 ? path.slice(at + 1) : path;
}
