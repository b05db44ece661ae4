/**
 * The `netarp` command: picks the verb and runs it. Each verb lives in its own file of
 * src/cli/ and is listed in COMMANDS; adding one (the arp(8) flags, monitor, stats, sysctl,
 * ping, resolve, daemon) is a new file and a new row. Exit status: 0 ok, 1 failure, 2 usage.
 * Mistakes the user can fix print one line, `netarp: ...`, and never a stack trace.
 */
import { readFileSync } from 'node:fs';
import { NetarpError } from '../core/errors.ts';
import { ScenarioError } from '../sim/scenario.ts';
import { CliError, type CliIo, type Command, ExitCode, UsageError } from './command.ts';
import { demoCommand } from './demo.ts';
import { simCommand } from './sim.ts';

/** Every verb, in the order `netarp --help` lists them. */
export const COMMANDS: readonly Command[] = [simCommand, demoCommand];

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

/** The text of `netarp --help`. */
export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.synopsis.length));
  const rows = COMMANDS.map((c) => `  ${c.synopsis.padEnd(width)}  ${c.summary}`);
  return `usage: netarp COMMAND [options]

ARP (RFC 826) for Node.js, rebuilt from DragonFly BSD's if_ether.c.

commands:
${rows.join('\n')}

options:
  -h, --help     show this help; "netarp COMMAND --help" shows a command's
  -V, --version  print the version

exit status: 0 ok, 1 failure, 2 usage error
`;
}

/** Runs `netarp` with `argv` (the words after "netarp"); resolves to the exit status. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  try {
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
    if (first.startsWith('-'))
      throw new UsageError(`unknown option '${first}' (see netarp --help)`);
    const command = COMMANDS.find((c) => c.name === first);
    if (!command) throw new UsageError(`unknown command '${first}' (see netarp --help)`);
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`netarp: ${error.message}\n`);
      return ExitCode.Usage;
    }
    if (
      error instanceof ScenarioError ||
      error instanceof CliError ||
      error instanceof NetarpError
    ) {
      io.stderr(`netarp: ${error.message}\n`);
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
