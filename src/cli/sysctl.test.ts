import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from './command.ts';
import {
  formatSysctl,
  formatSysctlChange,
  isSysctlNode,
  parseSysctlArgs,
  type SysctlArgs,
} from './sysctl.ts';

const run = (extra: Partial<Extract<SysctlArgs, { kind: 'run' }>> = {}): SysctlArgs => ({
  kind: 'run',
  operands: [],
  describe: false,
  valuesOnly: false,
  json: false,
  ...extra,
});

describe('parseSysctlArgs', () => {
  const accepted: [string[], SysctlArgs][] = [
    [[], run()],
    [['-a'], run()],
    [['-d'], run({ describe: true })],
    [['-an'], run({ valuesOnly: true })],
    [['max_age'], run({ operands: [{ kind: 'get', name: 'max_age' }] })],
    [
      ['net.link.ether.inet.max_age=600'],
      run({ operands: [{ kind: 'set', name: 'net.link.ether.inet.max_age', value: 600 }] }),
    ],
    [
      ['-n', 'maxtries', 'max_age=0', 'locktime=-1'],
      run({
        valuesOnly: true,
        operands: [
          { kind: 'get', name: 'maxtries' },
          { kind: 'set', name: 'max_age', value: 0 },
          { kind: 'set', name: 'locktime', value: -1 },
        ],
      }),
    ],
    [
      ['--json', '-d', 'max_age'],
      run({ json: true, describe: true, operands: [{ kind: 'get', name: 'max_age' }] }),
    ],
    [['--socket', '/s'], run({ socket: '/s' })],
    [['-h'], { kind: 'help' }],
  ];
  for (const [argv, expected] of accepted) {
    it(`sysctl ${argv.join(' ')}`, () => assert.deepEqual(parseSysctlArgs(argv), expected));
  }
  const refused: [string[], string][] = [
    [['max_age=abc'], "sysctl: invalid integer 'abc' for max_age"],
    [['max_age='], "sysctl: invalid integer '' for max_age"],
    [['max_age=1.5'], "sysctl: invalid integer '1.5' for max_age"],
    [['max_age=2147483648'], "sysctl: invalid integer '2147483648' for max_age"],
    [['=5'], "sysctl: missing name in '=5'"],
    [['-a', 'max_age'], 'sysctl: -a and names do not go together'],
    [['-d', 'max_age=5'], 'sysctl: -d and name=value do not go together'],
    [['-w'], "sysctl: unknown option '-w'"],
  ];
  for (const [argv, message] of refused) {
    it(`refuses sysctl ${argv.join(' ')}`, () => {
      assert.throws(
        () => parseSysctlArgs(argv),
        (error: unknown) => error instanceof UsageError && error.message === message,
      );
    });
  }
});

describe('sysctl output', () => {
  const knob = {
    name: 'net.link.ether.inet.max_age',
    value: 1200,
    description: 'seconds a resolved entry stays valid',
  };
  it('prints sysctl(8) lines', () => {
    assert.equal(formatSysctl(knob, false, false), 'net.link.ether.inet.max_age: 1200');
    assert.equal(formatSysctl(knob, false, true), '1200');
    assert.equal(
      formatSysctl(knob, true, false),
      'net.link.ether.inet.max_age: seconds a resolved entry stays valid',
    );
    assert.equal(formatSysctl(knob, true, true), 'seconds a resolved entry stays valid');
    const change = { name: knob.name, old: 1200, value: 600 };
    assert.equal(formatSysctlChange(change, false), 'net.link.ether.inet.max_age: 1200 -> 600');
    assert.equal(formatSysctlChange(change, true), '1200 -> 600');
  });

  it('knows the nodes above the knobs', () => {
    for (const node of ['net', 'net.link', 'net.link.ether', 'net.link.ether.inet', 'net.link.']) {
      assert.equal(isSysctlNode(node), true, node);
    }
    for (const name of ['', 'ne', 'max_age', 'net.link.ether.inet.max_age', 'net.inet', '.']) {
      assert.equal(isSysctlNode(name), false, name);
    }
  });
});
