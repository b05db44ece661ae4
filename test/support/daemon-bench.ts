/**
 * The daemon in this process on memory links, for the suites that drive it through its control
 * socket or the CLI: Daemon.start on a config file in a scratch directory, its links plugged
 * into memory hubs by a fake opener, a neighbour (an Engine, Runner and Host of its own) and
 * optionally a sniffer on vx0's hub, a fake device probe, and everything it logs. What the
 * suites vary is an option (the clock, the hubs, the ports' names, the log level, the socket)
 * or a hook (`failOpen`, `device`, `wrap`). `daemonConfig` writes the config they start from;
 * FakeSignals stands for the process's signals where a CLI verb waits for SIGINT or SIGTERM.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { SignalSource } from '../../src/cli/command.ts';
import { ControlClient } from '../../src/control/client.ts';
import type { LogLevel } from '../../src/core/events.ts';
import type { LinkSpec } from '../../src/daemon/config.ts';
import { Daemon, type DaemonOptions, type LinkWatch } from '../../src/daemon/daemon.ts';
import type { DeviceState, LinkOpener, OpenedLink } from '../../src/daemon/links.ts';
import { LogSink } from '../../src/daemon/log.ts';
import { MemoryHub, type MemoryLink } from '../../src/link/memory.ts';
import { type Clock, SystemClock } from '../../src/runtime/clock.ts';
import { describeFrame } from '../../src/wire/format.ts';
import { type PeerRuntime, startPeerRuntime } from './peer-runtime.ts';
import { waitFor } from './wait.ts';

// --- the config ------------------------------------------------------------------------------

/** The daemon's MAC on vx0. */
export const OUR_MAC = '02:00:00:00:00:02';
/** The neighbour's MAC (192.0.2.1 on vx0's hub). */
export const PEER_MAC = '02:00:00:00:00:01';

/** A value as the config builder writes it in TOML. */
export type TomlValue = string | number | boolean | readonly TomlValue[] | TomlTable;
/** A TOML table: its keys in the order written. */
export type TomlTable = { readonly [key: string]: TomlValue };

/** A config file's parts, each written in order. */
export interface ConfigParts {
  /** Knobs by their short name (`maxtries`), written as "net.link.ether.inet.NAME". */
  readonly sysctl: Readonly<Record<string, number>>;
  /** The `[[interface]]` tables. */
  readonly interfaces: readonly TomlTable[];
  /** The `[[static]]` tables. */
  readonly statics: readonly TomlTable[];
}

/** vx0: the daemon's interface, 192.0.2.2/24, over VXLAN on loopback (a memory hub here). */
export const VX0: TomlTable = {
  name: 'vx0',
  mac: OUR_MAC,
  addresses: ['192.0.2.2/24'],
  link: { type: 'vxlan', local: '127.0.0.1:4789', remote: ['127.0.0.1:4790'], vni: 42 },
};

/** The config most suites start from: two tries, vx0, and a published entry for 192.0.2.9. */
export const BASE_CONFIG: ConfigParts = {
  sysctl: { maxtries: 2 },
  interfaces: [VX0],
  statics: [{ host: '192.0.2.9', mac: '02:00:00:00:00:09', pub: true }],
};

/** The text of BASE_CONFIG with `overrides` in place of its parts, then `extra` as it is. */
export function daemonConfig(overrides: Partial<ConfigParts> = {}, extra = ''): string {
  const parts = { ...BASE_CONFIG, ...overrides };
  const sections: string[] = [];
  const sysctl = Object.entries(parts.sysctl);
  if (sysctl.length > 0) {
    const lines = sysctl.map(([name, value]) => `"net.link.ether.inet.${name}" = ${value}`);
    sections.push(`[sysctl]\n${lines.join('\n')}\n`);
  }
  for (const table of parts.interfaces) sections.push(tomlTable('[[interface]]', table));
  for (const table of parts.statics) sections.push(tomlTable('[[static]]', table));
  return `\n${sections.join('\n')}${extra}`;
}

/** A table under `header`, one `key = value` a line. */
function tomlTable(header: string, table: TomlTable): string {
  const lines = Object.entries(table).map(([key, value]) => `${key} = ${tomlValue(value)}`);
  return `${header}\n${lines.join('\n')}\n`;
}

/** A value inline: strings quoted, arrays in brackets, tables in braces. */
function tomlValue(value: TomlValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (isList(value)) return `[${value.map(tomlValue).join(', ')}]`;
  const entries = Object.entries(value);
  return `{ ${entries.map(([key, inner]) => `${key} = ${tomlValue(inner)}`).join(', ')} }`;
}

/** Whether `value` is an array (Array.isArray does not narrow a readonly one). */
function isList(value: TomlValue): value is readonly TomlValue[] {
  return Array.isArray(value);
}

// --- the bench -------------------------------------------------------------------------------

/** How a bench is built; every option but the config has a default. */
export interface DaemonBenchOptions {
  /** The config file's text, written at construction (`daemonConfig` builds one). */
  readonly config: string;
  /** The clock of the daemon and the neighbour (default: the system clock). */
  readonly clock?: Clock;
  /** The daemon's log level (default: LogSink's). Every line written goes to `logs`. */
  readonly logLevel?: LogLevel;
  /** A neighbour, 192.0.2.1/24 at PEER_MAC, on vx0's hub (default true). */
  readonly peer?: boolean;
  /** A port on vx0's hub describing every frame it sees into `frames` (default false). */
  readonly sniffer?: boolean;
  /** One hub for each interface rather than one for all (default false). */
  readonly hubPerInterface?: boolean;
  /** Name each port `IF-N`, N counting every open, rather than `IF` (default false). */
  readonly numberPorts?: boolean;
  /** The links' `io`, as the opener reports it (default: none). */
  readonly linkIo?: string;
  /** The links' counters, as the opener reports them (default: none). */
  readonly linkCounters?: Readonly<Record<string, number>>;
  /** The link watch's timing (default: the daemon's). */
  readonly linkWatch?: Partial<LinkWatch>;
  /** Connect `client` to the socket once started (default true). */
  readonly connect?: boolean;
  /** The control socket (default: run/netarp.sock in the bench's directory). */
  readonly socket?: string;
}

/** What `wrap` makes of a hub port: the link the daemon gets, and how it says it is gone. */
export type BenchLink = Pick<OpenedLink, 'link' | 'gone'>;

/** Refuses to open an interface's link, with the error given, or lets it open (undefined). */
export type OpenFailure = (spec: LinkSpec, ifName: string) => Error | undefined;

/**
 * A daemon's scratch directory (config file `netarp.toml`, socket and state file in `run/`),
 * the memory hubs its links plug into, its neighbour, and a client; started and stopped as
 * often as a test likes, closed once at the end (`withBench` does that).
 */
export class DaemonBench {
  /** The scratch directory, removed by `close`. */
  readonly dir = mkdtempSync(join(tmpdir(), 'netarp-bench-'));
  readonly file = join(this.dir, 'netarp.toml');
  readonly socket: string;
  readonly clock: Clock;
  /** Every line the daemon logged, without its newline, across restarts. */
  readonly logs: string[] = [];
  /** Every frame the sniffer saw, described as tcpdump does (with the `sniffer` option). */
  readonly frames: string[] = [];
  /** Every hub port the opener plugged in, in order. */
  readonly ports: MemoryLink[] = [];
  /** Every call of the opener, refused or not. */
  opens = 0;
  /** Refuses opens while set (see OpenFailure). */
  failOpen: OpenFailure | undefined;
  /** What the fake probe says about a TAP or AF_PACKET device (VXLAN has none: `unknown`). */
  device: DeviceState = 'up';
  /** When the probe was asked, by the bench's clock. */
  readonly probedAt: number[] = [];
  private readonly hubs = new Map<string, MemoryHub>();
  private readonly neighbour: PeerRuntime | undefined;
  private running: Daemon | undefined;
  private connection: ControlClient | undefined;

  constructor(private readonly options: DaemonBenchOptions) {
    this.socket = options.socket ?? join(this.dir, 'run', 'netarp.sock');
    this.clock = options.clock ?? new SystemClock();
    writeFileSync(this.file, options.config);
    if (options.peer ?? true) {
      this.neighbour = startPeerRuntime({
        ifName: 'eth0',
        mac: PEER_MAC,
        link: this.hub('vx0').port('peer'),
        clock: this.clock,
        addresses: ['192.0.2.1/24'],
      });
    }
    if (options.sniffer) {
      this.hub('vx0')
        .port('sniffer')
        .onFrame((frame) => this.frames.push(describeFrame(frame)));
    }
  }

  /** Where the daemon keeps its state unless told otherwise: next to the socket. */
  get statePath(): string {
    return join(dirname(this.socket), 'netarp.state.json');
  }

  /** The neighbour's engine, runner and host. */
  get peer(): PeerRuntime {
    if (this.neighbour === undefined) throw new Error('this bench has no neighbour');
    return this.neighbour;
  }

  /** The running daemon. */
  get daemon(): Daemon {
    if (this.running === undefined) throw new Error('the daemon is not running');
    return this.running;
  }

  /** The client connected at start. */
  get client(): ControlClient {
    if (this.connection === undefined) throw new Error('no client is connected');
    return this.connection;
  }

  /** The hub interface `ifName`'s links plug into (with one hub for all, that one). */
  hub(ifName: string): MemoryHub {
    const key = this.options.hubPerInterface ? ifName : '';
    const hub = this.hubs.get(key) ?? new MemoryHub();
    this.hubs.set(key, hub);
    return hub;
  }

  /** The link the daemon gets for a new hub port: the port itself. A subclass may wrap it. */
  protected wrap(port: MemoryLink): BenchLink {
    return { link: port };
  }

  /** The daemon's link opener: a new port on the interface's hub, unless `failOpen` refuses. */
  readonly opener: LinkOpener = async (spec, options) => {
    this.opens++;
    const failure = this.failOpen?.(spec, options.ifName);
    if (failure !== undefined) throw failure;
    const name = this.options.numberPorts ? `${options.ifName}-${this.opens}` : options.ifName;
    const port = this.hub(options.ifName).port(name);
    this.ports.push(port);
    const { link, gone } = this.wrap(port);
    const { linkIo, linkCounters } = this.options;
    return {
      link,
      type: spec.type,
      ...(linkIo === undefined ? {} : { io: linkIo }),
      counters: () => ({ ...linkCounters }),
      pcapCounters: () => undefined,
      ...(gone === undefined ? {} : { gone }),
    };
  };

  /** Starts the daemon, `options` over the bench's, and connects the client (unless told not to). */
  async start(options: Partial<DaemonOptions> = {}): Promise<this> {
    this.running = await Daemon.start({
      configFile: this.file,
      socketPath: this.socket,
      log: new LogSink({
        format: 'text',
        level: this.options.logLevel,
        write: (text) => this.logs.push(text.trimEnd()),
      }),
      clock: this.clock,
      openLink: this.opener,
      probeDevice: async (spec) => {
        this.probedAt.push(this.clock.now());
        return spec.type === 'vxlan' ? 'unknown' : this.device;
      },
      ...(this.options.linkWatch === undefined ? {} : { linkWatch: this.options.linkWatch }),
      ...options,
    });
    if (this.options.connect ?? true) {
      this.connection = await ControlClient.connect({ path: this.socket });
    }
    return this;
  }

  /** Closes the client and stops the daemon; the directory, hubs and neighbour stay. */
  async stop(): Promise<void> {
    this.connection?.close();
    this.connection = undefined;
    await this.running?.stop();
    this.running = undefined;
  }

  /** Stops and starts again, as after a restart. */
  async restart(options: Partial<DaemonOptions> = {}): Promise<this> {
    await this.stop();
    return this.start(options);
  }

  /** Rewrites the config file and reloads. */
  async reload(config: string): Promise<boolean> {
    writeFileSync(this.file, config);
    return this.daemon.reload();
  }

  /** The lines logged since index `from`. */
  since(from: number): string[] {
    return this.logs.slice(from);
  }

  /** Stops the daemon and the neighbour and removes the directory. */
  async close(): Promise<void> {
    await this.stop();
    await this.neighbour?.runner.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs `body` on `bench`, started first unless `start` is false, and closes it however it ends. */
export async function withBench<B extends DaemonBench>(
  bench: B,
  body: (bench: B) => Promise<void>,
  start = true,
): Promise<void> {
  try {
    if (start) await bench.start();
    await body(bench);
  } finally {
    await bench.close();
  }
}

/** Polls `check` until it holds, for 3 s at most (frames on a hub arrive asynchronously). */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
): Promise<void> {
  await waitFor(what, async () => ((await check()) ? true : undefined), 3000, undefined, 10);
}

/** Signals a test sends, for the CLI's verbs that stop on SIGINT or SIGTERM. */
export class FakeSignals implements SignalSource {
  private readonly handlers = new Map<string, Set<() => void>>();

  on(signal: NodeJS.Signals, handler: () => void): void {
    const set = this.handlers.get(signal) ?? new Set();
    set.add(handler);
    this.handlers.set(signal, set);
  }

  off(signal: NodeJS.Signals, handler: () => void): void {
    this.handlers.get(signal)?.delete(handler);
  }

  /** Calls every handler of `signal`, as the process would on receiving it. */
  send(signal: NodeJS.Signals): void {
    for (const handler of [...(this.handlers.get(signal) ?? [])]) handler();
  }

  /** How many handlers `signal` has; without one, how many all signals have together. */
  listening(signal?: NodeJS.Signals): number {
    if (signal !== undefined) return this.handlers.get(signal)?.size ?? 0;
    let count = 0;
    for (const set of this.handlers.values()) count += set.size;
    return count;
  }
}
