/**
 * Invariant violations the fuzzer found, kept as regression tests once fixed. While one is
 * open its tests are `todo` and KNOWN_ISSUES in target.ts names it; once fixed, the fuzz
 * target must find nothing at all in its minimised input.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine } from '../../src/core/engine.ts';
import { ip, mac, s, whoHas } from '../scenario/helpers.ts';
import { arpRequest, type FuzzInput, MACS, OURS, runInput } from './target.ts';

/** A bridge br0 (203.0.113.1/24) with ports p0 and p1, p1 holding 203.0.113.2/24. */
function bridged(): Engine {
  const engine = new Engine();
  engine.addInterface({ name: 'br0', kind: 'bridge', mac: mac(MACS.br0) });
  engine.addInterface({ name: 'p0', mac: mac(MACS.p0), bridge: 'br0' });
  engine.addInterface({ name: 'p1', mac: mac(MACS.p1), bridge: 'br0' });
  engine.addAddress(0, 'br0', '203.0.113.1/24');
  engine.addAddress(0, 'p1', '203.0.113.2/24');
  return engine;
}

const STATIC = { ip: '203.0.113.20', mac: '02:00:00:00:02:14' };

describe('fixed: the network no longer moves a permanent entry on a bridge port to the bridge', () => {
  // docs/security.md: "static and published entries are never changed by the network". The
  // seed's arp_update_oncpu replaces rt_ifp with the bridge (l.691-734) before it looks at
  // whether the entry is permanent (l.737), and netarp's updateEntry does the same.
  it('a static entry on p1 stays on p1 when its own station speaks from p0', () => {
    const engine = bridged();
    engine.addEntry(s(1), { ip: ip(STATIC.ip), mac: mac(STATIC.mac), ifName: 'p1' });
    const before = engine.lookup(s(2), STATIC.ip);
    assert.equal(before?.ifName, 'p1');
    engine.handleFrame(s(2), engine.interfaceIndex('p0'), whoHas(STATIC, '203.0.113.1'));
    assert.deepEqual(engine.lookup(s(2), STATIC.ip), before);
  });

  it("our own address's entry stays on its port when a forger claims it from another port", () => {
    const engine = bridged();
    const before = engine.lookup(s(2), '203.0.113.2');
    assert.equal(before?.ifName, 'p1');
    const forged = whoHas({ ip: '203.0.113.2', mac: '02:00:00:00:02:66' }, '203.0.113.1');
    engine.handleFrame(s(2), engine.interfaceIndex('p0'), forged);
    assert.deepEqual(engine.lookup(s(2), '203.0.113.2'), before);
  });

  it('the fuzz target finds nothing in the input that showed it', () => {
    // The minimised input the fuzzer found: on port p0, "who has 203.0.113.1 tell 203.0.113.2".
    const input: FuzzInput = {
      variant: 0,
      steps: [
        {
          kind: 'frame',
          ifIndex: 3,
          wait: 250,
          frame: arpRequest({ ip: OURS.p1, mac: '02:00:00:00:02:0c' }, OURS.br0),
        },
      ],
    };
    const result = runInput(input);
    assert.deepEqual(result.violations, []);
    assert.deepEqual(result.known, []);
  });
});
