/**
 * A tee that records every frame a link sends and receives into a classic pcap file
 * (LINKTYPE_ETHERNET, microseconds), which `tcpdump -r` and Wireshark read. It wraps any link
 * and is itself a link, so the runtime never knows it is there.
 *
 * Records are written synchronously as they happen: the file is complete up to the last
 * frame even if the process dies, and can be read while the link runs. Classic pcap has no
 * direction field, so frames in and out are interleaved in the order they occurred.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { pcapGlobalHeader, pcapRecord } from '../wire/pcap.ts';
import {
  type BatchEndHandler,
  type FrameHandler,
  ioError,
  type Link,
  LinkError,
  type LinkErrorHandler,
} from './link.ts';

/** Where record timestamps come from: milliseconds since the Unix epoch (the runtime clock). */
export interface TimestampSource {
  now(): number;
}

/** The tee's counters. */
export interface PcapTeeStats {
  /** Frames received by the inner link and recorded. */
  recordedIn: number;
  /** Frames sent through the tee and recorded. */
  recordedOut: number;
  /** Frames not recorded because writing had failed before (the link itself goes on). */
  notRecorded: number;
}

/** Where a tee's bytes go: a file by default; anything that writes synchronously. */
export interface CaptureWriter {
  /** Writes all of `bytes` or throws. */
  write(bytes: Uint8Array): void;
  /** Releases the destination; may throw. */
  close(): void;
}

/** A CaptureWriter on a file descriptor. */
class FileWriter implements CaptureWriter {
  constructor(private readonly fd: number) {}

  write(bytes: Uint8Array): void {
    // writeSync may write fewer bytes than asked.
    let offset = 0;
    while (offset < bytes.length) {
      offset += writeSync(this.fd, bytes, offset, bytes.length - offset);
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** A link that writes a pcap file of everything passing through `inner`. */
export class PcapTee implements Link {
  readonly name: string;
  private handler: FrameHandler | undefined;
  private errorHandler: LinkErrorHandler | undefined;
  private writer: CaptureWriter | undefined;
  private readonly counters: PcapTeeStats = { recordedIn: 0, recordedOut: 0, notRecorded: 0 };
  /**
   * The inner link's batch-end notification, passed through: present exactly when the inner
   * link has it. (The tee lends no transmit buffer: every frame sent must be recorded.)
   */
  readonly onBatchEnd?: (handler: BatchEndHandler) => void;
  /** The inner link's `flush`, passed through: present exactly when the inner link has it. */
  readonly flush?: () => void;

  private constructor(
    readonly inner: Link,
    /** Where the capture goes, for the link's name. */
    readonly destination: string,
    private readonly clock: TimestampSource,
    writer: CaptureWriter,
  ) {
    this.name = `${inner.name} (pcap ${destination})`;
    this.writer = writer;
    inner.onFrame((frame) => {
      if (this.record(frame)) this.counters.recordedIn++;
      this.handler?.(frame);
    });
    inner.onError((error) => this.errorHandler?.(error));
    if (inner.onBatchEnd !== undefined) {
      this.onBatchEnd = (handler) => inner.onBatchEnd!(handler);
    }
    if (inner.flush !== undefined) this.flush = () => inner.flush!();
  }

  /**
   * Creates (or truncates) the file at `path`, writes its global header, and wraps `inner`.
   * Throws a LinkError (EIO) if the file cannot be created: a tee that cannot record is a
   * configuration mistake, best seen at once.
   */
  static open(inner: Link, path: string, clock: TimestampSource): PcapTee {
    let fd: number | undefined;
    try {
      fd = openSync(path, 'w');
      return PcapTee.toWriter(inner, new FileWriter(fd), clock, path);
    } catch (error) {
      if (fd !== undefined) closeSync(fd);
      throw error instanceof LinkError ? error : ioError(inner.name, `pcap ${path}`, error);
    }
  }

  /** Wraps `inner`, writing the capture (global header first) to `writer`; throws EIO. */
  static toWriter(
    inner: Link,
    writer: CaptureWriter,
    clock: TimestampSource,
    destination = 'writer',
  ): PcapTee {
    try {
      writer.write(pcapGlobalHeader());
    } catch (error) {
      throw ioError(inner.name, `pcap ${destination}`, error);
    }
    return new PcapTee(inner, destination, clock, writer);
  }

  /** A copy of the counters. */
  stats(): PcapTeeStats {
    return { ...this.counters };
  }

  /** Records the frame, then sends it on the inner link. */
  send(frame: Uint8Array): void {
    if (this.record(frame)) this.counters.recordedOut++;
    this.inner.send(frame);
  }

  /** Sets the frame handler (frames are recorded whether or not one is set). */
  onFrame(handler: FrameHandler): void {
    this.handler = handler;
  }

  /** Sets the error handler: the inner link's errors and the tee's own write errors. */
  onError(handler: LinkErrorHandler): void {
    this.errorHandler = handler;
  }

  /** Closes the inner link, then the capture. */
  async close(): Promise<void> {
    await this.inner.close();
    const writer = this.writer;
    this.writer = undefined;
    if (writer === undefined) return;
    try {
      writer.close();
    } catch (error) {
      this.errorHandler?.(ioError(this.name, 'close', error));
    }
  }

  /** Appends one record; on the first write error, reports it and stops recording. */
  private record(frame: Uint8Array): boolean {
    const writer = this.writer;
    if (writer === undefined) {
      this.counters.notRecorded++;
      return false;
    }
    try {
      writer.write(pcapRecord(Math.max(0, this.clock.now()), frame));
      return true;
    } catch (error) {
      this.writer = undefined;
      try {
        writer.close();
      } catch {
        // Already failing: the write error below is the one worth reporting.
      }
      this.counters.notRecorded++;
      this.errorHandler?.(ioError(this.name, 'write', error));
      return false;
    }
  }
}
