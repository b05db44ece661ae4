/** `netarp daemon --config FILE ...`: runs the daemon in this process (src/daemon/run.ts). */
import { DaemonError } from '../daemon/daemon.ts';
import { DAEMON_HELP, type DaemonProcess, parseDaemonArgs, runDaemon } from '../daemon/run.ts';
import { type CliIo, type Command, ExitCode, envOf, signalsOf, UsageError } from './command.ts';

/** The daemon's view of the CLI's process: its environment, stderr and signals. */
function daemonProcess(io: CliIo): DaemonProcess {
  const signals = signalsOf(io);
  return {
    env: envOf(io),
    stderr: (text) => io.stderr(text),
    onSignal: (signal, handler) => signals.on(signal, handler),
    offSignal: (signal, handler) => signals.off(signal, handler),
  };
}

/** The `daemon` verb. */
export const daemonCommand: Command = {
  name: 'daemon',
  synopsis: 'daemon --config FILE',
  summary: 'run the daemon (the engine on real links)',
  help: DAEMON_HELP,
  async run(args, io) {
    let parsed: ReturnType<typeof parseDaemonArgs>;
    try {
      parsed = parseDaemonArgs(args);
    } catch (error) {
      // Its message already says "daemon: ...".
      if (error instanceof DaemonError && error.code === 'EUSAGE') {
        throw new UsageError(error.message);
      }
      throw error;
    }
    if (parsed.kind === 'help') {
      io.stdout(DAEMON_HELP);
      return ExitCode.Ok;
    }
    return runDaemon(parsed.options, daemonProcess(io));
  },
};
