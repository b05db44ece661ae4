/**
 * TapLink's options and its refusals, without creating any device. Frames over a real TAP
 * device are tested against the kernel in test/interop/kernel-tap.test.ts; the reading and
 * writing machinery in native/native-link.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadNative, nativeUnavailableReason } from './native/addon.ts';
import { TapLink } from './tap.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What TapLink.open throws, as [code, message]. */
async function refusal(options: Parameters<typeof TapLink.open>[0]): Promise<[string, string]> {
  try {
    const link = await TapLink.open(options);
    await link.close();
  } catch (error) {
    const { code, message } = error as { code: string; message: string };
    return [code, message];
  }
  return assert.fail(`opened ${options.device}`);
}

/**
 * Opens a TAP device as an unprivileged user (nobody): directly when this process is one, else
 * in a child that drops root's privileges after loading the code and the addon (so that no
 * device is made, wherever the repository lives).
 * Returns [code, message], or the reason it could not be tried.
 */
function unprivilegedRefusal(device: string): [string, string] | string {
  const script = `
    const { TapLink } = await import(${JSON.stringify(new URL('./tap.ts', import.meta.url).href)});
    const { loadNative } = await import(${JSON.stringify(new URL('./native/addon.ts', import.meta.url).href)});
    loadNative();
    if (process.getuid() === 0) { process.setgid(65534); process.setuid(65534); }
    try { await TapLink.open({ device: ${JSON.stringify(device)} }); console.log('RESULT opened'); }
    catch (e) { console.log('RESULT ' + JSON.stringify([e.code, e.message])); }`;
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 20_000,
    },
  );
  const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (line === undefined) return `the child did not run: ${child.stderr.trim()}`;
  const result = line.slice('RESULT '.length);
  if (result === 'opened') assert.fail('an unprivileged user opened a TAP device');
  return JSON.parse(result) as [string, string];
}

describe('TapLink.open', () => {
  it('refuses device names Linux would refuse, before touching anything', async () => {
    for (const device of ['', 'a/b', 'tap 0', 'tap:0', '.', 'tap-name-too-long']) {
      const [code, message] = await refusal({ device });
      assert.equal(code, 'EINVAL', device);
      assert.match(message, /^tap: device must be an interface name of 1\.\.15 bytes/);
    }
  });

  it('refuses a batch out of range', { skip: nativeUnavailableReason() }, async () => {
    const load = loadNative();
    const max = load.kind === 'loaded' ? load.addon.maxBatch : 0;
    for (const batch of [0, -1, 2.5, max + 1]) {
      assert.deepEqual(await refusal({ device: 'tap0', batch }), [
        'EINVAL',
        `tap: batch must be an integer 1..${max}, got ${batch}`,
      ]);
    }
  });

  it('as an unprivileged user: EIO naming the device, the call, the errno and what is missing', {
    skip: nativeUnavailableReason(),
  }, (t) => {
    const result = unprivilegedRefusal('netarp-t0');
    if (typeof result === 'string') {
      t.skip(result);
      return;
    }
    const [code, message] = result;
    assert.equal(code, 'EIO');
    // /dev/net/tun is often 0600 (the open fails) or 0666 (then TUNSETIFF does).
    assert.match(
      message,
      /^tap netarp-t0: (\/dev\/net\/tun: open: permission denied \(needs read\/write access to \/dev\/net\/tun\)|ioctl\(TUNSETIFF\): operation not permitted \(needs CAP_NET_ADMIN)/,
    );
  });
});
