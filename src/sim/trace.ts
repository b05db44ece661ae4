/**
 * The simulator's trace: what happened, one record at a time, as aligned text for people or
 * as JSON lines for programs (the schema is in docs/sim.md). Both are pure functions of the
 * records: no clock, no locale, so the same run gives the same bytes.
 */
import { type EntryInfo, formatArpLine } from '../core/admin.ts';
import type { EngineEvent } from '../core/events.ts';
import type { ArpStats } from '../core/stats.ts';
import { describeFrame } from '../wire/format.ts';
import type { TraceRecord } from './world.ts';

/** What a send came to (the engine's ResolveResult with names instead of indices). */
export type SendResult =
  | { readonly kind: 'resolved'; readonly ifName: string; readonly mac: string }
  | { readonly kind: 'local'; readonly ifName: string }
  | { readonly kind: 'held'; readonly ifName: string; readonly nextHop: string }
  | { readonly kind: 'failed'; readonly reason: string };

/**
 * One record of a run. `time` is virtual milliseconds. The world's records (frames, losses,
 * events, receptions) are kept as they are; sends carry names instead of interface indices,
 * and the runner adds operator commands, notes, tables and counters.
 */
export type SimRecord =
  | Exclude<TraceRecord, { readonly kind: 'send' }>
  | {
      readonly kind: 'send';
      readonly time: number;
      readonly host: string;
      readonly destination: string;
      readonly result: SendResult;
    }
  | {
      /** An operator command of the timeline (arp, address, link, sysctl, carp, route). */
      readonly kind: 'admin';
      readonly time: number;
      readonly host: string;
      /** The command as words, like "arp -s 192.0.2.9 02:00:00:00:00:09 pub". */
      readonly command: string;
      /** Why it failed (the engine's message), or undefined when it worked. */
      readonly error: string | undefined;
    }
  | { readonly kind: 'note'; readonly time: number; readonly text: string }
  | {
      readonly kind: 'table';
      readonly time: number;
      readonly host: string;
      readonly entries: readonly EntryInfo[];
      /** Whether this is one of the tables printed at the end of the run. */
      readonly final: boolean;
    }
  | {
      readonly kind: 'stats';
      readonly time: number;
      readonly host: string;
      readonly stats: ArpStats;
    };

/**
 * Column widths of the text trace, fixed up front from the scenario's names. Host lines and
 * frame lines share the first name column (a host, or a segment) so that both line up.
 */
export interface TextLayout {
  /** The widest host or segment name. */
  readonly nameWidth: number;
  /** The widest sender of a frame: "host/ifname" or a station. */
  readonly fromWidth: number;
}

/** The layout for these names: the longest of each column. */
export function textLayout(names: {
  hosts: readonly string[];
  segments: readonly string[];
  ports: readonly string[];
}): TextLayout {
  const widest = (list: readonly string[]): number => Math.max(0, ...list.map((s) => s.length));
  return {
    nameWidth: Math.max(widest(names.hosts), widest(names.segments)),
    fromWidth: widest(names.ports),
  };
}

/** Seconds with milliseconds, right-aligned in 8 columns: "   1.000". */
export function formatTime(ms: number): string {
  return (ms / 1000).toFixed(3).padStart(8);
}

/** One engine event as trace text: "route add eth0 192.0.2.2 (incomplete) resolve". */
export function formatEvent(event: EngineEvent): string {
  if (event.kind === 'log') return `log ${event.level}: ${event.message}`;
  return `route ${event.type} ${event.ifName} ${event.ip} ${event.mac ?? '(incomplete)'} ${event.reason}`;
}

function formatSendResult(destination: string, result: SendResult): string {
  switch (result.kind) {
    case 'resolved':
      return `resolved ${result.mac}`;
    case 'local':
      return 'local';
    case 'held':
      // Through a gateway, the packet waits for the gateway's address.
      return result.nextHop === destination ? 'held' : `held for ${result.nextHop}`;
    case 'failed':
      return `failed: ${result.reason}`;
  }
}

/** The non-zero counters as "name=value" words, in the counters' declared order. */
function formatStats(stats: ArpStats): string {
  const words = Object.entries(stats)
    .filter(([, value]) => value !== 0)
    .map(([name, value]) => `${name}=${value}`);
  return words.length === 0 ? 'stats (all zero)' : `stats ${words.join(' ')}`;
}

/** The text lines of one record. */
export function formatTextRecord(record: SimRecord, layout: TextLayout): string[] {
  const time = formatTime(record.time);
  const hostLine = (host: string, text: string): string[] => [
    `${time}  ${host.padEnd(layout.nameWidth)}  ${text}`,
  ];
  switch (record.kind) {
    case 'frame':
      return [
        `${time}  ${record.segment.padEnd(layout.nameWidth)}  ${record.from.padEnd(layout.fromWidth)}  ${describeFrame(record.frame)}`,
      ];
    case 'lost':
      return [
        `${time}  ${record.segment.padEnd(layout.nameWidth)}  ${''.padEnd(layout.fromWidth)}  lost before reaching ${record.to}`,
      ];
    case 'event':
      return hostLine(record.host, formatEvent(record.event));
    case 'send':
      return hostLine(
        record.host,
        `send ${record.destination} -> ${formatSendResult(record.destination, record.result)}`,
      );
    case 'receive':
      return hostLine(record.host, `recv ${record.ifName} ${record.what}`);
    case 'admin':
      return hostLine(
        record.host,
        record.error === undefined ? record.command : `${record.command} -> error: ${record.error}`,
      );
    case 'note':
      return [`# ${record.text}`];
    case 'table': {
      const lines = [`== ${record.host}: arp -a at ${(record.time / 1000).toFixed(3)}`];
      if (record.entries.length === 0) lines.push('(no entries)');
      for (const entry of record.entries) lines.push(formatArpLine(entry));
      return lines;
    }
    case 'stats':
      return hostLine(record.host, formatStats(record.stats));
  }
}

/** An engine event with every field present (null for "none"), in a fixed key order. */
function jsonEvent(event: EngineEvent): Record<string, unknown> {
  if (event.kind === 'log') return { kind: 'log', level: event.level, message: event.message };
  return {
    kind: 'route',
    type: event.type,
    ifName: event.ifName,
    ip: event.ip,
    mac: event.mac ?? null,
    reason: event.reason,
  };
}

function jsonSendResult(result: SendResult): Record<string, unknown> {
  switch (result.kind) {
    case 'resolved':
      return { kind: 'resolved', ifName: result.ifName, mac: result.mac };
    case 'local':
      return { kind: 'local', ifName: result.ifName };
    case 'held':
      return { kind: 'held', ifName: result.ifName, nextHop: result.nextHop };
    case 'failed':
      return { kind: 'failed', reason: result.reason };
  }
}

/** A table entry with every field present (null for "none"), in a fixed key order. */
function jsonEntry(entry: EntryInfo): Record<string, unknown> {
  return {
    ip: entry.ip,
    mac: entry.mac ?? null,
    ifName: entry.ifName,
    state: entry.state,
    expiresIn: entry.expiresIn ?? null,
    permanent: entry.permanent,
    static: entry.static,
    local: entry.local,
    published: entry.published,
    proxyOnly: entry.proxyOnly,
    held: entry.held,
    asked: entry.asked,
  };
}

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/** The JSON line of one record (schema in docs/sim.md). */
export function formatJsonRecord(record: SimRecord): string {
  const t = record.time / 1000;
  switch (record.kind) {
    case 'frame':
      return JSON.stringify({
        t,
        type: 'frame',
        segment: record.segment,
        from: record.from,
        hex: hex(record.frame),
        summary: describeFrame(record.frame),
      });
    case 'lost':
      return JSON.stringify({ t, type: 'lost', segment: record.segment, to: record.to });
    case 'event':
      return JSON.stringify({
        t,
        type: 'event',
        host: record.host,
        event: jsonEvent(record.event),
      });
    case 'send':
      return JSON.stringify({
        t,
        type: 'send',
        host: record.host,
        destination: record.destination,
        result: jsonSendResult(record.result),
      });
    case 'receive':
      return JSON.stringify({
        t,
        type: 'receive',
        host: record.host,
        ifName: record.ifName,
        what: record.what,
      });
    case 'admin':
      return JSON.stringify({
        t,
        type: 'admin',
        host: record.host,
        command: record.command,
        error: record.error ?? null,
      });
    case 'note':
      return JSON.stringify({ t, type: 'note', text: record.text });
    case 'table':
      return JSON.stringify({
        t,
        type: 'table',
        host: record.host,
        final: record.final,
        entries: record.entries.map(jsonEntry),
      });
    case 'stats':
      return JSON.stringify({ t, type: 'stats', host: record.host, stats: { ...record.stats } });
  }
}

/** Turns records into lines in one of the two modes, remembering what it wrote. */
export class TraceWriter {
  readonly lines: string[] = [];

  constructor(
    private readonly mode: 'text' | 'json',
    private readonly layout: TextLayout,
  ) {}

  /** Formats and keeps one record's lines. */
  write(record: SimRecord): void {
    if (this.mode === 'json') {
      this.lines.push(formatJsonRecord(record));
      return;
    }
    // Headings and tables stand apart from the trace lines around them.
    if ((record.kind === 'note' || record.kind === 'table') && this.lines.length > 0) {
      if (this.lines.at(-1) !== '') this.lines.push('');
    }
    this.lines.push(...formatTextRecord(record, this.layout));
    if (record.kind === 'table') this.lines.push('');
  }

  /** The lines so far, without a trailing blank line. */
  result(): string[] {
    const lines = [...this.lines];
    while (lines.at(-1) === '') lines.pop();
    return lines;
  }
}
