/**
 * Nothing acknowledged is lost to `kill -9`. `netarp daemon` runs as a child process (the real
 * command, bin/netarp.js) on a config whose only interface is a bridge without members, so no
 * frame leaves the process. A client streams `set`, `delete` and `sysctl-set` requests, eight
 * in flight at a time, and the child is killed with SIGKILL at a random moment; the state file
 * must then parse, and after a restart every acknowledged change must be in force: each entry
 * set is there with its MAC, each entry deleted is gone, the knob is at least its last
 * acknowledged value. Changes sent but not answered may or may not have been kept; what the
 * restarted daemon shows of them becomes the model for the next cycle.
 *
 * NETARP_CRASH_CYCLES sets the number of kill/restart cycles (default 12); NETARP_CRASH_SEED
 * replays a run (the seed is printed).
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ControlClient } from '../control/client.ts';
import { formatIpv4 } from '../wire/addr.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NETARP = join(ROOT, 'bin', 'netarp.js');
const CYCLES = Number(process.env.NETARP_CRASH_CYCLES ?? 12);
const SEED = Number(process.env.NETARP_CRASH_SEED ?? Date.now() % 1_000_000);

const dir = mkdtempSync(join(tmpdir(), 'netarp-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG = `
[[interface]]
name = "br0"
kind = "bridge"
mac = "02:00:00:00:00:10"
addresses = ["10.77.0.1/16"]
`;

/** A small deterministic PRNG (mulberry32), so that a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The n-th address and MAC the stream sets (10.77.1.0 onwards; 10.77.0.1 is the daemon's). */
function nth(n: number): { ip: string; mac: string } {
  const ip = formatIpv4(((10 << 24) | (77 << 16) | (256 + n)) >>> 0);
  const hex = (256 + n).toString(16).padStart(8, '0');
  return { ip, mac: `02:00:${hex.match(/../g)!.join(':')}` };
}

/** What the daemon must show: the certain facts, and the changes whose fate is unknown. */
class Model {
  /** Entries set and acknowledged (and no delete sent since): ip -> MAC. */
  readonly present = new Map<string, string>();
  /** Entries whose delete was acknowledged. */
  readonly deleted = new Set<string>();
  /** Sets sent, not answered: there with this MAC, or absent. */
  readonly maybeSet = new Map<string, string>();
  /** Deletes sent, not answered: still there (with the MAC of `present`), or gone. */
  readonly maybeDeleted = new Set<string>();
  knobAcked = 0;
  knobSent = 0;
  acked = 0;
}

/** The daemon as a child process. */
class Child {
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly process: ChildProcessWithoutNullStreams) {
    process.stderr.setEncoding('utf8');
    process.stderr.on('data', (text: string) => {
      this.stderr += text;
    });
    process.stdout.resume();
    this.exited = new Promise((resolve) =>
      process.on('exit', (code, signal) => resolve({ code, signal })),
    );
  }
}

const socket = join(dir, 'run', 'netarp.sock');
const statePath = join(dir, 'state', 'state.json');
const configFile = join(dir, 'netarp.toml');

async function startDaemon(): Promise<{ child: Child; client: ControlClient }> {
  const child = new Child(
    spawn(
      process.execPath,
      [NETARP, 'daemon', '--config', configFile, '--socket', socket, '--state', statePath],
      { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
    ),
  );
  let exited = false;
  void child.exited.then(() => {
    exited = true;
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited) assert.fail(`the daemon exited while starting:\n${child.stderr}`);
    try {
      return { child, client: await ControlClient.connect({ path: socket }) };
    } catch (error) {
      if (Date.now() > deadline) {
        child.process.kill('SIGKILL');
        assert.fail(`the daemon did not come up: ${error}\n${child.stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** Checks the restarted daemon against the model, then makes the model exact again. */
async function verify(client: ControlClient, model: Model): Promise<{ checked: number }> {
  const entries = new Map(
    (await client.list()).filter((e) => !e.local).map((e) => [e.ip, e.mac ?? '']),
  );
  const knob = (await client.sysctlGet('max_age'))[0]!.value;
  for (const [ip, mac] of model.present) {
    if (model.maybeDeleted.has(ip)) {
      assert.ok(!entries.has(ip) || entries.get(ip) === mac, `${ip}: wrong MAC after restart`);
      continue;
    }
    assert.equal(entries.get(ip), mac, `acknowledged set of ${ip} lost by kill -9`);
  }
  for (const ip of model.deleted) {
    assert.equal(entries.has(ip), false, `acknowledged delete of ${ip} lost by kill -9`);
  }
  for (const [ip, mac] of model.maybeSet) {
    if (entries.has(ip)) assert.equal(entries.get(ip), mac, `${ip}: a MAC nobody set`);
  }
  const expected = new Set([...model.present.keys(), ...model.maybeSet.keys()]);
  for (const ip of entries.keys()) assert.ok(expected.has(ip), `${ip}: never set`);
  assert.ok(
    knob >= model.knobAcked && knob <= model.knobSent,
    `max_age ${knob}: acknowledged ${model.knobAcked}, last sent ${model.knobSent}`,
  );
  const checked = model.present.size + model.deleted.size + 1;
  // What the daemon shows of the unanswered changes is now known.
  for (const [ip, mac] of model.maybeSet) if (entries.has(ip)) model.present.set(ip, mac);
  for (const ip of model.maybeDeleted) {
    if (!entries.has(ip)) {
      model.present.delete(ip);
      model.deleted.add(ip);
    }
  }
  model.maybeSet.clear();
  model.maybeDeleted.clear();
  model.knobAcked = knob;
  model.knobSent = knob;
  return { checked };
}

/** Streams changes until the connection dies; resolves with how many were sent. */
async function stream(
  client: ControlClient,
  model: Model,
  random: () => number,
  next: { n: number },
): Promise<number> {
  let sent = 0;
  let alive = true;
  const worker = async (): Promise<void> => {
    while (alive) {
      const roll = random();
      const deletable = [...model.present.keys()].filter((ip) => !model.maybeDeleted.has(ip));
      try {
        if (roll < 0.15) {
          const value = ++model.knobSent;
          sent++;
          await client.sysctlSet('max_age', value);
          model.knobAcked = Math.max(model.knobAcked, value);
        } else if (roll < 0.3 && deletable.length > 0) {
          const ip = deletable[Math.floor(random() * deletable.length)]!;
          model.maybeDeleted.add(ip);
          sent++;
          await client.delete(ip);
          model.maybeDeleted.delete(ip);
          model.present.delete(ip);
          model.deleted.add(ip);
        } else {
          const { ip, mac } = nth(next.n++);
          model.maybeSet.set(ip, mac);
          sent++;
          await client.set({ host: ip, mac });
          model.maybeSet.delete(ip);
          model.present.set(ip, mac);
        }
        model.acked++;
      } catch {
        // The daemon was killed: this one's fate is unknown (it stays in maybe*).
        alive = false;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return sent;
}

describe('state across kill -9', () => {
  it(`loses no acknowledged change over ${CYCLES} kills at random moments`, {
    timeout: 60_000 + CYCLES * 15_000,
  }, async (t) => {
    writeFileSync(configFile, CONFIG);
    const random = prng(SEED);
    const model = new Model();
    const next = { n: 0 };
    let { child, client } = await startDaemon();
    model.knobAcked = (await client.sysctlGet('max_age'))[0]!.value;
    model.knobSent = model.knobAcked;
    let checkedTotal = 0;
    let sentTotal = 0;
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const running = stream(client, model, random, next);
      const killAfter = 20 + Math.floor(random() * 400);
      await new Promise((resolve) => setTimeout(resolve, killAfter));
      child.process.kill('SIGKILL');
      assert.deepEqual(await child.exited, { code: null, signal: 'SIGKILL' });
      sentTotal += await running;
      client.close();

      // Whatever the moment, the file is whole.
      const saved = JSON.parse(readFileSync(statePath, 'utf8'));
      assert.equal(saved.format, 'netarp-state');

      ({ child, client } = await startDaemon());
      assert.doesNotMatch(child.stderr, /corrupt|cannot be read|cannot be restored/, child.stderr);
      const { checked } = await verify(client, model);
      checkedTotal += checked;
    }
    client.close();
    child.process.kill('SIGTERM');
    assert.equal((await child.exited).code, 0, child.stderr);
    t.diagnostic(
      `seed ${SEED}: ${CYCLES} kill -9 cycles, ${sentTotal} changes sent, ${model.acked} acknowledged, ${checkedTotal} facts verified after restarts (${model.present.size} entries, ${model.deleted.size} deletions at the end)`,
    );
    assert.ok(
      model.acked > CYCLES * 5,
      `too few changes acknowledged to mean much: ${model.acked}`,
    );
  });
});
