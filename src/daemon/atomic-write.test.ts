/**
 * The atomic writer: the order of its system calls (data flushed before the rename, the
 * directory flushed after it), what a failure at each step leaves behind, and a crash (the
 * process stopping dead) at each step, which must leave the old content or the new, whole.
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  type AtomicFs,
  type AtomicHandle,
  nodeAtomicFs,
  temporaryPathOf,
  writeFileAtomic,
} from './atomic-write.ts';

const dir = mkdtempSync(join(tmpdir(), 'netarp-atomic-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;

/** A fresh file path in the scratch directory. */
function freshPath(): string {
  return join(dir, `file-${++count}.json`);
}

/** The real file system, each call recorded as "op name" with the path's last part. */
class TracingFs implements AtomicFs {
  readonly calls: string[] = [];
  /** Throws this at the call whose index (in `calls`) it names, instead of making it. */
  failAt: { index: number; error: Error; dead?: boolean } | undefined;
  private dead = false;

  private step(what: string): void {
    if (this.dead) throw new Error('the process is dead');
    const index = this.calls.length;
    this.calls.push(what);
    if (this.failAt?.index === index) {
      // A crash: nothing more happens, not even the writer's clean-up.
      if (this.failAt.dead) this.dead = true;
      throw this.failAt.error;
    }
  }

  async open(path: string, flags: string, mode?: number): Promise<AtomicHandle> {
    const name = path.split('/').pop();
    this.step(`open ${name} ${flags}`);
    const handle = await nodeAtomicFs.open(path, flags, mode);
    return {
      writeAll: async (data) => {
        this.step(`write ${name}`);
        await handle.writeAll(data);
      },
      sync: async () => {
        this.step(`fsync ${name}`);
        await handle.sync();
      },
      close: async () => {
        // A dead process's files are closed by the kernel: close is never refused.
        if (!this.dead) this.calls.push(`close ${name}`);
        await handle.close();
      },
    };
  }

  async rename(from: string, to: string): Promise<void> {
    this.step(`rename ${from.split('/').pop()} ${to.split('/').pop()}`);
    await nodeAtomicFs.rename(from, to);
  }

  async unlink(path: string): Promise<void> {
    this.step(`unlink ${path.split('/').pop()}`);
    await nodeAtomicFs.unlink(path);
  }
}

describe('writeFileAtomic', () => {
  it('writes, flushes, renames, then flushes the directory, in that order', async () => {
    const path = freshPath();
    const name = path.split('/').pop()!;
    const dirName = dir.split('/').pop()!;
    const fs = new TracingFs();
    await writeFileAtomic(path, '{"a":1}\n', { fs });
    assert.deepEqual(fs.calls, [
      `open ${name}.tmp w`,
      `write ${name}.tmp`,
      `fsync ${name}.tmp`,
      `close ${name}.tmp`,
      `rename ${name}.tmp ${name}`,
      `open ${dirName} r`,
      `fsync ${dirName}`,
      `close ${dirName}`,
    ]);
    assert.equal(readFileSync(path, 'utf8'), '{"a":1}\n');
    assert.equal(statSync(path).mode & 0o777, 0o600, 'created owner-only');
    assert.equal(existsSync(temporaryPathOf(path)), false);
  });

  it('replaces a file whole, and overwrites a temporary file a crash left', async () => {
    const path = freshPath();
    writeFileSync(path, 'old content, longer than the new one\n');
    writeFileSync(temporaryPathOf(path), 'half a write from a crash');
    await writeFileAtomic(path, 'new\n');
    assert.equal(readFileSync(path, 'utf8'), 'new\n');
    assert.equal(existsSync(temporaryPathOf(path)), false);
  });

  it('on a failure at any step before the rename: the old file stays, no temporary is left', async () => {
    // Steps 0..3: open, write, fsync of the temporary file, then the rename (close is never refused).
    for (const index of [0, 1, 2, 4]) {
      const path = freshPath();
      writeFileSync(path, 'old\n');
      const fs = new TracingFs();
      fs.failAt = { index, error: new Error(`ENOSPC at step ${index}`) };
      await assert.rejects(writeFileAtomic(path, 'new\n', { fs }), {
        message: `ENOSPC at step ${index}`,
      });
      assert.equal(readFileSync(path, 'utf8'), 'old\n', `step ${index}: ${fs.calls.join(', ')}`);
      assert.equal(existsSync(temporaryPathOf(path)), false, `step ${index}`);
    }
  });

  it('a failure to flush the directory is reported, with the new content in place', async () => {
    const path = freshPath();
    writeFileSync(path, 'old\n');
    const fs = new TracingFs();
    fs.failAt = { index: 6, error: new Error('EIO on the directory') };
    await assert.rejects(writeFileAtomic(path, 'new\n', { fs }), {
      message: 'EIO on the directory',
    });
    assert.equal(fs.calls[6], `fsync ${dir.split('/').pop()}`);
    assert.equal(readFileSync(path, 'utf8'), 'new\n');
  });

  it('a crash at any step leaves the old content or the new, whole', async () => {
    const old = `${JSON.stringify({ version: 1, items: Array.from({ length: 500 }, (_, i) => i) })}\n`;
    const next = `${JSON.stringify({ version: 2, items: Array.from({ length: 900 }, (_, i) => -i) })}\n`;
    const seen: string[] = [];
    // The steps (indices into the trace): open, write, fsync, [close], rename, open dir, fsync dir.
    for (const index of [0, 1, 2, 4, 5, 6]) {
      const path = freshPath();
      writeFileSync(path, old);
      const fs = new TracingFs();
      fs.failAt = { index, error: new Error('killed'), dead: true };
      await assert.rejects(writeFileAtomic(path, next, { fs }));
      const text = readFileSync(path, 'utf8');
      assert.ok(text === old || text === next, `step ${index}: a mix of old and new`);
      JSON.parse(text);
      seen.push(`${fs.calls[index]?.split(' ')[0]}: ${text === old ? 'old' : 'new'}`);
    }
    // Up to the rename the old content is there; once renamed, the new.
    assert.deepEqual(seen, [
      'open: old',
      'write: old',
      'fsync: old',
      'rename: old',
      'open: new',
      'fsync: new',
    ]);
    // Each crash before the rename left its temporary file; nothing else is in the directory.
    assert.ok(readdirSync(dir).every((f) => /^file-\d+\.json(\.tmp)?$/.test(f)));
  });
});
