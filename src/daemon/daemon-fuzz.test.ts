/**
 * Hostile bytes on the control socket never affect the daemon. A running daemon (in-process,
 * memory links) is sent, one connection each, random bytes, random text, random JSON,
 * requests with one part mutated, prototype-pollution shapes, lines at and past the 64 KiB
 * cap, deep nesting, invalid UTF-8, and a burst of connections past the limit. Afterwards the
 * table, the knobs and the state file are exactly as before, and `list` still answers; on the
 * way, every line the daemon wrote is the protocol, and none says EINTERNAL.
 *
 * A mutated request that happens to be a well-formed change (decodeRequest accepts a `set`,
 * say) is legitimately obeyed, so it is not sent: everything sent is either refused or a
 * read-only operation. NETARP_FUZZ_RUNS sets the number of random cases (default 300).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DaemonBench, daemonConfig, withBench } from '../../test/support/daemon-bench.ts';
import { withClient } from '../control/client.ts';
import {
  decodeRequest,
  decodeServerLine,
  MAX_REQUEST_BYTES,
  OP_NAMES,
} from '../control/protocol.ts';

const RUNS = Number(process.env.NETARP_FUZZ_RUNS ?? 300);

/** The operations that change nothing. */
const READ_ONLY = new Set(['list', 'get', 'sysctl-get', 'stats', 'interfaces', 'monitor']);

/** Whether the daemon may legitimately obey `line` by changing something. */
function isWellFormedChange(line: string): boolean {
  const decoded = decodeRequest(line);
  return decoded.ok && !READ_ONLY.has(decoded.request.op);
}

/**
 * Sends `payload` on a fresh connection (once `gate` resolves), half-closes, and returns every
 * line written back.
 */
function exchange(path: string, payload: Uint8Array, gate?: Promise<void>): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within 5 s after ${payload.length} bytes`));
    }, 5000);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // A well-formed monitor request subscribes: the daemon keeps that connection open for
      // events (docs/control.md), so this side closes it.
      if (chunk.includes('{"monitoring":true}')) setTimeout(() => socket.destroy(), 20);
    });
    // The daemon may close first (an oversized line): a reset is fine, a hang is not.
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      resolve(text.split('\n').filter((l) => l !== ''));
    });
    socket.on('connect', () => {
      if (gate) void gate.then(() => socket.end(payload));
      else socket.end(payload);
    });
  });
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A request of any operation with one thing wrong, or a random variation of one. */
const mutatedRequest = fc
  .record({
    v: fc.oneof(fc.constant(1), fc.constant(1), fc.jsonValue()),
    id: fc.oneof(fc.integer(), fc.string(), fc.jsonValue()),
    op: fc.oneof(
      fc.constantFrom(...OP_NAMES),
      fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', ''),
      fc.string(),
    ),
    fields: fc.dictionary(
      fc.oneof(
        fc.constantFrom('host', 'mac', 'ifName', 'pub', 'only', 'name', 'value', 'timeoutMs'),
        fc.constantFrom('__proto__', 'constructor'),
        fc.string(),
      ),
      fc.oneof(
        fc.constantFrom('192.0.2.9', '192.0.2.2', '02:00:00:00:00:66', 'vx0', 'max_age'),
        fc.jsonValue(),
      ),
      { maxKeys: 4 },
    ),
  })
  .map(({ v, id, op, fields }) => JSON.stringify({ ...fields, v, id, op }));

/** One payload: what one connection sends. */
const payload: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 4096 }),
  fc.array(fc.string({ unit: 'binary' }), { maxLength: 20 }).map((l) => text(`${l.join('\n')}\n`)),
  fc
    .array(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      { maxLength: 10 },
    )
    .map((l) => text(`${l.join('\n')}\n`)),
  fc
    .array(mutatedRequest, { minLength: 1, maxLength: 10 })
    .filter((lines) => !lines.some(isWellFormedChange))
    .map((lines) => text(`${lines.join('\r\n')}\n`)),
);

/** Hand-picked nasties, each on its own connection. */
const CRAFTED: [string, Uint8Array][] = [
  ['a line of exactly the cap', text(`${' '.repeat(MAX_REQUEST_BYTES)}\n`)],
  ['a line one byte past the cap', text(`${'x'.repeat(MAX_REQUEST_BYTES + 1)}\n`)],
  ['1 MiB without a newline', new Uint8Array(1 << 20).fill(0x41)],
  ['deep nesting', text(`${'['.repeat(60_000)}\n`)],
  [
    'deep nesting in a request',
    text(`{"v":1,"id":1,"op":"list","ifName":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}\n`),
  ],
  ['invalid UTF-8', Uint8Array.of(0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0x0a)],
  ['NUL bytes', text('{"v":1,"id":1,\0"op":"list"}\n\0\0\n')],
  [
    'a prototype for a request',
    text('{"__proto__":{"v":1,"id":1,"op":"set","host":"192.0.2.9","mac":"02:00:00:00:00:66"}}\n'),
  ],
  [
    'a constructor op',
    text('{"v":1,"id":1,"op":"constructor"}\n{"v":1,"id":2,"op":"__proto__"}\n'),
  ],
  ['a huge id', text(`{"v":1,"id":"${'i'.repeat(300)}","op":"list"}\n`)],
  [
    'numbers past every range',
    text(
      '{"v":1,"id":1e999,"op":"sysctl-set","name":"max_age","value":1e999}\n{"v":1,"id":2,"op":"sysctl-set","name":"max_age","value":-1}\n{"v":1,"id":3,"op":"sysctl-set","name":"max_age","value":1.5}\n',
    ),
  ],
  [
    'a set with a wrong-typed field',
    text(
      '{"v":1,"id":1,"op":"set","host":"192.0.2.9","mac":"02:00:00:00:00:66","replace":"yes"}\n',
    ),
  ],
  [
    'a delete of our own address, and of the config entry with an extra field',
    text('{"v":1,"id":1,"op":"delete","host":"192.0.2.9","x":1}\n'),
  ],
  ['only carriage returns and blanks', text('\r\r\n\n   \n\t\n')],
];

describe('the control socket under hostile input', () => {
  it(`leaves the daemon unchanged and answering after ${RUNS} random and ${CRAFTED.length} crafted inputs`, {
    timeout: 240_000,
  }, async (t) => {
    // No neighbour and no client of the bench's own: the only connections are the ones below,
    // so that the burst meets the whole limit.
    const bench = new DaemonBench({
      config: daemonConfig(),
      logLevel: 'debug',
      peer: false,
      numberPorts: true,
      connect: false,
    });
    await withBench(bench, async ({ socket, statePath, logs }) => {
      // A run-time change first, so that the state file has something to lose.
      await withClient({ path: socket }, async (c) => {
        await c.set({ host: '192.0.2.20', mac: '02:00:00:00:00:20' });
        await c.sysctlSet('max_age', 600);
      });
      const snapshot = async () =>
        withClient({ path: socket }, async (c) => ({
          entries: (await c.list()).map((e) => `${e.ip} ${e.mac} ${e.state}`),
          knobs: (await c.sysctlGet()).map((k) => `${k.name}=${k.value}`),
        }));
      const before = await snapshot();
      const stateBefore = readFileSync(statePath, 'utf8');

      let lines = 0;
      const check = (sent: string, answers: string[]): void => {
        for (const line of answers) {
          lines++;
          const decoded = decodeServerLine(line);
          assert.ok(decoded.ok, `not the protocol: ${line.slice(0, 200)} (sent ${sent})`);
          const body = decoded.line;
          assert.ok(!('ok' in body && !body.ok && body.error.code === 'EINTERNAL'), line);
        }
      };
      for (const [name, bytes] of CRAFTED) check(name, await exchange(socket, bytes));
      await fc.assert(
        fc.asyncProperty(payload, async (bytes) => {
          check(Buffer.from(bytes.subarray(0, 200)).toString('hex'), await exchange(socket, bytes));
        }),
        { numRuns: RUNS },
      );
      // A burst past the connection limit (64), all open at once: the extra ones are refused
      // (EBUSY), none hurts.
      let open: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      const burst = Array.from({ length: 100 }, (_, i) =>
        exchange(socket, text(`garbage ${i}\n`), gate),
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      open();
      const answered = await Promise.all(burst);
      for (const [i, answers] of answered.entries()) check(`burst ${i}`, answers);
      const busy = answered.filter((a) => a.some((l) => l.includes('"EBUSY"'))).length;
      assert.ok(busy >= 36, `${busy} of 100 refused past the limit of 64`);

      assert.deepEqual(await snapshot(), before, 'table and knobs unchanged');
      assert.equal(readFileSync(statePath, 'utf8'), stateBefore, 'state file unchanged');
      assert.deepEqual(
        logs.filter((l) => /unexpectedly|internal error/.test(l)),
        [],
        'no bug survived',
      );
      const control = await withClient({ path: socket }, (c) => c.stats());
      t.diagnostic(
        `${RUNS + CRAFTED.length + 100} hostile connections, ${lines} answer lines checked; control: ${JSON.stringify(control.control)}`,
      );
    });
  });
});
