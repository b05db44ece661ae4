/**
 * The wire benchmark's network: two namespaces joined by a veth pair, built and deleted by
 * the benchmark itself. Nothing touches the machine's own interfaces; every address below
 * exists only inside these namespaces.
 *
 * ```
 *  responder namespace                          generator namespace
 *  netarp (node:dgram)  198.18.0.1:4789 <-.      loadgen client, UDP 198.18.0.2:<port>
 *      198.19.0.2, 02:00:00:00:00:02      |      (speaks VXLAN itself: no device)
 *  vxk (kernel vxlan, dstport 4790)   <---+      vxg (kernel vxlan, dstport 4791)
 *      198.19.0.3, 02:00:00:00:00:03      |          198.19.0.1, 02:00:00:00:00:01
 *  loadgen reflect      198.18.0.1:4792 <-'          the peer netarp resolves for latency
 *      198.19.0.4, 02:00:00:00:00:04
 *  veth 198.18.0.1/30  <-------------- underlay --------------> veth 198.18.0.2/30
 * ```
 * Both responders under load live in the same namespace behind the same veth, so the load
 * generator drives them over exactly the same path; only what answers differs. Underlay and
 * overlay come from 198.18.0.0/15, the block RFC 2544 and RFC 6890 set aside for
 * benchmarking; the overlay is a /21 so that a thousand senders are on-link for both
 * netarp and the kernel. IPv6 is off in both namespaces so that no router solicitation or
 * MLD report mixes with the measured traffic.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Directories searched besides PATH: ip lives in sbin, which a user's PATH may lack. */
const SYSTEM_BIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin'];

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

/** Why the wire benchmark cannot run here (every reason, joined), or undefined if it can. */
export function wireUnavailableReason(): string | undefined {
  const reasons: string[] = [];
  const uid = process.getuid?.();
  if (uid !== 0) reasons.push(`needs root for network namespaces (uid ${uid ?? 'unknown'})`);
  const missing = ['ip', 'cc'].filter((tool) => findTool(tool) === undefined);
  if (missing.length > 0) reasons.push(`missing ${missing.join(', ')} (Debian: iproute2 gcc)`);
  if (reasons.length === 0) {
    const name = `nbw-probe-${process.pid}`;
    const added = spawnSync(findTool('ip')!, ['netns', 'add', name], {
      encoding: 'utf8',
      timeout: 5000,
    });
    if (added.status !== 0) {
      reasons.push(`\`ip netns add\` failed: ${added.stderr.trim() || `exit ${added.status}`}`);
    } else {
      spawnSync(findTool('ip')!, ['netns', 'del', name], { timeout: 5000 });
    }
  }
  return reasons.length === 0 ? undefined : reasons.join('; ');
}

/** What a command did. */
export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion (never throws for a non-zero exit; kills it at the timeout). */
export function run(argv: readonly string[], timeoutMs = 10_000): Promise<CommandResult> {
  const [command, ...args] = argv;
  if (command === undefined) throw new Error('run: empty command');
  return new Promise((resolve) => {
    execFile(
      findTool(command) ?? command,
      args,
      { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 16 << 20 },
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

/** An endpoint of the benchmark: where it listens and what it answers as. */
export interface Responder {
  readonly port: number;
  readonly ip: string;
  readonly mac: string;
}

/** Namespaces this process created and has not deleted yet: removed at exit whatever happens. */
const liveNamespaces = new Set<string>();
/** Processes started in the namespaces: killed at exit whatever happens. */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveChildren) child.kill('SIGKILL');
    const ip = findTool('ip') ?? 'ip';
    for (const ns of liveNamespaces) spawnSync(ip, ['netns', 'del', ns], { timeout: 5000 });
  });
}

/** The two namespaces, their veth pair and the kernel's two vxlan devices. */
export class WireTopology {
  readonly generatorNs: string;
  readonly responderNs: string;
  readonly responderUnderlay = '198.18.0.1';
  readonly generatorUnderlay = '198.18.0.2';
  readonly vni = 42;
  /** The overlay prefix length: a /21 of 198.19.0.0 holds every sender on-link. */
  readonly prefixLength = 21;
  /** Sender i is 198.19.2.0 + i (and MAC 02:00 + its four address bytes). */
  readonly senderBase = '198.19.2.0';
  /** netarp under load, answering for its address. */
  readonly netarp: Responder = { port: 4789, ip: '198.19.0.2', mac: '02:00:00:00:00:02' };
  /** The kernel under load: vxk in the responder namespace. */
  readonly kernel: Responder = { port: 4790, ip: '198.19.0.3', mac: '02:00:00:00:00:03' };
  /** The C reference responder (loadgen reflect). */
  readonly reflector: Responder = { port: 4792, ip: '198.19.0.4', mac: '02:00:00:00:00:04' };
  /** The kernel that netarp resolves in the latency test: vxg in the generator namespace. */
  readonly latencyPeer: Responder = { port: 4791, ip: '198.19.0.1', mac: '02:00:00:00:00:01' };
  /**
   * The kernel as the sender in the latency baseline: vxl in the responder namespace, on the
   * latency peer's port, made once the netarp latency run has freed that port.
   */
  readonly kernelClient: Responder = { port: 4791, ip: '198.19.0.5', mac: '02:00:00:00:00:05' };
  private readonly veth: string;

  private constructor() {
    this.generatorNs = `nbw-${process.pid}-g`;
    this.responderNs = `nbw-${process.pid}-r`;
    // At most 15 bytes; the ends exist in the root namespace only until moved.
    this.veth = `nbw${process.pid % 100000}`;
  }

  /** Builds everything; on failure, removes what was built and throws. */
  static async create(): Promise<WireTopology> {
    installExitHook();
    const t = new WireTopology();
    try {
      await t.build();
    } catch (error) {
      await t.destroy();
      throw error;
    }
    return t;
  }

  private async build(): Promise<void> {
    const { generatorNs: g, responderNs: r, veth } = this;
    for (const ns of [g, r]) {
      await must(['ip', 'netns', 'add', ns]);
      liveNamespaces.add(ns);
      await must([
        'ip',
        'netns',
        'exec',
        ns,
        'sysctl',
        '-qw',
        'net.ipv6.conf.all.disable_ipv6=1',
        'net.ipv6.conf.default.disable_ipv6=1',
      ]);
    }
    await must(['ip', 'link', 'add', `${veth}r`, 'type', 'veth', 'peer', 'name', `${veth}g`]);
    await must(['ip', 'link', 'set', `${veth}r`, 'netns', r]);
    await must(['ip', 'link', 'set', `${veth}g`, 'netns', g]);
    for (const [ns, dev, address] of [
      [r, `${veth}r`, this.responderUnderlay],
      [g, `${veth}g`, this.generatorUnderlay],
    ] as const) {
      await must(['ip', '-n', ns, 'addr', 'add', `${address}/30`, 'dev', dev]);
      await must(['ip', '-n', ns, 'link', 'set', dev, 'up']);
      await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    await this.addVxlan(r, 'vxk', this.responderUnderlay, this.generatorUnderlay, this.kernel);
    await this.addVxlan(g, 'vxg', this.generatorUnderlay, this.responderUnderlay, this.latencyPeer);
  }

  /** A kernel vxlan device answering as `who`, flooding to `remote` (no learning). */
  private async addVxlan(
    ns: string,
    dev: string,
    local: string,
    remote: string,
    who: Responder,
  ): Promise<void> {
    await must([
      'ip',
      '-n',
      ns,
      'link',
      'add',
      dev,
      'type',
      'vxlan',
      'id',
      String(this.vni),
      'local',
      local,
      'remote',
      remote,
      'dstport',
      String(who.port),
      'nolearning',
    ]);
    await must(['ip', '-n', ns, 'link', 'set', dev, 'address', who.mac]);
    await must(['ip', '-n', ns, 'addr', 'add', `${who.ip}/${this.prefixLength}`, 'dev', dev]);
    await must(['ip', '-n', ns, 'link', 'set', dev, 'up']);
  }

  /**
   * Replaces the loaded kernel responder (vxk, done with by then) with vxl, the kernel client
   * of the latency baseline, so that one device alone holds the overlay's route.
   */
  async addKernelClient(): Promise<void> {
    await must(['ip', '-n', this.responderNs, 'link', 'del', 'vxk']);
    await this.addVxlan(
      this.responderNs,
      'vxl',
      this.responderUnderlay,
      this.generatorUnderlay,
      this.kernelClient,
    );
  }

  /**
   * One cold resolution by the kernel: its entry for `ip` flushed, then one ping, which the
   * kernel holds while it resolves (arp_queue). True if the ping was answered.
   */
  async kernelClientPing(ip: string): Promise<boolean> {
    await run(['ip', '-n', this.responderNs, 'neigh', 'flush', 'dev', 'vxl']);
    const ping = await run(
      ['ip', 'netns', 'exec', this.responderNs, 'ping', '-n', '-q', '-c1', '-W1', '-I', 'vxl', ip],
      5000,
    );
    return ping.code === 0;
  }

  /** Starts `argv` inside namespace `ns`; the process is killed at exit if still running. */
  spawnIn(ns: string, argv: readonly string[], cwd?: string): ChildProcess {
    const child = spawn(findTool('ip') ?? 'ip', ['netns', 'exec', ns, ...argv], {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(cwd === undefined ? {} : { cwd }),
    });
    liveChildren.add(child);
    child.on('exit', () => liveChildren.delete(child));
    return child;
  }

  /** The kernel responder's neighbour entries on vxk, by state (e.g. { STALE: 500 }). */
  async kernelNeighbourStates(): Promise<Record<string, number>> {
    const out = await must(['ip', '-n', this.responderNs, 'neigh', 'show', 'dev', 'vxk']);
    const states: Record<string, number> = {};
    for (const line of out.split('\n')) {
      const state = line.trim().split(/\s+/).pop();
      if (state) states[state] = (states[state] ?? 0) + 1;
    }
    return states;
  }

  /** Deletes both namespaces (their devices go with them) and any veth end left behind. */
  async destroy(): Promise<void> {
    for (const ns of [this.generatorNs, this.responderNs]) {
      if (!liveNamespaces.has(ns)) continue;
      await run(['ip', 'netns', 'del', ns]);
      liveNamespaces.delete(ns);
    }
    await run(['ip', 'link', 'del', `${this.veth}r`]);
  }
}
