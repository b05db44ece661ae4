/**
 * Bounded waits for the suites that watch real processes and devices: every wait has a
 * deadline and says, when it passes, what it waited for and what it saw.
 */
import assert from 'node:assert/strict';

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `check` every `intervalMs` until it returns a value other than undefined, and returns
 * that value; fails after `timeoutMs` with `what` and `detail()`.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 5000,
  detail: () => string = () => '',
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms\n${detail()}`);
    await sleep(intervalMs);
  }
}
