import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PingResult } from '../runtime/host.ts';
import { UsageError } from './command.ts';
import { type PingArgs, parsePingArgs, pingLines } from './ping.ts';

describe('parsePingArgs', () => {
  const accepted: [string[], PingArgs][] = [
    [['192.0.2.1'], { kind: 'run', host: '192.0.2.1', json: false }],
    [
      ['-c', '3', 'gw.example', '-i', '0.2', '-W', '500'],
      { kind: 'run', host: 'gw.example', count: 3, intervalMs: 200, timeoutMs: 500, json: false },
    ],
    [['-c3', '-i1', 'h'], { kind: 'run', host: 'h', count: 3, intervalMs: 1000, json: false }],
    [['-i', '.01', 'h'], { kind: 'run', host: 'h', intervalMs: 10, json: false }],
    [['-i', '60', 'h', '--json'], { kind: 'run', host: 'h', intervalMs: 60000, json: true }],
    [['--socket', '/s', 'h'], { kind: 'run', host: 'h', json: false, socket: '/s' }],
    [['--help'], { kind: 'help' }],
  ];
  for (const [argv, expected] of accepted) {
    it(`ping ${argv.join(' ')}`, () => assert.deepEqual(parsePingArgs(argv), expected));
  }
  const refused: [string[], string][] = [
    [[], 'ping: missing HOST (see netarp ping --help)'],
    [['a', 'b'], "ping: unexpected argument 'b'"],
    [['-c', '0', 'h'], "ping: -c: expected an integer in 1..100, got '0'"],
    [['-c', '101', 'h'], "ping: -c: expected an integer in 1..100, got '101'"],
    [['-W', '0', 'h'], "ping: -W: expected an integer in 1..60000, got '0'"],
    [['-i', '0.001', 'h'], "ping: -i: expected seconds in 0.01..60, got '0.001'"],
    [['-i', '61', 'h'], "ping: -i: expected seconds in 0.01..60, got '61'"],
    [['-i', 'x', 'h'], "ping: -i: expected seconds in 0.01..60, got 'x'"],
    [['-t', '1', 'h'], "ping: unknown option '-t'"],
  ];
  for (const [argv, message] of refused) {
    it(`refuses ping ${argv.join(' ')}`, () => {
      assert.throws(
        () => parsePingArgs(argv),
        (error: unknown) => error instanceof UsageError && error.message === message,
      );
    });
  }
});

describe('pingLines', () => {
  it('prints ping(8) lines and the statistics', () => {
    const result: PingResult = {
      destination: '192.0.2.1',
      transmitted: 4,
      received: 2,
      probes: [
        { sequence: 1, ok: true, rttMs: 1.42, ttl: 64 },
        { sequence: 2, ok: false, reason: 'timeout' },
        { sequence: 3, ok: true, rttMs: 0.61, ttl: 64 },
        { sequence: 4, ok: false, reason: 'host is down' },
      ],
      rttsMs: [1.42, 0.61],
    };
    assert.deepEqual(pingLines('gw.example', result), [
      'PING gw.example (192.0.2.1): 56 data bytes',
      '64 bytes from 192.0.2.1: icmp_seq=1 ttl=64 time=1.420 ms',
      'Request timeout for icmp_seq 2',
      '64 bytes from 192.0.2.1: icmp_seq=3 ttl=64 time=0.610 ms',
      'Request failed for icmp_seq 4: host is down',
      '',
      '--- gw.example ping statistics ---',
      '4 packets transmitted, 2 packets received, 50.0% packet loss',
      'round-trip min/avg/max/stddev = 0.610/1.015/1.420/0.405 ms',
    ]);
  });

  it('has no round-trip line without replies', () => {
    const lines = pingLines('192.0.2.9', {
      destination: '192.0.2.9',
      transmitted: 1,
      received: 0,
      probes: [{ sequence: 1, ok: false, reason: 'timeout' }],
      rttsMs: [],
    });
    assert.equal(lines.at(-1), '1 packets transmitted, 0 packets received, 100.0% packet loss');
  });
});
