/**
 * The control client: one connection to the daemon's socket and one promise-returning method
 * per operation. Requests may overlap (each has its own id and timeout); a `monitor`
 * subscription turns the rest of the connection into a stream of events; a `ping` given a
 * progress callback hears of each echo as it goes.
 *
 * Every failure is a ControlError whose message is one line a person can act on: the
 * daemon's own error message for a refused operation, and for the transport things like
 * "cannot connect to /run/netarp/netarp.sock: is the daemon running?".
 */
import { connect, type Socket } from 'node:net';
import type { EntryInfo } from '../core/admin.ts';
import {
  DEFAULT_SOCKET_PATH,
  decodeServerLine,
  type ErrorCode,
  encodeRequest,
  LIMITS,
  type MonitorEvent,
  type OpName,
  type OpParams,
  type OpProgress,
  type OpResult,
  type PingProgress,
  type RequestId,
} from './protocol.ts';

/** What went wrong on the client side, besides the daemon's own error codes. */
export type ClientErrorCode =
  | ErrorCode
  | 'ECONNREFUSED' // nothing listens on the socket (no daemon, or a stale file)
  | 'EACCES' // the socket exists but this user may not connect
  | 'ETIMEDOUT' // no connection, or no response, in time
  | 'ECONNRESET' // the connection closed before the response came
  | 'EBADRESPONSE'; // the daemon sent something that is not the protocol

/** A failed request or connection. `code` is the daemon's error code or a ClientErrorCode. */
export class ControlError extends Error {
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ControlError';
  }
}

/** Options for `ControlClient.connect`. */
export interface ClientOptions {
  /** The socket path; default DEFAULT_SOCKET_PATH (see socketPathFrom for --socket and env). */
  path?: string;
  /** Milliseconds a request may take beyond its own waiting (resolve, ping); default 5000. */
  timeoutMs?: number;
  /** Milliseconds to wait for the connection; default 2000. */
  connectTimeoutMs?: number;
}

/** A live monitor subscription. */
export interface MonitorSubscription {
  /** Resolves when the connection ends (the daemon stopped, or `close` was called). */
  readonly ended: Promise<void>;
  /** Ends the subscription by closing the connection. */
  close(): void;
}

interface Pending {
  readonly op: OpName;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: ControlError) => void;
  readonly timer: NodeJS.Timeout;
  /** Called with each progress line of the request, when it asked for them. */
  readonly onProgress: ((progress: unknown) => void) | undefined;
}

/** The options of `ControlClient.ping`. */
export interface PingOptions {
  count?: number;
  timeoutMs?: number;
  intervalMs?: number;
}

/** Longest line accepted from the daemon (a `list` of a very large table still fits). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

function errnoOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String(error.code)
    : undefined;
}

/** The one-line message for a failed connect to `path`. */
export function connectFailure(path: string, error: unknown): ControlError {
  const code = errnoOf(error);
  if (code === 'ENOENT' || code === 'ECONNREFUSED') {
    return new ControlError('ECONNREFUSED', `cannot connect to ${path}: is the daemon running?`, {
      cause: error,
    });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new ControlError(
      'EACCES',
      `cannot connect to ${path}: permission denied (the socket is owner-only: run as the daemon's user, usually root)`,
      { cause: error },
    );
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new ControlError('ECONNREFUSED', `cannot connect to ${path}: ${detail}`, {
    cause: error,
  });
}

/** A connection to the daemon. Open one with `ControlClient.connect`. */
export class ControlClient {
  private nextId = 1;
  private readonly pending = new Map<RequestId, Pending>();
  private readonly monitors = new Map<RequestId, (event: MonitorEvent) => void>();
  private chunks: Buffer[] = [];
  private buffered = 0;
  private closedError: ControlError | undefined;
  private readonly ended: Promise<void>;

  private constructor(
    readonly path: string,
    private readonly socket: Socket,
    private readonly timeoutMs: number,
  ) {
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('error', (error) => {
      this.fail(new ControlError('ECONNRESET', `${path}: ${error.message}`, { cause: error }));
    });
    this.ended = new Promise((resolve) => {
      socket.on('close', () => {
        this.fail(new ControlError('ECONNRESET', `${path}: the daemon closed the connection`));
        resolve();
      });
    });
  }

  /** Connects to the daemon's socket; throws ControlError with a message naming the path. */
  static connect(options: ClientOptions = {}): Promise<ControlClient> {
    const path = options.path ?? DEFAULT_SOCKET_PATH;
    const connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new ControlError(
            'ETIMEDOUT',
            `cannot connect to ${path}: no answer within ${connectTimeoutMs} ms`,
          ),
        );
      }, connectTimeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(connectFailure(path, error));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new ControlClient(path, socket, options.timeoutMs ?? 5000));
      });
    });
  }

  /**
   * Sends one request and resolves with its result; rejects with a ControlError carrying the
   * daemon's code and message, or ETIMEDOUT after `waitMs` plus the client's timeout.
   * `onProgress` receives the request's progress lines, if it asked for them.
   */
  request<O extends Exclude<OpName, 'monitor'>>(
    op: O,
    params: OpParams<O>,
    waitMs = 0,
    onProgress?: (progress: OpProgress<O>) => void,
  ): Promise<OpResult<O>> {
    return this.send(
      op,
      params,
      waitMs,
      this.nextId++,
      onProgress as ((progress: unknown) => void) | undefined,
    ) as Promise<OpResult<O>>;
  }

  /** arp -a: every entry, or those on `ifName`. */
  list(ifName?: string): Promise<OpResult<'list'>> {
    return this.request('list', ifName === undefined ? {} : { ifName });
  }

  /**
   * arp host: the entries for `host` (dotted IPv4); ENOENT when there is none. A daemon that
   * predates `entries` answers the first entry alone: see `entriesOf`.
   */
  get(host: string): Promise<OpResult<'get'>> {
    return this.request('get', { host });
  }

  /** arp -s / -S: sets a static entry. */
  set(params: OpParams<'set'>): Promise<OpResult<'set'>> {
    return this.request('set', params);
  }

  /** arp -d host [pub]; with `ifName`, only the entry on that interface. */
  delete(host: string, pub = false, ifName?: string): Promise<OpResult<'delete'>> {
    return this.request('delete', {
      host,
      ...(pub ? { pub } : {}),
      ...(ifName === undefined ? {} : { ifName }),
    });
  }

  /** arp -d -a (on `ifName` only, if given). */
  flush(ifName?: string): Promise<OpResult<'flush'>> {
    return this.request('flush', ifName === undefined ? {} : { ifName });
  }

  /** Every knob, or the one named (full or short name). */
  sysctlGet(name?: string): Promise<OpResult<'sysctl-get'>> {
    return this.request('sysctl-get', name === undefined ? {} : { name });
  }

  /** Changes a knob at run time. */
  sysctlSet(name: string, value: number): Promise<OpResult<'sysctl-set'>> {
    return this.request('sysctl-set', { name, value });
  }

  /** Every counter. */
  stats(): Promise<OpResult<'stats'>> {
    return this.request('stats', {});
  }

  /** The daemon's interfaces. */
  interfaces(): Promise<OpResult<'interfaces'>> {
    return this.request('interfaces', {});
  }

  /** The MAC of `host`, resolving it if needed; a failure is a result, not an error. */
  resolve(host: string, timeoutMs?: number): Promise<OpResult<'resolve'>> {
    const wait = timeoutMs ?? LIMITS.resolveTimeoutMs.default;
    return this.request('resolve', timeoutMs === undefined ? { host } : { host, timeoutMs }, wait);
  }

  /**
   * ICMP echo to `host` through the engine. With `onProgress`, the daemon is asked to report
   * each echo as it goes (sent, then answered or not); a daemon that predates progress lines
   * refuses that with EINVAL (see `isProgressRefused`).
   */
  ping(
    host: string,
    options: PingOptions = {},
    onProgress?: (progress: PingProgress) => void,
  ): Promise<OpResult<'ping'>> {
    const count = options.count ?? LIMITS.pingCount.default;
    const wait =
      (count - 1) * (options.intervalMs ?? LIMITS.pingIntervalMs.default) +
      (options.timeoutMs ?? LIMITS.pingTimeoutMs.default);
    const params =
      onProgress === undefined ? { host, ...options } : { host, ...options, progress: true };
    return this.request('ping', params, wait, onProgress);
  }

  /**
   * Subscribes to the daemon's events: `onEvent` is called for each until the connection
   * ends. Other requests may still be sent on this client.
   */
  async monitor(onEvent: (event: MonitorEvent) => void): Promise<MonitorSubscription> {
    const id = this.nextId++;
    this.monitors.set(id, onEvent);
    try {
      await this.send('monitor', {}, 0, id);
    } catch (error) {
      this.monitors.delete(id);
      throw error;
    }
    return { ended: this.ended, close: () => this.close() };
  }

  /** Closes the connection; requests still waiting fail with ECONNRESET. */
  close(): void {
    this.fail(new ControlError('ECONNRESET', `${this.path}: connection closed`));
    // Destroy rather than half-close: a monitoring daemon keeps a half-closed connection open.
    this.socket.destroy();
  }

  // --- internals --------------------------------------------------------------------------

  private send(
    op: OpName,
    params: object,
    waitMs: number,
    id: number,
    onProgress?: (progress: unknown) => void,
  ): Promise<unknown> {
    if (this.closedError) return Promise.reject(this.closedError);
    const limit = waitMs + this.timeoutMs;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new ControlError('ETIMEDOUT', `${op}: no response from the daemon within ${limit} ms`),
        );
      }, limit);
      this.pending.set(id, { op, resolve, reject, timer, onProgress });
      this.socket.write(encodeRequest(id, op, params as never));
    });
  }

  private read(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline < 0) break;
      this.chunks.push(chunk.subarray(start, newline));
      const text = Buffer.concat(this.chunks).toString('utf8');
      this.chunks = [];
      this.buffered = 0;
      this.line(text);
      start = newline + 1;
    }
    if (start < chunk.length) {
      this.chunks.push(Buffer.from(chunk.subarray(start)));
      this.buffered += chunk.length - start;
      if (this.buffered > MAX_RESPONSE_BYTES) {
        this.fail(new ControlError('EBADRESPONSE', `${this.path}: response line too long`));
        this.socket.destroy();
      }
    }
  }

  private line(text: string): void {
    if (text.trim() === '') return;
    const decoded = decodeServerLine(text);
    if (!decoded.ok) {
      this.fail(new ControlError('EBADRESPONSE', `${this.path}: ${decoded.message}`));
      this.socket.destroy();
      return;
    }
    const line = decoded.line;
    if ('event' in line) {
      this.monitors.get(line.id)?.(line.event);
      return;
    }
    if ('progress' in line) {
      this.pending.get(line.id)?.onProgress?.(line.progress);
      return;
    }
    if (line.id === null) {
      // Not tied to a request (too many connections, an oversized line): it ends them all.
      if (!line.ok) this.fail(new ControlError(line.error.code, line.error.message));
      return;
    }
    const pending = this.pending.get(line.id);
    if (!pending) return;
    this.pending.delete(line.id);
    clearTimeout(pending.timer);
    if (line.ok) pending.resolve(line.result);
    else pending.reject(new ControlError(line.error.code, line.error.message));
  }

  /** Rejects every waiting request with `error`; later requests fail with it at once. */
  private fail(error: ControlError): void {
    this.closedError ??= error;
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.reject(error);
    }
  }
}

/**
 * The entries of a `get` answer: its `entries`, or, from a daemon that predates them, the one
 * entry it answered.
 */
export function entriesOf(answer: OpResult<'get'>): readonly EntryInfo[] {
  return Array.isArray(answer.entries) ? answer.entries : [answer];
}

/**
 * Whether `error` is a daemon refusing a `ping`'s `progress` field: one that predates
 * progress lines (protocol.ts: unknown fields are refused, never ignored).
 */
export function isProgressRefused(error: unknown): boolean {
  return (
    error instanceof ControlError &&
    error.code === 'EINVAL' &&
    error.message === "ping: unknown field 'progress'"
  );
}

/** Connects, runs `body` with the client, and always closes the connection. */
export async function withClient<T>(
  options: ClientOptions,
  body: (client: ControlClient) => Promise<T>,
): Promise<T> {
  const client = await ControlClient.connect(options);
  try {
    return await body(client);
  } finally {
    client.close();
  }
}
