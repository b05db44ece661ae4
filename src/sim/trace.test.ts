import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EntryInfo } from '../core/admin.ts';
import { makeStats } from '../core/stats.ts';
import {
  formatJsonRecord,
  formatTextRecord,
  formatTime,
  type SimRecord,
  TraceWriter,
  textLayout,
} from './trace.ts';

/** An ARP request from 02:..:01 (192.0.2.1) for 192.0.2.2, broadcast. */
const REQUEST = Uint8Array.from(
  Buffer.from(
    'ffffffffffff020000000001080600010800060400010200000000' + '01c0000201000000000000c0000202',
    'hex',
  ),
);

const layout = textLayout({
  hosts: ['alice', 'bob'],
  segments: ['lan'],
  ports: ['alice/eth0', 'bob/eth0', 'probe'],
});

const entry: EntryInfo = {
  ip: '192.0.2.2',
  mac: undefined,
  ifName: 'eth0',
  state: 'incomplete',
  expiresIn: undefined,
  permanent: false,
  static: false,
  local: false,
  published: false,
  proxyOnly: false,
  held: 1,
  asked: 1,
};

// Every kind of record, with its text line(s) and its JSON line.
const cases: [SimRecord, string[], string][] = [
  [
    { kind: 'frame', time: 1000, segment: 'lan', from: 'alice/eth0', frame: REQUEST },
    [
      '   1.000  lan    alice/eth0  02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ARP, Request who-has 192.0.2.2 tell 192.0.2.1, length 28',
    ],
    `{"t":1,"type":"frame","segment":"lan","from":"alice/eth0","hex":"${Buffer.from(REQUEST).toString('hex')}","summary":"02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ARP, Request who-has 192.0.2.2 tell 192.0.2.1, length 28"}`,
  ],
  [
    { kind: 'lost', time: 1002, segment: 'lan', to: 'bob/eth0' },
    ['   1.002  lan                lost before reaching bob/eth0'],
    '{"t":1.002,"type":"lost","segment":"lan","to":"bob/eth0"}',
  ],
  [
    {
      kind: 'event',
      time: 1000,
      host: 'alice',
      event: {
        kind: 'route',
        type: 'add',
        ifName: 'eth0',
        ip: '192.0.2.2',
        mac: undefined,
        reason: 'resolve',
      },
    },
    ['   1.000  alice  route add eth0 192.0.2.2 (incomplete) resolve'],
    '{"t":1,"type":"event","host":"alice","event":{"kind":"route","type":"add","ifName":"eth0","ip":"192.0.2.2","mac":null,"reason":"resolve"}}',
  ],
  [
    {
      kind: 'event',
      time: 12_345,
      host: 'bob',
      event: {
        kind: 'log',
        level: 'err',
        message: 'arp: 02:00:00:00:00:66 is using my IP address 192.0.2.2!',
      },
    },
    ['  12.345  bob    log err: arp: 02:00:00:00:00:66 is using my IP address 192.0.2.2!'],
    '{"t":12.345,"type":"event","host":"bob","event":{"kind":"log","level":"err","message":"arp: 02:00:00:00:00:66 is using my IP address 192.0.2.2!"}}',
  ],
  [
    {
      kind: 'send',
      time: 1000,
      host: 'alice',
      destination: '192.0.2.2',
      result: { kind: 'held', ifName: 'eth0', nextHop: '192.0.2.2' },
    },
    ['   1.000  alice  send 192.0.2.2 -> held'],
    '{"t":1,"type":"send","host":"alice","destination":"192.0.2.2","result":{"kind":"held","ifName":"eth0","nextHop":"192.0.2.2"}}',
  ],
  [
    {
      kind: 'send',
      time: 1000,
      host: 'alice',
      destination: '203.0.113.1',
      result: { kind: 'held', ifName: 'eth0', nextHop: '192.0.2.254' },
    },
    ['   1.000  alice  send 203.0.113.1 -> held for 192.0.2.254'],
    '{"t":1,"type":"send","host":"alice","destination":"203.0.113.1","result":{"kind":"held","ifName":"eth0","nextHop":"192.0.2.254"}}',
  ],
  [
    {
      kind: 'send',
      time: 2000,
      host: 'alice',
      destination: '192.0.2.2',
      result: { kind: 'resolved', ifName: 'eth0', mac: '02:00:00:00:00:02' },
    },
    ['   2.000  alice  send 192.0.2.2 -> resolved 02:00:00:00:00:02'],
    '{"t":2,"type":"send","host":"alice","destination":"192.0.2.2","result":{"kind":"resolved","ifName":"eth0","mac":"02:00:00:00:00:02"}}',
  ],
  [
    {
      kind: 'send',
      time: 2000,
      host: 'alice',
      destination: '192.0.2.1',
      result: { kind: 'local', ifName: 'eth0' },
    },
    ['   2.000  alice  send 192.0.2.1 -> local'],
    '{"t":2,"type":"send","host":"alice","destination":"192.0.2.1","result":{"kind":"local","ifName":"eth0"}}',
  ],
  [
    {
      kind: 'send',
      time: 7000,
      host: 'alice',
      destination: '192.0.2.9',
      result: { kind: 'failed', reason: 'host is down' },
    },
    ['   7.000  alice  send 192.0.2.9 -> failed: host is down'],
    '{"t":7,"type":"send","host":"alice","destination":"192.0.2.9","result":{"kind":"failed","reason":"host is down"}}',
  ],
  [
    {
      kind: 'receive',
      time: 1000,
      host: 'bob',
      ifName: 'eth0',
      what: 'ICMP echo request from 192.0.2.1 seq 1',
    },
    ['   1.000  bob    recv eth0 ICMP echo request from 192.0.2.1 seq 1'],
    '{"t":1,"type":"receive","host":"bob","ifName":"eth0","what":"ICMP echo request from 192.0.2.1 seq 1"}',
  ],
  [
    {
      kind: 'admin',
      time: 3000,
      host: 'alice',
      command: 'arp -s 192.0.2.9 02:00:00:00:00:09',
      error: '192.0.2.9: File exists',
    },
    ['   3.000  alice  arp -s 192.0.2.9 02:00:00:00:00:09 -> error: 192.0.2.9: File exists'],
    '{"t":3,"type":"admin","host":"alice","command":"arp -s 192.0.2.9 02:00:00:00:00:09","error":"192.0.2.9: File exists"}',
  ],
  [
    { kind: 'admin', time: 3000, host: 'bob', command: 'link eth0 down', error: undefined },
    ['   3.000  bob    link eth0 down'],
    '{"t":3,"type":"admin","host":"bob","command":"link eth0 down","error":null}',
  ],
  [
    { kind: 'note', time: 4000, text: 'a heading' },
    ['# a heading'],
    '{"t":4,"type":"note","text":"a heading"}',
  ],
  [
    {
      kind: 'table',
      time: 4500,
      host: 'alice',
      entries: [
        entry,
        {
          ...entry,
          ip: '192.0.2.3',
          mac: '02:00:00:00:00:03',
          state: 'resolved',
          expiresIn: 60,
          held: 0,
          asked: 0,
        },
      ],
      final: false,
    },
    [
      '== alice: arp -a at 4.500',
      '? (192.0.2.2) at (incomplete) on eth0 [ethernet]',
      '? (192.0.2.3) at 02:00:00:00:00:03 on eth0 expires in 60 seconds [ethernet]',
    ],
    '{"t":4.5,"type":"table","host":"alice","final":false,"entries":[{"ip":"192.0.2.2","mac":null,"ifName":"eth0","state":"incomplete","expiresIn":null,"permanent":false,"static":false,"local":false,"published":false,"proxyOnly":false,"held":1,"asked":1},{"ip":"192.0.2.3","mac":"02:00:00:00:00:03","ifName":"eth0","state":"resolved","expiresIn":60,"permanent":false,"static":false,"local":false,"published":false,"proxyOnly":false,"held":0,"asked":0}]}',
  ],
  [
    { kind: 'table', time: 5000, host: 'bob', entries: [], final: true },
    ['== bob: arp -a at 5.000', '(no entries)'],
    '{"t":5,"type":"table","host":"bob","final":true,"entries":[]}',
  ],
];

describe('trace formats', () => {
  for (const [record, text, json] of cases) {
    it(`${record.kind}: ${text[0]!.trim().slice(0, 60)}`, () => {
      assert.deepEqual(formatTextRecord(record, layout), text);
      assert.equal(formatJsonRecord(record), json);
      assert.doesNotThrow(() => JSON.parse(json));
    });
  }

  it('prints only the non-zero counters, in their declared order', () => {
    const stats = { ...makeStats(), dropped: 2, txrequests: 1 };
    const record: SimRecord = { kind: 'stats', time: 0, host: 'alice', stats };
    assert.deepEqual(formatTextRecord(record, layout), [
      '   0.000  alice  stats txrequests=1 dropped=2',
    ]);
    assert.deepEqual(formatTextRecord({ ...record, stats: makeStats() }, layout), [
      '   0.000  alice  stats (all zero)',
    ]);
    const parsed = JSON.parse(formatJsonRecord(record)) as { stats: Record<string, number> };
    assert.deepEqual(Object.keys(parsed.stats), Object.keys(makeStats()));
    assert.equal(parsed.stats.dropped, 2);
  });

  it('right-aligns the time in eight columns, to the millisecond', () => {
    assert.equal(formatTime(0), '   0.000');
    assert.equal(formatTime(1), '   0.001');
    assert.equal(formatTime(86_400_123), '86400.123');
  });

  it('sizes the name column for the longest host or segment', () => {
    assert.deepEqual(textLayout({ hosts: ['a'], segments: ['backbone'], ports: ['a/eth0'] }), {
      nameWidth: 8,
      fromWidth: 6,
    });
    assert.deepEqual(textLayout({ hosts: [], segments: [], ports: [] }), {
      nameWidth: 0,
      fromWidth: 0,
    });
  });
});

describe('TraceWriter', () => {
  const note: SimRecord = { kind: 'note', time: 0, text: 'start' };
  const lost: SimRecord = { kind: 'lost', time: 0, segment: 'lan', to: 'bob/eth0' };
  const table: SimRecord = { kind: 'table', time: 0, host: 'bob', entries: [], final: true };

  it('sets headings and tables apart with blank lines, and ends without one', () => {
    const writer = new TraceWriter('text', layout);
    for (const record of [note, lost, note, table, table]) writer.write(record);
    assert.deepEqual(writer.result(), [
      '# start',
      '   0.000  lan                lost before reaching bob/eth0',
      '',
      '# start',
      '',
      '== bob: arp -a at 0.000',
      '(no entries)',
      '',
      '== bob: arp -a at 0.000',
      '(no entries)',
    ]);
  });

  it('writes one JSON line per record, blank lines never', () => {
    const writer = new TraceWriter('json', layout);
    for (const record of [note, table, lost]) writer.write(record);
    assert.deepEqual(writer.result(), [note, table, lost].map(formatJsonRecord));
  });
});
