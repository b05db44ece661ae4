/**
 * Finding and running the system's programs, for the suites and benchmarks that drive real
 * tools (`ip`, `ping`, `tcpdump`, `cc`, `perf`): every run is bounded by a timeout, and a
 * failure comes back with the program's own words.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Directories searched besides PATH: `ip` and friends live in sbin, which a user's PATH may lack. */
const SYSTEM_BIN_DIRS = [
  '/usr/local/sbin',
  '/usr/local/bin',
  '/usr/sbin',
  '/usr/bin',
  '/sbin',
  '/bin',
];

/** The absolute path of an executable, or undefined when it is not installed. */
export function findTool(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...SYSTEM_BIN_DIRS];
  for (const dir of dirs) {
    if (dir === '') continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** What a command did. */
export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The most output a command may print before it is stopped (perf reports run to megabytes). */
const MAX_OUTPUT_BYTES = 16 << 20;

/** Runs a command to completion (never throws for a non-zero exit; kills it at the timeout). */
export function run(argv: readonly string[], timeoutMs = 8000): Promise<CommandResult> {
  const [command, ...args] = argv;
  if (command === undefined) throw new Error('run: empty command');
  return new Promise((resolve) => {
    execFile(
      findTool(command) ?? command,
      args,
      { timeout: timeoutMs, encoding: 'utf8', maxBuffer: MAX_OUTPUT_BYTES },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr: stderr || (error && code === null ? error.message : '') });
      },
    );
  });
}

/** Runs a command and throws, with its output, unless it exits 0. */
export async function must(argv: readonly string[], timeoutMs?: number): Promise<string> {
  const result = await run(argv, timeoutMs);
  if (result.code !== 0) {
    throw new Error(`\`${argv.join(' ')}\` exited ${result.code}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}

/** Runs a command inside namespace `ns` (ip netns exec). */
export function runIn(
  ns: string,
  argv: readonly string[],
  timeoutMs?: number,
): Promise<CommandResult> {
  return run(['ip', 'netns', 'exec', ns, ...argv], timeoutMs);
}
