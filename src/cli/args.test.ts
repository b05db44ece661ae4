import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasFlag, integerOption, type OptionSpec, optionValue, parseOptions } from './args.ts';
import { UsageError } from './command.ts';

const SPECS = {
  all: { short: 'a' },
  numeric: { short: 'n' },
  ifName: { short: 'i', value: true },
  socket: { long: 'socket', value: true },
  json: { long: 'json' },
  help: { short: 'h', long: 'help' },
} as const satisfies Record<string, OptionSpec>;

describe('parseOptions', () => {
  // [argv, options found, positionals]
  const accepted: [string[], Record<string, string | true>, string[]][] = [
    [[], {}, []],
    [['-a'], { all: true }, []],
    [['-an'], { all: true, numeric: true }, []],
    [['-na', 'host'], { all: true, numeric: true }, ['host']],
    [['-i', 'vx0', '-a'], { ifName: 'vx0', all: true }, []],
    [['-ivx0'], { ifName: 'vx0' }, []],
    [['-ai', 'vx0'], { all: true, ifName: 'vx0' }, []],
    [['-i', 'vx0', '-i', 'vx1'], { ifName: 'vx1' }, []],
    [['host', '-n'], { numeric: true }, ['host']],
    [['--socket', '/s', 'x'], { socket: '/s' }, ['x']],
    [['--socket=/s'], { socket: '/s' }, []],
    [['--json', '-h', '--help'], { json: true, help: true }, []],
    [['--', '-a', '--json'], {}, ['-a', '--json']],
    [['-'], {}, ['-']],
  ];
  for (const [argv, options, positionals] of accepted) {
    it(`accepts ${JSON.stringify(argv)}`, () => {
      assert.deepEqual(parseOptions(argv, SPECS), { options, positionals });
    });
  }

  // [argv, message]
  const refused: [string[], string][] = [
    [['-x'], "p: unknown option '-x'"],
    [['-ax'], "p: unknown option '-x'"],
    [['--frob'], "p: unknown option '--frob'"],
    [['--frob=1'], "p: unknown option '--frob'"],
    [['-i'], "p: option '-i' needs a value"],
    [['--socket'], "p: option '--socket' needs a value"],
    [['--socket='], "p: option '--socket' needs a value"],
    [['--json=yes'], "p: option '--json' does not take an argument"],
  ];
  for (const [argv, message] of refused) {
    it(`refuses ${JSON.stringify(argv)}`, () => {
      assert.throws(
        () => parseOptions(argv, SPECS, 'p: '),
        (error: unknown) => error instanceof UsageError && error.message === message,
      );
    });
  }

  it('reads values and flags', () => {
    const parsed = parseOptions(['-a', '-i', 'vx0'], SPECS);
    assert.equal(hasFlag(parsed, 'all'), true);
    assert.equal(hasFlag(parsed, 'numeric'), false);
    assert.equal(optionValue(parsed, 'ifName'), 'vx0');
    assert.equal(optionValue(parsed, 'all'), undefined, 'a flag has no value');
    assert.equal(optionValue(parsed, 'socket'), undefined);
  });
});

describe('integerOption', () => {
  const range = { min: 1, max: 100 };
  it('takes decimal integers in range', () => {
    assert.equal(integerOption('1', '-c', range), 1);
    assert.equal(integerOption('100', '-c', range), 100);
    assert.equal(integerOption('-5', '-x', { min: -10, max: 0 }), -5);
  });
  for (const text of ['0', '101', '1.5', '1e2', '0x10', '', ' 5', 'five']) {
    it(`refuses '${text}'`, () => {
      assert.throws(
        () => integerOption(text, '-c', range, 'ping: '),
        (error: unknown) =>
          error instanceof UsageError &&
          error.message === `ping: -c: expected an integer in 1..100, got '${text}'`,
      );
    });
  }
});
