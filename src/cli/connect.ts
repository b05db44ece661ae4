/** How a verb reaches the daemon: the socket from --socket, $NETARP_SOCKET or the default. */
import { type ControlClient, withClient } from '../control/client.ts';
import { socketPathFrom } from '../control/protocol.ts';
import { type CliIo, envOf } from './command.ts';

/**
 * Connects to the daemon, runs `body` with the client and closes the connection. A daemon
 * that is not there is a ControlError ("cannot connect to PATH: is the daemon running?").
 */
export function withDaemon<T>(
  io: CliIo,
  socket: string | undefined,
  body: (client: ControlClient) => Promise<T>,
): Promise<T> {
  return withClient({ path: socketPathFrom(socket, envOf(io)) }, body);
}
