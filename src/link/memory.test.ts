import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LinkError } from './link.ts';
import { MemoryHub, type Scheduler } from './memory.ts';

/** Lets queued microtasks (zero-delay deliveries) run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A scheduler that only runs when told: deliveries in time order, then insertion order. */
function manualScheduler(): { schedule: Scheduler; runAll: () => number[] } {
  let now = 0;
  const queue: { at: number; seq: number; deliver: () => void }[] = [];
  let seq = 0;
  return {
    schedule: (delayMs, deliver) => queue.push({ at: now + delayMs, seq: seq++, deliver }),
    runAll() {
      const times: number[] = [];
      while (queue.length > 0) {
        queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
        const next = queue.shift()!;
        now = next.at;
        times.push(now);
        next.deliver();
      }
      return times;
    },
  };
}

describe('MemoryHub', () => {
  it('delivers a frame to every other port, not back to the sender', async () => {
    const hub = new MemoryHub({ name: 'seg' });
    const [a, b, c] = [hub.port('a'), hub.port('b'), hub.port('c')];
    const seen: string[] = [];
    a.onFrame((f) => seen.push(`a:${f[0]}`));
    b.onFrame((f) => seen.push(`b:${f[0]}`));
    c.onFrame((f) => seen.push(`c:${f[0]}`));
    a.send(Uint8Array.of(1));
    assert.deepEqual(seen, [], 'never delivered from inside send');
    await settle();
    assert.deepEqual(seen, ['b:1', 'c:1']);
    assert.equal(a.name, 'seg/a');
    assert.deepEqual(hub.stats(), { sent: 1, delivered: 2, lost: 0, undeliverable: 0 });
  });

  it('copies the frame, so the sender may reuse its buffer at once', async () => {
    const hub = new MemoryHub();
    const a = hub.port('a');
    const b = hub.port('b');
    const received: number[][] = [];
    b.onFrame((f) => received.push([...f]));
    const buffer = Uint8Array.of(1, 2, 3);
    a.send(buffer);
    buffer.fill(9);
    await settle();
    assert.deepEqual(received, [[1, 2, 3]]);
  });

  it('drops what the loss hook says, per receiver, and counts it', async () => {
    const hub = new MemoryHub({ loss: (_frame, from, to) => from === 'a' && to === 'c' });
    const [a, b, c] = [hub.port('a'), hub.port('b'), hub.port('c')];
    let atB = 0;
    let atC = 0;
    b.onFrame(() => atB++);
    c.onFrame(() => atC++);
    a.send(Uint8Array.of(1));
    b.send(Uint8Array.of(2));
    await settle();
    assert.deepEqual([atB, atC], [1, 1], 'only a -> c is lost');
    assert.deepEqual(hub.stats(), { sent: 2, delivered: 2, lost: 1, undeliverable: 1 });
  });

  it('delays frames through the scheduler, per receiver', () => {
    const { schedule, runAll } = manualScheduler();
    const hub = new MemoryHub({ schedule, delayMs: (_f, _from, to) => (to === 'b' ? 5 : 2) });
    const [a, b, c] = [hub.port('a'), hub.port('b'), hub.port('c')];
    const order: string[] = [];
    b.onFrame(() => order.push('b'));
    c.onFrame(() => order.push('c'));
    a.send(Uint8Array.of(1));
    assert.deepEqual(runAll(), [2, 5]);
    assert.deepEqual(order, ['c', 'b']);
  });

  it('counts frames for a port closed while they were in flight as undeliverable', async () => {
    const hub = new MemoryHub();
    const a = hub.port('a');
    const b = hub.port('b');
    let got = 0;
    b.onFrame(() => got++);
    a.send(Uint8Array.of(1));
    await b.close();
    await settle();
    a.send(Uint8Array.of(2)); // b is unplugged: not even scheduled
    await settle();
    assert.equal(got, 0);
    assert.deepEqual(hub.stats(), { sent: 2, delivered: 0, lost: 0, undeliverable: 1 });
    await b.close(); // idempotent
  });

  it('drops sends from a closed port', async () => {
    const hub = new MemoryHub();
    const a = hub.port('a');
    hub.port('b').onFrame(() => assert.fail('delivered after close'));
    await a.close();
    a.send(Uint8Array.of(1));
    await settle();
    assert.equal(hub.stats().sent, 0);
  });

  it('rejects a duplicate port name and a negative delay with EINVAL', () => {
    const hub = new MemoryHub({ name: 'seg' });
    hub.port('a');
    assert.throws(
      () => hub.port('a'),
      (e: unknown) => e instanceof LinkError && e.code === 'EINVAL',
    );
    assert.throws(
      () => new MemoryHub({ delayMs: -1 }),
      (e: unknown) => e instanceof LinkError && e.code === 'EINVAL' && /delayMs/.test(e.message),
    );
  });
});
