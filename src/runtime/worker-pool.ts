/**
 * How many threads V8's worker pool should have beside the event loop (`node
 * --v8-pool-size`): one fewer than the CPUs, at most Node's default of four, at least one.
 * The pool runs V8's optimizing compiler and its concurrent garbage-collection work; when
 * those threads and the event loop's outnumber the CPUs, the event loop waits for a CPU in
 * the middle of whatever it is doing (docs/design.md, "A CPU for the event loop").
 *
 * `bin/netarp` computes the same in shell for every `netarp` command it starts; the benches
 * start their measured processes with it, as the daemon runs.
 */
import { availableParallelism } from 'node:os';

/** Node's own default pool size. */
export const NODE_DEFAULT_POOL_SIZE = 4;

/** The pool size for a machine with `cpus` CPUs available to the process. */
export function workerPoolSize(cpus: number = availableParallelism()): number {
  return Math.min(NODE_DEFAULT_POOL_SIZE, Math.max(1, Math.floor(cpus) - 1));
}

/** The Node flag that sets it. */
export function workerPoolFlag(cpus?: number): string {
  return `--v8-pool-size=${workerPoolSize(cpus)}`;
}
