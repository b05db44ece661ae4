/**
 * Where netarp's time goes under load (`--profile DIR`): two extra, uncounted runs of the
 * closed loop against netarp, one under V8's CPU profiler (JavaScript functions, with native
 * work folded into its JavaScript caller), one under Linux perf when it is installed (the
 * whole process: V8, node's C++, libuv, libc and the kernel, JIT frames named through
 * --perf-basic-prof).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VxlanIoChoice } from '../../src/link/vxlan.ts';
import { formatProfileSummary, newestMainProfile, summarizeProfileFile } from '../profile.ts';
import type { Loadgen } from './loadgen.ts';
import { NetarpPeer } from './peer.ts';
import { findTool, run, type WireTopology } from './topology.ts';

/** The load of one profiled run. */
export interface ProfileLoad {
  readonly hosts: number;
  readonly window: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

/** The files a profiling pass wrote. */
export interface ProfileFiles {
  /** V8 profile of netarp's main thread, and its summary (.txt beside it). */
  readonly v8: string | undefined;
  /** perf's reports (text), when perf is installed. */
  readonly perf: readonly string[];
}

/** Both profiling runs of netarp on the `io` backend; writes into `dir`. */
export async function profileNetarp(
  topo: WireTopology,
  loadgen: Loadgen,
  load: ProfileLoad,
  dir: string,
  io: VxlanIoChoice,
  log: (line: string) => void,
): Promise<ProfileFiles> {
  log(`wire: profiling netarp (io ${io}) under load (V8) into ${dir}`);
  const profiled = await NetarpPeer.start(topo, topo.netarp, {
    io,
    nodeFlags: ['--cpu-prof', '--cpu-prof-dir', dir],
  });
  try {
    await loadgen.client(topo, topo.netarp, load);
  } finally {
    await profiled.close();
  }
  const v8 = newestMainProfile(dir);
  if (v8 !== undefined) {
    writeFileSync(`${v8}.txt`, `${formatProfileSummary(summarizeProfileFile(v8, 40))}\n`);
  }

  const perf = findTool('perf');
  if (perf === undefined) return { v8, perf: [] };
  log(`wire: profiling netarp under load (perf) into ${dir}`);
  const data = join(dir, 'netarp-perf.data');
  // --perf-basic-prof also turns on V8's log, by default a file per isolate in the working
  // directory: send it to the profile directory instead.
  const peer = await NetarpPeer.start(topo, topo.netarp, {
    io,
    nodeFlags: [
      '--perf-basic-prof',
      `--logfile=${join(dir, 'netarp-v8.log')}`,
      '--no-logfile-per-isolate',
    ],
  });
  try {
    const generator = loadgen.client(topo, topo.netarp, load);
    // Attach once the warm-up is over; record for the measured interval.
    await new Promise((wake) => setTimeout(wake, load.warmupMs));
    const seconds = Math.max(1, Math.floor(load.durationMs / 1000) - 1);
    const recorded = await run(
      [
        perf,
        'record',
        '-F',
        '999',
        '-g',
        '-p',
        String(peer.pid),
        '-o',
        data,
        '--',
        'sleep',
        String(seconds),
      ],
      (seconds + 30) * 1000,
    );
    await generator;
    if (recorded.code !== 0) throw new Error(`perf record failed: ${recorded.stderr.trim()}`);
  } finally {
    await peer.close();
  }
  const reports: string[] = [];
  for (const [name, args] of [
    ['netarp-perf-dso.txt', ['--no-children', '--sort', 'dso']],
    ['netarp-perf-self.txt', ['--no-children', '--sort', 'sym']],
    ['netarp-perf-children.txt', ['--children', '--sort', 'sym']],
  ] as const) {
    const report = await run(
      [perf, 'report', '-i', data, '--stdio', '-g', 'none', '--percent-limit', '0.3', ...args],
      120_000,
    );
    const path = join(dir, name);
    writeFileSync(path, report.stdout);
    reports.push(path);
  }
  // perf resolved the JIT frames through the map node wrote; it is not needed any more.
  rmSync(`/tmp/perf-${peer.pid}.map`, { force: true });
  return { v8, perf: reports };
}
