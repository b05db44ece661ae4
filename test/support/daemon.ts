/**
 * `netarp daemon` as a child process inside a network namespace, for the suites and the stress
 * run that put it against a real kernel: test/interop/daemon-entry.ts run by node, configured
 * by a TOML file, reached through its control socket with the client library. Every wait is
 * bounded and the process is stopped by its own id.
 */
import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlClient } from '../../src/control/client.ts';
import type { MonitorEvent } from '../../src/control/protocol.ts';
import type { LogLevel } from '../../src/core/events.ts';
import { spawnNodeIn } from './netns.ts';
import { sleep, waitFor } from './wait.ts';

const ENTRY = fileURLToPath(new URL('../interop/daemon-entry.ts', import.meta.url));

/** How long the daemon may take to answer on its socket (node and tsx start in seconds). */
const START_TIMEOUT_MS = 10_000;

/** How to run the daemon. */
export interface DaemonOptions {
  /** The namespace it runs in. */
  readonly ns: string;
  /** A scratch directory for the config file (`netarp.toml`) and the socket (`run/netarp.sock`). */
  readonly dir: string;
  /** The config file's text. */
  readonly config: string;
  /** --log-level (default debug: suites wait for the route lines it adds). */
  readonly logLevel?: LogLevel;
  /** Subscribe a second connection to the monitor at start, into `events` (default true). */
  readonly monitor?: boolean;
  /** Keep only the last this many characters of stderr (default: all of it). */
  readonly stderrTail?: number;
}

/** A route event of the monitor. */
export type RouteEvent = Extract<MonitorEvent, { kind: 'route' }>;

/** The daemon process, a client on its socket, its stderr and its monitor events. */
export class Daemon {
  /** Everything the daemon wrote on stderr (or its tail, see DaemonOptions.stderrTail). */
  stderr = '';
  /** Every event of the monitor subscription opened at start, in order. */
  readonly events: MonitorEvent[] = [];
  /** Settles when the process exits, with how. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The client for requests. */
  client!: ControlClient;
  /** A second connection, subscribed to the monitor. */
  private monitorClient: ControlClient | undefined;

  private constructor(
    readonly child: ChildProcessWithoutNullStreams,
    /** The config file, which a test may rewrite before SIGHUP. */
    readonly configFile: string,
    readonly socket: string,
    stderrTail: number | undefined,
  ) {
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      this.stderr += text;
      if (stderrTail !== undefined) this.stderr = this.stderr.slice(-stderrTail);
    });
    child.stdout.resume();
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  /** Writes the config, starts the daemon and connects (and subscribes, unless told not to). */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const file = join(options.dir, 'netarp.toml');
    writeFileSync(file, options.config);
    const socket = join(options.dir, 'run', 'netarp.sock');
    const child = spawnNodeIn(options.ns, ENTRY, [
      '--config',
      file,
      '--socket',
      socket,
      '--log-level',
      options.logLevel ?? 'debug',
    ]);
    const daemon = new Daemon(child, file, socket, options.stderrTail);
    try {
      await daemon.connect(options.monitor ?? true);
    } catch (error) {
      await daemon.stop();
      throw error;
    }
    return daemon;
  }

  /** Waits until the socket answers, then opens the client and, if asked, the monitor. */
  private async connect(monitor: boolean): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (!this.running) assert.fail(`the daemon exited before it was ready:\n${this.stderr}`);
      try {
        this.client = await ControlClient.connect({ path: this.socket });
        break;
      } catch (error) {
        if (Date.now() > deadline) {
          assert.fail(`the daemon did not come up: ${error}\n${this.stderr}`);
        }
        await sleep(50);
      }
    }
    if (!monitor) return;
    this.monitorClient = await ControlClient.connect({ path: this.socket });
    await this.monitorClient.monitor((event) => this.events.push(event));
  }

  /** Whether the process is still running. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The route events about `ip` seen so far (optionally only those after index `from`). */
  routeEvents(ip: string, from = 0): RouteEvent[] {
    return this.events
      .slice(from)
      .filter((e): e is RouteEvent => e.kind === 'route' && e.ip === ip);
  }

  /** Waits for a route event of `type` about `ip` after index `from`, and returns it. */
  routeEvent(type: string, ip: string, from = 0, timeoutMs = 5000): Promise<RouteEvent> {
    return waitFor(
      `route event ${type} ${ip}`,
      () => this.routeEvents(ip, from).find((e) => e.type === type),
      timeoutMs,
      () => this.events.map((e) => JSON.stringify(e)).join('\n'),
    );
  }

  /** How many stderr lines are exactly `line`. */
  count(line: string): number {
    return this.stderr.split('\n').filter((l) => l === line).length;
  }

  /** Waits until stderr has `line` at least `times` times. */
  async logged(line: string, times = 1, timeoutMs = 5000): Promise<void> {
    await waitFor(
      `the daemon logging "${line}" ${times}x`,
      () => (this.count(line) >= times ? true : undefined),
      timeoutMs,
      () => this.stderr,
    );
  }

  /** Sends `signal` to the daemon (the child is node itself: `ip netns exec` execs it). */
  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Closes the connections and stops the daemon: SIGTERM, then SIGKILL after 3 s. */
  async stop(): Promise<void> {
    this.client?.close();
    this.monitorClient?.close();
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(timer);
  }
}
