import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine } from '../core/engine.ts';
import { NetarpError } from '../core/errors.ts';
import type { BatchEndHandler, FrameHandler, Link, LinkErrorHandler } from '../link/link.ts';
import { LinkError } from '../link/link.ts';
import { MemoryHub } from '../link/memory.ts';
import { MAC_BROADCAST, MAC_ZERO, parseIpv4, parseMac } from '../wire/addr.ts';
import { ArpHardware, ArpOp, emitArp } from '../wire/arp.ts';
import {
  buildEthernetFrame,
  ETHERNET_HEADER_LEN,
  EtherType,
  emitEthernetHeader,
} from '../wire/ethernet.ts';
import { describeFrame } from '../wire/format.ts';
import { type Clock, ManualClock } from './clock.ts';
import { MAX_FRAMES_PER_CLOCK_READ, Runner, type RuntimeEvent } from './runner.ts';

const MAC_A = parseMac('02:00:00:00:00:0a');
const MAC_B = parseMac('02:00:00:00:00:0b');
const MAC_C = parseMac('02:00:00:00:00:0c');

/** Lets zero-delay hub deliveries (microtasks) run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** An ARP frame as another station would send it. */
function arpFrame(
  operation: number,
  senderMac: number,
  senderIp: string,
  targetMac: number,
  targetIp: string,
  ethernetDestination = MAC_BROADCAST,
): Uint8Array {
  const frame = new Uint8Array(ETHERNET_HEADER_LEN + 28);
  emitEthernetHeader(frame, 0, ethernetDestination, senderMac, EtherType.Arp);
  emitArp(frame, ETHERNET_HEADER_LEN, {
    hardwareType: ArpHardware.Ethernet,
    operation,
    senderMac,
    senderIp: parseIpv4(senderIp),
    targetMac,
    targetIp: parseIpv4(targetIp),
  });
  return frame;
}

/** A hub port that records what crosses the segment, as tcpdump-like lines. */
function tap(hub: MemoryHub, name = 'tap'): string[] {
  const lines: string[] = [];
  hub.port(name).onFrame((frame) => lines.push(describeFrame(frame)));
  return lines;
}

/** A host: an engine with one Ethernet interface on `hub`, run by a runner. */
function station(hub: MemoryHub, clock: ManualClock, name: string, mac: number, cidr: string) {
  const engine = new Engine();
  engine.addInterface({ name: 'eth0', mac });
  const runner = new Runner(engine, { clock, links: { eth0: hub.port(name) } });
  runner.apply((e, now) => e.addAddress(now, 'eth0', cidr));
  return { engine, runner };
}

/** A link for tests: records sends, and lets the test deliver frames and errors. */
class FakeLink implements Link {
  readonly name = 'fake';
  readonly sent: Uint8Array[] = [];
  handler: FrameHandler | undefined;
  errorHandler: LinkErrorHandler | undefined;
  closed = false;
  /** Called synchronously from send: a misbehaving driver that delivers from inside send. */
  onSend: ((frame: Uint8Array) => void) | undefined;

  send(frame: Uint8Array): void {
    this.sent.push(frame.slice());
    this.onSend?.(frame);
  }
  onFrame(handler: FrameHandler): void {
    this.handler = handler;
  }
  onError(handler: LinkErrorHandler): void {
    this.errorHandler = handler;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A FakeLink that delivers in batches and lends transmit buffers, as the VXLAN link does. */
class BatchedFakeLink extends FakeLink {
  batchEnd: BatchEndHandler | undefined;
  /** Frames committed into lent buffers (also recorded in `sent`). */
  lent = 0;
  private readonly slot = new Uint8Array(2048);

  onBatchEnd(handler: BatchEndHandler): void {
    this.batchEnd = handler;
  }
  transmitBuffer(_length: number): Uint8Array {
    this.slot.fill(0xee);
    return this.slot;
  }
  commitTransmit(length: number): void {
    this.lent++;
    this.sent.push(this.slot.slice(0, length));
  }
  /** Frames sent before each `flush` call. */
  readonly flushes: number[] = [];
  flush(): void {
    this.flushes.push(this.sent.length);
  }
  /** Delivers `frames` as one wakeup's batch. */
  deliver(frames: readonly Uint8Array[], between?: () => void): void {
    for (const frame of frames) {
      this.handler?.(frame);
      between?.();
    }
    this.batchEnd?.();
  }
}

/** A runner whose eth0 (192.0.2.10/24) is on a BatchedFakeLink, at a manual time of 1000. */
function onBatchedLink(): { link: BatchedFakeLink; runner: Runner } {
  const engine = new Engine();
  engine.addInterface({ name: 'eth0', mac: MAC_A });
  const link = new BatchedFakeLink();
  const runner = new Runner(engine, { clock: new ManualClock(1000), links: { eth0: link } });
  runner.apply((e, now) => e.addAddress(now, 'eth0', '192.0.2.10/24'));
  return { link, runner };
}

/** A ManualClock whose readings are counted. */
function countingClock(start: number): { clock: Clock; manual: ManualClock; reads: () => number } {
  const manual = new ManualClock(start);
  let reads = 0;
  const clock: Clock = {
    now: () => {
      reads++;
      return manual.now();
    },
    setTimer: (at, fire, options) => manual.setTimer(at, fire, options),
  };
  return { clock, manual, reads: () => reads };
}

describe('Runner', () => {
  it('carries an ARP exchange between two engines and sends the held packet as a frame', async () => {
    const hub = new MemoryHub();
    const wire = tap(hub);
    const clock = new ManualClock(1_000_000);
    const a = station(hub, clock, 'a', MAC_A, '192.0.2.10/24');
    const b = station(hub, clock, 'b', MAC_B, '192.0.2.11/24');
    await settle();
    wire.length = 0; // the two announcements

    const packet = Uint8Array.of(
      0x45,
      0,
      0,
      20,
      0,
      0,
      0,
      0,
      64,
      17,
      0,
      0,
      192,
      0,
      2,
      10,
      192,
      0,
      2,
      11,
    );
    const result = a.runner.resolve(parseIpv4('192.0.2.11'), packet);
    assert.deepEqual(result, { kind: 'held', ifIndex: 0, nextHop: parseIpv4('192.0.2.11') });
    await settle();
    await settle();
    assert.deepEqual(wire.slice(0, 2), [
      '02:00:00:00:00:0a > ff:ff:ff:ff:ff:ff, ARP, Request who-has 192.0.2.11 tell 192.0.2.10, length 28',
      '02:00:00:00:00:0b > 02:00:00:00:00:0a, ARP, Reply 192.0.2.11 is-at 02:00:00:00:00:0b, length 28',
    ]);
    assert.equal(wire.length, 3);
    assert.match(wire[2]!, /^02:00:00:00:00:0a > 02:00:00:00:00:0b, /, 'the held packet, framed');
    assert.equal(a.runner.stats().heldDelivered, 1);
    assert.equal(b.engine.stats().rxNotArp, 1, 'without a host, IPv4 reaches the engine');
  });

  it('keeps exactly one timer, armed at pollTimeout and re-armed after each input', async () => {
    const hub = new MemoryHub();
    const clock = new ManualClock(10_000);
    const { engine, runner } = station(hub, clock, 'a', MAC_A, '192.0.2.10/24');
    // The first prune pass is due one second after the first address (arp_rtrequest).
    assert.equal(engine.pollTimeout(), 11_000);
    assert.equal(runner.timerDeadline, 11_000);
    assert.equal(clock.pendingTimers, 1);

    clock.advance(500);
    runner.receive(0, arpFrame(ArpOp.Request, MAC_B, '192.0.2.11', MAC_ZERO, '192.0.2.10'));
    assert.equal(clock.pendingTimers, 1, 'an input did not add a timer');
    assert.equal(engine.lookup(clock.now(), '192.0.2.11')?.state, 'resolved');

    clock.advance(500); // the deadline: the prune pass runs, the next is prune_intvl later
    assert.equal(runner.stats().timerRuns, 1);
    assert.equal(engine.pollTimeout(), 11_000 + 300_000);
    assert.equal(runner.timerDeadline, 311_000);
    assert.equal(clock.pendingTimers, 1);

    // An entry older than max_age is pruned by the pass that follows its expiry.
    clock.advanceTo(10_500 + 1_200_000 + 300_000);
    assert.equal(engine.lookup(clock.now(), '192.0.2.11'), undefined);
    assert.equal(clock.pendingTimers, 1);
    await runner.close();
    assert.equal(clock.pendingTimers, 0, 'close cancels the timer');
  });

  it("floods a bridge's frames to its member ports' links", async () => {
    const left = new MemoryHub({ name: 'left' });
    const right = new MemoryHub({ name: 'right' });
    const wireLeft = tap(left);
    const wireRight = tap(right);
    const engine = new Engine();
    engine.addInterface({ name: 'br0', kind: 'bridge', mac: MAC_A });
    engine.addInterface({ name: 'p0', mac: MAC_B, bridge: 'br0' });
    engine.addInterface({ name: 'p1', mac: MAC_C, bridge: 'br0' });
    const runner = new Runner(engine, {
      clock: new ManualClock(),
      links: { p0: left.port('p0'), p1: right.port('p1') },
    });
    runner.apply((e, now) => e.addAddress(now, 'br0', '192.0.2.1/24'));
    await settle();
    const announcement =
      '02:00:00:00:00:0a > ff:ff:ff:ff:ff:ff, ARP, Announcement 192.0.2.1, length 28';
    assert.deepEqual(wireLeft, [announcement]);
    assert.deepEqual(wireRight, [announcement]);
    assert.equal(runner.stats().framesOut, 2);
  });

  it("sends a CARP interface's frames on its parent's link", async () => {
    const hub = new MemoryHub();
    const wire = tap(hub);
    const engine = new Engine();
    engine.addInterface({ name: 'eth0', mac: MAC_A });
    engine.addInterface({ name: 'carp0', carp: { parent: 'eth0', vhid: 1 } });
    const runner = new Runner(engine, {
      clock: new ManualClock(),
      links: { eth0: hub.port('eth0') },
    });
    runner.apply((e, now) => e.addAddress(now, 'carp0', '192.0.2.100/24'));
    // The request arrives on the parent; the master CARP interface answers with its MAC.
    runner.receive(0, arpFrame(ArpOp.Request, MAC_B, '192.0.2.11', MAC_ZERO, '192.0.2.100'));
    await settle();
    assert.deepEqual(wire, [
      '00:00:5e:00:01:01 > 02:00:00:00:00:0b, ARP, Reply 192.0.2.100 is-at 00:00:5e:00:01:01, length 28',
    ]);
  });

  it('counts frames for an interface that reaches no link', () => {
    const engine = new Engine();
    engine.addInterface({ name: 'eth0', mac: MAC_A });
    const runner = new Runner(engine, { clock: new ManualClock() });
    runner.apply((e, now) => e.addAddress(now, 'eth0', '192.0.2.1/24'));
    assert.equal(runner.stats().unroutable, 1);
  });

  it('never re-enters the engine: a frame delivered from inside send waits for the input to end', () => {
    const engine = new Engine();
    engine.addInterface({ name: 'eth0', mac: MAC_A });
    const link = new FakeLink();
    const runner = new Runner(engine, { clock: new ManualClock(), links: { eth0: link } });
    const errors: Error[] = [];
    runner.onError((e) => errors.push(e));
    // The driver answers our announcement synchronously with a request for our address.
    link.onSend = () => {
      link.onSend = undefined;
      link.handler?.(arpFrame(ArpOp.Request, MAC_B, '192.0.2.11', MAC_ZERO, '192.0.2.10'));
    };
    runner.apply((e, now) => e.addAddress(now, 'eth0', '192.0.2.10/24'));
    assert.deepEqual(errors, []);
    assert.deepEqual(link.sent.map(describeFrame), [
      '02:00:00:00:00:0a > ff:ff:ff:ff:ff:ff, ARP, Announcement 192.0.2.10, length 28',
      '02:00:00:00:00:0a > 02:00:00:00:00:0b, ARP, Reply 192.0.2.10 is-at 02:00:00:00:00:0a, length 28',
    ]);
  });

  it('hands events to subscribers after the input, with the time, so they may call back', () => {
    const clock = new ManualClock(5000);
    const engine = new Engine();
    engine.addInterface({ name: 'eth0', mac: MAC_A });
    const link = new FakeLink();
    const runner = new Runner(engine, { clock, links: { eth0: link } });
    const events: RuntimeEvent[] = [];
    runner.onEvent((event) => {
      events.push(event);
      // Calling back into the runner from a subscriber is allowed.
      if (event.kind === 'engine' && event.event.kind === 'route' && event.event.type === 'add') {
        runner.resolve(parseIpv4('192.0.2.1'), new Uint8Array(20));
      }
    });
    runner.apply((e, now) => e.addAddress(now, 'eth0', '192.0.2.1/24'));
    assert.deepEqual(events, [
      {
        kind: 'engine',
        time: 5000,
        event: {
          kind: 'route',
          type: 'add',
          ifName: 'eth0',
          ip: '192.0.2.1',
          mac: '02:00:00:00:00:0a',
          reason: 'local',
        },
      },
    ]);
    assert.equal(runner.stats().handlerErrors, 0);
  });

  it('builds no entry events while no subscriber wants them; log lines still come', () => {
    const engine = new Engine();
    engine.addInterface({ name: 'eth0', mac: MAC_A });
    const link = new FakeLink();
    const runner = new Runner(engine, { clock: new ManualClock(5000), links: { eth0: link } });
    const seen: string[] = [];
    runner.onEvent((event) => {
      if (event.kind !== 'engine') seen.push(event.kind);
      else if (event.event.kind === 'route') seen.push(`${event.event.type} ${event.event.ip}`);
      else seen.push(`log ${event.event.message}`);
    });
    let wanted = false;
    runner.setEntryEventInterest(() => wanted);
    runner.apply((e, now) => e.addAddress(now, 'eth0', '192.0.2.10/24'));
    // Our own entry was added without an event. B takes our address: the seed's log line
    // comes; B's entry is made without an event.
    link.handler?.(arpFrame(ArpOp.Request, MAC_B, '192.0.2.10', MAC_ZERO, '192.0.2.99'));
    link.handler?.(arpFrame(ArpOp.Request, MAC_B, '192.0.2.11', MAC_ZERO, '192.0.2.10'));
    assert.equal(engine.lookup(5000, '192.0.2.11')?.state, 'resolved');
    assert.deepEqual(seen, ['log arp: 02:00:00:00:00:0b is using my IP address 192.0.2.10!']);
    // Wanted again: C's entry is reported, as it would have been without the hook.
    wanted = true;
    link.handler?.(arpFrame(ArpOp.Request, MAC_C, '192.0.2.12', MAC_ZERO, '192.0.2.10'));
    assert.deepEqual(seen.slice(1), ['add 192.0.2.12', 'resolve 192.0.2.12']);
    runner.setEntryEventInterest(undefined);
    link.handler?.(arpFrame(ArpOp.Request, MAC_C, '192.0.2.13', MAC_ZERO, '192.0.2.10'));
    assert.deepEqual(seen.slice(3), ['add 192.0.2.13', 'resolve 192.0.2.13']);
  });

  it('survives a subscriber that throws and a link that reports an error', () => {
    const engine = new Engine();
    engine.addInterface({ name: 'eth0', mac: MAC_A });
    const link = new FakeLink();
    const runner = new Runner(engine, { clock: new ManualClock(), links: { eth0: link } });
    const errors: string[] = [];
    runner.onError((e) => errors.push(e.message));
    runner.onEvent(() => {
      throw new Error('subscriber bug');
    });
    runner.apply((e, now) => e.addAddress(now, 'eth0', '192.0.2.1/24'));
    link.errorHandler?.(new LinkError('EIO', 'fake: send: ENOBUFS'));
    assert.deepEqual(errors, ['subscriber bug', 'fake: send: ENOBUFS']);
    assert.deepEqual(
      { handlerErrors: runner.stats().handlerErrors, linkErrors: runner.stats().linkErrors },
      { handlerErrors: 1, linkErrors: 1 },
    );
    // Still working: a request for our address is answered.
    runner.receive(0, arpFrame(ArpOp.Request, MAC_B, '192.0.2.11', MAC_ZERO, '192.0.2.1'));
    assert.equal(engine.stats().txreplies, 1);
  });

  it('gives IPv4 frames to the IPv4 handler instead of the engine', () => {
    const engine = new Engine();
    engine.addInterface({ name: 'eth0', mac: MAC_A });
    const runner = new Runner(engine, {
      clock: new ManualClock(),
      links: { eth0: new FakeLink() },
    });
    const seen: number[] = [];
    runner.setIpv4Handler((ifIndex, frame) => seen.push(ifIndex, frame.length));
    const ipv4 = buildEthernetFrame(
      { destination: MAC_A, source: MAC_B, etherType: EtherType.Ipv4 },
      new Uint8Array(20),
    );
    runner.receive(0, ipv4);
    assert.deepEqual(seen, [0, 34]);
    assert.equal(engine.stats().rxNotArp, 0);
    runner.setIpv4Handler(undefined);
    runner.receive(0, ipv4);
    assert.equal(engine.stats().rxNotArp, 1);
  });

  it('refuses links on unknown, bridge and CARP interfaces and a second link', () => {
    const engine = new Engine();
    engine.addInterface({ name: 'br0', kind: 'bridge', mac: MAC_A });
    engine.addInterface({ name: 'eth0', mac: MAC_B });
    engine.addInterface({ name: 'carp0', carp: { parent: 'eth0', vhid: 3 } });
    const runner = new Runner(engine, { clock: new ManualClock() });
    assert.throws(
      () => runner.attach('eth9', new FakeLink()),
      (e: unknown) => e instanceof NetarpError && e.code === 'ENOENT',
    );
    assert.throws(() => runner.attach('br0', new FakeLink()), /bridge interface/);
    assert.throws(() => runner.attach('carp0', new FakeLink()), /carp interface/);
    runner.attach('eth0', new FakeLink());
    assert.throws(() => runner.attach('eth0', new FakeLink()), /already has a link/);
  });

  it('handles a batch at one clock reading and re-arms the timer once, when the batch ends', () => {
    const { clock, manual, reads } = countingClock(10_000);
    const engine = new Engine();
    engine.addInterface({ name: 'eth0', mac: MAC_A });
    const link = new BatchedFakeLink();
    const runner = new Runner(engine, { clock, links: { eth0: link } });
    runner.apply((e, now) => e.addAddress(now, 'eth0', '192.0.2.10/24'));
    const times: number[] = [];
    runner.onEvent((event) => times.push(event.time));
    let polls = 0;
    const poll = engine.pollTimeout.bind(engine);
    engine.pollTimeout = () => {
      polls++;
      return poll();
    };
    const before = reads();
    const requests = [11, 12, 13].map((host) =>
      arpFrame(ArpOp.Request, MAC_B + host, `192.0.2.${host}`, MAC_ZERO, '192.0.2.10'),
    );
    let pollsInBatch = -1;
    link.deliver(requests, () => manual.advance(1));
    assert.equal(reads() - before, 1, 'one clock reading for the batch');
    assert.equal(polls, 1, 'the timer was re-armed once, at the end of the batch');
    assert.ok(times.length >= 3, 'an entry event (at least) per sender');
    assert.ok(
      times.every((t) => t === 10_000),
      `every event carries the batch's time: ${times}`,
    );
    assert.equal(runner.stats().framesIn, 3);
    // Without its end, no frame of a batch re-arms the timer.
    polls = 0;
    link.handler?.(arpFrame(ArpOp.Request, MAC_C, '192.0.2.14', MAC_ZERO, '192.0.2.10'));
    pollsInBatch = polls;
    link.batchEnd?.();
    assert.deepEqual([pollsInBatch, polls], [0, 1]);
    assert.equal(times.at(-1), 10_003, 'the next batch reads the clock again');
    assert.equal(manual.pendingTimers, 1);
    assert.equal(runner.timerDeadline, engine.pollTimeout());
  });

  it('reads the clock again after MAX_FRAMES_PER_CLOCK_READ frames of a batch that does not end', () => {
    const { clock, reads } = countingClock(0);
    const engine = new Engine();
    engine.addInterface({ name: 'eth0', mac: MAC_A });
    const link = new BatchedFakeLink();
    const runner = new Runner(engine, { clock, links: { eth0: link } });
    let ipv4 = 0;
    runner.setIpv4Handler(() => ipv4++);
    const frame = buildEthernetFrame(
      { destination: MAC_A, source: MAC_B, etherType: EtherType.Ipv4 },
      new Uint8Array(20),
    );
    const before = reads();
    for (let i = 0; i <= MAX_FRAMES_PER_CLOCK_READ; i++) link.handler?.(frame);
    assert.equal(ipv4, MAX_FRAMES_PER_CLOCK_READ + 1);
    assert.equal(reads() - before, 2);
  });

  it('has the engine write a frame into the buffer its only link lends', () => {
    const { link, runner } = onBatchedLink();
    link.deliver([arpFrame(ArpOp.Request, MAC_B, '192.0.2.11', MAC_ZERO, '192.0.2.10')]);
    assert.deepEqual(link.sent.map(describeFrame), [
      '02:00:00:00:00:0a > ff:ff:ff:ff:ff:ff, ARP, Announcement 192.0.2.10, length 28',
      '02:00:00:00:00:0a > 02:00:00:00:00:0b, ARP, Reply 192.0.2.10 is-at 02:00:00:00:00:0a, length 28',
    ]);
    assert.equal(link.lent, 1, 'the reply written in place (apply returns its outputs)');
    assert.equal(link.sent[1]!.length, 42, 'committed at the frame length, no more');
    assert.equal(runner.stats().framesOut, 2);
  });

  it("flushes its links when an input outside a batch ends, and leaves a batch's to the link", () => {
    const { link, runner } = onBatchedLink();
    assert.deepEqual(link.flushes, [1], 'the announcement flushed as apply ended');
    const result = runner.resolve(parseIpv4('192.0.2.20'), new Uint8Array(28));
    assert.equal(result.kind, 'held');
    assert.deepEqual(link.flushes, [1, 2], 'the request flushed before resolve returned');
    link.deliver([arpFrame(ArpOp.Request, MAC_B, '192.0.2.11', MAC_ZERO, '192.0.2.10')]);
    assert.deepEqual(link.flushes, [1, 2], "a batch's reply waits for the link's batch end");
    assert.equal(link.sent.length, 3);
  });

  it('closes its links and ignores frames after close', async () => {
    const engine = new Engine();
    engine.addInterface({ name: 'eth0', mac: MAC_A });
    const link = new FakeLink();
    const runner = new Runner(engine, { clock: new ManualClock(), links: { eth0: link } });
    await runner.close();
    assert.equal(link.closed, true);
    runner.receive(0, arpFrame(ArpOp.Request, MAC_B, '192.0.2.11', MAC_ZERO, '192.0.2.1'));
    assert.equal(runner.stats().framesIn, 0);
    await runner.close();
  });
});
