/** `netarp interfaces [--json]`: the interfaces the daemon runs, ifconfig(8)-like. */
import type { InterfaceInfo } from '../control/protocol.ts';
import { CLIENT_OPTIONS, hasFlag, optionValue, parseOptions } from './args.ts';
import { type Command, ExitCode, UsageError } from './command.ts';
import { withDaemon } from './connect.ts';

/** What `netarp interfaces` was asked. */
export type InterfacesArgs =
  | { readonly kind: 'help' }
  | { readonly kind: 'run'; readonly json: boolean; readonly socket?: string };

/** Parses `interfaces`' arguments; throws UsageError. */
export function parseInterfacesArgs(args: readonly string[]): InterfacesArgs {
  const parsed = parseOptions(args, CLIENT_OPTIONS, 'interfaces: ');
  if (hasFlag(parsed, 'help')) return { kind: 'help' };
  if (parsed.positionals.length > 0) {
    throw new UsageError(`interfaces: unexpected argument '${parsed.positionals[0]}'`);
  }
  const socket = optionValue(parsed, 'socket');
  return {
    kind: 'run',
    json: hasFlag(parsed, 'json'),
    ...(socket === undefined ? {} : { socket }),
  };
}

/**
 * One interface as ifconfig(8) shows one: a first line with the name and flags, then one
 * tab-indented line per fact (without newlines).
 */
export function interfaceLines(info: InterfaceInfo): string[] {
  const flags = [info.up ? 'UP' : 'DOWN', ...info.flags.map((f) => f.toUpperCase())];
  const lines = [`${info.name}: flags=<${flags.join(',')}> kind ${info.kind}`];
  lines.push(`\tether ${info.mac}`);
  for (const address of info.addresses) lines.push(`\tinet ${address}`);
  if (info.carp) {
    lines.push(
      `\tcarp: ${info.carp.state.toUpperCase()} vhid ${info.carp.vhid} parent ${info.carp.parent}`,
    );
  }
  if (info.bridge !== undefined) lines.push(`\tmember of ${info.bridge}`);
  if (info.link) {
    lines.push(
      `\tlink: ${info.link.name}${info.link.io === undefined ? '' : ` (io ${info.link.io})`}`,
    );
  }
  if (info.pcap !== undefined) lines.push(`\tpcap: ${info.pcap}`);
  // Why the daemon holds the interface down (DOWN,NO-CARRIER above): one line, said plainly.
  if (info.fault !== undefined) lines.push(`\tfault: ${info.fault}`);
  return lines;
}

/** The `interfaces` verb. */
export const interfacesCommand: Command = {
  name: 'interfaces',
  synopsis: 'interfaces [--json]',
  summary: "list the daemon's interfaces",
  help: `usage: netarp interfaces [--json] [--socket PATH]

Lists the daemon's interfaces in its config's order, as ifconfig(8) would:

  vx0: flags=<UP> kind ether
  	ether 02:00:00:00:00:02
  	inet 192.0.2.2/24
  	link: vxlan 198.18.0.1:4789 vni 42 (io native)
  	pcap: /var/lib/netarp/vx0.pcap

Flags are UP or DOWN, NOARP, STATICARP, EVICT_NOCARRIER, and NO-CARRIER while the
daemon holds the interface down for its link; a "fault:" line then says why:

  tap0: flags=<DOWN,NO-CARRIER> kind ether
  	ether 02:00:00:00:00:03
  	link: tap tap0
  	fault: no carrier on tap tap0

A CARP interface shows its state, vhid and parent, a bridge member its bridge.

options:
  --json          the daemon's answer as one JSON array (docs/control.md, "interfaces")
  --socket PATH   the daemon's control socket (default: $NETARP_SOCKET, else
                  /run/netarp/netarp.sock)
  -h, --help      show this help
`,
  async run(args, io) {
    const parsed = parseInterfacesArgs(args);
    if (parsed.kind === 'help') {
      io.stdout(interfacesCommand.help);
      return ExitCode.Ok;
    }
    const interfaces = await withDaemon(io, parsed.socket, (client) => client.interfaces());
    io.stdout(
      parsed.json
        ? `${JSON.stringify(interfaces)}\n`
        : interfaces
            .flatMap(interfaceLines)
            .map((line) => `${line}\n`)
            .join(''),
    );
    return ExitCode.Ok;
  },
};
