/**
 * The `netarp` command against the Linux kernel, over VXLAN, each in its own network
 * namespace (see helpers.ts for the topology and the skip policy). The daemon is started
 * as an operator would start it, `netarp daemon --config FILE` (bin/netarp.js) inside
 * netarp's namespace; every other verb runs as `netarp --socket PATH ...` in the root
 * namespace (a Unix socket with a path is reachable from any network namespace).
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type CommandResult,
  interopSuite,
  run,
  systemProbes,
  type Topology,
  withTopology,
} from './helpers.ts';

const TEST_TIMEOUT_MS = 40_000;
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/netarp.js', import.meta.url));
const OTHER_MAC = '02:00:00:00:00:66';

/** A `netarp` process that keeps running (daemon, monitor), its output collected. */
class Running {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      this.stdout += text;
    });
    child.stderr.on('data', (text: string) => {
      this.stderr += text;
    });
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** Kills it unless it has exited. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** Polls `check` until it holds or `timeoutMs` passes. */
async function eventually(
  what: () => string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `netarp daemon` in the topology's netarp namespace, and `netarp` verbs pointed at it. */
class Operator {
  readonly socket: string;
  private constructor(
    readonly topo: Topology,
    readonly daemon: Running,
  ) {
    this.socket = join(topo.dir, 'run', 'netarp.sock');
  }

  static async start(topo: Topology): Promise<Operator> {
    const file = join(topo.dir, 'netarp.toml');
    writeFileSync(
      file,
      `[sysctl]
"net.link.ether.inet.maxtries" = 3

[[interface]]
name = "vx0"
mac = "${topo.netarpMac}"
addresses = ["${topo.netarpAddress}/24"]
link = { type = "vxlan", local = "${topo.netarpUnderlay}:${topo.vxlanPort}", remote = ["${topo.kernelUnderlay}:${topo.vxlanPort}"], vni = ${topo.vni} }
`,
    );
    const socket = join(topo.dir, 'run', 'netarp.sock');
    const daemon = new Running(
      spawn(
        systemProbes.findTool('ip') ?? 'ip',
        [
          'netns',
          'exec',
          topo.netarpNs,
          process.execPath,
          BIN,
          'daemon',
          '--config',
          file,
          '--socket',
          socket,
        ],
        { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
      ),
    );
    const operator = new Operator(topo, daemon);
    // The socket appears once the daemon is ready (docs/daemon.md, start-up).
    await eventually(
      () => `the daemon did not come up:\n${daemon.stderr}`,
      () => existsSync(socket) || daemon.child.exitCode !== null,
    );
    assert.equal(daemon.child.exitCode, null, daemon.stderr);
    return operator;
  }

  /** Runs `netarp --socket SOCKET ...args` to completion. */
  netarp(...args: string[]): Promise<CommandResult> {
    return run([process.execPath, BIN, '--socket', this.socket, ...args], 20_000);
  }

  /** Starts `netarp --socket SOCKET ...args` and leaves it running. */
  spawn(...args: string[]): Running {
    return new Running(
      spawn(process.execPath, [BIN, '--socket', this.socket, ...args], {
        cwd: REPO_ROOT,
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
  }

  async stop(): Promise<void> {
    this.daemon.child.kill('SIGTERM');
    const code = await Promise.race([
      this.daemon.exited,
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000)),
    ]);
    this.daemon.kill();
    assert.equal(code, 0, `netarp daemon did not exit 0 on SIGTERM:\n${this.daemon.stderr}`);
  }
}

/** Runs `body` with `netarp daemon` in a fresh topology; always stops both. */
async function withOperator(body: (topo: Topology, op: Operator) => Promise<void>): Promise<void> {
  await withTopology(async (topo) => {
    const op = await Operator.start(topo);
    try {
      await body(topo, op);
    } finally {
      await op.stop().finally(() => op.daemon.kill());
    }
  });
}

interopSuite('netarp CLI <-> Linux kernel over VXLAN', () => {
  it('resolve, ping and -a against the kernel from cold caches', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withOperator(async (topo, op) => {
      const resolved = await op.netarp('resolve', topo.kernelAddress);
      assert.deepEqual(resolved, { code: 0, stdout: `${topo.kernelMac}\n`, stderr: '' });
      const ping = await op.netarp('ping', topo.kernelAddress, '-c', '2', '-i', '0.2');
      assert.equal(ping.code, 0, ping.stdout + ping.stderr);
      assert.match(ping.stdout, /^2 packets transmitted, 2 packets received, 0\.0% packet loss$/m);
      const table = await op.netarp('-an');
      assert.equal(table.code, 0, table.stderr);
      assert.match(
        table.stdout,
        new RegExp(
          `^\\? \\(${topo.kernelAddress}\\) at ${topo.kernelMac} on vx0 expires in 1[12]\\d\\d seconds \\[ethernet\\]$`,
          'm',
        ),
      );
      // Nobody has .77: maxtries (3) requests a second apart, then the host is down.
      const down = await op.netarp('resolve', '192.0.2.77', '--timeout', '8000');
      assert.deepEqual(down, {
        code: 1,
        stdout: '',
        stderr: 'netarp: 192.0.2.77 (192.0.2.77): host is down\n',
      });
    });
  });

  it("monitor sees the kernel resolved; -s, -S and -d against the kernel's entry", {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withOperator(async (topo, op) => {
      const monitor = op.spawn('monitor');
      try {
        // The monitor subscribes asynchronously: forget the kernel and let it ping until the
        // monitor has seen netarp resolve it (to answer the echo).
        const seen = `RTM_RESOLVE vx0 ${topo.kernelAddress} ${topo.kernelMac} [learned]`;
        await eventually(
          () => `the monitor never showed "${seen}":\n${monitor.stdout}${monitor.stderr}`,
          async () => {
            await op.netarp('-d', topo.kernelAddress);
            const ping = await topo.kernel(['ping', '-c1', '-W2', topo.netarpAddress]);
            assert.equal(ping.code, 0, ping.stdout + ping.stderr);
            return monitor.stdout.split('\n').includes(seen);
          },
        );

        assert.deepEqual(await op.netarp('-s', topo.kernelAddress, OTHER_MAC), {
          code: 0,
          stdout: '',
          stderr: '',
        });
        assert.deepEqual(await op.netarp('-s', topo.kernelAddress, topo.kernelMac), {
          code: 1,
          stdout: '',
          stderr: `netarp: ${topo.kernelAddress}: File exists\n`,
        });
        // The kernel announces itself: the permanent entry stays, and the monitor shows the
        // seed's log line verbatim.
        await topo.kernel(['arping', '-U', '-c1', '-w2', '-I', topo.kernelIf, topo.kernelAddress]);
        const attempt = `arp: ${topo.kernelMac} attempts to modify permanent entry for ${topo.kernelAddress} on vx0`;
        await eventually(
          () => `no "${attempt}" line:\n${monitor.stdout}`,
          () => monitor.stdout.split('\n').includes(attempt),
        );
        const line = `(${topo.kernelAddress}) at ${OTHER_MAC} on vx0 permanent [ethernet]\n`;
        assert.equal((await op.netarp('-n', topo.kernelAddress)).stdout, `? ${line}`);

        assert.deepEqual(await op.netarp('-S', topo.kernelAddress, topo.kernelMac), {
          code: 0,
          stdout: `${topo.kernelAddress} (${topo.kernelAddress}) deleted\n`,
          stderr: '',
        });
        assert.deepEqual(await op.netarp('-d', topo.kernelAddress), {
          code: 0,
          stdout: `${topo.kernelAddress} (${topo.kernelAddress}) deleted\n`,
          stderr: '',
        });
        assert.equal((await op.netarp(topo.kernelAddress)).code, 1, 'no entry any more');

        monitor.child.kill('SIGINT');
        assert.equal(await monitor.exited, 0, monitor.stderr);
        assert.equal(monitor.stderr, '');
      } finally {
        monitor.kill();
      }
    });
  });
});
