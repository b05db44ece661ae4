import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCaptured } from '../../test/support/cli-io.ts';
import type { PingProgress } from '../control/protocol.ts';
import type { PingResult } from '../runtime/host.ts';
import { UsageError } from './command.ts';
import { type PingArgs, PingTally, parsePingArgs, pingLines, pingSummary } from './ping.ts';

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

describe('PingTally', () => {
  it('counts requests sent and the echoes settled, for the statistics of an interrupted ping', () => {
    const tally = new PingTally('192.0.2.1');
    assert.equal(tally.add({ kind: 'sent', transmitted: 1 }), undefined);
    const reply = { sequence: 7, ok: true, rttMs: 2, ttl: 64 } as const;
    assert.equal(tally.add({ kind: 'probe', probe: reply }), reply);
    tally.add({ kind: 'sent', transmitted: 2 });
    tally.add({ kind: 'sent', transmitted: 3 });
    // A kind this client does not know, from a newer daemon, is skipped.
    assert.equal(tally.add({ kind: 'later' } as unknown as PingProgress), undefined);
    assert.deepEqual(tally.result(), {
      destination: '192.0.2.1',
      transmitted: 3,
      received: 1,
      probes: [reply],
      rttsMs: [2],
    });
    assert.deepEqual(pingSummary('h', tally.result()), [
      '',
      '--- h ping statistics ---',
      '3 packets transmitted, 1 packets received, 66.7% packet loss',
      'round-trip min/avg/max/stddev = 2.000/2.000/2.000/0.000 ms',
    ]);
  });
});

/**
 * A daemon on a Unix socket that answers `ping` as `answer` says, writing each line it
 * returns; the requests it saw are kept.
 */
async function fakeDaemon(
  answer: (request: Record<string, unknown>, write: (line: object) => void) => void,
): Promise<{ path: string; seen: Record<string, unknown>[]; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'netarp-ping-'));
  const path = join(dir, 'netarp.sock');
  const seen: Record<string, unknown>[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let rest = '';
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      const lines = (rest + text).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        const request = JSON.parse(line) as Record<string, unknown>;
        seen.push(request);
        answer(request, (reply) => {
          if (socket.writable)
            socket.write(`${JSON.stringify({ v: 1, id: request.id, ...reply })}\n`);
        });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    path,
    seen,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const REPLY_1 = { sequence: 1, ok: true, rttMs: 1.5, ttl: 64 } as const;
const REPLY_2 = { sequence: 2, ok: true, rttMs: 0.5, ttl: 64 } as const;
const RESULT: PingResult = {
  destination: '192.0.2.1',
  transmitted: 2,
  received: 2,
  probes: [REPLY_1, REPLY_2],
  rttsMs: [1.5, 0.5],
};

function runPingAgainst(path: string, ...argv: string[]) {
  return runCaptured(['--socket', path, 'ping', ...argv]);
}

const EXPECTED_OUT = [
  'PING 192.0.2.1 (192.0.2.1): 56 data bytes',
  '64 bytes from 192.0.2.1: icmp_seq=1 ttl=64 time=1.500 ms',
  '64 bytes from 192.0.2.1: icmp_seq=2 ttl=64 time=0.500 ms',
  '',
  '--- 192.0.2.1 ping statistics ---',
  '2 packets transmitted, 2 packets received, 0.0% packet loss',
  'round-trip min/avg/max/stddev = 0.500/1.000/1.500/0.500 ms',
  '',
].join('\n');

describe('netarp ping and the daemon', () => {
  it('asks for progress, and prints an echo the progress lines missed before the statistics', async () => {
    const daemon = await fakeDaemon((_request, write) => {
      write({ progress: { kind: 'sent', transmitted: 1 } });
      write({ progress: { kind: 'probe', probe: REPLY_1 } });
      // The second echo's lines were lost (a client not reading): only the result has it.
      write({ ok: true, result: RESULT });
    });
    try {
      assert.deepEqual(await runPingAgainst(daemon.path, '192.0.2.1', '-c', '2'), {
        code: 0,
        out: EXPECTED_OUT,
        err: '',
      });
      assert.deepEqual(
        daemon.seen.map((r) => [r.op, r.host, r.count, r.progress]),
        [['ping', '192.0.2.1', 2, true]],
      );
    } finally {
      await daemon.close();
    }
  });

  it('falls back to the answer at the end with a daemon that predates progress lines', async () => {
    const daemon = await fakeDaemon((request, write) => {
      if ('progress' in request) {
        write({ ok: false, error: { code: 'EINVAL', message: "ping: unknown field 'progress'" } });
      } else {
        write({ ok: true, result: RESULT });
      }
    });
    try {
      assert.deepEqual(await runPingAgainst(daemon.path, '192.0.2.1', '-c', '2'), {
        code: 0,
        out: EXPECTED_OUT,
        err: '',
      });
      assert.deepEqual(
        daemon.seen.map((r) => r.progress),
        [true, undefined],
      );
    } finally {
      await daemon.close();
    }
  });

  it("reports any other refusal as the daemon's error", async () => {
    const daemon = await fakeDaemon((_request, write) => {
      write({ ok: false, error: { code: 'EINVAL', message: "ping: unknown field 'count'" } });
    });
    try {
      assert.deepEqual(await runPingAgainst(daemon.path, '192.0.2.1'), {
        code: 1,
        out: 'PING 192.0.2.1 (192.0.2.1): 56 data bytes\n',
        err: "netarp: ping: unknown field 'count'\n",
      });
      assert.equal(daemon.seen.length, 1, 'no retry');
    } finally {
      await daemon.close();
    }
  });
});
