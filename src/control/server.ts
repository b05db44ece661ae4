/**
 * The control server: a Unix stream socket speaking the protocol of protocol.ts. It frames
 * lines, decodes requests, hands each well-formed one to the daemon's handler and writes the
 * response; it keeps the `monitor` subscriptions itself and fans events out to them.
 *
 * Nothing a client sends can hurt the daemon: malformed lines and unknown operations get an
 * error response, a line longer than the cap gets one and then the connection is closed, a
 * handler that throws gets an error response, and a monitor that stops reading loses events
 * (counted, and told) instead of growing the daemon's memory; so do progress lines.
 *
 * A handler may report progress (a `ping` asked for it) through its RequestContext, and is
 * told through the context's signal when the connection closes, so that it stops work no one
 * waits for any more.
 *
 * Only the socket's owner may connect (connect(2) needs write permission on a Unix socket's
 * file, unix(7)): the socket file is created mode 0600, in a directory created mode 0700 if
 * missing. An existing directory is used only if no other user could replace the socket in
 * it: owned by this user or root, and not writable by others unless sticky (like /tmp). A
 * socket file left by a daemon that died is removed; one a daemon is still listening on makes
 * `listen` fail, so two daemons never share a socket.
 */
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { NetarpError } from '../core/errors.ts';
import type { LogLevel } from '../core/events.ts';
import {
  ControlFailure,
  type ControlStats,
  decodeRequest,
  type ErrorBody,
  encodeError,
  encodeEvent,
  encodeProgress,
  encodeResult,
  MAX_REQUEST_BYTES,
  type MonitorEvent,
  type Request,
  type RequestId,
} from './protocol.ts';

/** What a handler has besides its request: a way to report progress, and to learn the client left. */
export interface RequestContext {
  /**
   * Sends a progress line for this request (`{"v":1,"id":...,"progress":value}`). Ignored
   * once the request is answered or the connection is closed; dropped and counted
   * (`eventsLost`) while the client is not reading.
   */
  progress(value: unknown): void;
  /**
   * Aborted when the connection closes: nobody waits for the result any more. A client that
   * went away is seen when a write to it fails (a progress line, say); until then its closed
   * connection looks like a half-closed one, which still wants its response.
   */
  readonly signal: AbortSignal;
}

/** Runs the operations (all but `monitor`, which the server keeps). */
export interface ControlHandler {
  /**
   * Runs one request and returns its result. Throws ControlFailure or NetarpError for an error
   * response with that code; anything else thrown is answered EINTERNAL and logged.
   */
  handle(
    request: Exclude<Request, { op: 'monitor' }>,
    context: RequestContext,
  ): Promise<unknown> | unknown;
}

/** Where the server reports what it survived (a handler's bug, a socket error). */
export type ServerLog = (level: LogLevel, message: string) => void;

/** Options for `ControlServer.listen`. */
export interface ControlServerOptions {
  /** The socket file's path. */
  path: string;
  handler: ControlHandler;
  log?: ServerLog;
  /** Longest request line in bytes; default MAX_REQUEST_BYTES. */
  maxRequestBytes?: number;
  /** Connections open at once; one more is answered EBUSY and closed. Default 64. */
  maxConnections?: number;
  /** Requests in flight on one connection; one more is answered EBUSY. Default 32. */
  maxInFlight?: number;
  /** Bytes queued for a monitor before its events are dropped; default 1 MiB. */
  monitorBufferBytes?: number;
}

/** Why the server could not start. */
export type ControlServerErrorCode =
  | 'EADDRINUSE' // another daemon is listening on the socket
  | 'EEXIST' // the path exists and is not a socket
  | 'EPERM' // the directory would let another user replace the socket
  | 'EIO'; // the directory or the socket could not be created

/** A failure to start the server, naming the socket path. */
export class ControlServerError extends Error {
  constructor(
    readonly code: ControlServerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ControlServerError';
  }
}

/** How long a probe of an existing socket waits before taking it as alive. */
const PROBE_TIMEOUT_MS = 1000;

/** How long a connection closed for an oversized line may take to read its error. */
const CLOSE_GRACE_MS = 1000;

/**
 * How often a half-closed connection with work in flight is sent a blank line, which the
 * protocol says to ignore: a client that closed both ways makes the write fail, and its
 * requests are aborted (a `ping` stops sending) instead of running to the end for no one.
 */
const HALF_CLOSED_PROBE_MS = 500;

function errnoOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String(error.code)
    : undefined;
}

/**
 * Refuses a socket directory in which another user could replace the socket with one of
 * their own (and so read what the CLI sends and answer it): one owned by another user, or
 * writable by group or others without the sticky bit (which limits renames and removals to
 * each file's owner).
 */
async function checkDirectory(path: string): Promise<void> {
  const directory = dirname(path);
  let info: Awaited<ReturnType<typeof lstat>>;
  try {
    info = await lstat(directory);
  } catch (error) {
    throw new ControlServerError('EIO', `cannot use ${directory}: ${String(error)}`, {
      cause: error,
    });
  }
  const uid = process.geteuid?.();
  if (uid !== undefined && info.uid !== uid && info.uid !== 0) {
    throw new ControlServerError(
      'EPERM',
      `${directory} (the socket's directory) belongs to uid ${info.uid}, who could replace the socket; use a directory of this user (uid ${uid}) or root`,
    );
  }
  const sticky = (info.mode & 0o1000) !== 0;
  if ((info.mode & 0o022) !== 0 && !sticky) {
    throw new ControlServerError(
      'EPERM',
      `${directory} (the socket's directory) is writable by other users, who could replace the socket; make it 0700 or choose another --socket`,
    );
  }
}

/** Whether a daemon answers on the socket at `path` (a connect succeeds). */
function socketIsLive(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = connect(path);
    const timer = setTimeout(() => {
      probe.destroy();
      // A listener that accepts nothing within a second is still a listener.
      resolve(true);
    }, PROBE_TIMEOUT_MS);
    probe.once('connect', () => {
      clearTimeout(timer);
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (error) => {
      clearTimeout(timer);
      const code = errnoOf(error);
      if (code === 'ECONNREFUSED' || code === 'ENOENT') resolve(false);
      else reject(error);
    });
  });
}

/** Removes a stale socket file at `path`; throws if a daemon listens there or it is no socket. */
async function clearStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return;
    throw new ControlServerError('EIO', `cannot use ${path}: ${String(error)}`, { cause: error });
  }
  if (!isSocket) {
    throw new ControlServerError(
      'EEXIST',
      `${path} exists and is not a socket; remove it or choose another --socket`,
    );
  }
  let live: boolean;
  try {
    live = await socketIsLive(path);
  } catch (error) {
    throw new ControlServerError('EIO', `cannot probe ${path}: ${String(error)}`, {
      cause: error,
    });
  }
  if (live) {
    throw new ControlServerError('EADDRINUSE', `another daemon is listening on ${path}`);
  }
  await unlink(path);
}

/** One client connection. */
class Connection {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private inFlight = 0;
  private readEnded = false;
  private discarding = false;
  /** The id of this connection's monitor request, once it subscribed. */
  monitorId: RequestId | undefined;
  /** Events not sent since the last one that was. */
  private lost = 0;
  /** One per request in flight: aborted when the connection closes. */
  private readonly running = new Set<AbortController>();
  /** While half-closed with work in flight: the timer of the blank-line probe. */
  private probe: NodeJS.Timeout | undefined;

  constructor(
    private readonly server: ControlServer,
    readonly socket: Socket,
    private readonly limits: {
      maxRequestBytes: number;
      maxInFlight: number;
      monitorBufferBytes: number;
    },
  ) {
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('end', () => {
      this.readEnded = true;
      this.endIfIdle();
      this.probeWhileHalfClosed();
    });
    // Without an 'error' listener a reset by the client would be thrown and end the daemon.
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      clearInterval(this.probe);
      this.probe = undefined;
      for (const controller of this.running) controller.abort();
      this.running.clear();
    });
  }

  /**
   * After the client's end of input, with requests in flight or a monitor: a half-close (the
   * client still reads) and a full close look the same until a write fails, and a `ping`
   * without progress or a quiet monitor writes nothing for a long time. A blank line now and
   * then tells them apart; it stops once nothing is in flight.
   */
  private probeWhileHalfClosed(): void {
    if (this.probe !== undefined || !this.socket.writable || this.idle) return;
    this.probe = setInterval(() => {
      if (this.idle) {
        clearInterval(this.probe);
        this.probe = undefined;
        return;
      }
      // Only onto an empty send queue: what is queued already fails to send to a client
      // that is gone, and a client that is there but not reading gets no pile of probes.
      if (this.socket.writableLength === 0) this.write('\n');
    }, HALF_CLOSED_PROBE_MS);
    this.probe.unref();
  }

  /** Sends a monitor event, or counts it lost while the client is not reading. */
  publish(event: MonitorEvent): void {
    const id = this.monitorId;
    if (id === undefined || !this.socket.writable) return;
    if (this.socket.writableLength > this.limits.monitorBufferBytes) {
      this.lost++;
      this.server.counters.eventsLost++;
      return;
    }
    if (this.lost > 0) {
      this.write(encodeEvent(id, { kind: 'lost', time: event.time, count: this.lost }));
      this.lost = 0;
    }
    this.write(encodeEvent(id, event));
  }

  /** Ends the connection (daemon stopping). */
  close(): void {
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  private read(chunk: Buffer): void {
    if (this.discarding) return;
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline < 0) break;
      const part = chunk.subarray(start, newline);
      if (this.buffered + part.length > this.limits.maxRequestBytes) {
        this.oversized();
        return;
      }
      this.chunks.push(part);
      const line = Buffer.concat(this.chunks).toString('utf8');
      this.chunks.length = 0;
      this.buffered = 0;
      this.line(line);
      start = newline + 1;
    }
    const rest = chunk.subarray(start);
    if (this.buffered + rest.length > this.limits.maxRequestBytes) {
      this.oversized();
      return;
    }
    if (rest.length > 0) {
      // Copy: the socket may reuse its chunk's memory.
      this.chunks.push(Buffer.from(rest));
      this.buffered += rest.length;
    }
  }

  /** A line past the cap: say so, stop reading, close once the client had time to read it. */
  private oversized(): void {
    this.discarding = true;
    this.chunks.length = 0;
    this.buffered = 0;
    this.server.counters.oversized++;
    this.sendError(null, {
      code: 'EMSGSIZE',
      message: `request line longer than ${this.limits.maxRequestBytes} bytes; closing the connection`,
    });
    this.close();
  }

  private line(raw: string): void {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '') return;
    this.server.counters.requests++;
    const decoded = decodeRequest(text);
    if (!decoded.ok) {
      this.sendError(decoded.id, decoded.error);
      return;
    }
    const request = decoded.request;
    if (this.server.stopping) {
      this.sendError(request.id, { code: 'ESHUTDOWN', message: 'the daemon is stopping' });
      return;
    }
    if (request.op === 'monitor') {
      this.monitorId = request.id;
      this.write(encodeResult(request.id, { monitoring: true }));
      return;
    }
    if (this.inFlight >= this.limits.maxInFlight) {
      this.sendError(request.id, {
        code: 'EBUSY',
        message: `more than ${this.limits.maxInFlight} requests in flight on this connection`,
      });
      return;
    }
    this.inFlight++;
    const controller = new AbortController();
    this.running.add(controller);
    let answered = false;
    const context: RequestContext = {
      progress: (value) => {
        if (answered || !this.socket.writable) return;
        if (this.socket.writableLength > this.limits.monitorBufferBytes) {
          this.server.counters.eventsLost++;
          return;
        }
        this.write(encodeProgress(request.id, value));
      },
      signal: controller.signal,
    };
    this.server
      .run(request, context)
      .then(
        (result) => {
          answered = true;
          let line: string;
          try {
            line = encodeResult(request.id, result);
          } catch (error) {
            this.sendError(request.id, this.server.internal(request.op, error));
            return;
          }
          this.write(line);
        },
        (error: unknown) => {
          answered = true;
          this.sendError(request.id, this.server.failure(request.op, error));
        },
      )
      .finally(() => {
        this.running.delete(controller);
        this.inFlight--;
        this.endIfIdle();
      });
  }

  private sendError(id: RequestId | null, error: ErrorBody): void {
    this.server.counters.errors++;
    this.write(encodeError(id, error));
  }

  private write(line: string): void {
    if (this.socket.writable) this.socket.write(line);
  }

  /** No request in flight and no monitor: nothing more will be written unasked. */
  private get idle(): boolean {
    return this.inFlight === 0 && this.monitorId === undefined;
  }

  /** The client half-closed: answer what is in flight, then close (a monitor stays open). */
  private endIfIdle(): void {
    if (this.readEnded && this.idle) this.socket.end();
  }
}

/** A listening control socket. Start it with `ControlServer.listen`. */
export class ControlServer {
  /** The counters, updated by connections. */
  readonly counters: ControlStats = {
    connections: 0,
    accepted: 0,
    refused: 0,
    requests: 0,
    errors: 0,
    oversized: 0,
    eventsLost: 0,
  };
  /** True once `close` began: new requests are answered ESHUTDOWN. */
  stopping = false;
  private readonly connections = new Set<Connection>();
  private readonly log: ServerLog;
  private inode: number | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly path: string,
    private readonly server: Server,
    private readonly handler: ControlHandler,
    private readonly options: Required<
      Pick<
        ControlServerOptions,
        'maxRequestBytes' | 'maxConnections' | 'maxInFlight' | 'monitorBufferBytes'
      >
    >,
    log: ServerLog | undefined,
  ) {
    this.log = log ?? (() => {});
    server.on('connection', (socket) => this.accept(socket));
    server.on('error', (error) => this.log('err', `control socket ${path}: ${error.message}`));
  }

  /**
   * Creates the socket's directory (0700) if missing, checks that no other user could replace
   * the socket in it, removes a stale socket file, and listens with mode 0600. Throws
   * ControlServerError when another daemon listens on `path`, when `path` is something else,
   * when the directory is not safe, or when the socket cannot be created.
   */
  static async listen(options: ControlServerOptions): Promise<ControlServer> {
    const { path } = options;
    try {
      // Owner-only: others cannot even see the socket, let alone connect to it.
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new ControlServerError('EIO', `cannot create the directory of ${path}: ${error}`, {
        cause: error,
      });
    }
    await checkDirectory(path);
    await clearStaleSocket(path);
    const server = createServer({ allowHalfOpen: true });
    const control = new ControlServer(
      path,
      server,
      options.handler,
      {
        maxRequestBytes: options.maxRequestBytes ?? MAX_REQUEST_BYTES,
        maxConnections: options.maxConnections ?? 64,
        maxInFlight: options.maxInFlight ?? 32,
        monitorBufferBytes: options.monitorBufferBytes ?? 1024 * 1024,
      },
      options.log,
    );
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(
          new ControlServerError(
            errnoOf(error) === 'EADDRINUSE' ? 'EADDRINUSE' : 'EIO',
            `cannot listen on ${path}: ${error.message}`,
            { cause: error },
          ),
        );
      };
      server.once('error', onError);
      // bind(2) happens inside listen(), synchronously: a umask of 0177 makes the socket
      // 0600 from its first moment, with no window in which others could connect.
      const previous = process.umask(0o177);
      try {
        server.listen(path, () => {
          server.off('error', onError);
          resolve();
        });
      } finally {
        process.umask(previous);
      }
    });
    try {
      control.inode = (await lstat(path)).ino;
      await chmod(path, 0o600);
    } catch (error) {
      await control.close();
      throw new ControlServerError('EIO', `cannot secure ${path}: ${String(error)}`, {
        cause: error,
      });
    }
    return control;
  }

  /**
   * Checks that the daemon could listen on `path`: nothing is there, or a stale socket file
   * (removed), and no daemon answers on it. `listen` checks again; this lets a daemon refuse
   * before it opens anything else.
   */
  static checkPath(path: string): Promise<void> {
    return clearStaleSocket(path);
  }

  /** Sends `event` to every monitoring connection. */
  publish(event: MonitorEvent): void {
    for (const connection of this.connections) connection.publish(event);
  }

  /** Whether a connection has subscribed with `monitor` (and is still open). */
  get monitoring(): boolean {
    for (const connection of this.connections) if (connection.monitorId !== undefined) return true;
    return false;
  }

  /** A copy of the counters. */
  stats(): ControlStats {
    return { ...this.counters, connections: this.connections.size };
  }

  /**
   * Stops accepting, ends every connection (monitors included) and removes the socket file.
   * Idempotent. (Node unlinks a Unix socket's path when its server closes, by name; the check
   * below only covers a file that is still ours.)
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.stopping = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.connections) connection.close();
    await closed;
    try {
      if (this.inode !== undefined && (await lstat(this.path)).ino === this.inode) {
        await unlink(this.path);
      }
    } catch {
      // Already gone.
    }
  }

  // --- for connections --------------------------------------------------------------------

  /** Runs a request through the handler. */
  run(request: Exclude<Request, { op: 'monitor' }>, context: RequestContext): Promise<unknown> {
    return new Promise((resolve) => resolve(this.handler.handle(request, context)));
  }

  /** The error response for what a handler threw. */
  failure(op: string, error: unknown): ErrorBody {
    if (error instanceof ControlFailure || error instanceof NetarpError) {
      return { code: error.code, message: error.message };
    }
    return this.internal(op, error);
  }

  /** An EINTERNAL response for a bug, logged so that it is seen. */
  internal(op: string, error: unknown): ErrorBody {
    const detail = error instanceof Error ? error.message : String(error);
    this.log('err', `control: ${op} failed unexpectedly: ${detail}`);
    return { code: 'EINTERNAL', message: `internal error in ${op}: ${detail}` };
  }

  private accept(socket: Socket): void {
    this.counters.accepted++;
    if (this.stopping || this.connections.size >= this.options.maxConnections) {
      this.counters.refused++;
      socket.on('error', () => socket.destroy());
      socket.end(
        encodeError(null, {
          code: this.stopping ? 'ESHUTDOWN' : 'EBUSY',
          message: this.stopping
            ? 'the daemon is stopping'
            : `too many connections (${this.options.maxConnections})`,
        }),
      );
      return;
    }
    const connection = new Connection(this, socket, this.options);
    this.connections.add(connection);
    socket.on('close', () => this.connections.delete(connection));
  }
}
