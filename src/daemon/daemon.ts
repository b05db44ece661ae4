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
 */

import {
  ControlFailure,
  type DeletedInfo,
  type InterfaceInfo,
  LIMITS,
  type LinkStatsInfo,
  type MonitorEvent,
  type OpResult,
  type Request,
  type RequestFor,
  type SysctlInfo,
} from '../control/protocol.ts';
import { type ControlHandler, ControlServer } from '../control/server.ts';
import type { EntryInfo, StaticEntrySpec } from '../core/admin.ts';
import { CONFIG_SPEC, configKeyOf, DEFAULT_CONFIG, SYSCTL_PREFIX } from '../core/config.ts';
import { Engine } from '../core/engine.ts';
import { assertNever, NetarpError } from '../core/errors.ts';
import type { LogLevel } from '../core/events.ts';
import { type Clock, SystemClock } from '../runtime/clock.ts';
import { Host } from '../runtime/host.ts';
import { Runner, type RuntimeEvent } from '../runtime/runner.ts';
import { formatIpv4, formatMac, type Ipv4, parseIpv4, parseMac } from '../wire/addr.ts';
import {
  type DaemonConfig,
  describeLink,
  type InterfaceConfig,
  interfaceSpec,
  loadConfig,
  type StaticConfig,
  staticKey,
  staticSpec,
} from './config.ts';
import { LinkSlot } from './link-slot.ts';
import { type LinkOpener, type OpenedLink, openLink } from './links.ts';
import type { LogSink } from './log.ts';
import { isEmptyPlan, planReload } from './reload.ts';
import { Resolver } from './resolver.ts';

/** Why the daemon could not start or do what it was asked, besides config and socket errors. */
export type DaemonErrorCode =
  | 'EUSAGE' // the command line is wrong
  | 'ELINK'; // a link could not be opened

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
}

/** An interface with a link: the slot the runner holds and what is in it. */
interface Port {
  readonly slot: LinkSlot;
  opened: OpenedLink | undefined;
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
  private reloading: Promise<boolean> | undefined;

  private constructor(
    readonly socketPath: string,
    config: DaemonConfig,
    options: DaemonOptions,
    clock: Clock,
    links: ReadonlyMap<string, OpenedLink>,
  ) {
    this.config = config;
    this.clock = clock;
    this.sink = options.log;
    this.opener = options.openLink ?? openLink;
    this.startedAt = clock.now();
    this.engine = new Engine({ config: Object.fromEntries(config.sysctl) });
    this.runner = new Runner(this.engine, { clock });
    this.host = new Host(this.runner);
    this.resolver = new Resolver(this.runner, this.engine);
    this.runner.onEvent((event) => {
      this.resolver.onEvent(event);
      this.emit(monitorEvent(event));
    });
    this.runner.onError((error) => this.log('err', error.message));
    for (const iface of config.interfaces) this.addInterface(iface, links.get(iface.name));
  }

  /**
   * Checks the config and the socket path, opens the links, populates the engine and starts
   * the control socket. Throws ConfigError, ControlServerError or DaemonError, having closed
   * whatever it had opened.
   */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const config = await loadConfig(options.configFile);
    await ControlServer.checkPath(options.socketPath);
    const clock = options.clock ?? new SystemClock();
    const links = await openLinks(config, config.interfaces, options.openLink ?? openLink, clock);
    const daemon = new Daemon(options.socketPath, config, options, clock, links);
    try {
      daemon.populate(config);
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
      // A reload under way finishes first, so that no link it opens is left open.
      await this.reloading;
      this.resolver.cancelAll();
      this.host.cancelAll();
      await this.server?.close();
      await this.runner.close();
    })();
    return this.stopping;
  }

  /**
   * Re-reads the config file and applies the difference. Resolves true when the new config
   * is in force, false when it was refused (the reason is logged; the old one stays).
   * Reloads asked for while one runs wait for it.
   */
  reload(): Promise<boolean> {
    const previous = this.reloading ?? Promise.resolve(true);
    const next = previous.then(() => this.reloadNow());
    this.reloading = next;
    return next;
  }

  // --- control operations -----------------------------------------------------------------

  /** Runs one control request (the ControlHandler). */
  async handle(request: Exclude<Request, { op: 'monitor' }>): Promise<unknown> {
    if (this.stopping) throw new ControlFailure('ESHUTDOWN', 'the daemon is stopping');
    switch (request.op) {
      case 'list':
        return this.list(request);
      case 'get':
        return this.get(request);
      case 'set':
        return this.set(request);
      case 'delete':
        return this.delete(request);
      case 'flush':
        return this.flush(request);
      case 'sysctl-get':
        return this.sysctlGet(request);
      case 'sysctl-set':
        return this.sysctlSet(request);
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
        return this.host.ping(request.host, {
          count: request.count ?? LIMITS.pingCount.default,
          timeoutMs: request.timeoutMs ?? LIMITS.pingTimeoutMs.default,
          intervalMs: request.intervalMs ?? LIMITS.pingIntervalMs.default,
        });
      default:
        return assertNever(request);
    }
  }

  private list(request: RequestFor<'list'>): OpResult<'list'> {
    if (request.ifName !== undefined) this.requireInterface(request.ifName);
    const entries = this.engine.listEntries(this.runner.now());
    return request.ifName === undefined
      ? entries
      : entries.filter((e) => e.ifName === request.ifName);
  }

  private get(request: RequestFor<'get'>): OpResult<'get'> {
    const entry = this.engine.lookup(this.runner.now(), request.host);
    if (!entry) throw new NetarpError('ENOENT', `${request.host} (${request.host}) -- no entry`);
    return entry;
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
    this.runner.apply((engine, now) => engine.addEntry(now, spec));
    // The operator set it: a reload no longer owns this entry.
    this.configStatics.delete(staticKey({ ip, pub, only }));
    const stored = this.findEntry(ip, pub && only);
    if (!stored) throw new ControlFailure('EINTERNAL', `set: ${request.host} vanished`);
    return stored;
  }

  private delete(request: RequestFor<'delete'>): DeletedInfo {
    const ip = parseIpv4(request.host);
    const pub = request.pub === true;
    // arp -d deletes the host entry, else (or with pub) the proxy-only one (admin.ts).
    const before = (pub ? undefined : this.findEntry(ip, false)) ?? this.findEntry(ip, true);
    this.runner.apply((engine, now) => engine.deleteEntry(now, ip, pub));
    if (before) this.configStatics.delete(this.keyOf(before));
    return { deleted: before ? [before] : [] };
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
    for (const entry of doomed) this.configStatics.delete(this.keyOf(entry));
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
    const name = SYSCTL_PREFIX + key;
    if (old !== request.value) this.log('info', `sysctl ${name}: ${old} -> ${request.value}`);
    return { name, old, value: request.value };
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
      uptimeMs: Math.max(0, this.clock.now() - this.startedAt),
    };
  }

  private interfaceInfos(): InterfaceInfo[] {
    const all = this.engine.interfaces();
    return this.config.interfaces.map((iface) => {
      const live = all.find((i) => i.name === iface.name)!;
      const flags = [...(live.noarp ? ['noarp'] : []), ...(live.staticarp ? ['staticarp'] : [])];
      const port = this.ports.get(iface.name);
      const info: InterfaceInfo = {
        name: live.name,
        kind: live.kind,
        mac: formatMac(live.mac),
        up: live.up,
        flags,
        addresses: live.addresses.map((a) => `${formatIpv4(a.address)}/${a.prefixLength}`),
        ...(port?.opened ? { link: { type: port.opened.type, name: port.slot.name } } : {}),
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
    const text = formatIpv4(ip);
    return this.engine
      .listEntries(this.runner.now())
      .find((e) => e.ip === text && e.proxyOnly === proxyOnly);
  }

  private keyOf(entry: EntryInfo): string {
    return staticKey({ ip: parseIpv4(entry.ip), pub: entry.proxyOnly, only: entry.proxyOnly });
  }

  /** Adds an interface to the engine and, for an Ethernet one, its link slot to the runner. */
  private addInterface(iface: InterfaceConfig, opened: OpenedLink | undefined): void {
    this.engine.addInterface(interfaceSpec(iface));
    if (iface.kind !== 'ether') return;
    const slot = new LinkSlot(iface.name);
    slot.replace(opened?.link);
    this.runner.attach(iface.name, slot);
    this.ports.set(iface.name, { slot, opened });
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

  /** Sets a static entry of the config (replacing what is there) and owns it. */
  private applyStatic(entry: StaticConfig): void {
    this.runner.apply((engine, now) => engine.addEntry(now, staticSpec(entry)));
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
      const link = opened.get(iface.name);
      if (port) {
        port.slot.replace(link?.link);
        port.opened = link;
      }
      this.engine.setInterfaceFlags(iface.name, iface);
      this.runner.apply((engine, at) => engine.setInterfaceUp(at, iface.name, true));
      changes.push(`+interface ${iface.name}`);
    }
    for (const iface of relinked) {
      const port = this.ports.get(iface.name);
      const link = opened.get(iface.name);
      if (port) {
        port.slot.replace(link?.link);
        port.opened = link;
      }
      changes.push(`link ${iface.name}: ${iface.link ? describeLink(iface.link) : 'none'}`);
    }
    for (const iface of plan.reflagged) {
      this.engine.setInterfaceFlags(iface.name, iface);
      const flags = [iface.noarp ? 'noarp' : '', iface.staticarp ? 'staticarp' : ''];
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
        port.slot.replace(link.link);
        port.opened = link;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.log('err', `interface ${name} is left without a link: ${message}`);
      }
    }
  }
}
