/**
 * Where the daemon's log lines go: stderr, as text or as JSON lines, filtered by level.
 *
 * Text keeps the seed's log(9) lines exactly as if_ether.c prints them ("arp: ... attempts to
 * modify permanent entry for ..."), one per line, so that what operators grep for on a BSD
 * box works here; the daemon's own lines start with "netarp: ". Entry events (the route(4)
 * messages) and held-packet deliveries are debug-level: a busy segment would drown the
 * rest, and `netarp monitor` shows them live. No timestamps in text: the service manager
 * (journald, syslog) adds its own. JSON lines carry an ISO 8601 time and the level.
 */

import type { MonitorEvent } from '../control/protocol.ts';
import type { LogLevel } from '../core/events.ts';

/** The two log formats of --log-format. */
export type LogFormat = 'text' | 'json';

/** The levels of --log-level, most severe first (syslog(3) priorities the seed uses). */
export const LOG_LEVELS: readonly LogLevel[] = ['err', 'warning', 'info', 'debug'];

/** Whether `name` is a log level. */
export function isLogLevel(name: string): name is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(name);
}

/** The level an event is logged at. */
export function eventLevel(event: MonitorEvent): LogLevel {
  switch (event.kind) {
    case 'log':
      return event.level;
    case 'route':
    case 'held-delivered':
      return 'debug';
    case 'lost':
      return 'warning';
  }
}

/** One line of text for an event (no newline). */
export function formatText(event: MonitorEvent): string {
  switch (event.kind) {
    case 'log':
      // The seed's text verbatim; the daemon's own lines say who is speaking.
      return event.source === 'engine' ? event.message : `netarp: ${event.message}`;
    case 'route': {
      const mac = event.mac === undefined ? '' : ` at ${event.mac}`;
      return `route: ${event.type} ${event.ip}${mac} on ${event.ifName} (${event.reason})`;
    }
    case 'held-delivered':
      return `netarp: held packet for ${event.nextHop} sent to ${event.mac} on ${event.ifName} (${event.length} bytes)`;
    case 'lost':
      return `netarp: ${event.count} events lost`;
  }
}

/** One JSON line for an event (no newline): the event with an ISO time and its level. */
export function formatJson(event: MonitorEvent): string {
  return JSON.stringify({
    ...event,
    time: new Date(event.time).toISOString(),
    level: eventLevel(event),
  });
}

/** Options for a sink. */
export interface LogSinkOptions {
  format: LogFormat;
  /** The least severe level written; default "info". */
  level?: LogLevel;
  /** Writes one chunk of text (a line with its newline). */
  write: (text: string) => void;
}

/** Writes events as log lines, dropping those below the level. */
export class LogSink {
  private readonly format: LogFormat;
  private readonly threshold: number;
  private readonly write: (text: string) => void;

  constructor(options: LogSinkOptions) {
    this.format = options.format;
    this.threshold = LOG_LEVELS.indexOf(options.level ?? 'info');
    this.write = options.write;
  }

  /** Whether events at `level` are written. */
  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) <= this.threshold;
  }

  /** Writes the event if its level is enabled. */
  log(event: MonitorEvent): void {
    if (!this.enabled(eventLevel(event))) return;
    this.write(`${this.format === 'json' ? formatJson(event) : formatText(event)}\n`);
  }
}
