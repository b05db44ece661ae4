import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCaptured } from '../../test/support/cli-io.ts';
import { workerPoolSize } from '../runtime/worker-pool.ts';
import { DEMO_SCENARIO } from '../sim/demo.ts';
import { COMMANDS, main, mainHelp, version } from './main.ts';
import { HostLookupError, type NameService } from './names.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Runs main() with captured output. */
function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return runCaptured(argv);
}

function scenarioFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'netarp-cli-'));
  const file = join(dir, 'scenario.yaml');
  writeFileSync(file, text);
  return file;
}

const MINIMAL = join(root, 'examples', 'minimal.json');

describe('netarp (main)', () => {
  it('prints help and the version', async () => {
    assert.deepEqual(await run('--help'), { code: 0, out: mainHelp(), err: '' });
    assert.equal((await run('-h')).out, mainHelp());
    assert.match(mainHelp(), /^usage: netarp \[-n\] \[-i if\] \[--json\] host\n/);
    assert.match(mainHelp(), /^ {7}netarp -d \[-i if\] host \[pub\]$/m);
    assert.match(mainHelp(), /^ {7}netarp -s host ether_addr \[temp\] \[pub \[only\]\]$/m);
    assert.match(mainHelp(), /^ {7}netarp -f file$/m);
    assert.match(mainHelp(), /^ {2}sim FILE \[--json\] {2,}run a scenario file/m);
    assert.match(mainHelp(), /^ {2}demo \[--json\] \[--scenario\] {2,}run the built-in demo/m);
    for (const command of COMMANDS) {
      assert.ok(mainHelp().includes(`\n  ${command.synopsis} `), command.name);
    }
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    assert.equal(version(), pkg.version);
    assert.deepEqual(await run('--version'), { code: 0, out: `netarp ${pkg.version}\n`, err: '' });
    assert.equal((await run('-V')).out, `netarp ${pkg.version}\n`);
  });

  it("prints a verb's help with VERB --help and help VERB", async () => {
    const sim = await run('sim', '--help');
    assert.equal(sim.code, 0);
    assert.match(sim.out, /^usage: netarp sim FILE \[--json\]\n/);
    assert.equal((await run('help', 'sim')).out, sim.out);
    assert.match((await run('demo', '-h')).out, /^usage: netarp demo /);
  });

  it('has --help on every verb, the same as help VERB', async () => {
    for (const command of COMMANDS) {
      const help = await run(command.name, '--help');
      assert.deepEqual(help, { code: 0, out: command.help, err: '' }, command.name);
      assert.match(help.out, /^usage: netarp /, command.name);
      assert.deepEqual(await run('help', command.name), help, command.name);
    }
    assert.equal((await run('-a', '--help')).out, (await run('arp', '-h')).out);
  });

  // [argv, the stderr line]; each exits 2.
  const usage: [string[], string][] = [
    [[], 'netarp: missing command (see netarp --help)\n'],
    [['--frobnicate'], "netarp: unknown option '--frobnicate' (see netarp --help)\n"],
    [['-a', 'extra'], "netarp: unexpected argument 'extra'\n"],
    [['--socket'], "netarp: option '--socket' needs a value\n"],
    [['--socket', '/s'], 'netarp: missing command (see netarp --help)\n'],
    [['--socket', '/s', 'sim'], "netarp: sim: unknown option '--socket'\n"],
    [['-s', 'host'], 'netarp: -s: missing ether_addr\n'],
    [
      ['-d', '-s', 'h', '02:00:00:00:00:01'],
      'netarp: only one of -d, -s, -S and -f may be given\n',
    ],
    [['monitor', 'now'], "netarp: monitor: unexpected argument 'now'\n"],
    [['stats', '-z'], "netarp: stats: unknown option '-z'\n"],
    [['sysctl', 'max_age=x'], "netarp: sysctl: invalid integer 'x' for max_age\n"],
    [['ping'], 'netarp: ping: missing HOST (see netarp ping --help)\n'],
    [['ping', '-c', '0', 'h'], "netarp: ping: -c: expected an integer in 1..100, got '0'\n"],
    [['resolve'], 'netarp: resolve: missing HOST (see netarp resolve --help)\n'],
    [['interfaces', 'vx0'], "netarp: interfaces: unexpected argument 'vx0'\n"],
    [['daemon'], 'netarp: daemon: --config FILE is required\n'],
    [['daemon', '--bogus'], "netarp: daemon: unknown option '--bogus'\n"],
    [['sim'], 'netarp: sim: missing FILE (see netarp sim --help)\n'],
    [['sim', 'a.yaml', 'b.yaml'], "netarp: sim: unexpected argument 'b.yaml'\n"],
    [['sim', '--pretty', 'a.yaml'], "netarp: sim: unknown option '--pretty'\n"],
    [['demo', 'extra'], "netarp: demo: unexpected argument 'extra'\n"],
    [['demo', '--json', '--scenario'], 'netarp: demo: --scenario and --json do not go together\n'],
    [['demo', '--json=yes'], "netarp: demo: option '--json' does not take an argument\n"],
  ];
  for (const [argv, message] of usage) {
    it(`exits 2 for: netarp ${argv.join(' ')}`, async () => {
      assert.deepEqual(await run(...argv), { code: 2, out: '', err: message });
    });
  }

  it('takes a word that is no command for a host, and says when it is neither', async () => {
    const names: NameService = {
      lookup: (name) => Promise.reject(new HostLookupError(name, 'Unknown host')),
      reverse: async () => undefined,
    };
    const io = (sink: { err: string }) => ({
      names,
      stdout: () => assert.fail('no output expected'),
      stderr: (text: string) => {
        sink.err += text;
      },
    });
    const bare = { err: '' };
    assert.equal(await main(['frobnicate'], io(bare)), 1);
    assert.equal(bare.err, 'netarp: frobnicate: Unknown host (nor a command: see netarp --help)\n');
    const arp = { err: '' };
    assert.equal(await main(['-d', 'frobnicate'], io(arp)), 1);
    assert.equal(arp.err, 'netarp: frobnicate: Unknown host\n');
  });

  it('exits 1 with one line for a missing or wrong scenario file', async () => {
    assert.deepEqual(await run('sim', '/nonexistent/netarp.yaml'), {
      code: 1,
      out: '',
      err: 'netarp: /nonexistent/netarp.yaml: no such file\n',
    });
    const bad = scenarioFile('segments: [{ name: lan, loss: 3 }]\n');
    assert.deepEqual(await run('sim', bad), {
      code: 1,
      out: '',
      err: `netarp: ${bad}:1:31: segments[0].loss: expected a number in 0..1, got 3\n`,
    });
    rmSync(dirname(bad), { recursive: true });
  });

  it('runs a scenario file, as text or JSON lines', async () => {
    const text = await run('sim', MINIMAL);
    assert.equal(text.code, 0);
    assert.equal(text.err, '');
    assert.equal(text.out, readFileSync(join(root, 'examples', 'minimal.out'), 'utf8'));
    const json = await run('sim', MINIMAL, '--json');
    assert.equal(json.code, 0);
    const records = json.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    assert.ok(records.some((r) => r.type === 'frame'));
    assert.equal(records.at(-1)?.type, 'table');
  });

  it('runs the demo, and prints its scenario with --scenario', async () => {
    const demo = await run('demo');
    assert.equal(demo.code, 0);
    assert.match(demo.out, /^# resolution with a held packet/m);
    assert.deepEqual(await run('demo'), demo, 'the same output every time');
    const json = await run('demo', '--json');
    assert.ok(
      json.out
        .split('\n')
        .filter(Boolean)
        .every((l) => l.startsWith('{"t":')),
    );
    assert.deepEqual(await run('demo', '--scenario'), { code: 0, out: DEMO_SCENARIO, err: '' });
  });
});

describe('bin/netarp.js', () => {
  const bin = join(root, 'bin', 'netarp.js');

  it('runs the CLI through tsx and passes its exit status on', () => {
    const version = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
    assert.equal(version.status, 0, version.stderr);
    assert.match(version.stdout, /^netarp \d+\.\d+\.\d+/);
    const usage = spawnSync(process.execPath, [bin, '--nope'], { encoding: 'utf8' });
    assert.equal(usage.status, 2);
    assert.equal(usage.stdout, '');
    assert.equal(usage.stderr, "netarp: unknown option '--nope' (see netarp --help)\n");
    const socket = join(tmpdir(), 'netarp-nonexistent', 'netarp.sock');
    const down = spawnSync(process.execPath, [bin, '-a'], {
      encoding: 'utf8',
      env: { ...process.env, NETARP_SOCKET: socket },
    });
    assert.equal(down.status, 1);
    assert.equal(down.stderr, `netarp: cannot connect to ${socket}: is the daemon running?\n`);
    const missing = spawnSync(process.execPath, [bin, 'sim', 'nope.yaml'], { encoding: 'utf8' });
    assert.equal(missing.status, 1);
    assert.equal(missing.stderr, 'netarp: nope.yaml: no such file\n');
  });

  it('works through a node_modules/.bin symlink from another directory', () => {
    const project = mkdtempSync(join(tmpdir(), 'netarp-bin-'));
    mkdirSync(join(project, 'node_modules', '.bin'), { recursive: true });
    symlinkSync(root, join(project, 'node_modules', 'netarp'), 'dir');
    const link = join(project, 'node_modules', '.bin', 'netarp');
    symlinkSync('../netarp/bin/netarp.js', link);
    const result = spawnSync(link, ['sim', MINIMAL], { cwd: project, encoding: 'utf8' });
    rmSync(project, { recursive: true });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, readFileSync(join(root, 'examples', 'minimal.out'), 'utf8'));
  });
});

describe('bin/netarp (the command npm installs)', () => {
  const wrapper = join(root, 'bin', 'netarp');

  it('starts bin/netarp.js through a node_modules/.bin symlink and passes its status on', () => {
    const project = mkdtempSync(join(tmpdir(), 'netarp-wrapper-'));
    try {
      mkdirSync(join(project, 'node_modules', '.bin'), { recursive: true });
      symlinkSync(root, join(project, 'node_modules', 'netarp'), 'dir');
      const link = join(project, 'node_modules', '.bin', 'netarp');
      symlinkSync('../netarp/bin/netarp', link);
      const result = spawnSync(link, ['sim', MINIMAL], { cwd: project, encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout, readFileSync(join(root, 'examples', 'minimal.out'), 'utf8'));
      const usage = spawnSync(link, ['--nope'], { cwd: project, encoding: 'utf8' });
      assert.equal(usage.status, 2);
      assert.equal(usage.stderr, "netarp: unknown option '--nope' (see netarp --help)\n");
    } finally {
      rmSync(project, { recursive: true });
    }
  });

  it("sizes V8's worker pool by workerPoolSize(), unless NETARP_V8_POOL_SIZE says otherwise", () => {
    // A `node` that prints the arguments it was given, first on PATH.
    const dir = mkdtempSync(join(tmpdir(), 'netarp-fake-node-'));
    try {
      writeFileSync(join(dir, 'node'), '#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n', {
        mode: 0o755,
      });
      const env: Record<string, string | undefined> = {
        ...process.env,
        PATH: `${dir}:${process.env.PATH ?? ''}`,
        NETARP_V8_POOL_SIZE: undefined,
      };
      const run = (extra: Record<string, string>): string[] => {
        const result = spawnSync(wrapper, ['-a', 'two words'], {
          env: { ...env, ...extra },
          encoding: 'utf8',
        });
        assert.equal(result.status, 0, result.stderr);
        return result.stdout.split('\n').slice(0, -1);
      };
      const script = join(root, 'bin', 'netarp.js');
      assert.deepEqual(run({}), [`--v8-pool-size=${workerPoolSize()}`, script, '-a', 'two words']);
      assert.deepEqual(run({ NETARP_V8_POOL_SIZE: '3' }), [
        '--v8-pool-size=3',
        script,
        '-a',
        'two words',
      ]);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
