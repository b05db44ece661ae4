/**
 * The daemon's state file, in-process on memory links: run-time changes are answered once
 * saved and come back after a restart, with the precedence rules of state.ts against an
 * edited file and a reload; a corrupt file, a file that cannot be written, and a change
 * that cannot be saved (answered EIO, in force).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  BASE_CONFIG,
  DaemonBench,
  daemonConfig,
  withBench,
} from '../../test/support/daemon-bench.ts';
import { ControlError } from '../control/client.ts';
import { DaemonError } from './daemon.ts';

const CONFIG = daemonConfig({
  statics: [...BASE_CONFIG.statics, { host: '192.0.2.10', mac: '02:00:00:00:00:10' }],
});

/** One daemon's files (config, socket, state), started and stopped as often as a test likes. */
class Site extends DaemonBench {
  constructor(config: string) {
    super({ config, peer: false, numberPorts: true });
  }

  /** The entries as "ip mac flags". */
  async table(): Promise<string[]> {
    return (await this.client.list())
      .filter((e) => !e.local)
      .map(
        (e) =>
          `${e.ip}${e.proxyOnly ? ' (only)' : ''} ${e.mac} ${e.permanent ? 'permanent' : 'temp'}${e.published ? ' pub' : ''}`,
      );
  }
}

async function withSite(config: string, body: (s: Site) => Promise<void>): Promise<void> {
  await withBench(new Site(config), body, false);
}

describe('Daemon state file', () => {
  it('keeps entries set and deleted and knobs set at run time across a restart', async () => {
    await withSite(CONFIG, async (s) => {
      let { client } = await s.start();
      assert.ok(existsSync(s.statePath), 'written at start');
      await client.set({ host: '192.0.2.20', mac: '02:00:00:00:00:20' });
      await client.set({ host: '192.0.2.21', mac: '02:00:00:00:00:21', pub: true, only: true });
      await client.set({ host: '192.0.2.9', mac: '02:00:00:00:00:99', pub: true, replace: true });
      await client.set({ host: '192.0.2.22', mac: '02:00:00:00:00:22', temp: true });
      await client.delete('192.0.2.10');
      await client.sysctlSet('max_age', 600);
      await client.sysctlSet('net.link.ether.inet.maxtries', 4);
      const before = await s.table();
      assert.deepEqual(before, [
        '192.0.2.9 02:00:00:00:00:99 permanent pub',
        '192.0.2.20 02:00:00:00:00:20 permanent',
        '192.0.2.22 02:00:00:00:00:22 temp',
        '192.0.2.21 (only) 02:00:00:00:00:21 permanent pub',
      ]);
      // The file says it in the config's words (a temporary entry is not kept).
      const saved = JSON.parse(readFileSync(s.statePath, 'utf8'));
      assert.deepEqual(saved.statics, [
        {
          set: { host: '192.0.2.9', mac: '02:00:00:00:00:99', pub: true },
          config: { host: '192.0.2.9', mac: '02:00:00:00:00:09', pub: true },
        },
        { set: null, config: { host: '192.0.2.10', mac: '02:00:00:00:00:10' } },
        { set: { host: '192.0.2.20', mac: '02:00:00:00:00:20' }, config: null },
        {
          set: { host: '192.0.2.21', mac: '02:00:00:00:00:21', pub: true, only: true },
          config: null,
        },
      ]);
      assert.deepEqual(saved.sysctl, [
        { name: 'net.link.ether.inet.max_age', value: 600, config: null },
        { name: 'net.link.ether.inet.maxtries', value: 4, config: 2 },
      ]);

      client = (await s.restart()).client;
      assert.deepEqual(
        await s.table(),
        before.filter((e) => !e.endsWith('temp')),
        'all but the temporary entry',
      );
      assert.deepEqual(
        (await client.sysctlGet())
          .filter((k) => /max_age|maxtries/.test(k.name))
          .map((k) => k.value),
        [600, 4],
      );
      assert.ok(
        s.logs.includes(
          `netarp: state: restored 3 entries set, 1 deleted and 2 knobs set at run time, from ${s.statePath}`,
        ),
        s.logs.join('\n'),
      );
      // Restored entries are the operator's: a reload of the same file leaves them alone
      // except where the file names the key (its word stands).
      assert.equal(await s.daemon.reload(), true);
      assert.deepEqual(await s.table(), [
        '192.0.2.9 02:00:00:00:00:09 permanent pub',
        '192.0.2.10 02:00:00:00:00:10 permanent',
        '192.0.2.20 02:00:00:00:00:20 permanent',
        '192.0.2.21 (only) 02:00:00:00:00:21 permanent pub',
      ]);
      // ...and the state follows: after another restart, the same table.
      await s.restart();
      assert.deepEqual(await s.table(), [
        '192.0.2.9 02:00:00:00:00:09 permanent pub',
        '192.0.2.10 02:00:00:00:00:10 permanent',
        '192.0.2.20 02:00:00:00:00:20 permanent',
        '192.0.2.21 (only) 02:00:00:00:00:21 permanent pub',
      ]);
    });
  });

  it('a flush is kept: the config entries it deleted stay deleted', async () => {
    await withSite(CONFIG, async (s) => {
      const { client } = await s.start();
      await client.set({ host: '192.0.2.20', mac: '02:00:00:00:00:20' });
      await client.flush();
      assert.deepEqual(await s.table(), []);
      await s.restart();
      assert.deepEqual(await s.table(), []);
    });
  });

  it('a file edited while the daemon was stopped wins for the keys the edit changed', async () => {
    await withSite(CONFIG, async (s) => {
      const { client } = await s.start();
      await client.set({ host: '192.0.2.10', mac: '02:00:00:00:00:77', replace: true });
      await client.set({ host: '192.0.2.9', mac: '02:00:00:00:00:78', pub: true, replace: true });
      await client.sysctlSet('maxtries', 7);
      await s.stop();
      writeFileSync(
        s.file,
        CONFIG.replace('mac = "02:00:00:00:00:10"', 'mac = "02:00:00:00:00:11"').replace(
          '"net.link.ether.inet.maxtries" = 2',
          '"net.link.ether.inet.maxtries" = 3',
        ),
      );
      const again = (await s.start()).client;
      assert.deepEqual(await s.table(), [
        '192.0.2.9 02:00:00:00:00:78 permanent pub',
        '192.0.2.10 02:00:00:00:00:11 permanent',
      ]);
      assert.equal((await again.sysctlGet('maxtries'))[0]?.value, 3);
      assert.ok(
        s.logs.includes(
          "netarp: state: 192.0.2.10: the config file changed this entry (192.0.2.10 at 02:00:00:00:00:11) since it was set at run time; the file's word stands",
        ),
        s.logs.join('\n'),
      );
      assert.ok(
        s.logs.includes(
          "netarp: state: net.link.ether.inet.maxtries: the config file changed it (3) since it was set to 7 at run time; the file's word stands",
        ),
      );
    });
  });

  it('drops, with a warning, a change that no longer applies', async () => {
    const two = `${CONFIG}
[[interface]]
name = "vx1"
mac = "02:00:00:00:01:02"
addresses = ["198.51.100.2/24"]
link = { type = "vxlan", local = "127.0.0.1:4791", remote = ["127.0.0.1:4792"], vni = 43 }
`;
    await withSite(two, async (s) => {
      const { client } = await s.start();
      await client.set({ host: '198.51.100.9', mac: '02:00:00:00:01:09' });
      await s.stop();
      writeFileSync(s.file, CONFIG);
      await s.start();
      assert.ok(
        s.logs.includes(
          'netarp: state: 198.51.100.9 cannot be restored: set: cannot intuit interface index and type for 198.51.100.9; dropped',
        ),
        s.logs.join('\n'),
      );
      assert.equal(JSON.parse(readFileSync(s.statePath, 'utf8')).statics.length, 0, 'forgotten');
    });
  });

  it('a corrupt state file: logged, moved aside, and the daemon starts from its config', async () => {
    await withSite(CONFIG, async (s) => {
      mkdirSync(join(s.dir, 'run'));
      writeFileSync(s.statePath, '{"format":"netarp-state","version":1,"statics":[{"set":');
      await s.start();
      assert.deepEqual(await s.table(), [
        '192.0.2.9 02:00:00:00:00:09 permanent pub',
        '192.0.2.10 02:00:00:00:00:10 permanent',
      ]);
      assert.equal(
        readFileSync(`${s.statePath}.corrupt-1`, 'utf8'),
        '{"format":"netarp-state","version":1,"statics":[{"set":',
      );
      assert.match(
        s.logs[0]!,
        /^netarp: state file .* is corrupt: not JSON: .*; moved to .*\.corrupt-1; starting from the config alone$/,
      );
      assert.equal(JSON.parse(readFileSync(s.statePath, 'utf8')).format, 'netarp-state');
    });
  });

  it('answers EIO for a change it cannot save (in force), and saves it with the next one', async () => {
    await withSite(CONFIG, async (s) => {
      const state = join(s.dir, 'kept', 'state.json');
      const { client } = await s.start({ statePath: state });
      // The directory replaced by a file: every write fails with ENOTDIR.
      renameSync(join(s.dir, 'kept'), join(s.dir, 'kept.away'));
      writeFileSync(join(s.dir, 'kept'), 'not a directory');
      await assert.rejects(
        client.set({ host: '192.0.2.30', mac: '02:00:00:00:00:30' }),
        (error) => {
          assert.ok(error instanceof ControlError);
          assert.equal(error.code, 'EIO');
          assert.match(
            error.message,
            /^set 192\.0\.2\.30: in force, but not saved \(it would be lost at a restart\): cannot write .*state\.json: ENOTDIR/,
          );
          return true;
        },
      );
      assert.equal((await client.get('192.0.2.30')).mac, '02:00:00:00:00:30', 'in force');
      assert.ok(
        s.logs.some((l) => l.startsWith('netarp: set 192.0.2.30: in force, but not saved')),
      );
      rmSync(join(s.dir, 'kept'));
      renameSync(join(s.dir, 'kept.away'), join(s.dir, 'kept'));
      await client.sysctlSet('maxtries', 5);
      const saved = JSON.parse(readFileSync(state, 'utf8'));
      assert.deepEqual(saved.statics, [
        { set: { host: '192.0.2.30', mac: '02:00:00:00:00:30' }, config: null },
      ]);
      assert.deepEqual((await client.stats()).state, {
        path: state,
        changes: 2,
        writes: 2,
        failures: 1,
      });
    });
  });

  it('refuses to start where the state file cannot be written, leaving nothing open', async () => {
    await withSite(CONFIG, async (s) => {
      writeFileSync(join(s.dir, 'plain'), '');
      await assert.rejects(s.start({ statePath: join(s.dir, 'plain', 'state.json') }), (error) => {
        assert.ok(error instanceof DaemonError);
        assert.equal(error.code, 'ESTATE');
        assert.match(
          error.message,
          /^cannot keep the state file .*plain\/state\.json: .*EEXIST|ENOTDIR/,
        );
        return true;
      });
      assert.equal(existsSync(s.socket), false);
    });
  });

  it("takes the config's state key, relative to the config file", async () => {
    await withSite(`state = "kept/netarp.json"\n${CONFIG}`, async (s) => {
      const { client } = await s.start();
      await client.sysctlSet('maxtries', 6);
      assert.equal(
        JSON.parse(readFileSync(join(s.dir, 'kept', 'netarp.json'), 'utf8')).sysctl[0].value,
        6,
      );
      assert.equal(existsSync(s.statePath), false);
    });
  });
});
