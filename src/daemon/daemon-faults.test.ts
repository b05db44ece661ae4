/**
 * Link faults in the daemon, in-process on a memory hub with a manual clock, so that every
 * delay is exact: a run of link errors (one line, counted, ended by a frame), a device deleted
 * under the daemon (down, evicted if asked, reopened with backoff once it exists again, then
 * announced), a carrier lost and back, and a reload while the device is gone.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type BenchLink,
  DaemonBench,
  daemonConfig,
  OUR_MAC,
  PEER_MAC,
  VX0,
  withBench,
} from '../../test/support/daemon-bench.ts';
import { type FrameHandler, type Link, LinkError, type LinkErrorHandler } from '../link/link.ts';
import type { MemoryLink } from '../link/memory.ts';
import { ManualClock } from '../runtime/clock.ts';
import { parseIpv4 } from '../wire/addr.ts';

/** vx0 on a TAP device, no knobs, no entries; `extra` is appended to the interface. */
const CONFIG = (extra = '') =>
  daemonConfig(
    { sysctl: {}, interfaces: [{ ...VX0, link: { type: 'tap', device: 'tapx0' } }], statics: [] },
    extra,
  );

/** A memory port that can be told to fail, or that its device is gone. */
class FaultyLink implements Link {
  private errorHandler: LinkErrorHandler | undefined;
  goneReason: string | undefined;

  constructor(readonly inner: MemoryLink) {}

  get name(): string {
    return this.inner.name;
  }

  send(frame: Uint8Array): void {
    if (this.goneReason === undefined) this.inner.send(frame);
  }

  onFrame(handler: FrameHandler): void {
    this.inner.onFrame(handler);
  }

  onError(handler: LinkErrorHandler): void {
    this.errorHandler = handler;
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** Reports an I/O error, as a driver does. */
  fail(message: string): void {
    this.errorHandler?.(new LinkError('EIO', `${this.name}: ${message}`));
  }

  /** The device is deleted: reported once, as the native links do. */
  lose(reason: string): void {
    this.goneReason = reason;
    this.fail(reason.slice(this.name.length + 2));
  }
}

/** Lets promises and I/O callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** The daemon on faulty links, a neighbour and a sniffer on the hub, and a manual clock. */
class Bench extends DaemonBench {
  readonly links: FaultyLink[] = [];

  constructor(
    config: string,
    override readonly clock = new ManualClock(1_700_000_000_000),
  ) {
    super({
      config,
      clock,
      sniffer: true,
      numberPorts: true,
      linkWatch: { carrierPollMs: 100, reattachMinMs: 1000, reattachMaxMs: 8000 },
    });
  }

  protected override wrap(port: MemoryLink): BenchLink {
    const link = new FaultyLink(port);
    this.links.push(link);
    return { link, gone: () => link.goneReason };
  }

  /** The next `times` opens fail, as a TAP device still busy does; those after succeed. */
  refuseOpens(times: number): void {
    let left = times;
    this.failOpen = (spec) => {
      if (left === 0) return undefined;
      left--;
      return new Error(`tap ${spec.type === 'tap' ? spec.device : '?'}: EBUSY`);
    };
  }

  /** The link opened last. */
  get link(): FaultyLink {
    return this.links.at(-1)!;
  }

  /** Moves the clock `ms` forward in steps of `step`, letting the daemon's work run. */
  async pass(ms: number, step = 50): Promise<void> {
    for (let done = 0; done < ms; done += step) {
      this.clock.advance(Math.min(step, ms - done));
      await settle();
    }
  }

  /** The neighbour asks for the daemon's address: the daemon learns it and answers. */
  async neighbourAsks(): Promise<void> {
    this.peer.runner.resolve(parseIpv4('192.0.2.2'), new Uint8Array(20));
    await settle();
  }

  async vx0(): Promise<{ up: boolean; flags: readonly string[]; fault?: string | undefined }> {
    const info = (await this.client.interfaces())[0]!;
    return { up: info.up, flags: info.flags, fault: info.fault };
  }

  async learned(): Promise<string[]> {
    return (await this.client.list()).filter((e) => !e.static && !e.local).map((e) => e.ip);
  }
}

const ANNOUNCE = `${OUR_MAC} > ff:ff:ff:ff:ff:ff, ARP, Announcement 192.0.2.2, length 28`;

describe('Daemon link faults', () => {
  it('logs the first error of a run, counts them all, and says when a frame arrives again', async () => {
    await withBench(new Bench(CONFIG()), async (b) => {
      const from = b.logs.length;
      for (let i = 0; i < 5; i++) b.link.fail('send: Network is unreachable (ENETUNREACH)');
      await settle();
      assert.deepEqual(b.since(from), [
        'netarp: vx0: hub/vx0-1: send: Network is unreachable (ENETUNREACH) (more errors are counted, not logged, until a frame arrives again)',
      ]);
      assert.equal((await b.client.stats()).runner.linkErrors, 5);
      await b.neighbourAsks();
      assert.deepEqual(b.since(from + 1), ['netarp: vx0: hub/vx0-1 works again after 5 errors']);
      assert.deepEqual(await b.vx0(), { up: true, flags: [], fault: undefined }, 'never down');
      b.link.fail('send: Network is unreachable (ENETUNREACH)');
      await settle();
      assert.equal(b.since(from + 2).length, 1, 'a new run is logged again');
    });
  });

  it('a device deleted: down and evicted, reopened with backoff once back, then announced', async () => {
    await withBench(new Bench(CONFIG('evict_nocarrier = true')), async (b) => {
      await b.neighbourAsks();
      assert.deepEqual(await b.learned(), ['192.0.2.1']);
      const from = b.logs.length;
      const reason =
        'hub/vx0-1: the device tapx0 is gone (deleted?); close the link and open it again';
      b.device = 'absent';
      b.link.lose(reason);
      const lostAt = b.clock.now();
      await settle();
      assert.deepEqual(b.since(from), [
        `netarp: vx0: ${reason}; vx0 is down and its link is reopened once tapx0 exists again (SIGHUP: at once); 1 learned entries evicted`,
      ]);
      assert.deepEqual(await b.vx0(), {
        up: false,
        flags: ['evict_nocarrier', 'no-carrier'],
        fault: `${reason}; reopened when tapx0 exists again`,
      });
      assert.deepEqual(await b.learned(), []);
      const resolved = await b.client.resolve('192.0.2.1', 50);
      assert.deepEqual(!resolved.resolved && resolved.reason, 'network is down');

      // Absent for 20 s: tries after 1, 2, 4, 8, 8 s... (the carrier watch skips a lost link).
      b.probedAt.length = 0;
      await b.pass(20_000, 250);
      const delays = b.probedAt.map((t, i) => t - (b.probedAt[i - 1] ?? lostAt));
      assert.deepEqual(delays, [1000, 2000, 4000, 8000], 'backing off to the cap');
      assert.equal(b.opens, 1, 'never opened while absent: the device is not created');

      // Back, but busy at first: one warning, then reattached at the next try.
      b.device = 'up';
      b.refuseOpens(1);
      const back = b.logs.length;
      b.frames.length = 0;
      await b.pass(17_000, 250);
      assert.deepEqual(b.since(back), [
        'netarp: vx0: reopening tap tapx0 failed: tap tapx0: EBUSY',
        'netarp: vx0: reattached tap tapx0; vx0 is up',
      ]);
      assert.equal(b.opens, 3);
      assert.deepEqual(await b.vx0(), { up: true, flags: ['evict_nocarrier'], fault: undefined });
      // Coming up announces the address (engine.setInterfaceUp), on the new link.
      assert.deepEqual(b.frames, [ANNOUNCE]);
      const answer = await b.client.resolve('192.0.2.1', 1000);
      assert.deepEqual(answer.resolved && answer.mac, PEER_MAC, 'working again');
    });
  });

  it('carrier lost and back: down, entries kept (no evict_nocarrier), up and announced', async () => {
    await withBench(new Bench(CONFIG()), async (b) => {
      await b.neighbourAsks();
      const from = b.logs.length;
      b.device = 'down';
      await b.pass(100);
      assert.deepEqual(b.since(from), [
        'netarp: vx0: no carrier on tap tapx0; vx0 is down until carrier is back',
      ]);
      assert.deepEqual(await b.vx0(), {
        up: false,
        flags: ['no-carrier'],
        fault: 'no carrier on tap tapx0',
      });
      assert.deepEqual(await b.learned(), ['192.0.2.1'], 'kept');
      await b.pass(1000);
      assert.equal(b.since(from).length, 1, 'said once');
      b.frames.length = 0;
      b.device = 'up';
      await b.pass(100);
      assert.deepEqual(b.since(from + 1), [
        'netarp: vx0: carrier back on tap tapx0; vx0 is up and announces its addresses',
      ]);
      assert.deepEqual(await b.vx0(), { up: true, flags: [], fault: undefined });
      assert.deepEqual(b.frames, [ANNOUNCE]);
    });
  });

  it('carrier lost with evict_nocarrier: the learned entries go, static ones stay', async () => {
    await withBench(
      new Bench(
        CONFIG('evict_nocarrier = true\n[[static]]\nhost = "192.0.2.9"\nmac = "02:00:00:00:00:09"'),
      ),
      async (b) => {
        await b.neighbourAsks();
        const from = b.logs.length;
        b.device = 'down';
        await b.pass(100);
        assert.deepEqual(b.since(from), [
          'netarp: vx0: no carrier on tap tapx0; vx0 is down until carrier is back; 1 learned entries evicted',
        ]);
        assert.deepEqual(
          (await b.client.list()).map((e) => e.ip),
          ['192.0.2.2', '192.0.2.9'],
        );
      },
    );
  });

  it('a reload while the device is gone opens the link at once', async () => {
    await withBench(new Bench(CONFIG()), async (b) => {
      b.device = 'absent';
      b.link.lose('hub/vx0-1: the device tapx0 is gone (deleted?)');
      await settle();
      assert.equal((await b.vx0()).up, false);
      assert.equal(await b.daemon.reload(), true);
      assert.equal(b.opens, 2);
      assert.deepEqual(await b.vx0(), { up: true, flags: [], fault: undefined });
      // No retry left behind: nothing more is opened.
      await b.pass(10_000, 500);
      assert.equal(b.opens, 2);
    });
  });
});
