/**
 * The VXLAN link of a peer program on a VXLAN segment (the interop suites' peer-node.ts and
 * the wire benchmark's responder.ts): its command-line options and the link they open.
 *
 *   --local ADDRESS --remote ADDRESS[:PORT]... [--port 4789] [--vni 42] [--io auto|native|dgram]
 */
import { VXLAN_IO_CHOICES, type VxlanIoChoice, VxlanLink } from '../../src/link/vxlan.ts';

/** The link's options (node:util parseArgs). */
export const VXLAN_PEER_OPTIONS = {
  /** The local underlay address the link binds. */
  local: { type: 'string' },
  /** The remote VTEPs, `address` or `address:port` (the port defaults to --port); one or more. */
  remote: { type: 'string', multiple: true },
  /** The UDP port, bound locally and the remotes' default. */
  port: { type: 'string', default: '4789' },
  vni: { type: 'string', default: '42' },
  /** The io backend (VxlanLinkOptions.io); each program has its own default. */
  io: { type: 'string' },
} as const;

/** The values of VXLAN_PEER_OPTIONS as parseArgs returns them. */
export interface VxlanPeerValues {
  readonly local?: string | undefined;
  readonly remote?: readonly string[] | undefined;
  readonly port?: string | undefined;
  readonly vni?: string | undefined;
  readonly io?: string | undefined;
}

/** Opens the link `values` describe, its io backend `defaultIo` unless --io says; `program` names errors. */
export async function openVxlanPeerLink(
  program: string,
  values: VxlanPeerValues,
  defaultIo: VxlanIoChoice,
): Promise<VxlanLink> {
  const ioText = values.io ?? defaultIo;
  const io = VXLAN_IO_CHOICES.find((choice) => choice === ioText);
  if (io === undefined) {
    throw new Error(
      `${program}: --io must be one of ${VXLAN_IO_CHOICES.join(', ')}, got ${ioText}`,
    );
  }
  if (!values.local || !values.remote || values.remote.length === 0) {
    throw new Error(`${program}: --local and --remote are required`);
  }
  const port = Number(values.port ?? '4789');
  return await VxlanLink.open({
    vni: Number(values.vni ?? '42'),
    local: { address: values.local, port },
    remotes: values.remote.map((remote) => endpoint(remote, port)),
    io,
  });
}

/** `address` or `address:port`. */
function endpoint(text: string, defaultPort: number): { address: string; port: number } {
  const [address, port] = text.split(':');
  return { address: address ?? '', port: port === undefined ? defaultPort : Number(port) };
}
