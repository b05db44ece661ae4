/**
 * netarp on AF_PACKET against the Linux kernel's own ARP (smoke test). netarp holds one end
 * of a veth pair, whose kernel has no address on it and `arp off`; the kernel peer holds the
 * other (native-topology.ts). The same skip policy as the VXLAN suite, plus the native addon:
 * without it the suite is skipped (or fails under NETARP_REQUIRE_INTEROP=1) with the reason.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { nativeUnavailableReason } from '../../src/link/native/addon.ts';
import { interopSuite, kernelPings, must, reachable } from './helpers.ts';
import {
  deleteUnderPeer,
  type NativeTopology,
  nativeState,
  withNativeTopology,
} from './native-topology.ts';

/** Namespaces, node's start-up and a few pings: well under this. */
const TEST_TIMEOUT_MS = 15_000;

/** An address the kernel of netarp's own namespace takes in test d (RFC 5737 TEST-NET-1). */
const SHARED_KERNEL_ADDRESS = '192.0.2.3';

/** The operator gives the kernel under netarp an address of its own there, ARP back on. */
async function giveKernelAnAddress(topo: NativeTopology): Promise<void> {
  await must([
    'ip',
    '-n',
    topo.netarpNs,
    'addr',
    'add',
    `${SHARED_KERNEL_ADDRESS}/24`,
    'dev',
    topo.netarpVeth,
  ]);
  await must(['ip', '-n', topo.netarpNs, 'link', 'set', topo.netarpVeth, 'arp', 'on']);
}

interopSuite(
  'netarp <-> Linux kernel over AF_PACKET',
  () => {
    it('a: the kernel pings netarp from cold caches; netarp answers on an interface the kernel does not address', {
      timeout: TEST_TIMEOUT_MS,
    }, async (t) => {
      await withNativeTopology('packet', async (topo) => {
        const peer = await topo.startPeer();
        const rtt = await kernelPings(topo, topo.netarpAddress);
        t.diagnostic(`kernel -> netarp over AF_PACKET, cold (ARP + echo): ${rtt} ms`);
        assert.match(await topo.kernelNeighbours(), reachable(topo.netarpAddress, topo.netarpMac));

        const state = await nativeState(peer);
        const entry = state.entries.find((e) => e.ip === topo.kernelAddress);
        assert.deepEqual(
          { mac: entry?.mac, state: entry?.state },
          { mac: topo.kernelMac, state: 'resolved' },
        );
        assert.equal(state.engine.rxrequests, 1, 'the kernel asked once');
        assert.equal(state.engine.txreplies, 1, 'netarp answered once');
        assert.equal(state.engine.txrequests, 0, 'netarp never had to ask');
        assert.equal(state.host.txEchoReplies, 1);
        // The veth's own MAC is the kernel's; netarp has its own on the same wire.
        assert.notEqual(state.native.deviceMac, topo.netarpMac);
        assert.equal(state.native.ignoresOutgoing, true, 'PACKET_IGNORE_OUTGOING (Linux >= 4.20)');
        assert.equal(state.link.rxOutgoing, 0);
        assert.equal(state.engine.rxFromMe, 0, 'netarp never heard itself');
        assert.deepEqual(peer.errors, []);

        // The namespace's own kernel stayed out of it: it has no neighbour for the peer.
        const own = await must([
          'ip',
          '-n',
          topo.netarpNs,
          'neigh',
          'show',
          'dev',
          topo.netarpVeth,
        ]);
        assert.equal(own.trim(), '', 'the kernel under netarp learned nothing');
      });
    });

    it('b: netarp, its MAC in the unicast filter, resolves and pings the kernel from cold caches: one request, the held echo delivered', {
      timeout: TEST_TIMEOUT_MS,
    }, async (t) => {
      await withNativeTopology('packet', async (topo) => {
        // As on a real NIC, netarp's MAC goes into the interface's unicast filter; veth has
        // none, so the kernel puts it in promiscuous mode instead, for as long as we are open.
        const promiscuity = async () =>
          /promiscuity (\d+)/.exec(
            await must(['ip', '-n', topo.netarpNs, '-d', 'link', 'show', topo.netarpVeth]),
          )?.[1];
        assert.equal(await promiscuity(), '0');
        const peer = await topo.startPeer({ extraArgs: ['--unicast-mac'] });
        assert.equal(await promiscuity(), '1');
        const result = await peer.ping(topo.kernelAddress, { count: 1, timeoutMs: 2000 });
        assert.deepEqual(
          { transmitted: result.transmitted, received: result.received },
          { transmitted: 1, received: 1 },
          JSON.stringify(result.probes),
        );
        t.diagnostic(
          `netarp -> kernel over AF_PACKET, cold (ARP + held echo): ${result.rttsMs[0]?.toFixed(3)} ms`,
        );
        const warm = await peer.ping(topo.kernelAddress, { count: 5, intervalMs: 50 });
        assert.equal(warm.received, 5, JSON.stringify(warm.probes));
        t.diagnostic(
          `netarp -> kernel, warm: ${warm.rttsMs.map((r) => r.toFixed(3)).join(' ')} ms`,
        );

        const state = await nativeState(peer);
        assert.equal(state.engine.txrequests, 1, 'one ARP request');
        assert.equal(state.runner.heldDelivered, 1, 'the held echo went out');
        assert.equal(state.host.rxEchoReplies, 6);
        assert.equal(state.engine.rxFromMe, 0);
        assert.match(await topo.kernelNeighbours(), new RegExp(`lladdr ${topo.netarpMac}`));
        await peer.close();
        assert.equal(await promiscuity(), '0', 'the membership went with the socket');
      });
    });

    it("c: the host's own transmissions on the interface never reach netarp, even where the kernel would hand them over", {
      timeout: TEST_TIMEOUT_MS,
    }, async () => {
      await withNativeTopology('packet', async (topo) => {
        // The kernel under netarp gets an address there and talks to the peer itself. Without
        // PACKET_IGNORE_OUTGOING (as before Linux 4.20) each frame it sends is copied to our
        // socket as PACKET_OUTGOING; with every EtherType taken, all of them are.
        await giveKernelAnAddress(topo);
        const peer = await topo.startPeer({
          extraArgs: ['--user-space-outgoing', '--protocols', 'all'],
        });
        const ping = await topo.netarpSide(['ping', '-c2', '-i0.2', '-W2', topo.kernelAddress]);
        assert.equal(ping.code, 0, ping.stdout + ping.stderr);

        const state = await nativeState(peer);
        assert.equal(state.native.ignoresOutgoing, false);
        // Its ARP request and two echo requests, at least, came to the socket and were dropped.
        assert.ok(state.link.rxOutgoing >= 3, JSON.stringify(state.link));
        // The engine would have counted the broadcast request for the peer's address.
        assert.equal(state.engine.rxrequests, 0, JSON.stringify(state.engine));
        assert.equal(state.engine.rxFromMe, 0);

        // netarp itself is unaffected.
        await kernelPings(topo, topo.netarpAddress);
        assert.deepEqual(peer.errors, []);
      });
    });

    it("d: the kernel's own address on the same interface: each answers for its own, nothing else", {
      timeout: TEST_TIMEOUT_MS,
    }, async () => {
      await withNativeTopology('packet', async (topo) => {
        await giveKernelAnAddress(topo);
        const peer = await topo.startPeer();
        const state0 = await nativeState(peer);
        const kernelMacThere = state0.native.deviceMac!;

        await kernelPings(topo, SHARED_KERNEL_ADDRESS);
        await kernelPings(topo, topo.netarpAddress);
        const neighbours = await topo.kernelNeighbours();
        assert.match(neighbours, reachable(SHARED_KERNEL_ADDRESS, kernelMacThere));
        assert.match(neighbours, reachable(topo.netarpAddress, topo.netarpMac));

        // netarp heard the request for the kernel's address and left it alone (rxNotOurs);
        // it answered only for its own. The kernel's reply and echo replies went out on the
        // same interface, and the kernel kept them from netarp's socket.
        const state = await nativeState(peer);
        assert.equal(state.engine.txreplies, 1);
        assert.equal(state.engine.rxNotOurs, 1, JSON.stringify(state.engine));
        assert.equal(state.engine.rxreplies, 0, JSON.stringify(state.engine));
        assert.equal(state.native.ignoresOutgoing, true);
        assert.equal(state.link.rxOutgoing, 0);
        assert.ok(
          !state.entries.some((e) => e.ip === SHARED_KERNEL_ADDRESS && e.state !== 'incomplete'),
        );
      });
    });

    it('e: the interface is deleted under netarp: one clear error, no crash', {
      timeout: TEST_TIMEOUT_MS,
    }, async () => {
      await withNativeTopology('packet', async (topo) => {
        const peer = await topo.startPeer();
        await kernelPings(topo, topo.netarpAddress);
        await deleteUnderPeer(topo, peer, topo.netarpVeth, /packet vn: the interface vn is gone/);
      });
    });
  },
  nativeUnavailableReason,
);
