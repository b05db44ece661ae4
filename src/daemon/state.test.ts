/**
 * The run-time state: what each change records, the precedence rules at start and at reload
 * as a table of cases, and the state file's JSON form (round trip, golden text, refusals).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIpv4, parseMac } from '../wire/addr.ts';
import { type DaemonConfig, parseConfig, type StaticConfig } from './config.ts';
import { RunState, StateError } from './state.ts';

const FILE = '/etc/netarp/netarp.toml';

/** A config with vx0 on 192.0.2.0/24, the knobs and static entries given. */
function config(extra = '', sysctl = ''): DaemonConfig {
  return parseConfig(
    `[sysctl]\n${sysctl}\n[[interface]]\nname = "vx0"\nmac = "02:00:00:00:00:02"\naddresses = ["192.0.2.2/24"]\n` +
      `link = { type = "vxlan", local = "198.18.0.1:4789", remote = ["198.18.0.2"], vni = 42 }\n${extra}`,
    FILE,
  );
}

const staticToml = (host: string, mac: string, more = '') =>
  `[[static]]\nhost = "${host}"\nmac = "${mac}"\n${more}\n`;

function entry(host: string, mac: string, more: Partial<StaticConfig> = {}): StaticConfig {
  return {
    ip: parseIpv4(host),
    mac: parseMac(mac),
    ifName: undefined,
    temp: false,
    pub: false,
    only: false,
    ...more,
  };
}

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const C = '02:00:00:00:00:0c';

/** The restore plan in words. */
function planned(state: RunState, over: DaemonConfig): string[] {
  const plan = state.planRestore(over);
  return [
    ...plan.statics.map(({ key, change }) =>
      change.entry === null ? `delete ${key}` : `set ${key}`,
    ),
    ...plan.sysctl.map(({ key, value }) => `sysctl ${key}=${value}`),
    ...plan.dropped.map((line) => `dropped ${line.split(':')[0]}`),
  ];
}

describe('RunState precedence', () => {
  // Transition table: the change recorded against one file, and the file at the next start.
  const cases: {
    name: string;
    made: string;
    change: (state: RunState, made: DaemonConfig) => void;
    start: string;
    expect: string[];
  }[] = [
    {
      name: 'an entry set at run time, file unchanged: the run-time entry',
      made: '',
      change: (s) => s.entrySet(entry('192.0.2.9', A), null),
      start: '',
      expect: ['set 192.0.2.9'],
    },
    {
      name: "an entry set over the file's, file unchanged: the run-time entry",
      made: staticToml('192.0.2.9', A),
      change: (s, c) => s.entrySet(entry('192.0.2.9', B), c.statics[0]!),
      start: staticToml('192.0.2.9', A),
      expect: ['set 192.0.2.9'],
    },
    {
      name: "an entry set over the file's, then the file edited: the file's",
      made: staticToml('192.0.2.9', A),
      change: (s, c) => s.entrySet(entry('192.0.2.9', B), c.statics[0]!),
      start: staticToml('192.0.2.9', C),
      expect: ['dropped 192.0.2.9'],
    },
    {
      name: 'an entry set at run time, then the file names it: the file is newer',
      made: '',
      change: (s) => s.entrySet(entry('192.0.2.9', B), null),
      start: staticToml('192.0.2.9', B),
      expect: ['dropped 192.0.2.9'],
    },
    {
      name: "the file's entry deleted at run time, file unchanged: stays deleted",
      made: staticToml('192.0.2.9', A, 'pub = true'),
      change: (s, c) => s.entryRemoved('192.0.2.9', c.statics[0]!),
      start: staticToml('192.0.2.9', A, 'pub = true'),
      expect: ['delete 192.0.2.9'],
    },
    {
      name: "the file's entry deleted, then the file no longer names it: nothing to do",
      made: staticToml('192.0.2.9', A),
      change: (s, c) => s.entryRemoved('192.0.2.9', c.statics[0]!),
      start: '',
      expect: ['dropped 192.0.2.9'],
    },
    {
      name: 'an entry deleted that the file never named: nothing recorded',
      made: '',
      change: (s) => {
        s.entrySet(entry('192.0.2.9', A), null);
        s.entryRemoved('192.0.2.9', null);
      },
      start: '',
      expect: [],
    },
    {
      name: 'a proxy-only entry is a key of its own',
      made: staticToml('192.0.2.9', A),
      change: (s) => s.entrySet(entry('192.0.2.9', B, { pub: true, only: true }), null),
      start: staticToml('192.0.2.9', A),
      expect: ['set 192.0.2.9 pub only'],
    },
    {
      name: 'a knob set at run time, file unchanged: the run-time value',
      made: '',
      change: (s) => s.sysctlSet('max_age', 600, null),
      start: '',
      expect: ['sysctl max_age=600'],
    },
    {
      name: "a knob set over the file's, then the file edited: the file's",
      made: '',
      change: (s) => s.sysctlSet('max_age', 600, 1200),
      start: '',
      expect: ['dropped net.link.ether.inet.max_age'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const made = config(c.made);
      const state = new RunState();
      c.change(state, made);
      // Through the file and back, as a restart does.
      const read = RunState.parse(state.serialize());
      assert.deepEqual(planned(read, config(c.start)), c.expect);
      // A dropped change is forgotten, so the next save no longer has it.
      assert.equal(read.size, c.expect.filter((e) => !e.startsWith('dropped')).length);
    });
  }

  it('a reload: the file wins for what it names; the rest stays, rebased', () => {
    const before = config(
      staticToml('192.0.2.9', A) + staticToml('192.0.2.10', A),
      '"net.link.ether.inet.max_age" = 1200',
    );
    const state = new RunState();
    state.entrySet(entry('192.0.2.9', B), before.statics[0]!);
    state.entryRemoved('192.0.2.10', before.statics[1]!);
    state.entrySet(entry('192.0.2.11', B), null);
    state.entrySet(entry('192.0.2.12', B), null);
    state.sysctlSet('max_age', 600, 1200);
    state.sysctlSet('maxtries', 9, null);
    // The new file still names .9, no longer .10, and has max_age; .12 left the table.
    const next = config(staticToml('192.0.2.9', A), '"net.link.ether.inet.max_age" = 1200');
    state.reloaded(next, new Set(['max_age']), (e) => e.ip !== parseIpv4('192.0.2.12'));
    assert.deepEqual(
      [...state.staticChanges()].map(([key, c]) => [key, c.entry !== null, c.base]),
      [['192.0.2.11', true, null]],
    );
    assert.deepEqual([...state.sysctlChanges()], [['maxtries', { value: 9, base: null }]]);
    // And at the next start over the same file, both come back.
    assert.deepEqual(planned(RunState.parse(state.serialize()), next), [
      'set 192.0.2.11',
      'sysctl maxtries=9',
    ]);
  });
});

describe('the state file', () => {
  it('is JSON with the config file words, sorted by address', () => {
    const made = config(staticToml('192.0.2.10', A, 'pub = true'));
    const state = new RunState();
    state.entrySet(entry('192.0.2.100', B, { ifName: 'vx0', pub: true, only: true }), null);
    state.entryRemoved('192.0.2.10', made.statics[0]!);
    state.entrySet(entry('192.0.2.9', C), null);
    state.sysctlSet('maxtries', 9, null);
    assert.equal(
      state.serialize(),
      `${JSON.stringify(
        {
          format: 'netarp-state',
          version: 1,
          statics: [
            { set: { host: '192.0.2.9', mac: C }, config: null },
            { set: null, config: { host: '192.0.2.10', mac: A, pub: true } },
            {
              set: { host: '192.0.2.100', mac: B, interface: 'vx0', pub: true, only: true },
              config: null,
            },
          ],
          sysctl: [{ name: 'net.link.ether.inet.maxtries', value: 9, config: null }],
        },
        null,
        2,
      )}\n`,
    );
    assert.equal(RunState.parse(state.serialize()).serialize(), state.serialize(), 'round trip');
  });

  it('refuses what is not a state file, saying what is wrong', () => {
    const good = { format: 'netarp-state', version: 1, statics: [], sysctl: [] };
    const bad: [unknown, string][] = [
      ['{"format": "netarp-state", ', 'not JSON'],
      [[], 'the file: expected an object'],
      [{ ...good, format: 'other' }, 'not a netarp state file (format is "other")'],
      [{ ...good, version: 2 }, 'version 2 is not one this daemon reads (1)'],
      [{ ...good, statics: {} }, 'statics: expected an array'],
      [{ ...good, statics: [{ set: null, config: null }] }, 'statics[0]: a deletion needs'],
      [
        { ...good, statics: [{ set: { host: '192.0.2.300', mac: A }, config: null }] },
        'statics[0].set.host: expected a dotted IPv4 address',
      ],
      [
        { ...good, statics: [{ set: { host: '192.0.2.3', mac: A, temp: true }, config: null }] },
        'statics[0].set: temporary entries are not kept',
      ],
      [
        {
          ...good,
          statics: [
            { set: { host: '192.0.2.3', mac: A }, config: null },
            { set: { host: '192.0.2.3', mac: B }, config: null },
          ],
        },
        'statics[1]: 192.0.2.3 appears twice',
      ],
      [
        { ...good, sysctl: [{ name: 'net.link.ether.inet.nope', value: 1, config: null }] },
        'sysctl[0].name: "net.link.ether.inet.nope" is not a knob',
      ],
      [
        { ...good, sysctl: [{ name: 'net.link.ether.inet.maxtries', value: -5, config: null }] },
        'sysctl[0].value:',
      ],
      [
        { ...good, sysctl: [{ name: 'net.link.ether.inet.maxtries', value: 5 }] },
        'config: missing',
      ],
    ];
    for (const [document, says] of bad) {
      const text = typeof document === 'string' ? document : JSON.stringify(document);
      assert.throws(
        () => RunState.parse(text),
        (error: unknown) => error instanceof StateError && error.message.includes(says),
        `${says}: ${text}`,
      );
    }
  });
});
