/**
 * Drives responder.ts (netarp's side of the wire benchmark) over its JSON lines.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ArpStats } from '../../src/core/stats.ts';
import type { VxlanIoChoice, VxlanLinkStats } from '../../src/link/vxlan.ts';
import type { RunnerStats } from '../../src/runtime/runner.ts';
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
  /** process.cpuUsage(): microseconds since the process started. */
  readonly cpu: { readonly user: number; readonly system: number };
  readonly errors: readonly string[];
}

/** Each command without its id (distributes over the union). */
type WithoutId<C> = C extends unknown ? Omit<C, 'id'> : never;

/** A running responder.ts process. */
export class NetarpPeer {
  /** Resolves once the responder printed `ready`; rejects if it died first. */
  readonly ready: Promise<void>;
  private readonly exited: Promise<void>;
  private readonly waiting = new Map<number, (message: Record<string, unknown>) => void>();
  private nextId = 1;
  private stderr = '';

  private constructor(private readonly child: ChildProcess) {
    let onReady: () => void = () => {};
    let onFailed: (error: Error) => void = () => {};
    this.ready = new Promise((resolve, reject) => {
      onReady = resolve;
      onFailed = reject;
    });
    const timer = setTimeout(
      () => onFailed(new Error(`responder not ready after 15 s: ${this.stderr}`)),
      15_000,
    );
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      this.stderr += text;
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (message.type === 'ready') {
        clearTimeout(timer);
        onReady();
      } else if (message.type === 'fatal') {
        onFailed(new Error(`responder failed: ${String(message.message)}`));
      } else if (message.type === 'result' && typeof message.id === 'number') {
        this.waiting.get(message.id)?.(message);
        this.waiting.delete(message.id);
      }
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        onFailed(new Error(`responder exited (${code ?? signal}): ${this.stderr}`));
        for (const settle of this.waiting.values()) settle({ error: `responder exited` });
        this.waiting.clear();
        resolve();
      });
    });
  }

  /**
   * Starts responder.ts in the responder namespace as `who`, its VXLAN link (on the `io`
   * backend, native by default) flooding to the generator namespace on the same port.
   * `nodeFlags` go before the script (e.g. --cpu-prof).
   */
  static async start(
    topo: WireTopology,
    who: Responder,
    options: { readonly io?: VxlanIoChoice; readonly nodeFlags?: readonly string[] } = {},
  ): Promise<NetarpPeer> {
    const nodeFlags = options.nodeFlags ?? [];
    const child = topo.spawnIn(
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
    const peer = new NetarpPeer(child);
    await peer.ready;
    return peer;
  }

  private request(
    command: WithoutId<ResponderCommand>,
    timeoutMs: number,
  ): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`responder did not answer ${command.cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, (message) => {
        clearTimeout(timer);
        if (typeof message.error === 'string') reject(new Error(message.error));
        else resolve(message);
      });
      this.child.stdin?.write(`${JSON.stringify({ ...command, id })}\n`);
    });
  }

  /** The process id (`ip netns exec` execs node in place, so this is node's). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Counters, table size and CPU time so far. */
  async state(): Promise<ResponderState> {
    return (await this.request({ cmd: 'stats' }, 5000)).state as ResponderState;
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

  /** Asks the responder to close and exit (writing its CPU profile if it has one), then waits. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      await this.request({ cmd: 'close' }, 5000);
    } catch {
      this.child.kill('SIGKILL');
    }
    await this.exited;
  }
}
