/**
 * `netarp resolve HOST [--timeout MS]`: the MAC of HOST through the engine's resolve path
 * (arpresolve): at once when the entry has it, else after an ARP request and its reply.
 * Prints the MAC alone, for scripts; a failure is its reason on stderr and status 1.
 */
import { LIMITS, type ResolveInfo } from '../control/protocol.ts';
import { CLIENT_OPTIONS, hasFlag, integerOption, optionValue, parseOptions } from './args.ts';
import { type CliIo, type Command, ExitCode, namesOf, UsageError } from './command.ts';
import { withDaemon } from './connect.ts';
import { addressOf } from './names.ts';

/** What `netarp resolve` was asked. */
export type ResolveArgs =
  | { readonly kind: 'help' }
  | {
      readonly kind: 'run';
      readonly host: string;
      readonly timeoutMs?: number;
      readonly json: boolean;
      readonly socket?: string;
    };

/** Parses `resolve`'s arguments; throws UsageError. */
export function parseResolveArgs(args: readonly string[]): ResolveArgs {
  const parsed = parseOptions(
    args,
    { timeout: { short: 'W', long: 'timeout', value: true }, ...CLIENT_OPTIONS },
    'resolve: ',
  );
  if (hasFlag(parsed, 'help')) return { kind: 'help' };
  const [host, extra] = parsed.positionals;
  if (host === undefined) throw new UsageError('resolve: missing HOST (see netarp resolve --help)');
  if (extra !== undefined) throw new UsageError(`resolve: unexpected argument '${extra}'`);
  const timeout = optionValue(parsed, 'timeout');
  const socket = optionValue(parsed, 'socket');
  return {
    kind: 'run',
    host,
    ...(timeout === undefined
      ? {}
      : {
          timeoutMs: integerOption(timeout, '--timeout', LIMITS.resolveTimeoutMs, 'resolve: '),
        }),
    json: hasFlag(parsed, 'json'),
    ...(socket === undefined ? {} : { socket }),
  };
}

/** Prints the answer: the MAC on stdout, or `netarp: HOST (IP): reason` on stderr. */
export function printResolved(io: CliIo, host: string, info: ResolveInfo, json: boolean): number {
  if (json) io.stdout(`${JSON.stringify(info)}\n`);
  else if (info.resolved) io.stdout(`${info.mac}\n`);
  if (info.resolved) return ExitCode.Ok;
  if (!json) io.stderr(`netarp: ${host} (${info.ip}): ${info.reason}\n`);
  return ExitCode.Failure;
}

/** The `resolve` verb. */
export const resolveCommand: Command = {
  name: 'resolve',
  synopsis: 'resolve HOST [--timeout MS]',
  summary: 'print the MAC of HOST, resolving it if needed',
  help: `usage: netarp resolve HOST [--timeout MS] [--json] [--socket PATH]

Prints the Ethernet address of HOST (an address or a name) as the daemon's engine
resolves it (arpresolve): at once when its entry has one, else after an ARP request
and the reply, waiting up to MS milliseconds.

  $ netarp resolve 192.0.2.1
  02:00:00:00:00:01
  $ netarp resolve 192.0.2.77
  netarp: 192.0.2.77 (192.0.2.77): host is down

The reasons: "host is down" (maxtries requests went unanswered, or the host is still
in its down window), "no route to host", "host is not on local network", "network is
down", "interface does not ARP", "timeout".

options:
  -W, --timeout MS  how long to wait, 1..60000 milliseconds (default 3000)
  --json            the daemon's answer as one JSON object (docs/control.md, "resolve"),
                    on failure too
  --socket PATH     the daemon's control socket (default: $NETARP_SOCKET, else
                    /run/netarp/netarp.sock)
  -h, --help        show this help

exit status: 0 resolved, 1 not (the reason on stderr), 2 usage error
`,
  async run(args, io) {
    const parsed = parseResolveArgs(args);
    if (parsed.kind === 'help') {
      io.stdout(resolveCommand.help);
      return ExitCode.Ok;
    }
    const ip = await addressOf(namesOf(io), parsed.host);
    const info = await withDaemon(io, parsed.socket, (client) =>
      client.resolve(ip, parsed.timeoutMs),
    );
    return printResolved(io, parsed.host, info, parsed.json);
  },
};
