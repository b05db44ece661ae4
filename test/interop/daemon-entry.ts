/**
 * `netarp daemon` for the interop suite, run inside a network namespace:
 *
 *   ip netns exec NS node --import tsx test/interop/daemon-entry.ts --config FILE --socket PATH
 *
 * The same entry the CLI's `daemon` verb calls, without the rest of the CLI.
 */
import { DAEMON_HELP, parseDaemonArgs, runDaemon } from '../../src/daemon/run.ts';

const parsed = parseDaemonArgs(process.argv.slice(2));
if (parsed.kind === 'help') process.stdout.write(DAEMON_HELP);
else process.exitCode = await runDaemon(parsed.options);
