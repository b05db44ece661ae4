/** `netarp demo [--json] [--scenario]`: runs the built-in demo scenario. */
import { DEMO_SCENARIO, demoScenario } from '../sim/demo.ts';
import { runScenario } from '../sim/run.ts';
import { type CliIo, type Command, ExitCode, UsageError } from './command.ts';
import { parseRunArgs } from './sim.ts';

/** The `demo` verb. */
export const demoCommand: Command = {
  name: 'demo',
  synopsis: 'demo [--json] [--scenario]',
  summary: 'run the built-in demo on a simulated LAN',
  help: `usage: netarp demo [--json] [--scenario]

Runs a built-in scenario (no files needed) on a simulated LAN and prints the trace, in
sections: resolution with a held packet, proxy ARP, an address conflict, a MAC move, a
host that never answers, and expiry; then every host's table as "arp -a" shows it.

options:
  --json      one JSON object per line instead of text (schema in docs/sim.md)
  --scenario  print the demo's scenario file instead of running it (a starting point
              for "netarp sim FILE")
  -h, --help  show this help
`,
  run(args: readonly string[], io: CliIo): number {
    const { json, help, flags, positionals } = parseRunArgs('demo', args, {
      scenario: { type: 'boolean' },
    });
    if (help) {
      io.stdout(demoCommand.help);
      return ExitCode.Ok;
    }
    if (positionals.length > 0)
      throw new UsageError(`demo: unexpected argument '${positionals[0]}'`);
    if (flags.scenario) {
      if (json) throw new UsageError('demo: --scenario and --json do not go together');
      io.stdout(DEMO_SCENARIO);
      return ExitCode.Ok;
    }
    io.stdout(`${runScenario(demoScenario(), { json }).join('\n')}\n`);
    return ExitCode.Ok;
  },
};
