/**
 * The state file on disk: reading one that is missing, corrupt or unreadable (moved aside,
 * never fatal), and the grouped writer (a burst of commits costs few writes; every commit is
 * answered only once a write that includes it is on disk; a failed write fails its commits).
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { LogLevel } from '../core/events.ts';
import { type AtomicFs, nodeAtomicFs } from './atomic-write.ts';
import { RunState } from './state.ts';
import { DEFAULT_STATE_PATH, defaultStatePath, readState, StateFile } from './state-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'netarp-state-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;

function fresh(): string {
  const sub = join(dir, `case-${++count}`);
  mkdirSync(sub);
  return join(sub, 'state.json');
}

function logger(): { lines: string[]; log: (level: LogLevel, message: string) => void } {
  const lines: string[] = [];
  return { lines, log: (level, message) => lines.push(`${level}: ${message}`) };
}

describe('defaultStatePath', () => {
  it('is /var/lib/netarp for the default socket, else next to the socket', () => {
    assert.equal(defaultStatePath('/run/netarp/netarp.sock'), DEFAULT_STATE_PATH);
    assert.equal(defaultStatePath('/srv/a/a.sock'), '/srv/a/a.state.json');
    assert.equal(defaultStatePath('/srv/a/control'), '/srv/a/control.state.json');
  });
});

describe('readState', () => {
  it('starts empty, saying nothing, when there is no file', async () => {
    const { lines, log } = logger();
    const state = await readState(fresh(), log);
    assert.equal(state.size, 0);
    assert.deepEqual(lines, []);
  });

  it('reads a good file', async () => {
    const path = fresh();
    const written = new RunState();
    written.sysctlSet('maxtries', 9, null);
    writeFileSync(path, written.serialize());
    const { lines, log } = logger();
    assert.equal((await readState(path, log)).serialize(), written.serialize());
    assert.deepEqual(lines, []);
  });

  it('moves a corrupt file aside (numbered), logs why, and starts empty', async () => {
    const path = fresh();
    const { lines, log } = logger();
    writeFileSync(path, '{"format":"netarp-state","version":1,"statics":[');
    assert.equal((await readState(path, log)).size, 0);
    writeFileSync(path, '{"format":"something else"}');
    assert.equal((await readState(path, log)).size, 0);
    assert.equal(existsSync(path), false);
    assert.equal(
      readFileSync(`${path}.corrupt-1`, 'utf8'),
      '{"format":"netarp-state","version":1,"statics":[',
    );
    assert.equal(readFileSync(`${path}.corrupt-2`, 'utf8'), '{"format":"something else"}');
    assert.equal(lines.length, 2);
    assert.match(
      lines[0]!,
      new RegExp(
        `^err: state file ${path} is corrupt: not JSON: .*; moved to ${path}\\.corrupt-1; starting from the config alone$`,
      ),
    );
    assert.equal(
      lines[1],
      `err: state file ${path} is corrupt: not a netarp state file (format is "something else"); moved to ${path}.corrupt-2; starting from the config alone`,
    );
  });

  it('moves aside a file it cannot read (a directory in its place)', async () => {
    const path = fresh();
    mkdirSync(path);
    const { lines, log } = logger();
    assert.equal((await readState(path, log)).size, 0);
    assert.match(lines[0]!, /cannot be read: EISDIR.*; moved to .*\.corrupt-1; starting from/);
  });
});

/** The real file system, counting writes, optionally slow or failing. */
class SlowFs implements AtomicFs {
  writes = 0;
  fail: Error | undefined;
  delayMs = 20;
  async open(path: string, flags: string, mode?: number) {
    const handle = await nodeAtomicFs.open(path, flags, mode);
    return {
      writeAll: async (data: Uint8Array) => {
        this.writes++;
        await new Promise((resolve) => setTimeout(resolve, this.delayMs));
        if (this.fail) throw this.fail;
        await handle.writeAll(data);
      },
      sync: () => handle.sync(),
      close: () => handle.close(),
    };
  }
  rename = nodeAtomicFs.rename;
  unlink = nodeAtomicFs.unlink;
}

describe('StateFile', () => {
  it('makes its directory owner-only, and groups a burst of commits into few writes', async () => {
    const path = join(dir, `made-${++count}`, 'deeper', 'state.json');
    const fs = new SlowFs();
    let value = 0;
    const file = await StateFile.open(path, () => `${JSON.stringify({ value })}\n`, { fs });
    const commits: Promise<void>[] = [];
    const seenAtAnswer: number[] = [];
    for (let i = 1; i <= 50; i++) {
      value = i;
      // What each commit is answered with must already be on disk.
      commits.push(
        file.commit().then(() => {
          seenAtAnswer.push(JSON.parse(readFileSync(path, 'utf8')).value);
          assert.ok(seenAtAnswer.at(-1)! >= i, `commit ${i} answered before it was on disk`);
        }),
      );
    }
    await Promise.all(commits);
    // The first write carries commit 1; the second, started after it, carries 2..50.
    assert.equal(fs.writes, 2);
    assert.deepEqual(file.stats(), { writes: 2, failures: 0 });
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).value, 50);
    assert.equal(statSync(join(path, '..')).mode & 0o777, 0o700);
  });

  it('fails the commits a failed write carried, and the next write saves everything', async () => {
    const path = fresh();
    const fs = new SlowFs();
    let value = 0;
    const file = await StateFile.open(path, () => `${value}\n`, { fs });
    value = 1;
    await file.commit();
    fs.fail = new Error('ENOSPC: no space left on device');
    value = 2;
    await assert.rejects(file.commit(), {
      message: `cannot write ${path}: ENOSPC: no space left on device`,
    });
    assert.equal(readFileSync(path, 'utf8'), '1\n', 'the old state is intact');
    fs.fail = undefined;
    value = 3;
    await file.commit();
    await file.idle();
    assert.equal(readFileSync(path, 'utf8'), '3\n');
    assert.deepEqual(file.stats(), { writes: 2, failures: 1 });
  });
});
