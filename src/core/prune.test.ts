/**
 * The prune pass in slices (prune.ts): over a table larger than one `handleTimeout` call's
 * budget, the pass is spread over several calls, `pollTimeout` reports it due at once until
 * it is through, and its outcome is the seed's single pass as of the second it started in.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIpv4, parseMac } from '../wire/addr.ts';
import { ArpHardware, ArpOp, emitArp } from '../wire/arp.ts';
import { EtherType, emitEthernetHeader } from '../wire/ethernet.ts';
import { Engine } from './engine.ts';
import type { RouteEvent } from './events.ts';
import type { Output } from './output.ts';

const OUR_MAC = parseMac('02:00:00:00:00:01');
const OUR_IP = 0x0a_00_00_01;
/** More entries than one call's budget can free (1024 units, 33 per freed entry). */
const HOSTS = 1000;

/** An ARP reply from host i (10.0.1.0 + i, up to 10.0.4.231) to us: it creates its entry. */
function replyFrom(i: number): Uint8Array {
  const ip = 0x0a_00_01_00 + i;
  const mac = 0x02_00_00_00_00_00 + ip;
  const frame = new Uint8Array(42);
  emitEthernetHeader(frame, 0, OUR_MAC, mac, EtherType.Arp);
  emitArp(frame, 14, {
    hardwareType: ArpHardware.Ethernet,
    operation: ArpOp.Reply,
    senderMac: mac,
    senderIp: ip,
    targetMac: OUR_MAC,
    targetIp: OUR_IP,
  });
  return frame;
}

/** An engine on 10.0.0.1/16 that learned HOSTS hosts at second 0. */
function learnedHosts(): Engine {
  const engine = new Engine();
  engine.addInterface({ name: 'eth0', mac: OUR_MAC });
  engine.addAddress(0, 'eth0', '10.0.0.1/16');
  for (let i = 0; i < HOSTS; i++) engine.handleFrame(0, 0, replyFrom(i));
  return engine;
}

/** The entry events among `outputs`, as "type ip reason". */
function routeEvents(outputs: readonly Output[]): string[] {
  return outputs.flatMap((o) => {
    if (o.kind !== 'event' || o.event.kind !== 'route') return [];
    const event: RouteEvent = o.event;
    return [`${event.type} ${event.ip} ${event.reason}`];
  });
}

/** The pass that frees the hosts (due at 1201 s: passes run at 1, 301, ..., 1201 s). */
const AGEING_PASS_MS = 1_201_000;

/** Runs every pass due before the ageing pass, each to its end. */
function runPassesBefore(engine: Engine, until: number): void {
  for (let due = engine.pollTimeout(); due !== undefined && due < until; ) {
    engine.handleTimeout(due);
    due = engine.pollTimeout();
  }
}

describe('the prune pass over more entries than one call may handle', () => {
  it('is spread over several calls, due again at once until through, and frees every expired entry in table order', () => {
    const engine = learnedHosts();
    runPassesBefore(engine, AGEING_PASS_MS);
    assert.equal(engine.pollTimeout(), AGEING_PASS_MS);

    const first = routeEvents(engine.handleTimeout(AGEING_PASS_MS));
    assert.ok(first.length > 0 && first.length < HOSTS, `the first call freed ${first.length}`);
    assert.equal(engine.pollTimeout(), AGEING_PASS_MS, 'the rest of the pass is due at once');

    const events = [...first];
    let calls = 1;
    const now = AGEING_PASS_MS + 3;
    while ((engine.pollTimeout() ?? Number.POSITIVE_INFINITY) <= now) {
      events.push(...routeEvents(engine.handleTimeout(now)));
      calls++;
    }
    assert.ok(calls >= 3, `${calls} calls`);
    assert.deepEqual(
      events,
      Array.from({ length: HOSTS }, (_, i) => `delete ${formatIpv4(0x0a_00_01_00 + i)} expired`),
    );
    assert.equal(engine.size, 1, 'only our own address is left');
    assert.equal(engine.stats().timeouts, HOSTS);
    // The cadence is the seed's: the next pass prune_intvl after this one started.
    assert.equal(engine.pollTimeout(), AGEING_PASS_MS + 300_000);
  });

  it('judges entries as of the second it started in, and leaves alone those added since', () => {
    const engine = learnedHosts();
    engine.setSysctl('max_requests_per_sec', 1);
    runPassesBefore(engine, AGEING_PASS_MS);
    engine.handleTimeout(AGEING_PASS_MS);
    // Mid-pass, in the same second: the budget of requests is spent, so a send to a new
    // address makes an entry that asked nothing and "expires" this second. A pass examining
    // it now would free it; the seed's pass ran before it existed.
    const late = 0x0a_00_c8_01;
    engine.resolve(AGEING_PASS_MS + 1, 0x0a_00_c8_00, new Uint8Array(1));
    engine.resolve(AGEING_PASS_MS + 1, late, new Uint8Array(1));
    while ((engine.pollTimeout() ?? Number.POSITIVE_INFINITY) <= AGEING_PASS_MS + 2) {
      engine.handleTimeout(AGEING_PASS_MS + 2);
    }
    assert.equal(engine.stats().timeouts, HOSTS);
    assert.equal(engine.lookup(AGEING_PASS_MS + 2, late)?.state, 'incomplete');
  });

  it('keeps an entry refreshed before the pass reached it, and survives entries deleted under it', () => {
    const engine = learnedHosts();
    runPassesBefore(engine, AGEING_PASS_MS);
    const first = routeEvents(engine.handleTimeout(AGEING_PASS_MS)).length;
    const last = HOSTS - 1;
    const refreshed = HOSTS - 2;
    // Between two slices: the operator deletes the next entry due and the last one, and the
    // host before the last answers again (its entry is judged as it is when reached).
    engine.deleteEntry(AGEING_PASS_MS + 1, 0x0a_00_01_00 + first);
    engine.deleteEntry(AGEING_PASS_MS + 1, 0x0a_00_01_00 + last);
    engine.handleFrame(AGEING_PASS_MS + 1, 0, replyFrom(refreshed));
    const events: string[] = [];
    while ((engine.pollTimeout() ?? Number.POSITIVE_INFINITY) <= AGEING_PASS_MS + 2) {
      events.push(...routeEvents(engine.handleTimeout(AGEING_PASS_MS + 2)));
    }
    assert.equal(events.length, HOSTS - first - 3);
    assert.ok(events.every((e) => e.endsWith(' expired')));
    assert.equal(engine.size, 2, 'our own address and the refreshed host');
    assert.equal(engine.lookup(AGEING_PASS_MS + 2, 0x0a_00_01_00 + refreshed)?.state, 'resolved');
  });
});
