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
import { openVxlanPeerLink, VXLAN_PEER_OPTIONS } from '../support/peer-link.ts';
import { print, runPeerProgram } from '../support/peer-runtime.ts';
import { PEER_OPTIONS, serveInteropPeer, startInteropPeer } from './peer-loop.ts';

runPeerProgram(async () => {
  const { values } = parseArgs({ options: { ...VXLAN_PEER_OPTIONS, ...PEER_OPTIONS } });
  if (!values.mac || !values.address) {
    throw new Error('peer-node: --mac and --address are required');
  }
  const vxlan = await openVxlanPeerLink('peer-node', values, 'auto');
  const peer = startInteropPeer(
    'vx0',
    { ...values, mac: values.mac, address: values.address },
    vxlan,
  );
  print({ type: 'ready', link: peer.link.name, io: vxlan.io, local: vxlan.localEndpoint() });
  serveInteropPeer(peer);
});
