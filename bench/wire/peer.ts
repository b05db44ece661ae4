/**
 * Drives responder.ts (netarp's side of the wire benchmark) over its JSON lines.
 */

import { fileURLToPath } from 'node:url';
import type { ArpStats } from '../../src/core/stats.ts';
import type { VxlanIoChoice, VxlanLinkStats } from '../../src/link/vxlan.ts';
import type { HostStats } from '../../src/runtime/host.ts';
import type { RunnerStats } from '../../src/runtime/runner.ts';
import { workerPoolSize } from '../../src/runtime/worker-pool.ts';
import { spawnIn } from '../../test/support/netns.ts';
import { PeerProcess } from '../../test/support/peer-process.ts';
import type { ColdRun, ResponderCommand } from './responder.ts';
import type { Responder, WireTopology } from './topology.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./responder.ts', import.meta.url));

/** What responder.ts reports for `stats`. */
export interface ResponderState {
  readonly entries: number;
  readonly engine: ArpStats;
  readonly runner: RunnerStats;
  readonly link: VxlanLinkStats;
  readonly host: HostStats;
  /** process.cpuUsage(): microseconds since the process started. */
  readonly cpu: { readonly user: number; readonly system: number };
  readonly errors: readonly string[];
}

/** A running responder.ts process and its JSON-lines conversation. */
export class NetarpPeer extends PeerProcess<ResponderCommand> {
  /**
   * Starts responder.ts in the responder namespace as `who`, its VXLAN link (on the `io`
   * backend, native by default) flooding to the generator namespace on the same port.
   * `nodeFlags` go before the script (e.g. --cpu-prof). V8's worker pool is `v8Pool` threads,
   * by default as `bin/netarp` starts the daemon on this machine; 0: Node's default.
   */
  static async start(
    topo: WireTopology,
    who: Responder,
    options: {
      readonly io?: VxlanIoChoice;
      readonly nodeFlags?: readonly string[];
      readonly v8Pool?: number;
    } = {},
  ): Promise<NetarpPeer> {
    const pool = options.v8Pool ?? workerPoolSize();
    const nodeFlags = [
      ...(pool > 0 ? [`--v8-pool-size=${pool}`] : []),
      ...(options.nodeFlags ?? []),
    ];
    const child = spawnIn(
      topo.responderNs,
      [
        process.execPath,
        ...nodeFlags,
        '--import',
        'tsx',
        SCRIPT,
        '--local',
        topo.responderUnderlay,
        '--remote',
        topo.generatorUnderlay,
        '--port',
        String(who.port),
        '--vni',
        String(topo.vni),
        '--mac',
        who.mac,
        '--address',
        `${who.ip}/${topo.prefixLength}`,
        '--max-seconds',
        '900',
        '--io',
        options.io ?? 'native',
      ],
      REPO_ROOT,
    );
    const peer = new NetarpPeer(child, {
      name: 'responder',
      readyTimeoutMs: 15_000,
      requestTimeoutMs: 5000,
      closeTimeoutMs: 5000,
    });
    await peer.ready;
    return peer;
  }

  /** Counters, table size and CPU time so far. */
  async state(): Promise<ResponderState> {
    return (await this.request({ cmd: 'stats' })).state as ResponderState;
  }

  /** `count` cold resolutions of `destination` (see responder.ts). */
  async coldResolutions(
    destination: string,
    count: number,
    gapMs: number,
    timeoutMs: number,
  ): Promise<ColdRun> {
    const budget = count * (gapMs + timeoutMs) + 5000;
    const answer = await this.request(
      { cmd: 'latency', destination, count, gapMs, timeoutMs },
      budget,
    );
    return answer.cold as ColdRun;
  }
}
