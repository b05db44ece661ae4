/**
 * The operator's run-time changes, kept across restarts: static and published entries set,
 * entries deleted, and knobs changed through the control socket, on top of the config file.
 *
 * Each change is recorded with the config's value for the same key at the time it was made
 * (its `config` base). The precedence rules (docs/daemon.md, "State across restarts"):
 *
 * - At start the config is applied first, then each recorded change whose base still equals
 *   what the file says: the run-time change wins over the file it was made against.
 * - A change whose base differs from the file read at start was made against an older file:
 *   the file was edited since, that edit is the newer word, and the change is dropped.
 * - A reload (SIGHUP) is the operator asking for the file: every key the new file names gets
 *   the file's value and its recorded change is dropped; the changes to keys the file does
 *   not name stay (an entry set at run time is never deleted by a reload).
 *
 * This file is the model and its JSON form; state-file.ts reads and writes it.
 */
import {
  type ArpConfig,
  configKeyOf,
  isConfigKey,
  SYSCTL_PREFIX,
  validateConfigValue,
} from '../core/config.ts';
import { NetarpError } from '../core/errors.ts';
import { formatIpv4, formatMac, parseIpv4OrUndefined, parseMacOrUndefined } from '../wire/addr.ts';
import { type DaemonConfig, type StaticConfig, staticKey } from './config.ts';

/** The state file's format version; a file of another version is refused as unreadable. */
export const STATE_VERSION = 1;

/** The `format` field every state file carries, so that another JSON file is not taken for one. */
export const STATE_FORMAT = 'netarp-state';

/** A state file that cannot be used: not JSON, not ours, or malformed (with where). */
export class StateError extends Error {
  /** Machine-readable: every state file problem has this code. */
  readonly code = 'ESTATE';

  constructor(message: string) {
    super(message);
    this.name = 'StateError';
  }
}

/** A run-time change to one static entry key: set to `entry`, or deleted (`entry` null). */
export interface StaticChange {
  readonly entry: StaticConfig | null;
  /** The config file's entry for the key when the change was made; null if it named none. */
  readonly base: StaticConfig | null;
}

/** A run-time change to one knob. */
export interface SysctlChange {
  readonly value: number;
  /** The config file's value when the change was made; null if it did not name the knob. */
  readonly base: number | null;
}

/** What the state says to do at start, and the changes dropped (with why). */
export interface RestorePlan {
  readonly statics: readonly { readonly key: string; readonly change: StaticChange }[];
  readonly sysctl: readonly { readonly key: keyof ArpConfig; readonly value: number }[];
  /** One line each: which change was dropped and why. */
  readonly dropped: readonly string[];
}

/** An entry as one short phrase: "192.0.2.9 at 02:00:00:00:00:09 on vx0 pub". */
export function describeStatic(entry: StaticConfig): string {
  const words = [`${formatIpv4(entry.ip)} at ${formatMac(entry.mac)}`];
  if (entry.ifName !== undefined) words.push(`on ${entry.ifName}`);
  if (entry.temp) words.push('temp');
  if (entry.pub) words.push('pub');
  if (entry.only) words.push('only');
  return words.join(' ');
}

function sameStatic(a: StaticConfig | null, b: StaticConfig | null): boolean {
  if (a === null || b === null) return a === b;
  return describeStatic(a) === describeStatic(b);
}

/** The config's entry for `key`, or null. */
export function configStatic(config: DaemonConfig, key: string): StaticConfig | null {
  return config.statics.find((s) => staticKey(s) === key) ?? null;
}

/** The run-time changes, by entry key and by knob: at most one change per key, the latest. */
export class RunState {
  private readonly statics = new Map<string, StaticChange>();
  private readonly knobs = new Map<keyof ArpConfig, SysctlChange>();

  /** Number of recorded changes. */
  get size(): number {
    return this.statics.size + this.knobs.size;
  }

  /** The recorded entry changes, by key. */
  staticChanges(): ReadonlyMap<string, StaticChange> {
    return this.statics;
  }

  /** The recorded knob changes, by short name. */
  sysctlChanges(): ReadonlyMap<keyof ArpConfig, SysctlChange> {
    return this.knobs;
  }

  /** `arp -s` of a permanent entry at run time, over `base` (the config's, or null). */
  entrySet(entry: StaticConfig, base: StaticConfig | null): void {
    this.statics.set(staticKey(entry), { entry, base });
  }

  /**
   * An entry gone at run time (`arp -d`, a flush, or replaced by a temporary one, which
   * would expire anyway): a deletion is only worth recording against an entry of the config,
   * which would otherwise come back at the next start; else the key's change is forgotten.
   */
  entryRemoved(key: string, base: StaticConfig | null): void {
    if (base === null) this.statics.delete(key);
    else this.statics.set(key, { entry: null, base });
  }

  /** A knob set at run time, over `base` (the config's value, or null). */
  sysctlSet(key: keyof ArpConfig, value: number, base: number | null): void {
    this.knobs.set(key, { value, base });
  }

  /**
   * What to restore over `config`: the changes made against the file as it still is. A
   * change made against another version of the file is dropped (the file's edit is newer).
   */
  planRestore(config: DaemonConfig): RestorePlan {
    const statics: { key: string; change: StaticChange }[] = [];
    const sysctl: { key: keyof ArpConfig; value: number }[] = [];
    const dropped: string[] = [];
    for (const [key, change] of this.statics) {
      const now = configStatic(config, key);
      if (sameStatic(now, change.base)) {
        statics.push({ key, change });
        continue;
      }
      this.statics.delete(key);
      dropped.push(
        `${key}: the config file changed this entry (${now === null ? 'no longer named' : describeStatic(now)}) since it was ${change.entry === null ? 'deleted' : 'set'} at run time; the file's word stands`,
      );
    }
    for (const [key, change] of this.knobs) {
      const now = config.sysctl.get(key) ?? null;
      if (now === change.base) {
        sysctl.push({ key, value: change.value });
        continue;
      }
      this.knobs.delete(key);
      dropped.push(
        `${SYSCTL_PREFIX}${key}: the config file changed it (${now ?? 'no longer named'}) since it was set to ${change.value} at run time; the file's word stands`,
      );
    }
    return { statics, sysctl, dropped };
  }

  /** Forgets the change to entry `key` (it could not be restored, or was overridden). */
  forgetStatic(key: string): void {
    this.statics.delete(key);
  }

  /** Forgets the change to knob `key`. */
  forgetSysctl(key: keyof ArpConfig): void {
    this.knobs.delete(key);
  }

  /**
   * After a reload to `next`: the file's word stands for every key it names and every knob
   * the reload set or reset (`knobsTouched`); an entry set at run time stays only if the table
   * still holds it (`held`: the reload may have removed its interface), now over no base.
   */
  reloaded(
    next: DaemonConfig,
    knobsTouched: ReadonlySet<keyof ArpConfig>,
    held: (entry: StaticConfig) => boolean,
  ): void {
    for (const [key, change] of this.statics) {
      if (configStatic(next, key) !== null || change.entry === null || !held(change.entry)) {
        this.statics.delete(key);
      } else {
        this.statics.set(key, { entry: change.entry, base: null });
      }
    }
    for (const [key, change] of this.knobs) {
      if (knobsTouched.has(key)) this.knobs.delete(key);
      else this.knobs.set(key, { value: change.value, base: next.sysctl.get(key) ?? null });
    }
  }

  /** The state file's text: JSON, keys sorted, two-space indented, ending with a newline. */
  serialize(): string {
    const statics = [...this.statics.entries()]
      .sort(([a], [b]) => compareKeys(a, b))
      .map(([, change]) => ({
        set: change.entry === null ? null : staticJson(change.entry),
        config: change.base === null ? null : staticJson(change.base),
      }));
    const sysctl = [...this.knobs.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, change]) => ({
        name: SYSCTL_PREFIX + key,
        value: change.value,
        config: change.base,
      }));
    return `${JSON.stringify({ format: STATE_FORMAT, version: STATE_VERSION, statics, sysctl }, null, 2)}\n`;
  }

  /** Parses a state file's text; throws StateError naming what is wrong. */
  static parse(text: string): RunState {
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw new StateError(`not JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    const top = record(document, 'the file');
    if (top.format !== STATE_FORMAT) {
      throw new StateError(`not a netarp state file (format is ${JSON.stringify(top.format)})`);
    }
    if (top.version !== STATE_VERSION) {
      throw new StateError(
        `version ${JSON.stringify(top.version)} is not one this daemon reads (${STATE_VERSION})`,
      );
    }
    const state = new RunState();
    array(top.statics, 'statics').forEach((item, i) => {
      const at = `statics[${i}]`;
      const fields = record(item, at);
      known(fields, at, ['set', 'config']);
      const entry = fields.set === null ? null : readStatic(fields.set, `${at}.set`);
      const base = fields.config === null ? null : readStatic(fields.config, `${at}.config`);
      if (entry === null && base === null) {
        throw new StateError(`${at}: a deletion needs the config's entry it deleted`);
      }
      if (entry !== null && base !== null && staticKey(entry) !== staticKey(base)) {
        throw new StateError(`${at}: set and config name different entries`);
      }
      if (entry?.temp) throw new StateError(`${at}.set: temporary entries are not kept`);
      const key = staticKey((entry ?? base)!);
      if (state.statics.has(key)) throw new StateError(`${at}: ${key} appears twice`);
      state.statics.set(key, { entry, base });
    });
    array(top.sysctl, 'sysctl').forEach((item, i) => {
      const at = `sysctl[${i}]`;
      const fields = record(item, at);
      known(fields, at, ['name', 'value', 'config']);
      const name = fields.name;
      const short = typeof name === 'string' ? name.slice(SYSCTL_PREFIX.length) : '';
      if (typeof name !== 'string' || !name.startsWith(SYSCTL_PREFIX) || !isConfigKey(short)) {
        throw new StateError(`${at}.name: ${JSON.stringify(name)} is not a knob`);
      }
      const key = configKeyOf(short);
      const value = knob(key, fields.value, `${at}.value`);
      const base = fields.config === null ? null : knob(key, fields.config, `${at}.config`);
      if (state.knobs.has(key)) throw new StateError(`${at}: ${name} appears twice`);
      state.knobs.set(key, { value, base });
    });
    return state;
  }
}

/** Orders keys by address, then the host entry before the proxy-only one. */
function compareKeys(a: string, b: string): number {
  const [ipA = '', restA = ''] = a.split(' ', 2);
  const [ipB = '', restB = ''] = b.split(' ', 2);
  const numeric = (parseIpv4OrUndefined(ipA) ?? 0) - (parseIpv4OrUndefined(ipB) ?? 0);
  return numeric !== 0 ? numeric : restA.length - restB.length;
}

/** An entry as the state file writes it: the TOML `[[static]]` keys. */
function staticJson(entry: StaticConfig): Record<string, string | boolean> {
  return {
    host: formatIpv4(entry.ip),
    mac: formatMac(entry.mac),
    ...(entry.ifName === undefined ? {} : { interface: entry.ifName }),
    ...(entry.temp ? { temp: true } : {}),
    ...(entry.pub ? { pub: true } : {}),
    ...(entry.only ? { only: true } : {}),
  };
}

function record(value: unknown, at: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StateError(`${at}: expected an object`);
  }
  return value as Record<string, unknown>;
}

function array(value: unknown, at: string): unknown[] {
  if (!Array.isArray(value)) throw new StateError(`${at}: expected an array`);
  return value;
}

function known(fields: Record<string, unknown>, at: string, keys: readonly string[]): void {
  for (const key of keys) {
    if (!Object.hasOwn(fields, key)) throw new StateError(`${at}.${key}: missing`);
  }
  for (const key of Object.keys(fields)) {
    if (!keys.includes(key)) throw new StateError(`${at}.${key}: unknown field`);
  }
}

function flag(fields: Record<string, unknown>, key: string, at: string): boolean {
  const value = fields[key];
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new StateError(`${at}.${key}: expected true or false`);
  return value;
}

function readStatic(value: unknown, at: string): StaticConfig {
  const fields = record(value, at);
  for (const key of Object.keys(fields)) {
    if (!['host', 'mac', 'interface', 'temp', 'pub', 'only'].includes(key)) {
      throw new StateError(`${at}.${key}: unknown field`);
    }
  }
  const ip = typeof fields.host === 'string' ? parseIpv4OrUndefined(fields.host) : undefined;
  if (ip === undefined) throw new StateError(`${at}.host: expected a dotted IPv4 address`);
  const mac = typeof fields.mac === 'string' ? parseMacOrUndefined(fields.mac) : undefined;
  if (mac === undefined) throw new StateError(`${at}.mac: expected xx:xx:xx:xx:xx:xx`);
  const ifName = fields.interface;
  if (ifName !== undefined && (typeof ifName !== 'string' || ifName === '')) {
    throw new StateError(`${at}.interface: expected a name`);
  }
  const pub = flag(fields, 'pub', at);
  const only = flag(fields, 'only', at);
  if (only && !pub) throw new StateError(`${at}.only: needs pub`);
  return { ip, mac, ifName, temp: flag(fields, 'temp', at), pub, only };
}

function knob(key: keyof ArpConfig, value: unknown, at: string): number {
  try {
    return validateConfigValue(key, value);
  } catch (error) {
    if (error instanceof NetarpError) throw new StateError(`${at}: ${error.message}`);
    throw error;
  }
}
