/**
 * The native channel and the link policy over it, without root or devices: each link here
 * sits on one end of an AF_UNIX socket pair, whose messages keep their boundaries as frames
 * do (SOCK_SEQPACKET read like a TAP device, SOCK_DGRAM read with recvmmsg like AF_PACKET).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import type { LinkError } from '../link.ts';
import {
  ChannelMode,
  loadNative,
  loadNativeFrom,
  NATIVE_API_VERSION,
  type NativeAddon,
  nativeUnavailableReason,
} from './addon.ts';
import {
  checkBatch,
  checkDeviceName,
  isGoneErrno,
  NativeLink,
  requireNative,
} from './native-link.ts';

/** Every link a test opened, closed after each test whatever happened. */
const opened: NativeLink[] = [];

/** A NativeLink on one end of a socket pair. */
class PairLink extends NativeLink {
  static of(
    addon: NativeAddon,
    fd: number,
    options: { mode?: ChannelMode; batch?: number; mtu?: number; name?: string } = {},
  ): PairLink {
    const link = new PairLink({
      name: options.name ?? `pair ${fd}`,
      addon,
      fd,
      mode: options.mode ?? ChannelMode.Read,
      mtu: options.mtu ?? 1500,
      batch: options.batch ?? 64,
    });
    opened.push(link);
    return link;
  }

  /** A socket pair has no device: it is gone only when the errno says so. */
  protected deviceGone(code: string): string | undefined {
    return isGoneErrno(code) ? `${this.name}: gone` : undefined;
  }
}

/** Two links joined back to back, and everything they received and reported. */
function pair(
  addon: NativeAddon,
  type: 'seqpacket' | 'dgram',
  options: { batch?: number; mtu?: number } = {},
) {
  const [fdA, fdB] = addon.socketPair(type);
  const mode = type === 'dgram' ? ChannelMode.Recvmmsg : ChannelMode.Read;
  const a = PairLink.of(addon, fdA, { ...options, mode, name: 'a' });
  const b = PairLink.of(addon, fdB, { ...options, mode, name: 'b' });
  const received: { a: Uint8Array[]; b: Uint8Array[] } = { a: [], b: [] };
  const errors: { a: LinkError[]; b: LinkError[] } = { a: [], b: [] };
  a.onFrame((frame) => received.a.push(frame.slice()));
  b.onFrame((frame) => received.b.push(frame.slice()));
  a.onError((error) => errors.a.push(error));
  b.onError((error) => errors.b.push(error));
  return { a, b, received, errors };
}

/** A frame of `length` bytes numbered `n` in its first two bytes. */
function frame(n: number, length = 60): Uint8Array {
  const bytes = new Uint8Array(length).fill(0xaa);
  bytes[0] = n >> 8;
  bytes[1] = n & 0xff;
  return bytes;
}

/** Resolves once `done()` holds, polling on the event loop (fails after 2 s). */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 2000;
  while (!done()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const load = loadNative();
const skip = nativeUnavailableReason();

describe('NativeLink over a socket pair', { skip }, () => {
  const addon = load.kind === 'loaded' ? load.addon : (undefined as unknown as NativeAddon);
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((link) => link.close()));
  });

  for (const type of ['seqpacket', 'dgram'] as const) {
    it(`${type}: frames arrive whole, in order, as plain Uint8Array views, many per wakeup`, async () => {
      const { a, b, received } = pair(addon, type);
      const views: Uint8Array[] = [];
      b.onFrame((f) => {
        views.push(f);
        received.b.push(f.slice());
      });
      for (let n = 0; n < 10; n++) a.send(frame(n, 60 + n));
      await until(() => received.b.length === 10, '10 frames');
      assert.deepEqual(
        received.b.map((f) => [f.length, (f[0]! << 8) | f[1]!]),
        Array.from({ length: 10 }, (_, n) => [60 + n, n]),
      );
      assert.ok(views.every((v) => Object.getPrototypeOf(v) === Uint8Array.prototype));
      // All ten were queued before the loop turned: one wakeup read them all.
      assert.equal(b.stats().rxBatches, 1);
      assert.deepEqual(
        { rxFrames: b.stats().rxFrames, txFrames: a.stats().txFrames },
        { rxFrames: 10, txFrames: 10 },
      );
    });
  }

  it('a wakeup reads at most `batch` frames; the rest come on the next turns', async () => {
    const { a, b, received } = pair(addon, 'seqpacket', { batch: 4 });
    for (let n = 0; n < 10; n++) a.send(frame(n));
    await until(() => received.b.length === 10, '10 frames');
    assert.equal(b.stats().rxBatches, 3, '4 + 4 + 2');
  });

  it('each wakeup ends with one batch-end call after its frames', async () => {
    const { a, b, received } = pair(addon, 'seqpacket', { batch: 4 });
    const ends: number[] = [];
    b.onBatchEnd(() => ends.push(received.b.length));
    for (let n = 0; n < 10; n++) a.send(frame(n));
    await until(() => ends.length === 3, 'three batch ends');
    assert.deepEqual(ends, [4, 8, 10], 'after 4, 4 and 2 frames');
    assert.equal(b.stats().rxBatches, 3);
  });

  it('send copies: the caller may reuse its buffer at once', async () => {
    const { a, received } = pair(addon, 'dgram');
    const buffer = frame(1);
    a.send(buffer);
    buffer.fill(0);
    a.send(buffer);
    await until(() => received.b.length === 2, '2 frames');
    assert.equal(received.b[0]![1], 1);
    assert.equal(received.b[1]![1], 0);
  });

  it('frames are never delivered from inside send, even when handlers send', async () => {
    const { a, b } = pair(addon, 'seqpacket');
    let inSend = false;
    let reentered = false;
    let hops = 0;
    // Each side sends every frame it gets straight back: a ping-pong of ten hops.
    for (const link of [a, b]) {
      link.onFrame((f) => {
        if (inSend) reentered = true;
        if (++hops < 10) {
          inSend = true;
          link.send(f);
          inSend = false;
        }
      });
    }
    a.send(frame(7));
    await until(() => hops === 10, 'ten hops');
    assert.equal(reentered, false);
  });

  it('several links at once, each with its own wakeups, none blocking the loop', async () => {
    const links = Array.from({ length: 4 }, () => pair(addon, 'dgram'));
    let timerRan = false;
    setTimeout(() => {
      timerRan = true;
    }, 0);
    for (const [i, { a }] of links.entries()) for (let n = 0; n <= i; n++) a.send(frame(n));
    await until(
      () => links.every(({ received }, i) => received.b.length === i + 1),
      'every link to receive',
    );
    assert.ok(timerRan, 'a timer ran while four links were open');
  });

  it('a frame larger than a slot is dropped and counted (recvmmsg sees its real length)', async () => {
    const { a, b, received } = pair(addon, 'dgram', { mtu: 1500 });
    assert.equal(b.slotSize, 2048);
    a.send(frame(1, 3000));
    a.send(frame(2, 2048));
    await until(() => received.b.length === 1, 'the frame that fits');
    await until(() => b.stats().rxTruncated === 1, 'the count');
    assert.equal(received.b[0]!.length, 2048);
  });

  it('without a handler frames are counted, not lost silently', async () => {
    const [fdA, fdB] = addon.socketPair('dgram');
    const a = PairLink.of(addon, fdA, { mode: ChannelMode.Recvmmsg });
    const b = PairLink.of(addon, fdB, { mode: ChannelMode.Recvmmsg });
    a.send(frame(1));
    await until(() => b.stats().rxNoHandler === 1, 'rxNoHandler');
    assert.equal(b.stats().rxFrames, 0);
  });

  it('the other end going away: write errors reported once per run, then one "gone" report; no throw', async () => {
    const { a, b, errors } = pair(addon, 'seqpacket');
    await b.close();
    a.send(frame(1));
    a.send(frame(2));
    a.send(frame(3));
    assert.equal(a.stats().txErrors, 3);
    assert.deepEqual(
      errors.a.map((e) => [e.code, e.message]),
      [['EIO', 'a: write: broken pipe (EPIPE)']],
    );
    await until(() => a.gone !== undefined, 'end of file');
    assert.equal(a.gone, 'a: the other end closed (end of file)');
    assert.equal(errors.a.length, 2);
    assert.equal(errors.a[1]!.message, a.gone);
    a.send(frame(4));
    assert.equal(a.stats().txErrors, 4);
    assert.equal(errors.a.length, 2, 'a gone link is not reported again');
    assert.equal(a.stats().rxErrors, 1);
    await a.close();
  });

  it('close is idempotent; sends after it are counted and dropped; nothing arrives after it', async () => {
    const { a, b, received } = pair(addon, 'dgram');
    a.send(frame(1));
    await b.close();
    await b.close();
    b.send(frame(2));
    assert.equal(b.stats().txClosed, 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(received.b.length, 0);
    await a.close();
  });

  it('a handler that closes its link stops the rest of the batch', async () => {
    const { a, b } = pair(addon, 'seqpacket');
    const seen: number[] = [];
    b.onFrame((f) => {
      seen.push(f[1]!);
      void b.close();
    });
    for (let n = 0; n < 5; n++) a.send(frame(n));
    await until(() => seen.length > 0, 'the first frame');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(seen, [0]);
    await a.close();
  });

  it('checks the batch size and device names', () => {
    assert.equal(checkBatch('x', 1, addon), 1);
    assert.equal(checkBatch('x', addon.maxBatch, addon), addon.maxBatch);
    for (const bad of [0, addon.maxBatch + 1, 1.5, Number.NaN]) {
      assert.throws(() => checkBatch('x', bad, addon), { name: 'LinkError', code: 'EINVAL' });
    }
    for (const good of ['tap0', 'veth-a.1', 'x', 'a234567890abcde', 'tap%d']) {
      assert.equal(checkDeviceName('x', good), good);
    }
    for (const bad of ['', '.', '..', 'a/b', 'a:b', 'a b', 'a234567890abcdef', 'éééééééé']) {
      assert.throws(() => checkDeviceName('x', bad), { name: 'LinkError', code: 'EINVAL' }, bad);
    }
  });

  it('the channel refuses rings that do not fit', () => {
    const [fdA, fdB] = addon.socketPair('dgram');
    const refuse = (ring: number, slot: number, batch: number) =>
      assert.throws(
        () =>
          new addon.Channel(
            fdA,
            ChannelMode.Read,
            new ArrayBuffer(ring),
            slot,
            new Uint32Array(batch),
            () => {},
          ),
        RangeError,
      );
    refuse(100, 2048, 1);
    refuse(4096, 2048, 3);
    refuse(1 << 20, 0, 1);
    refuse(addon.maxBatch + 1, 1, addon.maxBatch + 1);
    addon.closeFd(fdA);
    addon.closeFd(fdB);
  });

  it('a link whose channel cannot be made throws EIO and closes its descriptor', async () => {
    const [fdA, fdB] = addon.socketPair('seqpacket');
    assert.throws(() => PairLink.of(addon, fdA, { batch: addon.maxBatch + 1 }), {
      name: 'LinkError',
      code: 'EIO',
      message: /out of range/,
    });
    const b = PairLink.of(addon, fdB, { name: 'b' });
    const errors: string[] = [];
    b.onError((error) => errors.push(error.message));
    b.send(frame(1));
    assert.deepEqual(errors, ['b: write: broken pipe (EPIPE)'], 'the other end was closed');
  });

  it('names errnos as Node does, and the Linux ones libuv lacks', () => {
    assert.deepEqual(
      [addon.errorName(19), addon.errorText(19), addon.errorName(77), addon.errorText(77)],
      ['ENODEV', 'no such device', 'EBADFD', 'file descriptor in bad state'],
    );
    assert.ok(isGoneErrno('EBADFD') && isGoneErrno('ENXIO') && !isGoneErrno('ENETDOWN'));
  });
});

describe('loading the native addon', () => {
  it('loads here, or says why not', () => {
    if (load.kind === 'loaded') {
      assert.equal(load.addon.apiVersion, NATIVE_API_VERSION);
      assert.equal(skip, undefined);
    } else {
      assert.equal(skip, load.reason);
    }
  });

  it('a missing build is a reason, with the command that builds it', () => {
    const missing = loadNativeFrom(join(tmpdir(), `netarp-no-such-${process.pid}.node`));
    assert.deepEqual(missing, {
      kind: 'unavailable',
      reason:
        'native addon not built; build it with `npm run build:native` (needs g++, make, python3 and the Node.js headers)',
    });
  });

  it('a build from older sources is refused as stale', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netarp-addon-'));
    try {
      const stale = join(dir, 'stale.cjs');
      writeFileSync(stale, 'module.exports = { apiVersion: 0 };\n');
      const result = loadNativeFrom(stale);
      assert.equal(result.kind, 'unavailable');
      assert.match(
        result.kind === 'unavailable' ? result.reason : '',
        new RegExp(
          `^native addon is stale \\(interface 0, want ${NATIVE_API_VERSION}\\); build it with`,
        ),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a link opened without the addon fails with EIO and the reason', () => {
    assert.throws(() => requireNative('tap tap0', { kind: 'unavailable', reason: 'not here' }), {
      name: 'LinkError',
      code: 'EIO',
      message: 'tap tap0: not here',
    });
  });
});
