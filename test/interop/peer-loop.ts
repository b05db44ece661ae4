/**
 * The command loop every interop peer process runs: JSON lines on stdin (PeerCommand), JSON
 * lines on stdout. The peers differ only in how they build their link; this serves them all.
 */
import { createInterface } from 'node:readline';
import type { Host } from '../../src/runtime/host.ts';
import type { Runner } from '../../src/runtime/runner.ts';

/** What the test writes to the peer, one JSON object a line. */
export type PeerCommand =
  | {
      id: number;
      cmd: 'ping';
      destination: string;
      count?: number;
      timeoutMs?: number;
      intervalMs?: number;
    }
  | { id: number; cmd: 'state' }
  | { id: number; cmd: 'close' };

/** Writes one JSON line to stdout. */
export function print(message: object): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/**
 * Answers the test's commands until it says close or goes away (stdin closed); `state`
 * describes the peer for the `state` command.
 */
export function servePeerCommands(runner: Runner, host: Host, state: () => object): void {
  let closing = false;
  const close = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    host.cancelAll();
    await runner.close();
  };

  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    let command: PeerCommand;
    try {
      command = JSON.parse(line) as PeerCommand;
    } catch {
      print({ type: 'error', message: `not JSON: ${line}` });
      return;
    }
    switch (command.cmd) {
      case 'ping': {
        const options = {
          ...(command.count === undefined ? {} : { count: command.count }),
          ...(command.timeoutMs === undefined ? {} : { timeoutMs: command.timeoutMs }),
          ...(command.intervalMs === undefined ? {} : { intervalMs: command.intervalMs }),
        };
        host.ping(command.destination, options).then(
          (ping) => print({ type: 'result', id: command.id, ping }),
          (error: unknown) => print({ type: 'result', id: command.id, error: String(error) }),
        );
        break;
      }
      case 'state':
        print({ type: 'result', id: command.id, state: state() });
        break;
      case 'close':
        close().then(() => {
          print({ type: 'result', id: command.id, closed: true });
          process.exit(0);
        });
        break;
    }
  });
  // The test going away (stdin closed) ends the peer too.
  lines.on('close', () => {
    close().then(() => process.exit(0));
  });
}
