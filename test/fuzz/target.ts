/**
 * The fuzz target: a busy engine (several Ethernet interfaces, a bridge with two ports, two
 * CARP interfaces, STATICARP, NOARP and down interfaces, static, temporary, published and
 * proxy-only entries, a gateway route, packets already held) under one of a few sysctl
 * variants, fed a session of steps (mostly received frames, some sends of our own and timer
 * runs). After every step the invariants of docs/security.md are checked:
 *
 * - the engine never throws;
 * - permanent static, published, proxy-only and local entries are exactly as the operator
 *   left them;
 * - dynamic entries <= max_entries, unresolved ones <= max_incomplete;
 * - every hold queue <= maxhold packets, and what is delivered at once <= maxhold_bytes (or a
 *   single packet, which is always kept);
 * - every frame is counted exactly once: `received` (ARP input) or one Ethernet-level drop
 *   counter, the copy a CARP child takes (`carpChildTakes`) being a frame of its own;
 * - every frame sent is a 42-byte Ethernet/IPv4 ARP frame from the sending interface, a
 *   received frame causes at most one (no amplification), replies go to a unicast station;
 * - every held packet handed back is one we gave, an IPv4 packet, framed for the entry's MAC;
 * - no entry for an address no host can have, nor a learned one with a group MAC.
 *
 * Everything is deterministic: the same input gives the same outputs and the same coverage.
 */
import type { EntryInfo } from '../../src/core/admin.ts';
import { Engine } from '../../src/core/engine.ts';
import { assertNever } from '../../src/core/errors.ts';
import type { Output } from '../../src/core/output.ts';
import type { ArpStats } from '../../src/core/stats.ts';
import {
  formatIpv4,
  formatMac,
  type Ipv4,
  type Mac,
  parseIpv4,
  parseMac,
  readIpv4,
  readMac,
} from '../../src/wire/addr.ts';
import { ArpOp } from '../../src/wire/arp.ts';
import { describeFrame } from '../../src/wire/format.ts';
import { buildIpv4Packet, IpProtocol, parseIpv4Packet } from '../../src/wire/ipv4.ts';

// --- the world ----------------------------------------------------------------------------

/** The MAC of each interface of the busy engine (CARP's are the virtual 00:00:5e:00:01:vhid). */
export const MACS = {
  eth0: '02:00:00:00:00:01',
  eth1: '02:00:00:00:01:01',
  br0: '02:00:00:00:02:00',
  p0: '02:00:00:00:02:01',
  p1: '02:00:00:00:02:02',
  carp0: '00:00:5e:00:01:01',
  carp1: '00:00:5e:00:01:02',
  eth2: '02:00:00:00:03:01',
  eth3: '02:00:00:00:04:01',
  eth4: '02:00:00:00:05:01',
} as const;

/** Our addresses, by interface. */
export const OURS = {
  eth0: '192.0.2.1',
  eth1: '198.51.100.1',
  br0: '203.0.113.1',
  p1: '203.0.113.2',
  carp0: '192.0.2.100',
  carp1: '192.0.2.101',
  eth2: '10.0.2.1',
  eth3: '10.0.3.1',
  eth4: '10.0.4.1',
} as const;

/** The operator's entries: permanent static, temporary, published and proxy-only. */
export const OPERATOR = {
  staticEth0: { ip: '192.0.2.11', mac: '02:00:00:00:00:0b' },
  staticEth1: { ip: '198.51.100.11', mac: '02:00:00:00:01:0b' },
  staticBridge: { ip: '203.0.113.11', mac: '02:00:00:00:02:0b' },
  temp: { ip: '192.0.2.12', mac: '02:00:00:00:00:0c' },
  published: { ip: '192.0.2.50', mac: '02:00:00:00:00:50' },
  proxyOnly: { ip: '192.0.2.60', mac: '02:00:00:00:00:60' },
} as const;

/** Neighbours the fuzzer impersonates; the first is resolved during set-up. */
export const NEIGHBOURS = {
  resolved: { ip: '192.0.2.10', mac: '02:00:00:00:00:0a' },
  gateway: { ip: '192.0.2.254', mac: '02:00:00:00:00:fe' },
  eth1: { ip: '198.51.100.12', mac: '02:00:00:00:01:0c' },
  bridge: { ip: '203.0.113.12', mac: '02:00:00:00:02:0c' },
  eth2: { ip: '10.0.2.12', mac: '02:00:00:00:03:0c' },
} as const;

/** Addresses our own traffic goes to during set-up, never answered: their packets wait. */
export const DEAD = ['192.0.2.20', '192.0.2.21', '198.51.100.20', '10.9.1.1'] as const;

/** A sysctl variant of the busy engine. */
export interface Variant {
  readonly name: string;
  readonly config: Readonly<Record<string, number>>;
}

/** The variants: the defaults, and four mixes of the knobs that change what input does. */
export const VARIANTS: readonly Variant[] = [
  { name: 'defaults', config: {} },
  {
    name: 'proxyall',
    config: { proxyall: 1, log_arp_wrong_iface: 2, locktime: 1000, maxhold: 3, maxhold_bytes: 120 },
  },
  {
    name: 'guarded',
    config: { restricted_match: 1, arpwatch: 1, accept: 1 },
  },
  {
    name: 'tight',
    config: {
      accept: 2,
      arpwatch: 1,
      max_entries: 4,
      max_incomplete: 3,
      log_ratelimit: 1,
      hold_timeout: 2,
      max_requests_per_sec: 2,
      maxhold: 2,
      maxhold_bytes: 0,
    },
  },
  {
    name: 'quiet',
    config: {
      log_arp_movements: 0,
      log_arp_permanent_modify: 0,
      log_arp_wrong_iface: 0,
      arpwatch: 1,
      arpwatch_window: 5,
      maxtries: 2,
      max_age: 30,
      host_down_time: 5,
      prune_intvl: 10,
    },
  },
];

/** When set-up happens, and when a session's first step does (milliseconds). */
const SETUP_AT = 1000;
const START_AT = 10_000;

/** Builds the busy engine of `variant`; every input starts from a fresh one. */
export function buildEngine(variant: Variant): { engine: Engine; held: Set<Uint8Array> } {
  const engine = new Engine({ config: { ...variant.config } });
  const m = (name: keyof typeof MACS): Mac => parseMac(MACS[name]);
  engine.addInterface({ name: 'eth0', mac: m('eth0') });
  engine.addInterface({ name: 'eth1', mac: m('eth1') });
  engine.addInterface({ name: 'br0', mac: m('br0'), kind: 'bridge' });
  engine.addInterface({ name: 'p0', mac: m('p0'), bridge: 'br0' });
  engine.addInterface({ name: 'p1', mac: m('p1'), bridge: 'br0' });
  engine.addInterface({ name: 'carp0', carp: { parent: 'eth0', vhid: 1, state: 'master' } });
  engine.addInterface({ name: 'carp1', carp: { parent: 'eth0', vhid: 2, state: 'backup' } });
  engine.addInterface({ name: 'eth2', mac: m('eth2'), staticarp: true });
  engine.addInterface({ name: 'eth3', mac: m('eth3'), noarp: true });
  engine.addInterface({ name: 'eth4', mac: m('eth4') });
  const t = SETUP_AT;
  engine.addAddress(t, 'eth0', `${OURS.eth0}/24`);
  engine.addAddress(t, 'eth1', `${OURS.eth1}/24`);
  engine.addAddress(t, 'br0', `${OURS.br0}/24`);
  engine.addAddress(t, 'p1', `${OURS.p1}/24`);
  engine.addAddress(t, 'carp0', `${OURS.carp0}/24`);
  engine.addAddress(t, 'carp1', `${OURS.carp1}/24`);
  engine.addAddress(t, 'eth2', `${OURS.eth2}/24`);
  engine.addAddress(t, 'eth3', `${OURS.eth3}/24`);
  engine.addAddress(t, 'eth4', `${OURS.eth4}/24`);
  engine.setInterfaceUp(t, 'eth4', false);
  engine.addRoute('10.9.0.0/16', { gateway: NEIGHBOURS.gateway.ip });
  engine.addRoute('100.64.0.0/10', { ifName: 'eth1' });
  const entry = (e: { ip: string; mac: string }) => ({ ip: parseIpv4(e.ip), mac: parseMac(e.mac) });
  engine.addEntry(t, entry(OPERATOR.staticEth0));
  engine.addEntry(t, entry(OPERATOR.staticEth1));
  engine.addEntry(t, entry(OPERATOR.staticBridge));
  engine.addEntry(t, { ...entry(OPERATOR.temp), temp: true });
  engine.addEntry(t, { ...entry(OPERATOR.published), pub: true });
  engine.addEntry(t, { ...entry(OPERATOR.proxyOnly), pub: true, only: true });
  const held = new Set<Uint8Array>();
  for (const dead of DEAD) {
    const packet = ipv4Packet(dead, 40);
    held.add(packet);
    engine.resolve(t, parseIpv4(dead), packet);
  }
  const resolved = NEIGHBOURS.resolved;
  const packet = ipv4Packet(resolved.ip, 40);
  held.add(packet);
  engine.resolve(t, parseIpv4(resolved.ip), packet);
  engine.handleFrame(t, 0, arpReply(resolved, { ip: OURS.eth0, mac: MACS.eth0 }));
  return { engine, held };
}

/** An IPv4 packet to `destination` of `size` bytes in all (at least a header). */
export function ipv4Packet(destination: string, size: number): Uint8Array {
  return buildIpv4Packet(
    {
      source: parseIpv4(OURS.eth0),
      destination: parseIpv4(destination),
      protocol: IpProtocol.Udp,
      ttl: 64,
      typeOfService: 0,
      identification: size,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
    },
    new Uint8Array(Math.max(0, size - 20)),
  );
}

/** A 42-byte Ethernet/IPv4 ARP frame; addresses as text. */
export function arpFrame(f: {
  op: number;
  sha: string;
  spa: string;
  tha: string;
  tpa: string;
  dst: string;
  src?: string;
  hrd?: number;
}): Uint8Array {
  const frame = new Uint8Array(42);
  const put = (offset: number, value: number, bytes: number) => {
    for (let i = 0; i < bytes; i++) frame[offset + i] = Math.floor(value / 256 ** (bytes - 1 - i));
  };
  put(0, parseMac(f.dst), 6);
  put(6, parseMac(f.src ?? f.sha), 6);
  frame.set([0x08, 0x06, 0, f.hrd ?? 1, 0x08, 0x00, 6, 4, 0, f.op], 12);
  put(22, parseMac(f.sha), 6);
  put(28, parseIpv4(f.spa), 4);
  put(32, parseMac(f.tha), 6);
  put(38, parseIpv4(f.tpa), 4);
  return frame;
}

/** `from` broadcasts "who has `target`". */
export function arpRequest(from: { ip: string; mac: string }, target: string): Uint8Array {
  return arpFrame({
    op: ArpOp.Request,
    sha: from.mac,
    spa: from.ip,
    tha: '00:00:00:00:00:00',
    tpa: target,
    dst: 'ff:ff:ff:ff:ff:ff',
  });
}

/** `from` tells `to`, unicast, that `from.ip` is at `from.mac`. */
export function arpReply(
  from: { ip: string; mac: string },
  to: { ip: string; mac: string },
): Uint8Array {
  return arpFrame({
    op: ArpOp.Reply,
    sha: from.mac,
    spa: from.ip,
    tha: to.mac,
    tpa: to.ip,
    dst: to.mac,
  });
}

// --- inputs -------------------------------------------------------------------------------

/** One thing that happens to the engine in a session. */
export type FuzzStep =
  | {
      readonly kind: 'frame';
      /** Interface index (an unknown one is allowed: it must be counted as down). */
      readonly ifIndex: number;
      /** Milliseconds since the previous step. */
      readonly wait: number;
      readonly frame: Uint8Array;
    }
  | {
      /** Our own traffic: resolve() of an IPv4 packet of `size` bytes to `to`. */
      readonly kind: 'send';
      readonly to: Ipv4;
      readonly size: number;
      readonly wait: number;
    }
  | {
      /** The runtime's timer fires at pollTimeout(). */
      readonly kind: 'timeout';
    };

/** A fuzz input: a variant and a session of steps from a fresh busy engine. */
export interface FuzzInput {
  readonly variant: number;
  readonly steps: readonly FuzzStep[];
}

/** The interface names of the busy engine, by index. */
export const INTERFACE_NAMES = [
  'eth0',
  'eth1',
  'br0',
  'p0',
  'p1',
  'carp0',
  'carp1',
  'eth2',
  'eth3',
  'eth4',
] as const;

/** A corpus file: the same input as readable JSON. */
export interface CorpusFile {
  readonly variant: string;
  readonly steps: readonly (
    | { readonly on: string; readonly wait: number; readonly frame: string; readonly what?: string }
    | { readonly send: string; readonly bytes: number; readonly wait: number }
    | { readonly timeout: true }
  )[];
}

const hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

function unhex(text: string): Uint8Array {
  if (!/^([0-9a-f]{2})*$/.test(text)) throw new Error(`corpus: bad hex ${JSON.stringify(text)}`);
  return Uint8Array.from(text.match(/../g) ?? [], (b) => parseInt(b, 16));
}

/** An input as a corpus file (with each frame described, for readers). */
export function toCorpusFile(input: FuzzInput): CorpusFile {
  return {
    variant: VARIANTS[input.variant % VARIANTS.length]!.name,
    steps: input.steps.map((step) => {
      switch (step.kind) {
        case 'frame':
          return {
            on: INTERFACE_NAMES[step.ifIndex] ?? `#${step.ifIndex}`,
            wait: step.wait,
            frame: hex(step.frame),
            what: describeFrame(step.frame),
          };
        case 'send':
          return { send: formatIpv4(step.to), bytes: step.size, wait: step.wait };
        case 'timeout':
          return { timeout: true as const };
        default:
          return assertNever(step);
      }
    }),
  };
}

/** A corpus file as an input; throws on a malformed file. */
export function fromCorpusFile(file: CorpusFile): FuzzInput {
  const variant = VARIANTS.findIndex((v) => v.name === file.variant);
  if (variant < 0) throw new Error(`corpus: unknown variant ${JSON.stringify(file.variant)}`);
  return {
    variant,
    steps: file.steps.map((step): FuzzStep => {
      if ('timeout' in step) return { kind: 'timeout' };
      if ('send' in step) {
        return { kind: 'send', to: parseIpv4(step.send), size: step.bytes, wait: step.wait };
      }
      const named = (INTERFACE_NAMES as readonly string[]).indexOf(step.on);
      const ifIndex = named >= 0 ? named : Number(step.on.replace(/^#/, ''));
      if (!Number.isInteger(ifIndex)) throw new Error(`corpus: bad interface ${step.on}`);
      return { kind: 'frame', ifIndex, wait: step.wait, frame: unhex(step.frame) };
    }),
  };
}

// --- invariants ---------------------------------------------------------------------------

/** A broken invariant: which one, at which step, and the detail. */
export interface Violation {
  /** A stable name of the invariant (crashes with the same kind are the same bug). */
  readonly kind: string;
  readonly step: number;
  readonly detail: string;
}

/**
 * A violation already understood and reported, which the fuzzer counts instead of failing
 * on until the engine is fixed; each has a `todo` test that shows it.
 */
export interface KnownIssue {
  readonly kind: string;
  readonly why: string;
  /** Whether this violation, for this step, is that issue. */
  matches(violation: Violation, step: FuzzStep): boolean;
}

/**
 * The issues known today, each shown by a `todo` test in test/fuzz/known-issues.test.ts.
 *
 * A frame heard on a bridge port from a sender whose entry is permanent and on another port
 * of the same bridge (or heard on the bridge itself) moves that entry to the bridge, as the
 * seed does (arp_update_oncpu, l.691-734, before its permanent check at l.737): a static
 * entry, or our own address's, changes interface at the network's word.
 */
export const KNOWN_ISSUES: readonly KnownIssue[] = [];

/**
 * Whether the master CARP interface over eth0 (carp0, 192.0.2.100) takes its own copy of
 * `frame` received on eth0 (carp_input's share, as docs/design.md has it): an Ethernet/IPv4
 * ARP frame (at least 42 bytes, hln 6, pln 4) for its address, broadcast, multicast or sent
 * to its virtual MAC. That copy goes through ARP input as a frame of its own.
 */
export function carpChildTakes(ifIndex: number, frame: Uint8Array): boolean {
  if (ifIndex !== 0 || frame.length < 42 || frame[12] !== 0x08 || frame[13] !== 0x06) return false;
  if (frame[18] !== 6 || frame[19] !== 4) return false;
  if (readIpv4(frame, 38) !== parseIpv4(OURS.carp0)) return false;
  return (frame[0]! & 1) === 1 || readMac(frame, 0) === parseMac(MACS.carp0);
}

/** The counters that see a frame before ARP does (with `received`, ARP input itself). */
const ACCOUNTED: readonly (keyof ArpStats)[] = [
  'received',
  'rxRuntEthernet',
  'rxNotArp',
  'rxNotForUs',
  'rxNoArp',
  'rxInterfaceDown',
];

/** What a run did: its violations (known ones apart), and the counters at the end. */
export interface RunResult {
  readonly violations: Violation[];
  readonly known: { issue: KnownIssue; violation: Violation }[];
  readonly stats: ArpStats;
  /** Frames the engine sent (for the fuzzer's report). */
  readonly transmitted: number;
}

/** The identity of a pinned entry (an operator's, or our own address). */
const pinKey = (e: EntryInfo): string => `${e.ip}/${e.proxyOnly ? 'proxy' : 'host'}`;

/** Whether a MAC written "aa:bb:..." is a group address (multicast or broadcast). */
function badStationMac(text: string): boolean {
  return (parseInt(text.slice(0, 2), 16) & 1) === 1;
}

/** Whether an IPv4 address no host can have an entry for (RFC 1122 section 3.2.1.3). */
function impossibleHost(text: string): boolean {
  const first = Number(text.split('.')[0]);
  return text === '0.0.0.0' || text === '255.255.255.255' || (first >= 224 && first <= 239);
}

/**
 * Runs `input` on a fresh busy engine, checking every invariant after every step. With
 * `strict`, known issues count as violations (to see whether a fix has landed).
 */
export function runInput(input: FuzzInput, strict = false): RunResult {
  const variant = VARIANTS[input.variant % VARIANTS.length]!;
  const { engine, held } = buildEngine(variant);
  const config = engine.config();
  const interfaces = engine.interfaces();
  const violations: Violation[] = [];
  const known: { issue: KnownIssue; violation: Violation }[] = [];
  let transmitted = 0;
  let now = START_AT;
  const pinned = new Map<string, EntryInfo>();
  for (const e of engine.listEntries(now)) {
    if (e.local || (e.static && e.permanent)) pinned.set(pinKey(e), e);
  }
  const ourIps = new Set<number>(Object.values(OURS).map(parseIpv4));
  const answerable = new Set<number>([
    ...ourIps,
    parseIpv4(OPERATOR.published.ip),
    parseIpv4(OPERATOR.proxyOnly.ip),
  ]);

  input.steps.forEach((step, index) => {
    const report = (kind: string, detail: string) => {
      const violation: Violation = { kind, step: index, detail };
      const issue = strict ? undefined : KNOWN_ISSUES.find((k) => k.matches(violation, step));
      if (issue) known.push({ issue, violation });
      else violations.push(violation);
    };
    const before = engine.stats();
    let outputs: Output[];
    try {
      switch (step.kind) {
        case 'frame':
          now += step.wait;
          outputs = engine.handleFrame(now, step.ifIndex, step.frame);
          break;
        case 'send': {
          now += step.wait;
          const packet = ipv4Packet(formatIpv4(step.to), step.size);
          held.add(packet);
          outputs = engine.resolve(now, step.to, packet).outputs;
          break;
        }
        case 'timeout': {
          const due = engine.pollTimeout();
          if (due === undefined) return;
          now = Math.max(now, due);
          outputs = engine.handleTimeout(now);
          break;
        }
      }
    } catch (error) {
      report('threw', error instanceof Error ? (error.stack ?? error.message) : String(error));
      return;
    }
    const after = engine.stats();
    const moved = (key: keyof ArpStats) => after[key] - before[key];

    if (step.kind === 'frame') {
      const accounted =
        ACCOUNTED.reduce((sum, key) => sum + moved(key), 0) -
        (carpChildTakes(step.ifIndex, step.frame) ? 1 : 0);
      if (accounted !== 1) {
        const changed = (Object.keys(after) as (keyof ArpStats)[])
          .filter((k) => moved(k) !== 0)
          .map((k) => `${k}+${moved(k)}`);
        report('accounted-once', `counted ${accounted} times: ${changed.join(' ')}`);
      }
    }

    const entries = engine.listEntries(now);
    const byMac = new Map(entries.filter((e) => e.mac !== undefined).map((e) => [e.ip, e.mac]));
    let transmits = 0;
    const deliveredTo = new Map<string, { count: number; bytes: number }>();
    for (const output of outputs) {
      if (output.kind === 'transmit') {
        transmits++;
        transmitted++;
        const problem = checkSentFrame(
          output.ifIndex,
          output.frame,
          interfaces,
          answerable,
          config,
        );
        if (problem) report('bad-frame', `${problem}: ${describeFrame(output.frame)}`);
        if (step.kind === 'frame' && (output.frame[21] ?? 0) !== ArpOp.Reply) {
          report('frame-caused-request', describeFrame(output.frame));
        }
      } else if (output.kind === 'deliver-held') {
        const iface = interfaces[output.ifIndex];
        const nextHop = formatIpv4(output.nextHop);
        if (!held.has(output.packet)) report('bad-delivery', `a packet we never gave (${nextHop})`);
        held.delete(output.packet);
        if ('kind' in parseIpv4Packet(output.packet)) report('bad-delivery', 'not IPv4');
        if (!iface || iface.mac !== output.source) {
          report('bad-delivery', `source ${formatMac(output.source)} on #${output.ifIndex}`);
        }
        const destination = formatMac(output.destination);
        if (badStationMac(destination) || byMac.get(nextHop) !== destination) {
          report('bad-delivery', `to ${destination} for ${nextHop} (${byMac.get(nextHop)})`);
        }
        const sum = deliveredTo.get(nextHop) ?? { count: 0, bytes: 0 };
        sum.count++;
        sum.bytes += output.packet.length;
        deliveredTo.set(nextHop, sum);
      } else if (output.event.kind === 'log' && output.event.message.length === 0) {
        report('bad-event', 'an empty log line');
      }
    }
    if (step.kind === 'frame' && transmits > 1) {
      report('amplified', `${transmits} frames sent for one received`);
    }
    for (const [nextHop, { count, bytes }] of deliveredTo) {
      if (count > config.maxhold) report('maxhold', `${count} delivered to ${nextHop}`);
      if (config.maxhold_bytes > 0 && count > 1 && bytes > config.maxhold_bytes) {
        report('maxhold_bytes', `${count} packets, ${bytes} bytes delivered to ${nextHop}`);
      }
    }

    const seen = new Map<string, EntryInfo>();
    let dynamic = 0;
    let unresolved = 0;
    for (const e of entries) {
      seen.set(pinKey(e), e);
      if (!e.local && !e.static) {
        dynamic++;
        if (e.mac === undefined && e.ip !== NEIGHBOURS.gateway.ip) unresolved++;
      }
      if (e.held > config.maxhold) report('maxhold', `${e.ip} holds ${e.held}`);
      if (e.mac !== undefined && badStationMac(e.mac) && !e.static) {
        report('bad-entry', `${e.ip} at ${e.mac}`);
      }
      if (impossibleHost(e.ip)) report('bad-entry', `an entry for ${e.ip}`);
    }
    for (const [key, pin] of pinned) {
      const current = seen.get(key);
      if (JSON.stringify(current) !== JSON.stringify(pin)) {
        report(
          'pinned-changed',
          `${key}: ${JSON.stringify(pin)} -> ${JSON.stringify(current ?? null)}`,
        );
      }
    }
    if (dynamic > config.max_entries) report('max_entries', `${dynamic} dynamic entries`);
    if (unresolved > config.max_incomplete) {
      report('max_incomplete', `${unresolved} unresolved entries`);
    }
    if (engine.size !== entries.length) {
      report('size', `size ${engine.size} but ${entries.length} listed`);
    }
  });
  return { violations, known, stats: engine.stats(), transmitted };
}

/**
 * What is wrong with a frame the engine sent on `ifIndex`, or undefined: it must be a 42-byte
 * Ethernet/IPv4 ARP request or reply from the interface's MAC; a reply goes to a unicast
 * station and speaks for an address we answer for (any, under proxyall); a request is
 * broadcast and asks with a zero target hardware address.
 */
export function checkSentFrame(
  ifIndex: number,
  frame: Uint8Array,
  interfaces: readonly { readonly mac: Mac; readonly up: boolean }[],
  answerable: ReadonlySet<number>,
  config: { readonly proxyall: number },
): string | undefined {
  const iface = interfaces[ifIndex];
  if (!iface) return `sent on unknown interface #${ifIndex}`;
  if (!iface.up) return 'sent on an interface that is down';
  if (frame.length !== 42) return `length ${frame.length}`;
  if (frame[12] !== 0x08 || frame[13] !== 0x06) return 'not ARP';
  const hrd = (frame[14]! << 8) | frame[15]!;
  if (hrd !== 1 && hrd !== 6) return `hrd ${hrd}`;
  if (frame[16] !== 0x08 || frame[17] !== 0x00 || frame[18] !== 6 || frame[19] !== 4) {
    return 'not Ethernet/IPv4';
  }
  if (readMac(frame, 6) !== iface.mac) return 'Ethernet source is not the interface';
  const op = (frame[20]! << 8) | frame[21]!;
  const destination = readMac(frame, 0);
  const sha = readMac(frame, 22);
  const tha = readMac(frame, 32);
  if ((Math.floor(sha / 2 ** 40) & 1) === 1) return 'group sender hardware address';
  if (op === ArpOp.Reply) {
    if ((Math.floor(destination / 2 ** 40) & 1) === 1) return 'reply to a group address';
    if (destination !== tha) return 'reply: Ethernet destination differs from tha';
    const spa = readIpv4(frame, 28);
    if (!answerable.has(spa) && config.proxyall !== 1) return 'reply for an address not ours';
    return undefined;
  }
  if (op === ArpOp.Request) {
    if (destination !== 0xffff_ffff_ffff) return 'request not broadcast';
    if (tha !== 0) return 'request with a target hardware address';
    return undefined;
  }
  return `op ${op}`;
}
