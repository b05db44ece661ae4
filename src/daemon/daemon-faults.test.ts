/**
 * Link faults in the daemon, in-process on a memory hub with a manual clock, so that every
 * delay is exact: a run of link errors (one line, counted, ended by a frame), a device deleted
 * under the daemon (down, evicted if asked, reopened with backoff once it exists again, then
 * announced), a carrier lost and back, and a reload while the device is gone.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ControlClient } from '../control/client.ts';
import { Engine } from '../core/engine.ts';
import { type FrameHandler, type Link, LinkError, type LinkErrorHandler } from '../link/link.ts';
import { MemoryHub, type MemoryLink } from '../link/memory.ts';
import { ManualClock } from '../runtime/clock.ts';
import { Runner } from '../runtime/runner.ts';
import { parseIpv4, parseMac } from '../wire/addr.ts';
import { describeFrame } from '../wire/format.ts';
import type { LinkSpec } from './config.ts';
import { Daemon } from './daemon.ts';
import type { DeviceState, LinkOpener } from './links.ts';
import { LogSink } from './log.ts';

const dir = mkdtempSync(join(tmpdir(), 'netarp-daemon-faults-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;

const OUR_MAC = '02:00:00:00:00:02';
const PEER_MAC = '02:00:00:00:00:01';

const CONFIG = (extra = '') => `
[[interface]]
name = "vx0"
mac = "${OUR_MAC}"
addresses = ["192.0.2.2/24"]
link = { type = "tap", device = "tapx0" }
${extra}
`;

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

/** The daemon, a neighbour and a sniffer on the hub, the clock, and the fakes' controls. */
class Bench {
  readonly clock = new ManualClock(1_700_000_000_000);
  readonly hub = new MemoryHub();
  readonly logs: string[] = [];
  readonly frames: string[] = [];
  readonly links: FaultyLink[] = [];
  /** What the probe says about the device, and when it was asked. */
  device: DeviceState = 'up';
  readonly probedAt: number[] = [];
  /** Opens to refuse before one succeeds. */
  refuseOpens = 0;
  opens = 0;
  readonly peerEngine = new Engine();
  readonly peer: Runner;
  readonly file: string;
  readonly socket: string;
  daemon!: Daemon;
  client!: ControlClient;

  constructor(config: string) {
    const id = ++count;
    this.file = join(dir, `netarp-${id}.toml`);
    this.socket = join(dir, `run-${id}`, 'netarp.sock');
    writeFileSync(this.file, config);
    this.peerEngine.addInterface({ name: 'eth0', mac: parseMac(PEER_MAC) });
    this.peer = new Runner(this.peerEngine, {
      clock: this.clock,
      links: { eth0: this.hub.port('peer') },
    });
    this.peer.apply((e, now) => e.addAddress(now, 'eth0', '192.0.2.1/24'));
    this.hub.port('sniffer').onFrame((frame) => this.frames.push(describeFrame(frame)));
  }

  readonly opener: LinkOpener = async (spec: LinkSpec, options) => {
    this.opens++;
    if (this.refuseOpens > 0) {
      this.refuseOpens--;
      throw new Error(`tap ${spec.type === 'tap' ? spec.device : '?'}: EBUSY`);
    }
    const link = new FaultyLink(this.hub.port(`${options.ifName}-${this.opens}`));
    this.links.push(link);
    return {
      link,
      type: spec.type,
      counters: () => ({}),
      pcapCounters: () => undefined,
      gone: () => link.goneReason,
    };
  };

  get link(): FaultyLink {
    return this.links.at(-1)!;
  }

  async start(): Promise<this> {
    this.daemon = await Daemon.start({
      configFile: this.file,
      socketPath: this.socket,
      log: new LogSink({ format: 'text', write: (t) => this.logs.push(t.trimEnd()) }),
      clock: this.clock,
      openLink: this.opener,
      probeDevice: async () => {
        this.probedAt.push(this.clock.now());
        return this.device;
      },
      linkWatch: { carrierPollMs: 100, reattachMinMs: 1000, reattachMaxMs: 8000 },
    });
    this.client = await ControlClient.connect({ path: this.socket });
    return this;
  }

  async stop(): Promise<void> {
    this.client?.close();
    await this.daemon?.stop();
    await this.peer.close();
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
    this.peer.resolve(parseIpv4('192.0.2.2'), new Uint8Array(20));
    await settle();
  }

  async vx0(): Promise<{ up: boolean; flags: readonly string[]; fault?: string | undefined }> {
    const info = (await this.client.interfaces())[0]!;
    return { up: info.up, flags: info.flags, fault: info.fault };
  }

  async learned(): Promise<string[]> {
    return (await this.client.list()).filter((e) => !e.static && !e.local).map((e) => e.ip);
  }

  /** Lines logged since index `from`. */
  since(from: number): string[] {
    return this.logs.slice(from);
  }
}

async function withBench(config: string, body: (b: Bench) => Promise<void>): Promise<void> {
  const bench = await new Bench(config).start();
  try {
    await body(bench);
  } finally {
    await bench.stop();
  }
}

const ANNOUNCE = `${OUR_MAC} > ff:ff:ff:ff:ff:ff, ARP, Announcement 192.0.2.2, length 28`;

describe('Daemon link faults', () => {
  it('logs the first error of a run, counts them all, and says when a frame arrives again', async () => {
    await withBench(CONFIG(), async (b) => {
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
    await withBench(CONFIG('evict_nocarrier = true'), async (b) => {
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
      b.refuseOpens = 1;
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
    await withBench(CONFIG(), async (b) => {
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
      CONFIG('evict_nocarrier = true\n[[static]]\nhost = "192.0.2.9"\nmac = "02:00:00:00:00:09"'),
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
    await withBench(CONFIG(), async (b) => {
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
