/**
 * The C load generator (loadgen.c): compiled at bench time with `cc -O2`, then run inside the
 * generator namespace as a closed-loop client, or inside the responder namespace as the
 * reference reflector.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { must, type Responder, run, type WireTopology } from './topology.ts';

const SOURCE = fileURLToPath(new URL('./loadgen.c', import.meta.url));

/** What one client run printed (see loadgen.c): counts of the measured interval. */
export interface ClientResult {
  readonly mode: 'client';
  readonly hosts: number;
  readonly window: number;
  readonly batch: number;
  /** The measured interval (after the warm-up). */
  readonly seconds: number;
  /** Requests sent in the interval. */
  readonly sent: number;
  /** Correct replies received in the interval. */
  readonly valid: number;
  readonly repliesPerSecond: number;
  /** ARP replies with a wrong field (any time). */
  readonly invalid: number;
  /** Datagrams that were not ARP replies (the responder's own requests, say). */
  readonly other: number;
  /** Correct replies that came after their request timed out, or twice. */
  readonly late: number;
  /** Requests unanswered within the timeout (any time, and within the interval). */
  readonly lost: number;
  readonly lostMeasured: number;
  readonly sendErrors: number;
  readonly sendShort: number;
  /** The generator's own CPU time in the interval (seconds; sys includes softirq work done in its context). */
  readonly cpuUser: number;
  readonly cpuSys: number;
  /** Request-to-reply time seen by the generator, microseconds. */
  readonly rttP50Us: number;
  readonly rttP99Us: number;
}

/** The compiled generator; `dispose` removes it. */
export class Loadgen {
  private constructor(
    readonly binary: string,
    private readonly dir: string,
  ) {}

  /** Compiles loadgen.c with cc -O2 into a scratch directory. */
  static async build(): Promise<Loadgen> {
    const dir = mkdtempSync(join(tmpdir(), 'netarp-bench-'));
    const binary = join(dir, 'loadgen');
    try {
      await must(['cc', '-O2', '-Wall', '-o', binary, SOURCE], 60_000);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    return new Loadgen(binary, dir);
  }

  /**
   * One closed-loop measurement against `target` from the generator namespace: warm-up, then
   * `durationMs` counted. Bounded by its own clock; killed if it overruns by 10 s.
   */
  async client(
    topo: WireTopology,
    target: Responder,
    options: { hosts: number; window: number; warmupMs: number; durationMs: number },
  ): Promise<ClientResult> {
    const argv = [
      'ip',
      'netns',
      'exec',
      topo.generatorNs,
      this.binary,
      'client',
      '--local',
      `${topo.generatorUnderlay}:${target.port}`,
      '--remote',
      `${topo.responderUnderlay}:${target.port}`,
      '--vni',
      String(topo.vni),
      '--target-ip',
      target.ip,
      '--target-mac',
      target.mac,
      '--sender-base',
      topo.senderBase,
      '--hosts',
      String(options.hosts),
      '--window',
      String(options.window),
      '--warmup-ms',
      String(options.warmupMs),
      '--duration-ms',
      String(options.durationMs),
    ];
    const result = await run(argv, options.warmupMs + options.durationMs + 10_000);
    if (result.code !== 0) {
      throw new Error(`loadgen client exited ${result.code}: ${result.stderr.trim()}`);
    }
    return JSON.parse(result.stdout) as ClientResult;
  }

  /**
   * Starts the reference reflector in the responder namespace (batch 1: one recvfrom/sendto
   * per datagram; else recvmmsg/sendmmsg batches) and resolves once it is listening.
   */
  async reflector(topo: WireTopology, batch: number, maxMs: number): Promise<Reflector> {
    const child = topo.spawnIn(topo.responderNs, [
      this.binary,
      'reflect',
      '--local',
      `${topo.responderUnderlay}:${topo.reflector.port}`,
      '--vni',
      String(topo.vni),
      '--ip',
      topo.reflector.ip,
      '--mac',
      topo.reflector.mac,
      '--batch',
      String(batch),
      '--max-ms',
      String(maxMs),
    ]);
    const reflector = new Reflector(child);
    await reflector.ready;
    return reflector;
  }

  /** Removes the binary. */
  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A running reflector: its JSON lines, and a stop that returns its counts. */
export class Reflector {
  /** Resolves once the reflector printed that it listens. */
  readonly ready: Promise<void>;
  private readonly done: Promise<Record<string, unknown>>;

  constructor(private readonly child: ChildProcess) {
    const lines: Record<string, unknown>[] = [];
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      stderr += text;
    });
    let onReady: () => void = () => {};
    let onFail: (error: Error) => void = () => {};
    this.ready = new Promise((resolve, reject) => {
      onReady = resolve;
      onFail = reject;
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as Record<string, unknown>;
      lines.push(message);
      if (message.ready === true) onReady();
    });
    this.done = new Promise((resolve) => {
      child.on('exit', (code) => {
        onFail(new Error(`reflector exited (${code}) before listening: ${stderr.trim()}`));
        resolve(lines.at(-1) ?? {});
      });
    });
  }

  /** Stops the reflector (SIGTERM: it prints its counts and exits). */
  async stop(): Promise<Record<string, unknown>> {
    this.child.kill('SIGTERM');
    return this.done;
  }
}
