import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parsePcap } from '../wire/pcap.ts';
import { type Link, LinkError } from './link.ts';
import { MemoryHub } from './memory.ts';
import { type CaptureWriter, PcapTee } from './pcap-tee.ts';

const dir = mkdtempSync(join(tmpdir(), 'netarp-pcap-tee-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A clock the test sets by hand. */
function fixedClock(start: number): { now(): number; set(t: number): void } {
  let time = start;
  return { now: () => time, set: (t) => (time = t) };
}

describe('PcapTee', () => {
  it('records frames out and in, in order, with the clock time, and passes them on', async () => {
    const hub = new MemoryHub();
    const clock = fixedClock(1_700_000_000_000.5);
    const path = join(dir, 'both.pcap');
    const tee = PcapTee.open(hub.port('a'), path, clock);
    const other = hub.port('b');
    const atB: number[][] = [];
    const atTee: number[][] = [];
    other.onFrame((f) => atB.push([...f]));
    tee.onFrame((f) => atTee.push([...f]));

    tee.send(Uint8Array.of(1, 2, 3));
    await settle();
    clock.set(1_700_000_000_250.25);
    other.send(Uint8Array.of(4, 5));
    await settle();
    await tee.close();

    assert.deepEqual(atB, [[1, 2, 3]], 'sent through');
    assert.deepEqual(atTee, [[4, 5]], 'received through');
    assert.deepEqual(tee.stats(), { recordedIn: 1, recordedOut: 1, notRecorded: 0 });
    const file = parsePcap(new Uint8Array(readFileSync(path)));
    assert.ok(!('kind' in file), JSON.stringify(file));
    assert.equal(file.linkType, 1);
    assert.deepEqual(
      file.records.map((r) => ({ t: r.timestampMs, frame: [...r.frame] })),
      [
        { t: 1_700_000_000_000.5, frame: [1, 2, 3] },
        { t: 1_700_000_000_250.25, frame: [4, 5] },
      ],
    );
  });

  it("passes the inner link's batch-end notification and flush through, and has none when it has none", () => {
    const hub = new MemoryHub();
    const plain = PcapTee.toWriter(hub.port('a'), { write() {}, close() {} }, fixedClock(0));
    assert.equal(plain.onBatchEnd, undefined, 'a memory port delivers frame by frame');
    assert.equal(plain.flush, undefined, 'and sends each frame at once');
    let innerHandler: (() => void) | undefined;
    let flushes = 0;
    const batched = Object.assign(hub.port('b'), {
      onBatchEnd(handler: () => void) {
        innerHandler = handler;
      },
      flush() {
        flushes++;
      },
    });
    const tee = PcapTee.toWriter(batched, { write() {}, close() {} }, fixedClock(0));
    let ends = 0;
    assert.ok(tee.onBatchEnd !== undefined);
    tee.onBatchEnd(() => ends++);
    innerHandler?.();
    assert.equal(ends, 1);
    tee.flush?.();
    assert.equal(flushes, 1);
    const asLink: Link = tee;
    assert.equal(asLink.transmitBuffer, undefined, 'every frame sent goes through send');
  });

  it('records received frames even before a handler is set, and names the file', async () => {
    const hub = new MemoryHub({ name: 'seg' });
    const path = join(dir, 'nohandler.pcap');
    const tee = PcapTee.open(hub.port('a'), path, fixedClock(0));
    hub.port('b').send(Uint8Array.of(7));
    await settle();
    await tee.close();
    assert.equal(tee.name, `seg/a (pcap ${path})`);
    const file = parsePcap(new Uint8Array(readFileSync(path)));
    assert.ok(!('kind' in file));
    assert.equal(file.records.length, 1);
  });

  it('counts frames after close as not recorded', async () => {
    const hub = new MemoryHub();
    const tee = PcapTee.open(hub.port('a'), join(dir, 'closed.pcap'), fixedClock(0));
    await tee.close();
    tee.send(Uint8Array.of(1));
    assert.equal(tee.stats().notRecorded, 1);
  });

  it('throws EIO when the file cannot be created', () => {
    const hub = new MemoryHub();
    assert.throws(
      () => PcapTee.open(hub.port('a'), join(dir, 'no', 'such', 'dir.pcap'), fixedClock(0)),
      (e: unknown) => e instanceof LinkError && e.code === 'EIO' && /no\/such/.test(e.message),
    );
  });

  it('throws EIO when the header cannot be written (a full device)', () => {
    const hub = new MemoryHub();
    assert.throws(
      () => PcapTee.open(hub.port('a'), '/dev/full', fixedClock(0)),
      (e: unknown) => e instanceof LinkError && e.code === 'EIO' && /\/dev\/full/.test(e.message),
    );
  });

  it('reports a failed write once, stops recording, and keeps the link working', async () => {
    const hub = new MemoryHub();
    const written: number[] = [];
    let closed = 0;
    const writer: CaptureWriter = {
      write(bytes) {
        if (written.length === 2) throw new Error('ENOSPC: no space left on device');
        written.push(bytes.length);
      },
      close: () => closed++,
    };
    const tee = PcapTee.toWriter(hub.port('a'), writer, fixedClock(0), 'disk');
    const errors: LinkError[] = [];
    tee.onError((e) => errors.push(e));
    const received: number[] = [];
    hub.port('b').onFrame((f) => received.push(f[0]!));
    tee.send(Uint8Array.of(1)); // recorded
    tee.send(Uint8Array.of(2)); // the write fails
    tee.send(Uint8Array.of(3)); // no longer recorded
    await settle();
    assert.deepEqual(received, [1, 2, 3], 'the link goes on');
    assert.deepEqual(written, [24, 17], 'global header, then one 16+1-byte record');
    assert.deepEqual(
      errors.map((e) => [e.code, e.message]),
      [['EIO', 'hub/a (pcap disk): write: ENOSPC: no space left on device']],
    );
    assert.deepEqual(tee.stats(), { recordedIn: 0, recordedOut: 1, notRecorded: 2 });
    assert.equal(closed, 1, 'the failed writer is closed at once');
    await tee.close();
    assert.equal(closed, 1, 'and not again');
  });
});
