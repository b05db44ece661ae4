/**
 * Only the socket's owner may connect. A client runs as another user (`nobody`, a child
 * process started with that uid) and must be refused with a one-line "permission denied ...
 * (the socket is owner-only ...)", first by the 0700 directory, then by the 0600 socket alone;
 * and the same child does connect once the socket is opened to all, so the test can fail. The
 * server also refuses a directory in which another user could replace the socket.
 *
 * Changing uid needs root: run as another user, the suite is skipped with that reason.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { withClient } from './client.ts';
import { ControlServer, ControlServerError } from './server.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLIENT = fileURLToPath(new URL('./client.ts', import.meta.url));
/** nobody on Debian and most Linux systems. */
const NOBODY = 65534;

const skip =
  process.getuid?.() === 0 ? false : 'needs root, to run a client as another user (nobody)';

const dir = mkdtempSync(join(tmpdir(), 'netarp-owner-'));
// Traversable by all, so that what stops another user is the socket's own directory or mode.
chmodSync(dir, 0o755);
after(() => rmSync(dir, { recursive: true, force: true }));

/** Connects as `nobody` with the client library and says what happened, as one line. */
function connectAsNobody(path: string): Promise<string> {
  const script = `
    const { ControlClient, ControlError } = await import(${JSON.stringify(CLIENT)});
    try {
      const client = await ControlClient.connect({ path: ${JSON.stringify(path)} });
      const entries = await client.list();
      console.log('connected, list answered with ' + entries.length + ' entries');
      client.close();
    } catch (error) {
      console.log(error instanceof ControlError ? error.code + ': ' + error.message : String(error));
    }`;
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '--eval', script],
      // tsx keeps its cache under the temporary directory, per user.
      { cwd: ROOT, uid: NOBODY, gid: NOBODY, env: { ...process.env, HOME: '/' } },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0 && out !== '') resolve(out.trim());
      else reject(new Error(`the client as nobody exited ${code}: ${out}${err}`));
    });
  });
}

const handler = { handle: () => [] };

describe('the control socket is owner-only', { skip }, () => {
  it('refuses another user, by the directory and by the socket alone, with a clear error', async () => {
    const path = join(dir, 'run', 'netarp.sock');
    const server = await ControlServer.listen({ path, handler });
    try {
      const ownerOnly = `EACCES: cannot connect to ${path}: permission denied (the socket is owner-only: run as the daemon's user, usually root)`;
      // The directory the server made is 0700: nobody cannot even reach the socket.
      assert.equal(await connectAsNobody(path), ownerOnly);
      // With the directory opened, the socket's 0600 alone refuses.
      chmodSync(join(dir, 'run'), 0o755);
      assert.equal(await connectAsNobody(path), ownerOnly);
      // The owner (root) is served.
      assert.deepEqual(await withClient({ path }, (c) => c.list()), []);
      // The same child connects once the socket is open to all: the refusals above were the
      // mode's doing, not the child's.
      chmodSync(path, 0o666);
      assert.equal(await connectAsNobody(path), 'connected, list answered with 0 entries');
    } finally {
      await server.close();
    }
  });

  it('refuses a directory in which another user could replace the socket', async () => {
    const cases: [string, (d: string) => void, RegExp][] = [
      [
        'writable by others',
        (d) => chmodSync(d, 0o777),
        /is writable by other users, who could replace the socket; make it 0700/,
      ],
      [
        "another user's",
        (d) => chownSync(d, NOBODY, NOBODY),
        /belongs to uid 65534, who could replace the socket/,
      ],
    ];
    for (const [name, spoil, says] of cases) {
      const directory = join(dir, name.replaceAll(/\W/g, '-'));
      mkdirSync(directory);
      spoil(directory);
      await assert.rejects(
        ControlServer.listen({ path: join(directory, 'netarp.sock'), handler }),
        (error: unknown) =>
          error instanceof ControlServerError && error.code === 'EPERM' && says.test(error.message),
        name,
      );
    }
    // Sticky, like /tmp: others may create files but not replace ours.
    const sticky = join(dir, 'sticky');
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    const server = await ControlServer.listen({ path: join(sticky, 'netarp.sock'), handler });
    await server.close();
  });
});
