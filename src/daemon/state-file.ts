/**
 * The state file on disk: read once at start, rewritten whole (atomic-write.ts) after every
 * run-time change, before the change is acknowledged.
 *
 * Writes are grouped: changes made while a write is in progress are all saved by the next
 * one, so a burst of requests costs two writes, not one each, and every request is answered
 * once a write that includes it is on disk (the group commit of databases).
 *
 * A file that cannot be read or parsed is never fatal: it is moved aside as
 * `<file>.corrupt-<n>` for the operator to look at, the reason is logged, and the daemon starts
 * from its config alone.
 */
import { lstat, mkdir, readFile, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DEFAULT_SOCKET_PATH } from '../control/protocol.ts';
import type { LogLevel } from '../core/events.ts';
import { type AtomicFs, nodeAtomicFs, writeFileAtomic } from './atomic-write.ts';
import { RunState, StateError } from './state.ts';

/** Where the state file reports what it did at load. */
export type StateLog = (level: LogLevel, message: string) => void;

/** The state file's counters (the `stats` operation shows them). */
export interface StateFileStats {
  /** Writes that reached the disk. */
  writes: number;
  /** Writes that failed (the changes they carried were answered with an error). */
  failures: number;
}

/** Options for `StateFile.open`. */
export interface StateFileOptions {
  /** The file system for writes; the real one by default. */
  fs?: AtomicFs;
}

/** The state file of a daemon on the default socket: /var/lib survives a reboot, /run does not. */
export const DEFAULT_STATE_PATH = '/var/lib/netarp/state.json';

/**
 * The state file when neither `--state` nor the config's `state` names one: the default for
 * the default socket, else next to the socket, named after it (`a.sock` -> `a.state.json`),
 * so that daemons on different sockets keep different states.
 */
export function defaultStatePath(socketPath: string): string {
  if (socketPath === DEFAULT_SOCKET_PATH) return DEFAULT_STATE_PATH;
  return join(dirname(socketPath), `${basename(socketPath).replace(/\.sock$/, '')}.state.json`);
}

/** The most `<file>.corrupt-<n>` names tried before giving up moving a bad file aside. */
const MAX_CORRUPT_COPIES = 1000;

function errnoOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String(error.code)
    : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Renames `path` to the first free `<path>.corrupt-<n>`; returns the new name. */
async function moveAside(path: string): Promise<string> {
  for (let n = 1; n <= MAX_CORRUPT_COPIES; n++) {
    const aside = `${path}.corrupt-${n}`;
    try {
      await lstat(aside);
      continue;
    } catch (error) {
      if (errnoOf(error) !== 'ENOENT') throw error;
    }
    await rename(path, aside);
    return aside;
  }
  throw new Error(`${path}.corrupt-1 .. -${MAX_CORRUPT_COPIES} all exist`);
}

/**
 * Reads the state at `path`: an empty state when there is none; when it cannot be read or
 * parsed, the file is moved aside, the reason logged (err), and the state is empty.
 */
export async function readState(path: string, log: StateLog): Promise<RunState> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
    return RunState.parse(text);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return new RunState();
    const why =
      error instanceof StateError
        ? `is corrupt: ${error.message}`
        : `cannot be read: ${messageOf(error)}`;
    let where: string;
    try {
      where = `moved to ${await moveAside(path)}`;
    } catch (moveError) {
      where = `could not be moved aside (${messageOf(moveError)}) and will be replaced at the next change`;
    }
    log('err', `state file ${path} ${why}; ${where}; starting from the config alone`);
    return new RunState();
  }
}

interface Waiter {
  readonly version: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** The state file: its path, and a grouped, atomic writer of the state's current text. */
export class StateFile {
  private readonly counters: StateFileStats = { writes: 0, failures: 0 };
  /** Bumped by every commit: the changes made so far. */
  private version = 0;
  /** The version the last finished write (good or bad) carried. */
  private written = 0;
  private waiters: Waiter[] = [];
  private running: Promise<void> | undefined;
  private readonly fs: AtomicFs;

  private constructor(
    readonly path: string,
    private readonly render: () => string,
    options: StateFileOptions,
  ) {
    this.fs = options.fs ?? nodeAtomicFs;
  }

  /**
   * Makes the file's directory (mode 0700) if missing and returns a writer of `render()`'s
   * text to `path`. Throws when the directory cannot be made.
   */
  static async open(
    path: string,
    render: () => string,
    options: StateFileOptions = {},
  ): Promise<StateFile> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    return new StateFile(path, render, options);
  }

  /** A copy of the counters. */
  stats(): StateFileStats {
    return { ...this.counters };
  }

  /**
   * Saves the state as it is now. Resolves once a write that started after this call is on
   * disk; rejects with that write's error.
   */
  commit(): Promise<void> {
    const version = ++this.version;
    const done = new Promise<void>((resolve, reject) => {
      this.waiters.push({ version, resolve, reject });
    });
    this.running ??= this.drain();
    return done;
  }

  /** Resolves when no write is in progress or waiting (the daemon stopping waits for it). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Writes until every commit so far is carried by a finished write. */
  private async drain(): Promise<void> {
    while (this.written < this.version) {
      const target = this.version;
      // Rendered now, after the changes of every commit up to `target` were made.
      const text = this.render();
      let failure: Error | undefined;
      try {
        await writeFileAtomic(this.path, text, { fs: this.fs });
        this.counters.writes++;
      } catch (error) {
        this.counters.failures++;
        failure = new Error(`cannot write ${this.path}: ${messageOf(error)}`, { cause: error });
      }
      this.written = target;
      const settled = this.waiters.filter((w) => w.version <= target);
      this.waiters = this.waiters.filter((w) => w.version > target);
      for (const waiter of settled) {
        if (failure) waiter.reject(failure);
        else waiter.resolve();
      }
    }
    this.running = undefined;
  }
}
