/**
 * Interfaces as the seed sees them: a MAC, IPv4 addresses with prefixes, the IFF_NOARP and
 * IFF_STATICARP flags, membership of a bridge (if_bridge, with the bridge's own MAC), and
 * CARP virtual interfaces (vhid, virtual MAC 00:00:5e:00:01:vhid, master or backup) over a
 * parent (carp_parent; the parent's if_carp is set).
 */
import { formatIpv4, type Ipv4, type Mac, prefixMask } from '../wire/addr.ts';
import { NetarpError } from './errors.ts';

/** What kind of ifnet: a plain Ethernet port, a bridge, or a CARP virtual interface. */
export type InterfaceKind = 'ether' | 'bridge' | 'carp';

/** CARP state of a virtual interface (carp_iamatch answers only as master). */
export type CarpState = 'master' | 'backup';

/** One IPv4 address of an interface (struct in_ifaddr). */
export interface InterfaceAddress {
  readonly address: Ipv4;
  readonly prefixLength: number;
  /** prefixMask(prefixLength), kept to avoid recomputing on every match. */
  readonly mask: number;
}

/** An interface (struct ifnet, the parts ARP reads). */
export interface Interface {
  readonly index: number;
  readonly name: string;
  readonly kind: InterfaceKind;
  mac: Mac;
  readonly addresses: InterfaceAddress[];
  /** IFF_UP */
  up: boolean;
  /** IFF_NOARP: never send requests; unresolved traffic fails. */
  noarp: boolean;
  /** IFF_STATICARP: never learn from the network (still reply); unresolved traffic fails. */
  staticarp: boolean;
  /** if_bridge: index of the bridge this port is a member of, or -1. */
  bridge: number;
  /** For kind 'carp': the parent (carpdev) index, else -1. */
  readonly carpParent: number;
  /** For kind 'carp': the virtual host id 1..255. */
  readonly vhid: number;
  /** For kind 'carp': master answers for the virtual addresses, backup stays silent. */
  carpState: CarpState;
  /** if_carp: indices of CARP interfaces whose parent this is. */
  readonly carpChildren: number[];
}

/** How an interface is described when it is added. */
export interface InterfaceSpec {
  name: string;
  /** Required except for CARP, whose MAC is 00:00:5e:00:01:vhid. */
  mac?: Mac;
  kind?: InterfaceKind;
  up?: boolean;
  noarp?: boolean;
  staticarp?: boolean;
  /** Name of the bridge interface this one is a member of. */
  bridge?: string;
  /** For CARP: parent interface name, vhid and initial state. */
  carp?: { parent: string; vhid: number; state?: CarpState };
}

/** The CARP virtual MAC of a vhid (RFC 5798 section 7.3 uses the same IANA block for VRRP). */
export function carpMac(vhid: number): Mac {
  return 0x00005e_000100 + vhid;
}

/** Whether `ip` is in the subnet of `address`. */
export function covers(address: InterfaceAddress, ip: Ipv4): boolean {
  return ((address.address ^ ip) & address.mask) === 0;
}

/** in_broadcast for one address: the subnet's all-ones (or all-zeros) host part. */
export function isSubnetBroadcast(address: InterfaceAddress, ip: Ipv4): boolean {
  if (address.prefixLength >= 31) return false;
  const network = (address.address & address.mask) >>> 0;
  const broadcast = (network | ~address.mask) >>> 0;
  return ip === broadcast || ip === network;
}

/** The set of interfaces, by index (stable, 0-based) and by name. */
export class InterfaceTable {
  private readonly list: Interface[] = [];
  private readonly byName = new Map<string, Interface>();
  /** Every local address -> the interfaces that own it (INADDR_HASH). */
  private readonly owners = new Map<Ipv4, Interface[]>();
  /**
   * The same as two parallel arrays, scanned instead of hashing while there are few: every
   * ARP frame asks whether its target (and often its sender) is ours, and a host has a handful
   * of addresses.
   */
  private localIps: Ipv4[] = [];
  private localOwners: (readonly Interface[])[] = [];
  /** Bumped whenever an interface or an address is added or removed (routes cache on it). */
  version = 0;
  /**
   * No bridge and no CARP interface exists (interfaces are never removed, so this only turns
   * false): no port is a bridge member or a CARP parent, and ARP input may skip those steps.
   */
  plain = true;

  /** Adds an interface; throws on a duplicate name, a bad MAC or an unknown bridge/parent. */
  add(spec: InterfaceSpec): Interface {
    if (this.byName.has(spec.name))
      throw new NetarpError('EEXIST', `interface ${spec.name} exists`);
    const kind = spec.kind ?? (spec.carp ? 'carp' : 'ether');
    let carpParent = -1;
    let vhid = 0;
    if (kind === 'carp') {
      if (!spec.carp)
        throw new NetarpError('EINVAL', `interface ${spec.name}: carp needs parent and vhid`);
      const parent = this.require(spec.carp.parent);
      if (!Number.isInteger(spec.carp.vhid) || spec.carp.vhid < 1 || spec.carp.vhid > 255) {
        throw new NetarpError('EINVAL', `interface ${spec.name}: vhid must be 1..255`);
      }
      carpParent = parent.index;
      vhid = spec.carp.vhid;
    }
    const mac = kind === 'carp' ? carpMac(vhid) : spec.mac;
    if (mac === undefined)
      throw new NetarpError('EINVAL', `interface ${spec.name}: mac is required`);
    const bridge = spec.bridge === undefined ? -1 : this.require(spec.bridge).index;
    if (bridge >= 0 && this.list[bridge]!.kind !== 'bridge') {
      throw new NetarpError('EINVAL', `interface ${spec.name}: ${spec.bridge} is not a bridge`);
    }
    const iface: Interface = {
      index: this.list.length,
      name: spec.name,
      kind,
      mac,
      addresses: [],
      up: spec.up ?? true,
      noarp: spec.noarp ?? false,
      staticarp: spec.staticarp ?? false,
      bridge,
      carpParent,
      vhid,
      carpState: spec.carp?.state ?? 'master',
      carpChildren: [],
    };
    this.list.push(iface);
    this.byName.set(iface.name, iface);
    this.version++;
    if (kind !== 'ether') this.plain = false;
    if (carpParent >= 0) this.list[carpParent]!.carpChildren.push(iface.index);
    return iface;
  }

  /** The interface at `index`, or undefined. */
  get(index: number): Interface | undefined {
    return this.list[index];
  }

  /** The interface named `name`, or undefined. */
  byNameOrUndefined(name: string): Interface | undefined {
    return this.byName.get(name);
  }

  /** The interface named `name`; throws ENOENT. */
  require(name: string): Interface {
    const iface = this.byName.get(name);
    if (!iface) throw new NetarpError('ENOENT', `no such interface: ${name}`);
    return iface;
  }

  /** All interfaces in index order. */
  all(): readonly Interface[] {
    return this.list;
  }

  /** ether_bridge_interface(ifp): the bridge a member port belongs to. */
  bridgeOf(iface: Interface): Interface | undefined {
    return iface.bridge >= 0 ? this.list[iface.bridge] : undefined;
  }

  /** The interfaces owning `ip` as a local address (usually zero or one). */
  ownersOf(ip: Ipv4): readonly Interface[] {
    const ips = this.localIps;
    if (ips.length <= LOCAL_SCAN_MAX) {
      for (let i = 0; i < ips.length; i++) if (ips[i] === ip) return this.localOwners[i]!;
      return NO_INTERFACES;
    }
    return this.owners.get(ip) ?? NO_INTERFACES;
  }

  /** Rebuilds the scanned copy of `owners` after a change. */
  private addressesChanged(): void {
    this.localIps = [...this.owners.keys()];
    this.localOwners = [...this.owners.values()];
    this.version++;
  }

  /** Adds an address; throws if the interface already has it. */
  addAddress(iface: Interface, address: Ipv4, prefixLength: number): InterfaceAddress {
    if (iface.addresses.some((a) => a.address === address)) {
      throw new NetarpError('EEXIST', `${iface.name} already has ${formatIpv4(address)}`);
    }
    const entry: InterfaceAddress = { address, prefixLength, mask: prefixMask(prefixLength) };
    iface.addresses.push(entry);
    const owners = this.owners.get(address);
    if (owners) owners.push(iface);
    else this.owners.set(address, [iface]);
    this.addressesChanged();
    return entry;
  }

  /** Removes an address; returns it, or undefined if the interface did not have it. */
  removeAddress(iface: Interface, address: Ipv4): InterfaceAddress | undefined {
    const at = iface.addresses.findIndex((a) => a.address === address);
    if (at < 0) return undefined;
    const [removed] = iface.addresses.splice(at, 1);
    const owners = this.owners.get(address);
    if (owners) {
      const remaining = owners.filter((o) => o !== iface);
      if (remaining.length === 0) this.owners.delete(address);
      else this.owners.set(address, remaining);
    }
    this.addressesChanged();
    return removed;
  }

  /** The MAC a request sent on `iface` carries as SHA: the bridge's when bridged (arprequest). */
  requestSourceMac(iface: Interface): Mac {
    const bridge = this.bridgeOf(iface);
    return bridge ? bridge.mac : iface.mac;
  }
}

const NO_INTERFACES: readonly Interface[] = [];

/** Up to this many local addresses, `ownersOf` scans an array rather than hashing. */
const LOCAL_SCAN_MAX = 8;
