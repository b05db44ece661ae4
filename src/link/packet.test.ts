/**
 * PacketLink's options and its refusals, without sending anything. Frames over a real
 * interface are tested against the kernel in test/interop/kernel-packet.test.ts; the reading
 * and writing machinery in native/native-link.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadNative, nativeUnavailableReason } from './native/addon.ts';
import { PacketLink, type PacketLinkOptions } from './packet.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What PacketLink.open throws, as [code, message]. */
async function refusal(options: PacketLinkOptions): Promise<[string, string]> {
  try {
    const link = await PacketLink.open(options);
    await link.close();
  } catch (error) {
    const { code, message } = error as { code: string; message: string };
    return [code, message];
  }
  return assert.fail(`opened ${options.device}`);
}

/** An Ethernet interface of this namespace (ARPHRD_ETHER in sysfs), if there is one. */
function someEthernetInterface(): string | undefined {
  try {
    return readdirSync('/sys/class/net').find((name) => {
      try {
        return readFileSync(`/sys/class/net/${name}/type`, 'utf8').trim() === '1';
      } catch {
        return false;
      }
    });
  } catch {
    return undefined;
  }
}

const skipNative = nativeUnavailableReason();

describe('PacketLink.open', () => {
  it('refuses bad options, naming the option, before touching anything', async () => {
    const cases: [PacketLinkOptions, RegExp][] = [
      [{ device: '' }, /^packet: device must be an interface name/],
      [{ device: 'eth/0' }, /^packet: device must be an interface name/],
      [
        { device: 'eth0', protocols: 'ip' as 'all' },
        /^packet: protocols must be "arp\+ipv4" or "all", got "ip"$/,
      ],
      [{ device: 'eth0', unicastMac: 'zz:00:00:00:00:01' }, /^packet: unicastMac must be a MAC/],
      [{ device: 'eth0', unicastMac: -1 }, /^packet: unicastMac must be a MAC/],
      [{ device: 'eth0', unicastMac: 2 ** 48 }, /^packet: unicastMac must be a MAC/],
      [{ device: 'eth0', unicastMac: 1.5 }, /^packet: unicastMac must be a MAC/],
    ];
    for (const [options, message] of cases) {
      const [code, text] = await refusal(options);
      assert.equal(code, 'EINVAL', JSON.stringify(options));
      assert.match(text, message);
    }
  });

  it('refuses a batch out of range', { skip: skipNative }, async () => {
    const load = loadNative();
    const max = load.kind === 'loaded' ? load.addon.maxBatch : 0;
    assert.deepEqual(await refusal({ device: 'lo', batch: max + 1 }), [
      'EINVAL',
      `packet: batch must be an integer 1..${max}, got ${max + 1}`,
    ]);
  });

  it('refuses an interface that does not exist here', { skip: skipNative }, async () => {
    assert.deepEqual(await refusal({ device: 'netarp-none0' }), [
      'EIO',
      'packet netarp-none0: no such interface in this network namespace',
    ]);
  });

  it('refuses an interface whose frames are not Ethernet (loopback)', {
    skip: skipNative,
  }, async () => {
    // Decided from the interface's type alone: no socket is opened on it.
    assert.deepEqual(await refusal({ device: 'lo' }), [
      'EINVAL',
      'packet lo: not an Ethernet interface (ARPHRD type 772)',
    ]);
  });

  it('without CAP_NET_RAW: EIO naming the device, the call and what is missing', {
    skip: skipNative,
  }, (t) => {
    const device = someEthernetInterface();
    if (process.getuid?.() !== 0) {
      // Refused at socket(), before anything is bound or sent.
      if (device === undefined) {
        t.skip('no Ethernet interface here to try');
        return;
      }
      return refusal({ device }).then(([code, message]) => {
        assert.equal(code, 'EIO');
        assert.equal(
          message,
          `packet ${device}: socket(AF_PACKET): operation not permitted (AF_PACKET needs CAP_NET_RAW)`,
        );
      });
    }
    // As root: a namespace of its own with a veth pair in it, where a child loads the code,
    // drops to nobody, then tries.
    const ns = `netarp-pkt-unit-${process.pid}`;
    const ip = (args: string[]) => spawnSync('ip', args, { encoding: 'utf8', timeout: 5000 });
    if (ip(['netns', 'add', ns]).status !== 0) {
      t.skip('cannot make a network namespace here');
      return;
    }
    try {
      assert.equal(
        ip(['-n', ns, 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1']).status,
        0,
      );
      const script = `
        const { PacketLink } = await import(${JSON.stringify(new URL('./packet.ts', import.meta.url).href)});
        const { loadNative } = await import(${JSON.stringify(new URL('./native/addon.ts', import.meta.url).href)});
        loadNative();
        process.setgid(65534); process.setuid(65534);
        try { await PacketLink.open({ device: 'd0' }); console.log('RESULT opened'); }
        catch (e) { console.log('RESULT ' + JSON.stringify([e.code, e.message])); }`;
      const child = spawnSync(
        'ip',
        [
          'netns',
          'exec',
          ns,
          process.execPath,
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          script,
        ],
        { cwd: REPO_ROOT, encoding: 'utf8', timeout: 20_000 },
      );
      const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (line === undefined) {
        t.skip(`the child did not run: ${child.stderr.trim()}`);
        return;
      }
      assert.deepEqual(JSON.parse(line.slice('RESULT '.length)), [
        'EIO',
        'packet d0: socket(AF_PACKET): operation not permitted (AF_PACKET needs CAP_NET_RAW)',
      ]);
    } finally {
      ip(['netns', 'del', ns]);
    }
  });
});
