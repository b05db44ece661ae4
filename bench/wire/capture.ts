/**
 * The kernel's view of first-packet latency: tcpdump on the kernel peer's vxlan device
 * timestamps, in the kernel, every frame of each cold resolution (netarp's ARP request, the
 * kernel's reply, then the packet netarp held), and this reads the capture back.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseIpv4, readIpv4 } from '../../src/wire/addr.ts';
import { parsePcap } from '../../src/wire/pcap.ts';
import { findTool, type WireTopology } from './topology.ts';

/** One resolution as the kernel peer saw it, in milliseconds. */
export interface KernelViewSample {
  /** From netarp's ARP request arriving to the held packet arriving. */
  readonly requestToHeldMs: number;
  /** From the kernel's ARP reply leaving to the held packet arriving (netarp's turnaround). */
  readonly replyToHeldMs: number;
}

/** A tcpdump running in a namespace, writing a capture file. */
export class Capture {
  private constructor(
    private readonly child: ChildProcess,
    readonly path: string,
    private readonly exited: Promise<void>,
  ) {}

  /** Starts tcpdump on `device` in `ns` and resolves once it listens; undefined without tcpdump. */
  static async start(
    topo: WireTopology,
    ns: string,
    device: string,
    path: string,
    maxSeconds: number,
  ): Promise<Capture | undefined> {
    const tcpdump = findTool('tcpdump');
    const timeout = findTool('timeout');
    if (tcpdump === undefined || timeout === undefined) return undefined;
    // `timeout` bounds tcpdump even if this process dies without stopping it.
    const child = topo.spawnIn(ns, [
      timeout,
      String(maxSeconds),
      tcpdump,
      '-i',
      device,
      // Each packet handed to tcpdump at once and written at once: nothing waits in a
      // buffer block when it is stopped.
      '--immediate-mode',
      '-U',
      '-n',
      // Stay root: tcpdump would otherwise drop to its own user before opening the file.
      '-Z',
      'root',
      '-w',
      path,
    ]);
    let stderr = '';
    const listening = new Promise<void>((resolve, reject) => {
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (text: string) => {
        stderr += text;
        if (stderr.includes('listening on')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`tcpdump exited (${code}): ${stderr.trim()}`)));
    });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    await listening;
    return new Capture(child, path, exited);
  }

  /** Stops tcpdump (which flushes the file) and waits for it to exit. */
  async stop(): Promise<void> {
    // The last frames may still be on their way up from the kernel.
    await new Promise((wake) => setTimeout(wake, 200));
    this.child.kill('SIGINT');
    await this.exited;
  }
}

/**
 * Pairs the frames of each cold resolution in a capture taken on the kernel peer: a request
 * from `netarpIp` for `kernelIp`, the next reply from the kernel, then the next IPv4 frame
 * from netarp to the kernel. A resolution missing a step is left out, and so is one whose
 * request was captured outside `window` (epoch milliseconds, the capture's clock), when given.
 */
export function kernelView(
  path: string,
  netarpIp: string,
  kernelIp: string,
  window?: { readonly fromMs: number; readonly toMs: number },
): KernelViewSample[] {
  const file = parsePcap(new Uint8Array(readFileSync(path)));
  if ('kind' in file) throw new Error(`${path} is not a capture: ${file.kind}`);
  const netarp = parseIpv4(netarpIp);
  const kernel = parseIpv4(kernelIp);
  const samples: KernelViewSample[] = [];
  let requestAt: number | undefined;
  let replyAt: number | undefined;
  for (const { timestampMs, frame } of file.records) {
    if (frame.length < 42) continue;
    const etherType = (frame[12]! << 8) | frame[13]!;
    if (etherType === 0x0806) {
      const operation = (frame[20]! << 8) | frame[21]!;
      const sender = readIpv4(frame, 28);
      const target = readIpv4(frame, 38);
      if (operation === 1 && sender === netarp && target === kernel) {
        requestAt = timestampMs;
        replyAt = undefined;
      } else if (operation === 2 && sender === kernel && target === netarp) {
        if (requestAt !== undefined && replyAt === undefined) replyAt = timestampMs;
      }
    } else if (etherType === 0x0800 && requestAt !== undefined && replyAt !== undefined) {
      // IPv4 header: source at 12, destination at 16 (after the 14-byte Ethernet header).
      if (readIpv4(frame, 26) === netarp && readIpv4(frame, 30) === kernel) {
        const inWindow =
          window === undefined || (requestAt >= window.fromMs && requestAt <= window.toMs);
        if (inWindow) {
          samples.push({
            requestToHeldMs: timestampMs - requestAt,
            replyToHeldMs: timestampMs - replyAt,
          });
        }
        requestAt = undefined;
        replyAt = undefined;
      }
    }
  }
  return samples;
}
