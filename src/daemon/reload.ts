/**
 * What a reload (SIGHUP) changes: the difference between the config in force and the new
 * one, as a plan the daemon carries out. Planning is pure and refuses, with the key at
 * fault, what cannot change while the daemon runs (an interface's kind, bridge or CARP
 * parent live in the engine's interface table, which only grows): those need a restart. An
 * interface's MAC can change (if_setlladdr): the engine takes it and announces the addresses.
 *
 * Static entries are not planned here: which ones to touch depends on the live table (an
 * entry the operator replaced or deleted at run time), so the daemon decides them as it goes.
 */
import type { ArpConfig } from '../core/config.ts';
import { formatCidr, type Ipv4Cidr } from '../wire/addr.ts';
import {
  ConfigError,
  type DaemonConfig,
  type InterfaceConfig,
  type LinkSpec,
  type RouteConfig,
} from './config.ts';

/** An address of an interface. */
export interface AddressChange {
  readonly ifName: string;
  readonly cidr: Ipv4Cidr;
}

/** The changes a reload makes, in the order the daemon applies them. */
export interface ReloadPlan {
  /** Knobs named by the new file, set to its values. */
  readonly sysctlSet: readonly (readonly [keyof ArpConfig, number])[];
  /** Knobs the old file named and the new one does not: back to their defaults. */
  readonly sysctlReset: readonly (keyof ArpConfig)[];
  readonly routesRemoved: readonly RouteConfig[];
  /** Interfaces leaving the config: their entries, addresses and link go. */
  readonly removed: readonly string[];
  /** Interfaces new to the engine, in the new file's order. */
  readonly added: readonly InterfaceConfig[];
  /** Interfaces removed by an earlier reload and now back, with the same identity. */
  readonly revived: readonly InterfaceConfig[];
  /** Interfaces that stay and whose link or capture file changed. */
  readonly relinked: readonly InterfaceConfig[];
  /** Interfaces that stay and whose flags (noarp, staticarp, evict_nocarrier) changed. */
  readonly reflagged: readonly InterfaceConfig[];
  /** CARP interfaces that stay and whose state changed. */
  readonly recarped: readonly InterfaceConfig[];
  /**
   * Interfaces that stay, or come back, with another MAC (never CARP: its MAC is its vhid's).
   * One on an AF_PACKET link is relinked too, so that the device passes the new MAC's frames.
   */
  readonly remacked: readonly InterfaceConfig[];
  readonly addressesRemoved: readonly AddressChange[];
  /** Added addresses, each announced with gratuitous ARP. */
  readonly addressesAdded: readonly AddressChange[];
  readonly routesAdded: readonly RouteConfig[];
}

/** Whether a plan changes nothing but (perhaps) static entries. */
export function isEmptyPlan(plan: ReloadPlan): boolean {
  return (
    plan.routesRemoved.length +
      plan.removed.length +
      plan.added.length +
      plan.revived.length +
      plan.relinked.length +
      plan.reflagged.length +
      plan.recarped.length +
      plan.remacked.length +
      plan.addressesRemoved.length +
      plan.addressesAdded.length +
      plan.routesAdded.length ===
    0
  );
}

/** Whether two link specs open the same link. */
export function sameLink(a: LinkSpec | undefined, b: LinkSpec | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function routeKey(route: RouteConfig): string {
  return `${formatCidr(route.to)} ${route.via === undefined ? `interface ${route.ifName}` : `via ${route.via}`}`;
}

function cidrKey(cidr: Ipv4Cidr): string {
  return formatCidr(cidr);
}

/**
 * Refuses a change to what the engine cannot change in place. `previous` is how the
 * interface runs (or ran, if removed earlier); `path` is its place in the new file.
 */
function checkIdentity(
  file: string,
  path: string,
  previous: InterfaceConfig,
  next: InterfaceConfig,
): void {
  const restart = 'changing it needs a restart';
  const fail = (key: string, what: string): never => {
    throw new ConfigError(file, `${path}.${key}`, `${next.name} ${what}; ${restart}`);
  };
  if (previous.kind !== next.kind) fail('kind', `is of kind ${previous.kind}`);
  if (previous.bridge !== next.bridge) {
    fail(
      'bridge',
      previous.bridge === undefined ? 'is in no bridge' : `is in bridge ${previous.bridge}`,
    );
  }
  if (previous.carp?.parent !== next.carp?.parent || previous.carp?.vhid !== next.carp?.vhid) {
    fail('carp', `is CARP vhid ${previous.carp?.vhid} over ${previous.carp?.parent}`);
  }
}

/**
 * Plans the move from `current` to `next`. `ghosts` are interfaces an earlier reload removed:
 * the engine still knows them (down, without addresses), so a name can only come back with
 * the same identity. Throws ConfigError for a change that needs a restart.
 */
export function planReload(
  current: DaemonConfig,
  next: DaemonConfig,
  ghosts: ReadonlyMap<string, InterfaceConfig>,
): ReloadPlan {
  if (current.state !== next.state) {
    throw new ConfigError(
      next.file,
      'state',
      `the state file is chosen at start (${current.state ?? 'the default'}); changing it needs a restart`,
    );
  }
  const before = new Map(current.interfaces.map((i) => [i.name, i]));
  const after = new Set(next.interfaces.map((i) => i.name));
  const added: InterfaceConfig[] = [];
  const revived: InterfaceConfig[] = [];
  const relinked: InterfaceConfig[] = [];
  const reflagged: InterfaceConfig[] = [];
  const recarped: InterfaceConfig[] = [];
  const remacked: InterfaceConfig[] = [];
  const addressesRemoved: AddressChange[] = [];
  const addressesAdded: AddressChange[] = [];

  next.interfaces.forEach((iface, i) => {
    const path = `interface[${i}]`;
    const previous = before.get(iface.name);
    const ghost = ghosts.get(iface.name);
    const allAddresses = iface.addresses.map((cidr) => ({ ifName: iface.name, cidr }));
    if (!previous) {
      if (ghost) {
        checkIdentity(next.file, path, ghost, iface);
        revived.push(iface);
        if (ghost.mac !== iface.mac) remacked.push(iface);
      } else {
        added.push(iface);
      }
      addressesAdded.push(...allAddresses);
      return;
    }
    checkIdentity(next.file, path, previous, iface);
    const macChanged = previous.mac !== iface.mac;
    if (macChanged) remacked.push(iface);
    if (
      !sameLink(previous.link, iface.link) ||
      previous.pcap !== iface.pcap ||
      (macChanged && iface.link?.type === 'packet')
    ) {
      relinked.push(iface);
    }
    if (
      previous.noarp !== iface.noarp ||
      previous.staticarp !== iface.staticarp ||
      previous.evictNoCarrier !== iface.evictNoCarrier
    ) {
      reflagged.push(iface);
    }
    if (previous.carp?.state !== iface.carp?.state) recarped.push(iface);
    const old = new Set(previous.addresses.map(cidrKey));
    const now = new Set(iface.addresses.map(cidrKey));
    for (const cidr of previous.addresses) {
      if (!now.has(cidrKey(cidr))) addressesRemoved.push({ ifName: iface.name, cidr });
    }
    for (const cidr of iface.addresses) {
      if (!old.has(cidrKey(cidr))) addressesAdded.push({ ifName: iface.name, cidr });
    }
  });
  const removed = current.interfaces.filter((i) => !after.has(i.name)).map((i) => i.name);

  const oldRoutes = new Set(current.routes.map(routeKey));
  const newRoutes = new Set(next.routes.map(routeKey));
  const sysctlReset = [...current.sysctl.keys()].filter((key) => !next.sysctl.has(key));

  return {
    sysctlSet: [...next.sysctl.entries()],
    sysctlReset,
    routesRemoved: current.routes.filter((r) => !newRoutes.has(routeKey(r))),
    removed,
    added,
    revived,
    relinked,
    reflagged,
    recarped,
    remacked,
    addressesRemoved,
    addressesAdded,
    routesAdded: next.routes.filter((r) => !oldRoutes.has(routeKey(r))),
  };
}
