/**
 * Runs stress scenarios each in a child process of its own (worker.ts, with --expose-gc), so
 * that the heap and peak RSS measured are the scenario's alone.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ScenarioName, ScenarioResult } from './scenarios.ts';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs scenario `name` at `scale` in a fresh process; rejects if it fails or overruns. */
export function runWorker(
  name: ScenarioName,
  scale: number,
  timeoutMs = 300_000,
): Promise<ScenarioResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', WORKER, name, String(scale)],
      { cwd: REPO_ROOT, timeout: timeoutMs, maxBuffer: 16 << 20, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`stress worker ${name} failed: ${error.message}\n${stderr}`));
          return;
        }
        resolve(JSON.parse(stdout) as ScenarioResult);
      },
    );
  });
}
