/**
 * Every state change of a neighbour entry, as data. Each row names the state the entry for
 * X = 192.0.2.10 is in, what happens, the state it ends in, what goes on the wire (or is handed
 * back) and the route events. One loop below sets each row up, applies its cause and checks
 * all three. States are those of src/core/entry.ts, plus `none` for "no entry".
 *
 * The engine is 192.0.2.1/24 on eth0 (02:00:00:00:00:01); X's MAC is 02:00:00:00:00:0a.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Engine } from '../../src/core/engine.ts';
import type { EntryState } from '../../src/core/entry.ts';
import { NetarpError } from '../../src/core/errors.ts';
import type { Output } from '../../src/core/output.ts';
import {
  A_NEW_MAC,
  arpFrame,
  B,
  BROADCAST,
  ip,
  isAt,
  mac,
  makeHost,
  packet,
  s,
  US,
  view,
  whoHas,
  A as X,
} from './helpers.ts';

type State = 'none' | EntryState;

/** How the entry got into its `from` state (several ways lead to `expired`). */
type Given =
  | 'none'
  | 'incomplete'
  | 'resolved'
  | 'expired'
  | 'expired temp entry'
  | 'expired gateway'
  | 'down'
  | 'permanent'
  | 'local';

type Cause =
  | 'send'
  | 'send a second later'
  | 'refresh (send in the last seconds)'
  | 'maxtries reached'
  | 'down window ends'
  | 'request for me from X'
  | 'request for another from X'
  | 'reply for me from X'
  | 'reply for another from X'
  | 'reply from X with a new MAC'
  | 'gratuitous ARP from X'
  | 'max_age passes'
  | 'prune pass'
  | 'admin add'
  | 'admin add temp'
  | 'admin replace'
  | 'admin delete'
  | 'address X added'
  | 'address X removed'
  | 'address 192.0.2.1 removed'
  | 'send to another, the table full (max_entries 1)'
  | 'send to another, max_incomplete 1'
  | 'reply from X with a new MAC within locktime'
  | 'held packet ages out (hold_timeout 3)';

interface Transition {
  readonly from: State;
  readonly given?: Given;
  readonly cause: Cause;
  readonly to: State;
  /** Frames sent and held packets handed back, in order (see `wireOf`). */
  readonly wire: readonly string[];
  /** Route events, in order (see `eventsOf`). */
  readonly events: readonly string[];
  /** The admin command fails with this code and changes nothing. */
  readonly throws?: string;
}

// What the wire column says.
const ASK = 'who-has 192.0.2.10 tell 192.0.2.1 (02:00:00:00:00:01)';
const ANNOUNCE = 'who-has 192.0.2.10 tell 192.0.2.10 (02:00:00:00:00:01)';
const ANSWER = '192.0.2.1 is-at 02:00:00:00:00:01 to 02:00:00:00:00:0a (192.0.2.10)';
const DEFEND = '192.0.2.10 is-at 02:00:00:00:00:01 to 02:00:00:00:00:0a (192.0.2.10)';
const RELEASE_HELD = 'deliver held to 02:00:00:00:00:0a';
const RELEASE_HELD_NEW_MAC = 'deliver held to 02:00:00:00:00:aa';
const ASK_OTHER = 'who-has 192.0.2.11 tell 192.0.2.1 (02:00:00:00:00:01)';

const TRANSITIONS: readonly Transition[] = [
  // --- no entry --------------------------------------------------------------------------
  {
    from: 'none',
    cause: 'send',
    to: 'incomplete',
    wire: [ASK],
    events: ['add 192.0.2.10 (resolve)'],
  },
  {
    from: 'none',
    cause: 'request for me from X',
    to: 'resolved',
    wire: [ANSWER],
    events: ['add 192.0.2.10 (learned)', 'resolve 192.0.2.10 02:00:00:00:00:0a (learned)'],
  },
  { from: 'none', cause: 'request for another from X', to: 'none', wire: [], events: [] },
  {
    from: 'none',
    cause: 'reply for me from X',
    to: 'resolved',
    wire: [],
    events: ['add 192.0.2.10 (learned)', 'resolve 192.0.2.10 02:00:00:00:00:0a (learned)'],
  },
  { from: 'none', cause: 'reply for another from X', to: 'none', wire: [], events: [] },
  { from: 'none', cause: 'gratuitous ARP from X', to: 'none', wire: [], events: [] },
  {
    from: 'none',
    cause: 'admin add',
    to: 'permanent',
    wire: [],
    events: ['add 192.0.2.10 02:00:00:00:00:aa (admin)'],
  },
  {
    from: 'none',
    cause: 'admin add temp',
    to: 'resolved',
    wire: [],
    events: ['add 192.0.2.10 02:00:00:00:00:aa (admin)'],
  },
  { from: 'none', cause: 'admin delete', to: 'none', wire: [], events: [], throws: 'ENOENT' },
  {
    from: 'none',
    cause: 'address X added',
    to: 'local',
    wire: [ANNOUNCE],
    events: ['add 192.0.2.10 02:00:00:00:00:01 (local)'],
  },

  // --- incomplete: asked once at 10 s, one packet held -------------------------------------
  { from: 'incomplete', cause: 'send', to: 'incomplete', wire: [], events: [] },
  { from: 'incomplete', cause: 'send a second later', to: 'incomplete', wire: [ASK], events: [] },
  {
    from: 'incomplete',
    cause: 'maxtries reached',
    to: 'down',
    wire: [ASK, ASK, ASK, ASK],
    events: ['miss 192.0.2.10 (maxtries)'],
  },
  {
    from: 'incomplete',
    cause: 'reply for me from X',
    to: 'resolved',
    wire: [RELEASE_HELD],
    events: ['resolve 192.0.2.10 02:00:00:00:00:0a (learned)'],
  },
  {
    from: 'incomplete',
    cause: 'request for me from X',
    to: 'resolved',
    wire: [RELEASE_HELD, ANSWER],
    events: ['resolve 192.0.2.10 02:00:00:00:00:0a (learned)'],
  },
  {
    from: 'incomplete',
    cause: 'request for another from X',
    to: 'resolved',
    wire: [RELEASE_HELD],
    events: ['resolve 192.0.2.10 02:00:00:00:00:0a (learned)'],
  },
  {
    from: 'incomplete',
    cause: 'reply for another from X',
    to: 'resolved',
    wire: [RELEASE_HELD],
    events: ['resolve 192.0.2.10 02:00:00:00:00:0a (learned)'],
  },
  {
    from: 'incomplete',
    cause: 'prune pass',
    to: 'none',
    wire: [],
    events: ['delete 192.0.2.10 (expired)'],
  },
  {
    from: 'incomplete',
    cause: 'admin add',
    to: 'permanent',
    wire: [RELEASE_HELD_NEW_MAC],
    events: ['change 192.0.2.10 02:00:00:00:00:aa (admin)'],
  },
  {
    from: 'incomplete',
    cause: 'admin delete',
    to: 'none',
    wire: [],
    events: ['delete 192.0.2.10 (admin)'],
  },
  {
    from: 'incomplete',
    cause: 'address X added',
    to: 'local',
    wire: [ANNOUNCE],
    events: ['delete 192.0.2.10 (local)', 'add 192.0.2.10 02:00:00:00:00:01 (local)'],
  },

  // --- resolved at 10 s, expires at 1210 s ---------------------------------------------------
  { from: 'resolved', cause: 'send', to: 'resolved', wire: [], events: [] },
  {
    from: 'resolved',
    cause: 'refresh (send in the last seconds)',
    to: 'resolved',
    wire: [ASK],
    events: [],
  },
  { from: 'resolved', cause: 'request for me from X', to: 'resolved', wire: [ANSWER], events: [] },
  { from: 'resolved', cause: 'gratuitous ARP from X', to: 'resolved', wire: [], events: [] },
  {
    from: 'resolved',
    cause: 'reply from X with a new MAC',
    to: 'resolved',
    wire: [],
    events: ['change 192.0.2.10 02:00:00:00:00:aa (moved)'],
  },
  { from: 'resolved', cause: 'max_age passes', to: 'expired', wire: [], events: [] },
  { from: 'resolved', cause: 'prune pass', to: 'resolved', wire: [], events: [] },
  {
    from: 'resolved',
    cause: 'admin add',
    to: 'permanent',
    wire: [],
    events: ['change 192.0.2.10 02:00:00:00:00:aa (admin)'],
  },
  {
    from: 'resolved',
    cause: 'admin delete',
    to: 'none',
    wire: [],
    events: ['delete 192.0.2.10 02:00:00:00:00:0a (admin)'],
  },
  {
    from: 'resolved',
    cause: 'address X added',
    to: 'local',
    wire: [ANNOUNCE],
    events: [
      'delete 192.0.2.10 02:00:00:00:00:0a (local)',
      'add 192.0.2.10 02:00:00:00:00:01 (local)',
    ],
  },
  {
    from: 'resolved',
    cause: 'address 192.0.2.1 removed',
    to: 'none',
    wire: [],
    events: [
      'delete 192.0.2.1 02:00:00:00:00:01 (local)',
      'delete 192.0.2.10 02:00:00:00:00:0a (address removed)',
    ],
  },

  // --- expired: resolved at 10 s, now 1300 s, no prune pass since -------------------------
  { from: 'expired', cause: 'send', to: 'expired', wire: [ASK], events: [] },
  { from: 'expired', cause: 'reply for me from X', to: 'resolved', wire: [], events: [] },
  { from: 'expired', cause: 'request for another from X', to: 'resolved', wire: [], events: [] },
  {
    from: 'expired',
    cause: 'prune pass',
    to: 'none',
    wire: [],
    events: ['delete 192.0.2.10 02:00:00:00:00:0a (expired)'],
  },
  {
    from: 'expired',
    given: 'expired temp entry',
    cause: 'prune pass',
    to: 'incomplete',
    wire: [],
    events: ['change 192.0.2.10 (expired)'],
  },
  {
    from: 'expired',
    given: 'expired gateway',
    cause: 'prune pass',
    to: 'incomplete',
    wire: [],
    events: ['change 192.0.2.10 (expired)'],
  },

  // --- down at 15 s until 35 s, one packet held --------------------------------------------
  { from: 'down', cause: 'send', to: 'down', wire: [], events: [] },
  { from: 'down', cause: 'down window ends', to: 'incomplete', wire: [ASK], events: [] },
  {
    from: 'down',
    cause: 'reply for me from X',
    to: 'resolved',
    wire: [RELEASE_HELD],
    events: ['resolve 192.0.2.10 02:00:00:00:00:0a (learned)'],
  },
  {
    from: 'down',
    cause: 'request for me from X',
    to: 'resolved',
    wire: [RELEASE_HELD, ANSWER],
    events: ['resolve 192.0.2.10 02:00:00:00:00:0a (learned)'],
  },
  {
    from: 'down',
    cause: 'prune pass',
    to: 'none',
    wire: [],
    events: ['delete 192.0.2.10 (expired)'],
  },
  {
    from: 'down',
    cause: 'admin add',
    to: 'permanent',
    wire: [RELEASE_HELD_NEW_MAC],
    events: ['change 192.0.2.10 02:00:00:00:00:aa (admin)'],
  },

  // --- permanent: arp -s at 10 s -------------------------------------------------------------
  { from: 'permanent', cause: 'send', to: 'permanent', wire: [], events: [] },
  {
    from: 'permanent',
    cause: 'request for me from X',
    to: 'permanent',
    wire: [ANSWER],
    events: [],
  },
  {
    from: 'permanent',
    cause: 'reply from X with a new MAC',
    to: 'permanent',
    wire: [],
    events: [],
  },
  { from: 'permanent', cause: 'prune pass', to: 'permanent', wire: [], events: [] },
  {
    from: 'permanent',
    cause: 'admin add',
    to: 'permanent',
    wire: [],
    events: [],
    throws: 'EEXIST',
  },
  {
    from: 'permanent',
    cause: 'admin replace',
    to: 'permanent',
    wire: [],
    events: ['change 192.0.2.10 02:00:00:00:00:aa (admin)'],
  },
  {
    from: 'permanent',
    cause: 'admin delete',
    to: 'none',
    wire: [],
    events: ['delete 192.0.2.10 02:00:00:00:00:0a (admin)'],
  },

  // --- local: 192.0.2.10 is one of our addresses too -----------------------------------------
  { from: 'local', cause: 'send', to: 'local', wire: [], events: [] },
  { from: 'local', cause: 'gratuitous ARP from X', to: 'local', wire: [DEFEND], events: [] },
  { from: 'local', cause: 'request for me from X', to: 'local', wire: [ANSWER], events: [] },
  { from: 'local', cause: 'prune pass', to: 'local', wire: [], events: [] },
  { from: 'local', cause: 'admin add', to: 'local', wire: [], events: [], throws: 'EEXIST' },
  { from: 'local', cause: 'admin delete', to: 'local', wire: [], events: [], throws: 'EPERM' },
  {
    from: 'local',
    cause: 'address X removed',
    to: 'none',
    wire: [],
    events: ['delete 192.0.2.10 02:00:00:00:00:01 (local)'],
  },

  // --- netarp's limits and defences: eviction, aged-out packets, locktime -----------------
  {
    from: 'resolved',
    cause: 'send to another, the table full (max_entries 1)',
    to: 'none',
    wire: [ASK_OTHER],
    events: ['delete 192.0.2.10 02:00:00:00:00:0a (evicted)', 'add 192.0.2.11 (resolve)'],
  },
  {
    from: 'expired',
    cause: 'send to another, the table full (max_entries 1)',
    to: 'none',
    wire: [ASK_OTHER],
    events: ['delete 192.0.2.10 02:00:00:00:00:0a (evicted)', 'add 192.0.2.11 (resolve)'],
  },
  {
    from: 'incomplete',
    cause: 'send to another, the table full (max_entries 1)',
    to: 'none',
    wire: [ASK_OTHER],
    events: ['delete 192.0.2.10 (evicted)', 'add 192.0.2.11 (resolve)'],
  },
  {
    from: 'down',
    cause: 'send to another, the table full (max_entries 1)',
    to: 'none',
    wire: [ASK_OTHER],
    events: ['delete 192.0.2.10 (evicted)', 'add 192.0.2.11 (resolve)'],
  },
  {
    from: 'permanent',
    cause: 'send to another, the table full (max_entries 1)',
    to: 'permanent',
    wire: [ASK_OTHER],
    events: ['add 192.0.2.11 (resolve)'],
  },
  {
    from: 'incomplete',
    cause: 'send to another, max_incomplete 1',
    to: 'none',
    wire: [ASK_OTHER],
    events: ['delete 192.0.2.10 (evicted)', 'add 192.0.2.11 (resolve)'],
  },
  {
    from: 'resolved',
    cause: 'send to another, max_incomplete 1',
    to: 'resolved',
    wire: [ASK_OTHER],
    events: ['add 192.0.2.11 (resolve)'],
  },
  {
    from: 'incomplete',
    cause: 'held packet ages out (hold_timeout 3)',
    to: 'incomplete',
    wire: [],
    events: [],
  },
  {
    from: 'resolved',
    cause: 'reply from X with a new MAC within locktime',
    to: 'resolved',
    wire: [],
    events: [],
  },
];

/** A set-up engine and the second its story has reached. */
interface Context {
  readonly engine: Engine;
  readonly at: number;
}

/** Every story starts one second in, after the first (empty) prune pass. */
function fresh(): Engine {
  const { engine } = makeHost();
  engine.handleTimeout(s(1));
  return engine;
}

const GIVEN: Record<Given, () => Context> = {
  none: () => ({ engine: fresh(), at: 10 }),
  incomplete: () => {
    const engine = fresh();
    engine.resolve(s(10), ip(X.ip), packet('held'));
    return { engine, at: 10 };
  },
  resolved: () => {
    const engine = fresh();
    engine.resolve(s(10), ip(X.ip), packet('sent'));
    engine.handleFrame(s(10), 0, isAt(X, US));
    return { engine, at: 10 };
  },
  expired: () => ({ engine: GIVEN.resolved().engine, at: 1300 }),
  'expired temp entry': () => {
    const engine = fresh();
    engine.addEntry(s(10), { ip: ip(X.ip), mac: mac(X.mac), temp: true });
    return { engine, at: 1300 };
  },
  'expired gateway': () => {
    const engine = fresh();
    engine.addRoute('203.0.113.0/24', { gateway: X.ip });
    engine.resolve(s(10), ip('203.0.113.5'), packet('sent'));
    engine.handleFrame(s(10), 0, isAt(X, US));
    return { engine, at: 1300 };
  },
  down: () => {
    const engine = fresh();
    for (let at = 10; at <= 15; at++) engine.resolve(s(at), ip(X.ip), packet('held'));
    return { engine, at: 15 };
  },
  permanent: () => {
    const engine = fresh();
    engine.addEntry(s(10), { ip: ip(X.ip), mac: mac(X.mac) });
    return { engine, at: 10 };
  },
  local: () => {
    const engine = fresh();
    engine.addAddress(s(10), 'eth0', `${X.ip}/24`);
    return { engine, at: 10 };
  },
};

/** What a cause put out, and the second at which to look at the entry afterwards. */
interface Effect {
  readonly outputs: Output[];
  readonly at: number;
}

const frameFromX = (engine: Engine, at: number, frame: Uint8Array): Effect => ({
  outputs: engine.handleFrame(s(at), 0, frame),
  at,
});

const send = (engine: Engine, at: number): Effect => ({
  outputs: engine.resolve(s(at), ip(X.ip), packet('new')).outputs,
  at,
});

const CAUSES: Record<Cause, (context: Context) => Effect> = {
  send: ({ engine, at }) => send(engine, at),
  'send a second later': ({ engine, at }) => send(engine, at + 1),
  // Resolved at 10 s with max_age 1200 and preempt 5: 1206 + 5 is past 1210.
  'refresh (send in the last seconds)': ({ engine, at }) => send(engine, at + 1196),
  'maxtries reached': ({ engine, at }) => {
    const outputs: Output[] = [];
    for (let t = at + 1; t <= at + 5; t++) outputs.push(...send(engine, t).outputs);
    return { outputs, at: at + 5 };
  },
  'down window ends': ({ engine, at }) => send(engine, at + 20),
  'request for me from X': ({ engine, at }) => frameFromX(engine, at, whoHas(X, US.ip)),
  'request for another from X': ({ engine, at }) => frameFromX(engine, at, whoHas(X, B.ip)),
  'reply for me from X': ({ engine, at }) => frameFromX(engine, at, isAt(X, US)),
  'reply for another from X': ({ engine, at }) =>
    frameFromX(
      engine,
      at,
      arpFrame({ op: 'reply', sha: X.mac, spa: X.ip, tha: B.mac, tpa: B.ip, dst: BROADCAST }),
    ),
  'reply from X with a new MAC': ({ engine, at }) =>
    frameFromX(engine, at, isAt({ mac: A_NEW_MAC, ip: X.ip }, US)),
  'gratuitous ARP from X': ({ engine, at }) => frameFromX(engine, at, whoHas(X, X.ip)),
  'max_age passes': ({ at }) => ({ outputs: [], at: at + 1200 }),
  'prune pass': ({ engine, at }) => {
    // Every pass due until the first one at or after `at`.
    const outputs: Output[] = [];
    for (;;) {
      const due = engine.pollTimeout();
      assert.ok(due !== undefined);
      outputs.push(...engine.handleTimeout(due));
      if (due >= s(at)) return { outputs, at: due / 1000 };
    }
  },
  'admin add': ({ engine, at }) => ({
    outputs: engine.addEntry(s(at), { ip: ip(X.ip), mac: mac(A_NEW_MAC) }),
    at,
  }),
  'admin add temp': ({ engine, at }) => ({
    outputs: engine.addEntry(s(at), { ip: ip(X.ip), mac: mac(A_NEW_MAC), temp: true }),
    at,
  }),
  'admin replace': ({ engine, at }) => ({
    outputs: engine.addEntry(s(at), { ip: ip(X.ip), mac: mac(A_NEW_MAC), replace: true }),
    at,
  }),
  'admin delete': ({ engine, at }) => ({ outputs: engine.deleteEntry(s(at), X.ip), at }),
  'address X added': ({ engine, at }) => ({
    outputs: engine.addAddress(s(at), 'eth0', `${X.ip}/24`),
    at,
  }),
  'address X removed': ({ engine, at }) => ({
    outputs: engine.removeAddress(s(at), 'eth0', X.ip),
    at,
  }),
  'address 192.0.2.1 removed': ({ engine, at }) => ({
    outputs: engine.removeAddress(s(at), 'eth0', US.ip),
    at,
  }),
  'send to another, the table full (max_entries 1)': ({ engine, at }) => {
    engine.setSysctl('max_entries', 1);
    return { outputs: engine.resolve(s(at), ip(B.ip), packet('other')).outputs, at };
  },
  'send to another, max_incomplete 1': ({ engine, at }) => {
    engine.setSysctl('max_incomplete', 1);
    return { outputs: engine.resolve(s(at), ip(B.ip), packet('other')).outputs, at };
  },
  // Resolved at 10 s: a second MAC in the same second is within a one-second locktime.
  'reply from X with a new MAC within locktime': ({ engine, at }) => {
    engine.setSysctl('locktime', 1000);
    return frameFromX(engine, at, isAt({ mac: A_NEW_MAC, ip: X.ip }, US));
  },
  'held packet ages out (hold_timeout 3)': ({ engine }) => {
    engine.setSysctl('hold_timeout', 3);
    const due = engine.pollTimeout();
    assert.ok(due !== undefined);
    return { outputs: engine.handleTimeout(due), at: due / 1000 };
  },
};

/** The entry's state, or `none`. */
function stateOf(engine: Engine, at: number): State {
  return engine.lookup(s(at), X.ip)?.state ?? 'none';
}

/** Frames and released packets, one short line each. */
function wireOf(engine: Engine, outputs: readonly Output[]): string[] {
  const lines: string[] = [];
  for (const seen of view(engine, outputs)) {
    if (seen.kind === 'arp') {
      assert.equal(seen.on, 'eth0');
      assert.equal(seen.src, US.mac, 'every frame leaves from our MAC');
      if (seen.op === 'request') {
        assert.equal(seen.dst, BROADCAST, 'requests are broadcast');
        lines.push(`who-has ${seen.tpa} tell ${seen.spa} (${seen.sha})`);
      } else {
        assert.equal(seen.dst, seen.tha, 'replies are unicast to the requester');
        lines.push(`${seen.spa} is-at ${seen.sha} to ${seen.tha} (${seen.tpa})`);
      }
    } else if (seen.kind === 'deliver') {
      lines.push(`deliver ${seen.packet} to ${seen.dst}`);
    }
  }
  return lines;
}

/** Route events, one short line each; every one is about eth0. */
function eventsOf(outputs: readonly Output[]): string[] {
  const lines: string[] = [];
  for (const output of outputs) {
    if (output.kind !== 'event' || output.event.kind !== 'route') continue;
    const { type, ifName, ip: address, mac: hardware, reason } = output.event;
    assert.equal(ifName, 'eth0');
    lines.push(`${type} ${address}${hardware ? ` ${hardware}` : ''} (${reason})`);
  }
  return lines;
}

describe('entry state transitions', () => {
  for (const row of TRANSITIONS) {
    const given = row.given ?? (row.from as Given);
    const title = `${row.from}${row.given ? ` (${row.given})` : ''} --${row.cause}--> ${row.to}`;
    it(title, () => {
      const context = GIVEN[given]();
      assert.equal(stateOf(context.engine, context.at), row.from, 'the row starts where it says');
      let effect: Effect = { outputs: [], at: context.at };
      if (row.throws) {
        assert.throws(
          () => CAUSES[row.cause](context),
          (error: unknown) => error instanceof NetarpError && error.code === row.throws,
        );
      } else {
        effect = CAUSES[row.cause](context);
      }
      assert.equal(stateOf(context.engine, effect.at), row.to, 'state');
      assert.deepEqual(wireOf(context.engine, effect.outputs), row.wire, 'wire');
      assert.deepEqual(eventsOf(effect.outputs), row.events, 'events');
    });
  }

  it('covers every state as a source and as a destination', () => {
    const states: State[] = [
      'none',
      'incomplete',
      'resolved',
      'expired',
      'down',
      'permanent',
      'local',
    ];
    for (const state of states) {
      assert.ok(
        TRANSITIONS.some((t) => t.from === state),
        `a row from ${state}`,
      );
      assert.ok(
        TRANSITIONS.some((t) => t.to === state && t.from !== state),
        `a row into ${state}`,
      );
    }
    for (const cause of Object.keys(CAUSES)) {
      assert.ok(
        TRANSITIONS.some((t) => t.cause === cause),
        `a row for ${cause}`,
      );
    }
  });
});
