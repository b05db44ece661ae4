/**
 * The daemon's configuration file (TOML): sysctl knobs by their full names, interfaces with
 * their links, static entries with arp -s meaning, and static routes.
 *
 * A file is checked completely before anything starts: every key's type and range, the
 * references between sections (a static entry's interface, a CARP parent, a bridge), and
 * then a dry run that builds a throwaway Engine from it, so that whatever the engine would
 * refuse (a duplicate address, a static entry no interface covers) is refused here, with the
 * key at fault. Each error names the file, the key path (`interface[1].link.local`, indices
 * from 0) and the reason.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import {
  type ArpConfig,
  CONFIG_KEYS,
  isConfigKey,
  SYSCTL_PREFIX,
  validateConfigValue,
} from '../core/config.ts';
import { Engine } from '../core/engine.ts';
import { NetarpError } from '../core/errors.ts';
import type { CarpState, InterfaceKind, InterfaceSpec } from '../core/iface.ts';
import { VXLAN_IO_CHOICES, type VxlanIoChoice } from '../link/vxlan-io.ts';
import {
  formatIpv4,
  formatMac,
  type Ipv4,
  type Ipv4Cidr,
  isUnicastMac,
  isValidIpv4,
  type Mac,
  parseCidrOrUndefined,
  parseIpv4OrUndefined,
  parseMacOrUndefined,
} from '../wire/addr.ts';
import { VXLAN_MAX_VNI, VXLAN_UDP_PORT } from '../wire/vxlan.ts';

/** A config file the daemon refuses: which file, which key (or line), and why. */
export class ConfigError extends Error {
  /** Machine-readable: every config problem has this code. */
  readonly code = 'ECONFIG';

  constructor(
    readonly file: string,
    /** The key path (`interface[1].link.local`) or the place (`line 3, column 7`). */
    readonly location: string | undefined,
    readonly reason: string,
  ) {
    super(location === undefined ? `${file}: ${reason}` : `${file}: ${location}: ${reason}`);
    this.name = 'ConfigError';
  }
}

/** A UDP endpoint of a VXLAN link. */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/** How an interface reaches its Ethernet segment. */
export type LinkSpec =
  | {
      readonly type: 'vxlan';
      readonly local: Endpoint;
      readonly remotes: readonly Endpoint[];
      readonly vni: number;
      /** The link's I/O backend (links.md): "auto" unless the file says. */
      readonly io: VxlanIoChoice;
    }
  | { readonly type: 'tap'; readonly device: string }
  | { readonly type: 'packet'; readonly device: string };

/** The link types a config may name. */
export const LINK_TYPES = ['vxlan', 'tap', 'packet'] as const;

/** One `[[interface]]`. */
export interface InterfaceConfig {
  readonly name: string;
  readonly kind: InterfaceKind;
  /** Undefined for CARP, whose MAC is derived from the vhid. */
  readonly mac: Mac | undefined;
  readonly addresses: readonly Ipv4Cidr[];
  readonly noarp: boolean;
  readonly staticarp: boolean;
  /**
   * Whether the learned entries of the interface are deleted when its link loses carrier or
   * its device goes away (Linux's arp_evict_nocarrier); by default they are kept, as BSD does.
   */
  readonly evictNoCarrier: boolean;
  /** Required for Ethernet interfaces; bridges and CARP interfaces have none. */
  readonly link: LinkSpec | undefined;
  /** The capture file, resolved against the config file's directory. */
  readonly pcap: string | undefined;
  /** The bridge this interface is a member of. */
  readonly bridge: string | undefined;
  readonly carp:
    | { readonly parent: string; readonly vhid: number; readonly state: CarpState }
    | undefined;
}

/** One `[[static]]`: an arp -s entry. */
export interface StaticConfig {
  readonly ip: Ipv4;
  readonly mac: Mac;
  readonly ifName: string | undefined;
  readonly temp: boolean;
  readonly pub: boolean;
  readonly only: boolean;
}

/** One `[[route]]`: a prefix via a gateway or out an interface. */
export interface RouteConfig {
  readonly to: Ipv4Cidr;
  readonly via: Ipv4 | undefined;
  readonly ifName: string | undefined;
}

/** A checked configuration. */
export interface DaemonConfig {
  /** The file it came from, as given. */
  readonly file: string;
  /** Knobs set by the file, by short name. */
  readonly sysctl: ReadonlyMap<keyof ArpConfig, number>;
  readonly interfaces: readonly InterfaceConfig[];
  readonly statics: readonly StaticConfig[];
  readonly routes: readonly RouteConfig[];
  /** The state file (`state = "..."`), resolved against the file's directory, if given. */
  readonly state: string | undefined;
}

/** The key a static entry is known by: its address, and whether it is the proxy-only one. */
export function staticKey(entry: { ip: Ipv4; pub: boolean; only: boolean }): string {
  return `${formatIpv4(entry.ip)}${entry.pub && entry.only ? ' pub only' : ''}`;
}

/** Linux's IFNAMSIZ less the terminating NUL: device and interface names fit in 15 bytes. */
const MAX_NAME_LENGTH = 15;
const NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;

// --- typed reading with key paths ---------------------------------------------------------

type Table = Readonly<Record<string, unknown>>;

/** Reads values out of the parsed TOML, failing with the file and the key path. */
class Reader {
  constructor(readonly file: string) {}

  /** Throws the ConfigError for `path`. */
  fail(path: string, reason: string): never {
    throw new ConfigError(this.file, path, reason);
  }

  /** `value` as a table with only the `known` keys. */
  table(value: unknown, path: string, known: readonly string[]): Table {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || isDate(value)) {
      this.fail(path, `expected a table, got ${describe(value)}`);
    }
    const table = value as Table;
    for (const key of Object.keys(table)) {
      if (!known.includes(key)) {
        this.fail(join(path, key), `unknown key (known: ${known.join(', ')})`);
      }
    }
    return table;
  }

  /** `value` as an array of tables (a `[[name]]` section), empty when absent. */
  tables(value: unknown, path: string): unknown[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
      this.fail(path, `expected an array of tables ([[${path}]]), got ${describe(value)}`);
    }
    return value;
  }

  /** A non-empty string at `key`; undefined when absent and not required. */
  string(table: Table, key: string, path: string, required: true): string;
  string(table: Table, key: string, path: string, required: false): string | undefined;
  string(table: Table, key: string, path: string, required: boolean): string | undefined {
    const value = table[key];
    if (value === undefined) {
      if (required) this.fail(join(path, key), 'is required');
      return undefined;
    }
    if (typeof value !== 'string' || value === '') {
      this.fail(join(path, key), `expected a non-empty string, got ${describe(value)}`);
    }
    return value;
  }

  /** A boolean at `key`; false when absent. */
  boolean(table: Table, key: string, path: string): boolean {
    const value = table[key];
    if (value === undefined) return false;
    if (typeof value !== 'boolean') {
      this.fail(join(path, key), `expected true or false, got ${describe(value)}`);
    }
    return value;
  }

  /** `value` as an integer in min..max. */
  integer(value: unknown, path: string, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(path, `expected an integer in ${min}..${max}, got ${describe(value)}`);
    }
    return value;
  }

  /** An array of strings at `key`; empty when absent. */
  strings(table: Table, key: string, path: string): string[] {
    const value = table[key];
    if (value === undefined) return [];
    const at = join(path, key);
    if (!Array.isArray(value))
      this.fail(at, `expected an array of strings, got ${describe(value)}`);
    value.forEach((item, i) => {
      if (typeof item !== 'string') {
        this.fail(`${at}[${i}]`, `expected a string, got ${describe(item)}`);
      }
    });
    return value as string[];
  }

  /** An interface or device name at `key` (IFNAMSIZ-sized). */
  name(table: Table, key: string, path: string, required: true): string;
  name(table: Table, key: string, path: string, required: false): string | undefined;
  name(table: Table, key: string, path: string, required: boolean): string | undefined {
    const value = required
      ? this.string(table, key, path, true)
      : this.string(table, key, path, false);
    if (value === undefined) return undefined;
    if (value.length > MAX_NAME_LENGTH || !NAME_PATTERN.test(value)) {
      this.fail(
        join(path, key),
        `${JSON.stringify(value)} is not a name of 1..${MAX_NAME_LENGTH} letters, digits, '_', '.' or '-'`,
      );
    }
    return value;
  }

  /** A dotted IPv4 address at `key`. */
  ipv4(table: Table, key: string, path: string, required: boolean): Ipv4 | undefined {
    const text = required
      ? this.string(table, key, path, true)
      : this.string(table, key, path, false);
    if (text === undefined) return undefined;
    const ip = parseIpv4OrUndefined(text);
    if (ip === undefined)
      this.fail(join(path, key), `${JSON.stringify(text)} is not an IPv4 address`);
    return ip;
  }

  /** A required MAC at `key`. */
  mac(table: Table, key: string, path: string): Mac {
    const text = this.string(table, key, path, true);
    const mac = parseMacOrUndefined(text);
    if (mac === undefined) {
      this.fail(
        join(path, key),
        `${JSON.stringify(text)} is not an Ethernet address (xx:xx:xx:xx:xx:xx)`,
      );
    }
    return mac;
  }

  /** "ADDRESS/LENGTH": the length is required, a forgotten one must not silently mean /32. */
  cidr(text: string, path: string): Ipv4Cidr {
    const cidr = text.includes('/') ? parseCidrOrUndefined(text) : undefined;
    if (cidr === undefined) {
      this.fail(
        path,
        `${JSON.stringify(text)} is not an IPv4 address with a prefix length (192.0.2.2/24)`,
      );
    }
    return cidr;
  }

  /** "ADDRESS[:PORT]" with the port in min..65535 (4789 when omitted). */
  endpoint(text: unknown, path: string, minPort: number): Endpoint {
    if (typeof text !== 'string') {
      this.fail(path, `expected "ADDRESS:PORT", got ${describe(text)}`);
    }
    const [address, port, extra] = text.split(':');
    if (address === undefined || !isValidIpv4(address) || extra !== undefined) {
      this.fail(path, `${JSON.stringify(text)} is not "ADDRESS:PORT" with a dotted IPv4 address`);
    }
    if (port === undefined) return { address, port: VXLAN_UDP_PORT };
    if (!/^\d{1,5}$/.test(port) || Number(port) < minPort || Number(port) > 0xffff) {
      this.fail(path, `port ${JSON.stringify(port)} is not an integer in ${minPort}..65535`);
    }
    return { address, port: Number(port) };
  }
}

function join(path: string, key: string): string {
  const part = /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
  return path === '' ? part : `${path}.${part}`;
}

function isDate(value: object): boolean {
  return value instanceof Date;
}

/** A short description of a TOML value for error messages. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return isDate(value) ? 'a date' : 'a table';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

// --- sections -----------------------------------------------------------------------------

const TOP_KEYS = ['state', 'sysctl', 'interface', 'static', 'route'];
const INTERFACE_KEYS = [
  'name',
  'mac',
  'addresses',
  'flags',
  'link',
  'pcap',
  'kind',
  'bridge',
  'carp',
  'evict_nocarrier',
];
const FLAGS = ['noarp', 'staticarp'];

function readSysctl(reader: Reader, value: unknown): Map<keyof ArpConfig, number> {
  const result = new Map<keyof ArpConfig, number>();
  if (value === undefined) return result;
  const known = CONFIG_KEYS.map((key) => SYSCTL_PREFIX + key);
  const table = reader.table(value, 'sysctl', [...known, ...CONFIG_KEYS]);
  for (const [name, raw] of Object.entries(table)) {
    const path = join('sysctl', name);
    if (isConfigKey(name)) reader.fail(path, `use the full name "${SYSCTL_PREFIX}${name}"`);
    const key = name.slice(SYSCTL_PREFIX.length) as keyof ArpConfig;
    try {
      result.set(key, validateConfigValue(key, raw));
    } catch (error) {
      if (!(error instanceof NetarpError)) throw error;
      const range = error.message.slice(error.message.indexOf(': ') + 2);
      reader.fail(path, range);
    }
  }
  return result;
}

function readLink(reader: Reader, value: unknown, path: string): LinkSpec {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    reader.fail(path, `expected a table like { type = "vxlan", ... }, got ${describe(value)}`);
  }
  const type = (value as Table).type;
  switch (type) {
    case 'vxlan': {
      const table = reader.table(value, path, ['type', 'local', 'remote', 'vni', 'io']);
      if (table.local === undefined) reader.fail(join(path, 'local'), 'is required');
      const local = reader.endpoint(table.local, join(path, 'local'), 0);
      const remote = table.remote;
      const remotePath = join(path, 'remote');
      if (remote === undefined) reader.fail(remotePath, 'is required');
      if (!Array.isArray(remote) || remote.length === 0) {
        reader.fail(remotePath, 'expected a non-empty array of "ADDRESS:PORT" strings');
      }
      const remotes = remote.map((r, i) => reader.endpoint(r, `${remotePath}[${i}]`, 1));
      if (table.vni === undefined) reader.fail(join(path, 'vni'), 'is required');
      const vni = reader.integer(table.vni, join(path, 'vni'), 0, VXLAN_MAX_VNI);
      const ioText = reader.string(table, 'io', path, false) ?? 'auto';
      const io = VXLAN_IO_CHOICES.find((choice) => choice === ioText);
      if (io === undefined) {
        reader.fail(
          join(path, 'io'),
          `expected ${VXLAN_IO_CHOICES.map((c) => `"${c}"`).join(', ')}, got "${ioText}"`,
        );
      }
      return { type, local, remotes, vni, io };
    }
    case 'tap':
    case 'packet': {
      const table = reader.table(value, path, ['type', 'device']);
      return { type, device: reader.name(table, 'device', path, true) };
    }
    case undefined:
      return reader.fail(join(path, 'type'), `is required (one of ${LINK_TYPES.join(', ')})`);
    default:
      return reader.fail(
        join(path, 'type'),
        `unknown link type ${describe(type)} (one of ${LINK_TYPES.join(', ')})`,
      );
  }
}

function readInterface(
  reader: Reader,
  value: unknown,
  path: string,
  baseDir: string,
  earlier: readonly InterfaceConfig[],
): InterfaceConfig {
  const table = reader.table(value, path, INTERFACE_KEYS);
  const name = reader.name(table, 'name', path, true);
  const previous = earlier.find((i) => i.name === name);
  if (previous) reader.fail(join(path, 'name'), `interface ${name} is declared twice`);

  const kindText = reader.string(table, 'kind', path, false);
  let kind: InterfaceKind;
  if (kindText === undefined) kind = table.carp === undefined ? 'ether' : 'carp';
  else if (kindText === 'ether' || kindText === 'bridge' || kindText === 'carp') kind = kindText;
  else reader.fail(join(path, 'kind'), `expected "ether", "bridge" or "carp", got "${kindText}"`);

  let carp: InterfaceConfig['carp'];
  if (kind === 'carp') {
    const carpPath = join(path, 'carp');
    if (table.carp === undefined) reader.fail(carpPath, 'is required for a CARP interface');
    const carpTable = reader.table(table.carp, carpPath, ['parent', 'vhid', 'state']);
    const parent = reader.name(carpTable, 'parent', carpPath, true);
    const parentIf = earlier.find((i) => i.name === parent);
    if (!parentIf) {
      reader.fail(join(carpPath, 'parent'), `no interface ${parent} is declared before this one`);
    }
    if (parentIf.kind === 'carp') {
      reader.fail(join(carpPath, 'parent'), `${parent} is itself a CARP interface`);
    }
    if (carpTable.vhid === undefined) reader.fail(join(carpPath, 'vhid'), 'is required');
    const vhid = reader.integer(carpTable.vhid, join(carpPath, 'vhid'), 1, 255);
    const stateText = reader.string(carpTable, 'state', carpPath, false) ?? 'master';
    if (stateText !== 'master' && stateText !== 'backup') {
      reader.fail(join(carpPath, 'state'), `expected "master" or "backup", got "${stateText}"`);
    }
    carp = { parent, vhid, state: stateText };
    if (table.mac !== undefined) {
      reader.fail(join(path, 'mac'), 'a CARP interface has the virtual MAC of its vhid');
    }
  } else if (table.carp !== undefined) {
    reader.fail(join(path, 'carp'), `only a CARP interface has carp settings (kind is "${kind}")`);
  }
  const mac = kind === 'carp' ? undefined : reader.mac(table, 'mac', path);
  if (mac !== undefined && !isUnicastMac(mac)) {
    reader.fail(
      join(path, 'mac'),
      `${formatMac(mac)} is not a unicast Ethernet address; an interface needs one of its own`,
    );
  }

  const addresses = reader.strings(table, 'addresses', path).map((text, i) => {
    const at = `${join(path, 'addresses')}[${i}]`;
    return reader.cidr(text, at);
  });

  const flagWords = reader.strings(table, 'flags', path);
  flagWords.forEach((flag, i) => {
    const at = `${join(path, 'flags')}[${i}]`;
    if (!FLAGS.includes(flag))
      reader.fail(at, `unknown flag "${flag}" (known: ${FLAGS.join(', ')})`);
    if (flagWords.indexOf(flag) !== i) reader.fail(at, `flag "${flag}" is given twice`);
  });

  let link: LinkSpec | undefined;
  if (kind === 'ether') {
    if (table.link === undefined) reader.fail(join(path, 'link'), 'is required');
    link = readLink(reader, table.link, join(path, 'link'));
  } else if (table.link !== undefined) {
    reader.fail(
      join(path, 'link'),
      kind === 'bridge'
        ? 'a bridge has no link of its own: give links to its member interfaces'
        : 'a CARP interface sends through its parent and has no link',
    );
  }
  const pcapText = reader.string(table, 'pcap', path, false);
  if (pcapText !== undefined && link === undefined) {
    reader.fail(join(path, 'pcap'), 'only an interface with a link can be captured');
  }
  const evictNoCarrier = reader.boolean(table, 'evict_nocarrier', path);
  if (evictNoCarrier && link === undefined) {
    reader.fail(join(path, 'evict_nocarrier'), 'only an interface with a link has a carrier');
  }

  const bridge = reader.name(table, 'bridge', path, false);
  if (bridge !== undefined) {
    const bridgeIf = earlier.find((i) => i.name === bridge);
    if (!bridgeIf)
      reader.fail(join(path, 'bridge'), `no interface ${bridge} is declared before this one`);
    if (bridgeIf.kind !== 'bridge') {
      reader.fail(join(path, 'bridge'), `${bridge} is not a bridge (kind = "bridge")`);
    }
    if (kind !== 'ether')
      reader.fail(join(path, 'bridge'), 'only Ethernet interfaces join a bridge');
  }

  return {
    name,
    kind,
    mac,
    addresses,
    noarp: flagWords.includes('noarp'),
    staticarp: flagWords.includes('staticarp'),
    evictNoCarrier,
    link,
    pcap: pcapText === undefined ? undefined : resolvePath(baseDir, pcapText),
    bridge,
    carp,
  };
}

function readStatic(
  reader: Reader,
  value: unknown,
  path: string,
  interfaces: readonly InterfaceConfig[],
): StaticConfig {
  const table = reader.table(value, path, ['host', 'mac', 'interface', 'temp', 'pub', 'only']);
  const ip = reader.ipv4(table, 'host', path, true)!;
  const mac = reader.mac(table, 'mac', path);
  const ifName = reader.name(table, 'interface', path, false);
  if (ifName !== undefined && !interfaces.some((i) => i.name === ifName)) {
    reader.fail(join(path, 'interface'), `no interface ${ifName} is declared`);
  }
  const pub = reader.boolean(table, 'pub', path);
  const only = reader.boolean(table, 'only', path);
  if (only && !pub)
    reader.fail(join(path, 'only'), 'only = true needs pub = true (arp -s ... pub only)');
  return { ip, mac, ifName, temp: reader.boolean(table, 'temp', path), pub, only };
}

function readRoute(
  reader: Reader,
  value: unknown,
  path: string,
  interfaces: readonly InterfaceConfig[],
): RouteConfig {
  const table = reader.table(value, path, ['to', 'via', 'interface']);
  const to = reader.cidr(reader.string(table, 'to', path, true), join(path, 'to'));
  const via = reader.ipv4(table, 'via', path, false);
  const ifName = reader.name(table, 'interface', path, false);
  if ((via === undefined) === (ifName === undefined)) {
    reader.fail(path, 'give exactly one of via (a gateway) or interface');
  }
  if (ifName !== undefined && !interfaces.some((i) => i.name === ifName)) {
    reader.fail(join(path, 'interface'), `no interface ${ifName} is declared`);
  }
  return { to, via, ifName };
}

/** Two links that cannot both be open: the same VXLAN port, or the same device. */
function checkLinkClashes(reader: Reader, interfaces: readonly InterfaceConfig[]): void {
  interfaces.forEach((iface, i) => {
    const link = iface.link;
    if (!link) return;
    for (let j = 0; j < i; j++) {
      const other = interfaces[j]!.link;
      if (!other) continue;
      if (link.type === 'vxlan' && other.type === 'vxlan') {
        const { local: a } = link;
        const { local: b } = other;
        const sameAddress =
          a.address === b.address || a.address === '0.0.0.0' || b.address === '0.0.0.0';
        if (a.port !== 0 && a.port === b.port && sameAddress) {
          reader.fail(
            `interface[${i}].link.local`,
            `${a.address}:${a.port} is also bound by interface[${j}] (${interfaces[j]!.name})`,
          );
        }
      } else if (
        link.type !== 'vxlan' &&
        other.type === link.type &&
        other.device === link.device
      ) {
        reader.fail(
          `interface[${i}].link.device`,
          `${link.device} is also used by interface[${j}]`,
        );
      }
    }
    if (iface.pcap !== undefined) {
      const j = interfaces.findIndex((o) => o.pcap === iface.pcap);
      if (j < i)
        reader.fail(`interface[${i}].pcap`, `${iface.pcap} is also written by interface[${j}]`);
    }
  });
}

// --- the dry run --------------------------------------------------------------------------

/** The InterfaceSpec the engine is given for an interface of the config. */
export function interfaceSpec(iface: InterfaceConfig): InterfaceSpec {
  const spec: InterfaceSpec = {
    name: iface.name,
    kind: iface.kind,
    noarp: iface.noarp,
    staticarp: iface.staticarp,
  };
  if (iface.mac !== undefined) spec.mac = iface.mac;
  if (iface.bridge !== undefined) spec.bridge = iface.bridge;
  if (iface.carp !== undefined) spec.carp = { ...iface.carp };
  return spec;
}

/**
 * Builds a throwaway engine from the config, as the daemon will, so that whatever the engine
 * refuses is reported with the key at fault before anything is opened.
 */
function dryRun(reader: Reader, config: Omit<DaemonConfig, 'file'>): void {
  const at = (path: string, work: () => void): void => {
    try {
      work();
    } catch (error) {
      if (error instanceof NetarpError) reader.fail(path, error.message);
      throw error;
    }
  };
  const engine = new Engine({ config: Object.fromEntries(config.sysctl) });
  config.interfaces.forEach((iface, i) => {
    at(`interface[${i}]`, () => engine.addInterface(interfaceSpec(iface)));
  });
  config.interfaces.forEach((iface, i) => {
    iface.addresses.forEach((cidr, j) => {
      at(`interface[${i}].addresses[${j}]`, () => engine.addAddress(0, iface.name, cidr));
    });
  });
  config.routes.forEach((route, k) => {
    at(`route[${k}]`, () => {
      engine.addRoute(
        route.to,
        route.via === undefined ? { ifName: route.ifName! } : { gateway: route.via },
      );
    });
  });
  const seen = new Map<string, number>();
  config.statics.forEach((entry, k) => {
    const key = staticKey(entry);
    const first = seen.get(key);
    if (first !== undefined) {
      reader.fail(`static[${k}].host`, `${key} is already set by static[${first}]`);
    }
    seen.set(key, k);
    at(`static[${k}]`, () => engine.addEntry(0, staticSpec(entry)));
  });
}

/** The engine's arp -s request for a static entry of the config (replacing what is there). */
export function staticSpec(entry: StaticConfig): {
  ip: Ipv4;
  mac: Mac;
  ifName?: string;
  temp: boolean;
  pub: boolean;
  only: boolean;
  replace: boolean;
} {
  return {
    ip: entry.ip,
    mac: entry.mac,
    ...(entry.ifName === undefined ? {} : { ifName: entry.ifName }),
    temp: entry.temp,
    pub: entry.pub,
    only: entry.only,
    replace: true,
  };
}

// --- entry points -------------------------------------------------------------------------

/** Parses and checks config text; `file` names it in errors and anchors relative paths. */
export function parseConfig(text: string, file: string): DaemonConfig {
  const reader = new Reader(file);
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    if (error instanceof TomlError) {
      const reason = (error.message.split('\n')[0] ?? error.message).replace(
        /^Invalid TOML document: /,
        '',
      );
      throw new ConfigError(file, `line ${error.line}, column ${error.column}`, reason);
    }
    throw error;
  }
  const top = reader.table(document, '', TOP_KEYS);
  const sysctl = readSysctl(reader, top.sysctl);
  const baseDir = dirname(resolvePath(file));
  const interfaces: InterfaceConfig[] = [];
  reader.tables(top.interface, 'interface').forEach((value, i) => {
    interfaces.push(readInterface(reader, value, `interface[${i}]`, baseDir, interfaces));
  });
  checkLinkClashes(reader, interfaces);
  const statics = reader
    .tables(top.static, 'static')
    .map((value, k) => readStatic(reader, value, `static[${k}]`, interfaces));
  const routes = reader
    .tables(top.route, 'route')
    .map((value, k) => readRoute(reader, value, `route[${k}]`, interfaces));
  const stateText = reader.string(top, 'state', '', false);
  const state = stateText === undefined ? undefined : resolvePath(baseDir, stateText);
  const config = { file, sysctl, interfaces, statics, routes, state };
  dryRun(reader, config);
  return config;
}

/** Reads, parses and checks the config file at `file`. Throws ConfigError. */
export async function loadConfig(file: string): Promise<DaemonConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : '';
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : `cannot read: ${error instanceof Error ? error.message : String(error)}`;
    throw new ConfigError(file, undefined, reason);
  }
  return parseConfig(text, file);
}

/** A one-line summary of a link for logs: "vxlan 198.18.0.1:4789 -> 198.18.0.2:4789 vni 42". */
export function describeLink(link: LinkSpec): string {
  switch (link.type) {
    case 'vxlan':
      return `vxlan ${link.local.address}:${link.local.port} -> ${link.remotes
        .map((r) => `${r.address}:${r.port}`)
        .join(',')} vni ${link.vni}${link.io === 'auto' ? '' : ` io ${link.io}`}`;
    case 'tap':
    case 'packet':
      return `${link.type} ${link.device}`;
  }
}
