/**
 * The optional ways of taking outputs give the same outputs as the plain ones: a sink that
 * takes entry events raw (`OutputSink.entryEvent`) gets the same events, in the same order
 * among the other outputs, as one that takes formatted `EngineEvent`s; one that offers its own
 * transmit buffer (`transmitBuffer`, `commitTransmit`) gets the same frames as through
 * `transmit`; and `resolveInto` filling a caller's result gives the results it returns.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Ipv4, type Mac, parseMac } from '../wire/addr.ts';
import { ArpHardware, ArpOp, emitArp } from '../wire/arp.ts';
import { EtherType, emitEthernetHeader } from '../wire/ethernet.ts';
import { Engine } from './engine.ts';
import { type EngineEvent, type RouteEventType, routeEvent } from './events.ts';
import type { OutputSink } from './output.ts';
import { MutableResolveResult } from './resolve.ts';

const OUR_MAC = parseMac('02:00:00:00:00:01');

/** A sink that writes down what it gets, in order; with `raw`, it takes entry events raw. */
function recorder(raw: boolean): OutputSink & { readonly log: string[] } {
  const log: string[] = [];
  const sink: OutputSink & { log: string[] } = {
    log,
    transmit: (ifIndex, frame) => log.push(`transmit ${ifIndex} ${frame.length}`),
    deliverHeld: (ifIndex, nextHop) => log.push(`deliver ${ifIndex} ${nextHop}`),
    event: (event: EngineEvent) => log.push(`event ${JSON.stringify(event)}`),
  };
  if (raw) {
    // Entry events must come through entryEvent now: one through `event` is marked.
    sink.event = (event: EngineEvent) =>
      log.push(`${event.kind === 'route' ? 'NOT RAW ' : ''}event ${JSON.stringify(event)}`);
    sink.entryEvent = (
      type: RouteEventType,
      ifName: string,
      ip: Ipv4,
      mac: Mac | undefined,
      reason: string,
    ) => log.push(`event ${JSON.stringify(routeEvent(type, ifName, ip, mac, reason))}`);
  }
  return sink;
}

/** A reply from 10.0.0.(2 + i) to us. */
function replyFrom(i: number, mac = 0x02_00_0a_00_00_02 + i): Uint8Array {
  const frame = new Uint8Array(42);
  emitEthernetHeader(frame, 0, OUR_MAC, mac, EtherType.Arp);
  emitArp(frame, 14, {
    hardwareType: ArpHardware.Ethernet,
    operation: ArpOp.Reply,
    senderMac: mac,
    senderIp: 0x0a_00_00_02 + i,
    targetMac: OUR_MAC,
    targetIp: 0x0a_00_00_01,
  });
  return frame;
}

/** A request from 10.0.0.(2 + i) for our address. */
function requestFrom(i: number): Uint8Array {
  const frame = replyFrom(i);
  frame.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0);
  frame[21] = ArpOp.Request;
  frame.fill(0, 32, 38);
  return frame;
}

/** Adds, resolves, moves, evicts, gives up on and expires entries, through `sink`. */
function churn(sink: OutputSink): void {
  const engine = new Engine({ config: { max_entries: 3, maxtries: 1 } });
  engine.addInterface({ name: 'eth0', mac: OUR_MAC });
  engine.addAddress(0, 'eth0', '10.0.0.1/24');
  const packet = new Uint8Array(4);
  engine.resolveInto(1000, 0x0a_00_00_02, packet, sink); // add, request
  engine.handleFrameInto(1500, 0, replyFrom(0), sink); // resolve, deliver
  engine.handleFrameInto(2000, 0, replyFrom(0, 0x02_00_00_00_00_99), sink); // change (moved)
  for (let i = 1; i <= 3; i++) engine.handleFrameInto(3000, 0, replyFrom(i), sink); // evictions
  engine.resolveInto(4000, 0x0a_00_00_09, packet, sink);
  engine.resolveInto(5000, 0x0a_00_00_09, packet, sink); // maxtries: miss
  engine.handleFrameInto(5500, 0, requestFrom(9), sink); // a reply
  engine.handleTimeoutInto(2_000_000, sink); // expiry
}

describe('entry events', () => {
  it('reach a sink with entryEvent raw, the same and in the same order as formatted ones', () => {
    const formatted = recorder(false);
    const raw = recorder(true);
    churn(formatted);
    churn(raw);
    assert.deepEqual(raw.log, formatted.log);
    for (const type of ['add', 'resolve', 'change', 'delete', 'miss']) {
      assert.ok(
        formatted.log.some((line) => line.includes(`"type":"${type}"`)),
        `the churn reports a ${type}`,
      );
    }
  });

  it('reach neither kind of sink while it wants none; everything else is the same', () => {
    const routeLine = (line: string) => line.includes('"kind":"route"');
    const expected = recorder(false);
    churn(expected);
    for (const raw of [false, true]) {
      const sink = recorder(raw);
      let asked = 0;
      sink.wantsEntryEvents = () => {
        asked++;
        return false;
      };
      churn(sink);
      assert.deepEqual(
        sink.log,
        expected.log.filter((line) => !routeLine(line)),
        `raw ${raw}`,
      );
      assert.equal(asked, expected.log.filter(routeLine).length, 'asked once per event');
      assert.ok(
        sink.log.some((line) => line.includes('"kind":"log"')),
        'log lines still come',
      );
    }
    // Wanting them again: as if the method were not there.
    const again = recorder(true);
    again.wantsEntryEvents = () => true;
    churn(again);
    assert.deepEqual(again.log, expected.log);
  });
});

/** A sink whose own buffer the engine writes frames into, when `offer` says so. */
function ringSink(offer: (ifIndex: number) => Uint8Array | undefined): OutputSink & {
  readonly log: string[];
} {
  const log: string[] = [];
  let lent: Uint8Array | undefined;
  return {
    log,
    transmit: (ifIndex, frame) => log.push(`transmit ${ifIndex} ${Array.from(frame).join(',')}`),
    transmitBuffer: (ifIndex, length) => {
      lent = offer(ifIndex);
      log.push(`lend ${ifIndex} ${length}`);
      return lent;
    },
    commitTransmit: (ifIndex, length) => {
      const bytes = lent ? Array.from(lent.subarray(0, length)).join(',') : 'nothing lent';
      log.push(`transmit ${ifIndex} ${bytes}`);
    },
    deliverHeld: (ifIndex, nextHop) => log.push(`deliver ${ifIndex} ${nextHop}`),
    event: (event: EngineEvent) => log.push(`event ${JSON.stringify(event)}`),
  };
}

describe('transmit buffers', () => {
  /** What a sink saw of the churn, the lending lines left out. */
  const seen = (sink: { log: string[] }): string[] => sink.log.filter((l) => !l.startsWith('lend'));

  it('take every frame written in place, as `transmit` would have had it', () => {
    const plain = recorder(false);
    const frames: string[] = [];
    const copying: OutputSink = {
      ...plain,
      transmit: (ifIndex, frame) =>
        frames.push(`transmit ${ifIndex} ${Array.from(frame).join(',')}`),
      event: () => {},
      deliverHeld: () => {},
    };
    churn(copying);
    // A ring slot larger than a frame, holding what an earlier frame left in it.
    const slot = new Uint8Array(1514).fill(0xee);
    const ring = ringSink(() => slot);
    churn(ring);
    const sent = seen(ring).filter((l) => l.startsWith('transmit'));
    assert.equal(sent.length, 3, 'two requests and a reply went out');
    assert.deepEqual(sent, frames);
    assert.ok(
      ring.log.every((l) => !l.startsWith('lend') || l.endsWith(' 42')),
      'each lending asks for the 42 bytes of an ARP frame',
    );
  });

  it('fall back to `transmit` when the sink lends none, or one too short', () => {
    const none = ringSink(() => undefined);
    const short = ringSink(() => new Uint8Array(41));
    const frames: string[] = [];
    churn({
      transmit: (ifIndex, frame) =>
        frames.push(`transmit ${ifIndex} ${Array.from(frame).join(',')}`),
      event: () => {},
      deliverHeld: () => {},
    });
    churn(none);
    churn(short);
    for (const sink of [none, short]) {
      assert.deepEqual(
        seen(sink).filter((l) => l.startsWith('transmit')),
        frames,
      );
    }
  });
});

describe('resolveInto with a result of the caller', () => {
  it('fills it with what it would have returned, and returns it', () => {
    const make = (): Engine => {
      const engine = new Engine({ config: { maxtries: 1 } });
      engine.addInterface({ name: 'eth0', mac: OUR_MAC });
      engine.addAddress(0, 'eth0', '10.0.0.1/24');
      engine.handleFrame(500, 0, replyFrom(3));
      return engine;
    };
    const returning = make();
    const filling = make();
    const result = new MutableResolveResult();
    const packet = new Uint8Array(4);
    // Resolved, held, ours (local), broadcast, no route, down after maxtries.
    const sends: [number, number][] = [
      [1000, 0x0a_00_00_05],
      [1000, 0x0a_00_00_09],
      [1000, 0x0a_00_00_01],
      [1000, 0x0a_00_00_ff],
      [1000, 0x0b_00_00_01],
      [1000, 0x0a_00_00_07],
      [3000, 0x0a_00_00_07],
      [4000, 0x0a_00_00_07],
    ];
    const kinds = new Set<string>();
    for (const [now, destination] of sends) {
      const expected = returning.resolveInto(now, destination, packet, recorder(false));
      const filled = filling.resolveInto(now, destination, packet, recorder(false), -1, result);
      assert.equal(filled, result);
      assert.deepEqual(filled.toResult(), expected);
      kinds.add(expected.kind);
    }
    assert.deepEqual([...kinds].sort(), ['failed', 'held', 'local', 'resolved']);
  });
});
