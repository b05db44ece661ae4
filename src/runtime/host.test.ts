import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine } from '../core/engine.ts';
import { MemoryHub } from '../link/memory.ts';
import { parseIpv4, parseMac } from '../wire/addr.ts';
import { buildEthernetFrame, EtherType } from '../wire/ethernet.ts';
import { describeFrame } from '../wire/format.ts';
import { buildIcmpEcho, IcmpType } from '../wire/icmp.ts';
import { buildIpv4Packet, IpProtocol, internetChecksum } from '../wire/ipv4.ts';
import { ManualClock } from './clock.ts';
import { Host } from './host.ts';
import { Runner } from './runner.ts';

const MAC_A = parseMac('02:00:00:00:00:0a');
const MAC_B = parseMac('02:00:00:00:00:0b');

/** Lets promise callbacks run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Two hosts on a hub whose frames take `delayMs` each way, on one manual clock that also
 * schedules the hub, so every time below is exact.
 */
function pair(delayMs: number) {
  const clock = new ManualClock(1_000_000);
  const hub = new MemoryHub({
    delayMs,
    schedule: (ms, deliver) => clock.setTimer(clock.now() + ms, deliver),
  });
  const wire: string[] = [];
  hub.port('tap').onFrame((f) => wire.push(describeFrame(f)));
  const make = (name: string, mac: number, cidr: string) => {
    const engine = new Engine();
    engine.addInterface({ name: 'eth0', mac });
    const runner = new Runner(engine, { clock, links: { eth0: hub.port(name) } });
    const host = new Host(runner);
    runner.apply((e, now) => e.addAddress(now, 'eth0', cidr));
    return { engine, runner, host };
  };
  const a = make('a', MAC_A, '192.0.2.10/24');
  const b = make('b', MAC_B, '192.0.2.11/24');
  clock.advance(delayMs); // the announcements
  wire.length = 0;
  return { clock, hub, wire, a, b };
}

/** An IPv4/ICMP echo request frame from B's address to `destination`. */
function echoFrame(destinationMac: number, destination: string, mangle?: (p: Uint8Array) => void) {
  const packet = buildIpv4Packet(
    {
      source: parseIpv4('192.0.2.11'),
      destination: parseIpv4(destination),
      protocol: IpProtocol.Icmp,
      ttl: 64,
      typeOfService: 0,
      identification: 1,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
    },
    buildIcmpEcho({
      type: IcmpType.EchoRequest,
      code: 0,
      identifier: 9,
      sequence: 1,
      data: new Uint8Array(8),
    }),
  );
  const original = packet.slice();
  if (mangle) {
    mangle(packet);
    // Keep the IP header valid unless the test broke the checksum itself.
    if (packet[10] === original[10] && packet[11] === original[11]) {
      packet[10] = 0;
      packet[11] = 0;
      const checksum = internetChecksum(packet, 0, 20);
      packet[10] = checksum >>> 8;
      packet[11] = checksum & 0xff;
    }
  }
  return buildEthernetFrame(
    { destination: destinationMac, source: MAC_B, etherType: EtherType.Ipv4 },
    packet,
  );
}

describe('Host', () => {
  it('pings from cold caches: one request, the held echo goes out, the reply comes back', async () => {
    const { clock, wire, a, b } = pair(5);
    const ping = a.host.ping('192.0.2.11', { count: 1, timeoutMs: 1000 });
    clock.advance(100);
    const result = await ping;
    // Four one-way trips of 5 ms: request, reply, held echo, echo reply.
    assert.deepEqual(result, {
      destination: '192.0.2.11',
      transmitted: 1,
      received: 1,
      probes: [{ sequence: 1, ok: true, rttMs: 20, ttl: 64 }],
      rttsMs: [20],
    });
    assert.deepEqual(wire, [
      '02:00:00:00:00:0a > ff:ff:ff:ff:ff:ff, ARP, Request who-has 192.0.2.11 tell 192.0.2.10, length 28',
      '02:00:00:00:00:0b > 02:00:00:00:00:0a, ARP, Reply 192.0.2.11 is-at 02:00:00:00:00:0b, length 28',
      '02:00:00:00:00:0a > 02:00:00:00:00:0b, IPv4 192.0.2.10 > 192.0.2.11: ICMP echo request, id 20033, seq 1, length 64',
      '02:00:00:00:00:0b > 02:00:00:00:00:0a, IPv4 192.0.2.11 > 192.0.2.10: ICMP echo reply, id 20033, seq 1, length 64',
    ]);
    assert.equal(a.runner.stats().heldDelivered, 1);
    assert.equal(b.host.stats().rxEchoRequests, 1);
    assert.equal(b.host.stats().txEchoReplies, 1);
    assert.equal(a.host.stats().rxEchoReplies, 1);
  });

  it('sends count probes intervalMs apart; warm ones take one round trip', async () => {
    const { clock, a } = pair(5);
    const ping = a.host.ping('192.0.2.11', { count: 3, intervalMs: 1000 });
    for (let i = 0; i < 4; i++) {
      clock.advance(1000);
      await settle(); // the next probe is sent after the sleep's promise resolves
    }
    const result = await ping;
    assert.deepEqual(result.rttsMs, [20, 10, 10]);
    assert.deepEqual(
      result.probes.map((p) => p.sequence),
      [1, 2, 3],
    );
  });

  it('times out when nobody answers, and fails at once without a route', async () => {
    const { clock, a } = pair(5);
    const silent = a.host.ping('192.0.2.99', { timeoutMs: 1500 });
    clock.advance(1499);
    await settle();
    let settled = false;
    silent.then(() => (settled = true));
    await settle();
    assert.equal(settled, false, 'still waiting at 1499 ms');
    clock.advance(1);
    assert.deepEqual((await silent).probes, [{ sequence: 1, ok: false, reason: 'timeout' }]);

    const unroutable = await a.host.ping('198.51.100.1');
    assert.deepEqual(unroutable.probes, [{ sequence: 2, ok: false, reason: 'no route to host' }]);
    assert.equal(a.host.stats().txFailed, 1);
  });

  it('reports host is down once the engine gives up (maxtries)', async () => {
    const { clock, a } = pair(5);
    a.engine.setSysctl('maxtries', 1);
    // Past the first prune pass (1 s after the address), which would free the incomplete
    // entry between the tries; the next pass is prune_intvl away.
    clock.advance(1000);
    const first = a.host.ping('192.0.2.99', { timeoutMs: 500 });
    clock.advance(1000);
    assert.equal((await first).received, 0);
    // The second try finds one request already sent: the entry goes down (RTF_REJECT) and
    // the packet it held is refused; later sends fail at once until host_down_time passes.
    const second = a.host.ping('192.0.2.99', { timeoutMs: 500 });
    clock.advance(1000);
    await second;
    const third = await a.host.ping('192.0.2.99', { timeoutMs: 500 });
    assert.deepEqual(third.probes, [{ sequence: 3, ok: false, reason: 'host is down' }]);
  });

  it('pings its own address through the loopback path', async () => {
    const { a, wire } = pair(5);
    const result = await a.host.ping('192.0.2.10');
    assert.deepEqual(result.rttsMs, [0]);
    assert.deepEqual(wire, [], 'nothing on the wire');
  });

  it('counts and drops IPv4 it must not answer', async () => {
    const { clock, a } = pair(5);
    const receive = (frame: Uint8Array) => a.runner.receive(0, frame);
    receive(echoFrame(MAC_B, '192.0.2.10')); // another station's MAC
    receive(echoFrame(MAC_A, '192.0.2.10', (p) => (p[10]! ^= 0xff))); // bad header checksum
    receive(echoFrame(MAC_A, '192.0.2.10', (p) => (p[6] = 0x20))); // MF set: a fragment
    receive(echoFrame(MAC_A, '192.0.2.99')); // not our address
    receive(echoFrame(MAC_A, '192.0.2.10', (p) => (p[9] = IpProtocol.Udp))); // not ICMP
    receive(echoFrame(MAC_A, '192.0.2.10', (p) => (p[20 + 2]! ^= 0xff))); // bad ICMP checksum
    clock.advance(100);
    assert.deepEqual(a.host.stats(), {
      rxNotForUs: 1,
      rxInterfaceDown: 0,
      rxBadIpv4: 1,
      rxFragment: 1,
      rxNotOurAddress: 1,
      rxNotEcho: 2,
      rxEchoRequests: 0,
      rxEchoReplies: 0,
      rxUnmatchedReplies: 0,
      txEchoRequests: 0,
      txEchoReplies: 0,
      txFailed: 0,
    });
    a.runner.apply((e, now) => e.setInterfaceUp(now, 'eth0', false));
    receive(echoFrame(MAC_A, '192.0.2.10'));
    assert.equal(a.host.stats().rxInterfaceDown, 1);
  });

  it('answers a broadcast-addressed frame for our IP, and ignores replies it did not ask for', async () => {
    const { clock, a, b, wire } = pair(5);
    a.runner.receive(0, echoFrame(0xffff_ffff_ffff, '192.0.2.10'));
    clock.advance(100);
    assert.equal(a.host.stats().rxEchoRequests, 1);
    // A's reply resolved B through ARP (B's request had not been seen), then went out; B
    // receives an echo reply for a probe it never sent.
    assert.equal(wire.length, 3, wire.join('\n'));
    assert.equal(b.host.stats().rxUnmatchedReplies, 1);
  });

  it('rejects bad ping options', async () => {
    const { a } = pair(5);
    await assert.rejects(a.host.ping('192.0.2.11', { count: 0 }), RangeError);
    await assert.rejects(a.host.ping('192.0.2.11', { timeoutMs: 0 }), RangeError);
    await assert.rejects(a.host.ping('192.0.2.11', { dataLength: 70_000 }), RangeError);
    assert.throws(() => new Host(a.runner, { identifier: 0x1_0000 }), RangeError);
  });
});
