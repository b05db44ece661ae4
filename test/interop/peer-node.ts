/**
 * The netarp side of an interop topology, run inside its own network namespace:
 *
 *   ip netns exec NS node --import tsx test/interop/peer-node.ts --local 198.18.0.1 \
 *     --remote 198.18.0.2 --port 4789 --vni 42 --mac 02:00:00:00:00:02 \
 *     --address 192.0.2.2/24 [--io auto|native|dgram] [--pcap FILE] [--sysctl name=value]...
 *
 * It starts an Engine with one interface "vx0" on a VXLAN link (tee'd to FILE when asked), a
 * Runner on the system clock and a Host, then speaks JSON lines: it prints `ready` (with the
 * link's io backend), every runtime event and every error on stdout, and answers commands
 * read from stdin:
 *   {"id":1,"cmd":"ping","destination":"192.0.2.1","count":1,"timeoutMs":2000}
 *   {"id":2,"cmd":"state"}   entries and every counter
 *   {"id":3,"cmd":"close"}   closes the links (flushing the pcap) and exits
 * The link's io backend is --io, else "auto".
 */
import { parseArgs } from 'node:util';
import { Engine } from '../../src/core/engine.ts';
import type { Link } from '../../src/link/link.ts';
import { PcapTee } from '../../src/link/pcap-tee.ts';
import { VXLAN_IO_CHOICES, VxlanLink } from '../../src/link/vxlan.ts';
import { SystemClock } from '../../src/runtime/clock.ts';
import { Host } from '../../src/runtime/host.ts';
import { Runner } from '../../src/runtime/runner.ts';
import { parseMac } from '../../src/wire/addr.ts';
import { print, servePeerCommands } from './peer-loop.ts';

const IF_NAME = 'vx0';

function parseEndpoint(text: string, defaultPort: number): { address: string; port: number } {
  const [address, port] = text.split(':');
  return { address: address ?? '', port: port === undefined ? defaultPort : Number(port) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      local: { type: 'string' },
      remote: { type: 'string', multiple: true },
      port: { type: 'string', default: '4789' },
      vni: { type: 'string', default: '42' },
      mac: { type: 'string' },
      address: { type: 'string', multiple: true },
      pcap: { type: 'string' },
      sysctl: { type: 'string', multiple: true },
      io: { type: 'string' },
    },
  });
  const ioText = values.io ?? 'auto';
  const io = VXLAN_IO_CHOICES.find((choice) => choice === ioText);
  if (io === undefined) {
    throw new Error(`peer-node: --io must be one of ${VXLAN_IO_CHOICES.join(', ')}, got ${ioText}`);
  }
  if (!values.local || !values.remote || !values.mac || !values.address) {
    throw new Error('peer-node: --local, --remote, --mac and --address are required');
  }
  const port = Number(values.port);
  const clock = new SystemClock();
  const config: Record<string, number> = {};
  for (const setting of values.sysctl ?? []) {
    const [name, value] = setting.split('=');
    if (name !== undefined && value !== undefined) config[name] = Number(value);
  }
  const engine = new Engine({ config });
  engine.addInterface({ name: IF_NAME, mac: parseMac(values.mac) });

  const vxlan = await VxlanLink.open({
    vni: Number(values.vni),
    local: { address: values.local, port },
    remotes: values.remote.map((r) => parseEndpoint(r, port)),
    io,
  });
  const tee = values.pcap === undefined ? undefined : PcapTee.open(vxlan, values.pcap, clock);
  const link: Link = tee ?? vxlan;
  const runner = new Runner(engine, { clock, links: { [IF_NAME]: link } });
  const host = new Host(runner);
  runner.onEvent((event) => print({ type: 'event', event }));
  runner.onError((error) => print({ type: 'error', message: error.message }));
  for (const cidr of values.address) runner.apply((e, now) => e.addAddress(now, IF_NAME, cidr));
  print({ type: 'ready', link: link.name, io: vxlan.io, local: vxlan.localEndpoint() });

  const state = () => ({
    entries: engine.listEntries(runner.now()),
    engine: engine.stats(),
    runner: runner.stats(),
    host: host.stats(),
    link: vxlan.stats(),
    pcap: tee?.stats(),
  });

  servePeerCommands(runner, host, state);
}

main().catch((error: unknown) => {
  print({ type: 'fatal', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
