/**
 * A sink that takes entry events raw (`OutputSink.entryEvent`) gets the same events, in the
 * same order among the other outputs, as one that takes formatted `EngineEvent`s; only the
 * formatting is left to it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Ipv4, type Mac, parseMac } from '../wire/addr.ts';
import { ArpHardware, ArpOp, emitArp } from '../wire/arp.ts';
import { EtherType, emitEthernetHeader } from '../wire/ethernet.ts';
import { Engine } from './engine.ts';
import { type EngineEvent, type RouteEventType, routeEvent } from './events.ts';
import type { OutputSink } from './output.ts';

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
});
