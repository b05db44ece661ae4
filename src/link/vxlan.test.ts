/**
 * VxlanLink on loopback. The whole contract is checked on both I/O backends (node:dgram and
 * the native addon's batched UDP channel); then the native backend's batching itself: a
 * wakeup's worth of datagrams read at once, the replies made while handling them sent with
 * one sendmmsg, sends outside a batch, a full transmit ring, failures, close in mid-batch.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, describe, it } from 'node:test';
import { LinkError } from './link.ts';
import { type NativeLoad, nativeUnavailableReason } from './native/addon.ts';
import {
  chooseVxlanIo,
  VXLAN_MAX_DATAGRAM,
  VXLAN_MAX_FRAME,
  type VxlanIo,
  VxlanLink,
  type VxlanLinkOptions,
} from './vxlan.ts';
import { NATIVE_TX_SLOTS } from './vxlan-native.ts';

function fromHex(text: string): Uint8Array {
  return Uint8Array.from(text.replace(/\s+/g, '').match(/../g) ?? [], (b) => parseInt(b, 16));
}

// An ARP request (who-has 192.0.2.1 tell 192.0.2.2), 42 bytes.
const FRAME = fromHex(
  'ffffffffffff 020000000002 0806 0001 0800 06 04 0001 020000000002 c0000202 000000000000 c0000201',
);

/** The datagram carrying FRAME in VNI 42. */
const DATAGRAM_42 = new Uint8Array([...fromHex('08 000000 00002a 00'), ...FRAME]);

/** A 60-byte frame numbered `n` in its first two bytes. */
function numbered(n: number): Uint8Array {
  const frame = new Uint8Array(60).fill(0x5a);
  frame[0] = n >> 8;
  frame[1] = n & 0xff;
  return frame;
}

/** A raw UDP socket on loopback standing in for a remote VTEP. */
async function rawSocket(): Promise<{
  socket: Socket;
  port: number;
  next: () => Promise<Uint8Array>;
  take: (count: number) => Promise<Uint8Array[]>;
}> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const queue: Uint8Array[] = [];
  const waiters: ((b: Uint8Array) => void)[] = [];
  socket.on('message', (message) => {
    const bytes = new Uint8Array(message);
    const waiter = waiters.shift();
    if (waiter) waiter(bytes);
    else queue.push(bytes);
  });
  const next = (): Promise<Uint8Array> => {
    const queued = queue.shift();
    return queued ? Promise.resolve(queued) : new Promise((resolve) => waiters.push(resolve));
  };
  return {
    socket,
    port: socket.address().port,
    next,
    take: async (count) => {
      const taken: Uint8Array[] = [];
      while (taken.length < count) taken.push(await next());
      return taken;
    },
  };
}

/** Resolves with the next frame the link hands on. */
function nextFrame(link: VxlanLink): Promise<Uint8Array> {
  return new Promise((resolve) => link.onFrame((frame) => resolve(frame.slice())));
}

/** Waits (up to 2 s) until `done()` holds. */
async function waitFor(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Sends raw bytes to a port on loopback and waits until they are sent. */
function sendRaw(socket: Socket, bytes: Uint8Array, port: number): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.send(bytes, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
  );
}

/**
 * Keeps the event loop busy for `ms`: datagrams sent before then are all queued at their
 * receiver when it next polls, so they arrive in one wakeup.
 */
function holdLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

const toClose: { close(): unknown }[] = [];
after(async () => {
  for (const c of toClose) await c.close();
});

const nativeSkip = nativeUnavailableReason();
const BACKENDS: readonly { io: VxlanIo; skip: string | undefined }[] = [
  { io: 'dgram', skip: undefined },
  { io: 'native', skip: nativeSkip },
];

for (const { io, skip } of BACKENDS) {
  /** Opens a link on this backend; closed after the suite. */
  const open = async (options: VxlanLinkOptions): Promise<VxlanLink> => {
    const link = await VxlanLink.open({ ...options, io });
    toClose.push(link);
    return link;
  };
  const local = { address: '127.0.0.1', port: 0 };
  /** A raw socket standing in for the one remote VTEP, and a link on `vni` flooding to it. */
  const openToRaw = async (
    vni: number,
  ): Promise<{ raw: Awaited<ReturnType<typeof rawSocket>>; link: VxlanLink }> => {
    const raw = await rawSocket();
    toClose.push(raw.socket);
    const link = await open({ vni, local, remotes: [{ address: '127.0.0.1', port: raw.port }] });
    return { raw, link };
  };

  describe(`VxlanLink over ${io}`, { skip }, () => {
    it('runs on the backend asked for, and says so', async () => {
      const link = await open({ vni: 1, local, remotes: [{ address: '127.0.0.1', port: 9 }] });
      assert.equal(link.io, io);
      assert.equal(link.stats().io, io);
    });

    it('encapsulates with the RFC 7348 header and floods to every remote', async () => {
      const r1 = await rawSocket();
      const r2 = await rawSocket();
      toClose.push(r1.socket, r2.socket);
      const link = await open({
        vni: 0x12345,
        local,
        remotes: [
          { address: '127.0.0.1', port: r1.port },
          { address: '127.0.0.1', port: r2.port },
        ],
      });
      const buffer = FRAME.slice();
      link.send(buffer);
      buffer.fill(0); // the caller may reuse its buffer at once
      const expected = new Uint8Array([...fromHex('08 000000 012345 00'), ...FRAME]);
      assert.deepEqual(await r1.next(), expected);
      assert.deepEqual(await r2.next(), expected);
      assert.equal(link.stats().txFrames, 1, 'a frame counts once, whatever the number of remotes');
      assert.equal(link.stats().txErrors, 0);
      assert.match(link.name, /^vxlan 127\.0\.0\.1:\d+ vni 74565$/);
    });

    it('ends each wakeup with one batch-end call, after its frames', async () => {
      const { raw, link } = await openToRaw(42);
      const calls: string[] = [];
      link.onFrame((frame) => calls.push(`frame ${frame[1]}`));
      link.onBatchEnd(() => calls.push('end'));
      const port = link.localEndpoint().port;
      for (let i = 0; i < 3; i++) {
        await sendRaw(
          raw.socket,
          new Uint8Array([...fromHex('08 000000 00002a 00'), ...numbered(i)]),
          port,
        );
      }
      await waitFor(() => link.stats().rxFrames === 3, 'three frames');
      assert.equal(calls.filter((c) => c === 'end').length, link.stats().rxBatches);
      assert.equal(calls.at(-1), 'end', 'the last call ends a batch');
      assert.deepEqual(
        calls.filter((c) => c !== 'end'),
        ['frame 0', 'frame 1', 'frame 2'],
      );
      // Every end follows at least one frame.
      assert.ok(calls.every((c, i) => c !== 'end' || calls[i - 1]?.startsWith('frame')));
      if (io === 'dgram') assert.equal(link.stats().rxBatches, 3, 'each datagram its own batch');
    });

    it('hands on frames of its VNI as plain Uint8Arrays', async () => {
      const { raw, link } = await openToRaw(42);
      const received = new Promise<Uint8Array>((resolve) => link.onFrame(resolve));
      await sendRaw(raw.socket, DATAGRAM_42, link.localEndpoint().port);
      const frame = await received;
      // Buffer's slice() shares memory; the engine's sinks rely on Uint8Array's copying one.
      assert.equal(Object.getPrototypeOf(frame), Uint8Array.prototype, 'not a Buffer');
      assert.deepEqual(frame, FRAME);
      assert.equal(link.stats().rxFrames, 1);
      assert.equal(link.stats().rxBatches, 1);
    });

    it('counts and drops another VNI, short, empty and overlong datagrams, a missing I flag', async () => {
      const { raw, link } = await openToRaw(42);
      const frames: Uint8Array[] = [];
      const first = new Promise<void>((resolve) =>
        link.onFrame((f) => {
          frames.push(f.slice());
          resolve();
        }),
      );
      const port = link.localEndpoint().port;
      await sendRaw(
        raw.socket,
        new Uint8Array([...fromHex('08 000000 00002b 00'), ...FRAME]),
        port,
      );
      await sendRaw(raw.socket, fromHex('08 000000 00002a'), port); // 7 bytes
      await sendRaw(raw.socket, new Uint8Array(0), port);
      await sendRaw(
        raw.socket,
        new Uint8Array([...fromHex('00 000000 00002a 00'), ...FRAME]),
        port,
      );
      const overlong = new Uint8Array(VXLAN_MAX_DATAGRAM + 1);
      overlong.set(fromHex('08 000000 00002a 00'));
      await sendRaw(raw.socket, overlong, port);
      // The longest datagram taken: header and a VXLAN_MAX_FRAME-byte frame.
      const longest = overlong.subarray(0, VXLAN_MAX_DATAGRAM);
      await sendRaw(raw.socket, longest, port);
      await first;
      assert.deepEqual(frames, [longest.slice(8)], 'only the longest good frame was handed on');
      // A good one last: once it arrives, the ones before it (same socket, loopback) have too.
      const last = new Promise<Uint8Array>((resolve) => link.onFrame((f) => resolve(f.slice())));
      await sendRaw(raw.socket, DATAGRAM_42, port);
      assert.deepEqual(await last, FRAME);
      const stats = link.stats();
      assert.deepEqual(
        {
          rxFrames: stats.rxFrames,
          rxWrongVni: stats.rxWrongVni,
          rxBadHeader: stats.rxBadHeader,
          rxTooLong: stats.rxTooLong,
        },
        { rxFrames: 2, rxWrongVni: 1, rxBadHeader: 3, rxTooLong: 1 },
      );
    });

    it('counts a good frame that arrives before any handler is set', async () => {
      const { raw, link } = await openToRaw(42);
      const port = link.localEndpoint().port;
      await sendRaw(raw.socket, DATAGRAM_42, port);
      // Let the first datagram be received (it then finds no handler), then send a second.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const second = new Promise<Uint8Array>((resolve) => link.onFrame(resolve));
      await sendRaw(raw.socket, DATAGRAM_42, port);
      await second;
      assert.deepEqual(
        { rxNoHandler: link.stats().rxNoHandler, rxFrames: link.stats().rxFrames },
        { rxNoHandler: 1, rxFrames: 1 },
      );
    });

    it('carries frames between two netarp links, either backend on the other side', async () => {
      for (const otherIo of ['dgram', 'native'] as const) {
        if (otherIo === 'native' && nativeSkip !== undefined) continue;
        const a = await open({ vni: 7, local, remotes: [{ address: '127.0.0.1', port: 9 }] });
        const b = await VxlanLink.open({
          vni: 7,
          local,
          remotes: [{ address: '127.0.0.1', port: a.localEndpoint().port }],
          io: otherIo,
        });
        toClose.push(b);
        const arrived = nextFrame(a);
        b.send(FRAME);
        assert.deepEqual(await arrived, FRAME, `from ${otherIo}`);
      }
    });

    it('refuses a frame longer than a VXLAN datagram carries, and keeps running', async () => {
      const { raw, link } = await openToRaw(1);
      const errors: LinkError[] = [];
      link.onError((error) => errors.push(error));
      link.send(new Uint8Array(VXLAN_MAX_FRAME + 1));
      assert.equal(errors.length, 1);
      assert.equal(errors[0]!.code, 'EIO');
      assert.match(errors[0]!.message, /: send: a frame of 9209 bytes is longer than the 9208 /);
      assert.deepEqual(
        { txErrors: link.stats().txErrors, txFrames: link.stats().txFrames },
        { txErrors: 1, txFrames: 0 },
      );
      link.send(new Uint8Array(VXLAN_MAX_FRAME));
      assert.equal((await raw.next()).length, VXLAN_MAX_DATAGRAM, 'the longest frame goes');
    });

    it('counts and reports datagrams the kernel refuses, and still sends to the other remotes', async () => {
      const raw = await rawSocket();
      toClose.push(raw.socket);
      // Without SO_BROADCAST the kernel refuses a broadcast destination (EACCES); from a
      // socket bound to 127.0.0.1 its route is the loopback device anyway.
      const link = await open({
        vni: 1,
        local,
        remotes: [
          { address: '127.0.0.1', port: raw.port },
          { address: '255.255.255.255', port: 9 },
        ],
      });
      const errors: LinkError[] = [];
      const reported = new Promise<void>((resolve) =>
        link.onError((error) => {
          errors.push(error);
          resolve();
        }),
      );
      link.send(FRAME);
      await reported;
      assert.equal((await raw.next()).length, 8 + FRAME.length, 'the good remote got it');
      assert.equal(errors[0]!.code, 'EIO');
      // Both backends say it in node:dgram's words; the native one adds how many of the
      // flush's datagrams were lost.
      assert.ok(
        errors[0]!.message.startsWith(`${link.name}: send: send EACCES 255.255.255.255:9`),
        errors[0]!.message,
      );
      assert.deepEqual(
        { txFrames: link.stats().txFrames, txErrors: link.stats().txErrors },
        { txFrames: 1, txErrors: 1 },
      );
    });

    it('drops and counts sends after close; close is idempotent', async () => {
      const link = await VxlanLink.open({
        vni: 1,
        local,
        remotes: [{ address: '127.0.0.1', port: 9 }],
        io,
      });
      await link.close();
      link.send(FRAME);
      await link.close();
      assert.equal(link.stats().txClosed, 1);
      assert.equal(link.stats().txFrames, 0);
    });

    it('sends what was queued before close', async () => {
      const raw = await rawSocket();
      toClose.push(raw.socket);
      const link = await VxlanLink.open({
        vni: 42,
        local,
        remotes: [{ address: '127.0.0.1', port: raw.port }],
        io,
      });
      link.send(FRAME);
      await link.close();
      assert.deepEqual(await raw.next(), DATAGRAM_42);
    });

    it('reports a port already in use as an EIO LinkError naming the bind', async () => {
      const first = await open({ vni: 1, local, remotes: [{ address: '127.0.0.1', port: 9 }] });
      for (const otherIo of ['dgram', 'native'] as const) {
        if (otherIo === 'native' && nativeSkip !== undefined) continue;
        const port = first.localEndpoint().port;
        await assert.rejects(
          VxlanLink.open({
            vni: 1,
            local: { address: '127.0.0.1', port },
            remotes: [{ address: '127.0.0.1', port: 9 }],
            io: otherIo,
          }),
          (e: unknown) =>
            e instanceof LinkError &&
            e.code === 'EIO' &&
            e.message.startsWith(`vxlan 127.0.0.1:${port}: bind`) &&
            /EADDRINUSE|address already in use/.test(e.message),
          otherIo,
        );
      }
    });

    it('rejects bad options with EINVAL naming the field', async () => {
      const remotes = [{ address: '127.0.0.1' }];
      const cases: [string, VxlanLinkOptions][] = [
        ['vni', { vni: 0x100_0000, local, remotes }],
        ['vni', { vni: 1.5, local, remotes }],
        ['local address', { vni: 1, local: { address: 'localhost' }, remotes }],
        ['remote address', { vni: 1, local, remotes: [{ address: '192.0.2.300' }] }],
        ['remote port', { vni: 1, local, remotes: [{ address: '127.0.0.1', port: 0 }] }],
        ['local port', { vni: 1, local: { address: '127.0.0.1', port: 70000 }, remotes }],
        ['remotes', { vni: 1, local, remotes: [] }],
      ];
      for (const [field, options] of cases) {
        await assert.rejects(
          VxlanLink.open({ ...options, io }),
          (e: unknown) =>
            e instanceof LinkError && e.code === 'EINVAL' && e.message.includes(field),
          field,
        );
      }
    });
  });
}

describe('VxlanLink io choice', () => {
  const unavailable: NativeLoad = { kind: 'unavailable', reason: 'native addon not built' };

  it('auto is native when the addon loads, dgram when it does not', async () => {
    const link = await VxlanLink.open({
      vni: 1,
      local: { address: '127.0.0.1', port: 0 },
      remotes: [{ address: '127.0.0.1', port: 9 }],
    });
    toClose.push(link);
    assert.equal(link.io, nativeSkip === undefined ? 'native' : 'dgram');
    const fallback = await VxlanLink.open(
      {
        vni: 1,
        local: { address: '127.0.0.1', port: 0 },
        remotes: [{ address: '127.0.0.1', port: 9 }],
        io: 'auto',
      },
      unavailable,
    );
    toClose.push(fallback);
    assert.equal(fallback.io, 'dgram');
    assert.deepEqual(chooseVxlanIo('auto', 'x', unavailable), { io: 'dgram' });
    assert.deepEqual(chooseVxlanIo('dgram', 'x', unavailable), { io: 'dgram' });
  });

  it('native without the addon is an EIO naming the link and the reason', async () => {
    await assert.rejects(
      VxlanLink.open(
        {
          vni: 1,
          local: { address: '127.0.0.1', port: 4789 },
          remotes: [{ address: '127.0.0.1' }],
          io: 'native',
        },
        unavailable,
      ),
      {
        name: 'LinkError',
        code: 'EIO',
        message: 'vxlan 127.0.0.1:4789: native addon not built',
      },
    );
  });

  it('refuses an io that is none of auto, native, dgram', async () => {
    await assert.rejects(
      VxlanLink.open({
        vni: 1,
        local: { address: '127.0.0.1', port: 0 },
        remotes: [{ address: '127.0.0.1' }],
        io: 'uring' as 'auto',
      }),
      {
        name: 'LinkError',
        code: 'EINVAL',
        message: 'vxlan: io must be one of "auto", "native", "dgram", got "uring"',
      },
    );
  });
});

describe('VxlanLink native batching', { skip: nativeSkip }, () => {
  const local = { address: '127.0.0.1', port: 0 };
  const open = async (remotePort: number, vni = 42): Promise<VxlanLink> => {
    const link = await VxlanLink.open({
      vni,
      local,
      remotes: [{ address: '127.0.0.1', port: remotePort }],
      io: 'native',
    });
    toClose.push(link);
    return link;
  };

  it('counts and reports ICMP errors about what it sent (IP_RECVERR), and keeps receiving', async () => {
    // A port with nothing listening: bound, then closed.
    const gone = await rawSocket();
    const closedPort = gone.port;
    await new Promise<void>((resolve) => gone.socket.close(() => resolve()));
    const link = await open(closedPort);
    const errors: LinkError[] = [];
    link.onError((error) => errors.push(error as LinkError));
    link.send(numbered(1));
    await waitFor(() => link.stats().rxIcmpErrors >= 1, 'the ICMP port unreachable');
    assert.equal(link.stats().rxIcmpErrors, 1);
    assert.equal(link.stats().socketErrors, 0, 'not a failure to receive');
    assert.deepEqual(
      errors.map((e) => [e.code, e.message]),
      [
        [
          'EIO',
          `vxlan 127.0.0.1:${link.localEndpoint().port} vni 42: remote 127.0.0.1:${closedPort}: connection refused (ECONNREFUSED)`,
        ],
      ],
    );
    // Still receiving: a datagram from another link arrives.
    const other = await open(link.localEndpoint().port);
    const frame = nextFrame(link);
    other.send(numbered(2));
    assert.deepEqual(await frame, numbered(2));
    // More errors: counted each, reported once per wakeup.
    link.send(numbered(3));
    link.send(numbered(4));
    await waitFor(() => link.stats().rxIcmpErrors >= 3, 'two more ICMP errors');
    assert.equal(link.stats().rxIcmpErrors, 3);
    assert.ok(errors.length >= 2 && errors.length <= 3, `${errors.length} reports`);
  });

  it('reads a wakeup of datagrams at once and sends the replies made in it with one flush', async () => {
    const raw = await rawSocket();
    toClose.push(raw.socket);
    // responder echoes every frame back (to raw); sender floods the responder.
    const responder = await open(raw.port);
    const sender = await open(responder.localEndpoint().port);
    const handled: number[] = [];
    responder.onFrame((frame) => {
      handled.push((frame[0]! << 8) | frame[1]!);
      responder.send(frame);
    });
    const count = 20;
    for (let i = 0; i < count; i++) sender.send(numbered(i));
    // After the sender's flush (a microtask queued by its first send), hold the loop so that
    // all of them are queued at the responder before it polls.
    queueMicrotask(() => holdLoop(100));
    const echoed = await raw.take(count);
    assert.deepEqual(
      echoed.map((d) => (d[8]! << 8) | d[9]!),
      [...Array(count).keys()],
      'every frame echoed, in order',
    );
    assert.deepEqual(
      echoed[3],
      new Uint8Array([...fromHex('08 000000 00002a 00'), ...numbered(3)]),
    );
    const s = sender.stats();
    const r = responder.stats();
    assert.deepEqual(
      { txFrames: s.txFrames, txBatches: s.txBatches },
      { txFrames: count, txBatches: 1 },
      'the sends of one tick share one flush',
    );
    assert.deepEqual(
      {
        rxFrames: r.rxFrames,
        rxBatches: r.rxBatches,
        txFrames: r.txFrames,
        txBatches: r.txBatches,
      },
      { rxFrames: count, rxBatches: 1, txFrames: count, txBatches: 1 },
      'one wakeup read them all; the replies left in one flush',
    );
    assert.deepEqual(handled, [...Array(count).keys()]);
  });

  it('sends a lone send outside a batch at once, and the sends of each tick together', async () => {
    const raw = await rawSocket();
    toClose.push(raw.socket);
    const link = await open(raw.port);
    link.send(numbered(1));
    assert.equal(link.stats().txBatches, 0, 'queued until the microtask');
    assert.equal((await raw.next())[9], 1);
    assert.equal(link.stats().txBatches, 1);
    // From a timer, as the runtime's retransmissions and the host's pings are.
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        link.send(numbered(2));
        link.send(numbered(3));
        resolve();
      }, 1),
    );
    assert.deepEqual(
      (await raw.take(2)).map((d) => d[9]),
      [2, 3],
    );
    assert.deepEqual(
      { txFrames: link.stats().txFrames, txBatches: link.stats().txBatches },
      { txFrames: 3, txBatches: 2 },
    );
  });

  it('sends what is queued at once when asked to flush, leaving the microtask nothing', async () => {
    const raw = await rawSocket();
    toClose.push(raw.socket);
    const link = await open(raw.port);
    link.send(numbered(1));
    link.send(numbered(2));
    assert.equal(link.stats().txBatches, 0, 'queued');
    link.flush();
    assert.equal(link.stats().txBatches, 1, 'sent in one sendmmsg, before flush returned');
    link.flush();
    await Promise.resolve(); // the microtask the first send scheduled
    assert.equal(link.stats().txBatches, 1, 'nothing left for a second flush or the microtask');
    assert.deepEqual(
      (await raw.take(2)).map((d) => d[9]),
      [1, 2],
    );
  });

  it('flushes at once when the transmit ring is full', async () => {
    const raw = await rawSocket();
    toClose.push(raw.socket);
    const link = await open(raw.port);
    const count = NATIVE_TX_SLOTS + 5;
    for (let i = 0; i < count; i++) link.send(numbered(i));
    assert.equal(link.stats().txBatches, 1, 'the full ring went out during the sends');
    const received = await raw.take(count);
    assert.deepEqual(
      received.map((d) => (d[8]! << 8) | d[9]!),
      [...Array(count).keys()],
    );
    assert.deepEqual(
      { txFrames: link.stats().txFrames, txBatches: link.stats().txBatches },
      { txFrames: count, txBatches: 2 },
    );
  });

  it('counts every refused datagram of a flush and reports each failed flush once', async () => {
    const raw = await rawSocket();
    toClose.push(raw.socket);
    const link = await VxlanLink.open({
      vni: 42,
      local,
      remotes: [
        { address: '127.0.0.1', port: raw.port },
        { address: '255.255.255.255', port: 9 },
      ],
      io: 'native',
    });
    toClose.push(link);
    const errors: LinkError[] = [];
    link.onError((error) => errors.push(error));
    for (let i = 0; i < 3; i++) link.send(numbered(i));
    assert.deepEqual(
      (await raw.take(3)).map((d) => d[9]),
      [0, 1, 2],
      'each refused datagram skipped, the rest sent',
    );
    assert.deepEqual(
      { txErrors: link.stats().txErrors, txBatches: link.stats().txBatches },
      { txErrors: 3, txBatches: 1 },
    );
    // In node:dgram's words, so that both backends read the same in a log.
    assert.deepEqual(
      errors.map((e) => [e.code, e.message]),
      [['EIO', `${link.name}: send: send EACCES 255.255.255.255:9 (3 of 6 datagrams not sent)`]],
    );
    link.send(numbered(3));
    await raw.next();
    assert.deepEqual(
      { txErrors: link.stats().txErrors, txBatches: link.stats().txBatches },
      { txErrors: 4, txBatches: 2 },
    );
    assert.equal(
      errors[1]?.message,
      `${link.name}: send: send EACCES 255.255.255.255:9 (1 of 2 datagrams not sent)`,
    );
  });

  it('sends a frame written into a lent transmit slot, sharing the batch flush', async () => {
    const raw = await rawSocket();
    toClose.push(raw.socket);
    const responder = await open(raw.port);
    const sender = await open(responder.localEndpoint().port);
    const ends: number[] = [];
    responder.onFrame((frame) => {
      const slot = responder.transmitBuffer(frame.length);
      assert.ok(slot !== undefined && slot.length >= frame.length);
      slot.set(frame);
      slot[0] = 0xab; // written in place, unlike the frame received
      responder.commitTransmit(frame.length);
    });
    responder.onBatchEnd(() => ends.push(responder.stats().txBatches));
    for (let i = 0; i < 3; i++) sender.send(numbered(i));
    queueMicrotask(() => holdLoop(100));
    const echoed = await raw.take(3);
    const expected = numbered(1);
    expected[0] = 0xab;
    assert.deepEqual(echoed[1], new Uint8Array([...fromHex('08 000000 00002a 00'), ...expected]));
    assert.deepEqual(ends, [0], 'the batch ended before its replies were flushed');
    const r = responder.stats();
    assert.deepEqual(
      { rxBatches: r.rxBatches, txFrames: r.txFrames, txBatches: r.txBatches },
      { rxBatches: 1, txFrames: 3, txBatches: 1 },
    );
    assert.equal(responder.transmitBuffer(VXLAN_MAX_FRAME + 1), undefined, 'too long: use send');
    await responder.close();
    assert.equal(responder.transmitBuffer(60), undefined, 'closed');
  });

  it('stops handing on a batch when the link is closed in mid-batch; replies made before go out', async () => {
    const raw = await rawSocket();
    toClose.push(raw.socket);
    const responder = await open(raw.port);
    const sender = await open(responder.localEndpoint().port);
    const handled: Uint8Array[] = [];
    let closing: Promise<void> | undefined;
    responder.onFrame((frame) => {
      handled.push(frame.slice());
      responder.send(frame);
      closing ??= responder.close();
    });
    for (let i = 0; i < 5; i++) sender.send(numbered(i));
    queueMicrotask(() => holdLoop(100));
    const reply = await raw.next();
    await closing;
    assert.equal(reply[9], 0, 'the reply to the first frame');
    assert.equal(handled.length, 1, 'the rest of the batch was not handed on');
    const stats = responder.stats();
    assert.deepEqual(
      { rxFrames: stats.rxFrames, rxBatches: stats.rxBatches, txFrames: stats.txFrames },
      { rxFrames: 1, rxBatches: 1, txFrames: 1 },
    );
    responder.send(FRAME);
    assert.equal(responder.stats().txClosed, 1);
  });
});
