import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { nativeUnavailableReason } from '../link/native/addon.ts';
import { VxlanLink } from '../link/vxlan.ts';
import { ManualClock } from '../runtime/clock.ts';
import { parsePcap } from '../wire/pcap.ts';
import type { LinkSpec } from './config.ts';
import { openLink } from './links.ts';

const dir = mkdtempSync(join(tmpdir(), 'netarp-links-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const clock = new ManualClock(1_700_000_000_000);

const vxlan = (port: number, io: 'auto' | 'native' | 'dgram' = 'auto'): LinkSpec => ({
  type: 'vxlan',
  local: { address: '127.0.0.1', port },
  remotes: [{ address: '127.0.0.1', port: 9 }],
  vni: 42,
  io,
});

describe('openLink', () => {
  it('opens a VXLAN link with its counters', async () => {
    const opened = await openLink(vxlan(0), { ifName: 'vx0', pcap: undefined, clock });
    try {
      assert.equal(opened.type, 'vxlan');
      assert.ok(opened.link instanceof VxlanLink);
      assert.match(opened.link.name, /^vxlan 127\.0\.0\.1:\d+ vni 42$/);
      opened.link.send(new Uint8Array(60));
      assert.equal(opened.counters().txFrames, 1);
      assert.equal(opened.pcapCounters(), undefined);
    } finally {
      await opened.link.close();
    }
  });

  it('opens a VXLAN link on the io backend the spec names; its counters are numbers', async () => {
    const backends = nativeUnavailableReason() === undefined ? ['dgram', 'native'] : ['dgram'];
    for (const io of backends as ('dgram' | 'native')[]) {
      const opened = await openLink(vxlan(0, io), { ifName: 'vx0', pcap: undefined, clock });
      try {
        assert.ok(opened.link instanceof VxlanLink);
        assert.equal(opened.link.io, io);
        assert.equal(opened.io, io, 'the daemon is told which backend runs');
        const counters = opened.counters();
        assert.ok(!('io' in counters), 'which backend runs is not a counter');
        assert.ok(Object.values(counters).every((v) => typeof v === 'number'));
        assert.equal(counters.rxBatches, 0);
      } finally {
        await opened.link.close();
      }
    }
  });

  it('tees to a capture file when asked', async () => {
    const pcap = join(dir, 'vx0.pcap');
    const opened = await openLink(vxlan(0), { ifName: 'vx0', pcap, clock });
    assert.ok(opened.io === 'native' || opened.io === 'dgram', 'io is known through the tee');
    opened.link.send(Uint8Array.of(1, 2, 3));
    await opened.link.close();
    assert.deepEqual(opened.pcapCounters(), { recordedIn: 0, recordedOut: 1, notRecorded: 0 });
    const file = parsePcap(new Uint8Array(readFileSync(pcap)));
    assert.ok(!('kind' in file));
    assert.deepEqual(
      file.records.map((r) => [...r.frame]),
      [[1, 2, 3]],
    );
  });

  it('closes the link again when its capture cannot be written', async () => {
    const probe = await openLink(vxlan(0), { ifName: 'vx0', pcap: undefined, clock });
    const port = (probe.link as VxlanLink).localEndpoint().port;
    await probe.link.close();
    await assert.rejects(
      openLink(vxlan(port), { ifName: 'vx0', pcap: join(dir, 'no/such/dir/x.pcap'), clock }),
      /pcap/,
    );
    // The port is free again: the failed open did not leave its socket bound.
    const again = await openLink(vxlan(port), { ifName: 'vx0', pcap: undefined, clock });
    await again.link.close();
  });

  it('opens tap and packet links, and names the device when the kernel refuses', async () => {
    // Without root or without the native addon the kernel (or the loader) refuses; either
    // way the error names the device, and no link is left open.
    const nosuch = { type: 'packet', device: 'nosuch0' } as const;
    await assert.rejects(
      openLink(nosuch, { ifName: 'x', pcap: undefined, clock }),
      (error: unknown) => error instanceof Error && /nosuch0|native/.test(error.message),
    );
  });
});
