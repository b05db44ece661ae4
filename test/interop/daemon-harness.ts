/**
 * The scenario suites' lab: the daemon (daemon-entry.ts, its own process in its own network
 * namespace, driven through the control client) and one or more Linux kernels, each in a
 * namespace of its own, joined to the daemon by one VXLAN segment per kernel ("site").
 *
 * ```
 *  daemon namespace                               kernel namespace of site i
 *  netarp daemon, interface vx<i>                 vx0 (vxlan, the site's kernel MAC and address)
 *  u<i> 198.18.L.(4i+1)/30  <---- underlay ---->  u0 198.18.L.(4i+2)/30
 * ```
 * The veth pairs are created directly inside their namespaces, so nothing ever appears in the
 * machine's own namespace. Underlay addresses come from 198.18.0.0/15 (RFC 2544) and overlay
 * ones from the RFC 5737 documentation networks; all of them exist only inside the namespaces.
 * Namespace names, ports and VNIs are unique per process and per lab. Every wait is bounded
 * and every process started here is stopped by its own id.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlClient } from '../../src/control/client.ts';
import type { MonitorEvent } from '../../src/control/protocol.ts';
import { type CommandResult, must, run, runIn, systemProbes } from './helpers.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = fileURLToPath(new URL('./daemon-entry.ts', import.meta.url));

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 50 ms until it returns a value other than undefined; fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 5000,
  detail: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms\n${detail()}`);
    await sleep(50);
  }
}

// --- sites and labs -----------------------------------------------------------------------

/** One kernel peer's segment as the lab builds it. */
export interface SiteSpec {
  /** The first three octets of the site's /24 ("192.0.2"): the kernel is .1, netarp .2. */
  readonly subnet: string;
  /** The kernel's MAC on its vx0. */
  readonly kernelMac: string;
  /** netarp's MAC on this segment. */
  readonly netarpMac: string;
}

/** The first site: RFC 5737 TEST-NET-1. */
export const SITE_A: SiteSpec = {
  subnet: '192.0.2',
  kernelMac: '02:00:00:00:00:01',
  netarpMac: '02:00:00:00:00:02',
};

/** The second site: RFC 5737 TEST-NET-2. */
export const SITE_B: SiteSpec = {
  subnet: '198.51.100',
  kernelMac: '02:00:00:00:01:01',
  netarpMac: '02:00:00:00:01:02',
};

/** A built site: a kernel namespace with vx0, and the daemon interface facing it. */
export class Site {
  /** The kernel's vxlan device. */
  readonly kernelIf = 'vx0';
  readonly kernelMac: string;
  readonly kernelAddress: string;
  readonly netarpMac: string;
  readonly netarpAddress: string;

  constructor(
    /** The kernel's namespace. */
    readonly ns: string,
    /** The daemon's interface name for this segment (vx0, vx1, ...). */
    readonly netarpIf: string,
    readonly spec: SiteSpec,
    readonly netarpUnderlay: string,
    readonly kernelUnderlay: string,
    readonly port: number,
    readonly vni: number,
  ) {
    this.kernelMac = spec.kernelMac;
    this.netarpMac = spec.netarpMac;
    this.kernelAddress = `${spec.subnet}.1`;
    this.netarpAddress = `${spec.subnet}.2`;
  }

  /** An address of this site's /24 (`host` is the last octet). */
  address(host: number): string {
    return `${this.spec.subnet}.${host}`;
  }

  /** Runs a command in the kernel's namespace. */
  kernel(argv: readonly string[], timeoutMs?: number): Promise<CommandResult> {
    return runIn(this.ns, argv, timeoutMs);
  }

  /** Runs a command in the kernel's namespace and fails unless it exits 0. */
  async mustKernel(argv: readonly string[], timeoutMs?: number): Promise<string> {
    return must(['ip', 'netns', 'exec', this.ns, ...argv], timeoutMs);
  }

  /** The kernel's neighbour entries on vx0. */
  neighbours(): Promise<string> {
    return must(['ip', '-n', this.ns, 'neigh', 'show', 'dev', this.kernelIf]);
  }

  /** The daemon's `[[interface]]` table for this segment. */
  interfaceToml(): string {
    return [
      '[[interface]]',
      `name = "${this.netarpIf}"`,
      `mac = "${this.netarpMac}"`,
      `addresses = ["${this.netarpAddress}/24"]`,
      `link = { type = "vxlan", local = "${this.netarpUnderlay}:${this.port}", remote = ["${this.kernelUnderlay}:${this.port}"], vni = ${this.vni} }`,
      '',
    ].join('\n');
  }
}

/** Namespaces made by this process and not yet deleted: removed at exit whatever happens. */
const liveNamespaces = new Set<string>();
/** Processes started here and not yet exited: killed at exit, before their namespaces go. */
const liveChildren = new Set<ChildProcessWithoutNullStreams>();
let exitHookInstalled = false;
let labCount = 0;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveChildren) child.kill('SIGKILL');
    const ip = systemProbes.findTool('ip') ?? 'ip';
    for (const ns of liveNamespaces) spawnSync(ip, ['netns', 'del', ns], { timeout: 5000 });
  });
}

/** Spawns `argv` inside `ns` (ip netns exec execs it, so the child is the program itself). */
function spawnIn(
  ns: string,
  argv: readonly string[],
  cwd?: string,
): ChildProcessWithoutNullStreams {
  const child = spawn(systemProbes.findTool('ip') ?? 'ip', ['netns', 'exec', ns, ...argv], {
    cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  liveChildren.add(child);
  child.on('exit', () => liveChildren.delete(child));
  return child;
}

/** A daemon namespace and one kernel namespace per site. */
export class Lab {
  /** The daemon's namespace. */
  readonly netarpNs: string;
  /** A scratch directory (config, socket), removed with the lab. */
  readonly dir: string;
  readonly sites: Site[] = [];
  private readonly daemons: Daemon[] = [];
  private readonly captures: Capture[] = [];

  private constructor(
    readonly id: number,
    specs: readonly SiteSpec[],
  ) {
    const tag = `nas-${process.pid}-${id}`;
    this.netarpNs = `${tag}-d`;
    this.dir = mkdtempSync(join(tmpdir(), 'netarp-scenario-'));
    specs.forEach((spec, i) => {
      const third = id % 256;
      const slot = (process.pid * 8 + id * 2 + i) % 20000;
      this.sites.push(
        new Site(
          `${tag}-k${i}`,
          `vx${i}`,
          spec,
          `198.18.${third}.${4 * i + 1}`,
          `198.18.${third}.${4 * i + 2}`,
          30000 + slot,
          8192 + id * 2 + i,
        ),
      );
    });
  }

  /** Builds the namespaces, the underlay pairs and each kernel's vx0. */
  static async create(specs: readonly SiteSpec[] = [SITE_A]): Promise<Lab> {
    installExitHook();
    const lab = new Lab(++labCount, specs);
    try {
      await lab.build();
    } catch (error) {
      await lab.destroy();
      throw error;
    }
    return lab;
  }

  /** The first (often only) site. */
  get site(): Site {
    return this.sites[0]!;
  }

  private async addNamespace(ns: string): Promise<void> {
    await must(['ip', 'netns', 'add', ns]);
    liveNamespaces.add(ns);
    await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }

  private async build(): Promise<void> {
    const d = this.netarpNs;
    await this.addNamespace(d);
    for (const [i, site] of this.sites.entries()) {
      const k = site.ns;
      await this.addNamespace(k);
      const near = `u${i}`;
      // Both ends are born in their namespaces: no name ever exists in the machine's own.
      await must([
        'ip',
        'link',
        'add',
        near,
        'netns',
        d,
        'type',
        'veth',
        'peer',
        'name',
        'u0',
        'netns',
        k,
      ]);
      await must(['ip', '-n', d, 'addr', 'add', `${site.netarpUnderlay}/30`, 'dev', near]);
      await must(['ip', '-n', d, 'link', 'set', near, 'up']);
      await must(['ip', '-n', k, 'addr', 'add', `${site.kernelUnderlay}/30`, 'dev', 'u0']);
      await must(['ip', '-n', k, 'link', 'set', 'u0', 'up']);
      await must([
        'ip',
        '-n',
        k,
        'link',
        'add',
        site.kernelIf,
        'type',
        'vxlan',
        'id',
        String(site.vni),
        'local',
        site.kernelUnderlay,
        'remote',
        site.netarpUnderlay,
        'dstport',
        String(site.port),
        'nolearning',
      ]);
      await must(['ip', '-n', k, 'link', 'set', site.kernelIf, 'address', site.kernelMac]);
      await must(['ip', '-n', k, 'addr', 'add', `${site.kernelAddress}/24`, 'dev', site.kernelIf]);
      await must(['ip', '-n', k, 'link', 'set', site.kernelIf, 'up']);
    }
  }

  /** The daemon config: `[sysctl]` from `sysctl`, one interface per site, then `extra`. */
  config(sysctl: Readonly<Record<string, number>> = {}, extra = ''): string {
    const knobs = Object.entries(sysctl).map(
      ([name, value]) => `"net.link.ether.inet.${name}" = ${value}`,
    );
    return [
      '[sysctl]',
      ...knobs,
      '',
      ...this.sites.map((site) => site.interfaceToml()),
      extra,
    ].join('\n');
  }

  /** Starts the daemon in the lab with `config` (default: this.config()). */
  async startDaemon(config = this.config()): Promise<Daemon> {
    const daemon = await Daemon.start(this, config);
    this.daemons.push(daemon);
    return daemon;
  }

  /** Starts tcpdump on the kernel side of `site`, capturing ARP, and waits until it listens. */
  async capture(site: Site = this.site): Promise<Capture> {
    const capture = await Capture.start(site.ns, site.kernelIf);
    this.captures.push(capture);
    return capture;
  }

  /** Stops everything this lab started and deletes its namespaces. */
  async destroy(): Promise<void> {
    for (const capture of this.captures) await capture.stop();
    for (const daemon of this.daemons) await daemon.stop();
    for (const ns of [this.netarpNs, ...this.sites.map((s) => s.ns)]) {
      if (!liveNamespaces.has(ns)) continue;
      await run(['ip', 'netns', 'del', ns]);
      liveNamespaces.delete(ns);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs `body` in a fresh lab and always tears it down, even when `body` fails. */
export async function withLab<T>(
  body: (lab: Lab) => Promise<T>,
  specs: readonly SiteSpec[] = [SITE_A],
): Promise<T> {
  const lab = await Lab.create(specs);
  try {
    return await body(lab);
  } finally {
    await lab.destroy();
  }
}

// --- the daemon ---------------------------------------------------------------------------

/** `netarp daemon` in the lab's daemon namespace, a client on its socket, and its events. */
export class Daemon {
  /** Everything the daemon wrote on stderr. */
  stderr = '';
  /** Every event of the monitor subscription opened at start, in order. */
  readonly events: MonitorEvent[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The client for requests. */
  client!: ControlClient;
  /** A second connection, subscribed to the monitor. */
  private monitorClient: ControlClient | undefined;

  private constructor(
    readonly child: ChildProcessWithoutNullStreams,
    readonly socket: string,
  ) {
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      this.stderr += text;
    });
    child.stdout.resume();
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  /** Writes the config, starts the daemon, connects and subscribes to its events. */
  static async start(lab: Lab, config: string): Promise<Daemon> {
    const file = join(lab.dir, 'netarp.toml');
    writeFileSync(file, config);
    const socket = join(lab.dir, 'run', 'netarp.sock');
    const child = spawnIn(
      lab.netarpNs,
      [
        process.execPath,
        '--import',
        'tsx',
        ENTRY,
        '--config',
        file,
        '--socket',
        socket,
        '--log-level',
        'debug',
      ],
      REPO_ROOT,
    );
    const daemon = new Daemon(child, socket);
    try {
      await daemon.connect();
    } catch (error) {
      await daemon.stop();
      throw error;
    }
    return daemon;
  }

  /** Waits until the socket answers, then opens the client and the monitor subscription. */
  private async connect(): Promise<void> {
    let gone = false;
    void this.exited.then(() => {
      gone = true;
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (gone) assert.fail(`the daemon exited before it was ready:\n${this.stderr}`);
      try {
        this.client = await ControlClient.connect({ path: this.socket });
        break;
      } catch (error) {
        if (Date.now() > deadline) {
          assert.fail(`the daemon did not come up: ${error}\n${this.stderr}`);
        }
        await sleep(50);
      }
    }
    this.monitorClient = await ControlClient.connect({ path: this.socket });
    await this.monitorClient.monitor((event) => this.events.push(event));
  }

  /** The route events about `ip` seen so far (optionally only those after index `from`). */
  routeEvents(ip: string, from = 0): Extract<MonitorEvent, { kind: 'route' }>[] {
    return this.events
      .slice(from)
      .filter(
        (e): e is Extract<MonitorEvent, { kind: 'route' }> => e.kind === 'route' && e.ip === ip,
      );
  }

  /** Waits for a route event of `type` about `ip` after index `from`, and returns it. */
  routeEvent(
    type: string,
    ip: string,
    from = 0,
    timeoutMs = 5000,
  ): Promise<Extract<MonitorEvent, { kind: 'route' }>> {
    return waitFor(
      `route event ${type} ${ip}`,
      () => this.routeEvents(ip, from).find((e) => e.type === type),
      timeoutMs,
      () => this.events.map((e) => JSON.stringify(e)).join('\n'),
    );
  }

  /** How many stderr lines are exactly `line`. */
  count(line: string): number {
    return this.stderr.split('\n').filter((l) => l === line).length;
  }

  /** Waits until stderr has `line` at least `times` times. */
  async logged(line: string, times = 1, timeoutMs = 5000): Promise<void> {
    await waitFor(
      `the daemon logging "${line}" ${times}x`,
      () => (this.count(line) >= times ? true : undefined),
      timeoutMs,
      () => this.stderr,
    );
  }

  /** Closes the connections and stops the daemon: SIGTERM, then SIGKILL after 3 s. */
  async stop(): Promise<void> {
    this.client?.close();
    this.monitorClient?.close();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    // `ip netns exec` execs node, so this child is the daemon itself.
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(timer);
  }
}

// --- tcpdump on the kernel side -----------------------------------------------------------

/** One ARP frame tcpdump printed (with -tt -e -n). */
export interface SeenArp {
  /** Seconds since the epoch, as the kernel stamped it. */
  readonly time: number;
  readonly source: string;
  readonly destination: string;
  /** `request` or `reply`. */
  readonly op: 'request' | 'reply';
  /** Request: the address asked for; reply: the address answered. */
  readonly ip: string;
  /** Request: the asker's address (tell X); reply: the MAC given (is-at M). */
  readonly other: string;
  readonly line: string;
}

const ARP_LINE =
  /^(\d+\.\d+) ([0-9a-f:]{17}) > ([0-9a-f:]{17}), ethertype ARP \(0x0806\), length \d+: (?:Request who-has (\S+)(?: \([0-9a-f:]{17}\))? tell (\S+)|Reply (\S+) is-at ([0-9a-f:]{17})), length \d+$/;

/**
 * Parses one line of `tcpdump -tt -e -n arp`, or undefined for anything else. A request whose
 * target hardware address is not zero (arping fills in the broadcast address) shows it in
 * parentheses after the address asked for.
 */
export function parseTcpdumpArp(line: string): SeenArp | undefined {
  const m = ARP_LINE.exec(line);
  if (!m) return undefined;
  const [, time, source, destination, askFor, askBy, answered, mac] = m;
  const request = askFor !== undefined;
  return {
    time: Number(time),
    source: source!,
    destination: destination!,
    op: request ? 'request' : 'reply',
    ip: (request ? askFor : answered)!,
    other: (request ? askBy : mac)!,
    line,
  };
}

/** tcpdump capturing ARP on one device of one namespace. */
export class Capture {
  /** Every ARP frame seen so far. */
  readonly frames: SeenArp[] = [];
  /** Every line tcpdump printed, parsed or not. */
  private readonly lines: string[] = [];
  private stderr = '';
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    let partial = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        this.lines.push(line);
        const seen = parseTcpdumpArp(line);
        if (seen) this.frames.push(seen);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      this.stderr += text;
    });
    this.exited = new Promise((resolve) => child.on('exit', () => resolve()));
  }

  /** Starts tcpdump in `ns` on `device` and waits until it reports that it listens. */
  static async start(ns: string, device: string): Promise<Capture> {
    const child = spawnIn(ns, [
      systemProbes.findTool('tcpdump') ?? 'tcpdump',
      '-i',
      device,
      '-n',
      '-e',
      '-tt',
      '-l',
      '--immediate-mode',
      'arp',
    ]);
    const capture = new Capture(child);
    let gone = false;
    void capture.exited.then(() => {
      gone = true;
    });
    try {
      await waitFor(
        `tcpdump listening on ${device} in ${ns}`,
        () => {
          if (gone) assert.fail(`tcpdump exited: ${capture.stderr}`);
          return capture.stderr.includes('listening on') ? true : undefined;
        },
        5000,
        () => capture.stderr,
      );
    } catch (error) {
      await capture.stop();
      throw error;
    }
    return capture;
  }

  /** The frames matching `filter`. */
  matching(filter: (seen: SeenArp) => boolean): SeenArp[] {
    return this.frames.filter(filter);
  }

  /** Waits until at least `count` frames match `filter`, and returns them all. */
  waitFor(filter: (seen: SeenArp) => boolean, count = 1, timeoutMs = 3000): Promise<SeenArp[]> {
    return waitFor(
      `${count} matching frame(s) in the capture`,
      () => {
        const found = this.matching(filter);
        return found.length >= count ? found : undefined;
      },
      timeoutMs,
      () => this.text(),
    );
  }

  /** Everything captured, one line per frame (for assertion messages). */
  text(): string {
    return this.lines.join('\n');
  }

  /** Stops tcpdump (SIGINT, then SIGKILL after 2 s) and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await this.exited;
    clearTimeout(timer);
  }
}

// --- arping from a kernel -----------------------------------------------------------------

/** What iputils arping reported. */
export interface ArpingResult {
  readonly code: number | null;
  /** Each reply: the address that answered and the MAC given, lower-case. */
  readonly replies: { ip: string; mac: string }[];
  readonly output: string;
}

/** `arping -c1 -w WAIT -I vx0 [-s SOURCE] TARGET` in `site`'s kernel, parsed. */
export async function arping(
  site: Site,
  target: string,
  options: { source?: string; waitSeconds?: number; extra?: readonly string[] } = {},
): Promise<ArpingResult> {
  const argv = [
    'arping',
    ...(options.extra ?? []),
    '-c1',
    '-w',
    String(options.waitSeconds ?? 2),
    '-I',
    site.kernelIf,
  ];
  if (options.source !== undefined) argv.push('-s', options.source);
  argv.push(target);
  const result = await site.kernel(argv, 8000);
  const replies = [...result.stdout.matchAll(/reply from (\S+) \[([0-9A-Fa-f:]+)\]/g)].map((m) => ({
    ip: m[1]!,
    mac: m[2]!.toLowerCase(),
  }));
  return { code: result.code, replies, output: result.stdout + result.stderr };
}
