/**
 * Scenario files for the simulator: a JSON or YAML description of segments, hosts, stations
 * and a timeline of actions, checked whole before anything runs. Every mistake becomes a
 * `ScenarioError` naming the file, the line, the field (`hosts[1].interfaces[0].mac`) and the
 * reason. The format is documented field by field in docs/sim.md.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, type Node, parseDocument } from 'yaml';
import type { StaticEntrySpec } from '../core/admin.ts';
import { parseSetWords } from '../core/admin.ts';
import {
  type ArpConfig,
  CONFIG_KEYS,
  CONFIG_SPEC,
  configKeyOf,
  SYSCTL_PREFIX,
} from '../core/config.ts';
import type { CarpState } from '../core/iface.ts';
import {
  formatCidr,
  type Ipv4,
  MAC_BROADCAST,
  MAC_ZERO,
  type Mac,
  parseCidr,
  parseCidrOrUndefined,
  parseIpv4OrUndefined,
  parseMacOrUndefined,
  prefixMask,
} from '../wire/addr.ts';
import { ARP_ETHER_IPV4_LEN, ArpHardware, ArpOp, emitArp } from '../wire/arp.ts';
import { ETHERNET_HEADER_LEN, EtherType, emitEthernetHeader } from '../wire/ethernet.ts';
import type { HostInterfaceSpec } from './world.ts';

/** What kind of scenario mistake: unreadable file, not JSON/YAML, or a wrong field. */
export type ScenarioErrorCode = 'EIO' | 'EPARSE' | 'EINVAL';

/** A mistake in a scenario file; `message` is one line meant for the person who wrote it. */
export class ScenarioError extends Error {
  constructor(
    readonly code: ScenarioErrorCode,
    message: string,
    /** The field at fault, as `hosts[1].interfaces[0].mac` ("" for the whole file). */
    readonly field = '',
  ) {
    super(message);
    this.name = 'ScenarioError';
  }
}

/** A segment (an Ethernet hub). */
export interface SegmentSpec {
  readonly name: string;
  /** Probability 0..1 that a frame is lost on its way to each receiver. */
  readonly loss: number;
  /** Milliseconds from transmit to delivery. */
  readonly delayMs: number;
}

/** Where a static route leads: a gateway (RTF_GATEWAY) or straight out an interface. */
export type RouteNext =
  | { readonly kind: 'gateway'; readonly via: string }
  | { readonly kind: 'interface'; readonly ifName: string };

/** A static route of a host. */
export interface RouteSpec {
  /** "198.51.100.0/24"; a bare address is a host route. */
  readonly prefix: string;
  readonly next: RouteNext;
}

/** A host: an engine with interfaces, sysctl overrides and static routes. */
export interface HostSpec {
  readonly name: string;
  /** Overrides by short sysctl name ("max_age"), already validated. */
  readonly sysctl: Readonly<Record<string, number>>;
  /** Interfaces without their addresses, in the order they are added. */
  readonly interfaces: readonly HostInterfaceSpec[];
  /** Addresses to add once every host is plugged in, in file order. */
  readonly addresses: readonly { readonly ifName: string; readonly cidr: string }[];
  readonly routes: readonly RouteSpec[];
}

/** A station: a name that injects frames on a segment and runs no engine. */
export interface StationSpec {
  readonly name: string;
  readonly segment: string;
  /** Default sender hardware and Ethernet source of its frames. */
  readonly mac: Mac | undefined;
}

/** An `arp` command, parsed from its arp(8) words. */
export type ArpCommand =
  | { readonly kind: 'set'; readonly spec: StaticEntrySpec }
  | { readonly kind: 'delete'; readonly ip: Ipv4; readonly pub: boolean }
  | { readonly kind: 'flush' }
  | { readonly kind: 'list' };

/** One thing the timeline does. */
export type Action =
  | { readonly kind: 'ping'; readonly host: string; readonly destination: Ipv4 }
  | {
      readonly kind: 'inject';
      readonly segment: string;
      readonly station: string;
      readonly frame: Uint8Array;
    }
  | {
      readonly kind: 'arp';
      readonly host: string;
      readonly words: string;
      readonly command: ArpCommand;
    }
  | {
      readonly kind: 'address';
      readonly host: string;
      readonly ifName: string;
      readonly add: boolean;
      /** "192.0.2.7/24" to add; the address alone to remove. */
      readonly address: string;
    }
  | { readonly kind: 'link'; readonly host: string; readonly ifName: string; readonly up: boolean }
  | {
      readonly kind: 'sysctl';
      readonly host: string;
      readonly name: string;
      readonly value: number;
    }
  | {
      readonly kind: 'carp';
      readonly host: string;
      readonly ifName: string;
      readonly state: CarpState;
    }
  | {
      readonly kind: 'route';
      readonly host: string;
      readonly prefix: string;
      /** Where the added route leads; undefined removes the route for `prefix`. */
      readonly next: RouteNext | undefined;
    }
  | { readonly kind: 'show'; readonly host: string | undefined }
  | { readonly kind: 'stats'; readonly host: string }
  | { readonly kind: 'note'; readonly text: string };

/** An action and when it happens. */
export interface TimelineStep {
  /** Virtual time in milliseconds. */
  readonly atMs: number;
  readonly action: Action;
}

/** A checked scenario, ready to run. */
export interface Scenario {
  /** Seed of the loss PRNG. */
  readonly seed: number;
  readonly segments: readonly SegmentSpec[];
  readonly hosts: readonly HostSpec[];
  readonly stations: readonly StationSpec[];
  /** In time order; steps at the same time keep their file order. */
  readonly timeline: readonly TimelineStep[];
  /** When the run stops, in milliseconds. */
  readonly endMs: number;
}

/** The action names a timeline item may carry, in the order docs/sim.md lists them. */
export const ACTION_NAMES = [
  'ping',
  'inject',
  'arp',
  'address',
  'link',
  'sysctl',
  'carp',
  'route',
  'show',
  'stats',
  'note',
] as const;

type PathSegment = string | number;
type Path = readonly PathSegment[];

/** "hosts[1].interfaces[0].mac" */
function formatPath(path: Path): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}

/** Locates fields in the parsed document, for messages that give a line and column. */
export type Locator = (path: readonly (string | number)[]) => string;

/** Checks the parsed value, throwing ScenarioError with a located message. */
class Checker {
  constructor(private readonly locate: Locator) {}

  /** Fails with "missing" for an absent required field. */
  required(value: unknown, path: Path): void {
    if (value === undefined) this.fail(path, 'missing (this field is required)');
  }

  fail(path: Path, reason: string): never {
    const field = formatPath(path);
    const where = this.locate(path);
    throw new ScenarioError(
      'EINVAL',
      `${where}${field === '' ? '' : `${field}: `}${reason}`,
      field,
    );
  }

  /** A mapping whose keys are all in `allowed` (any keys when `allowed` is undefined). */
  object(
    value: unknown,
    path: Path,
    allowed: readonly string[] | undefined,
  ): Record<string, unknown> {
    this.required(value, path);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(path, `expected a mapping, got ${describe(value)}`);
    }
    const record = value as Record<string, unknown>;
    if (allowed === undefined) return record;
    for (const key of Object.keys(record)) {
      if (!allowed.includes(key)) {
        this.fail([...path, key], `unknown field (expected one of: ${allowed.join(', ')})`);
      }
    }
    return record;
  }

  list(value: unknown, path: Path): unknown[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) this.fail(path, `expected a list, got ${describe(value)}`);
    return value;
  }

  string(value: unknown, path: Path): string {
    this.required(value, path);
    if (typeof value !== 'string' || value === '') {
      this.fail(path, `expected a non-empty string, got ${describe(value)}`);
    }
    return value;
  }

  name(value: unknown, path: Path): string {
    const text = this.string(value, path);
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(text)) {
      this.fail(path, `${JSON.stringify(text)} is not a name (letters, digits, '_', '-', '.')`);
    }
    return text;
  }

  number(value: unknown, path: Path, min: number, max: number): number {
    this.required(value, path);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      this.fail(path, `expected a number in ${min}..${max}, got ${describe(value)}`);
    }
    return value;
  }

  integer(value: unknown, path: Path, min: number, max: number): number {
    const n = this.number(value, path, min, max);
    if (!Number.isInteger(n)) this.fail(path, `expected an integer, got ${n}`);
    return n;
  }

  boolean(value: unknown, path: Path): boolean {
    this.required(value, path);
    if (typeof value !== 'boolean')
      this.fail(path, `expected true or false, got ${describe(value)}`);
    return value;
  }

  /** Seconds (fractions allowed, to the millisecond) as whole milliseconds. */
  seconds(value: unknown, path: Path): number {
    const seconds = this.number(value, path, 0, 31_536_000);
    const ms = Math.round(seconds * 1000);
    if (Math.abs(seconds * 1000 - ms) > 1e-6) {
      this.fail(path, `${seconds} is finer than a millisecond`);
    }
    return ms;
  }

  ipv4(value: unknown, path: Path): Ipv4 {
    const text = this.string(value, path);
    const ip = parseIpv4OrUndefined(text);
    if (ip === undefined) this.fail(path, `${JSON.stringify(text)} is not an IPv4 address`);
    return ip;
  }

  cidr(value: unknown, path: Path, requirePrefix: boolean): string {
    const text = this.string(value, path);
    if (parseCidrOrUndefined(text) === undefined || (requirePrefix && !text.includes('/'))) {
      this.fail(
        path,
        `${JSON.stringify(text)} is not an IPv4 address with a prefix length, like "192.0.2.1/24"`,
      );
    }
    return text;
  }

  mac(value: unknown, path: Path): Mac {
    const text = this.string(value, path);
    const mac = parseMacOrUndefined(text);
    if (mac === undefined) {
      this.fail(path, `${JSON.stringify(text)} is not a MAC address like "02:00:00:00:00:01"`);
    }
    return mac;
  }

  oneOf<T extends string>(value: unknown, path: Path, choices: readonly T[]): T {
    this.required(value, path);
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
      this.fail(path, `expected one of ${choices.join(', ')}, got ${describe(value)}`);
    }
    return value as T;
  }
}

/** A short description of a parsed value, for messages. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

/** Parses and checks scenario text (JSON or YAML: JSON is read as the YAML it also is). */
export function parseScenario(text: string, fileName = 'scenario'): Scenario {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const firstError = doc.errors[0];
  if (firstError) {
    const { line, col } = lineCounter.linePos(firstError.pos[0]);
    const reason = firstError.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new ScenarioError('EPARSE', `${fileName}:${line}:${col}: ${reason}`);
  }
  const locate: Locator = (path) => {
    // The deepest node of the path that exists: a missing field is reported at its parent.
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as Node | undefined;
      const offset = n === 0 ? doc.contents?.range?.[0] : node?.range?.[0];
      if (offset !== undefined && (n === 0 || node !== undefined)) {
        const { line, col } = lineCounter.linePos(offset);
        return `${fileName}:${line}:${col}: `;
      }
    }
    return `${fileName}: `;
  };
  return checkScenario(doc.toJS({ maxAliasCount: 1000 }), locate);
}

/** Reads and checks a scenario file; throws ScenarioError (EIO when it cannot be read). */
export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    const why =
      reason === 'ENOENT'
        ? 'no such file'
        : reason === 'EISDIR'
          ? 'is a directory'
          : reason === 'EACCES'
            ? 'permission denied'
            : `cannot read (${reason})`;
    throw new ScenarioError('EIO', `${path}: ${why}`);
  }
  return parseScenario(text, path);
}

/** Checks a parsed scenario value (from JSON, YAML or code). */
export function checkScenario(value: unknown, locate: Locator = () => 'scenario: '): Scenario {
  const c = new Checker(locate);
  if (value === undefined || value === null) c.fail([], 'the scenario is empty');
  const top = c.object(value, [], ['seed', 'segments', 'hosts', 'stations', 'timeline', 'end']);
  const seed = top.seed === undefined ? 1 : c.integer(top.seed, ['seed'], 0, 0xffff_ffff);

  const segments: SegmentSpec[] = [];
  const segmentNames = new Set<string>();
  c.list(top.segments, ['segments']).forEach((raw, i) => {
    const path = ['segments', i];
    const s = c.object(raw, path, ['name', 'loss', 'delayMs']);
    const name = c.name(s.name, [...path, 'name']);
    if (segmentNames.has(name)) c.fail([...path, 'name'], `segment ${name} is declared twice`);
    segmentNames.add(name);
    const loss = s.loss === undefined ? 0 : c.number(s.loss, [...path, 'loss'], 0, 1);
    const delayMs =
      s.delayMs === undefined ? 0 : c.integer(s.delayMs, [...path, 'delayMs'], 0, 3_600_000);
    segments.push({ name, loss, delayMs });
  });
  if (segments.length === 0) c.fail(['segments'], 'declare at least one segment');

  const names = new Set<string>();
  const hosts: HostSpec[] = [];
  c.list(top.hosts, ['hosts']).forEach((raw, i) => {
    const host = checkHost(c, raw, ['hosts', i], segmentNames);
    if (names.has(host.name)) c.fail(['hosts', i, 'name'], `${host.name} is declared twice`);
    names.add(host.name);
    hosts.push(host);
  });

  const stations: StationSpec[] = [];
  c.list(top.stations, ['stations']).forEach((raw, i) => {
    const path = ['stations', i];
    const s = c.object(raw, path, ['name', 'segment', 'mac']);
    const name = c.name(s.name, [...path, 'name']);
    if (names.has(name)) c.fail([...path, 'name'], `${name} is already a host or station`);
    names.add(name);
    const segment = c.string(s.segment, [...path, 'segment']);
    if (!segmentNames.has(segment)) c.fail([...path, 'segment'], `no segment named ${segment}`);
    const mac = s.mac === undefined ? undefined : c.mac(s.mac, [...path, 'mac']);
    stations.push({ name, segment, mac });
  });

  const world: WorldNames = {
    segments: segmentNames,
    hosts: new Map(hosts.map((h) => [h.name, h])),
    stations: new Map(stations.map((s) => [s.name, s])),
  };
  const timeline: TimelineStep[] = [];
  c.list(top.timeline, ['timeline']).forEach((raw, i) => {
    timeline.push(...checkStep(c, raw, ['timeline', i], world));
  });
  // A stable sort: steps at the same time keep their order in the file.
  timeline.sort((a, b) => a.atMs - b.atMs);
  const lastMs = timeline.at(-1)?.atMs ?? 0;
  let endMs = lastMs + 1000;
  if (top.end !== undefined) {
    endMs = c.seconds(top.end, ['end']);
    if (endMs < lastMs) {
      c.fail(['end'], `${endMs / 1000} is before the last timeline step (at ${lastMs / 1000})`);
    }
  }
  return { seed, segments, hosts, stations, timeline, endMs };
}

const INTERFACE_FIELDS = [
  'name',
  'kind',
  'mac',
  'segment',
  'addresses',
  'flags',
  'up',
  'bridge',
  'carp',
] as const;

function checkHost(c: Checker, raw: unknown, path: Path, segments: Set<string>): HostSpec {
  const h = c.object(raw, path, ['name', 'sysctl', 'interfaces', 'routes']);
  const name = c.name(h.name, [...path, 'name']);
  const sysctl: Record<string, number> = {};
  if (h.sysctl !== undefined) {
    const table = c.object(h.sysctl, [...path, 'sysctl'], undefined);
    for (const [knob, value] of Object.entries(table)) {
      const at = [...path, 'sysctl', knob];
      const key = checkSysctlName(c, knob, at);
      sysctl[key] = checkSysctlValue(c, key, value, at);
    }
  }

  const interfaces: HostInterfaceSpec[] = [];
  const kinds = new Map<string, string>();
  const addresses: { ifName: string; cidr: string }[] = [];
  const seen = new Set<string>();
  c.list(h.interfaces, [...path, 'interfaces']).forEach((rawIf, j) => {
    const at = [...path, 'interfaces', j];
    const f = c.object(rawIf, at, INTERFACE_FIELDS);
    const ifName = c.name(f.name, [...at, 'name']);
    if (kinds.has(ifName)) c.fail([...at, 'name'], `${name} already has an interface ${ifName}`);
    const kind =
      f.kind === undefined
        ? f.carp === undefined
          ? 'ether'
          : 'carp'
        : c.oneOf(f.kind, [...at, 'kind'], ['ether', 'bridge', 'carp'] as const);
    const spec: HostInterfaceSpec = { name: ifName, kind };
    if (kind === 'carp') {
      if (f.mac !== undefined) {
        c.fail([...at, 'mac'], 'a CARP interface has the virtual MAC 00:00:5e:00:01:<vhid>');
      }
      if (f.carp === undefined) c.fail(at, 'a CARP interface needs carp: {parent, vhid}');
      const cp = c.object(f.carp, [...at, 'carp'], ['parent', 'vhid', 'state']);
      const parent = c.string(cp.parent, [...at, 'carp', 'parent']);
      if (kinds.get(parent) !== 'ether') {
        c.fail(
          [...at, 'carp', 'parent'],
          `${parent} must be an Ethernet interface declared before ${ifName}`,
        );
      }
      const vhid = c.integer(cp.vhid, [...at, 'carp', 'vhid'], 1, 255);
      const state =
        cp.state === undefined
          ? 'master'
          : c.oneOf(cp.state, [...at, 'carp', 'state'], ['master', 'backup'] as const);
      spec.carp = { parent, vhid, state };
    } else {
      if (f.carp !== undefined) c.fail([...at, 'carp'], 'only a CARP interface has carp');
      spec.mac = c.mac(f.mac, [...at, 'mac']);
    }
    if (f.segment !== undefined) {
      const segment = c.string(f.segment, [...at, 'segment']);
      if (kind !== 'ether') {
        c.fail([...at, 'segment'], `a ${kind} interface is not plugged into a segment`);
      }
      if (!segments.has(segment)) c.fail([...at, 'segment'], `no segment named ${segment}`);
      if (seen.has(segment)) {
        c.fail([...at, 'segment'], `${name} already has an interface on ${segment}`);
      }
      seen.add(segment);
      spec.segment = segment;
    }
    c.list(f.flags, [...at, 'flags']).forEach((flag, k) => {
      const which = c.oneOf(flag, [...at, 'flags', k], ['noarp', 'staticarp'] as const);
      spec[which] = true;
    });
    if (f.up !== undefined) spec.up = c.boolean(f.up, [...at, 'up']);
    if (f.bridge !== undefined) {
      const bridge = c.string(f.bridge, [...at, 'bridge']);
      if (kinds.get(bridge) !== 'bridge') {
        c.fail([...at, 'bridge'], `${bridge} must be a bridge interface declared before ${ifName}`);
      }
      if (kind !== 'ether') c.fail([...at, 'bridge'], 'only an Ethernet port joins a bridge');
      spec.bridge = bridge;
    }
    const own = new Set<string>();
    c.list(f.addresses, [...at, 'addresses']).forEach((a, k) => {
      const cidr = c.cidr(a, [...at, 'addresses', k], true);
      const address = cidr.split('/')[0]!;
      if (own.has(address)) c.fail([...at, 'addresses', k], `${address} is listed twice`);
      own.add(address);
      addresses.push({ ifName, cidr });
    });
    kinds.set(ifName, kind);
    interfaces.push(spec);
  });
  if (interfaces.length === 0) c.fail([...path, 'interfaces'], `${name} needs an interface`);

  const routes: RouteSpec[] = [];
  c.list(h.routes, [...path, 'routes']).forEach((rawRoute, j) => {
    const at = [...path, 'routes', j];
    const r = c.object(rawRoute, at, ['to', 'via', 'interface']);
    const prefix = c.cidr(r.to, [...at, 'to'], false);
    const key = prefixKey(prefix);
    if (routes.some((route) => prefixKey(route.prefix) === key)) {
      c.fail([...at, 'to'], `a route to ${key} is already listed`);
    }
    routes.push({ prefix, next: checkRouteNext(c, r, at, kinds) });
  });
  return { name, sysctl, interfaces, addresses, routes };
}

/** A prefix in its canonical form ("192.0.2.7/24" is 192.0.2.0/24), to spot duplicates. */
function prefixKey(text: string): string {
  const { address, prefixLength } = parseCidr(text);
  return formatCidr({ address: (address & prefixMask(prefixLength)) >>> 0, prefixLength });
}

/** The `via` or `interface` of a route: exactly one of them. */
function checkRouteNext(
  c: Checker,
  r: Record<string, unknown>,
  path: Path,
  interfaces: ReadonlyMap<string, string>,
): RouteNext {
  if ((r.via === undefined) === (r.interface === undefined)) {
    c.fail(path, 'a route needs exactly one of via (a gateway) or interface');
  }
  if (r.via !== undefined) {
    c.ipv4(r.via, [...path, 'via']);
    return { kind: 'gateway', via: r.via as string };
  }
  const ifName = c.string(r.interface, [...path, 'interface']);
  if (!interfaces.has(ifName)) c.fail([...path, 'interface'], `no interface named ${ifName}`);
  return { kind: 'interface', ifName };
}

/** A sysctl name, short ("max_age") or full ("net.link.ether.inet.max_age"); the short one. */
function checkSysctlName(c: Checker, name: string, path: Path): keyof ArpConfig {
  try {
    return configKeyOf(name);
  } catch {
    return c.fail(path, `unknown sysctl ${name} (known: ${CONFIG_KEYS.join(', ')})`);
  }
}

/** A sysctl value within the knob's range. */
function checkSysctlValue(c: Checker, key: keyof ArpConfig, value: unknown, path: Path): number {
  const { min, max } = CONFIG_SPEC[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    c.fail(
      path,
      `${SYSCTL_PREFIX}${key} takes an integer in ${min}..${max}, got ${describe(value)}`,
    );
  }
  return value;
}

interface WorldNames {
  readonly segments: ReadonlySet<string>;
  readonly hosts: ReadonlyMap<string, HostSpec>;
  readonly stations: ReadonlyMap<string, StationSpec>;
}

function checkHostName(c: Checker, value: unknown, path: Path, world: WorldNames): HostSpec {
  const name = c.string(value, path);
  const host = world.hosts.get(name);
  if (!host) {
    const known = [...world.hosts.keys()].join(', ') || 'none';
    c.fail(path, `no host named ${name} (hosts: ${known})`);
  }
  return host;
}

function checkInterfaceName(c: Checker, value: unknown, path: Path, host: HostSpec): string {
  const name = c.string(value, path);
  if (!host.interfaces.some((i) => i.name === name)) {
    c.fail(path, `${host.name} has no interface ${name}`);
  }
  return name;
}

/** One timeline item; a ping with a count becomes several steps. */
function checkStep(c: Checker, raw: unknown, path: Path, world: WorldNames): TimelineStep[] {
  const item = c.object(raw, path, ['at', ...ACTION_NAMES]);
  if (item.at === undefined) c.fail([...path, 'at'], 'every step needs at: <seconds>');
  const atMs = c.seconds(item.at, [...path, 'at']);
  const present = ACTION_NAMES.filter((name) => item[name] !== undefined);
  if (present.length !== 1) {
    c.fail(
      path,
      present.length === 0
        ? `a step needs one action (${ACTION_NAMES.join(', ')})`
        : `a step has one action, got ${present.join(' and ')}`,
    );
  }
  const kind = present[0]!;
  const at = [...path, kind];
  const body = item[kind];
  switch (kind) {
    case 'ping': {
      const p = c.object(body, at, ['from', 'to', 'count', 'interval']);
      const host = checkHostName(c, p.from, [...at, 'from'], world).name;
      const destination = c.ipv4(p.to, [...at, 'to']);
      const count = p.count === undefined ? 1 : c.integer(p.count, [...at, 'count'], 1, 10_000);
      const intervalMs =
        p.interval === undefined ? 1000 : c.seconds(p.interval, [...at, 'interval']);
      const steps: TimelineStep[] = [];
      for (let n = 0; n < count; n++) {
        steps.push({ atMs: atMs + n * intervalMs, action: { kind, host, destination } });
      }
      return steps;
    }
    case 'inject':
      return [{ atMs, action: checkInject(c, body, at, world) }];
    case 'arp': {
      const a = c.object(body, at, ['host', 'command']);
      const host = checkHostName(c, a.host, [...at, 'host'], world).name;
      const words = c.string(a.command, [...at, 'command']).trim();
      const parsed = parseArpCommand(words.split(/\s+/));
      if (typeof parsed === 'string') c.fail([...at, 'command'], parsed);
      return [{ atMs, action: { kind, host, words, command: parsed } }];
    }
    case 'address': {
      const a = c.object(body, at, ['host', 'interface', 'add', 'remove']);
      const host = checkHostName(c, a.host, [...at, 'host'], world);
      const ifName = checkInterfaceName(c, a.interface, [...at, 'interface'], host);
      if ((a.add === undefined) === (a.remove === undefined)) {
        c.fail(at, 'give exactly one of add: "192.0.2.7/24" or remove: "192.0.2.7"');
      }
      const add = a.add !== undefined;
      const field = add ? 'add' : 'remove';
      const text = c.cidr(a[field], [...at, field], add);
      const address = add ? text : text.split('/')[0]!;
      return [{ atMs, action: { kind, host: host.name, ifName, add, address } }];
    }
    case 'link': {
      const l = c.object(body, at, ['host', 'interface', 'up']);
      const host = checkHostName(c, l.host, [...at, 'host'], world);
      const ifName = checkInterfaceName(c, l.interface, [...at, 'interface'], host);
      const up = c.boolean(l.up, [...at, 'up']);
      return [{ atMs, action: { kind, host: host.name, ifName, up } }];
    }
    case 'sysctl': {
      const s = c.object(body, at, ['host', 'name', 'value']);
      const host = checkHostName(c, s.host, [...at, 'host'], world).name;
      const key = checkSysctlName(c, c.string(s.name, [...at, 'name']), [...at, 'name']);
      const value = checkSysctlValue(c, key, s.value, [...at, 'value']);
      return [{ atMs, action: { kind, host, name: key, value } }];
    }
    case 'carp': {
      const s = c.object(body, at, ['host', 'interface', 'state']);
      const host = checkHostName(c, s.host, [...at, 'host'], world);
      const ifName = checkInterfaceName(c, s.interface, [...at, 'interface'], host);
      if (host.interfaces.find((i) => i.name === ifName)?.kind !== 'carp') {
        c.fail([...at, 'interface'], `${ifName} is not a CARP interface`);
      }
      const state = c.oneOf(s.state, [...at, 'state'], ['master', 'backup'] as const);
      return [{ atMs, action: { kind, host: host.name, ifName, state } }];
    }
    case 'route': {
      const r = c.object(body, at, ['host', 'add', 'remove', 'via', 'interface']);
      const host = checkHostName(c, r.host, [...at, 'host'], world);
      if ((r.add === undefined) === (r.remove === undefined)) {
        c.fail(at, 'give exactly one of add: <prefix> or remove: <prefix>');
      }
      const add = r.add !== undefined;
      const prefix = c.cidr(add ? r.add : r.remove, [...at, add ? 'add' : 'remove'], false);
      if (!add && (r.via !== undefined || r.interface !== undefined)) {
        c.fail(at, 'a route is removed by its prefix alone');
      }
      const kinds = new Map(host.interfaces.map((i) => [i.name, i.kind ?? 'ether']));
      const next = add ? checkRouteNext(c, r, at, kinds) : undefined;
      return [{ atMs, action: { kind, host: host.name, prefix, next } }];
    }
    case 'show': {
      const s = c.object(body, at, ['host']);
      const host =
        s.host === undefined ? undefined : checkHostName(c, s.host, [...at, 'host'], world).name;
      return [{ atMs, action: { kind, host } }];
    }
    case 'stats': {
      const s = c.object(body, at, ['host']);
      const host = checkHostName(c, s.host, [...at, 'host'], world).name;
      return [{ atMs, action: { kind, host } }];
    }
    case 'note':
      return [{ atMs, action: { kind, text: c.string(body, at) } }];
  }
}

/** An `inject` action: a frame described field by field, or raw hex. */
function checkInject(c: Checker, body: unknown, at: Path, world: WorldNames): Action {
  const i = c.object(body, at, ['from', 'segment', 'frame', 'hex']);
  const stationName = c.string(i.from, [...at, 'from']);
  const station = world.stations.get(stationName);
  if (!station) {
    const known = [...world.stations.keys()].join(', ') || 'none';
    c.fail([...at, 'from'], `no station named ${stationName} (stations: ${known})`);
  }
  let segment = station.segment;
  if (i.segment !== undefined) {
    segment = c.string(i.segment, [...at, 'segment']);
    if (!world.segments.has(segment)) c.fail([...at, 'segment'], `no segment named ${segment}`);
  }
  if ((i.frame === undefined) === (i.hex === undefined)) {
    c.fail(at, 'give exactly one of frame: {op, ...} or hex: "..."');
  }
  if (i.hex !== undefined) {
    const text = typeof i.hex === 'string' ? i.hex.replace(/[\s:.-]/g, '') : undefined;
    if (text === undefined || !/^([0-9a-fA-F]{2})*$/.test(text)) {
      c.fail([...at, 'hex'], 'expected pairs of hex digits, like "ffffffffffff0200..."');
    }
    const frame = new Uint8Array(text.length / 2);
    for (let k = 0; k < frame.length; k++)
      frame[k] = Number.parseInt(text.slice(2 * k, 2 * k + 2), 16);
    return { kind: 'inject', segment, station: station.name, frame };
  }
  const path = [...at, 'frame'];
  const f = c.object(i.frame, path, [
    'op',
    'sha',
    'spa',
    'tha',
    'tpa',
    'ethSrc',
    'ethDst',
    'hardwareType',
  ]);
  let operation: number;
  if (f.op === 'request') operation = ArpOp.Request;
  else if (f.op === 'reply') operation = ArpOp.Reply;
  else if (typeof f.op === 'number') operation = c.integer(f.op, [...path, 'op'], 0, 0xffff);
  else c.fail([...path, 'op'], `expected request, reply or a number, got ${describe(f.op)}`);
  let senderMac = station.mac;
  if (f.sha !== undefined) senderMac = c.mac(f.sha, [...path, 'sha']);
  if (senderMac === undefined) {
    c.fail([...path, 'sha'], `give sha, or a mac to station ${station.name}`);
  }
  const senderIp = c.ipv4(f.spa, [...path, 'spa']);
  const targetIp = c.ipv4(f.tpa, [...path, 'tpa']);
  const targetMac = f.tha === undefined ? MAC_ZERO : c.mac(f.tha, [...path, 'tha']);
  const hardwareType =
    f.hardwareType === undefined
      ? ArpHardware.Ethernet
      : c.integer(f.hardwareType, [...path, 'hardwareType'], 0, 0xffff);
  const source = f.ethSrc === undefined ? senderMac : c.mac(f.ethSrc, [...path, 'ethSrc']);
  // A reply goes to the address it answers (in_arpinput sends it to ar_tha); the rest broadcast.
  const defaultDestination =
    operation === ArpOp.Reply && targetMac !== MAC_ZERO ? targetMac : MAC_BROADCAST;
  const destination =
    f.ethDst === undefined ? defaultDestination : c.mac(f.ethDst, [...path, 'ethDst']);
  const frame = new Uint8Array(ETHERNET_HEADER_LEN + ARP_ETHER_IPV4_LEN);
  emitEthernetHeader(frame, 0, destination, source, EtherType.Arp);
  emitArp(frame, ETHERNET_HEADER_LEN, {
    hardwareType,
    operation,
    senderMac,
    senderIp,
    targetMac,
    targetIp,
  });
  return { kind: 'inject', segment, station: station.name, frame };
}

/**
 * Parses arp(8) words: `-s|-S host mac [temp] [pub [only]]`, `-d host [pub]`, `-d -a`, `-a`.
 * A string is the error.
 */
export function parseArpCommand(words: readonly string[]): ArpCommand | string {
  const [flag, ...rest] = words;
  switch (flag) {
    case '-s':
    case '-S': {
      const spec = parseSetWords(rest);
      if (typeof spec === 'string') return spec;
      if (flag === '-S') spec.replace = true;
      return { kind: 'set', spec };
    }
    case '-d': {
      if (rest.length === 1 && rest[0] === '-a') return { kind: 'flush' };
      const [hostText, ...more] = rest;
      if (hostText === undefined) return 'expected: -d host [pub] or -d -a';
      const ip = parseIpv4OrUndefined(hostText);
      if (ip === undefined) return `${hostText}: not an IPv4 address`;
      if (more.length > 1 || (more.length === 1 && more[0] !== 'pub')) {
        return `unexpected '${more.join(' ')}' after -d ${hostText} (only 'pub' may follow)`;
      }
      return { kind: 'delete', ip, pub: more.length === 1 };
    }
    case '-a':
      if (rest.length === 1 && rest[0] === '-d') return { kind: 'flush' };
      if (rest.length > 0) return `unexpected '${rest.join(' ')}' after -a`;
      return { kind: 'list' };
    default:
      return 'expected -s, -S, -d or -a (arp(8) words, like "-s 192.0.2.9 02:00:00:00:00:09 pub")';
  }
}
