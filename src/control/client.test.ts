import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { EntryInfo } from '../core/admin.ts';
import { NetarpError } from '../core/errors.ts';
import { ControlClient, ControlError, entriesOf, isProgressRefused, withClient } from './client.ts';
import type { MonitorEvent, PingProgress, Request } from './protocol.ts';
import { ControlServer } from './server.ts';

const dir = mkdtempSync(join(tmpdir(), 'netarp-client-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
const freshPath = (): string => join(dir, `c${++count}.sock`);

/** Requests the fake daemon saw, to check what the client sent. */
const seen: Request[] = [];

async function fakeDaemon(): Promise<ControlServer> {
  return ControlServer.listen({
    path: freshPath(),
    handler: {
      handle(request, context) {
        seen.push(request);
        switch (request.op) {
          case 'get':
            throw new NetarpError('ENOENT', `${request.host} (${request.host}) -- no entry`);
          case 'ping':
            if (request.progress) {
              // Two lines before the answer, one after it (never sent).
              context.progress({ kind: 'sent', transmitted: 1 });
              context.progress({
                kind: 'probe',
                probe: { sequence: 1, ok: false, reason: 'timeout' },
              });
              setTimeout(() => context.progress({ kind: 'sent', transmitted: 2 }), 0);
            }
            return { echo: request.op };
          case 'resolve':
            return new Promise((resolve) =>
              setTimeout(
                () =>
                  resolve({ resolved: false, ip: request.host, reason: 'timeout', elapsedMs: 50 }),
                50,
              ),
            );
          default:
            return { echo: request.op };
        }
      },
    },
  });
}

/** A Unix server that runs `onConnection` for each client: a daemon that misbehaves. */
async function rawServer(
  onConnection: (socket: Socket) => void,
): Promise<{ path: string; server: Server }> {
  const path = freshPath();
  const server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { path, server };
}

function isControlError(code: string, message?: string | RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ControlError, String(error));
    assert.equal(error.code, code);
    if (typeof message === 'string') assert.equal(error.message, message);
    else if (message) assert.match(error.message, message);
    return true;
  };
}

describe('ControlClient', () => {
  it('sends each operation with its fields and returns results', async () => {
    const server = await fakeDaemon();
    try {
      seen.length = 0;
      await withClient({ path: server.path }, async (client) => {
        assert.deepEqual(await client.list('vx0'), { echo: 'list' });
        await client.set({ host: '192.0.2.9', mac: '02:00:00:00:00:09', pub: true });
        await client.delete('192.0.2.9', true);
        await client.delete('192.0.2.9', false, 'vx1');
        await client.flush();
        await client.sysctlGet('max_age');
        await client.sysctlSet('max_age', 60);
        await client.stats();
        await client.interfaces();
        await client.ping('192.0.2.1', { count: 2, intervalMs: 100 });
        assert.deepEqual(await client.resolve('192.0.2.1', 100), {
          resolved: false,
          ip: '192.0.2.1',
          reason: 'timeout',
          elapsedMs: 50,
        });
      });
      assert.deepEqual(
        seen.map(({ v: _v, id: _id, ...rest }) => rest),
        [
          { op: 'list', ifName: 'vx0' },
          { op: 'set', host: '192.0.2.9', mac: '02:00:00:00:00:09', pub: true },
          { op: 'delete', host: '192.0.2.9', pub: true },
          { op: 'delete', host: '192.0.2.9', ifName: 'vx1' },
          { op: 'flush' },
          { op: 'sysctl-get', name: 'max_age' },
          { op: 'sysctl-set', name: 'max_age', value: 60 },
          { op: 'stats' },
          { op: 'interfaces' },
          { op: 'ping', host: '192.0.2.1', count: 2, intervalMs: 100 },
          { op: 'resolve', host: '192.0.2.1', timeoutMs: 100 },
        ],
      );
    } finally {
      await server.close();
    }
  });

  it("passes a request's progress lines to its callback, before its result", async () => {
    const server = await fakeDaemon();
    try {
      seen.length = 0;
      const heard: (PingProgress | string)[] = [];
      await withClient({ path: server.path }, async (client) => {
        const result = await client.ping('192.0.2.1', { count: 1 }, (p) => heard.push(p));
        heard.push(`result ${JSON.stringify(result)}`);
        // Another request on the connection afterwards: the late line went nowhere.
        await client.stats();
      });
      assert.deepEqual(heard, [
        { kind: 'sent', transmitted: 1 },
        { kind: 'probe', probe: { sequence: 1, ok: false, reason: 'timeout' } },
        'result {"echo":"ping"}',
      ]);
      assert.deepEqual(
        seen.map(({ v: _v, id: _id, ...rest }) => rest),
        [{ op: 'ping', host: '192.0.2.1', count: 1, progress: true }, { op: 'stats' }],
      );
    } finally {
      await server.close();
    }
  });

  it('reads every entry of a get answer, from a daemon with entries or without', () => {
    const entry = (ifName: string, proxyOnly: boolean): EntryInfo => ({
      ip: '192.0.2.1',
      mac: '02:00:00:00:00:01',
      ifName,
      state: 'permanent',
      expiresIn: undefined,
      permanent: true,
      static: true,
      local: false,
      published: proxyOnly,
      proxyOnly,
      held: 0,
      asked: 0,
    });
    const both = [entry('vx0', false), entry('vx1', true)];
    assert.deepEqual(entriesOf({ ...entry('vx0', false), entries: both }), both);
    // An older daemon answers the entry alone.
    const alone = entry('vx0', false) as EntryInfo & { entries: EntryInfo[] };
    assert.deepEqual(entriesOf(alone), [entry('vx0', false)]);
  });

  it("tells a daemon's refusal of progress lines from other errors", () => {
    assert.ok(isProgressRefused(new ControlError('EINVAL', "ping: unknown field 'progress'")));
    assert.ok(!isProgressRefused(new ControlError('EINVAL', "ping: unknown field 'count'")));
    assert.ok(!isProgressRefused(new ControlError('EIO', "ping: unknown field 'progress'")));
    assert.ok(!isProgressRefused(new Error("ping: unknown field 'progress'")));
  });

  it("rejects with the daemon's code and message", async () => {
    const server = await fakeDaemon();
    try {
      await withClient({ path: server.path }, async (client) => {
        await assert.rejects(
          client.get('192.0.2.5'),
          isControlError('ENOENT', '192.0.2.5 (192.0.2.5) -- no entry'),
        );
        // The connection goes on after an error response.
        assert.deepEqual(await client.stats(), { echo: 'stats' });
      });
    } finally {
      await server.close();
    }
  });

  it('delivers monitor events to the subscriber', async () => {
    const server = await fakeDaemon();
    try {
      const client = await ControlClient.connect({ path: server.path });
      const events: MonitorEvent[] = [];
      const subscription = await client.monitor((event) => events.push(event));
      const event: MonitorEvent = {
        kind: 'route',
        time: 1,
        type: 'add',
        ifName: 'vx0',
        ip: '192.0.2.1',
        reason: 'learned',
      };
      server.publish(event);
      const deadline = Date.now() + 2000;
      while (events.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.deepEqual(events, [event]);
      // Requests still work on a monitoring connection.
      assert.deepEqual(await client.interfaces(), { echo: 'interfaces' });
      await server.close();
      await subscription.ended;
    } finally {
      await server.close();
    }
  });

  it('says the daemon is not running when nothing listens', async () => {
    const missing = freshPath();
    await assert.rejects(
      ControlClient.connect({ path: missing }),
      isControlError('ECONNREFUSED', `cannot connect to ${missing}: is the daemon running?`),
    );
    // A socket file left by a daemon that died.
    const stale = freshPath();
    spawnSync(process.execPath, [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    await assert.rejects(
      ControlClient.connect({ path: stale }),
      isControlError('ECONNREFUSED', `cannot connect to ${stale}: is the daemon running?`),
    );
  });

  it('times out a request the daemon does not answer', async () => {
    const { path, server } = await rawServer(() => {});
    try {
      await withClient({ path, timeoutMs: 100 }, async (client) => {
        await assert.rejects(
          client.stats(),
          isControlError('ETIMEDOUT', 'stats: no response from the daemon within 100 ms'),
        );
      });
    } finally {
      server.close();
    }
  });

  it('fails waiting requests when the daemon closes the connection', async () => {
    const { path, server } = await rawServer((socket) => socket.on('data', () => socket.destroy()));
    try {
      const client = await ControlClient.connect({ path });
      await assert.rejects(client.stats(), isControlError('ECONNRESET', /closed the connection/));
      await assert.rejects(client.list(), isControlError('ECONNRESET'));
      client.close();
    } finally {
      server.close();
    }
  });

  it('refuses a daemon that does not speak the protocol', async () => {
    const { path, server } = await rawServer((socket) =>
      socket.on('data', () => socket.write('{"v":2,"id":1,"ok":true,"result":null}\n')),
    );
    try {
      const client = await ControlClient.connect({ path });
      await assert.rejects(
        client.stats(),
        isControlError('EBADRESPONSE', /protocol version 2, this client 1/),
      );
      client.close();
    } finally {
      server.close();
    }
  });

  it('fails every request on an error line without an id (e.g. too many connections)', async () => {
    const { path, server } = await rawServer((socket) =>
      socket.end(
        '{"v":1,"id":null,"ok":false,"error":{"code":"EBUSY","message":"too many connections (64)"}}\n',
      ),
    );
    try {
      const client = await ControlClient.connect({ path });
      await assert.rejects(client.stats(), isControlError('EBUSY', 'too many connections (64)'));
      client.close();
    } finally {
      server.close();
    }
  });
});
