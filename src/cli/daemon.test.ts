/** `netarp daemon`: its command line, a start that fails, and a run stopped by SIGTERM. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { captureIo } from '../../test/support/cli-io.ts';
import { daemonConfig, FakeSignals, VX0 } from '../../test/support/daemon-bench.ts';
import { waitFor } from '../../test/support/wait.ts';
import { DAEMON_HELP } from '../daemon/run.ts';
import type { SignalSource } from './command.ts';
import { main } from './main.ts';

const dir = mkdtempSync(join(tmpdir(), 'netarp-cli-daemon-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** vx0 alone, on a real VXLAN socket on loopback: `netarp daemon` opens its links itself. */
const CONFIG = daemonConfig({
  sysctl: {},
  interfaces: [
    { ...VX0, link: { type: 'vxlan', local: '127.0.0.1:0', remote: ['127.0.0.1:9'], vni: 42 } },
  ],
  statics: [],
});

function capture(signals: SignalSource, env: Record<string, string> = {}) {
  return captureIo({ env, signals });
}

describe('netarp daemon', () => {
  it('prints its help', async () => {
    const io = capture(new FakeSignals());
    assert.equal(await main(['daemon', '--help'], io), 0);
    assert.equal(io.out, DAEMON_HELP);
  });

  it('exits 1 with one line when it cannot start, leaving no signal handler', async () => {
    const signals = new FakeSignals();
    const io = capture(signals);
    const file = join(dir, 'missing.toml');
    assert.equal(await main(['daemon', '--config', file, '--socket', join(dir, 'x.sock')], io), 1);
    assert.equal(io.out, '');
    assert.equal(io.err, `netarp: ${file}: no such file\n`);
    assert.equal(signals.listening(), 0, 'every handler taken back');
  });

  it('runs until SIGTERM, serving the other commands on its socket', async () => {
    const file = join(dir, 'netarp.toml');
    const socket = join(dir, 'run', 'netarp.sock');
    writeFileSync(file, CONFIG);
    const signals = new FakeSignals();
    const daemonIo = capture(signals, { NETARP_SOCKET: socket });
    const daemon = main(['daemon', '--config', file], daemonIo);
    await waitFor(
      'the socket',
      () => existsSync(socket) || undefined,
      5000,
      () => daemonIo.err,
      10,
    );
    const client = capture(new FakeSignals(), { NETARP_SOCKET: socket });
    assert.equal(await main(['-an'], client), 0, client.err);
    assert.equal(client.out, '? (192.0.2.2) at 02:00:00:00:00:02 on vx0 permanent [ethernet]\n');
    signals.send('SIGTERM');
    assert.equal(await daemon, 0);
    assert.equal(existsSync(socket), false, 'the socket is removed');
    assert.equal(signals.listening(), 0, 'every handler taken back');
    assert.match(daemonIo.err, /^netarp: started: config /m);
    assert.match(daemonIo.err, /^netarp: stopping$/m);
  });
});
