import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { NetarpError } from '../core/errors.ts';
import { ControlFailure, type MonitorEvent, type Request } from './protocol.ts';
import { type ControlHandler, ControlServer, ControlServerError } from './server.ts';

const dir = mkdtempSync(join(tmpdir(), 'netarp-server-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
const freshPath = (): string => join(dir, `s${++count}`, 'netarp.sock');

/** A handler that answers each op in a fixed way, so that the tests see the server's work. */
const handler: ControlHandler = {
  handle(request: Exclude<Request, { op: 'monitor' }>) {
    switch (request.op) {
      case 'list':
        return [{ ip: '192.0.2.1' }];
      case 'get':
        throw new NetarpError('ENOENT', `${request.host} (${request.host}) -- no entry`);
      case 'flush':
        throw new ControlFailure('EBUSY', 'busy');
      case 'stats':
        throw new Error('a bug');
      case 'resolve':
        // Never answers within a test: keeps a request in flight.
        return new Promise(() => {});
      default:
        return { op: request.op };
    }
  },
};

/** A raw connection that collects the lines the server writes. */
class Raw {
  readonly lines: string[] = [];
  readonly closed: Promise<void>;
  private waiters: (() => void)[] = [];
  private rest = '';

  constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      const parts = (this.rest + text).split('\n');
      this.rest = parts.pop() ?? '';
      this.lines.push(...parts);
      for (const wake of this.waiters.splice(0)) wake();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
  }

  static open(path: string): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      socket.once('connect', () => resolve(new Raw(socket)));
      socket.once('error', reject);
    });
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** Waits until `n` lines arrived and returns them parsed. */
  async take(n: number): Promise<Record<string, unknown>[]> {
    const deadline = Date.now() + 3000;
    while (this.lines.length < n) {
      if (Date.now() > deadline) assert.fail(`expected ${n} lines, got ${this.lines.length}`);
      await new Promise<void>((wake) => {
        this.waiters.push(wake);
        setTimeout(wake, 50);
      });
    }
    return this.lines.splice(0, n).map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  close(): void {
    this.socket.destroy();
  }
}

async function withServer(
  options: Partial<Parameters<typeof ControlServer.listen>[0]>,
  body: (server: ControlServer, path: string, logged: string[]) => Promise<void>,
): Promise<void> {
  const path = freshPath();
  const logged: string[] = [];
  const server = await ControlServer.listen({
    path,
    handler,
    log: (level, message) => logged.push(`${level}: ${message}`),
    ...options,
  });
  try {
    await body(server, path, logged);
  } finally {
    await server.close();
  }
}

/** Waits until `raw` has received the response to request `id`. */
/** Polls every 10 ms until `done()` holds or the clock passes `deadline`; the caller asserts. */
async function until(done: () => boolean, deadline: number): Promise<void> {
  while (!done() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function eventuallyAnswered(raw: Raw, id: number): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!raw.lines.some((l) => l.startsWith(`{"v":1,"id":${id},"ok"`))) {
    if (Date.now() > deadline) assert.fail(`no response to ${id}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('ControlServer', () => {
  it('creates the directory and a socket only its owner may use (0600), removed on close', async () => {
    const path = freshPath();
    const server = await ControlServer.listen({ path, handler });
    const mode = statSync(path).mode;
    assert.ok(statSync(path).isSocket());
    assert.equal(mode & 0o777, 0o600);
    await server.close();
    assert.throws(() => statSync(path), /ENOENT/);
  });

  it('answers requests, echoing ids, with results and mapped errors', async () => {
    await withServer({}, async (_server, path, logged) => {
      const raw = await Raw.open(path);
      raw.send('{"v":1,"id":1,"op":"list"}\n');
      raw.send('{"v":1,"id":"g","op":"get","host":"192.0.2.7"}\r\n');
      raw.send('{"v":1,"id":3,"op":"flush"}\n{"v":1,"id":4,"op":"stats"}\n');
      const lines = await raw.take(4);
      const byId = new Map(lines.map((l) => [l.id, l]));
      assert.deepEqual(byId.get(1), { v: 1, id: 1, ok: true, result: [{ ip: '192.0.2.1' }] });
      assert.deepEqual(byId.get('g'), {
        v: 1,
        id: 'g',
        ok: false,
        error: { code: 'ENOENT', message: '192.0.2.7 (192.0.2.7) -- no entry' },
      });
      assert.deepEqual(byId.get(3), {
        v: 1,
        id: 3,
        ok: false,
        error: { code: 'EBUSY', message: 'busy' },
      });
      assert.deepEqual(byId.get(4), {
        v: 1,
        id: 4,
        ok: false,
        error: { code: 'EINTERNAL', message: 'internal error in stats: a bug' },
      });
      assert.deepEqual(logged, ['err: control: stats failed unexpectedly: a bug']);
      raw.close();
    });
  });

  it('answers malformed lines and unknown ops with errors and keeps the connection', async () => {
    await withServer({}, async (server, path) => {
      const raw = await Raw.open(path);
      raw.send('this is not json\n');
      raw.send('\n   \n');
      raw.send('{"v":1,"id":2,"op":"shutdown"}\n');
      raw.send('{"v":9,"id":3,"op":"list"}\n');
      raw.send('{"v":1,"id":4,"op":"list"}\n');
      const lines = await raw.take(4);
      assert.deepEqual(
        lines.map((l) => [l.id, l.ok, (l.error as { code?: string } | undefined)?.code]),
        [
          [null, false, 'EPROTO'],
          [2, false, 'EOPNOTSUPP'],
          [3, false, 'EPROTONOSUPPORT'],
          [4, true, undefined],
        ],
      );
      assert.deepEqual(
        { requests: server.stats().requests, errors: server.stats().errors },
        { requests: 4, errors: 3 },
        'blank lines are not requests',
      );
      raw.close();
    });
  });

  it('closes a connection whose line passes the cap, and serves the next one', async () => {
    await withServer({ maxRequestBytes: 1024 }, async (server, path) => {
      const raw = await Raw.open(path);
      // In pieces, without a newline: the cap counts what is buffered across chunks.
      raw.send('{"v":1,"id":1,"op":"list","pad":"');
      raw.send('x'.repeat(600));
      raw.send('x'.repeat(600));
      const [line] = await raw.take(1);
      assert.deepEqual(line, {
        v: 1,
        id: null,
        ok: false,
        error: {
          code: 'EMSGSIZE',
          message: 'request line longer than 1024 bytes; closing the connection',
        },
      });
      await raw.closed;
      assert.equal(server.stats().oversized, 1);

      // One line exactly at the cap is fine; one byte more in a single chunk is not.
      const ok = await Raw.open(path);
      const request = '{"v":1,"id":2,"op":"list"}';
      ok.send(`${request}${' '.repeat(1024 - request.length)}\n`);
      assert.equal((await ok.take(1))[0]?.ok, true);
      ok.send(`${request}${' '.repeat(1025 - request.length)}\n`);
      const [tooLong] = await ok.take(1);
      assert.deepEqual(tooLong?.error, {
        code: 'EMSGSIZE',
        message: 'request line longer than 1024 bytes; closing the connection',
      });
      await ok.closed;
    });
  });

  it('streams events to monitors only, and tells a slow one how many it lost', async () => {
    await withServer({ monitorBufferBytes: 0 }, async (server, path) => {
      const monitor = await Raw.open(path);
      const other = await Raw.open(path);
      monitor.send('{"v":1,"id":"m","op":"monitor"}\n');
      assert.deepEqual(await monitor.take(1), [
        { v: 1, id: 'm', ok: true, result: { monitoring: true } },
      ]);
      const event = (n: number, message = `event ${n}`): MonitorEvent => ({
        kind: 'log',
        time: n,
        level: 'info',
        source: 'daemon',
        message,
      });
      // With no buffer allowed, an event is dropped whenever anything is still queued.
      server.publish(event(1));
      const [first] = await monitor.take(1);
      assert.deepEqual(first, { v: 1, id: 'm', event: event(1) });
      // Fill the socket's queue by not reading, then publish until one is dropped.
      monitor.socket.pause();
      let published = 1;
      while (server.stats().eventsLost === 0 && published < 200_000) {
        server.publish(event(++published, 'x'.repeat(4096)));
      }
      assert.ok(server.stats().eventsLost > 0, 'events were dropped');
      monitor.socket.resume();
      await new Promise((resolve) => setTimeout(resolve, 200));
      server.publish(event(published + 1));
      const deadline = Date.now() + 3000;
      while (!monitor.lines.some((l) => l.includes('"lost"')) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        server.publish(event(published + 2));
      }
      const lost = monitor.lines.map((l) => JSON.parse(l)).find((l) => l.event?.kind === 'lost');
      assert.ok(lost, 'a lost notice arrived');
      assert.ok(lost.event.count >= 1);
      assert.deepEqual(other.lines, [], 'a connection that did not subscribe gets no events');
      monitor.close();
      other.close();
    });
  });

  it('sends progress lines before the response, and none after it', async () => {
    let late: (() => void) | undefined;
    const progressing: ControlHandler = {
      handle(request, context) {
        context.progress({ step: 1 });
        context.progress({ step: 2 });
        late = () => context.progress({ step: 3 });
        return { op: request.op };
      },
    };
    await withServer({ handler: progressing }, async (_server, path) => {
      const raw = await Raw.open(path);
      raw.send('{"v":1,"id":"p","op":"ping","host":"192.0.2.1","progress":true}\n');
      assert.deepEqual(await raw.take(3), [
        { v: 1, id: 'p', progress: { step: 1 } },
        { v: 1, id: 'p', progress: { step: 2 } },
        { v: 1, id: 'p', ok: true, result: { op: 'ping' } },
      ]);
      late?.();
      raw.send('{"v":1,"id":2,"op":"stats"}\n');
      const [next] = await raw.take(1);
      assert.deepEqual(next?.id, 2, 'the late progress line was not sent');
      raw.close();
    });
  });

  it("aborts a request's signal when its connection closes", async () => {
    let signal: AbortSignal | undefined;
    const waiting: ControlHandler = {
      handle(_request, context) {
        signal = context.signal;
        // A client that closed is seen as a half-close (which still wants its answer) until a
        // write to it fails: report something now and then, as a ping with progress does.
        const timer = setInterval(() => context.progress({ still: 'here' }), 10);
        return new Promise((resolve) =>
          context.signal.addEventListener('abort', () => {
            clearInterval(timer);
            resolve({});
          }),
        );
      },
    };
    await withServer({ handler: waiting }, async (server, path) => {
      const raw = await Raw.open(path);
      raw.send('{"v":1,"id":1,"op":"ping","host":"192.0.2.1"}\n');
      const deadline = Date.now() + 2000;
      await until(() => signal !== undefined, deadline);
      assert.equal(signal?.aborted, false, 'running while the client waits');
      raw.close();
      await raw.closed;
      await until(() => signal?.aborted === true, deadline);
      assert.equal(signal?.aborted, true);
      assert.equal(server.stats().connections, 0);
    });
  });

  it('aborts a request that writes nothing once its half-closed client turns out gone', async () => {
    let signal: AbortSignal | undefined;
    // A ping without progress: nothing is written until it is done.
    const silent: ControlHandler = {
      handle(_request, context) {
        signal = context.signal;
        return new Promise((resolve) =>
          context.signal.addEventListener('abort', () => resolve({})),
        );
      },
    };
    await withServer({ handler: silent }, async (server, path) => {
      const raw = await Raw.open(path);
      raw.send('{"v":1,"id":1,"op":"ping","host":"192.0.2.1","count":100}\n');
      const deadline = Date.now() + 5000;
      await until(() => signal !== undefined, deadline);
      assert.equal(signal?.aborted, false);
      raw.close();
      await raw.closed;
      await until(() => signal?.aborted === true, deadline);
      assert.equal(signal?.aborted, true, 'the request ran on for a client that was gone');
      assert.equal(server.stats().connections, 0);
    });
  });

  it('still answers a client that half-closed and reads; the probe lines are blank', async () => {
    const slow: ControlHandler = {
      async handle() {
        // Long enough for the probe to write at least once.
        await new Promise((resolve) => setTimeout(resolve, 1300));
        return { done: true };
      },
    };
    await withServer({ handler: slow }, async (_server, path) => {
      const raw = await Raw.open(path);
      raw.send('{"v":1,"id":1,"op":"ping","host":"192.0.2.1"}\n');
      raw.socket.end();
      await raw.closed;
      const blank = raw.lines.filter((line) => line.trim() === '');
      const rest = raw.lines.filter((line) => line.trim() !== '');
      assert.ok(blank.length >= 1, 'no probe line was sent');
      assert.deepEqual(
        rest.map((line) => JSON.parse(line)),
        [{ v: 1, id: 1, ok: true, result: { done: true } }],
      );
    });
  });

  it('drops and counts progress lines a client does not read', async () => {
    let sent = 0;
    let server: ControlServer | undefined;
    const flooding: ControlHandler = {
      async handle(_request, context) {
        // Give the test time to stop reading, then report until a line is dropped.
        await new Promise((resolve) => setTimeout(resolve, 50));
        while (server !== undefined && server.stats().eventsLost === 0 && sent < 200_000) {
          context.progress({ n: ++sent, pad: 'x'.repeat(4096) });
        }
        return { sent };
      },
    };
    await withServer({ handler: flooding, monitorBufferBytes: 0 }, async (running, path) => {
      server = running;
      const raw = await Raw.open(path);
      raw.socket.pause();
      raw.send('{"v":1,"id":1,"op":"ping","host":"192.0.2.1","progress":true}\n');
      await until(() => running.stats().eventsLost > 0, Date.now() + 3000);
      assert.ok(running.stats().eventsLost > 0, 'a progress line was dropped');
      raw.socket.resume();
      // Every line that came is whole, the response last.
      await eventuallyAnswered(raw, 1);
      const parsed = raw.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(parsed.at(-1), { v: 1, id: 1, ok: true, result: { sent } });
      assert.ok(parsed.length - 1 < sent, `${parsed.length - 1} of ${sent} progress lines sent`);
      raw.close();
    });
  });

  it('answers EBUSY past the connection and in-flight limits', async () => {
    await withServer({ maxConnections: 1, maxInFlight: 2 }, async (server, path) => {
      const first = await Raw.open(path);
      first.send('{"v":1,"id":1,"op":"resolve","host":"192.0.2.1"}\n');
      first.send('{"v":1,"id":2,"op":"resolve","host":"192.0.2.1"}\n');
      first.send('{"v":1,"id":3,"op":"resolve","host":"192.0.2.1"}\n');
      const [busy] = await first.take(1);
      assert.deepEqual(busy, {
        v: 1,
        id: 3,
        ok: false,
        error: { code: 'EBUSY', message: 'more than 2 requests in flight on this connection' },
      });
      const second = await Raw.open(path);
      const [refused] = await second.take(1);
      assert.deepEqual(refused, {
        v: 1,
        id: null,
        ok: false,
        error: { code: 'EBUSY', message: 'too many connections (1)' },
      });
      await second.closed;
      assert.equal(server.stats().refused, 1);
      first.close();
    });
  });

  it('answers what is in flight after the client half-closes, then closes', async () => {
    await withServer({}, async (_server, path) => {
      const raw = await Raw.open(path);
      raw.socket.end('{"v":1,"id":1,"op":"interfaces"}\n');
      assert.deepEqual(await raw.take(1), [
        { v: 1, id: 1, ok: true, result: { op: 'interfaces' } },
      ]);
      await raw.closed;
    });
  });

  it('refuses to start where a daemon listens, and replaces a stale socket file', async () => {
    await withServer({}, async (_server, path) => {
      await assert.rejects(
        ControlServer.listen({ path, handler }),
        (error: unknown) =>
          error instanceof ControlServerError &&
          error.code === 'EADDRINUSE' &&
          error.message === `another daemon is listening on ${path}`,
      );
      // The running server is unharmed.
      const raw = await Raw.open(path);
      raw.send('{"v":1,"id":1,"op":"list"}\n');
      assert.equal((await raw.take(1))[0]?.ok, true);
      raw.close();
    });

    // A socket file nobody listens on: what a daemon killed with SIGKILL leaves behind.
    const stale = freshPath();
    await ControlServer.listen({ path: stale, handler }).then((s) => s.close());
    spawnSync(process.execPath, [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    assert.ok(statSync(stale).isSocket(), 'a stale socket file is there');
    const server = await ControlServer.listen({ path: stale, handler });
    const raw = await Raw.open(stale);
    raw.send('{"v":1,"id":1,"op":"list"}\n');
    assert.equal((await raw.take(1))[0]?.ok, true);
    raw.close();
    await server.close();
  });

  it('refuses a path that is not a socket, and leaves it alone', async () => {
    const path = freshPath();
    await ControlServer.listen({ path, handler }).then((s) => s.close());
    writeFileSync(path, 'precious');
    await assert.rejects(
      ControlServer.listen({ path, handler }),
      (error: unknown) => error instanceof ControlServerError && error.code === 'EEXIST',
    );
    assert.ok(statSync(path).isFile());
  });

  it('answers ESHUTDOWN while closing, and removes the socket file', async () => {
    const path = freshPath();
    const server = await ControlServer.listen({ path, handler });
    const raw = await Raw.open(path);
    const closing = server.close();
    raw.send('{"v":1,"id":1,"op":"list"}\n');
    await closing;
    await raw.closed;
    const lines = raw.lines.map((l) => JSON.parse(l) as { error?: { code: string } });
    assert.ok(
      lines.every((l) => l.error?.code === 'ESHUTDOWN'),
      JSON.stringify(lines),
    );
    assert.throws(() => statSync(path), /ENOENT/);
  });
});
