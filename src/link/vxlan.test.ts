import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, describe, it } from 'node:test';
import { LinkError } from './link.ts';
import { VxlanLink } from './vxlan.ts';

function fromHex(text: string): Uint8Array {
  return Uint8Array.from(text.replace(/\s+/g, '').match(/../g) ?? [], (b) => parseInt(b, 16));
}

// An ARP request (who-has 192.0.2.1 tell 192.0.2.2), 42 bytes.
const FRAME = fromHex(
  'ffffffffffff 020000000002 0806 0001 0800 06 04 0001 020000000002 c0000202 000000000000 c0000201',
);

/** A raw UDP socket on loopback standing in for a remote VTEP. */
async function rawSocket(): Promise<{
  socket: Socket;
  port: number;
  next: () => Promise<Uint8Array>;
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
  return {
    socket,
    port: socket.address().port,
    next: () => {
      const queued = queue.shift();
      return queued ? Promise.resolve(queued) : new Promise((resolve) => waiters.push(resolve));
    },
  };
}

/** Resolves with the next frame the link hands on. */
function nextFrame(link: VxlanLink): Promise<Uint8Array> {
  return new Promise((resolve) => link.onFrame((frame) => resolve(frame.slice())));
}

/** Sends raw bytes to a port on loopback and waits until they are sent. */
function sendRaw(socket: Socket, bytes: Uint8Array, port: number): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.send(bytes, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
  );
}

const toClose: { close(): unknown }[] = [];
after(async () => {
  for (const c of toClose) await c.close();
});

describe('VxlanLink', () => {
  it('encapsulates with the RFC 7348 header and floods to every remote', async () => {
    const r1 = await rawSocket();
    const r2 = await rawSocket();
    toClose.push(r1.socket, r2.socket);
    const link = await VxlanLink.open({
      vni: 0x12345,
      local: { address: '127.0.0.1', port: 0 },
      remotes: [
        { address: '127.0.0.1', port: r1.port },
        { address: '127.0.0.1', port: r2.port },
      ],
    });
    toClose.push(link);
    const buffer = FRAME.slice();
    link.send(buffer);
    buffer.fill(0); // the caller may reuse its buffer at once
    const expected = new Uint8Array([...fromHex('08 000000 012345 00'), ...FRAME]);
    assert.deepEqual(await r1.next(), expected);
    assert.deepEqual(await r2.next(), expected);
    assert.equal(link.stats().txFrames, 1, 'a frame counts once, whatever the number of remotes');
    assert.match(link.name, /^vxlan 127\.0\.0\.1:\d+ vni 74565$/);
  });

  it('hands on frames of its VNI as plain Uint8Arrays', async () => {
    const raw = await rawSocket();
    toClose.push(raw.socket);
    const link = await VxlanLink.open({
      vni: 42,
      local: { address: '127.0.0.1', port: 0 },
      remotes: [{ address: '127.0.0.1', port: raw.port }],
    });
    toClose.push(link);
    const received = new Promise<Uint8Array>((resolve) => link.onFrame(resolve));
    const datagram = new Uint8Array([...fromHex('08 000000 00002a 00'), ...FRAME]);
    await sendRaw(raw.socket, datagram, link.localEndpoint().port);
    const frame = await received;
    // Buffer's slice() shares memory; the engine's sinks rely on Uint8Array's copying one.
    assert.equal(Object.getPrototypeOf(frame), Uint8Array.prototype, 'not a Buffer');
    assert.deepEqual(frame, FRAME);
    assert.equal(link.stats().rxFrames, 1);
  });

  it('counts and drops another VNI, a short datagram and a missing I flag', async () => {
    const raw = await rawSocket();
    toClose.push(raw.socket);
    const link = await VxlanLink.open({
      vni: 42,
      local: { address: '127.0.0.1', port: 0 },
      remotes: [{ address: '127.0.0.1', port: raw.port }],
    });
    toClose.push(link);
    const frames: Uint8Array[] = [];
    const first = new Promise<void>((resolve) =>
      link.onFrame((f) => {
        frames.push(f.slice());
        resolve();
      }),
    );
    const port = link.localEndpoint().port;
    await sendRaw(raw.socket, new Uint8Array([...fromHex('08 000000 00002b 00'), ...FRAME]), port);
    await sendRaw(raw.socket, fromHex('08 000000 00002a'), port); // 7 bytes
    await sendRaw(raw.socket, new Uint8Array([...fromHex('00 000000 00002a 00'), ...FRAME]), port);
    // A good one last: once it arrives, the three before it (same socket, loopback) have too.
    await sendRaw(raw.socket, new Uint8Array([...fromHex('08 000000 00002a 00'), ...FRAME]), port);
    await first;
    assert.deepEqual(frames, [FRAME], 'only the good frame was handed on');
    const stats = link.stats();
    assert.deepEqual(
      { rxFrames: stats.rxFrames, rxWrongVni: stats.rxWrongVni, rxBadHeader: stats.rxBadHeader },
      { rxFrames: 1, rxWrongVni: 1, rxBadHeader: 2 },
    );
  });

  it('counts a good frame that arrives before any handler is set', async () => {
    const raw = await rawSocket();
    toClose.push(raw.socket);
    const link = await VxlanLink.open({
      vni: 42,
      local: { address: '127.0.0.1', port: 0 },
      remotes: [{ address: '127.0.0.1', port: raw.port }],
    });
    toClose.push(link);
    const datagram = new Uint8Array([...fromHex('08 000000 00002a 00'), ...FRAME]);
    const port = link.localEndpoint().port;
    await sendRaw(raw.socket, datagram, port);
    // Let the first datagram be received (it then finds no handler), then send a second.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = new Promise<Uint8Array>((resolve) => link.onFrame(resolve));
    await sendRaw(raw.socket, datagram, port);
    await second;
    assert.deepEqual(
      { rxNoHandler: link.stats().rxNoHandler, rxFrames: link.stats().rxFrames },
      { rxNoHandler: 1, rxFrames: 1 },
    );
  });

  it('carries frames between two netarp links', async () => {
    const a = await VxlanLink.open({
      vni: 7,
      local: { address: '127.0.0.1', port: 0 },
      remotes: [{ address: '127.0.0.1', port: 9 }],
    });
    toClose.push(a);
    const b = await VxlanLink.open({
      vni: 7,
      local: { address: '127.0.0.1', port: 0 },
      remotes: [{ address: '127.0.0.1', port: a.localEndpoint().port }],
    });
    toClose.push(b);
    const arrived = nextFrame(a);
    b.send(FRAME);
    assert.deepEqual(await arrived, FRAME);
  });

  it('reports a failed send through onError and keeps running', async () => {
    const raw = await rawSocket();
    toClose.push(raw.socket);
    const link = await VxlanLink.open({
      vni: 1,
      local: { address: '127.0.0.1', port: 0 },
      remotes: [{ address: '127.0.0.1', port: raw.port }],
    });
    toClose.push(link);
    const error = new Promise<LinkError>((resolve) => link.onError(resolve));
    link.send(new Uint8Array(70_000)); // larger than any UDP datagram: EMSGSIZE
    const reported = await error;
    assert.equal(reported.code, 'EIO');
    assert.match(reported.message, /send/);
    assert.equal(link.stats().txErrors, 1);
    link.send(FRAME);
    assert.equal((await raw.next()).length, 8 + FRAME.length, 'still sending');
  });

  it('drops and counts sends after close; close is idempotent', async () => {
    const link = await VxlanLink.open({
      vni: 1,
      local: { address: '127.0.0.1', port: 0 },
      remotes: [{ address: '127.0.0.1', port: 9 }],
    });
    await link.close();
    link.send(FRAME);
    await link.close();
    assert.equal(link.stats().txClosed, 1);
  });

  it('reports a port already in use as an EIO LinkError', async () => {
    const first = await VxlanLink.open({
      vni: 1,
      local: { address: '127.0.0.1', port: 0 },
      remotes: [{ address: '127.0.0.1', port: 9 }],
    });
    toClose.push(first);
    await assert.rejects(
      VxlanLink.open({
        vni: 1,
        local: { address: '127.0.0.1', port: first.localEndpoint().port },
        remotes: [{ address: '127.0.0.1', port: 9 }],
      }),
      (e: unknown) => e instanceof LinkError && e.code === 'EIO' && /bind/.test(e.message),
    );
  });

  it('rejects bad options with EINVAL naming the field', async () => {
    const local = { address: '127.0.0.1', port: 0 };
    const remotes = [{ address: '127.0.0.1' }];
    const cases: [string, Parameters<typeof VxlanLink.open>[0]][] = [
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
        VxlanLink.open(options),
        (e: unknown) => e instanceof LinkError && e.code === 'EINVAL' && e.message.includes(field),
        field,
      );
    }
  });
});
