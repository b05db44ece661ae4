/**
 * Untrusted bytes are counted and dropped, never thrown (STYLE principle 5): whatever arrives,
 * Engine.handleFrame returns, an operator's static entry stays as it was, no held queue grows
 * past maxhold, every frame is accounted for exactly once (received by ARP, or dropped by a
 * named Ethernet-level counter), and whatever the engine sends is a well-formed ARP frame.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Engine } from '../../src/core/engine.ts';
import type { ArpStats } from '../../src/core/stats.ts';
import {
  A,
  A_NEW_MAC,
  arpFrame,
  B,
  C,
  countersMoved,
  decodeArpFrame,
  ip,
  isAt,
  mac,
  makeHost,
  packet,
  s,
  US,
  whoHas,
} from './helpers.ts';

const MAXHOLD = 2;

/** A host with a static entry for B and packets held for A and for 192.0.2.20. */
function busyHost(): Engine {
  const { engine } = makeHost({ twoInterfaces: true, config: { maxhold: MAXHOLD } });
  engine.addEntry(s(1), { ip: ip(B.ip), mac: mac(B.mac) });
  for (const name of ['a1', 'a2', 'a3']) engine.resolve(s(2), ip(A.ip), packet(name));
  engine.resolve(s(2), ip('192.0.2.20'), packet('x1'));
  engine.resolve(s(2), ip(C.ip), packet('c1'));
  return engine;
}

/** The counters that see a frame before ARP does; with no CARP, each frame moves one of them. */
const ACCOUNTED: (keyof ArpStats)[] = [
  'received',
  'rxRuntEthernet',
  'rxNotArp',
  'rxNotForUs',
  'rxNoArp',
  'rxInterfaceDown',
];

/** Feeds `frames` to a busy host and checks every invariant after each one. */
function feed(frames: readonly { ifIndex: number; bytes: Uint8Array }[]): void {
  const engine = busyHost();
  const staticB = engine.lookup(s(3), B.ip);
  let now = s(3);
  for (const { ifIndex, bytes } of frames) {
    now += 250;
    const before = engine.stats();
    const outputs = engine.handleFrame(now, ifIndex, bytes);
    const moved = countersMoved(before, engine.stats());
    const accounted = ACCOUNTED.reduce((sum, key) => sum + (moved[key] ?? 0), 0);
    assert.equal(accounted, 1, `accounted once: ${JSON.stringify(moved)}`);
    for (const output of outputs) {
      if (output.kind === 'transmit') decodeArpFrame(output.frame); // throws unless well formed
    }
    assert.deepEqual(engine.lookup(now, B.ip), staticB, 'the static entry is untouched');
    for (const entry of engine.listEntries(now)) {
      assert.ok(entry.held <= MAXHOLD, `${entry.ip} holds ${entry.held}`);
    }
  }
}

/** Valid frames the mutations start from: requests, replies, a gratuitous ARP, a claim on B. */
const SEEDS: readonly Uint8Array[] = [
  whoHas(A, US.ip),
  isAt(A, US),
  whoHas(A, A.ip),
  isAt({ mac: A_NEW_MAC, ip: B.ip }, US),
  whoHas({ mac: A.mac, ip: US.ip }, US.ip),
  arpFrame({ op: 'reply', sha: C.mac, spa: C.ip, tha: US.mac, tpa: US.ip }),
];

/** One change to a frame. */
type Mutation =
  | { kind: 'set'; index: number; value: number }
  | { kind: 'truncate'; length: number }
  | { kind: 'append'; bytes: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('set' as const),
    index: fc.nat({ max: 59 }),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), length: fc.nat({ max: 42 }) }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ maxLength: 24 }) }),
);

function mutate(seed: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let bytes = seed.slice();
  for (const change of mutations) {
    if (change.kind === 'set') {
      if (change.index < bytes.length) bytes[change.index] = change.value;
    } else if (change.kind === 'truncate') {
      bytes = bytes.slice(0, change.length);
    } else {
      const longer = new Uint8Array(bytes.length + change.bytes.length);
      longer.set(bytes);
      longer.set(change.bytes, bytes.length);
      bytes = longer;
    }
  }
  return bytes;
}

/** Interface 0 (eth0), 1 (eth1) or 2 (no such interface). */
const ifIndex = fc.integer({ min: 0, max: 2 });

describe('handleFrame never throws', () => {
  it('on arbitrary bytes', () => {
    const anyFrame = fc.record({ ifIndex, bytes: fc.uint8Array({ maxLength: 80 }) });
    fc.assert(
      fc.property(fc.array(anyFrame, { maxLength: 20 }), (frames) => feed(frames)),
      { numRuns: 300 },
    );
  });

  it('on arbitrary bytes behind an ARP EtherType, broadcast', () => {
    const arpish = fc.record({
      ifIndex,
      bytes: fc.uint8Array({ maxLength: 60 }).map((payload) => {
        const bytes = new Uint8Array(14 + payload.length);
        bytes.fill(0xff, 0, 6);
        bytes.set([0x02, 0, 0, 0, 0, 0x0a, 0x08, 0x06], 6);
        bytes.set(payload, 14);
        return bytes;
      }),
    });
    fc.assert(
      fc.property(fc.array(arpish, { maxLength: 20 }), (frames) => feed(frames)),
      { numRuns: 300 },
    );
  });

  it('on byte flips, truncations and extensions of valid ARP frames', () => {
    const mutated = fc.record({
      ifIndex,
      bytes: fc
        .tuple(fc.constantFrom(...SEEDS), fc.array(mutation, { minLength: 1, maxLength: 4 }))
        .map(([seed, mutations]) => mutate(seed, mutations)),
    });
    fc.assert(
      fc.property(fc.array(mutated, { minLength: 1, maxLength: 20 }), (frames) => feed(frames)),
      { numRuns: 500 },
    );
  });

  it('and the invariants hold for the unmutated frames too', () => {
    // Not a tautology: the claim on B must be refused and each frame counted once.
    feed(SEEDS.map((bytes) => ({ ifIndex: 0, bytes })));
    const engine = busyHost();
    const before = engine.stats();
    engine.handleFrame(s(4), 0, isAt({ mac: A_NEW_MAC, ip: B.ip }, US));
    assert.equal(countersMoved(before, engine.stats()).rxPermanentModify, 1);
  });
});
