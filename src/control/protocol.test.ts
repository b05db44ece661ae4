import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_SOCKET_PATH,
  decodeRequest,
  decodeServerLine,
  type ErrorCode,
  encodeError,
  encodeEvent,
  encodeProgress,
  encodeRequest,
  encodeResult,
  OP_NAMES,
  type OpName,
  socketPathFrom,
} from './protocol.ts';

/** One well-formed request per operation, as a client would write it. */
const VALID: readonly { op: OpName; params: Record<string, unknown> }[] = [
  { op: 'list', params: {} },
  { op: 'list', params: { ifName: 'vx0' } },
  { op: 'get', params: { host: '192.0.2.1' } },
  {
    op: 'set',
    params: {
      host: '192.0.2.9',
      mac: '02:00:00:00:00:09',
      ifName: 'vx0',
      temp: false,
      pub: true,
      only: true,
      replace: true,
    },
  },
  { op: 'delete', params: { host: '192.0.2.9', pub: true } },
  { op: 'delete', params: { host: '192.0.2.9', ifName: 'vx1' } },
  { op: 'flush', params: {} },
  { op: 'sysctl-get', params: { name: 'net.link.ether.inet.max_age' } },
  { op: 'sysctl-set', params: { name: 'max_age', value: 60 } },
  { op: 'stats', params: {} },
  { op: 'interfaces', params: {} },
  { op: 'resolve', params: { host: '192.0.2.1', timeoutMs: 500 } },
  { op: 'ping', params: { host: '192.0.2.1', count: 3, timeoutMs: 1000, intervalMs: 200 } },
  { op: 'ping', params: { host: '192.0.2.1', progress: true } },
  { op: 'monitor', params: {} },
];

/** Lines that are not requests, each with the code and a fragment of the message it earns. */
const INVALID: readonly {
  line: string;
  id: number | string | null;
  code: ErrorCode;
  says: string;
}[] = [
  { line: '{"v":1,"id":1,"op":"list"', id: null, code: 'EPROTO', says: 'not JSON' },
  { line: '[1,2]', id: null, code: 'EPROTO', says: 'JSON object' },
  { line: '"list"', id: null, code: 'EPROTO', says: 'JSON object' },
  { line: 'null', id: null, code: 'EPROTO', says: 'JSON object' },
  { line: '{"v":1,"op":"list"}', id: null, code: 'EPROTO', says: 'id must be' },
  { line: '{"v":1,"id":{},"op":"list"}', id: null, code: 'EPROTO', says: 'id must be' },
  { line: '{"id":2,"op":"list"}', id: 2, code: 'EPROTONOSUPPORT', says: 'v is missing' },
  { line: '{"v":2,"id":3,"op":"list"}', id: 3, code: 'EPROTONOSUPPORT', says: 'version 2' },
  { line: '{"v":"1","id":"a","op":"list"}', id: 'a', code: 'EPROTONOSUPPORT', says: '"1"' },
  { line: '{"v":1,"id":4}', id: 4, code: 'EPROTO', says: 'op must be a string' },
  { line: '{"v":1,"id":5,"op":"reboot"}', id: 5, code: 'EOPNOTSUPP', says: "unknown op 'reboot'" },
  { line: '{"v":1,"id":6,"op":"get"}', id: 6, code: 'EINVAL', says: 'get: host is required' },
  {
    line: '{"v":1,"id":7,"op":"get","host":"example.org"}',
    id: 7,
    code: 'EINVAL',
    says: 'get: host: expected a dotted IPv4 address',
  },
  {
    line: '{"v":1,"id":8,"op":"set","host":"192.0.2.9","mac":"02:00:00:00:00"}',
    id: 8,
    code: 'EINVAL',
    says: 'set: mac: expected an Ethernet address',
  },
  {
    line: '{"v":1,"id":9,"op":"set","host":"192.0.2.9","mac":"02:00:00:00:00:09","pub":"yes"}',
    id: 9,
    code: 'EINVAL',
    says: 'set: pub: expected true or false',
  },
  {
    line: '{"v":1,"id":10,"op":"list","host":"192.0.2.1"}',
    id: 10,
    code: 'EINVAL',
    says: "list: unknown field 'host'",
  },
  {
    line: '{"v":1,"id":11,"op":"ping","host":"192.0.2.1","count":0}',
    id: 11,
    code: 'EINVAL',
    says: 'ping: count: expected an integer in 1..100',
  },
  {
    line: '{"v":1,"id":"p","op":"ping","host":"192.0.2.1","progress":1}',
    id: 'p',
    code: 'EINVAL',
    says: 'ping: progress: expected true or false',
  },
  {
    line: '{"v":1,"id":"r","op":"resolve","host":"192.0.2.1","progress":true}',
    id: 'r',
    code: 'EINVAL',
    says: "resolve: unknown field 'progress'",
  },
  {
    line: '{"v":1,"id":"d","op":"delete","host":"192.0.2.1","ifName":""}',
    id: 'd',
    code: 'EINVAL',
    says: 'delete: ifName: expected a non-empty string',
  },
  {
    line: '{"v":1,"id":12,"op":"resolve","host":"192.0.2.1","timeoutMs":1.5}',
    id: 12,
    code: 'EINVAL',
    says: 'resolve: timeoutMs: expected an integer',
  },
  {
    line: '{"v":1,"id":13,"op":"sysctl-set","name":"","value":1}',
    id: 13,
    code: 'EINVAL',
    says: 'sysctl-set: name: expected a non-empty string',
  },
];

describe('decodeRequest', () => {
  it('accepts one well-formed request of every operation, unchanged', () => {
    assert.deepEqual(
      [...new Set(VALID.map((v) => v.op))].sort(),
      [...OP_NAMES].sort(),
      'the table covers every operation',
    );
    VALID.forEach(({ op, params }, i) => {
      const line = encodeRequest(i, op, params as never);
      assert.ok(line.endsWith('\n'));
      const decoded = decodeRequest(line.slice(0, -1));
      assert.deepEqual(decoded, { ok: true, request: { v: 1, id: i, op, ...params } }, line);
    });
  });

  it('accepts string ids and echoes them', () => {
    const decoded = decodeRequest('{"v":1,"id":"x-1","op":"stats"}');
    assert.deepEqual(decoded, { ok: true, request: { v: 1, id: 'x-1', op: 'stats' } });
  });

  it('turns every malformed line into the error to send, never a throw', () => {
    for (const { line, id, code, says } of INVALID) {
      const decoded = decodeRequest(line);
      assert.equal(decoded.ok, false, line);
      if (decoded.ok) continue;
      assert.equal(decoded.id, id, line);
      assert.equal(decoded.error.code, code, line);
      assert.ok(decoded.error.message.includes(says), `${line}: ${decoded.error.message}`);
    }
  });

  it('does not take an inherited property for an operation', () => {
    const decoded = decodeRequest('{"v":1,"id":1,"op":"toString"}');
    assert.equal(decoded.ok === false && decoded.error.code, 'EOPNOTSUPP');
  });
});

describe('server lines', () => {
  it('round-trips results, errors and events through decodeServerLine', () => {
    const cases = [
      encodeResult(1, [{ ip: '192.0.2.1' }]),
      encodeResult('a', { monitoring: true }),
      encodeError(null, { code: 'EMSGSIZE', message: 'too long' }),
      encodeError(2, { code: 'ENOENT', message: '192.0.2.1 (192.0.2.1) -- no entry' }),
      encodeEvent(3, { kind: 'lost', time: 5, count: 2 }),
      encodeProgress(4, { kind: 'sent', transmitted: 1 }),
    ];
    const decoded = cases.map((line) => decodeServerLine(line.slice(0, -1)));
    assert.deepEqual(decoded, [
      { ok: true, line: { v: 1, id: 1, ok: true, result: [{ ip: '192.0.2.1' }] } },
      { ok: true, line: { v: 1, id: 'a', ok: true, result: { monitoring: true } } },
      {
        ok: true,
        line: { v: 1, id: null, ok: false, error: { code: 'EMSGSIZE', message: 'too long' } },
      },
      {
        ok: true,
        line: {
          v: 1,
          id: 2,
          ok: false,
          error: { code: 'ENOENT', message: '192.0.2.1 (192.0.2.1) -- no entry' },
        },
      },
      { ok: true, line: { v: 1, id: 3, event: { kind: 'lost', time: 5, count: 2 } } },
      { ok: true, line: { v: 1, id: 4, progress: { kind: 'sent', transmitted: 1 } } },
    ]);
  });

  it('refuses lines that are not the protocol, with a reason', () => {
    const bad: [string, string][] = [
      ['nope', 'not JSON'],
      ['[]', 'not a JSON object'],
      ['{"v":2,"id":1,"ok":true,"result":1}', 'protocol version 2'],
      ['{"v":1,"id":1,"ok":false,"error":"x"}', 'without code and message'],
      ['{"v":1,"id":1}', 'neither a response, an event nor progress'],
      ['{"v":1,"id":1,"progress":7}', 'malformed progress line'],
      ['{"v":1,"id":null,"progress":{"kind":"sent","transmitted":1}}', 'malformed progress line'],
      ['{"v":1,"id":[],"ok":true}', 'without a valid id'],
    ];
    for (const [line, says] of bad) {
      const decoded = decodeServerLine(line);
      assert.equal(decoded.ok, false, line);
      assert.ok(
        !decoded.ok && decoded.message.includes(says),
        `${line}: ${JSON.stringify(decoded)}`,
      );
    }
  });
});

describe('socketPathFrom', () => {
  it('takes --socket, then NETARP_SOCKET, then the default', () => {
    assert.equal(socketPathFrom('/x.sock', { NETARP_SOCKET: '/y.sock' }), '/x.sock');
    assert.equal(socketPathFrom(undefined, { NETARP_SOCKET: '/y.sock' }), '/y.sock');
    assert.equal(socketPathFrom(undefined, { NETARP_SOCKET: '' }), DEFAULT_SOCKET_PATH);
    assert.equal(socketPathFrom(undefined, {}), '/run/netarp/netarp.sock');
  });
});
