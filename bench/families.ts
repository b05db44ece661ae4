/**
 * Every benchmark family `npm run bench` runs, in order. A family is a module exporting a
 * `BenchFamily` (bench/family.ts); add new ones here. The in-process family of the
 * performance issue (workloads, memory, timers) goes before the wire family, which needs root.
 */
import type { BenchFamily } from './family.ts';
import { inprocFamily } from './inproc/index.ts';
import { wireFamily } from './wire/index.ts';

/** The registry, in run order. */
export const FAMILIES: readonly BenchFamily[] = [inprocFamily, wireFamily];
