/**
 * The scenario suites' lab: the daemon (test/support/daemon.ts: its own process in its own
 * network namespace, driven through the control client) and one or more Linux kernels, each in
 * a namespace of its own, joined to the daemon by one VXLAN segment per kernel ("site").
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
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CommandResult, findTool, must, runIn } from '../support/commands.ts';
import { Daemon, type DaemonOptions } from '../support/daemon.ts';
import {
  addNamespace,
  addVethPair,
  addVxlanDevice,
  buildOrDestroy,
  deleteNamespace,
  runThenDestroy,
  spawnIn,
} from '../support/netns.ts';
import { waitFor } from '../support/wait.ts';

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

  /** Makes the kernel's vx0 (the lab makes it; a test that deleted it makes it again). */
  addKernelVxlan(): Promise<void> {
    return addVxlanDevice({
      ns: this.ns,
      dev: this.kernelIf,
      vni: this.vni,
      local: this.kernelUnderlay,
      remote: this.netarpUnderlay,
      port: this.port,
      mac: this.kernelMac,
      address: `${this.kernelAddress}/24`,
    });
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

let labCount = 0;

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
  static create(specs: readonly SiteSpec[] = [SITE_A]): Promise<Lab> {
    const lab = new Lab(++labCount, specs);
    return buildOrDestroy(lab, () => lab.build());
  }

  /** The first (often only) site. */
  get site(): Site {
    return this.sites[0]!;
  }

  private async build(): Promise<void> {
    await addNamespace(this.netarpNs);
    for (const site of this.sites) {
      await addNamespace(site.ns);
      await this.addUnderlay(site);
      await site.addKernelVxlan();
    }
  }

  /**
   * Makes the underlay veth pair of `site`: u<i> in the daemon's namespace, u0 in the
   * kernel's (the lab makes it; a test that deleted it makes it again).
   */
  async addUnderlay(site: Site): Promise<void> {
    await addVethPair(
      {
        ns: this.netarpNs,
        dev: `u${this.sites.indexOf(site)}`,
        address: `${site.netarpUnderlay}/30`,
      },
      { ns: site.ns, dev: 'u0', address: `${site.kernelUnderlay}/30` },
    );
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

  /**
   * Starts the daemon in the lab with `config` (default: this.config()); it is stopped with
   * the lab. `options` change how it runs (log level, monitor, stderr kept).
   */
  async startDaemon(
    config = this.config(),
    options: Omit<DaemonOptions, 'ns' | 'dir' | 'config'> = {},
  ): Promise<Daemon> {
    const daemon = await Daemon.start({ ...options, ns: this.netarpNs, dir: this.dir, config });
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
    for (const ns of [this.netarpNs, ...this.sites.map((s) => s.ns)]) await deleteNamespace(ns);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs `body` in a fresh lab and always tears it down, even when `body` fails. */
export function withLab<T>(
  body: (lab: Lab) => Promise<T>,
  specs: readonly SiteSpec[] = [SITE_A],
): Promise<T> {
  return runThenDestroy(() => Lab.create(specs), body);
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
      findTool('tcpdump') ?? 'tcpdump',
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
