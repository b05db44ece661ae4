import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addressOf,
  HostLookupError,
  type NameService,
  reverseNames,
  systemNames,
} from './names.ts';

/** A name service over a table; reverse lookups of addresses in `failing` reject. */
function table(
  reverse: Record<string, string>,
  failing: readonly string[] = [],
): NameService & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    lookup: async (name) => {
      if (name === 'gw.example') return '192.0.2.1';
      throw new HostLookupError(name, 'Unknown host');
    },
    reverse: async (ip) => {
      asked.push(ip);
      if (failing.includes(ip)) throw new Error('timed out');
      return reverse[ip];
    },
  };
}

describe('addressOf', () => {
  it('takes a dotted address as it is, and looks a name up', async () => {
    const names = table({});
    assert.equal(await addressOf(names, '198.51.100.7'), '198.51.100.7');
    assert.equal(await addressOf(names, 'gw.example'), '192.0.2.1');
    await assert.rejects(addressOf(names, 'nope.example'), {
      name: 'HostLookupError',
      message: 'nope.example: Unknown host',
    });
  });
});

describe('reverseNames', () => {
  it('maps each address with a name, once per address', async () => {
    const names = table({ '192.0.2.1': 'gw.example', '192.0.2.3': 'db.example' });
    const found = await reverseNames(names, ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.1']);
    assert.deepEqual([...found].sort(), [
      ['192.0.2.1', 'gw.example'],
      ['192.0.2.3', 'db.example'],
    ]);
    assert.deepEqual(names.asked.sort(), ['192.0.2.1', '192.0.2.2', '192.0.2.3']);
  });

  it('stops asking after a lookup fails, as arp(8) does after TRY_AGAIN', async () => {
    const ips = Array.from({ length: 100 }, (_, i) => `10.0.${i >> 8}.${i & 0xff}`);
    const names = table({ '10.0.0.0': 'first.example' }, ips.slice(1));
    const found = await reverseNames(names, ips);
    assert.ok(names.asked.length < 20, `asked ${names.asked.length} times`);
    assert.deepEqual([...found], [['10.0.0.0', 'first.example']]);
  });
});

describe('systemNames', () => {
  it('looks up localhost through the system resolver', async () => {
    assert.equal(await systemNames.lookup('localhost'), '127.0.0.1');
  });

  it('says a reserved name does not exist (RFC 6761 .invalid)', async () => {
    await assert.rejects(systemNames.lookup('no-such-host.invalid'), (error: unknown) => {
      assert.ok(error instanceof HostLookupError);
      // Without a reachable DNS server the lookup itself fails instead.
      assert.match(
        error.message,
        /^no-such-host\.invalid: (Unknown host|Host name lookup failure)$/,
      );
      return true;
    });
  });
});
