/** `netarp sim FILE [--json]`: runs a scenario file and prints its trace and final tables. */
import { parseArgs } from 'node:util';
import { runScenario } from '../sim/run.ts';
import { loadScenarioFile } from '../sim/scenario.ts';
import { type CliIo, type Command, ExitCode, UsageError, usageErrorFrom } from './command.ts';

/** Parses the arguments of `sim` or `demo`: `--json`, `--help` and the positionals. */
export function parseRunArgs(
  verb: string,
  args: readonly string[],
  extra: Record<string, { type: 'boolean'; short?: string }> = {},
): { json: boolean; help: boolean; flags: Record<string, boolean>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: {
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...extra,
      },
      allowPositionals: true,
      strict: true,
    });
    const flags: Record<string, boolean> = {};
    const parsed: Record<string, unknown> = values;
    for (const name of Object.keys(extra)) flags[name] = parsed[name] === true;
    return { json: values.json === true, help: values.help === true, flags, positionals };
  } catch (error) {
    const usage = usageErrorFrom(error);
    throw usage ? new UsageError(`${verb}: ${usage.message}`) : error;
  }
}

/** The `sim` verb. */
export const simCommand: Command = {
  name: 'sim',
  synopsis: 'sim FILE [--json]',
  summary: 'run a scenario file (JSON or YAML) in the simulator',
  help: `usage: netarp sim FILE [--json]

Runs the scenario in FILE (JSON or YAML) in a virtual world of hosts running the ARP
engine, and prints what happened, one line per frame, event, send and receive, followed
by every host's table as "arp -a" shows it. The same file always gives the same output.

options:
  --json      one JSON object per line instead of text (schema in docs/sim.md)
  -h, --help  show this help

The scenario format is described in docs/sim.md; examples/ has one file per behaviour.
`,
  run(args: readonly string[], io: CliIo): number {
    const { json, help, positionals } = parseRunArgs('sim', args);
    if (help) {
      io.stdout(simCommand.help);
      return ExitCode.Ok;
    }
    const [file, ...rest] = positionals;
    if (file === undefined) throw new UsageError('sim: missing FILE (see netarp sim --help)');
    if (rest.length > 0) throw new UsageError(`sim: unexpected argument '${rest[0]}'`);
    const lines = runScenario(loadScenarioFile(file), { json });
    io.stdout(`${lines.join('\n')}\n`);
    return ExitCode.Ok;
  },
};
