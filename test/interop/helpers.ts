/**
 * Interop topologies: a real Linux kernel and netarp on one VXLAN segment, each in its own
 * network namespace, built and torn down per test.
 *
 * ```
 *  netarp namespace                          kernel namespace
 *  node peer-node.ts (VXLAN over dgram)      vx0 (vxlan, 02:00:00:00:00:01, 192.0.2.1/24)
 *  192.0.2.2/24, 02:00:00:00:00:02              |
 *  veth 198.18.N.1/30  <------ underlay ------> veth 198.18.N.2/30
 * ```
 * The kernel's vxlan socket binds the wildcard address on its port, so netarp's socket must
 * live in another namespace. Underlay addresses come from 198.18.0.0/15 (RFC 2544 benchmark
 * space) and overlay ones from 192.0.2.0/24 (RFC 5737 TEST-NET-1); they exist only inside the
 * namespaces. Names, ports and subnets are unique per process and per topology, so suites can
 * run one after another or side by side.
 *
 * Skip policy: when not root, when a needed tool is missing, or when `ip netns add` fails, a
 * suite is skipped with a message naming the suite and the reason, unless
 * NETARP_REQUIRE_INTEROP=1, which turns the same reason into a failure (CI sets it).
 */
import assert from 'node:assert/strict';
import {
  type ChildProcessWithoutNullStreams,
  execFile,
  spawn,
  spawnSync,
} from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { EntryInfo } from '../../src/core/admin.ts';
import type { ArpStats } from '../../src/core/stats.ts';
import type { PcapTeeStats } from '../../src/link/pcap-tee.ts';
import type { VxlanLinkStats } from '../../src/link/vxlan.ts';
import type { HostStats, PingResult } from '../../src/runtime/host.ts';
import type { RunnerStats, RuntimeEvent } from '../../src/runtime/runner.ts';
import type { PeerCommand } from './peer-loop.ts';

// --- whether interop suites can run -------------------------------------------------------

/** The environment variable that turns an interop skip into a failure. */
export const REQUIRE_INTEROP_ENV = 'NETARP_REQUIRE_INTEROP';

/** The programs the interop suites run (Debian: iproute2 iputils-ping iputils-arping arp-scan tcpdump). */
export const INTEROP_TOOLS = ['ip', 'ping', 'arping', 'arp-scan', 'tcpdump'] as const;

/** The checks `interopUnavailableReason` makes, injectable so that tests can fake them. */
export interface InteropProbes {
  /** The effective user id, or undefined where there is none (not POSIX). */
  uid(): number | undefined;
  /** The absolute path of an executable, or undefined when it is not installed. */
  findTool(name: string): string | undefined;
  /** Adds and deletes a scratch namespace: undefined on success, else the error text. */
  tryNetns(): string | undefined;
}

/** Directories searched besides PATH: the tools live in sbin, which a user's PATH may lack. */
const SYSTEM_BIN_DIRS = [
  '/usr/local/sbin',
  '/usr/local/bin',
  '/usr/sbin',
  '/usr/bin',
  '/sbin',
  '/bin',
];

/** The probes of this machine. */
export const systemProbes: InteropProbes = {
  uid: () => process.getuid?.(),
  findTool(name) {
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
  },
  tryNetns() {
    const ip = systemProbes.findTool('ip') ?? 'ip';
    const name = `netarp-probe-${process.pid}`;
    const added = spawnSync(ip, ['netns', 'add', name], { encoding: 'utf8', timeout: 5000 });
    if (added.status !== 0) {
      const why = added.error?.message ?? added.stderr.trim();
      return `\`ip netns add\` failed: ${why || `exit ${added.status}`}`;
    }
    spawnSync(ip, ['netns', 'del', name], { timeout: 5000 });
    return undefined;
  },
};

/** Why interop suites cannot run here (every reason found, joined), or undefined if they can. */
export function interopUnavailableReason(
  probes: InteropProbes,
  tools: readonly string[] = INTEROP_TOOLS,
): string | undefined {
  const reasons: string[] = [];
  const uid = probes.uid();
  if (uid !== 0) reasons.push(`not running as root (uid ${uid ?? 'unknown'})`);
  const missing = tools.filter((tool) => probes.findTool(tool) === undefined);
  if (missing.length > 0) {
    reasons.push(
      `missing ${missing.join(', ')} (Debian: iproute2 iputils-ping iputils-arping arp-scan tcpdump)`,
    );
  }
  // Creating a namespace needs root and ip; trying without them only repeats those reasons.
  if (reasons.length === 0) {
    const netns = probes.tryNetns();
    if (netns !== undefined) reasons.push(netns);
  }
  return reasons.length === 0 ? undefined : reasons.join('; ');
}

/** What to do with a suite: run it, skip it with a message, or fail with one. */
export type SuitePlan =
  | { readonly kind: 'run' }
  | { readonly kind: 'skip'; readonly message: string }
  | { readonly kind: 'fail'; readonly message: string };

/** Decides a suite's fate from the reason it cannot run and the environment. */
export function planSuite(
  suite: string,
  reason: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): SuitePlan {
  if (reason === undefined) return { kind: 'run' };
  if (env[REQUIRE_INTEROP_ENV] === '1') {
    return {
      kind: 'fail',
      message: `interop suite "${suite}" cannot run and ${REQUIRE_INTEROP_ENV}=1: ${reason}`,
    };
  }
  return {
    kind: 'skip',
    message: `interop suite "${suite}" skipped: ${reason} (set ${REQUIRE_INTEROP_ENV}=1 to fail instead)`,
  };
}

let cachedReason: { value: string | undefined } | undefined;

/**
 * Declares an interop suite with node:test: it runs when this machine can, else it is skipped
 * with the reason (node:test prints it), or fails with it under NETARP_REQUIRE_INTEROP=1.
 * `extraReason` adds a suite's own need (the TAP and AF_PACKET suites: the native addon).
 */
export function interopSuite(
  suite: string,
  body: () => void,
  extraReason?: () => string | undefined,
): void {
  cachedReason ??= { value: interopUnavailableReason(systemProbes) };
  const reasons = [cachedReason.value, extraReason?.()].filter((r) => r !== undefined);
  const plan = planSuite(suite, reasons.length > 0 ? reasons.join('; ') : undefined, process.env);
  switch (plan.kind) {
    case 'run':
      describe(suite, body);
      break;
    case 'skip':
      describe(suite, () => {
        it('needs root, network namespaces and the Linux tools', { skip: plan.message }, () => {});
      });
      break;
    case 'fail':
      describe(suite, () => {
        it('needs root, network namespaces and the Linux tools', () => assert.fail(plan.message));
      });
      break;
  }
}

// --- commands -----------------------------------------------------------------------------

/** What a command did. */
export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion (never throws for a non-zero exit; kills it at the timeout). */
export function run(argv: readonly string[], timeoutMs = 8000): Promise<CommandResult> {
  const [command, ...args] = argv;
  if (command === undefined) throw new Error('run: empty command');
  return new Promise((resolve) => {
    execFile(
      systemProbes.findTool(command) ?? command,
      args,
      { timeout: timeoutMs, encoding: 'utf8' },
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

/** `ip link` shows a device with carrier as operationally up. */
export const OPER_UP = /state UP /;

/**
 * Waits until `dev` in `ns` shows `state` in `ip -d link show`. A device's carrier reaches
 * its operational state, and a bridge port's forwarding, through the kernel's linkwatch,
 * which may run up to a second later; a frame sent before then is dropped, so the first ARP
 * request of a test would be lost.
 */
export async function waitForLink(
  ns: string,
  dev: string,
  state: RegExp,
  timeoutMs = 3000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let shown = '';
  while (Date.now() < deadline) {
    shown = await must(['ip', '-n', ns, '-d', 'link', 'show', dev]);
    if (state.test(shown)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${dev} in ${ns} not ${state} after ${timeoutMs} ms:\n${shown}`);
}

/** Runs a command inside namespace `ns` (ip netns exec). */
export function runIn(
  ns: string,
  argv: readonly string[],
  timeoutMs?: number,
): Promise<CommandResult> {
  return run(['ip', 'netns', 'exec', ns, ...argv], timeoutMs);
}

// --- topologies ---------------------------------------------------------------------------

/** The repository root (peer-node runs from there so that tsx finds the tsconfig). */
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PEER_SCRIPT = fileURLToPath(new URL('./peer-node.ts', import.meta.url));

/** Namespaces created by this process and not yet deleted, removed at exit whatever happens. */
const liveNamespaces = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    const ip = systemProbes.findTool('ip') ?? 'ip';
    for (const ns of liveNamespaces) spawnSync(ip, ['netns', 'del', ns], { timeout: 5000 });
  });
}

let topologyCount = 0;

/** One netarp/kernel pair on a VXLAN segment. */
export class Topology {
  /** The namespace netarp runs in. */
  readonly netarpNs: string;
  /** The namespace of the kernel peer, with its vxlan device `vx0`. */
  readonly kernelNs: string;
  /** The kernel peer's vxlan device. */
  readonly kernelIf = 'vx0';
  readonly netarpUnderlay: string;
  readonly kernelUnderlay: string;
  readonly vxlanPort: number;
  readonly vni: number;
  readonly kernelMac = '02:00:00:00:00:01';
  readonly kernelAddress = '192.0.2.1';
  readonly netarpMac = '02:00:00:00:00:02';
  readonly netarpAddress = '192.0.2.2';
  /** A scratch directory for captures, removed with the topology. */
  readonly dir: string;
  private readonly peers: Peer[] = [];
  private readonly veth: string;

  private constructor(readonly id: number) {
    const tag = `${process.pid}-${id}`;
    this.netarpNs = `netarp-${tag}-n`;
    this.kernelNs = `netarp-${tag}-k`;
    // Interface names are at most 15 bytes; the veth ends exist in the root namespace briefly.
    this.veth = `nv${process.pid % 100000}x${id % 1000}`;
    // A /30 of 198.18.0.0/15 and a port above the registered range, from pid and count.
    const slot = (process.pid * 64 + id) % 32768;
    const base = (198 << 24) | (18 << 16) | (slot << 2);
    this.netarpUnderlay = dotted(base + 1);
    this.kernelUnderlay = dotted(base + 2);
    this.vxlanPort = 20000 + ((process.pid * 64 + id) % 40000);
    this.vni = 4096 + id;
    this.dir = mkdtempSync(join(tmpdir(), 'netarp-interop-'));
  }

  /** Builds the two namespaces, the underlay veth pair and the kernel's vxlan device. */
  static async create(): Promise<Topology> {
    installExitHook();
    const t = new Topology(++topologyCount);
    try {
      await t.build();
    } catch (error) {
      await t.destroy();
      throw error;
    }
    return t;
  }

  private async build(): Promise<void> {
    const { netarpNs: a, kernelNs: b, veth } = this;
    for (const ns of [a, b]) {
      await must(['ip', 'netns', 'add', ns]);
      liveNamespaces.add(ns);
    }
    await must(['ip', 'link', 'add', `${veth}a`, 'type', 'veth', 'peer', 'name', `${veth}b`]);
    await must(['ip', 'link', 'set', `${veth}a`, 'netns', a]);
    await must(['ip', 'link', 'set', `${veth}b`, 'netns', b]);
    for (const [ns, dev, address] of [
      [a, `${veth}a`, this.netarpUnderlay],
      [b, `${veth}b`, this.kernelUnderlay],
    ] as const) {
      await must(['ip', '-n', ns, 'addr', 'add', `${address}/30`, 'dev', dev]);
      await must(['ip', '-n', ns, 'link', 'set', dev, 'up']);
      await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    await waitForLink(a, `${veth}a`, OPER_UP);
    await waitForLink(b, `${veth}b`, OPER_UP);
    await must([
      'ip',
      '-n',
      b,
      'link',
      'add',
      this.kernelIf,
      'type',
      'vxlan',
      'id',
      String(this.vni),
      'local',
      this.kernelUnderlay,
      'remote',
      this.netarpUnderlay,
      'dstport',
      String(this.vxlanPort),
      'nolearning',
    ]);
    await must(['ip', '-n', b, 'link', 'set', this.kernelIf, 'address', this.kernelMac]);
    await must(['ip', '-n', b, 'addr', 'add', `${this.kernelAddress}/24`, 'dev', this.kernelIf]);
    await must(['ip', '-n', b, 'link', 'set', this.kernelIf, 'up']);
  }

  /** Runs a command in the kernel peer's namespace. */
  kernel(argv: readonly string[], timeoutMs?: number): Promise<CommandResult> {
    return runIn(this.kernelNs, argv, timeoutMs);
  }

  /** The kernel's neighbour entries on vx0 (`ip -n NS neigh show dev vx0`). */
  async kernelNeighbours(): Promise<string> {
    return must(['ip', '-n', this.kernelNs, 'neigh', 'show', 'dev', this.kernelIf]);
  }

  /** Starts netarp (peer-node.ts) in its namespace and waits until it is ready. */
  async startPeer(options: { pcap?: string; sysctl?: string[] } = {}): Promise<Peer> {
    const args = [
      '--local',
      this.netarpUnderlay,
      '--remote',
      this.kernelUnderlay,
      '--port',
      String(this.vxlanPort),
      '--vni',
      String(this.vni),
      '--mac',
      this.netarpMac,
      '--address',
      `${this.netarpAddress}/24`,
    ];
    if (options.pcap !== undefined) args.push('--pcap', options.pcap);
    for (const setting of options.sysctl ?? []) args.push('--sysctl', setting);
    const peer = new Peer(
      spawn(
        systemProbes.findTool('ip') ?? 'ip',
        ['netns', 'exec', this.netarpNs, process.execPath, '--import', 'tsx', PEER_SCRIPT, ...args],
        { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
      ),
    );
    this.peers.push(peer);
    await peer.ready;
    return peer;
  }

  /** Stops the peers and deletes both namespaces (which deletes vx0 and the veth pair). */
  async destroy(): Promise<void> {
    for (const peer of this.peers) await peer.close().catch(() => peer.kill());
    for (const ns of [this.netarpNs, this.kernelNs]) {
      if (!liveNamespaces.has(ns)) continue;
      await run(['ip', 'netns', 'del', ns]);
      liveNamespaces.delete(ns);
    }
    // A veth end left in the root namespace if building stopped half-way.
    await run(['ip', 'link', 'del', `${this.veth}a`]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs `body` on a fresh topology and always tears it down, even when `body` fails. */
export async function withTopology<T>(body: (t: Topology) => Promise<T>): Promise<T> {
  const t = await Topology.create();
  try {
    return await body(t);
  } finally {
    await t.destroy();
  }
}

function dotted(ip: number): string {
  return [ip >>> 24, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff].join('.');
}

// --- the netarp peer process --------------------------------------------------------------

/** What peer-node reports for `state`. */
export interface PeerState {
  readonly entries: EntryInfo[];
  readonly engine: ArpStats;
  readonly runner: RunnerStats;
  readonly host: HostStats;
  readonly link: VxlanLinkStats;
  readonly pcap: PcapTeeStats | undefined;
}

/** A JSON line from peer-node. */
type PeerMessage =
  | { type: 'ready' }
  | { type: 'fatal'; message: string }
  | { type: 'error'; message: string }
  | { type: 'event'; event: RuntimeEvent }
  | { type: 'result'; id: number; [key: string]: unknown };

/** Each command without its id (distributes over the union). */
type WithoutId<C> = C extends unknown ? Omit<C, 'id'> : never;
type Command = WithoutId<PeerCommand>;

/** A running peer-node process and its JSON-lines conversation. */
export class Peer {
  /** Every runtime event the peer reported, in order. */
  readonly events: RuntimeEvent[] = [];
  /** Every error the peer reported (link I/O, handler exceptions). */
  readonly errors: string[] = [];
  /** Resolves once the peer printed `ready`; rejects if it died first. */
  readonly ready: Promise<void>;
  private readonly exited: Promise<void>;
  private readonly waiting = new Map<number, (message: Record<string, unknown>) => void>();
  private nextId = 1;
  private stderr = '';

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    let onReady: () => void = () => {};
    let onFailed: (error: Error) => void = () => {};
    this.ready = new Promise((resolve, reject) => {
      onReady = resolve;
      onFailed = reject;
    });
    const timer = setTimeout(
      () => onFailed(new Error(`peer not ready after 8 s: ${this.stderr}`)),
      8000,
    );
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      this.stderr += text;
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      let message: PeerMessage;
      try {
        message = JSON.parse(line) as PeerMessage;
      } catch {
        this.errors.push(`peer printed: ${line}`);
        return;
      }
      switch (message.type) {
        case 'ready':
          clearTimeout(timer);
          onReady();
          break;
        case 'fatal':
          onFailed(new Error(`peer failed: ${message.message}`));
          break;
        case 'error':
          this.errors.push(message.message);
          break;
        case 'event':
          this.events.push(message.event);
          break;
        case 'result':
          this.waiting.get(message.id)?.(message);
          this.waiting.delete(message.id);
          break;
      }
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        onFailed(new Error(`peer exited (${code ?? signal}) before ready: ${this.stderr}`));
        for (const settle of this.waiting.values())
          settle({ error: `peer exited: ${this.stderr}` });
        this.waiting.clear();
        resolve();
      });
    });
  }

  /** Sends a command and waits for its result. */
  request(command: Command, timeoutMs = 8000): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`peer did not answer ${command.cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, (message) => {
        clearTimeout(timer);
        if (typeof message.error === 'string') reject(new Error(message.error));
        else resolve(message);
      });
      this.child.stdin.write(`${JSON.stringify({ ...command, id })}\n`);
    });
  }

  /** Pings from netarp (Host.ping) and returns its result. */
  async ping(
    destination: string,
    options: { count?: number; timeoutMs?: number; intervalMs?: number } = {},
  ): Promise<PingResult> {
    const answer = await this.request({ cmd: 'ping', destination, ...options });
    return answer.ping as PingResult;
  }

  /** The peer's entries and counters. */
  async state(): Promise<PeerState> {
    return (await this.request({ cmd: 'state' })).state as PeerState;
  }

  /** Asks the peer to close its links (flushing the capture) and waits for it to exit. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      await this.request({ cmd: 'close' }, 3000);
    } catch {
      this.kill();
    }
    await this.exited;
  }

  /** Ends the process at once. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
