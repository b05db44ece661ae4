import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EntryInfo } from '../core/admin.ts';
import {
  type ArpAction,
  type ArpCommandLine,
  arpFileLines,
  arpLines,
  parseArpArgs,
  parseSetWords,
} from './arp.ts';
import { UsageError } from './command.ts';
import type { NameService } from './names.ts';

/** A command line with the defaults and `extra`. */
function line(action: ArpAction, extra: Partial<ArpCommandLine> = {}): ArpCommandLine {
  return { action, numeric: false, json: false, ...extra };
}

const MAC = '02:00:00:00:00:01';
const set = (host: string, mac: string, flags: Partial<Record<string, boolean>> = {}) =>
  ({
    kind: 'set',
    replace: false,
    host,
    mac,
    temp: false,
    pub: false,
    only: false,
    ...flags,
  }) as const;

describe('parseArpArgs: every arp(8) form', () => {
  // [argv, the command line]
  const forms: [string[], ArpCommandLine][] = [
    [['192.0.2.1'], line({ kind: 'get', host: '192.0.2.1' })],
    [['-n', 'gw.example'], line({ kind: 'get', host: 'gw.example' }, { numeric: true })],
    [['gw.example', '-n'], line({ kind: 'get', host: 'gw.example' }, { numeric: true })],
    [
      ['-n', '-i', 'vx0', '192.0.2.1'],
      line({ kind: 'get', host: '192.0.2.1' }, { numeric: true, ifName: 'vx0' }),
    ],
    [['--json', '192.0.2.1'], line({ kind: 'get', host: '192.0.2.1' }, { json: true })],
    [['-a'], line({ kind: 'list' })],
    [['-an'], line({ kind: 'list' }, { numeric: true })],
    [['-na'], line({ kind: 'list' }, { numeric: true })],
    [['-n', '-a', '-i', 'vx1'], line({ kind: 'list' }, { numeric: true, ifName: 'vx1' })],
    [['-ai', 'vx1'], line({ kind: 'list' }, { ifName: 'vx1' })],
    [['-a', '--json'], line({ kind: 'list' }, { json: true })],
    [['-a', '--socket', '/tmp/n.sock'], line({ kind: 'list' }, { socket: '/tmp/n.sock' })],
    [['--socket=/tmp/n.sock', '-a'], line({ kind: 'list' }, { socket: '/tmp/n.sock' })],
    [['-d', '192.0.2.1'], line({ kind: 'delete', host: '192.0.2.1', pub: false })],
    [['-d', '192.0.2.1', 'pub'], line({ kind: 'delete', host: '192.0.2.1', pub: true })],
    [['-d', '-a'], line({ kind: 'flush' })],
    [['-da'], line({ kind: 'flush' })],
    [['-ad'], line({ kind: 'flush' })],
    [['-d', '-i', 'vx0', '-a'], line({ kind: 'flush' }, { ifName: 'vx0' })],
    [
      ['-d', '-i', 'vx0', '192.0.2.1'],
      line({ kind: 'delete', host: '192.0.2.1', pub: false }, { ifName: 'vx0' }),
    ],
    [
      ['-divx1', '192.0.2.1', 'pub'],
      line({ kind: 'delete', host: '192.0.2.1', pub: true }, { ifName: 'vx1' }),
    ],
    [['-s', '192.0.2.9', MAC], line(set('192.0.2.9', MAC))],
    [['-s', '192.0.2.9', MAC, 'temp'], line(set('192.0.2.9', MAC, { temp: true }))],
    [['-s', '192.0.2.9', MAC, 'pub'], line(set('192.0.2.9', MAC, { pub: true }))],
    [
      ['-s', '192.0.2.9', MAC, 'pub', 'only'],
      line(set('192.0.2.9', MAC, { pub: true, only: true })),
    ],
    [
      ['-s', 'h.example', MAC, 'temp', 'pub', 'only'],
      line(set('h.example', MAC, { temp: true, pub: true, only: true })),
    ],
    [
      ['-s', '192.0.2.9', MAC, 'pub', 'temp'],
      line(set('192.0.2.9', MAC, { temp: true, pub: true })),
    ],
    [['-s', '192.0.2.9', '2-0-0-0-0-a'], line(set('192.0.2.9', '2-0-0-0-0-a'))],
    [['-s', '192.0.2.9', 'auto', 'pub'], line(set('192.0.2.9', 'auto', { pub: true }))],
    [['-i', 'vx1', '-s', '198.51.100.9', MAC], line(set('198.51.100.9', MAC), { ifName: 'vx1' })],
    [['-S', '192.0.2.9', MAC], line({ ...set('192.0.2.9', MAC), replace: true })],
    [
      ['-S', '192.0.2.9', MAC, 'temp', 'pub'],
      line({ ...set('192.0.2.9', MAC, { temp: true, pub: true }), replace: true }),
    ],
    [['-f', 'ethers'], line({ kind: 'file', file: 'ethers' })],
    [['-f', 'ethers', '-i', 'vx0'], line({ kind: 'file', file: 'ethers' }, { ifName: 'vx0' })],
    [['-h'], line({ kind: 'help' })],
    [['--help', '-a', '-d'], line({ kind: 'help' })],
  ];
  for (const [argv, expected] of forms) {
    it(`netarp ${argv.join(' ')}`, () => {
      assert.deepEqual(parseArpArgs(argv), expected);
    });
  }
});

describe('parseArpArgs: usage errors', () => {
  // [argv, message]; main prints "netarp: " before it and exits 2.
  const refused: [string[], string][] = [
    [[], 'missing host or -a (see netarp --help)'],
    [['-n'], 'missing host or -a (see netarp --help)'],
    [['a', 'b'], "unexpected argument 'b'"],
    [['-a', 'host'], "unexpected argument 'host'"],
    [['-x'], "unknown option '-x' (see netarp --help)"],
    [['--frobnicate'], "unknown option '--frobnicate' (see netarp --help)"],
    [['-i'], "option '-i' needs a value (see netarp --help)"],
    [['-d'], '-d: missing host, or -a'],
    [['-d', 'h', 'publish'], "-d: expected 'pub' after the host, got 'publish'"],
    [['-d', 'h', 'pub', 'x'], "unexpected argument 'x'"],
    [['-d', '-a', 'h'], "unexpected argument 'h'"],
    [['-d', '-i', 'vx0', 'h', 'pub', 'x'], "unexpected argument 'x'"],
    [['-d', '-s', 'h', MAC], 'only one of -d, -s, -S and -f may be given'],
    [['-s', '-S', 'h', MAC], 'only one of -d, -s, -S and -f may be given'],
    [['-f', 'x', '-d'], 'only one of -d, -s, -S and -f may be given'],
    [['-s'], '-s: missing host and ether_addr'],
    [['-s', 'h'], '-s: missing ether_addr'],
    [['-S', 'h'], '-S: missing ether_addr'],
    [['-s', 'h', 'zz:00:00:00:00:01'], "-s: invalid Ethernet address 'zz:00:00:00:00:01'"],
    [['-s', 'h', '02:00:00:00:01'], "-s: invalid Ethernet address '02:00:00:00:01'"],
    [['-s', 'h', 'auto'], "-s: invalid Ethernet address 'auto'"],
    [['-s', 'h', MAC, 'only'], "-s: 'only' must follow 'pub'"],
    [
      ['-s', 'h', MAC, 'permanent'],
      "-s: unknown word 'permanent' (expected temp, pub or pub only)",
    ],
    [['-s', 'h', MAC, 'pub', 'only', 'only'], "-s: 'only' must follow 'pub'"],
    [['-s', '-a', 'h', MAC], '-a and -s do not go together'],
    [['-S', '-a', 'h', MAC], '-a and -S do not go together'],
    [['-f', '-a', 'x'], '-a and -f do not go together'],
    [['-f'], '-f: missing file'],
    [['-f', 'a', 'b'], "unexpected argument 'b'"],
  ];
  for (const [argv, message] of refused) {
    it(`netarp ${argv.join(' ')}`, () => {
      assert.throws(
        () => parseArpArgs(argv),
        (error: unknown) => {
          assert.ok(error instanceof UsageError, String(error));
          assert.equal(error.message, message);
          return true;
        },
      );
    });
  }
});

describe('parseSetWords', () => {
  it('reads host, address and flags, or says what is wrong', () => {
    assert.deepEqual(parseSetWords(['10.0.0.1', MAC, 'pub', 'only']), {
      host: '10.0.0.1',
      mac: MAC,
      temp: false,
      pub: true,
      only: true,
    });
    assert.equal(parseSetWords(['10.0.0.1']), 'missing ether_addr');
    assert.equal(parseSetWords(['10.0.0.1', 'nope']), "invalid Ethernet address 'nope'");
  });
});

describe('arpFileLines', () => {
  it("skips blank lines and '#' comments, keeping line numbers", () => {
    const text = [
      '# static entries',
      '',
      '192.0.2.9 02:00:00:00:00:09 pub   # the printer',
      '   \t',
      '  gw.example\t02:00:00:00:00:01  ',
      'lonely',
      '#192.0.2.10 02:00:00:00:00:10',
    ].join('\r\n');
    assert.deepEqual(arpFileLines(text), [
      {
        line: 3,
        text: '192.0.2.9 02:00:00:00:00:09 pub',
        words: ['192.0.2.9', '02:00:00:00:00:09', 'pub'],
      },
      {
        line: 5,
        text: 'gw.example\t02:00:00:00:00:01',
        words: ['gw.example', '02:00:00:00:00:01'],
      },
      { line: 6, text: 'lonely', words: ['lonely'] },
    ]);
  });
});

/** An entry as the daemon describes it. */
function entry(ip: string, fields: Partial<EntryInfo> = {}): EntryInfo {
  return {
    ip,
    mac: '02:00:00:00:00:01',
    ifName: 'vx0',
    state: 'resolved',
    expiresIn: 1187,
    permanent: false,
    static: false,
    local: false,
    published: false,
    proxyOnly: false,
    held: 0,
    asked: 0,
    ...fields,
  };
}

describe('arpLines', () => {
  const entries = [
    entry('192.0.2.1'),
    entry('192.0.2.2', { state: 'local', permanent: true, expiresIn: undefined }),
    entry('192.0.2.5', { mac: undefined, state: 'incomplete', expiresIn: 3 }),
    entry('192.0.2.9', {
      state: 'permanent',
      permanent: true,
      expiresIn: undefined,
      published: true,
      proxyOnly: true,
    }),
  ];
  const asked: string[] = [];
  const names: NameService = {
    lookup: () => Promise.reject(new Error('not used')),
    reverse: async (ip) => {
      asked.push(ip);
      return ip === '192.0.2.1' ? 'gw.example' : undefined;
    },
  };

  it('prints the BSD lines, with reverse names', async () => {
    assert.equal(
      await arpLines(entries, names, false),
      [
        'gw.example (192.0.2.1) at 02:00:00:00:00:01 on vx0 expires in 1187 seconds [ethernet]',
        '? (192.0.2.2) at 02:00:00:00:00:01 on vx0 permanent [ethernet]',
        '? (192.0.2.5) at (incomplete) on vx0 expires in 3 seconds [ethernet]',
        '? (192.0.2.9) at 02:00:00:00:00:01 on vx0 permanent published (proxy only) [ethernet]',
        '',
      ].join('\n'),
    );
    assert.deepEqual(asked.sort(), ['192.0.2.1', '192.0.2.2', '192.0.2.5', '192.0.2.9']);
  });

  it('with -n, "?" and no lookups', async () => {
    asked.length = 0;
    const text = await arpLines(entries, names, true);
    assert.match(text, /^\? \(192\.0\.2\.1\) at 02:00:00:00:00:01 on vx0 expires in 1187/);
    assert.deepEqual(asked, []);
  });

  it('prints nothing for an empty table', async () => {
    assert.equal(await arpLines([], names, false), '');
  });
});
