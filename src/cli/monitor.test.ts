import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from './command.ts';
import { formatMonitorEvent, type MonitorArgs, parseMonitorArgs } from './monitor.ts';

describe('parseMonitorArgs', () => {
  const accepted: [string[], MonitorArgs][] = [
    [[], { kind: 'run', json: false }],
    [['--json'], { kind: 'run', json: true }],
    [['-c', '3'], { kind: 'run', json: false, count: 3 }],
    [['--count=1', '--json'], { kind: 'run', json: true, count: 1 }],
    [['--socket', '/s'], { kind: 'run', json: false, socket: '/s' }],
    [['-h'], { kind: 'help' }],
  ];
  for (const [argv, expected] of accepted) {
    it(`monitor ${argv.join(' ')}`, () => assert.deepEqual(parseMonitorArgs(argv), expected));
  }
  const refused: [string[], string][] = [
    [['now'], "monitor: unexpected argument 'now'"],
    [['-c', '0'], "monitor: -c: expected an integer in 1..2147483647, got '0'"],
    [['-c'], "monitor: option '-c' needs a value"],
    [['-n'], "monitor: unknown option '-n'"],
  ];
  for (const [argv, message] of refused) {
    it(`refuses monitor ${argv.join(' ')}`, () => {
      assert.throws(
        () => parseMonitorArgs(argv),
        (error: unknown) => error instanceof UsageError && error.message === message,
      );
    });
  }
});

describe('formatMonitorEvent', () => {
  const time = 1_700_000_000_000;
  it('shows entry events as route(4) messages', () => {
    const route = { kind: 'route', time, ifName: 'vx0', ip: '192.0.2.1' } as const;
    assert.equal(
      formatMonitorEvent({ ...route, type: 'add', reason: 'resolve' }),
      'RTM_ADD vx0 192.0.2.1 (incomplete) [resolve]',
    );
    assert.equal(
      formatMonitorEvent({
        ...route,
        type: 'resolve',
        mac: '02:00:00:00:00:01',
        reason: 'learned',
      }),
      'RTM_RESOLVE vx0 192.0.2.1 02:00:00:00:00:01 [learned]',
    );
    assert.equal(
      formatMonitorEvent({ ...route, type: 'change', mac: '02:00:00:00:00:07', reason: 'moved' }),
      'RTM_CHANGE vx0 192.0.2.1 02:00:00:00:00:07 [moved]',
    );
    assert.equal(
      formatMonitorEvent({ ...route, type: 'delete', mac: '02:00:00:00:00:07', reason: 'expired' }),
      'RTM_DELETE vx0 192.0.2.1 02:00:00:00:00:07 [expired]',
    );
    assert.equal(
      formatMonitorEvent({ ...route, type: 'miss', reason: 'maxtries' }),
      'RTM_MISS vx0 192.0.2.1 (incomplete) [maxtries]',
    );
  });

  it("prints log lines as the daemon logs them: the seed's verbatim", () => {
    const seed = 'arp: 02:00:00:00:00:66 attempts to modify permanent entry for 192.0.2.1 on vx0';
    assert.equal(
      formatMonitorEvent({ kind: 'log', time, level: 'err', source: 'engine', message: seed }),
      seed,
    );
    assert.equal(
      formatMonitorEvent({
        kind: 'log',
        time,
        level: 'info',
        source: 'daemon',
        message: 'stopping',
      }),
      'netarp: stopping',
    );
    assert.equal(formatMonitorEvent({ kind: 'lost', time, count: 7 }), 'netarp: 7 events lost');
    assert.equal(
      formatMonitorEvent({
        kind: 'held-delivered',
        time,
        ifName: 'vx0',
        nextHop: '192.0.2.1',
        mac: '02:00:00:00:00:01',
        length: 84,
      }),
      'netarp: held packet for 192.0.2.1 sent to 02:00:00:00:00:01 on vx0 (84 bytes)',
    );
  });
});
