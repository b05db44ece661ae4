import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captureIo } from '../../test/support/cli-io.ts';
import { UsageError } from './command.ts';
import { parseResolveArgs, printResolved, type ResolveArgs } from './resolve.ts';

describe('parseResolveArgs', () => {
  const accepted: [string[], ResolveArgs][] = [
    [['192.0.2.1'], { kind: 'run', host: '192.0.2.1', json: false }],
    [['h', '--timeout', '500'], { kind: 'run', host: 'h', timeoutMs: 500, json: false }],
    [['--timeout=1', 'h', '--json'], { kind: 'run', host: 'h', timeoutMs: 1, json: true }],
    [['-W', '60000', 'h'], { kind: 'run', host: 'h', timeoutMs: 60000, json: false }],
    [['-h'], { kind: 'help' }],
  ];
  for (const [argv, expected] of accepted) {
    it(`resolve ${argv.join(' ')}`, () => assert.deepEqual(parseResolveArgs(argv), expected));
  }
  const refused: [string[], string][] = [
    [[], 'resolve: missing HOST (see netarp resolve --help)'],
    [['a', 'b'], "resolve: unexpected argument 'b'"],
    [['h', '--timeout', '0'], "resolve: --timeout: expected an integer in 1..60000, got '0'"],
    [['h', '--timeout', '3s'], "resolve: --timeout: expected an integer in 1..60000, got '3s'"],
    [['h', '--timeout'], "resolve: option '--timeout' needs a value"],
  ];
  for (const [argv, message] of refused) {
    it(`refuses resolve ${argv.join(' ')}`, () => {
      assert.throws(
        () => parseResolveArgs(argv),
        (error: unknown) => error instanceof UsageError && error.message === message,
      );
    });
  }
});

describe('printResolved', () => {
  const capture = () => captureIo();
  const found = {
    resolved: true,
    ip: '192.0.2.1',
    mac: '02:00:00:00:00:01',
    ifName: 'vx0',
    state: 'resolved',
    elapsedMs: 1.5,
  } as const;
  const failed = {
    resolved: false,
    ip: '192.0.2.7',
    reason: 'host is down',
    elapsedMs: 9,
  } as const;

  it('prints the MAC alone, or the reason on stderr with status 1', () => {
    const ok = capture();
    assert.equal(printResolved(ok, '192.0.2.1', found, false), 0);
    assert.deepEqual([ok.out, ok.err], ['02:00:00:00:00:01\n', '']);
    const bad = capture();
    assert.equal(printResolved(bad, 'h.example', failed, false), 1);
    assert.deepEqual([bad.out, bad.err], ['', 'netarp: h.example (192.0.2.7): host is down\n']);
  });

  it('prints the answer as JSON either way', () => {
    const bad = capture();
    assert.equal(printResolved(bad, '192.0.2.7', failed, true), 1);
    assert.deepEqual([JSON.parse(bad.out), bad.err], [failed, '']);
  });
});
