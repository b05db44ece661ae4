/**
 * The outside of a netarp peer program (test/support/peer-runtime.ts is the inside): the
 * child process and its JSON-lines conversation. It waits for `ready`, numbers the commands
 * it sends and hands each result to the request that waits for it, and keeps what the
 * program reports on its own: runtime events, and errors (with any line that is not JSON).
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { RuntimeEvent } from '../../src/runtime/runner.ts';
import type { PeerCommandShape } from './peer-runtime.ts';

/** Each command without its id (distributes over the union). */
export type WithoutId<C> = C extends unknown ? Omit<C, 'id'> : never;

/** A JSON line from a peer program. */
type PeerMessage =
  | { type: 'ready' }
  | { type: 'fatal'; message: string }
  | { type: 'error'; message: string }
  | { type: 'event'; event: RuntimeEvent }
  | { type: 'result'; id: number; [key: string]: unknown };

/** How long a peer program may take, and what messages call it. */
export interface PeerProcessOptions {
  /** The program in messages: "peer", "responder". */
  readonly name: string;
  /** From the start to `ready`. */
  readonly readyTimeoutMs: number;
  /** A request's answer, unless the request says otherwise. */
  readonly requestTimeoutMs: number;
  /** The answer to `close`; past it the process is killed. */
  readonly closeTimeoutMs: number;
}

/** A running peer program, spoken to in commands of type C. */
export class PeerProcess<C extends PeerCommandShape> {
  /** Every runtime event the program reported, in order. */
  readonly events: RuntimeEvent[] = [];
  /** Every error the program reported (link I/O, handler exceptions), and lines not JSON. */
  readonly errors: string[] = [];
  /** Resolves once the program printed `ready`; rejects if it failed or died first. */
  readonly ready: Promise<void>;
  private readonly exited: Promise<void>;
  private readonly waiting = new Map<number, (message: Record<string, unknown>) => void>();
  private nextId = 1;
  private stderr = '';
  /** Why requests cannot be answered any more, once the process has exited. */
  private gone: string | undefined;

  constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly options: PeerProcessOptions,
  ) {
    const { name } = options;
    let onReady: () => void = () => {};
    let onFailed: (error: Error) => void = () => {};
    this.ready = new Promise((resolve, reject) => {
      onReady = resolve;
      onFailed = reject;
    });
    // A caller that stops waiting for `ready` must not leave its rejection unhandled.
    this.ready.catch(() => {});
    const timer = setTimeout(
      () =>
        onFailed(new Error(`${name} not ready after ${options.readyTimeoutMs} ms: ${this.stderr}`)),
      options.readyTimeoutMs,
    );
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      this.stderr += text;
    });
    // Writing to a program that has just died fails with EPIPE; the exit settles its requests.
    child.stdin.on('error', (error) => this.errors.push(`${name} stdin: ${error.message}`));
    createInterface({ input: child.stdout }).on('line', (line) => {
      let message: PeerMessage;
      try {
        message = JSON.parse(line) as PeerMessage;
      } catch {
        this.errors.push(`${name} printed: ${line}`);
        return;
      }
      switch (message.type) {
        case 'ready':
          clearTimeout(timer);
          onReady();
          break;
        case 'fatal':
          onFailed(new Error(`${name} failed: ${message.message}`));
          break;
        case 'error':
          this.errors.push(message.message);
          break;
        case 'event':
          this.events.push(message.event);
          break;
        case 'result':
          this.waiting.get(message.id)?.(message);
          this.waiting.delete(message.id);
          break;
      }
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        const gone = `${name} exited (${code ?? signal}): ${this.stderr}`;
        this.gone = gone;
        onFailed(new Error(gone));
        for (const settle of this.waiting.values()) settle({ error: gone });
        this.waiting.clear();
        resolve();
      });
    });
  }

  /** The process id (`ip netns exec` execs node in place, so this is node's). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Sends a command and waits for its result; an `error` in the result rejects. */
  request(
    command: WithoutId<C> | { readonly cmd: 'close' },
    timeoutMs = this.options.requestTimeoutMs,
  ): Promise<Record<string, unknown>> {
    if (this.gone !== undefined) return Promise.reject(new Error(this.gone));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(
          new Error(`${this.options.name} did not answer ${command.cmd} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.waiting.set(id, (message) => {
        clearTimeout(timer);
        if (typeof message.error === 'string') reject(new Error(message.error));
        else resolve(message);
      });
      this.child.stdin.write(`${JSON.stringify({ ...command, id })}\n`);
    });
  }

  /**
   * Asks the program to close (its links closed, a capture or CPU profile written) and waits
   * for it to exit; kills it if it does not answer.
   */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      await this.request({ cmd: 'close' }, this.options.closeTimeoutMs);
    } catch {
      this.kill();
    }
    await this.exited;
  }

  /** Ends the process at once. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
