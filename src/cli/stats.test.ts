import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StatsInfo } from '../control/protocol.ts';
import { makeStats } from '../core/stats.ts';
import { UsageError } from './command.ts';
import { parseStatsArgs, statsLines } from './stats.ts';

describe('parseStatsArgs', () => {
  it('takes --json and --socket', () => {
    assert.deepEqual(parseStatsArgs([]), { kind: 'run', json: false });
    assert.deepEqual(parseStatsArgs(['--json', '--socket=/s']), {
      kind: 'run',
      json: true,
      socket: '/s',
    });
    assert.deepEqual(parseStatsArgs(['--help']), { kind: 'help' });
  });
  for (const [argv, message] of [
    [['all'], "stats: unexpected argument 'all'"],
    [['-a'], "stats: unknown option '-a'"],
  ] as const) {
    it(`refuses stats ${argv.join(' ')}`, () => {
      assert.throws(
        () => parseStatsArgs(argv),
        (error: unknown) => error instanceof UsageError && error.message === message,
      );
    });
  }
});

describe('statsLines', () => {
  it("prints one 'group.name value' per counter, grouped in a fixed order", () => {
    const engine = { ...makeStats(), txrequests: 3, rxreplies: 2 };
    const stats: StatsInfo = {
      engine,
      runner: {
        framesIn: 5,
        framesOut: 4,
        heldDelivered: 1,
        unroutable: 0,
        timerRuns: 2,
        handlerErrors: 0,
        linkErrors: 0,
      },
      host: { rxEchoRequests: 1 },
      links: [
        { ifName: 'vx0', type: 'vxlan', name: 'v', counters: { sent: 4 }, pcap: { frames: 9 } },
        { ifName: 'vx1', type: 'tap', name: 't', counters: { sent: 0 } },
      ],
      control: {
        connections: 1,
        accepted: 2,
        refused: 0,
        requests: 3,
        errors: 0,
        oversized: 0,
        eventsLost: 0,
      },
      state: { path: '/var/lib/net arp/state.json', changes: 4, writes: 9, failures: 1 },
      uptimeMs: 1234.6,
    };
    const lines = statsLines(stats);
    assert.equal(lines.length, Object.keys(engine).length + 7 + 1 + 3 + 7 + 4 + 1);
    for (const line of lines.filter((l) => !l.startsWith('state.path '))) {
      assert.match(line, /^[a-z]+(\.[A-Za-z0-9_]+)+ \d+$/);
    }
    assert.equal(lines[0], 'engine.txrequests 3');
    assert.ok(lines.includes('engine.rxreplies 2'));
    const tail = lines.slice(Object.keys(engine).length);
    assert.deepEqual(tail, [
      'runner.framesIn 5',
      'runner.framesOut 4',
      'runner.heldDelivered 1',
      'runner.unroutable 0',
      'runner.timerRuns 2',
      'runner.handlerErrors 0',
      'runner.linkErrors 0',
      'host.rxEchoRequests 1',
      'link.vx0.sent 4',
      'link.vx0.pcap.frames 9',
      'link.vx1.sent 0',
      'control.connections 1',
      'control.accepted 2',
      'control.refused 0',
      'control.requests 3',
      'control.errors 0',
      'control.oversized 0',
      'control.eventsLost 0',
      'state.changes 4',
      'state.writes 9',
      'state.failures 1',
      'state.path /var/lib/net arp/state.json',
      'daemon.uptimeMs 1235',
    ]);
    // A daemon that keeps no state file has no state group.
    const { state: _, ...without } = stats;
    assert.deepEqual(
      statsLines(without).filter((l) => l.startsWith('state.')),
      [],
    );
  });
});
