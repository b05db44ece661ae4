/**
 * The sysctl knobs of if_ether.c (net.link.ether.inet.*), with the seed's names and defaults,
 * plus netarp's own. One plain object, one validator, changeable at run time through
 * `Engine.setSysctl`. Several engines with different configs coexist: nothing here is global.
 */
import { NetarpError } from './errors.ts';

/** The knobs, by their short sysctl names. Integers, as SYSCTL_INT. */
export interface ArpConfig {
  /** Seconds between prune passes of the table (if_ether.c arpt_prune = 5*60). */
  prune_intvl: number;
  /** Seconds a resolved entry stays valid (if_ether.c arpt_keep = 20*60). */
  max_age: number;
  /** Seconds an unanswered entry stays down, refusing sends (if_ether.c arpt_down = 20). */
  host_down_time: number;
  /** Requests sent before the entry is declared down (if_ether.c arp_maxtries = 5). */
  maxtries: number;
  /** 1: traffic to our own addresses is delivered locally, never ARPed (if_ether.c useloopback). */
  useloopback: number;
  /** 1: answer requests for any address routed out another interface (if_ether.c arp_proxyall). */
  proxyall: number;
  /** 1: ignore ARP not targeted at one of our addresses (if_ether.c arp_restricted_match). */
  restricted_match: number;
  /** Declared by the seed ("refresh arp cache ~60 (not impl yet)"); kept, and unused, as there. */
  refresh: number;
  /** 0 never, 1 unless bridged, 2 always: log ARP on the wrong interface (if_ether.c). */
  log_arp_wrong_iface: number;
  /** 1: log a dynamic entry's MAC changing (if_ether.c log_arp_movements). */
  log_arp_movements: number;
  /** 1: log attempts to change a permanent entry (if_ether.c log_arp_permanent_modify). */
  log_arp_permanent_modify: number;
  /**
   * Packets held per unresolved entry. netarp's own knob, named after FreeBSD's
   * net.link.ether.inet.maxhold; the default 1 is the seed's single la_hold mbuf.
   */
  maxhold: number;

  // --- netarp's limits and defences (none in the seed; see docs/security.md) -------------
  /**
   * Dynamic entries at most; creating one more evicts the least recently used (idle first,
   * then holding packets, then gateways). Linux net.ipv4.neigh.default.gc_thresh3 is 1024 and
   * gVisor's neighbour cache 512; netarp's default is far above any segment the seed served,
   * so that only a flood reaches it.
   */
  max_entries: number;
  /**
   * Unresolved dynamic entries (each holding packets) at most; one more evicts the oldest.
   * 1024 is Linux's gc_thresh3 for a whole table: far more destinations than a host waits on
   * at once, and it bounds held packets at defaults to 1024 of them (64 MiB at the largest
   * IPv4 size), where the table's cap alone would allow 64 times as many.
   */
  max_incomplete: number;
  /** Requests sent per second engine-wide (a token bucket, burst one second); 0: unlimited. */
  max_requests_per_sec: number;
  /**
   * Bytes held per unresolved entry (the newest packet is always kept); 0: unlimited. The
   * default is Linux's net.ipv4.neigh.default.unres_qlen_bytes (SK_WMEM_MAX, 212992).
   */
  maxhold_bytes: number;
  /** Seconds a packet may stay held before it is dropped; 0: until the entry goes (the seed). */
  hold_timeout: number;
  /**
   * Log lines per second per message kind; 0: unlimited (the seed logs every time). FreeBSD's
   * net.link.ether.inet.max_log_per_second is 1, over all kinds.
   */
  log_ratelimit: number;
  /**
   * Milliseconds after an entry's MAC was set during which a different MAC is ignored (the
   * first answer wins), except from a gratuitous ARP; 0: off. Linux's locktime, which counts
   * in centiseconds (default 100, one second).
   */
  locktime: number;
  /**
   * Which unsolicited ARP may create or change entries: 0 any (the seed), 1 none (only replies
   * to our own outstanding requests), 2 only from senders in a subnet of the receiving
   * interface. Compare Linux's arp_accept.
   */
  accept: number;
  /** 1: report new stations, changed addresses and flip flops (arpwatch); 0: off. */
  arpwatch: number;
  /** Seconds within which a return to the previous MAC is a flip flop; 0: ever (arpwatch). */
  arpwatch_window: number;
  /**
   * 1: the pre-expiry refresh of a resolved entry (la_preempt) asks its neighbour with a
   * unicast request to the MAC the entry has, as FreeBSD and Linux do (RFC 1122 section
   * 2.3.2.1's "unicast poll"), instead of broadcasting it to the segment; 0: broadcast (the
   * seed).
   */
  unicast_refresh: number;
}

/** The prefix every knob carries in its full sysctl name. */
export const SYSCTL_PREFIX = 'net.link.ether.inet.';

/** The seed's defaults (see each field's comment for where the number comes from). */
export const DEFAULT_CONFIG: Readonly<ArpConfig> = Object.freeze({
  prune_intvl: 300,
  max_age: 1200,
  host_down_time: 20,
  maxtries: 5,
  useloopback: 1,
  proxyall: 0,
  restricted_match: 0,
  refresh: 60,
  log_arp_wrong_iface: 1,
  log_arp_movements: 1,
  log_arp_permanent_modify: 1,
  maxhold: 1,
  max_entries: 65_536,
  max_incomplete: 1024,
  max_requests_per_sec: 0,
  maxhold_bytes: 212_992,
  hold_timeout: 0,
  log_ratelimit: 0,
  locktime: 0,
  accept: 0,
  arpwatch: 0,
  arpwatch_window: 0,
  unicast_refresh: 0,
});

/** Inclusive bounds of each knob and a one-line description (shown by `netarp sysctl -d`). */
export const CONFIG_SPEC: Readonly<
  Record<keyof ArpConfig, { min: number; max: number; description: string }>
> = {
  prune_intvl: { min: 1, max: 86_400, description: 'seconds between prune passes' },
  max_age: { min: 1, max: 31_536_000, description: 'seconds a resolved entry stays valid' },
  host_down_time: { min: 0, max: 86_400, description: 'seconds an unanswered host stays down' },
  maxtries: {
    min: 1,
    max: 1000,
    description: 'ARP resolution attempts before returning error',
  },
  useloopback: { min: 0, max: 1, description: 'Use the loopback interface for local traffic' },
  proxyall: { min: 0, max: 1, description: 'Enable proxy ARP for all suitable requests' },
  restricted_match: { min: 0, max: 1, description: 'Only match against the sender' },
  refresh: {
    min: 0,
    max: 86_400,
    description: 'Preemptively refresh the ARP (unused, as in the seed)',
  },
  log_arp_wrong_iface: {
    min: 0,
    max: 2,
    description: 'Log arp packets arriving on the wrong interface',
  },
  log_arp_movements: {
    min: 0,
    max: 1,
    description: 'Log arp replies from MACs different than the one in the cache',
  },
  log_arp_permanent_modify: {
    min: 0,
    max: 1,
    description: 'Log arp replies from MACs different than the one in the permanent arp entry',
  },
  maxhold: { min: 1, max: 4096, description: 'packets held per unresolved entry' },
  max_entries: { min: 1, max: 16_777_216, description: 'dynamic entries at most (LRU eviction)' },
  max_incomplete: {
    min: 1,
    max: 16_777_216,
    description: 'unresolved entries at most (the oldest is evicted)',
  },
  max_requests_per_sec: {
    min: 0,
    max: 1_000_000,
    description: 'requests sent per second in all (0: unlimited)',
  },
  maxhold_bytes: {
    min: 0,
    max: 2_147_483_647,
    description: 'bytes held per unresolved entry (0: unlimited)',
  },
  hold_timeout: {
    min: 0,
    max: 86_400,
    description: 'seconds a packet may stay held (0: until the entry goes)',
  },
  log_ratelimit: {
    min: 0,
    max: 1_000_000,
    description: 'log lines per second per kind (0: unlimited)',
  },
  locktime: {
    min: 0,
    max: 3_600_000,
    description: 'milliseconds a new MAC locks an entry against another (0: off)',
  },
  accept: {
    min: 0,
    max: 2,
    description: 'unsolicited ARP accepted: 0 any, 1 none, 2 same subnet only',
  },
  arpwatch: { min: 0, max: 1, description: 'Report new stations and flip flops' },
  arpwatch_window: {
    min: 0,
    max: 31_536_000,
    description: 'seconds within which a return to the previous MAC is a flip flop (0: ever)',
  },
  unicast_refresh: {
    min: 0,
    max: 1,
    description: 'refresh a resolved entry with a unicast request to its MAC (0: broadcast)',
  },
};

/** The knob names in a stable order. */
export const CONFIG_KEYS = Object.keys(DEFAULT_CONFIG) as (keyof ArpConfig)[];

/** Whether `name` is a knob's short name. */
export function isConfigKey(name: string): name is keyof ArpConfig {
  return Object.hasOwn(DEFAULT_CONFIG, name);
}

/** Maps a full ("net.link.ether.inet.max_age") or short ("max_age") name to the short name. */
export function configKeyOf(name: string): keyof ArpConfig {
  const short = name.startsWith(SYSCTL_PREFIX) ? name.slice(SYSCTL_PREFIX.length) : name;
  if (!isConfigKey(short)) {
    throw new NetarpError('ENOENT', `unknown sysctl: ${name}`);
  }
  return short;
}

/** Checks one value; throws a NetarpError naming the knob and the allowed range. */
export function validateConfigValue(key: keyof ArpConfig, value: unknown): number {
  const spec = CONFIG_SPEC[key];
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < spec.min ||
    value > spec.max
  ) {
    throw new NetarpError(
      'EINVAL',
      `${SYSCTL_PREFIX}${key}: ${JSON.stringify(value)} is not an integer in ${spec.min}..${spec.max}`,
    );
  }
  return value;
}

/** Builds a complete config from defaults and overrides, validating every given field. */
export function makeConfig(overrides: Partial<Record<string, unknown>> = {}): ArpConfig {
  const config: ArpConfig = { ...DEFAULT_CONFIG };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    const key = configKeyOf(name);
    config[key] = validateConfigValue(key, value);
  }
  return config;
}
