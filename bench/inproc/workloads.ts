/**
 * The four in-process workloads of WORKLOADS.md (reply, learn, hit, miss), each driving the
 * public engine API (`Engine.handleFrameInto` / `Engine.resolveInto`) with a caller-supplied
 * sink (which lends the engine its transmit buffer) and, for `resolveInto`, a caller-supplied
 * result that every call fills, a table capacity of N set through the `max_entries` sysctl
 * (and `max_incomplete` = N), and H distinct hosts cycled 0..H-1.
 *
 * A workload is built, checked byte for byte against the golden frames (`verify`), and then
 * timed by `run`, whose loop calls the engine `count` times; `perOp` says what every
 * operation must cause, which the worker checks after each repetition from the sink's
 * counters.
 */
import { Engine } from '../../src/core/engine.ts';
import { MutableResolveResult } from '../../src/core/resolve.ts';
import { formatIpv4, formatMac, writeMac } from '../../src/wire/addr.ts';
import {
  type AddressPlan,
  addressPlan,
  fillerIp,
  GOLDEN,
  hostIp,
  hostMac,
  IF_NAME,
  InputFrame,
  missIp,
  OUR_MAC,
  PACKET_LEN,
  putMac,
  sameBytes,
  toHex,
} from './plan.ts';
import { BenchSink, FormattedEventSink, type SinkCounts, zeroCounts } from './sink.ts';

/** The workloads, by name. */
export const WORKLOADS = ['reply', 'learn', 'hit', 'miss'] as const;

/** A workload's name. */
export type WorkloadName = (typeof WORKLOADS)[number];

/** What to build. */
export interface WorkloadSpec {
  readonly workload: WorkloadName;
  /** Table capacity (`max_entries`, `max_incomplete`). */
  readonly n: number;
  /** Distinct hosts cycled (reply, learn, hit); miss uses its own addresses. */
  readonly h: number;
  /** `raw`: a sink taking entry events raw; `formatted`: one taking `EngineEvent`s. */
  readonly events: 'raw' | 'formatted';
}

/** What every operation of a workload must cause, in steady state. */
export type PerOp = Readonly<SinkCounts> & {
  /** `resolve` results: resolved, held. */
  readonly resolved: number;
  readonly held: number;
};

/** A built workload. */
export interface Workload {
  readonly spec: WorkloadSpec;
  readonly engine: Engine;
  readonly counts: Readonly<SinkCounts>;
  /** `resolve` results seen so far (hit, miss). */
  readonly results: { resolved: number; held: number; other: number };
  readonly perOp: PerOp;
  /** Calls the engine for operations from, from + 1, ..., from + count - 1 at time `now` (ms). */
  run(from: number, count: number, now: number): void;
  /** Checks the outputs against the golden frames; returns the problems (none: empty). */
  verify(now: number): string[];
}

/** The time the workloads start at (ms); every later time is this plus real elapsed time. */
export const START_MS = 10_000;

const NONE: PerOp = { ...zeroCounts(), resolved: 0, held: 0 };

/** Builds a workload: the engine, its table filled as the definition says, and its loop. */
export function buildWorkload(spec: WorkloadSpec): Workload {
  const plan = addressPlan(spec.n);
  const engine = new Engine({ config: { max_entries: spec.n, max_incomplete: spec.n } });
  engine.addInterface({ name: IF_NAME, mac: OUR_MAC });
  engine.addAddress(START_MS, IF_NAME, plan.cidr);
  const sink = spec.events === 'raw' ? new BenchSink() : new FormattedEventSink();
  switch (spec.workload) {
    case 'reply':
    case 'learn':
      return frameWorkload(spec, engine, sink);
    case 'hit':
      return hitWorkload(spec, engine, sink);
    case 'miss':
      return missWorkload(spec, plan, engine, sink);
  }
}

/** reply and learn: one ARP frame from host c per operation. */
function frameWorkload(
  spec: WorkloadSpec,
  engine: Engine,
  sink: BenchSink | FormattedEventSink,
): Workload {
  const reply = spec.workload === 'reply';
  const input = new InputFrame(reply ? 1 : 2);
  const bytes = input.bytes;
  const h = spec.h;
  const replaced = spec.h > spec.n;
  // The host of the next operation, cycling 0..H-1 (a counter: a modulo is a division).
  let host = 0;
  return {
    spec,
    engine,
    counts: sink.counts,
    results: { resolved: 0, held: 0, other: 0 },
    // Replacement: the sender's entry was evicted long ago, so each frame evicts the least
    // recently used entry, adds the sender's and resolves it.
    perOp: {
      ...NONE,
      transmits: reply ? 1 : 0,
      deletes: replaced ? 1 : 0,
      adds: replaced ? 1 : 0,
      resolves: replaced ? 1 : 0,
    },
    run(_from: number, count: number, now: number): void {
      for (let i = 0; i < count; i++) {
        input.setHost(host);
        if (++host === h) host = 0;
        engine.handleFrameInto(now, 0, bytes, sink);
      }
    },
    verify(now: number): string[] {
      const problems: string[] = [];
      const host = reply ? 0 : 1;
      input.setHost(host);
      const golden = reply ? GOLDEN.requestFromHost0 : GOLDEN.replyFromHost1;
      if (!sameBytes(bytes, golden)) {
        problems.push(`input frame ${toHex(bytes)} is not the golden ${toHex(golden)}`);
      }
      const before = sink.counts.transmits;
      engine.handleFrameInto(now, 0, bytes, sink);
      const sent = sink.counts.transmits - before;
      if (reply) {
        const frame = sink instanceof BenchSink ? sink.lastFrame() : undefined;
        if (sent !== 1) problems.push(`reply: ${sent} frames sent, not 1`);
        else if (frame && !sameBytes(frame, GOLDEN.replyToHost0)) {
          problems.push(`reply ${toHex(frame)} is not the golden ${toHex(GOLDEN.replyToHost0)}`);
        }
      } else if (sent !== 0) {
        problems.push(`learn: ${sent} frames sent, not 0`);
      }
      const entry = engine.lookup(now, hostIp(host));
      if (entry?.state !== 'resolved' || entry.mac !== formatMac(hostMac(host))) {
        problems.push(`host ${host} not learned: ${JSON.stringify(entry)}`);
      }
      return problems;
    },
  };
}

/** hit: resolve host c and build the Ethernet header of its 64-byte IPv4 packet. */
function hitWorkload(
  spec: WorkloadSpec,
  engine: Engine,
  sink: BenchSink | FormattedEventSink,
): Workload {
  // The table starts with N hosts resolved, learned from their replies.
  const learn = new InputFrame(2);
  for (let c = 0; c < Math.min(spec.n, spec.h); c++) {
    learn.setHost(c);
    engine.handleFrameInto(START_MS, 0, learn.bytes, sink);
  }
  const frame = new Uint8Array(14 + PACKET_LEN);
  const packet = frame.subarray(14);
  const h = spec.h;
  const results = { resolved: 0, held: 0, other: 0 };
  const replaced = spec.h > spec.n;
  // One result, filled by every call (as a stack's output path would keep one).
  const result = new MutableResolveResult();
  let host = 0;
  const header = (): boolean => {
    if (result.kind !== 'resolved') return false;
    putMac(frame, 0, result.mac);
    putMac(frame, 6, result.source);
    frame[12] = 0x08;
    frame[13] = 0x00;
    return true;
  };
  return {
    spec,
    engine,
    counts: sink.counts,
    results,
    // Replacement: host c is never in the table, so every send misses: it evicts the oldest
    // unresolved entry (with its held packet), adds c's, broadcasts a request and holds.
    perOp: replaced
      ? { ...NONE, transmits: 1, deletes: 1, adds: 1, held: 1 }
      : { ...NONE, resolved: 1 },
    run(_from: number, count: number, now: number): void {
      for (let i = 0; i < count; i++) {
        engine.resolveInto(now, (0x0a_00_00_02 + host) >>> 0, packet, sink, -1, result);
        if (++host === h) host = 0;
        if (result.kind === 'resolved') {
          putMac(frame, 0, result.mac);
          putMac(frame, 6, result.source);
          frame[12] = 0x08;
          frame[13] = 0x00;
          results.resolved++;
        } else if (result.kind === 'held') {
          results.held++;
        } else {
          results.other++;
        }
      }
    },
    verify(now: number): string[] {
      engine.resolveInto(now, hostIp(0), packet, sink, -1, result);
      if (!header()) return [`hit: host 0 is ${JSON.stringify(result)}, not resolved`];
      const expected = new Uint8Array(14);
      writeMac(expected, 0, hostMac(0));
      writeMac(expected, 6, OUR_MAC);
      expected[12] = 0x08;
      if (!sameBytes(frame.subarray(0, 14), expected)) {
        return [`hit: header ${toHex(frame.subarray(0, 14))}, not ${toHex(expected)}`];
      }
      return [];
    },
  };
}

/** miss: a packet to a fresh address, the table full of N unresolved entries holding one each. */
function missWorkload(
  spec: WorkloadSpec,
  plan: AddressPlan,
  engine: Engine,
  sink: BenchSink | FormattedEventSink,
): Workload {
  // Distinct packets, so that held packets are separate buffers as in a real stack; the
  // fillers each hold one of their own.
  const packets = Array.from({ length: 64 }, () => new Uint8Array(PACKET_LEN));
  for (let j = 0; j < spec.n; j++) {
    engine.resolveInto(START_MS, fillerIp(plan, j), new Uint8Array(PACKET_LEN), sink);
  }
  const results = { resolved: 0, held: 0, other: 0 };
  const result = new MutableResolveResult();
  const base = plan.missBase;
  const count = plan.missCount;
  // Miss address k is base + (k mod count): `offset` is that remainder, kept by counting.
  let k = 0;
  let offset = 0;
  return {
    spec,
    engine,
    counts: sink.counts,
    results,
    perOp: { ...NONE, transmits: 1, deletes: 1, adds: 1, held: 1 },
    run(_from: number, ops: number, now: number): void {
      for (let i = 0; i < ops; i++) {
        engine.resolveInto(now, (base + offset) >>> 0, packets[k & 63]!, sink, -1, result);
        k++;
        if (++offset === count) offset = 0;
        if (result.kind === 'held') results.held++;
        else if (result.kind === 'resolved') results.resolved++;
        else results.other++;
      }
    },
    verify(now: number): string[] {
      const problems: string[] = [];
      const before = { ...sink.counts };
      const ip = missIp(plan, k);
      engine.resolveInto(now, ip, packets[k & 63]!, sink, -1, result);
      k++;
      if (++offset === count) offset = 0;
      if (result.kind !== 'held') problems.push(`miss: ${JSON.stringify(result)}, not held`);
      const sent = sink.counts.transmits - before.transmits;
      const frame = sink instanceof BenchSink ? sink.lastFrame() : undefined;
      if (sent !== 1) problems.push(`miss: ${sent} frames sent, not 1`);
      else if (frame && !sameBytes(frame, GOLDEN.requestForMiss0)) {
        problems.push(`request ${toHex(frame)} is not the golden ${toHex(GOLDEN.requestForMiss0)}`);
      }
      if (sink.counts.deletes - before.deletes !== 1) problems.push('miss: no entry evicted');
      if (engine.size !== spec.n + 1) {
        problems.push(`miss: ${engine.size} entries, not N + our own (${spec.n + 1})`);
      }
      const entry = engine.lookup(now, ip);
      if (entry?.state !== 'incomplete' || entry.held !== 1) {
        problems.push(
          `miss: ${formatIpv4(ip)} is ${JSON.stringify(entry)}, not holding one packet`,
        );
      }
      return problems;
    },
  };
}
