/**
 * Seeds and mutations of fuzz inputs, driven by a seeded generator so that a run is
 * reproducible from its seed. Frame mutations are byte-level (bit flips, random and boundary
 * bytes, truncation, padding and FCS-like trailers, splices from other frames) and
 * ARP-aware (hrd, pro, hln, pln and op set to boundary and unknown values; Ethernet and ARP
 * addresses drawn from the engine's own addresses, its operator entries, its neighbours and
 * the addresses no host can have). Session mutations insert, delete, duplicate and reorder
 * steps, move a frame to another interface, change the waits (across locktime, expiry and
 * hold_timeout), add sends and timer runs, switch the variant and splice sessions.
 */
import { parseIpv4, parseMac } from '../../src/wire/addr.ts';
import {
  arpFrame,
  arpReply,
  arpRequest,
  DEAD,
  type FuzzInput,
  type FuzzStep,
  MACS,
  NEIGHBOURS,
  OPERATOR,
  OURS,
  VARIANTS,
} from './target.ts';

/** A small, fast, seeded generator (mulberry32). */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in 0..n-1. */
  below(n: number): number {
    return n <= 1 ? 0 : this.next() % n;
  }

  /** One of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() / 2 ** 32 < p;
  }
}

// --- the pools ----------------------------------------------------------------------------

const station = (ip: string, mac: string) => ({ ip, mac });

/** IPv4 addresses worth trying in any address field. */
const IPS: readonly string[] = [
  ...Object.values(OURS),
  ...Object.values(OPERATOR).map((e) => e.ip),
  ...Object.values(NEIGHBOURS).map((e) => e.ip),
  ...DEAD,
  '0.0.0.0',
  '255.255.255.255',
  '192.0.2.255',
  '192.0.2.0',
  '224.0.0.1',
  '239.255.255.250',
  '100.64.0.9',
  '10.9.0.1',
  '127.0.0.1',
  '192.0.2.77',
  '198.51.100.77',
  '203.0.113.77',
];

/** MAC addresses worth trying in any hardware address field. */
const MAC_POOL: readonly string[] = [
  ...Object.values(MACS),
  ...Object.values(OPERATOR).map((e) => e.mac),
  ...Object.values(NEIGHBOURS).map((e) => e.mac),
  'ff:ff:ff:ff:ff:ff',
  '00:00:00:00:00:00',
  '01:00:5e:00:00:01',
  '33:33:00:00:00:01',
  '03:00:00:00:00:00',
  '02:00:00:00:00:aa',
  '02:00:00:00:00:77',
];

const HARDWARE_TYPES = [0, 1, 2, 6, 0x0100, 0xffff];
const PROTOCOL_TYPES = [0x0800, 0x0806, 0x86dd, 0, 0xffff];
const HARDWARE_LENGTHS = [0, 1, 2, 4, 5, 6, 7, 8, 16, 255];
const PROTOCOL_LENGTHS = [0, 1, 3, 4, 5, 6, 16, 255];
const OPERATIONS = [0, 1, 2, 3, 4, 8, 9, 0x0100, 0xffff];
const ETHER_TYPES = [0x0806, 0x0800, 0x8100, 0x86dd, 0x0000, 0xffff];
const INTERESTING_BYTES = [0, 1, 2, 4, 5, 6, 7, 8, 0x7f, 0x80, 0xfe, 0xff];
const LENGTHS = [0, 1, 13, 14, 15, 21, 22, 23, 27, 28, 29, 41, 42, 43, 59, 60, 64];
/** Waits that cross the engine's thresholds: none, locktime, a second, hold_timeout, expiry. */
const WAITS = [0, 1, 250, 999, 1000, 1001, 2500, 5000, 6000, 31_000, 300_000, 1_300_000];

/** Interfaces frames are received on (the Ethernet ones, mostly), and one that is not there. */
const RECEIVING = [0, 0, 0, 0, 1, 1, 3, 4, 7, 8, 9, 2, 5, 42];

/** The frames every run starts from: one for each way the engine treats valid ARP. */
export function seedFrames(): { ifIndex: number; frame: Uint8Array }[] {
  const us0 = station(OURS.eth0, MACS.eth0);
  const us1 = station(OURS.eth1, MACS.eth1);
  const n = NEIGHBOURS;
  const stranger = station('192.0.2.77', '02:00:00:00:00:77');
  const onBridge = station(n.bridge.ip, n.bridge.mac);
  return [
    { ifIndex: 0, frame: arpRequest(stranger, OURS.eth0) },
    { ifIndex: 0, frame: arpReply(stranger, us0) },
    { ifIndex: 0, frame: arpRequest(n.resolved, OURS.eth0) },
    { ifIndex: 0, frame: arpReply(station(n.resolved.ip, '02:00:00:00:00:aa'), us0) },
    { ifIndex: 0, frame: arpRequest(stranger, stranger.ip) },
    { ifIndex: 0, frame: arpRequest(station(DEAD[0], '02:00:00:00:00:20'), OURS.eth0) },
    { ifIndex: 0, frame: arpReply(station(DEAD[1], '02:00:00:00:00:21'), us0) },
    { ifIndex: 0, frame: arpReply(station(n.gateway.ip, n.gateway.mac), us0) },
    { ifIndex: 0, frame: arpRequest(stranger, OURS.carp0) },
    { ifIndex: 0, frame: arpRequest(stranger, OURS.carp1) },
    { ifIndex: 0, frame: arpRequest(stranger, OPERATOR.published.ip) },
    { ifIndex: 0, frame: arpRequest(stranger, OPERATOR.proxyOnly.ip) },
    { ifIndex: 0, frame: arpReply(station(OPERATOR.staticEth0.ip, '02:00:00:00:00:66'), us0) },
    { ifIndex: 0, frame: arpRequest(station(OURS.eth0, '02:00:00:00:00:66'), OURS.eth0) },
    { ifIndex: 0, frame: arpRequest(station('0.0.0.0', stranger.mac), OURS.eth0) },
    { ifIndex: 0, frame: arpRequest(stranger, '100.64.0.9') },
    { ifIndex: 0, frame: arpRequest(station(OPERATOR.temp.ip, '02:00:00:00:00:66'), OURS.eth0) },
    { ifIndex: 1, frame: arpRequest(station(n.eth1.ip, n.eth1.mac), OURS.eth1) },
    { ifIndex: 1, frame: arpReply(station(DEAD[2], '02:00:00:00:01:20'), us1) },
    { ifIndex: 0, frame: arpRequest(station(n.eth1.ip, n.eth1.mac), OURS.eth0) },
    { ifIndex: 3, frame: arpRequest(onBridge, OURS.br0) },
    { ifIndex: 3, frame: arpRequest(onBridge, OURS.p1) },
    { ifIndex: 4, frame: arpRequest(onBridge, OURS.br0) },
    { ifIndex: 2, frame: arpRequest(onBridge, OURS.p1) },
    { ifIndex: 7, frame: arpRequest(station(n.eth2.ip, n.eth2.mac), OURS.eth2) },
    { ifIndex: 8, frame: arpRequest(station('10.0.3.9', '02:00:00:00:04:09'), OURS.eth3) },
    { ifIndex: 9, frame: arpRequest(station('10.0.4.9', '02:00:00:00:05:09'), OURS.eth4) },
    {
      ifIndex: 0,
      frame: arpFrame({
        op: 1,
        sha: stranger.mac,
        spa: stranger.ip,
        tha: '00:00:00:00:00:00',
        tpa: OURS.carp0,
        dst: MACS.carp0,
      }),
    },
  ];
}

/** The seed inputs: each seed frame alone, under each variant, and a few longer sessions. */
export function seedInputs(): FuzzInput[] {
  const frames = seedFrames();
  const inputs: FuzzInput[] = [];
  for (let variant = 0; variant < VARIANTS.length; variant++) {
    for (const { ifIndex, frame } of frames) {
      inputs.push({ variant, steps: [{ kind: 'frame', ifIndex, wait: 250, frame }] });
    }
    inputs.push({
      variant,
      steps: [
        ...frames
          .slice(0, 8)
          .map(({ ifIndex, frame }): FuzzStep => ({ kind: 'frame', ifIndex, wait: 600, frame })),
        { kind: 'send', to: parseIpv4('192.0.2.77'), size: 60, wait: 0 },
        { kind: 'timeout' },
        { kind: 'send', to: parseIpv4(DEAD[0]), size: 1500, wait: 1000 },
      ],
    });
  }
  return inputs;
}

// --- mutations ----------------------------------------------------------------------------

const putMac = (bytes: Uint8Array, offset: number, mac: string) => {
  const value = parseMac(mac);
  for (let i = 0; i < 6 && offset + i < bytes.length; i++) {
    bytes[offset + i] = Math.floor(value / 256 ** (5 - i)) & 0xff;
  }
};

const putIp = (bytes: Uint8Array, offset: number, ip: string) => {
  const value = parseIpv4(ip);
  for (let i = 0; i < 4 && offset + i < bytes.length; i++) {
    bytes[offset + i] = (value >>> (8 * (3 - i))) & 0xff;
  }
};

const put16 = (bytes: Uint8Array, offset: number, value: number) => {
  if (offset < bytes.length) bytes[offset] = value >>> 8;
  if (offset + 1 < bytes.length) bytes[offset + 1] = value & 0xff;
};

/** Offsets of the ARP address fields when hln is 6 and pln 4 (sha, spa, tha, tpa). */
const SHA = 22;
const SPA = 28;
const THA = 32;
const TPA = 38;

/** One mutation of a frame (a new array; the original is left alone). */
export function mutateFrame(
  random: Random,
  original: Uint8Array,
  donors: readonly Uint8Array[],
): Uint8Array {
  let bytes: Uint8Array = original.slice();
  const anyIndex = () => random.below(Math.max(1, bytes.length));
  switch (random.below(17)) {
    case 0: {
      if (bytes.length > 0) bytes[anyIndex()]! ^= 1 << random.below(8);
      break;
    }
    case 1: {
      if (bytes.length > 0) bytes[anyIndex()] = random.below(256);
      break;
    }
    case 2: {
      if (bytes.length > 0) bytes[anyIndex()] = random.pick(INTERESTING_BYTES);
      break;
    }
    case 3: {
      const length = random.chance(0.5) ? random.pick(LENGTHS) : random.below(bytes.length + 1);
      bytes = resize(bytes, Math.min(length, bytes.length));
      break;
    }
    case 4: {
      // Padding to the Ethernet minimum, an FCS-like trailer, or random trailing bytes.
      const extra = random.pick([60 - bytes.length, 4, 18, random.below(40)]);
      const longer = resize(bytes, bytes.length + Math.max(1, extra));
      for (let i = bytes.length; i < longer.length; i++) {
        longer[i] = random.chance(0.5) ? 0 : random.below(256);
      }
      bytes = longer;
      break;
    }
    case 5:
      put16(bytes, 14, random.pick(HARDWARE_TYPES));
      break;
    case 6:
      put16(bytes, 16, random.pick(PROTOCOL_TYPES));
      break;
    case 7:
      if (bytes.length > 18) bytes[18] = random.pick(HARDWARE_LENGTHS);
      break;
    case 8:
      if (bytes.length > 19) bytes[19] = random.pick(PROTOCOL_LENGTHS);
      break;
    case 9:
      put16(bytes, 20, random.pick(OPERATIONS));
      break;
    case 10:
      putMac(bytes, random.pick([SHA, THA]), random.pick(MAC_POOL));
      break;
    case 11:
      putIp(bytes, random.pick([SPA, TPA]), random.pick(IPS));
      break;
    case 12:
      putMac(bytes, random.pick([0, 6]), random.pick(MAC_POOL));
      break;
    case 13:
      put16(bytes, 12, random.pick(ETHER_TYPES));
      break;
    case 14: {
      // Gratuitous (tpa = spa), or sender and target swapped.
      if (bytes.length >= 42) {
        if (random.chance(0.5)) bytes.copyWithin(TPA, SPA, SPA + 4);
        else {
          const sender = bytes.slice(SHA, SHA + 10);
          bytes.copyWithin(SHA, THA, THA + 10);
          bytes.set(sender, THA);
        }
      }
      break;
    }
    case 15:
      bytes = relayout(random, bytes);
      break;
    default: {
      // A run of bytes from another frame, at the same offset.
      const donor = donors.length > 0 ? random.pick(donors) : original;
      if (donor.length === 0) break;
      const start = random.below(donor.length);
      const end = Math.min(donor.length, start + 1 + random.below(16));
      if (bytes.length < end) bytes = resize(bytes, end);
      bytes.set(donor.subarray(start, end), start);
      break;
    }
  }
  return bytes;
}

/**
 * The frame's ARP packet rewritten for another hln or pln: the addresses kept (each cut or
 * zero-padded to its new length) and moved to where those lengths put them, so that the
 * engine reads the intended sender and target, not shifted bytes.
 */
function relayout(random: Random, bytes: Uint8Array): Uint8Array {
  if (bytes.length < 20) return bytes;
  const oldHln = bytes[18]!;
  const oldPln = bytes[19]!;
  const hln = random.chance(0.5) ? random.pick(HARDWARE_LENGTHS) : oldHln;
  const pln = random.chance(0.5) ? random.pick(PROTOCOL_LENGTHS) : oldPln;
  const field = (offset: number, from: number, to: number) => {
    const out = new Uint8Array(to);
    out.set(bytes.subarray(offset, offset + Math.min(from, to)));
    return out;
  };
  const sha = field(22, oldHln, hln);
  const spa = field(22 + oldHln, oldPln, pln);
  const tha = field(22 + oldHln + oldPln, oldHln, hln);
  const tpa = field(22 + 2 * oldHln + oldPln, oldPln, pln);
  const out = new Uint8Array(22 + 2 * hln + 2 * pln);
  out.set(bytes.subarray(0, 22));
  out[18] = hln;
  out[19] = pln;
  out.set(sha, 22);
  out.set(spa, 22 + hln);
  out.set(tha, 22 + hln + pln);
  out.set(tpa, 22 + 2 * hln + pln);
  return out;
}

function resize(bytes: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(Math.max(0, length));
  out.set(bytes.subarray(0, out.length));
  return out;
}

/** Steps a session has at most (longer ones are cut). */
export const MAX_STEPS = 16;

/** A step with a fresh seed frame. */
function freshFrameStep(random: Random, frames: readonly { ifIndex: number; frame: Uint8Array }[]) {
  const seed = random.pick(frames);
  return {
    kind: 'frame' as const,
    ifIndex: seed.ifIndex,
    wait: random.pick(WAITS),
    frame: seed.frame,
  };
}

/** Mutates `input` once or a few times (stacked); `others` are the corpus to splice from. */
export function mutateInput(
  random: Random,
  input: FuzzInput,
  others: readonly FuzzInput[],
  frames: readonly { ifIndex: number; frame: Uint8Array }[],
): FuzzInput {
  let variant = input.variant;
  let steps = [...input.steps];
  const donors = frames.map((f) => f.frame);
  const rounds = 1 + random.below(random.chance(0.3) ? 6 : 2);
  for (let round = 0; round < rounds; round++) {
    const frameSteps = steps
      .map((step, index) => ({ step, index }))
      .filter((s) => s.step.kind === 'frame');
    const choice = random.below(20);
    if (choice < 10 && frameSteps.length > 0) {
      const { step, index } = random.pick(frameSteps);
      if (step.kind !== 'frame') continue;
      steps[index] = { ...step, frame: mutateFrame(random, step.frame, donors) };
    } else if (choice < 12) {
      steps.splice(random.below(steps.length + 1), 0, freshFrameStep(random, frames));
    } else if (choice === 12 && steps.length > 1) {
      steps.splice(random.below(steps.length), 1);
    } else if (choice === 13 && steps.length > 0) {
      const at = random.below(steps.length);
      steps.splice(at, 0, steps[at]!);
    } else if (choice === 14 && frameSteps.length > 0) {
      const { step, index } = random.pick(frameSteps);
      if (step.kind === 'frame') steps[index] = { ...step, ifIndex: random.pick(RECEIVING) };
    } else if (choice === 15 && steps.length > 0) {
      const at = random.below(steps.length);
      const step = steps[at]!;
      if (step.kind !== 'timeout') steps[at] = { ...step, wait: random.pick(WAITS) };
    } else if (choice === 16) {
      const to = random.chance(0.5) ? random.pick(IPS) : `192.0.2.${random.below(256)}`;
      const size = random.pick([20, 28, 60, 100, 576, 1500]);
      steps.splice(random.below(steps.length + 1), 0, {
        kind: 'send',
        to: parseIpv4(to),
        size,
        wait: random.pick(WAITS),
      });
    } else if (choice === 17) {
      steps.splice(random.below(steps.length + 1), 0, { kind: 'timeout' });
    } else if (choice === 18) {
      variant = random.below(VARIANTS.length);
    } else if (others.length > 0) {
      const other = random.pick(others);
      const cut = random.below(steps.length + 1);
      const from = random.below(other.steps.length + 1);
      steps = [...steps.slice(0, cut), ...other.steps.slice(from)];
    }
  }
  if (steps.length === 0) steps.push(freshFrameStep(random, frames));
  return { variant, steps: steps.slice(0, MAX_STEPS) };
}
