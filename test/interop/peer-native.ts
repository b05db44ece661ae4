/**
 * The netarp side of a TAP or AF_PACKET interop topology, run inside its own network
 * namespace:
 *
 *   ip netns exec NS node --import tsx test/interop/peer-native.ts --link tap --device tap0 \
 *     --mac 02:00:00:00:00:02 --address 192.0.2.2/24 [--pcap FILE] [--sysctl name=value]...
 *   ip netns exec NS node --import tsx test/interop/peer-native.ts --link packet --device veth0 \
 *     --mac 02:00:00:00:00:02 --address 192.0.2.2/24 [--protocols all] [--user-space-outgoing]
 *     [--unicast-mac]   (adds --mac to the interface's unicast filter)
 *
 * It starts an Engine with one interface on a TapLink or PacketLink (tee'd to FILE when
 * asked), a Runner on the system clock and a Host, then speaks the same JSON lines as
 * peer-node.ts: `ready` (with what it learnt of the device), every runtime event and error,
 * and answers to `ping`, `state` and `close`.
 */
import { parseArgs } from 'node:util';
import type { NativeLinkStats } from '../../src/link/native/native-link.ts';
import { PacketLink, type PacketProtocols } from '../../src/link/packet.ts';
import { TapLink } from '../../src/link/tap.ts';
import { formatMac } from '../../src/wire/addr.ts';
import { print, runPeerProgram } from '../support/peer-runtime.ts';
import { PEER_OPTIONS, serveInteropPeer, startInteropPeer } from './peer-loop.ts';

/** The engine's interface name: the device's own name is the operator's business. */
const IF_NAME = 'net0';

/** What peer-native says about its link in `ready` and `state`. */
export interface NativePeerLink {
  readonly kind: 'tap' | 'packet';
  readonly name: string;
  readonly device: string;
  readonly deviceMac: string | undefined;
  readonly mtu: number | undefined;
  /** AF_PACKET only: whether the kernel drops the host's own transmissions. */
  readonly ignoresOutgoing: boolean | undefined;
  readonly gone: string | undefined;
  readonly stats: NativeLinkStats;
}

/** What `native` has learnt of its device so far. */
function describe(native: TapLink | PacketLink): NativePeerLink {
  return {
    kind: native instanceof TapLink ? 'tap' : 'packet',
    name: native.name,
    device: native.device,
    deviceMac: native.deviceMac === undefined ? undefined : formatMac(native.deviceMac),
    mtu: native.mtu,
    ignoresOutgoing: native instanceof PacketLink ? native.ignoresOutgoing : undefined,
    gone: native.gone,
    stats: native.stats(),
  };
}

runPeerProgram(async () => {
  const { values } = parseArgs({
    options: {
      link: { type: 'string' },
      device: { type: 'string' },
      ...PEER_OPTIONS,
      protocols: { type: 'string' },
      'user-space-outgoing': { type: 'boolean', default: false },
      'unicast-mac': { type: 'boolean', default: false },
    },
  });
  if (!values.device || !values.mac || !values.address) {
    throw new Error('peer-native: --device, --mac and --address are required');
  }
  let native: TapLink | PacketLink;
  switch (values.link) {
    case 'tap':
      native = await TapLink.open({ device: values.device });
      break;
    case 'packet':
      native = await PacketLink.open({
        device: values.device,
        protocols: (values.protocols ?? 'arp+ipv4') as PacketProtocols,
        kernelIgnoresOutgoing: !values['user-space-outgoing'],
        ...(values['unicast-mac'] ? { unicastMac: values.mac } : {}),
      });
      break;
    default:
      throw new Error(`peer-native: --link must be tap or packet, got ${values.link}`);
  }
  const peer = startInteropPeer(
    IF_NAME,
    { ...values, mac: values.mac, address: values.address },
    native,
  );
  print({ type: 'ready', link: describe(native) });
  serveInteropPeer(peer, () => ({ native: describe(native) }));
});
