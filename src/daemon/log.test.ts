import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MonitorEvent } from '../control/protocol.ts';
import { formatJson, formatText, LogSink } from './log.ts';

const TIME = Date.UTC(2024, 0, 2, 3, 4, 5, 678);

/** One event of each kind, with its text line and level. */
const EVENTS: readonly { event: MonitorEvent; text: string; level: string }[] = [
  {
    event: {
      kind: 'log',
      time: TIME,
      level: 'err',
      source: 'engine',
      message: 'arp: 02:00:00:00:00:66 attempts to modify permanent entry for 192.0.2.1 on vx0',
    },
    text: 'arp: 02:00:00:00:00:66 attempts to modify permanent entry for 192.0.2.1 on vx0',
    level: 'err',
  },
  {
    event: { kind: 'log', time: TIME, level: 'info', source: 'daemon', message: 'stopping' },
    text: 'netarp: stopping',
    level: 'info',
  },
  {
    event: {
      kind: 'route',
      time: TIME,
      type: 'resolve',
      ifName: 'vx0',
      ip: '192.0.2.1',
      mac: '02:00:00:00:00:01',
      reason: 'learned',
    },
    text: 'route: resolve 192.0.2.1 at 02:00:00:00:00:01 on vx0 (learned)',
    level: 'debug',
  },
  {
    event: {
      kind: 'route',
      time: TIME,
      type: 'miss',
      ifName: 'vx0',
      ip: '192.0.2.7',
      reason: 'maxtries',
    },
    text: 'route: miss 192.0.2.7 on vx0 (maxtries)',
    level: 'debug',
  },
  {
    event: {
      kind: 'held-delivered',
      time: TIME,
      ifName: 'vx0',
      nextHop: '192.0.2.1',
      mac: '02:00:00:00:00:01',
      length: 84,
    },
    text: 'netarp: held packet for 192.0.2.1 sent to 02:00:00:00:00:01 on vx0 (84 bytes)',
    level: 'debug',
  },
  {
    event: { kind: 'lost', time: TIME, count: 3 },
    text: 'netarp: 3 events lost',
    level: 'warning',
  },
];

describe('log formats', () => {
  it("keeps the seed's lines verbatim and names the daemon's own", () => {
    for (const { event, text } of EVENTS) assert.equal(formatText(event), text);
  });

  it('writes JSON lines with an ISO time and the level', () => {
    for (const { event, level } of EVENTS) {
      assert.deepEqual(JSON.parse(formatJson(event)), {
        ...event,
        time: '2024-01-02T03:04:05.678Z',
        level,
      });
    }
  });
});

describe('LogSink', () => {
  it('writes one line per event at or above its level', () => {
    const lines: string[] = [];
    const sink = new LogSink({ format: 'text', write: (text) => lines.push(text) });
    for (const { event } of EVENTS) sink.log(event);
    assert.deepEqual(lines, [
      `${EVENTS[0]!.text}\n`,
      `${EVENTS[1]!.text}\n`,
      `${EVENTS[5]!.text}\n`,
    ]);
  });

  it('adds entry events at debug, and keeps only errors at err', () => {
    const debug: string[] = [];
    const errs: string[] = [];
    const all = new LogSink({ format: 'text', level: 'debug', write: (t) => debug.push(t) });
    const quiet = new LogSink({ format: 'json', level: 'err', write: (t) => errs.push(t) });
    for (const { event } of EVENTS) {
      all.log(event);
      quiet.log(event);
    }
    assert.equal(debug.length, EVENTS.length);
    assert.deepEqual(
      errs.map((line) => JSON.parse(line).message),
      [EVENTS[0]!.text],
    );
  });
});
