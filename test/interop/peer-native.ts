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
import { Engine } from '../../src/core/engine.ts';
import type { Link } from '../../src/link/link.ts';
import type { NativeLinkStats } from '../../src/link/native/native-link.ts';
import { PacketLink, type PacketProtocols } from '../../src/link/packet.ts';
import { PcapTee } from '../../src/link/pcap-tee.ts';
import { TapLink } from '../../src/link/tap.ts';
import { SystemClock } from '../../src/runtime/clock.ts';
import { Host } from '../../src/runtime/host.ts';
import { Runner } from '../../src/runtime/runner.ts';
import { formatMac, parseMac } from '../../src/wire/addr.ts';
import { print, servePeerCommands } from './peer-loop.ts';

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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      link: { type: 'string' },
      device: { type: 'string' },
      mac: { type: 'string' },
      address: { type: 'string', multiple: true },
      pcap: { type: 'string' },
      sysctl: { type: 'string', multiple: true },
      protocols: { type: 'string' },
      'user-space-outgoing': { type: 'boolean', default: false },
      'unicast-mac': { type: 'boolean', default: false },
    },
  });
  if (!values.device || !values.mac || !values.address) {
    throw new Error('peer-native: --link, --device, --mac and --address are required');
  }
  const clock = new SystemClock();
  const config: Record<string, number> = {};
  for (const setting of values.sysctl ?? []) {
    const [name, value] = setting.split('=');
    if (name !== undefined && value !== undefined) config[name] = Number(value);
  }
  const engine = new Engine({ config });
  engine.addInterface({ name: IF_NAME, mac: parseMac(values.mac) });

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
  const tee = values.pcap === undefined ? undefined : PcapTee.open(native, values.pcap, clock);
  const link: Link = tee ?? native;
  const runner = new Runner(engine, { clock, links: { [IF_NAME]: link } });
  const host = new Host(runner);
  runner.onEvent((event) => print({ type: 'event', event }));
  runner.onError((error) => print({ type: 'error', message: error.message }));
  for (const cidr of values.address) runner.apply((e, now) => e.addAddress(now, IF_NAME, cidr));

  const linkInfo = (): NativePeerLink => ({
    kind: native instanceof TapLink ? 'tap' : 'packet',
    name: native.name,
    device: native.device,
    deviceMac: native.deviceMac === undefined ? undefined : formatMac(native.deviceMac),
    mtu: native.mtu,
    ignoresOutgoing: native instanceof PacketLink ? native.ignoresOutgoing : undefined,
    gone: native.gone,
    stats: native.stats(),
  });
  print({ type: 'ready', link: linkInfo() });

  const state = () => ({
    entries: engine.listEntries(runner.now()),
    engine: engine.stats(),
    runner: runner.stats(),
    host: host.stats(),
    link: native.stats(),
    native: linkInfo(),
    pcap: tee?.stats(),
  });

  servePeerCommands(runner, host, state);
}

main().catch((error: unknown) => {
  print({ type: 'fatal', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
