/**
 * Reads a V8 CPU profile (`node --cpu-prof`) and says where the time went: self time per
 * function and per file, with V8's own pseudo-frames ("(garbage collector)", "(program)",
 * "(idle)") kept as they are, since for I/O-bound code they are often the answer.
 *
 *   node --import tsx bench/profile.ts FILE.cpuprofile [--top 25]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** The parts of a .cpuprofile this reads. */
interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: {
      readonly functionName: string;
      readonly url: string;
      readonly lineNumber: number;
      readonly columnNumber?: number;
    };
  }[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

/** Self time of one function (or file), in milliseconds and as a share of the profile. */
export interface ProfileLine {
  readonly name: string;
  readonly selfMs: number;
  readonly share: number;
}

/** A profile reduced to where its time went. */
export interface ProfileSummary {
  /** The profile's wall-clock span. */
  readonly totalMs: number;
  /** Time not idle (every sample but "(idle)"). */
  readonly busyMs: number;
  /** Functions by self time, largest first ("(idle)" left out; shares are of busy time). */
  readonly functions: readonly ProfileLine[];
  /** Files by self time (V8's pseudo-frames under their own names), largest first. */
  readonly files: readonly ProfileLine[];
}

/** A short location: the path from `src/`, `bench/` or `node:` on, else the last two parts. */
function shortUrl(url: string): string {
  if (url === '') return '';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const at = path.search(/\/(src|bench|test)\//);
  if (at >= 0) return path.slice(at + 1);
  if (path.startsWith('node:')) return path;
  return path.split('/').slice(-2).join('/');
}

/** Sums self time per function and per file. */
export function summarizeProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const functionMs = new Map<string, number>();
  const fileMs = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let busy = 0;
  // timeDeltas[i] is the time before sample i; the sample's cost is the gap to the next one.
  for (let i = 0; i < samples.length; i++) {
    const frame = byId.get(samples[i]!);
    const ms = (deltas[i + 1] ?? 0) / 1000;
    if (!frame) continue;
    const fn = frame.functionName || '(anonymous)';
    if (fn === '(idle)') continue;
    busy += ms;
    const url = shortUrl(frame.url);
    // Line and column: code compiled by tsx sits on few lines, so the column tells apart
    // functions of one file.
    const name =
      url === '' ? fn : `${fn} ${url}:${frame.lineNumber + 1}:${(frame.columnNumber ?? 0) + 1}`;
    functionMs.set(name, (functionMs.get(name) ?? 0) + ms);
    const file = url === '' ? fn : url;
    fileMs.set(file, (fileMs.get(file) ?? 0) + ms);
  }
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const lines = (m: Map<string, number>) =>
    [...m]
      .map(([name, selfMs]) => ({ name, selfMs, share: busy > 0 ? selfMs / busy : 0 }))
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top);
  return { totalMs, busyMs: busy, functions: lines(functionMs), files: lines(fileMs) };
}

/**
 * The newest main-thread CPU profile in `dir`. Node names them
 * CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile, and the main thread is thread 0 (tsx's
 * module loader runs in a worker, which writes a profile of its own).
 */
export function newestMainProfile(dir: string): string | undefined {
  let best: { path: string; time: number } | undefined;
  for (const name of readdirSync(dir)) {
    if (!/\.\d+\.0\.\d+\.cpuprofile$/.test(name)) continue;
    const path = join(dir, name);
    const time = statSync(path).mtimeMs;
    if (!best || time > best.time) best = { path, time };
  }
  return best?.path;
}

/** Reads and summarizes a .cpuprofile file. */
export function summarizeProfileFile(path: string, top = 25): ProfileSummary {
  return summarizeProfile(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile, top);
}

/** The summary as text: two tables, shares of the busy (non-idle) time. */
export function formatProfileSummary(summary: ProfileSummary): string {
  const out = [
    `profile: ${summary.totalMs.toFixed(0)} ms, busy (not idle) ${summary.busyMs.toFixed(0)} ms; shares below are of busy time`,
  ];
  for (const [title, lines] of [
    ['self time by function', summary.functions],
    ['self time by file', summary.files],
  ] as const) {
    out.push('', title);
    for (const line of lines) {
      out.push(
        `${line.selfMs.toFixed(1).padStart(9)} ms ${(line.share * 100).toFixed(1).padStart(5)}%  ${line.name}`,
      );
    }
  }
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' } },
  });
  for (const path of positionals) {
    process.stdout.write(
      `${path}\n${formatProfileSummary(summarizeProfileFile(path, Number(values.top)))}\n\n`,
    );
  }
}
