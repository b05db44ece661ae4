/**
 * netarp against the Linux kernel's own ARP, over VXLAN, each in its own network namespace
 * (see helpers.ts for the topology and the skip policy). The kernel side is plain iputils
 * `ping`/`arping`, `arp-scan` and `ip neigh`; netarp's side is peer-node.ts: the runtime with
 * a VXLAN link, optionally tee'd to a pcap file. The suite runs twice, once on each of the
 * link's io backends: the native addon's batched UDP channel, and node:dgram.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { nativeUnavailableReason } from '../../src/link/native/addon.ts';
import type { VxlanIo } from '../../src/link/vxlan.ts';
import { formatIpv4, formatMac } from '../../src/wire/addr.ts';
import { ArpOp, ArpPacket, parseArp } from '../../src/wire/arp.ts';
import { ETHERNET_HEADER_LEN, EtherType } from '../../src/wire/ethernet.ts';
import { describeFrame } from '../../src/wire/format.ts';
import { parsePcap } from '../../src/wire/pcap.ts';
import {
  interopSuite,
  must,
  type Peer,
  type PeerOptions,
  type Topology,
  withTopology,
} from './helpers.ts';

/** Each test builds namespaces, starts node and runs real tools: well under this. */
const TEST_TIMEOUT_MS = 20_000;

/** An ARP frame from a capture, decoded. */
interface ArpSeen {
  readonly index: number;
  readonly operation: number;
  readonly senderMac: string;
  readonly senderIp: string;
  readonly targetIp: string;
}

/** The ARP packets among captured frames, with their position in the capture. */
function arpFrames(frames: readonly Uint8Array[]): ArpSeen[] {
  const seen: ArpSeen[] = [];
  frames.forEach((frame, index) => {
    if (frame.length < ETHERNET_HEADER_LEN || ((frame[12]! << 8) | frame[13]!) !== EtherType.Arp) {
      return;
    }
    const packet = ArpPacket.checked(frame.subarray(ETHERNET_HEADER_LEN));
    if (!(packet instanceof ArpPacket)) return;
    const arp = parseArp(packet);
    if ('kind' in arp) return;
    seen.push({
      index,
      operation: arp.operation,
      senderMac: formatMac(arp.senderMac),
      senderIp: formatIpv4(arp.senderIp),
      targetIp: formatIpv4(arp.targetIp),
    });
  });
  return seen;
}

/** Reads a capture written by the pcap tee. */
function readCapture(path: string): Uint8Array[] {
  const file = parsePcap(new Uint8Array(readFileSync(path)));
  if ('kind' in file) assert.fail(`${path} is not a capture: ${file.kind}`);
  assert.equal(file.linkType, 1, 'LINKTYPE_ETHERNET');
  return file.records.map((r) => r.frame);
}

/** The route events the peer reported about `ip`, reduced to what the tests compare. */
function routeEventsFor(peer: Peer, ip: string): { type: string; reason: string; mac: unknown }[] {
  return peer.events.flatMap((e) =>
    e.kind === 'engine' && e.event.kind === 'route' && e.event.ip === ip
      ? [{ type: e.event.type, reason: e.event.reason, mac: e.event.mac }]
      : [],
  );
}

/** Asserts the kernel has no neighbour entry for netarp yet. */
async function assertKernelCold(topo: Topology): Promise<void> {
  const neighbours = await topo.kernelNeighbours();
  assert.ok(!neighbours.includes(topo.netarpAddress), `kernel cache not cold: ${neighbours}`);
}

/** The first `time=... ms` of ping's output. */
function firstRtt(output: string): number | undefined {
  const match = /time=([\d.]+) ms/.exec(output);
  return match ? Number(match[1]) : undefined;
}

/** Starts peer-node and checks it runs on the io backend the suite is for. */
async function startPeer(topo: Topology, io: VxlanIo, options: PeerOptions = {}): Promise<Peer> {
  const peer = await topo.startPeer({ ...options, io });
  assert.equal((await peer.state()).link.io, io, 'the peer runs on the io backend asked for');
  return peer;
}

for (const io of ['native', 'dgram'] as const) {
  interopSuite(
    `netarp <-> Linux kernel over VXLAN (io ${io})`,
    () => suite(io),
    io === 'native' ? nativeUnavailableReason : undefined,
  );
}

function suite(io: VxlanIo): void {
  it('a: the kernel pings netarp from cold caches; first ping answered, both sides learn', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    await withTopology(async (topo) => {
      const peer = await startPeer(topo, io);
      await assertKernelCold(topo);

      const ping = await topo.kernel(['ping', '-c1', '-W2', topo.netarpAddress]);
      assert.equal(ping.code, 0, `ping failed:\n${ping.stdout}${ping.stderr}`);
      assert.match(ping.stdout, /1 packets transmitted, 1 received/);
      t.diagnostic(`kernel -> netarp, cold (ARP + echo): ${firstRtt(ping.stdout)} ms`);

      // The kernel resolved us from our reply and confirmed it with the echo reply.
      const neighbours = await topo.kernelNeighbours();
      assert.match(
        neighbours,
        new RegExp(
          `^${topo.netarpAddress.replaceAll('.', '\\.')} lladdr ${topo.netarpMac} REACHABLE`,
          'm',
        ),
      );

      // netarp created the entry because the request targeted us (RFC 826: "if I am the
      // target ... add"), then answered the echo without asking ARP itself.
      const state = await peer.state();
      const entry = state.entries.find((e) => e.ip === topo.kernelAddress);
      assert.deepEqual(
        { mac: entry?.mac, state: entry?.state },
        { mac: topo.kernelMac, state: 'resolved' },
      );
      assert.deepEqual(routeEventsFor(peer, topo.kernelAddress), [
        { type: 'add', reason: 'learned', mac: undefined },
        { type: 'resolve', reason: 'learned', mac: topo.kernelMac },
      ]);
      assert.equal(state.engine.rxrequests, 1, 'the kernel asked once');
      assert.equal(state.engine.txreplies, 1, 'netarp answered once');
      assert.equal(state.engine.txrequests, 0, 'netarp never had to ask');
      assert.equal(state.host.rxEchoRequests, 1);
      assert.equal(state.host.txEchoReplies, 1);
      assert.equal(state.link.rxBadHeader + state.link.rxWrongVni, 0);
      assert.deepEqual(peer.errors, []);

      // Warm caches: the steady-state round trip through the kernel and the runtime.
      const warm = await topo.kernel(['ping', '-c5', '-i0.2', '-W2', topo.netarpAddress]);
      assert.equal(warm.code, 0, warm.stdout + warm.stderr);
      t.diagnostic(`kernel -> netarp, warm: ${/rtt [^\n]*/.exec(warm.stdout)?.[0]}`);
    });
  });

  it('b: netarp pings the kernel from cold caches; one request, held echo delivered, reply received', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    await withTopology(async (topo) => {
      const capture = join(topo.dir, 'b.pcap');
      const peer = await startPeer(topo, io, { pcap: capture });
      await assertKernelCold(topo);
      assert.equal(
        (await peer.state()).entries.some((e) => e.ip === topo.kernelAddress),
        false,
        'netarp cache not cold',
      );

      const result = await peer.ping(topo.kernelAddress, { count: 1, timeoutMs: 2000 });
      assert.deepEqual(
        { transmitted: result.transmitted, received: result.received },
        { transmitted: 1, received: 1 },
        JSON.stringify(result.probes),
      );
      t.diagnostic(`netarp -> kernel, cold (ARP + held echo): ${result.rttsMs[0]?.toFixed(3)} ms`);

      const state = await peer.state();
      assert.equal(state.engine.txrequests, 1, 'one ARP request');
      assert.equal(state.runner.heldDelivered, 1, 'the held echo went out');
      assert.equal(state.host.rxEchoReplies, 1);
      const delivered = peer.events.filter((e) => e.kind === 'held-delivered');
      assert.deepEqual(
        delivered.map((e) => e.kind === 'held-delivered' && [e.nextHop, e.mac]),
        [[topo.kernelAddress, topo.kernelMac]],
      );

      const warm = await peer.ping(topo.kernelAddress, { count: 5, intervalMs: 200 });
      assert.equal(warm.received, 5, JSON.stringify(warm.probes));
      t.diagnostic(`netarp -> kernel, warm: ${warm.rttsMs.map((r) => r.toFixed(3)).join(' ')} ms`);
      await peer.close();

      // The wire, as the tee saw it: our announcement, then exactly one request for the
      // kernel, its reply, and only then the echo request that had been held.
      const frames = readCapture(capture);
      const arp = arpFrames(frames);
      const requests = arp.filter(
        (a) => a.operation === ArpOp.Request && a.senderIp !== a.targetIp,
      );
      assert.deepEqual(
        requests.map(({ senderMac, senderIp, targetIp }) => ({ senderMac, senderIp, targetIp })),
        [{ senderMac: topo.netarpMac, senderIp: topo.netarpAddress, targetIp: topo.kernelAddress }],
        'exactly one ARP request, ours, for the kernel',
      );
      const reply = arp.find((a) => a.operation === ArpOp.Reply);
      assert.deepEqual(reply && { senderMac: reply.senderMac, senderIp: reply.senderIp }, {
        senderMac: topo.kernelMac,
        senderIp: topo.kernelAddress,
      });
      const firstEcho = frames.findIndex((f) => describeFrame(f).includes('ICMP echo request'));
      const firstEchoReply = frames.findIndex((f) => describeFrame(f).includes('ICMP echo reply'));
      assert.ok(
        requests[0]!.index < reply!.index && reply!.index < firstEcho && firstEcho < firstEchoReply,
        `order request < reply < held echo < echo reply:\n${frames.map(describeFrame).join('\n')}`,
      );
    });
  });

  it('c: tcpdump -r decodes the tee capture and shows the ARP request and reply', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withTopology(async (topo) => {
      const capture = join(topo.dir, 'c.pcap');
      const peer = await startPeer(topo, io, { pcap: capture });
      const ping = await topo.kernel(['ping', '-c1', '-W2', topo.netarpAddress]);
      assert.equal(ping.code, 0, ping.stdout + ping.stderr);
      await peer.close();

      const decoded = await must(['tcpdump', '-r', capture, '-n', '-e']);
      const lines = decoded.trimEnd().split('\n');
      const request =
        `${topo.kernelMac} > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: ` +
        `Request who-has ${topo.netarpAddress} tell ${topo.kernelAddress}, length 28`;
      const reply =
        `${topo.netarpMac} > ${topo.kernelMac}, ethertype ARP (0x0806), length 42: ` +
        `Reply ${topo.netarpAddress} is-at ${topo.netarpMac}, length 28`;
      const at = (text: string) => lines.findIndex((line) => line.endsWith(text));
      assert.ok(at(request) >= 0, `no kernel request in:\n${decoded}`);
      assert.ok(at(reply) > at(request), `no reply after the request in:\n${decoded}`);
      const echo = lines.findIndex((line) =>
        line.includes(`${topo.kernelAddress} > ${topo.netarpAddress}: ICMP echo request`),
      );
      const echoReply = lines.findIndex((line) =>
        line.includes(`${topo.netarpAddress} > ${topo.kernelAddress}: ICMP echo reply`),
      );
      assert.ok(at(reply) < echo && echo < echoReply, decoded);

      // tcpdump sees every record the tee wrote, and agrees with netarp's own summaries of
      // the request and the reply.
      const frames = readCapture(capture);
      assert.equal(lines.length, frames.length, decoded);
      for (const [index, text] of [
        [at(request), request],
        [at(reply), reply],
      ] as const) {
        const ours = describeFrame(frames[index]!).split(', ARP, ')[1];
        assert.equal(ours, text.split(': ').slice(1).join(': '));
      }
    });
  });

  it("d: iputils arping and arp-scan get netarp's MAC", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    await withTopology(async (topo) => {
      const peer = await startPeer(topo, io);
      const arping = await topo.kernel([
        'arping',
        '-c2',
        '-w3',
        '-I',
        topo.kernelIf,
        topo.netarpAddress,
      ]);
      assert.equal(arping.code, 0, arping.stdout + arping.stderr);
      const replies = arping.stdout.match(/reply from 192\.0\.2\.2 \[([0-9A-Fa-f:]+)\]/g) ?? [];
      assert.equal(replies.length, 2, arping.stdout);
      assert.ok(
        replies.every((r) => r.toLowerCase().endsWith(`[${topo.netarpMac}]`)),
        arping.stdout,
      );
      t.diagnostic(
        `arping: ${arping.stdout
          .split('\n')
          .filter((l) => l.includes('reply'))
          .join(' | ')}`,
      );

      const scan = await topo.kernel(['arp-scan', '-I', topo.kernelIf, '192.0.2.0/29']);
      assert.equal(scan.code, 0, scan.stdout + scan.stderr);
      const found = scan.stdout.split('\n').filter((l) => /^\d+\.\d+\.\d+\.\d+\t/.test(l));
      assert.deepEqual(
        found.map((l) => l.split('\t').slice(0, 2)),
        [[topo.netarpAddress, topo.netarpMac]],
        scan.stdout,
      );

      // Two replies to arping, one to arp-scan (which does not ask an answered host again);
      // arp-scan's requests for the other addresses were counted as not ours.
      const state = await peer.state();
      t.diagnostic(
        `engine: rxrequests ${state.engine.rxrequests}, rxNotOurs ${state.engine.rxNotOurs}`,
      );
      assert.equal(state.engine.txreplies, 3);
      assert.equal(state.engine.rxrequests, state.engine.txreplies + state.engine.rxNotOurs);
      assert.ok(state.engine.rxNotOurs > 0, 'arp-scan asked for addresses netarp does not own');
    });
  });
}
