/**
 * The daemon: an Engine on real links, driven by the runtime, configured from a TOML file and
 * operated through the control socket.
 *
 * Start-up is all or nothing: the config is checked completely (config.ts), the socket path
 * is checked for another daemon, then the links are opened (a failure closes those already
 * open), the engine is populated (addresses announced, routes, static entries) and only then
 * does the control socket appear. Stopping closes the socket (removing its file), then the
 * links. A reload re-reads the file and applies the difference (reload.ts) without touching
 * learned entries; a file that is bad, or asks for what needs a restart, is refused with a
 * log line and the running config stays in force.
 *
 * Static entries from the file are the config's: a reload adds, replaces and deletes them.
 * An entry the operator sets or deletes at run time (`set`, `delete`, `flush`) stops being
 * the config's, so a reload never deletes it; a reload does set again every entry the file
 * names that is missing or differs.
 *
 * Run-time changes (entries set or deleted, knobs set) are kept in the state file (state.ts
 * has the precedence rules) and answered only once they are on disk; at start they are
 * restored over the config.
 *
 * Link faults: a link's errors are logged once per run (link-slot.ts); a TAP or AF_PACKET
 * device that loses carrier takes its interface down until carrier is back (its learned
 * entries evicted if `evict_nocarrier`); a device deleted under the daemon does the same, and
 * the daemon reopens the link, with a growing delay, once a device of that name exists again.
 */

import {
  ControlFailure,
  type DeletedInfo,
  type InterfaceInfo,
  LIMITS,
  type LinkStatsInfo,
  type MonitorEvent,
  type OpResult,
  type PingProgress,
  type Request,
  type RequestFor,
  type SysctlInfo,
} from '../control/protocol.ts';
import { type ControlHandler, ControlServer, type RequestContext } from '../control/server.ts';
import type { EntryInfo, StaticEntrySpec } from '../core/admin.ts';
import {
  type ArpConfig,
  CONFIG_SPEC,
  configKeyOf,
  DEFAULT_CONFIG,
  SYSCTL_PREFIX,
} from '../core/config.ts';
import { Engine } from '../core/engine.ts';
import { assertNever, NetarpError } from '../core/errors.ts';
import type { LogLevel } from '../core/events.ts';
import { LinkError } from '../link/link.ts';
import { type Clock, SystemClock, type Timer } from '../runtime/clock.ts';
import { Host, type PingProbe, type PingResult } from '../runtime/host.ts';
import { Runner, type RuntimeEvent } from '../runtime/runner.ts';
import { formatIpv4, formatMac, type Ipv4, parseIpv4, parseMac } from '../wire/addr.ts';
import {
  type DaemonConfig,
  describeLink,
  type InterfaceConfig,
  interfaceSpec,
  type LinkSpec,
  loadConfig,
  type StaticConfig,
  staticKey,
  staticSpec,
} from './config.ts';
import { type LinkIssue, LinkSlot } from './link-slot.ts';
import {
  type DeviceProbe,
  type DeviceState,
  type LinkOpener,
  type OpenedLink,
  openLink,
  probeDevice,
} from './links.ts';
import type { LogSink } from './log.ts';
import { isEmptyPlan, planReload } from './reload.ts';
import { Resolver } from './resolver.ts';
import { configStatic, type RunState } from './state.ts';
import { defaultStatePath, readState, StateFile } from './state-file.ts';

/** Why the daemon could not start or do what it was asked, besides config and socket errors. */
export type DaemonErrorCode =
  | 'EUSAGE' // the command line is wrong
  | 'ELINK' // a link could not be opened
  | 'ESTATE'; // the state file cannot be written

/** A daemon failure with a machine-readable code and a one-line message. */
export class DaemonError extends Error {
  constructor(
    readonly code: DaemonErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DaemonError';
  }
}

/** Options for `Daemon.start`. */
export interface DaemonOptions {
  /** The TOML config file. */
  configFile: string;
  /** The control socket's path. */
  socketPath: string;
  /** Where log lines go. */
  log: LogSink;
  /** The clock; the system clock by default. */
  clock?: Clock;
  /** Opens links; `openLink` by default (tests pass one over memory links). */
  openLink?: LinkOpener;
  /**
   * The state file (--state); else the config's `state`, else next to the socket (or
   * /var/lib/netarp/state.json for the default socket).
   */
  statePath?: string;
  /** Probes link devices for carrier and existence; `probeDevice` by default. */
  probeDevice?: DeviceProbe;
  /** How often and how patiently links are watched; the defaults of LINK_WATCH otherwise. */
  linkWatch?: Partial<LinkWatch>;
}

/** The timing of the link watch. */
export interface LinkWatch {
  /** Milliseconds between two looks at each TAP or AF_PACKET device's carrier. */
  readonly carrierPollMs: number;
  /** The first delay before reopening a link whose device is gone; it doubles each try... */
  readonly reattachMinMs: number;
  /** ...up to this. */
  readonly reattachMaxMs: number;
  /** How long a device just opened may take to show carrier before it counts as without. */
  readonly carrierSettleMs: number;
}

/** How often a device just opened is asked whether it has carrier yet. */
const CARRIER_SETTLE_STEP_MS = 100;

/**
 * Once a second: a carrier change is noticed within a second, as Linux's linkwatch delivers
 * it (at most once a second per device, so a device just opened is given a second and a half
 * to show carrier). Reattaching starts at a second and backs off to half a minute, so that a
 * device gone for good costs two probes a minute.
 */
export const LINK_WATCH: LinkWatch = {
  carrierPollMs: 1000,
  reattachMinMs: 1000,
  reattachMaxMs: 30_000,
  carrierSettleMs: 1500,
};

/** Why the daemon took an interface down. */
interface PortFault {
  readonly kind: 'no-carrier' | 'gone';
  /** The one line `interfaces` shows. */
  readonly reason: string;
}

/** An interface with a link: the slot the runner holds, what is in it, and its faults. */
interface Port {
  readonly name: string;
  readonly slot: LinkSlot;
  opened: OpenedLink | undefined;
  /** Set while the daemon holds the interface down for its link. */
  fault: PortFault | undefined;
  /** While the device is gone: the next attempt to reopen the link. */
  retry: Timer | undefined;
  /** Whether a failed reopening was logged during this outage (the rest are debug). */
  retryWarned: boolean;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Names the link of interface `index` of `config` in an error. */
function linkFailure(config: DaemonConfig, iface: InterfaceConfig, error: unknown): DaemonError {
  const index = config.interfaces.indexOf(iface);
  const detail = error instanceof Error ? error.message : String(error);
  const what = iface.link ? describeLink(iface.link) : 'link';
  return new DaemonError(
    'ELINK',
    `${config.file}: interface[${index}].link: ${iface.name}: cannot open ${what}: ${detail}`,
    { cause: error },
  );
}

/** Opens the links of `interfaces` in order; on a failure closes those opened and throws. */
async function openLinks(
  config: DaemonConfig,
  interfaces: readonly InterfaceConfig[],
  opener: LinkOpener,
  clock: Clock,
): Promise<Map<string, OpenedLink>> {
  const opened = new Map<string, OpenedLink>();
  for (const iface of interfaces) {
    if (!iface.link) continue;
    try {
      opened.set(
        iface.name,
        await opener(iface.link, { ifName: iface.name, pcap: iface.pcap, mac: iface.mac, clock }),
      );
    } catch (error) {
      await Promise.allSettled([...opened.values()].map((o) => o.link.close()));
      throw linkFailure(config, iface, error);
    }
  }
  return opened;
}

/** The runtime event as the monitor stream and the log show it. */
function monitorEvent(event: RuntimeEvent): MonitorEvent {
  if (event.kind === 'held-delivered') return event;
  const inner = event.event;
  if (inner.kind === 'log') {
    return {
      kind: 'log',
      time: event.time,
      level: inner.level,
      source: 'engine',
      message: inner.message,
    };
  }
  return {
    kind: 'route',
    time: event.time,
    type: inner.type,
    ifName: inner.ifName,
    ip: inner.ip,
    ...(inner.mac === undefined ? {} : { mac: inner.mac }),
    reason: inner.reason,
  };
}

/** A running daemon. Start one with `Daemon.start`. */
export class Daemon implements ControlHandler {
  private config: DaemonConfig;
  private readonly engine: Engine;
  private readonly runner: Runner;
  private readonly host: Host;
  private readonly resolver: Resolver;
  private readonly clock: Clock;
  private readonly opener: LinkOpener;
  private readonly sink: LogSink;
  private server: ControlServer | undefined;
  /** Interfaces with a link, by name (those in force and those removed by a reload). */
  private readonly ports = new Map<string, Port>();
  /** Interfaces a reload removed: the engine still has them, down and without addresses. */
  private readonly ghosts = new Map<string, InterfaceConfig>();
  /** Static entries the config owns, by staticKey. */
  private readonly configStatics = new Map<string, StaticConfig>();
  private readonly startedAt: number;
  private stopping: Promise<void> | undefined;
  /** Reloads and link reopenings, one at a time, in order; never rejects. */
  private serial: Promise<unknown> = Promise.resolve();
  private readonly probe: DeviceProbe;
  private readonly watch: LinkWatch;
  private carrierTimer: Timer | undefined;

  private constructor(
    readonly socketPath: string,
    config: DaemonConfig,
    options: DaemonOptions,
    clock: Clock,
    links: ReadonlyMap<string, OpenedLink>,
    /** The run-time changes, as the state file keeps them. */
    private readonly state: RunState,
    private readonly stateFile: StateFile,
  ) {
    this.config = config;
    this.clock = clock;
    this.sink = options.log;
    this.opener = options.openLink ?? openLink;
    this.probe = options.probeDevice ?? probeDevice;
    this.watch = { ...LINK_WATCH, ...options.linkWatch };
    this.startedAt = clock.now();
    this.engine = new Engine({ config: Object.fromEntries(config.sysctl) });
    this.runner = new Runner(this.engine, { clock });
    this.host = new Host(this.runner);
    this.resolver = new Resolver(this.runner, this.engine);
    this.runner.onEvent((event) => {
      this.resolver.onEvent(event);
      this.emit(monitorEvent(event));
    });
    // Entry events reach a resolution waiting for its entry, monitor clients and the debug
    // log; with none of them they are not built (a flood of new senders churns the table).
    this.runner.setEntryEventInterest(
      () => this.resolver.waiting || this.sink.enabled('debug') || this.server?.monitoring === true,
    );
    // Link errors come through the slots (onLinkIssue), which log one line per run of them.
    this.runner.onError((error) => {
      if (!(error instanceof LinkError)) this.log('err', error.message);
    });
    for (const iface of config.interfaces) this.addInterface(iface, links.get(iface.name));
  }

  /**
   * Checks the config and the socket path, reads the state file, opens the links, populates
   * the engine, restores the run-time changes over it, saves the state and starts the control
   * socket. Throws ConfigError, ControlServerError or DaemonError, having closed whatever it
   * had opened.
   */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const config = await loadConfig(options.configFile);
    await ControlServer.checkPath(options.socketPath);
    const clock = options.clock ?? new SystemClock();
    const statePath = options.statePath ?? config.state ?? defaultStatePath(options.socketPath);
    // Read before anything is opened, so that its lines come first; logged once running.
    const notes: [LogLevel, string][] = [];
    const state = await readState(statePath, (level, message) => notes.push([level, message]));
    let stateFile: StateFile;
    try {
      stateFile = await StateFile.open(statePath, () => state.serialize());
    } catch (error) {
      throw new DaemonError(
        'ESTATE',
        `cannot keep the state file ${statePath}: ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
    const links = await openLinks(config, config.interfaces, options.openLink ?? openLink, clock);
    const daemon = new Daemon(options.socketPath, config, options, clock, links, state, stateFile);
    for (const [level, message] of notes) daemon.log(level, message);
    try {
      daemon.populate(config);
      daemon.restore();
      try {
        // Proves the file can be written before any change is accepted, and drops from it
        // what could not be restored.
        await stateFile.commit();
      } catch (error) {
        throw new DaemonError('ESTATE', messageOf(error), { cause: error });
      }
      daemon.server = await ControlServer.listen({
        path: options.socketPath,
        handler: daemon,
        log: (level, message) => daemon.log(level, message),
      });
    } catch (error) {
      await daemon.runner.close();
      throw error;
    }
    const names = config.interfaces.map((i) => i.name).join(', ') || 'none';
    daemon.log(
      'info',
      `started: config ${config.file}, interfaces ${names}, control socket ${options.socketPath}`,
    );
    daemon.armCarrierWatch();
    return daemon;
  }

  /** The config in force. */
  get currentConfig(): DaemonConfig {
    return this.config;
  }

  /**
   * Stops: the control socket closes (its file removed), waiting requests end, the links
   * close. Idempotent; resolves when everything is closed.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.log('info', 'stopping');
      this.carrierTimer?.cancel();
      for (const port of this.ports.values()) port.retry?.cancel();
      // A reload or reopening under way finishes first, so that no link it opens is left open.
      await this.serial;
      this.resolver.cancelAll();
      this.host.cancelAll();
      await this.server?.close();
      await this.runner.close();
      // A write under way finishes: what was answered is on disk, and nothing is cut short.
      await this.stateFile.idle();
    })();
    return this.stopping;
  }

  /**
   * Re-reads the config file and applies the difference. Resolves true when the new config
   * is in force, false when it was refused (the reason is logged; the old one stays).
   * Reloads asked for while one runs wait for it.
   */
  reload(): Promise<boolean> {
    return this.inOrder(() => this.reloadNow());
  }

  /** Runs `work` after the reloads and reopenings before it (a failure stops no later one). */
  private inOrder<T>(work: () => Promise<T>): Promise<T> {
    const next = this.serial.then(work);
    this.serial = next.catch((error: unknown) => {
      this.log('err', `internal error: ${messageOf(error)}`);
    });
    return next;
  }

  // --- control operations -----------------------------------------------------------------

  /**
   * Runs one control request (the ControlHandler). `context` carries progress lines back to
   * the client and says when it has gone; without one, nothing is reported.
   */
  async handle(
    request: Exclude<Request, { op: 'monitor' }>,
    context?: RequestContext,
  ): Promise<unknown> {
    if (this.stopping) throw new ControlFailure('ESHUTDOWN', 'the daemon is stopping');
    switch (request.op) {
      case 'list':
        return this.list(request);
      case 'get':
        return this.get(request);
      case 'set':
        return this.saved(`set ${request.host}`, this.set(request));
      case 'delete':
        return this.saved(`delete ${request.host}`, this.delete(request));
      case 'flush':
        return this.saved('flush', this.flush(request));
      case 'sysctl-get':
        return this.sysctlGet(request);
      case 'sysctl-set':
        return this.saved(`sysctl ${request.name}`, this.sysctlSet(request));
      case 'stats':
        return this.stats();
      case 'interfaces':
        return this.interfaceInfos();
      case 'resolve':
        return this.resolver.resolve(
          request.host,
          request.timeoutMs ?? LIMITS.resolveTimeoutMs.default,
        );
      case 'ping':
        return this.ping(request, context);
      default:
        return assertNever(request);
    }
  }

  /**
   * Answers `result` once the state file holds the change that made it. If it cannot be
   * written, the change is in force but would be lost at a restart: answered EIO, saying so.
   */
  private async saved<T>(what: string, result: T): Promise<T> {
    try {
      await this.stateFile.commit();
    } catch (error) {
      const message = `${what}: in force, but not saved (it would be lost at a restart): ${messageOf(error)}`;
      this.log('err', message);
      throw new ControlFailure('EIO', message);
    }
    return result;
  }

  private list(request: RequestFor<'list'>): OpResult<'list'> {
    if (request.ifName !== undefined) this.requireInterface(request.ifName);
    const entries = this.engine.listEntries(this.runner.now());
    return request.ifName === undefined
      ? entries
      : entries.filter((e) => e.ifName === request.ifName);
  }

  /** arp host: every entry for the host, the first one's fields beside them (docs/control.md). */
  private get(request: RequestFor<'get'>): OpResult<'get'> {
    const entries = this.entriesAt(parseIpv4(request.host));
    const first = entries[0];
    if (!first) throw new NetarpError('ENOENT', `${request.host} (${request.host}) -- no entry`);
    return { ...first, entries };
  }

  private set(request: RequestFor<'set'>): OpResult<'set'> {
    const pub = request.pub === true;
    const only = request.only === true;
    if (only && !pub) {
      throw new ControlFailure('EINVAL', "set: 'only' needs 'pub' (arp -s host mac pub only)");
    }
    if (request.ifName !== undefined) this.requireInterface(request.ifName);
    const ip = parseIpv4(request.host);
    const spec: StaticEntrySpec = {
      ip,
      mac: parseMac(request.mac),
      temp: request.temp === true,
      pub,
      only,
      replace: request.replace === true,
    };
    if (request.ifName !== undefined) spec.ifName = request.ifName;
    this.addStatic(spec);
    // The operator set it: a reload no longer owns this entry.
    const key = staticKey({ ip, pub, only });
    this.configStatics.delete(key);
    const base = configStatic(this.config, key);
    if (spec.temp) {
      this.state.entryRemoved(key, base);
    } else {
      this.state.entrySet(
        { ip, mac: spec.mac, ifName: request.ifName, temp: false, pub, only },
        base,
      );
    }
    const stored = this.findEntry(ip, pub && only);
    if (!stored) throw new ControlFailure('EINTERNAL', `set: ${request.host} vanished`);
    return stored;
  }

  private delete(request: RequestFor<'delete'>): DeletedInfo {
    const ip = parseIpv4(request.host);
    const pub = request.pub === true;
    const ifName = request.ifName;
    if (ifName !== undefined) this.requireInterface(ifName);
    // arp -d deletes the host entry, else (or with pub) the proxy-only one (admin.ts); with an
    // interface (FreeBSD's -i, which arp -d does not take there), only one on that interface.
    const target = this.entriesAt(ip).find(
      (e) => (!pub || e.proxyOnly) && (ifName === undefined || e.ifName === ifName),
    );
    if (!target) {
      const where = ifName === undefined ? '' : ` on ${ifName}`;
      throw new NetarpError('ENOENT', `${request.host} (${request.host}) -- no entry${where}`);
    }
    // Throws EPERM for one of our own addresses.
    this.runner.apply((engine, now) => engine.deleteEntry(now, ip, target.proxyOnly));
    this.entryGone(target);
    return { deleted: [target] };
  }

  private flush(request: RequestFor<'flush'>): DeletedInfo {
    const ifName = request.ifName;
    if (ifName !== undefined) this.requireInterface(ifName);
    const doomed = this.engine
      .listEntries(this.runner.now())
      .filter((e) => !e.local && (ifName === undefined || e.ifName === ifName));
    if (ifName === undefined) {
      this.runner.apply((engine, now) => engine.flush(now));
    } else {
      for (const entry of doomed) {
        this.runner.apply((engine, now) => engine.deleteEntry(now, entry.ip, entry.proxyOnly));
      }
    }
    for (const entry of doomed) this.entryGone(entry);
    return { deleted: doomed };
  }

  private sysctlGet(request: RequestFor<'sysctl-get'>): SysctlInfo[] {
    const keys = request.name === undefined ? undefined : [configKeyOf(request.name)];
    return this.engine
      .sysctls()
      .filter((s) => keys === undefined || keys.includes(configKeyOf(s.name)))
      .map((s) => ({ ...s, description: CONFIG_SPEC[configKeyOf(s.name)].description }));
  }

  private sysctlSet(request: RequestFor<'sysctl-set'>): OpResult<'sysctl-set'> {
    const key = configKeyOf(request.name);
    const old = this.engine.getSysctl(key);
    this.engine.setSysctl(key, request.value);
    this.state.sysctlSet(key, request.value, this.config.sysctl.get(key) ?? null);
    const name = SYSCTL_PREFIX + key;
    if (old !== request.value) this.log('info', `sysctl ${name}: ${old} -> ${request.value}`);
    return { name, old, value: request.value };
  }

  /**
   * ICMP echo, one request every `intervalMs`, each through the host (so through the engine's
   * resolve path). With `progress`, each request is reported when it goes and when it is
   * answered or given up; once the client is gone (or the daemon stops) no more are sent.
   */
  private async ping(
    request: RequestFor<'ping'>,
    context: RequestContext | undefined,
  ): Promise<PingResult> {
    const count = request.count ?? LIMITS.pingCount.default;
    const timeoutMs = request.timeoutMs ?? LIMITS.pingTimeoutMs.default;
    const intervalMs = request.intervalMs ?? LIMITS.pingIntervalMs.default;
    const report =
      request.progress === true && context
        ? (progress: PingProgress) => context.progress(progress)
        : undefined;
    const signal = context?.signal;
    const probes: Promise<PingProbe>[] = [];
    for (let i = 0; i < count; i++) {
      if (i > 0) await this.pause(intervalMs, signal);
      if (this.stopping || signal?.aborted) break;
      // One echo each: the host sends it before its promise is first awaited.
      const probe = this.host
        .ping(request.host, { count: 1, timeoutMs })
        .then((result) => result.probes[0]!);
      report?.({ kind: 'sent', transmitted: i + 1 });
      probes.push(
        report
          ? probe.then((settled) => {
              report({ kind: 'probe', probe: settled });
              return settled;
            })
          : probe,
      );
    }
    const settled = await Promise.all(probes);
    const rttsMs = settled.flatMap((p) => (p.ok ? [p.rttMs] : []));
    return {
      destination: request.host,
      transmitted: settled.length,
      received: rttsMs.length,
      probes: settled,
      rttsMs,
    };
  }

  /** Resolves after `ms`, or at once when `signal` aborts. */
  private pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) {
        resolve();
        return;
      }
      const onAbort = (): void => {
        timer.cancel();
        resolve();
      };
      const timer = this.clock.setTimer(
        this.clock.now() + ms,
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        { keepAlive: true },
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private stats(): OpResult<'stats'> {
    const links: LinkStatsInfo[] = [];
    for (const iface of this.config.interfaces) {
      const port = this.ports.get(iface.name);
      if (!port?.opened) continue;
      const pcap = port.opened.pcapCounters();
      links.push({
        ifName: iface.name,
        type: port.opened.type,
        name: port.slot.name,
        counters: port.opened.counters(),
        ...(pcap === undefined ? {} : { pcap }),
      });
    }
    return {
      engine: this.engine.stats(),
      runner: this.runner.stats(),
      host: { ...this.host.stats() },
      links,
      control: this.server?.stats() ?? {
        connections: 0,
        accepted: 0,
        refused: 0,
        requests: 0,
        errors: 0,
        oversized: 0,
        eventsLost: 0,
      },
      state: { path: this.stateFile.path, changes: this.state.size, ...this.stateFile.stats() },
      uptimeMs: Math.max(0, this.clock.now() - this.startedAt),
    };
  }

  private interfaceInfos(): InterfaceInfo[] {
    const all = this.engine.interfaces();
    return this.config.interfaces.map((iface) => {
      const live = all.find((i) => i.name === iface.name)!;
      const port = this.ports.get(iface.name);
      const flags = [
        ...(live.noarp ? ['noarp'] : []),
        ...(live.staticarp ? ['staticarp'] : []),
        ...(iface.evictNoCarrier ? ['evict_nocarrier'] : []),
        // As ip-link(8) shows a device without carrier.
        ...(port?.fault ? ['no-carrier'] : []),
      ];
      const info: InterfaceInfo = {
        name: live.name,
        kind: live.kind,
        mac: formatMac(live.mac),
        up: live.up,
        flags,
        addresses: live.addresses.map((a) => `${formatIpv4(a.address)}/${a.prefixLength}`),
        ...(port?.opened
          ? {
              link: {
                type: port.opened.type,
                name: port.slot.name,
                ...(port.opened.io === undefined ? {} : { io: port.opened.io }),
              },
            }
          : {}),
        ...(iface.pcap === undefined ? {} : { pcap: iface.pcap }),
        ...(iface.bridge === undefined ? {} : { bridge: iface.bridge }),
        ...(live.kind === 'carp'
          ? {
              carp: {
                parent: all[live.carpParent]?.name ?? '?',
                vhid: live.vhid,
                state: live.carpState,
              },
            }
          : {}),
        ...(port?.fault ? { fault: port.fault.reason } : {}),
      };
      return info;
    });
  }

  // --- internals --------------------------------------------------------------------------

  /** Writes a log line of the daemon's own and shows it to monitors. */
  private log(level: LogLevel, message: string): void {
    this.emit({ kind: 'log', time: this.clock.now(), level, source: 'daemon', message });
  }

  private emit(event: MonitorEvent): void {
    this.sink.log(event);
    this.server?.publish(event);
  }

  /** Throws ENOENT unless `name` is an interface of the config in force. */
  private requireInterface(name: string): void {
    if (!this.config.interfaces.some((i) => i.name === name)) {
      throw new NetarpError('ENOENT', `no such interface: ${name}`);
    }
  }

  /** The host entry for `ip`, or with `proxyOnly` its proxy-only (pub only) entry. */
  private findEntry(ip: Ipv4, proxyOnly: boolean): EntryInfo | undefined {
    return this.entriesAt(ip).find((e) => e.proxyOnly === proxyOnly);
  }

  /** Every entry for `ip`: its host entry, then its proxy-only one (at most one of each). */
  private entriesAt(ip: Ipv4): EntryInfo[] {
    return this.engine.lookupAll(this.runner.now(), ip);
  }

  /** arp -s: sets a static entry. */
  private addStatic(spec: StaticEntrySpec): void {
    this.runner.apply((engine, now) => engine.addEntry(now, spec));
  }

  private keyOf(entry: EntryInfo): string {
    return staticKey({ ip: parseIpv4(entry.ip), pub: entry.proxyOnly, only: entry.proxyOnly });
  }

  /** An entry the operator deleted (or flushed): the config's no more, and recorded. */
  private entryGone(entry: EntryInfo): void {
    const key = this.keyOf(entry);
    this.configStatics.delete(key);
    this.state.entryRemoved(key, configStatic(this.config, key));
  }

  /** Adds an interface to the engine and, for an Ethernet one, its link slot to the runner. */
  private addInterface(iface: InterfaceConfig, opened: OpenedLink | undefined): void {
    this.engine.addInterface(interfaceSpec(iface));
    if (iface.kind !== 'ether') return;
    const slot = new LinkSlot(iface.name);
    slot.replace(opened?.link);
    this.runner.attach(iface.name, slot);
    const port: Port = {
      name: iface.name,
      slot,
      opened,
      fault: undefined,
      retry: undefined,
      retryWarned: false,
    };
    // Deferred: a link may report from inside a send, while the engine is working.
    slot.onIssue((issue) => queueMicrotask(() => this.onLinkIssue(port, issue)));
    this.ports.set(iface.name, port);
  }

  /** Addresses (announced), routes and static entries of a freshly started daemon. */
  private populate(config: DaemonConfig): void {
    for (const iface of config.interfaces) {
      for (const cidr of iface.addresses) {
        this.runner.apply((engine, now) => engine.addAddress(now, iface.name, cidr));
      }
    }
    for (const route of config.routes) this.addRoute(route);
    for (const entry of config.statics) this.applyStatic(entry);
  }

  private addRoute(route: DaemonConfig['routes'][number]): void {
    this.engine.addRoute(
      route.to,
      route.via === undefined ? { ifName: route.ifName! } : { gateway: route.via },
    );
  }

  /**
   * Restores the run-time changes the state file holds over the config just applied (the
   * precedence is state.ts's); what cannot be restored is logged and dropped.
   */
  private restore(): void {
    const plan = this.state.planRestore(this.config);
    for (const line of plan.dropped) this.log('warning', `state: ${line}`);
    let entries = 0;
    let deletions = 0;
    for (const { key, change } of plan.statics) {
      try {
        if (change.entry === null) {
          const { ip, pub, only } = change.base!;
          // Only the exact entry: arp -d would fall back to the proxy-only one.
          if (this.findEntry(ip, pub && only)) {
            this.runner.apply((engine, now) => engine.deleteEntry(now, ip, pub && only));
          }
          deletions++;
        } else {
          const entry = change.entry;
          this.addStatic(staticSpec(entry));
          entries++;
        }
        this.configStatics.delete(key);
      } catch (error) {
        this.state.forgetStatic(key);
        this.log('warning', `state: ${key} cannot be restored: ${messageOf(error)}; dropped`);
      }
    }
    let knobs = 0;
    for (const { key, value } of plan.sysctl) {
      try {
        this.engine.setSysctl(key, value);
        knobs++;
      } catch (error) {
        this.state.forgetSysctl(key);
        this.log(
          'warning',
          `state: ${SYSCTL_PREFIX}${key} cannot be restored: ${messageOf(error)}; dropped`,
        );
      }
    }
    if (entries + deletions + knobs > 0) {
      this.log(
        'info',
        `state: restored ${entries} entries set, ${deletions} deleted and ${knobs} knobs set at run time, from ${this.stateFile.path}`,
      );
    }
  }

  /** Saves the state after a change no request waits for (a reload); a failure is logged. */
  private saveQuietly(): void {
    this.stateFile.commit().catch((error: unknown) => {
      this.log(
        'err',
        `state: ${messageOf(error)}; run-time changes made so far may be lost at a restart`,
      );
    });
  }

  /** Sets a static entry of the config (replacing what is there) and owns it. */
  private applyStatic(entry: StaticConfig): void {
    this.addStatic(staticSpec(entry));
    this.configStatics.set(staticKey(entry), entry);
  }

  /** Whether the table holds `entry` as the config says it. */
  private holds(entry: StaticConfig): boolean {
    const live = this.findEntry(entry.ip, entry.pub && entry.only);
    if (!live) return false;
    return (
      live.static &&
      live.mac === formatMac(entry.mac) &&
      live.published === entry.pub &&
      live.permanent === !entry.temp &&
      (entry.ifName === undefined || live.ifName === entry.ifName)
    );
  }

  private async reloadNow(): Promise<boolean> {
    if (this.stopping) return false;
    const file = this.config.file;
    let next: DaemonConfig;
    let plan: ReturnType<typeof planReload>;
    try {
      next = await loadConfig(file);
      plan = planReload(this.config, next, this.ghosts);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log('err', `reload refused, the running config stays: ${message}`);
      return false;
    }
    const changes: string[] = [];
    // An interface left without its link by an earlier failure gets it back now.
    const planned = new Set([...plan.added, ...plan.revived, ...plan.relinked].map((i) => i.name));
    const relinked = [
      ...plan.relinked,
      ...next.interfaces.filter(
        (i) =>
          i.link !== undefined &&
          !planned.has(i.name) &&
          this.ports.has(i.name) &&
          this.ports.get(i.name)?.opened === undefined,
      ),
    ];

    // Links first, as they can fail: close those that go or change, open the new ones; if
    // one cannot be opened, close what was opened, put the old links back and refuse.
    const closing = [...plan.removed, ...relinked.map((i) => i.name)];
    const previous = new Map<string, OpenedLink | undefined>();
    for (const name of closing) {
      const port = this.ports.get(name);
      if (!port) continue;
      previous.set(name, port.opened);
      port.slot.replace(undefined);
      await port.opened?.link.close();
      port.opened = undefined;
    }
    let opened: Map<string, OpenedLink>;
    try {
      opened = await openLinks(
        next,
        [...plan.added, ...plan.revived, ...relinked],
        this.opener,
        this.clock,
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log('err', `reload refused, the running config stays: ${message}`);
      await this.restoreLinks(previous);
      return false;
    }

    const knobsTouched = new Set<keyof ArpConfig>([
      ...plan.sysctlSet.map(([key]) => key),
      ...plan.sysctlReset,
    ]);
    for (const [key, value] of plan.sysctlSet) {
      const old = this.engine.getSysctl(key);
      if (old === value) continue;
      this.engine.setSysctl(key, value);
      changes.push(`sysctl ${SYSCTL_PREFIX}${key} ${old} -> ${value}`);
    }
    for (const key of plan.sysctlReset) {
      const old = this.engine.getSysctl(key);
      if (old === DEFAULT_CONFIG[key]) continue;
      this.engine.setSysctl(key, DEFAULT_CONFIG[key]);
      changes.push(`sysctl ${SYSCTL_PREFIX}${key} ${old} -> ${DEFAULT_CONFIG[key]} (default)`);
    }
    for (const route of plan.routesRemoved) {
      this.engine.removeRoute(route.to);
      changes.push(`-route ${formatIpv4(route.to.address)}/${route.to.prefixLength}`);
    }

    // Static entries the config no longer names, while their interfaces still exist.
    const wanted = new Map(next.statics.map((s) => [staticKey(s), s]));
    for (const [key, entry] of this.configStatics) {
      if (wanted.has(key)) continue;
      this.configStatics.delete(key);
      if (!this.findEntry(entry.ip, entry.pub && entry.only)) continue;
      this.runner.apply((engine, at) => engine.deleteEntry(at, entry.ip, entry.pub && entry.only));
      changes.push(`-static ${key}`);
    }

    for (const name of plan.removed) {
      this.retireInterface(name);
      changes.push(`-interface ${name}`);
    }
    for (const iface of plan.added) {
      this.addInterface(iface, opened.get(iface.name));
      changes.push(`+interface ${iface.name}`);
    }
    for (const iface of plan.revived) {
      this.ghosts.delete(iface.name);
      const port = this.ports.get(iface.name);
      if (port) this.attachLink(port, opened.get(iface.name), false);
      this.engine.setInterfaceFlags(iface.name, iface);
      this.runner.apply((engine, at) => engine.setInterfaceUp(at, iface.name, true));
      changes.push(`+interface ${iface.name}`);
    }
    for (const iface of relinked) {
      const port = this.ports.get(iface.name);
      if (port) this.attachLink(port, opened.get(iface.name), true);
      changes.push(`link ${iface.name}: ${iface.link ? describeLink(iface.link) : 'none'}`);
    }
    for (const iface of plan.reflagged) {
      this.engine.setInterfaceFlags(iface.name, iface);
      const flags = [
        iface.noarp ? 'noarp' : '',
        iface.staticarp ? 'staticarp' : '',
        iface.evictNoCarrier ? 'evict_nocarrier' : '',
      ];
      changes.push(`flags ${iface.name}: [${flags.filter(Boolean).join(', ')}]`);
    }
    for (const iface of plan.recarped) {
      if (iface.carp) this.engine.setCarpState(iface.name, iface.carp.state);
      changes.push(`carp ${iface.name}: ${iface.carp?.state}`);
    }
    for (const { ifName, cidr } of plan.addressesRemoved) {
      this.runner.apply((engine, at) => engine.removeAddress(at, ifName, cidr.address));
      changes.push(`-address ${formatIpv4(cidr.address)}/${cidr.prefixLength} on ${ifName}`);
    }
    // After the removals, so that only the addresses kept are announced with the new MAC
    // (the added ones are announced as they are added, below).
    for (const iface of plan.remacked) {
      const mac = iface.mac;
      if (mac === undefined) continue;
      const old = this.engine.interfaces().find((i) => i.name === iface.name)?.mac;
      this.runner.apply((engine, at) => engine.setInterfaceMac(at, iface.name, mac));
      changes.push(
        `mac ${iface.name}: ${old === undefined ? '?' : formatMac(old)} -> ${formatMac(mac)}`,
      );
    }
    for (const { ifName, cidr } of plan.addressesAdded) {
      this.runner.apply((engine, at) => engine.addAddress(at, ifName, cidr));
      changes.push(`+address ${formatIpv4(cidr.address)}/${cidr.prefixLength} on ${ifName}`);
    }
    for (const route of plan.routesAdded) {
      this.addRoute(route);
      changes.push(`+route ${formatIpv4(route.to.address)}/${route.to.prefixLength}`);
    }
    for (const [key, entry] of wanted) {
      if (this.holds(entry)) {
        // Already as the file says (perhaps set so at run time): the config's again.
        this.configStatics.set(key, entry);
        continue;
      }
      this.applyStatic(entry);
      changes.push(`+static ${key}`);
    }

    this.config = next;
    // The file's word now stands for every key it names (state.ts).
    this.state.reloaded(next, knobsTouched, (entry) => this.holds(entry));
    this.saveQuietly();
    const summary = changes.length === 0 && isEmptyPlan(plan) ? 'no changes' : changes.join('; ');
    this.log('info', `reloaded ${file}: ${summary}`);
    return true;
  }

  /** Takes an interface out of service: entries, addresses and link go; the name stays known. */
  private retireInterface(name: string): void {
    const iface = this.config.interfaces.find((i) => i.name === name);
    if (!iface) return;
    for (const entry of this.engine.listEntries(this.runner.now())) {
      if (entry.ifName !== name || entry.local) continue;
      this.runner.apply((engine, at) => engine.deleteEntry(at, entry.ip, entry.proxyOnly));
      this.configStatics.delete(this.keyOf(entry));
    }
    const live = this.engine.interfaces().find((i) => i.name === name);
    for (const address of [...(live?.addresses ?? [])]) {
      this.runner.apply((engine, at) => engine.removeAddress(at, name, address.address));
    }
    this.runner.apply((engine, at) => engine.setInterfaceUp(at, name, false));
    this.ghosts.set(name, iface);
    const port = this.ports.get(name);
    if (port) {
      // A removed interface waits for no device and has no fault of its own.
      port.retry?.cancel();
      port.retry = undefined;
      port.fault = undefined;
    }
  }

  /** Puts back links closed by a refused reload, reopening them from the running config. */
  private async restoreLinks(previous: ReadonlyMap<string, OpenedLink | undefined>): Promise<void> {
    for (const [name, was] of previous) {
      const port = this.ports.get(name);
      const iface = this.config.interfaces.find((i) => i.name === name);
      if (!port || !iface?.link || !was) continue;
      try {
        const link = await this.opener(iface.link, {
          ifName: name,
          pcap: iface.pcap,
          mac: iface.mac,
          clock: this.clock,
        });
        this.attachLink(port, link, true);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.log('err', `interface ${name} is left without a link: ${message}`);
      }
    }
  }

  // --- link faults ------------------------------------------------------------------------

  /**
   * Puts `opened` in the port's slot: any wait for its device ends, and an interface the
   * daemon held down for its link comes up again (announcing its addresses) if `bringUp`.
   */
  private attachLink(port: Port, opened: OpenedLink | undefined, bringUp: boolean): void {
    port.retry?.cancel();
    port.retry = undefined;
    port.slot.replace(opened?.link);
    port.opened = opened;
    if (opened && port.fault) {
      port.fault = undefined;
      if (bringUp && !this.ghosts.has(port.name)) {
        this.runner.apply((engine, at) => engine.setInterfaceUp(at, port.name, true));
      }
    }
  }

  /** A slot's health report: log the first error of a run, and the end of one; a lost device. */
  private onLinkIssue(port: Port, issue: LinkIssue): void {
    if (this.stopping || this.ports.get(port.name) !== port) return;
    if (issue.kind === 'recovered') {
      this.log('info', `${port.name}: ${port.slot.name} works again after ${issue.errors} errors`);
      return;
    }
    const gone = port.opened?.gone?.();
    if (gone !== undefined) {
      this.deviceLost(port, gone);
      return;
    }
    if (issue.first) {
      this.log(
        'err',
        `${port.name}: ${issue.error.message} (more errors are counted, not logged, until a frame arrives again)`,
      );
    }
  }

  /**
   * The link's device is gone: close the link, hold the interface down (evicting its learned
   * entries if configured) and try to reopen the link, backing off, until the device exists.
   */
  private deviceLost(port: Port, reason: string): void {
    const opened = port.opened;
    if (!opened) return;
    port.slot.replace(undefined);
    port.opened = undefined;
    opened.link.close().catch(() => {});
    const device = this.linkOf(port);
    const what = device && device.type !== 'vxlan' ? device.device : 'the device';
    this.takeDown(
      port,
      { kind: 'gone', reason: `${reason}; reopened when ${what} exists again` },
      `${port.name}: ${reason}; ${port.name} is down and its link is reopened once ${what} exists again (SIGHUP: at once)`,
    );
    port.retryWarned = false;
    this.scheduleReattach(port, 0);
  }

  /** The link spec the config in force gives the port's interface. */
  private linkOf(port: Port): InterfaceConfig['link'] {
    return this.config.interfaces.find((i) => i.name === port.name)?.link;
  }

  /** Holds the interface down for `fault` (logged as `line`), evicting if configured. */
  private takeDown(port: Port, fault: PortFault, line: string): void {
    const wasDown = port.fault !== undefined;
    port.fault = fault;
    // A lost device is an error; a lost carrier (a cable, a peer going down) a warning.
    const level: LogLevel = fault.kind === 'gone' ? 'err' : 'warning';
    if (wasDown || this.ghosts.has(port.name)) {
      this.log(level, line);
      return;
    }
    this.runner.apply((engine, at) => engine.setInterfaceUp(at, port.name, false));
    const iface = this.config.interfaces.find((i) => i.name === port.name);
    let evicted = 0;
    if (iface?.evictNoCarrier) {
      for (const entry of this.engine.listEntries(this.runner.now())) {
        if (entry.ifName !== port.name || entry.static || entry.local) continue;
        this.runner.apply((engine, at) => engine.deleteEntry(at, entry.ip, entry.proxyOnly));
        evicted++;
      }
    }
    this.log(level, iface?.evictNoCarrier ? `${line}; ${evicted} learned entries evicted` : line);
  }

  private scheduleReattach(port: Port, attempt: number): void {
    if (this.stopping) return;
    const delay = Math.min(
      this.watch.reattachMaxMs,
      this.watch.reattachMinMs * 2 ** Math.min(attempt, 30),
    );
    const timer = this.clock.setTimer(this.clock.now() + delay, () => {
      // A failure is logged by inOrder.
      this.inOrder(() => this.reattach(port, attempt + 1)).catch(() => {});
    });
    port.retry = timer;
  }

  /** One attempt to reopen a lost link: only once its device exists again (never creating it). */
  private async reattach(port: Port, attempt: number): Promise<void> {
    const spec = this.linkOf(port);
    // Stopped, removed, given a link by a reload meanwhile: nothing to do.
    if (this.stopping || port.opened || !spec || this.ghosts.has(port.name)) return;
    if (port.fault?.kind !== 'gone') return;
    let state: Awaited<ReturnType<DeviceProbe>>;
    try {
      state = await this.probe(spec);
    } catch {
      state = 'unknown';
    }
    if (state === 'absent') {
      this.scheduleReattach(port, attempt);
      return;
    }
    const iface = this.config.interfaces.find((i) => i.name === port.name)!;
    let opened: OpenedLink;
    try {
      opened = await this.opener(spec, {
        ifName: port.name,
        pcap: iface.pcap,
        mac: iface.mac,
        clock: this.clock,
      });
    } catch (error) {
      // Logged once per outage at warning: the device exists but will not open (yet).
      this.log(
        port.retryWarned ? 'debug' : 'warning',
        `${port.name}: reopening ${describeLink(spec)} failed: ${messageOf(error)}`,
      );
      port.retryWarned = true;
      this.scheduleReattach(port, attempt);
      return;
    }
    if (this.stopping || this.ghosts.has(port.name) || port.opened) {
      await opened.link.close();
      return;
    }
    const down = (await this.carrierAfterOpen(spec)) === 'down';
    this.attachLink(port, opened, !down);
    if (down) {
      // Back without carrier: the carrier watch brings the interface up when it has it.
      port.fault = { kind: 'no-carrier', reason: `no carrier on ${describeLink(spec)}` };
    }
    this.log(
      'info',
      `${port.name}: reattached ${describeLink(spec)}; ${port.name} is ${down ? 'still down (no carrier)' : 'up'}`,
    );
  }

  /**
   * The device's state once a link holds it: a TAP device has carrier only while a process
   * has it open, and the kernel's linkwatch reports a new carrier up to a second later, so a
   * "down" is asked again for `carrierSettleMs` before it is believed.
   */
  private async carrierAfterOpen(spec: LinkSpec): Promise<DeviceState> {
    const until = this.clock.now() + this.watch.carrierSettleMs;
    for (;;) {
      let state: DeviceState;
      try {
        state = await this.probe(spec);
      } catch {
        return 'unknown';
      }
      if (state !== 'down' || this.clock.now() >= until || this.stopping) return state;
      await new Promise<void>((resolve) => {
        this.clock.setTimer(this.clock.now() + CARRIER_SETTLE_STEP_MS, resolve);
      });
    }
  }

  /** Looks at every TAP and AF_PACKET device's carrier, every `carrierPollMs`. */
  private armCarrierWatch(): void {
    if (this.stopping) return;
    this.carrierTimer = this.clock.setTimer(this.clock.now() + this.watch.carrierPollMs, () => {
      void this.checkCarriers().finally(() => this.armCarrierWatch());
    });
  }

  private async checkCarriers(): Promise<void> {
    for (const port of this.ports.values()) {
      const spec = this.linkOf(port);
      if (!port.opened || !spec || this.ghosts.has(port.name) || this.stopping) continue;
      let state: Awaited<ReturnType<DeviceProbe>>;
      try {
        state = await this.probe(spec);
      } catch {
        continue;
      }
      // The link may have changed while the probe ran.
      if (!port.opened || this.stopping || this.ghosts.has(port.name)) continue;
      if (state === 'absent' && port.fault?.kind !== 'gone') {
        this.deviceLost(port, `${port.slot.name}: the device is gone (no interface of that name)`);
      } else if (state === 'down' && port.fault === undefined) {
        const line = `${port.name}: no carrier on ${describeLink(spec)}; ${port.name} is down until carrier is back`;
        this.takeDown(
          port,
          { kind: 'no-carrier', reason: `no carrier on ${describeLink(spec)}` },
          line,
        );
      } else if ((state === 'up' || state === 'unknown') && port.fault?.kind === 'no-carrier') {
        port.fault = undefined;
        this.runner.apply((engine, at) => engine.setInterfaceUp(at, port.name, true));
        this.log(
          'info',
          `${port.name}: carrier back on ${describeLink(spec)}; ${port.name} is up and announces its addresses`,
        );
      }
    }
  }
}
