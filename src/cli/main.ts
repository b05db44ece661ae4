/**
 * The `netarp` command: the arp(8) forms (`netarp -a`, `netarp -s host mac`, ...) and the
 * verbs beyond them (monitor, stats, sysctl, ping, resolve, interfaces, daemon, sim, demo).
 * Each verb lives in its own file of src/cli/ and is listed in COMMANDS; a first word that
 * is no verb is an arp(8) command line (arp.ts). Exit status: 0 ok, 1 failure, 2 usage.
 * Mistakes the user can fix print one line, `netarp: ...`, and never a stack trace.
 */
import { readFileSync } from 'node:fs';
import { ControlError } from '../control/client.ts';
import { NetarpError } from '../core/errors.ts';
import { DaemonError } from '../daemon/daemon.ts';
import { ScenarioError } from '../sim/scenario.ts';
import { ARP_HELP, arpCommand } from './arp.ts';
import { CliError, type CliIo, type Command, ExitCode, UsageError } from './command.ts';
import { daemonCommand } from './daemon.ts';
import { demoCommand } from './demo.ts';
import { interfacesCommand } from './interfaces.ts';
import { monitorCommand } from './monitor.ts';
import { HostLookupError } from './names.ts';
import { pingCommand } from './ping.ts';
import { resolveCommand } from './resolve.ts';
import { simCommand } from './sim.ts';
import { statsCommand } from './stats.ts';
import { sysctlCommand } from './sysctl.ts';

/** Every verb, in the order `netarp --help` lists them. */
export const COMMANDS: readonly Command[] = [
  arpCommand,
  monitorCommand,
  statsCommand,
  sysctlCommand,
  pingCommand,
  resolveCommand,
  interfacesCommand,
  daemonCommand,
  simCommand,
  demoCommand,
];

/** The package version, from package.json. */
export function version(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  const parsed: unknown = JSON.parse(text);
  const value =
    typeof parsed === 'object' && parsed !== null && 'version' in parsed
      ? parsed.version
      : undefined;
  return typeof value === 'string' ? value : 'unknown';
}

/** The arp(8) synopsis lines of ARP_HELP, shown first by `netarp --help`. */
function arpSynopsis(): string {
  const lines = ARP_HELP.split('\n');
  return lines.slice(0, lines.indexOf('')).join('\n');
}

/** The text of `netarp --help`. */
export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.synopsis.length));
  const rows = COMMANDS.map((c) => `  ${c.synopsis.padEnd(width)}  ${c.summary}`);
  return `${arpSynopsis()}
       netarp COMMAND [options]

ARP (RFC 826) for Node.js, rebuilt from DragonFly BSD's if_ether.c. The arp(8) forms
show, delete and set the entries of the running daemon ("netarp arp --help").

commands:
${rows.join('\n')}

options:
  --socket PATH  the daemon's control socket, for every command that talks to it
                 (default: $NETARP_SOCKET, else /run/netarp/netarp.sock)
  -h, --help     show this help; "netarp COMMAND --help" shows a command's
  -V, --version  print the version

exit status: 0 ok, 1 failure (no such entry, refused, daemon not running), 2 usage error
`;
}

/** Splits leading `--socket PATH` / `--socket=PATH` off `argv`: they go to the verb. */
function leadingSocket(argv: readonly string[]): { socket: string[]; rest: string[] } {
  const socket: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const word = argv[i]!;
    if (word.startsWith('--socket=')) {
      socket.push(word);
      i += 1;
    } else if (word === '--socket') {
      const path = argv[i + 1];
      if (path === undefined) throw new UsageError("option '--socket' needs a value");
      socket.push(word, path);
      i += 2;
    } else break;
  }
  return { socket, rest: argv.slice(i) };
}

/** The errors a user can act on: one line, status 1. */
function isFailure(error: unknown): error is Error {
  return (
    error instanceof CliError ||
    error instanceof ControlError ||
    error instanceof HostLookupError ||
    error instanceof NetarpError ||
    error instanceof ScenarioError ||
    error instanceof DaemonError
  );
}

/** Runs `netarp` with `argv` (the words after "netarp"); resolves to the exit status. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  // A lone word that is no verb is tried as arp(8)'s host; if it is no host either, say so.
  let bareWord = false;
  try {
    const { socket, rest: words } = leadingSocket(argv);
    const [first, ...rest] = words;
    if (first === undefined) throw new UsageError('missing command (see netarp --help)');
    if (first === '-h' || first === '--help' || first === 'help') {
      if (rest.length > 0 && first === 'help') return await main([rest[0]!, '--help'], io);
      io.stdout(mainHelp());
      return ExitCode.Ok;
    }
    if (first === '-V' || first === '--version') {
      io.stdout(`netarp ${version()}\n`);
      return ExitCode.Ok;
    }
    const command = COMMANDS.find((c) => c.name === first);
    if (command) return await command.run([...socket, ...rest], io);
    bareWord = words.length === 1 && !first.startsWith('-');
    return await arpCommand.run([...socket, ...words], io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`netarp: ${error.message}\n`);
      return ExitCode.Usage;
    }
    if (isFailure(error)) {
      const hint =
        bareWord && error instanceof HostLookupError ? ' (nor a command: see netarp --help)' : '';
      io.stderr(`netarp: ${error.message}${hint}\n`);
      return ExitCode.Failure;
    }
    throw error;
  }
}

/** Runs `netarp` for this process: its arguments, its stdout and stderr, its exit code. */
export async function runProcess(): Promise<void> {
  // A reader that goes away (netarp demo | head) is not an error worth a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(ExitCode.Ok);
    throw error;
  });
  const io: CliIo = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  };
  process.exitCode = await main(process.argv.slice(2), io);
}
