/**
 * netarp on a TAP device against the Linux kernel's own ARP (smoke test). netarp's namespace
 * bridges its TAP device to a veth whose other end is the kernel peer's (native-topology.ts);
 * the kernel side is iputils `ping` and `ip neigh`. The same skip policy as the VXLAN suite,
 * plus the native addon: without it the suite is skipped (or fails under
 * NETARP_REQUIRE_INTEROP=1) with the reason.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { nativeUnavailableReason } from '../../src/link/native/addon.ts';
import { assertKernelCold, interopSuite, kernelPings, must, reachable } from './helpers.ts';
import {
  deleteUnderPeer,
  type NativeTopology,
  nativeState,
  withNativeTopology,
} from './native-topology.ts';

/** Namespaces, a bridge, node's start-up and a few pings: well under this. */
const TEST_TIMEOUT_MS = 15_000;

/** The kernel pings netarp from cold caches, must get the first echo answered, and learns it. */
async function kernelPingsNetarp(topo: NativeTopology): Promise<string> {
  const rtt = await kernelPings(topo, topo.netarpAddress);
  assert.match(await topo.kernelNeighbours(), reachable(topo.netarpAddress, topo.netarpMac));
  return rtt;
}

interopSuite(
  'netarp <-> Linux kernel over a TAP device',
  () => {
    it('a: attached to an existing TAP device; the kernel pings netarp and netarp pings the kernel, from cold caches', {
      timeout: TEST_TIMEOUT_MS,
    }, async (t) => {
      await withNativeTopology('tap', async (topo) => {
        const peer = await topo.startPeer();
        const rtt = await kernelPingsNetarp(topo);
        t.diagnostic(`kernel -> netarp over TAP, cold (ARP + echo): ${rtt} ms`);

        // netarp learned the kernel from its request (RFC 826: the target adds the sender),
        // so its own ping needs no ARP at all.
        let state = await nativeState(peer);
        const entry = state.entries.find((e) => e.ip === topo.kernelAddress);
        assert.deepEqual(
          { mac: entry?.mac, state: entry?.state },
          { mac: topo.kernelMac, state: 'resolved' },
        );
        assert.equal(state.engine.txreplies, 1);
        const ping = await peer.ping(topo.kernelAddress, { count: 3, intervalMs: 100 });
        assert.equal(ping.received, 3, JSON.stringify(ping.probes));
        t.diagnostic(
          `netarp -> kernel over TAP, warm: ${ping.rttsMs.map((r) => r.toFixed(3)).join(' ')} ms`,
        );

        state = await nativeState(peer);
        assert.equal(state.engine.txrequests, 0, 'netarp never had to ask');
        assert.equal(state.engine.rxFromMe, 0, 'a TAP device never echoes our own frames');
        assert.equal(state.native.kind, 'tap');
        assert.notEqual(
          state.native.deviceMac,
          topo.netarpMac,
          'netarp is a host beyond the device',
        );
        assert.ok(state.link.rxFrames >= 4, JSON.stringify(state.link));
        assert.equal(state.link.txErrors, 0, JSON.stringify(state.link));
        t.diagnostic(
          `tap link: ${state.link.rxFrames} frames in ${state.link.rxBatches} wakeups, ${state.link.txFrames} sent`,
        );
        assert.deepEqual(peer.errors, []);
      });
    });

    it('b: netarp creates the TAP device; netarp resolves and pings the kernel from cold caches', {
      timeout: TEST_TIMEOUT_MS,
    }, async (t) => {
      await withNativeTopology(
        'tap',
        async (topo) => {
          const peer = await topo.startPeer();
          // The device exists because netarp opened it; the operator's part follows.
          const shown = await must([
            'ip',
            '-n',
            topo.netarpNs,
            '-d',
            'link',
            'show',
            topo.tapDevice,
          ]);
          assert.match(shown, /tun type tap/);
          await topo.bridgeTap();
          await assertKernelCold(topo);

          const result = await peer.ping(topo.kernelAddress, { count: 1, timeoutMs: 2000 });
          assert.deepEqual(
            { transmitted: result.transmitted, received: result.received },
            { transmitted: 1, received: 1 },
            JSON.stringify(result.probes),
          );
          t.diagnostic(
            `netarp -> kernel over TAP, cold (ARP + held echo): ${result.rttsMs[0]?.toFixed(3)} ms`,
          );
          const state = await nativeState(peer);
          assert.equal(state.engine.txrequests, 1, 'one ARP request');
          assert.equal(state.runner.heldDelivered, 1, 'the held echo went out');
          assert.equal(state.host.rxEchoReplies, 1);
          const entry = state.entries.find((e) => e.ip === topo.kernelAddress);
          assert.equal(entry?.mac, topo.kernelMac);

          // The kernel's side learned netarp from the request it answered.
          const neighbours = await topo.kernelNeighbours();
          assert.match(neighbours, new RegExp(`lladdr ${topo.netarpMac}`));

          // A device netarp created goes away with the link.
          await peer.close();
          const after = await topo.netarpSide(['ip', 'link', 'show', topo.tapDevice]);
          assert.notEqual(after.code, 0, `${topo.tapDevice} outlived the link: ${after.stdout}`);
        },
        { createTap: false },
      );
    });

    it('c: the TAP device is deleted under netarp: one clear error, no crash', {
      timeout: TEST_TIMEOUT_MS,
    }, async () => {
      await withNativeTopology('tap', async (topo) => {
        const peer = await topo.startPeer();
        await kernelPingsNetarp(topo);
        // The process lives on and still answers; the link says why it stopped.
        const error = await deleteUnderPeer(
          topo,
          peer,
          topo.tapDevice,
          /tap tap0: the device tap0 is gone/,
        );
        assert.match(error, /file descriptor in bad state \(EBADFD\)/);
      });
    });
  },
  nativeUnavailableReason,
);
