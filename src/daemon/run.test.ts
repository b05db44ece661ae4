import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FakeSignals } from '../../test/support/daemon-bench.ts';
import { ControlClient } from '../control/client.ts';
import { DaemonError } from './daemon.ts';
import { type DaemonProcess, parseDaemonArgs, runDaemon } from './run.ts';

const dir = mkdtempSync(join(tmpdir(), 'netarp-run-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A process whose signals the test sends and whose stderr it reads. */
class FakeProcess implements DaemonProcess {
  readonly stderrText: string[] = [];
  private readonly signals = new FakeSignals();
  constructor(readonly env: Record<string, string | undefined> = {}) {}
  stderr(text: string): void {
    this.stderrText.push(text);
  }
  onSignal(signal: NodeJS.Signals, handler: () => void): void {
    this.signals.on(signal, handler);
  }
  offSignal(signal: NodeJS.Signals, handler: () => void): void {
    this.signals.off(signal, handler);
  }
  kill(signal: NodeJS.Signals): void {
    this.signals.send(signal);
  }
  listening(): number {
    return this.signals.listening();
  }
}

/**
 * The remote VTEP: a UDP socket that takes the daemon's datagrams and does nothing with them
 * (a port with nothing listening would answer ICMP port unreachable, which the daemon logs).
 */
const remote = createSocket('udp4');
await new Promise<void>((resolve) => remote.bind(0, '127.0.0.1', resolve));
after(() => remote.close());

/** VXLAN on loopback, on a port the kernel picks: no namespaces, no root needed. */
const CONFIG = `
[[interface]]
name = "vx0"
mac = "02:00:00:00:00:02"
addresses = ["192.0.2.2/24"]
link = { type = "vxlan", local = "127.0.0.1:0", remote = ["127.0.0.1:${remote.address().port}"], vni = 42 }
`;

async function connectWhenUp(path: string): Promise<ControlClient> {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      return await ControlClient.connect({ path });
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

describe('parseDaemonArgs', () => {
  it('reads the options, with defaults', () => {
    assert.deepEqual(parseDaemonArgs(['--config', 'a.toml']), {
      kind: 'run',
      options: { config: 'a.toml', logFormat: 'text', logLevel: 'info' },
    });
    assert.deepEqual(
      parseDaemonArgs([
        '-c',
        'a.toml',
        '-s',
        '/x.sock',
        '--log-format',
        'json',
        '--log-level',
        'debug',
        '--state',
        '/var/tmp/x.json',
      ]),
      {
        kind: 'run',
        options: {
          config: 'a.toml',
          socket: '/x.sock',
          state: '/var/tmp/x.json',
          logFormat: 'json',
          logLevel: 'debug',
        },
      },
    );
    assert.deepEqual(parseDaemonArgs(['--help']), { kind: 'help' });
  });

  it('refuses mistakes with one line', () => {
    const cases: [string[], string][] = [
      [[], 'daemon: --config FILE is required'],
      [['-c', 'a', '--log-format', 'xml'], "daemon: --log-format must be text or json, got 'xml'"],
      [
        ['-c', 'a', '--log-level', 'loud'],
        "daemon: --log-level must be one of err, warning, info, debug, got 'loud'",
      ],
      [['-c', 'a', '--verbose'], "daemon: unknown option '--verbose'"],
      [['-c', 'a', 'extra'], "daemon: unexpected argument 'extra'"],
      [['-c', 'a', '--state', ''], 'daemon: --state PATH is empty'],
    ];
    for (const [args, message] of cases) {
      assert.throws(
        () => parseDaemonArgs(args),
        (error: unknown) =>
          error instanceof DaemonError && error.code === 'EUSAGE' && error.message === message,
        args.join(' '),
      );
    }
  });
});

describe('runDaemon', () => {
  it('exits 1 with one line naming the file, key and reason when the config is bad', async () => {
    const file = join(dir, 'bad.toml');
    writeFileSync(file, CONFIG.replace('vni = 42', 'vni = -1'));
    const io = new FakeProcess();
    assert.equal(await runDaemon({ config: file, socket: join(dir, 'bad.sock') }, io), 1);
    assert.deepEqual(io.stderrText, [
      `netarp: ${file}: interface[0].link.vni: expected an integer in 0..16777215, got number -1\n`,
    ]);
    assert.equal(io.listening(), 0);

    const json = new FakeProcess();
    assert.equal(
      await runDaemon({ config: file, socket: join(dir, 'bad.sock'), logFormat: 'json' }, json),
      1,
    );
    const line = JSON.parse(json.stderrText[0] ?? '{}');
    assert.deepEqual(
      { kind: line.kind, level: line.level, source: line.source, message: line.message },
      {
        kind: 'log',
        level: 'err',
        source: 'daemon',
        message: `${file}: interface[0].link.vni: expected an integer in 0..16777215, got number -1`,
      },
    );
  });

  it('runs until SIGTERM, reloads on SIGHUP, exits 0 and removes the socket', async () => {
    const file = join(dir, 'good.toml');
    const socket = join(dir, 'run', 'netarp.sock');
    writeFileSync(file, CONFIG);
    // The socket comes from the environment when --socket is not given.
    const io = new FakeProcess({ NETARP_SOCKET: socket });
    const exited = runDaemon({ config: file }, io);
    const client = await connectWhenUp(socket);
    assert.deepEqual(
      (await client.interfaces()).map((i) => i.addresses),
      [['192.0.2.2/24']],
    );

    writeFileSync(file, CONFIG.replace('["192.0.2.2/24"]', '["192.0.2.2/24", "192.0.2.3/24"]'));
    io.kill('SIGHUP');
    const deadline = Date.now() + 3000;
    while ((await client.interfaces())[0]?.addresses.length !== 2) {
      assert.ok(Date.now() < deadline, 'reload applied');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    client.close();

    io.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal(existsSync(socket), false);
    assert.equal(io.listening(), 0, 'signal handlers removed');
    const text = io.stderrText.join('');
    assert.match(
      text,
      /^netarp: started: config .*good\.toml, interfaces vx0, control socket .*netarp\.sock$/m,
    );
    assert.match(text, /^netarp: reloaded .*good\.toml: \+address 192\.0\.2\.3\/24 on vx0$/m);
    assert.match(text, /^netarp: stopping$/m);
  });

  it('acts on a SIGTERM that arrives while it starts: starts, then stops cleanly', async () => {
    const file = join(dir, 'early.toml');
    const socket = join(dir, 'early', 'netarp.sock');
    writeFileSync(file, CONFIG);
    const io = new FakeProcess();
    const exited = runDaemon({ config: file, socket }, io);
    io.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal(existsSync(socket), false);
    assert.equal(io.listening(), 0);
    assert.match(io.stderrText.join(''), /^netarp: started: .*\nnetarp: stopping\n$/);
  });
});
