/**
 * The in-process stress scenarios of the issue's "Floods and limits": each drives one engine
 * with a flood at a given scale (1: the issue's full size) on a virtual clock, calling the
 * timer whenever `pollTimeout` says, as the runtime does, and measures the table, the counters
 * and the heap (sampled as it goes for the peak, and after a full garbage collection at five
 * checkpoints for what is retained, so that a plateau shows). "Heap" here is V8's heap plus
 * ArrayBuffers: the table's columns and the held packets are typed arrays.
 *
 * - `senders`: 1,000,000 requests for us, each from a new sender: each would create an entry.
 * - `storm-one`, `storm-many`: a request storm for our address from one sender, and from a
 *   thousand in turn.
 * - `claims`: a storm of frames claiming our address (each logged and defended), with
 *   `log_ratelimit` at its default (0: every line) and at 1.
 * - `dead`: resolve() to 100,000 addresses that never answer, at the defaults and with
 *   `max_requests_per_sec`, `hold_timeout` and `maxhold` set; then the clock runs on half an
 *   hour to show everything drains.
 *
 * Run one per process (worker.ts) with --expose-gc, so that heap and peak RSS are its own.
 */
import { Engine } from '../../src/core/engine.ts';
import type { RouteEventType } from '../../src/core/events.ts';
import type { OutputSink } from '../../src/core/output.ts';
import type { ArpStats } from '../../src/core/stats.ts';
import { type Ipv4, type Mac, parseIpv4 } from '../../src/wire/addr.ts';
import { buildIpv4Packet, IpProtocol } from '../../src/wire/ipv4.ts';

/** One measurement point. */
export interface Checkpoint {
  /** Inputs (frames or sends) so far. */
  readonly inputs: number;
  readonly entries: number;
  /** Heap and ArrayBuffers used after a full collection, bytes. */
  readonly heapRetained: number;
}

/** What a scenario measured. */
export interface ScenarioResult {
  readonly name: string;
  readonly scale: number;
  /** Inputs fed (frames or resolve calls). */
  readonly inputs: number;
  /** Wall-clock seconds of the feeding, and inputs per second. */
  readonly seconds: number;
  readonly inputsPerSecond: number;
  /** Virtual seconds the scenario spanned. */
  readonly virtualSeconds: number;
  /** The caps in force. */
  readonly maxEntries: number;
  readonly maxIncomplete: number;
  /** Entries at the end (host and proxy-only, our own address included). */
  readonly entries: number;
  /** The largest table size seen at any checkpoint. */
  readonly peakEntries: number;
  /** Packets held at the end, and the most seen at any checkpoint. */
  readonly held: number;
  readonly peakHeld: number;
  /**
   * Memory in bytes, as the JavaScript heap plus ArrayBuffers (the table's columns and held
   * packets are typed arrays, outside the heap): after a full collection before the flood
   * (engine built), the most seen while feeding (sampled, no collection), and after a full
   * collection at the end.
   */
  readonly heapBaseline: number;
  readonly heapPeak: number;
  readonly heapRetained: number;
  /** Peak resident set size of the process, bytes. */
  readonly rssPeak: number;
  readonly checkpoints: readonly Checkpoint[];
  /** Every counter that moved. */
  readonly counters: Partial<ArpStats>;
  /** What the sink saw: frames sent, replies among them, log lines, entry events. */
  readonly sink: { transmits: number; replies: number; logLines: number; entryEvents: number };
  /** Scenario-specific figures. */
  readonly extra: Readonly<Record<string, number>>;
}

/** The scenario names, in the order `npm run stress` runs them. */
export const SCENARIOS = [
  'senders',
  'storm-one',
  'storm-many',
  'claims',
  'claims-ratelimited',
  'dead',
  'dead-limited',
] as const;

/** A scenario's name. */
export type ScenarioName = (typeof SCENARIOS)[number];

/** The engine's own station on its one interface, eth0 10.0.0.1/8 (room for 16M senders). */
const OUR_MAC = 0x02_00_0a_00_00_01;
const OUR_IP = parseIpv4('10.0.0.1');
/** A sender's IP: 10.0.0.2 + i; its MAC: 02:00 then its address. */
const senderIp = (i: number): Ipv4 => (parseIpv4('10.0.0.2') + i) >>> 0;
const senderMac = (ip: Ipv4): Mac => 0x02_00_00_00_00_00 + ip;

/** A sink that counts, as a runtime would consume outputs, keeping nothing. */
class CountingSink implements OutputSink {
  transmits = 0;
  replies = 0;
  logLines = 0;
  entryEvents = 0;
  delivered = 0;
  transmit(_ifIndex: number, frame: Uint8Array): void {
    this.transmits++;
    if (frame[21] === 2) this.replies++;
  }
  deliverHeld(): void {
    this.delivered++;
  }
  event(): void {
    this.logLines++;
  }
  entryEvent(_type: RouteEventType, _ifName: string, _ip: Ipv4, _mac: Mac | undefined): void {
    this.entryEvents++;
  }
}

/** One ARP frame, rewritten in place for each sender (as a receive buffer is). */
class FrameWriter {
  readonly frame = new Uint8Array(42);
  constructor() {
    const f = this.frame;
    f.fill(0xff, 0, 6);
    f.set([0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0, 1], 12);
  }
  /** A request (op 1) or reply from `ip`/`mac` (sha) for `targetIp`. */
  set(op: number, ip: Ipv4, mac: Mac, targetIp: Ipv4): Uint8Array {
    const f = this.frame;
    writeMac(f, 6, mac);
    f[21] = op;
    writeMac(f, 22, mac);
    writeIp(f, 28, ip);
    writeIp(f, 38, targetIp);
    return f;
  }
}

function writeMac(bytes: Uint8Array, offset: number, mac: Mac): void {
  const high = Math.floor(mac / 2 ** 32);
  const low = mac >>> 0;
  bytes[offset] = high >>> 8;
  bytes[offset + 1] = high & 0xff;
  writeIp(bytes, offset + 2, low);
}

function writeIp(bytes: Uint8Array, offset: number, ip: number): void {
  bytes[offset] = ip >>> 24;
  bytes[offset + 1] = (ip >>> 16) & 0xff;
  bytes[offset + 2] = (ip >>> 8) & 0xff;
  bytes[offset + 3] = ip & 0xff;
}

/**
 * The engine's memory as V8 reports it: the JavaScript heap plus the ArrayBuffers outside it,
 * where the table's typed-array columns and every held packet live.
 */
function memoryUsed(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** `global.gc`, which --expose-gc provides; the scenarios need it to measure what is retained. */
function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('stress scenarios need node --expose-gc');
  gc();
  gc();
}

/** Drives one engine: inputs, the timer when due, and the measurements. */
class Harness {
  readonly engine: Engine;
  readonly sink = new CountingSink();
  readonly checkpoints: Checkpoint[] = [];
  now = 0;
  inputs = 0;
  heapPeak = 0;
  peakEntries = 0;
  peakHeld = 0;
  readonly heapBaseline: number;
  private readonly started: number;
  private readonly before: ArpStats;

  constructor(config: Record<string, number>) {
    this.engine = new Engine({ config });
    this.engine.addInterface({ name: 'eth0', mac: OUR_MAC });
    this.engine.addAddress(0, 'eth0', '10.0.0.1/8');
    this.now = 1000;
    this.before = this.engine.stats();
    collect();
    this.heapBaseline = memoryUsed();
    this.heapPeak = this.heapBaseline;
    this.started = performance.now();
  }

  /** Runs the timer while it is due (the runtime's one timer). */
  timers(): void {
    for (let due = this.engine.pollTimeout(); due !== undefined && due <= this.now; ) {
      this.engine.handleTimeoutInto(this.now, this.sink);
      due = this.engine.pollTimeout();
    }
  }

  /** Samples the heap (cheap, no collection); every `every` inputs. */
  sample(): void {
    const used = memoryUsed();
    if (used > this.heapPeak) this.heapPeak = used;
    if (this.engine.size > this.peakEntries) this.peakEntries = this.engine.size;
  }

  /** A checkpoint: full collection, retained heap, table size, packets held. */
  checkpoint(): void {
    this.sample();
    const held = this.held();
    if (held > this.peakHeld) this.peakHeld = held;
    collect();
    this.checkpoints.push({
      inputs: this.inputs,
      entries: this.engine.size,
      heapRetained: memoryUsed(),
    });
  }

  held(): number {
    let held = 0;
    for (const e of this.engine.listEntries(this.now)) held += e.held;
    return held;
  }

  finish(name: string, scale: number, extra: Record<string, number> = {}): ScenarioResult {
    const seconds = (performance.now() - this.started) / 1000;
    this.checkpoint();
    const after = this.engine.stats();
    const counters: Partial<ArpStats> = {};
    for (const key of Object.keys(after) as (keyof ArpStats)[]) {
      const moved = after[key] - this.before[key];
      if (moved !== 0) counters[key] = moved;
    }
    const last = this.checkpoints.at(-1)!;
    return {
      name,
      scale,
      inputs: this.inputs,
      seconds,
      inputsPerSecond: this.inputs / seconds,
      virtualSeconds: (this.now - 1000) / 1000,
      maxEntries: this.engine.getSysctl('max_entries'),
      maxIncomplete: this.engine.getSysctl('max_incomplete'),
      entries: this.engine.size,
      peakEntries: this.peakEntries,
      held: this.held(),
      peakHeld: this.peakHeld,
      heapBaseline: this.heapBaseline,
      heapPeak: this.heapPeak,
      heapRetained: last.heapRetained,
      rssPeak: process.resourceUsage().maxRSS * 1024,
      checkpoints: this.checkpoints,
      counters,
      sink: {
        transmits: this.sink.transmits,
        replies: this.sink.replies,
        logLines: this.sink.logLines,
        entryEvents: this.sink.entryEvents,
      },
      extra,
    };
  }
}

/**
 * Feeds `count` inputs through `feed(i)` with the clock advancing `stepUs` microseconds each
 * (computed from the start, not summed, so that it stays exact), the timer run when due, the
 * heap sampled every 1/100 and a checkpoint every 1/5 of the way.
 */
function drive(h: Harness, count: number, stepUs: number, feed: (i: number) => void): void {
  const sampleEvery = Math.max(1, Math.floor(count / 100));
  const checkpointEvery = Math.max(1, Math.floor(count / 5));
  const start = h.now;
  for (let i = 0; i < count; i++) {
    h.now = start + ((i + 1) * stepUs) / 1000;
    h.timers();
    feed(i);
    h.inputs++;
    if ((i + 1) % sampleEvery === 0) h.sample();
    if ((i + 1) % checkpointEvery === 0 && i + 1 < count) h.checkpoint();
  }
}

/** The scaled size of a full-size count (at least 1). */
const scaled = (full: number, scale: number) => Math.max(1, Math.round(full * scale));

/**
 * Requests for our address from `count` distinct senders at 100,000 frames a second. At
 * scale 1 the defaults apply (max_entries 65,536); scaled down, max_entries is scaled too so
 * that the table still fills and evicts for most of the run.
 */
function senders(scale: number): ScenarioResult {
  const config: Record<string, number> = scale === 1 ? {} : { max_entries: scaled(65_536, scale) };
  const h = new Harness(config);
  const writer = new FrameWriter();
  drive(h, scaled(1_000_000, scale), 10, (i) => {
    const ip = senderIp(i);
    h.engine.handleFrameInto(h.now, 0, writer.set(1, ip, senderMac(ip), OUR_IP), h.sink);
  });
  return h.finish('senders', scale);
}

/** A request storm for our address from `senderCount` senders in turn. */
function storm(name: string, scale: number, senderCount: number): ScenarioResult {
  const h = new Harness({});
  const writer = new FrameWriter();
  drive(h, scaled(1_000_000, scale), 10, (i) => {
    const ip = senderIp(i % senderCount);
    h.engine.handleFrameInto(h.now, 0, writer.set(1, ip, senderMac(ip), OUR_IP), h.sink);
  });
  return h.finish(name, scale, { senders: senderCount });
}

/**
 * Frames claiming our own address ("using my IP address"), from a thousand forged MACs in
 * turn, every 100 microseconds: each is logged (or suppressed) and defended with a reply.
 */
function claims(name: string, scale: number, logRatelimit: number): ScenarioResult {
  const h = new Harness({ log_ratelimit: logRatelimit });
  const writer = new FrameWriter();
  drive(h, scaled(1_000_000, scale), 100, (i) => {
    const mac = senderMac(senderIp(i % 1000));
    h.engine.handleFrameInto(h.now, 0, writer.set(1, OUR_IP, mac, OUR_IP), h.sink);
  });
  return h.finish(name, scale, { logRatelimit });
}

/**
 * resolve() of a fresh 1500-byte packet to `count` addresses that never answer, one every
 * 100 microseconds, then the clock runs on 30 minutes with the timer (retries, down, expiry).
 */
function dead(name: string, scale: number, config: Record<string, number>): ScenarioResult {
  const h = new Harness(config);
  const payload = new Uint8Array(1480);
  const base = parseIpv4('10.128.0.0');
  let heldAtEnd = 0;
  drive(h, scaled(100_000, scale), 100, (i) => {
    const destination = (base + i) >>> 0;
    const packet = buildIpv4Packet(
      {
        source: OUR_IP,
        destination,
        protocol: IpProtocol.Udp,
        ttl: 64,
        typeOfService: 0,
        identification: i & 0xffff,
        dontFragment: true,
        moreFragments: false,
        fragmentOffset: 0,
      },
      payload,
    );
    h.engine.resolveInto(h.now, destination, packet, h.sink);
  });
  h.checkpoint();
  heldAtEnd = h.held();
  const entriesAtEnd = h.engine.size;
  const requestsAtEnd = h.engine.stats().txrequests;
  // Half an hour more: the timer alone, as the runtime would run it.
  const until = h.now + 30 * 60 * 1000;
  for (let due = h.engine.pollTimeout(); due !== undefined && due <= until; ) {
    h.now = Math.max(h.now, due);
    h.engine.handleTimeoutInto(h.now, h.sink);
    due = h.engine.pollTimeout();
  }
  h.now = until;
  return h.finish(name, scale, {
    heldAfterSends: heldAtEnd,
    entriesAfterSends: entriesAtEnd,
    requestsAfterSends: requestsAtEnd,
  });
}

/** Runs scenario `name` at `scale`. */
export function runScenario(name: ScenarioName, scale: number): ScenarioResult {
  switch (name) {
    case 'senders':
      return senders(scale);
    case 'storm-one':
      return storm(name, scale, 1);
    case 'storm-many':
      return storm(name, scale, 1000);
    case 'claims':
      return claims(name, scale, 0);
    case 'claims-ratelimited':
      return claims(name, scale, 1);
    case 'dead':
      return dead(name, scale, {});
    case 'dead-limited':
      return dead(name, scale, { max_requests_per_sec: 100, hold_timeout: 3, maxhold: 4 });
  }
}
