/**
 * The control protocol between the daemon and its clients (the CLI, scripts, `socat`): JSON
 * objects, one per line (newline-delimited JSON), over a Unix stream socket.
 *
 * A request names the protocol version, an id the client chooses and an operation, with the
 * operation's fields beside them: `{"v":1,"id":7,"op":"get","host":"192.0.2.1"}`. Every
 * request gets exactly one response with the same id, `{"v":1,"id":7,"ok":true,"result":...}`
 * or `{"v":1,"id":7,"ok":false,"error":{"code":"ENOENT","message":"..."}}`; responses to
 * concurrent requests may come back in any order. A `monitor` request is answered once and
 * then followed, on the same connection, by `{"v":1,"id":7,"event":{...}}` lines until the
 * connection closes. A `ping` that asks for `progress` gets `{"v":1,"id":7,"progress":{...}}`
 * lines as it goes, all before its response.
 *
 * This file is the contract: the types both sides use, and `decodeRequest`, which checks a
 * line against the table of operations so that a handler only ever sees a well-formed request.
 */
import type { EntryInfo } from '../core/admin.ts';
import type { EntryState } from '../core/entry.ts';
import type { LogLevel, RouteEventType } from '../core/events.ts';
import type { ArpStats } from '../core/stats.ts';
import type { PingProbe, PingResult } from '../runtime/host.ts';
import type { RunnerStats } from '../runtime/runner.ts';
import { isValidIpv4, isValidMac } from '../wire/addr.ts';

/** The protocol version this code speaks; a request with another `v` is refused. */
export const PROTOCOL_VERSION = 1;

/** Longest request line accepted, in bytes without the newline; a longer one closes the connection. */
export const MAX_REQUEST_BYTES = 64 * 1024;

/** Where the daemon listens and the CLI connects when neither --socket nor the environment says. */
export const DEFAULT_SOCKET_PATH = '/run/netarp/netarp.sock';

/** The environment variable naming the socket (below --socket, above the default). */
export const SOCKET_ENV = 'NETARP_SOCKET';

/** The socket path: `--socket` if given, else $NETARP_SOCKET if set and non-empty, else the default. */
export function socketPathFrom(
  option: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  if (option !== undefined && option !== '') return option;
  const fromEnv = env[SOCKET_ENV];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_SOCKET_PATH;
}

/** The id a client gives a request, echoed in its response (null when it could not be read). */
export type RequestId = number | string;

// --- results ------------------------------------------------------------------------------

/** One knob: full sysctl name, current value, and the description `sysctl -d` prints. */
export interface SysctlInfo {
  readonly name: string;
  readonly value: number;
  readonly description: string;
}

/** The answer to `sysctl-set`: the knob's value before and after. */
export interface SysctlChange {
  readonly name: string;
  readonly old: number;
  readonly value: number;
}

/** An interface as the daemon runs it. */
export interface InterfaceInfo {
  readonly name: string;
  readonly kind: 'ether' | 'bridge' | 'carp';
  readonly mac: string;
  readonly up: boolean;
  /** "noarp", "staticarp" when set. */
  readonly flags: readonly string[];
  /** Addresses with their prefix length, "192.0.2.2/24". */
  readonly addresses: readonly string[];
  /**
   * The link's type and name ("vxlan 198.18.0.1:4789 vni 42"), and how it moves frames where
   * the driver has a choice (VXLAN: "native" or "dgram"); absent for bridge and CARP.
   */
  readonly link?: { readonly type: string; readonly name: string; readonly io?: string };
  /** The capture file, when the interface has one. */
  readonly pcap?: string;
  /** The bridge this interface is a member of. */
  readonly bridge?: string;
  /** For a CARP interface: its parent, vhid and state. */
  readonly carp?: { readonly parent: string; readonly vhid: number; readonly state: string };
  /**
   * Why the daemon took the interface down, while it is: its link has no carrier, or its
   * device is gone (the daemon reattaches it when it is back). Absent while the link works.
   */
  readonly fault?: string;
}

/** One link's counters in `stats`: the driver's own, and the capture's when tee'd. */
export interface LinkStatsInfo {
  readonly ifName: string;
  readonly type: string;
  readonly name: string;
  readonly counters: Readonly<Record<string, number>>;
  readonly pcap?: Readonly<Record<string, number>>;
}

/** The control server's own counters. */
export interface ControlStats {
  /** Connections open now. */
  connections: number;
  /** Connections accepted since start. */
  accepted: number;
  /** Connections refused because too many were open. */
  refused: number;
  /** Request lines read. */
  requests: number;
  /** Error responses sent (malformed, unknown op, failed operation, ...). */
  errors: number;
  /** Connections closed for a line longer than MAX_REQUEST_BYTES. */
  oversized: number;
  /** Monitor events not sent because the client was not reading fast enough. */
  eventsLost: number;
}

/** The state file's counters: where it is, what it holds, how the writes went. */
export interface StateFileInfo {
  readonly path: string;
  /** Run-time changes it records (entries set or deleted, knobs set). */
  readonly changes: number;
  /** Writes that reached the disk since the daemon started. */
  readonly writes: number;
  /** Writes that failed (their changes were answered EIO). */
  readonly failures: number;
}

/** The answer to `stats`. */
export interface StatsInfo {
  readonly engine: ArpStats;
  readonly runner: RunnerStats;
  readonly host: Readonly<Record<string, number>>;
  readonly links: readonly LinkStatsInfo[];
  readonly control: ControlStats;
  /** The state file (absent from a daemon that keeps none). */
  readonly state?: StateFileInfo;
  /** Milliseconds since the daemon started. */
  readonly uptimeMs: number;
}

/** Why `resolve` failed: the send's errno text, or no answer in time. */
export type ResolveFailureReason =
  | 'no route to host'
  | 'host is down'
  | 'host is not on local network'
  | 'network is down'
  | 'interface does not ARP'
  | 'timeout';

/** The answer to `resolve`: the MAC, or why there is none. */
export type ResolveInfo =
  | {
      readonly resolved: true;
      readonly ip: string;
      readonly mac: string;
      readonly ifName: string;
      /** The entry's state once resolved ("resolved", "permanent", "local"). */
      readonly state: EntryState;
      readonly elapsedMs: number;
    }
  | {
      readonly resolved: false;
      readonly ip: string;
      readonly reason: ResolveFailureReason;
      readonly elapsedMs: number;
    };

/**
 * The answer to `get`: the first matching entry's fields, as a daemon without `entries`
 * answers, and `entries`, every entry for the host (its host entry, then its proxy-only one).
 */
export type GetInfo = EntryInfo & { readonly entries: readonly EntryInfo[] };

/** What a `ping` with `progress` reports as it goes, before its response. */
export type PingProgress =
  | {
      /** An echo request went out (or failed at once); `transmitted` counts them so far. */
      readonly kind: 'sent';
      readonly transmitted: number;
    }
  | {
      /** An echo request was answered, failed, or timed out. */
      readonly kind: 'probe';
      readonly probe: PingProbe;
    };

/** The answer to `delete` and `flush`: the entries as they were just before they went. */
export interface DeletedInfo {
  readonly deleted: readonly EntryInfo[];
}

/** What a monitor connection receives, one per line. Times are milliseconds since the epoch. */
export type MonitorEvent =
  | {
      /** An entry was created, resolved, changed, deleted or gave up (route(4) messages). */
      readonly kind: 'route';
      readonly time: number;
      readonly type: RouteEventType;
      readonly ifName: string;
      readonly ip: string;
      readonly mac?: string;
      readonly reason: string;
    }
  | {
      /** A log line: the seed's text from the engine, or the daemon's own. */
      readonly kind: 'log';
      readonly time: number;
      readonly level: LogLevel;
      readonly source: 'engine' | 'daemon';
      readonly message: string;
    }
  | {
      /** A packet held while its next hop was resolved has been sent. */
      readonly kind: 'held-delivered';
      readonly time: number;
      readonly ifName: string;
      readonly nextHop: string;
      readonly mac: string;
      readonly length: number;
    }
  | {
      /** Events dropped because this client did not read fast enough. */
      readonly kind: 'lost';
      readonly time: number;
      readonly count: number;
    };

// --- operations ---------------------------------------------------------------------------

/** The fields of an operation that takes none. */
export type NoParams = Record<never, never>;

/**
 * Every operation: the fields its request carries, what its result is, and for one that
 * reports as it goes (when asked with `progress`), what each progress line carries.
 */
export interface Operations {
  /** arp -a: every entry, or those on one interface. */
  list: { params: { ifName?: string }; result: EntryInfo[] };
  /** arp host: every entry for the host (its host entry, then its proxy-only one); ENOENT when none. */
  get: { params: { host: string }; result: GetInfo };
  /** arp -s / -S (`replace`): a static entry; the result is the entry as stored. */
  set: {
    params: {
      host: string;
      mac: string;
      ifName?: string;
      temp?: boolean;
      pub?: boolean;
      only?: boolean;
      replace?: boolean;
    };
    result: EntryInfo;
  };
  /** arp -d host [pub], on one interface with `ifName`. */
  delete: { params: { host: string; pub?: boolean; ifName?: string }; result: DeletedInfo };
  /** arp -d -a: every entry but our own addresses (on one interface with `ifName`). */
  flush: { params: { ifName?: string }; result: DeletedInfo };
  /** sysctl net.link.ether.inet[.name]: every knob, or one (full or short name). */
  'sysctl-get': { params: { name?: string }; result: SysctlInfo[] };
  /** sysctl name=value. */
  'sysctl-set': { params: { name: string; value: number }; result: SysctlChange };
  /** Every counter. */
  stats: { params: NoParams; result: StatsInfo };
  /** The interfaces the daemon runs. */
  interfaces: { params: NoParams; result: InterfaceInfo[] };
  /** The MAC of `host`, resolving it if needed, waiting up to `timeoutMs`. */
  resolve: { params: { host: string; timeoutMs?: number }; result: ResolveInfo };
  /** ICMP echo through the engine's resolve path; with `progress`, each echo as it goes. */
  ping: {
    params: {
      host: string;
      count?: number;
      timeoutMs?: number;
      intervalMs?: number;
      progress?: boolean;
    };
    result: PingResult;
    progress: PingProgress;
  };
  /** Subscribes this connection to MonitorEvents until it closes. */
  monitor: { params: NoParams; result: { monitoring: true } };
}

/** An operation's name. */
export type OpName = keyof Operations;

/** The fields of an operation's request. */
export type OpParams<O extends OpName> = Operations[O]['params'];

/** An operation's result. */
export type OpResult<O extends OpName> = Operations[O]['result'];

/** What an operation's progress lines carry (never for one that sends none). */
export type OpProgress<O extends OpName> = Operations[O] extends { progress: infer P } ? P : never;

/** A request as decoded: the envelope and the operation's fields (a union over operations). */
export type Request = {
  [O in OpName]: { readonly v: 1; readonly id: RequestId; readonly op: O } & OpParams<O>;
}[OpName];

/** The request for one operation. */
export type RequestFor<O extends OpName> = Extract<Request, { op: O }>;

/** Machine-readable error codes of error responses. */
export type ErrorCode =
  // from the engine (arp(8) errnos)
  | 'EEXIST' // set over a permanent entry without replace: "File exists"
  | 'ENOENT' // no such entry, interface or sysctl
  | 'EINVAL' // a field missing, of the wrong type or out of range
  | 'ENETUNREACH' // set for an address no interface covers
  | 'EPERM' // deleting one of our own addresses
  // from the protocol
  | 'EPROTO' // the line is not a JSON object with a string `op`
  | 'EPROTONOSUPPORT' // `v` missing or not a version this daemon speaks
  | 'EOPNOTSUPP' // unknown operation
  | 'EMSGSIZE' // the line is longer than MAX_REQUEST_BYTES (the connection is then closed)
  | 'EBUSY' // too many connections, or too many requests in flight on this one
  | 'ESHUTDOWN' // the daemon is stopping
  | 'EIO' // the change is in force but could not be saved to the state file
  | 'EINTERNAL'; // a bug: the daemon survived it and logged it

/** An error response's body. */
export interface ErrorBody {
  readonly code: ErrorCode;
  readonly message: string;
}

/** A response line. */
export type Response =
  | { readonly v: 1; readonly id: RequestId | null; readonly ok: true; readonly result: unknown }
  | { readonly v: 1; readonly id: RequestId | null; readonly ok: false; readonly error: ErrorBody };

/** A monitor event line. */
export interface EventLine {
  readonly v: 1;
  readonly id: RequestId;
  readonly event: MonitorEvent;
}

/** A progress line: a request that asked for them reports how it goes, before its response. */
export interface ProgressLine {
  readonly v: 1;
  readonly id: RequestId;
  readonly progress: unknown;
}

/** Anything the daemon writes on a connection. */
export type ServerLine = Response | EventLine | ProgressLine;

/** An operation that fails with a protocol error code (thrown by handlers, sent as a response). */
export class ControlFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ControlFailure';
  }
}

// --- the request table --------------------------------------------------------------------

/** What a request field must hold. */
type FieldKind =
  | { readonly type: 'string' }
  | { readonly type: 'ipv4' }
  | { readonly type: 'mac' }
  | { readonly type: 'boolean' }
  | { readonly type: 'integer'; readonly min: number; readonly max: number };

interface FieldSpec {
  readonly kind: FieldKind;
  readonly required: boolean;
}

const STRING: FieldKind = { type: 'string' };
const IPV4: FieldKind = { type: 'ipv4' };
const MAC: FieldKind = { type: 'mac' };
const BOOLEAN: FieldKind = { type: 'boolean' };
const integer = (min: number, max: number): FieldKind => ({ type: 'integer', min, max });
const required = (kind: FieldKind): FieldSpec => ({ kind, required: true });
const optional = (kind: FieldKind): FieldSpec => ({ kind, required: false });

/** Bounds of the waiting operations (milliseconds, counts): a request cannot hold a connection for hours. */
export const LIMITS = {
  resolveTimeoutMs: { min: 1, max: 60_000, default: 3000 },
  pingCount: { min: 1, max: 100, default: 1 },
  pingTimeoutMs: { min: 1, max: 60_000, default: 2000 },
  pingIntervalMs: { min: 10, max: 60_000, default: 1000 },
  sysctlValue: { min: -(2 ** 31), max: 2 ** 31 - 1 },
} as const;

/** Each operation's fields: anything else in a request is refused (EINVAL). */
const OPERATIONS: { readonly [O in OpName]: Readonly<Record<keyof OpParams<O>, FieldSpec>> } = {
  list: { ifName: optional(STRING) },
  get: { host: required(IPV4) },
  set: {
    host: required(IPV4),
    mac: required(MAC),
    ifName: optional(STRING),
    temp: optional(BOOLEAN),
    pub: optional(BOOLEAN),
    only: optional(BOOLEAN),
    replace: optional(BOOLEAN),
  },
  delete: { host: required(IPV4), pub: optional(BOOLEAN), ifName: optional(STRING) },
  flush: { ifName: optional(STRING) },
  'sysctl-get': { name: optional(STRING) },
  'sysctl-set': {
    name: required(STRING),
    value: required(integer(LIMITS.sysctlValue.min, LIMITS.sysctlValue.max)),
  },
  stats: {},
  interfaces: {},
  resolve: {
    host: required(IPV4),
    timeoutMs: optional(integer(LIMITS.resolveTimeoutMs.min, LIMITS.resolveTimeoutMs.max)),
  },
  ping: {
    host: required(IPV4),
    count: optional(integer(LIMITS.pingCount.min, LIMITS.pingCount.max)),
    timeoutMs: optional(integer(LIMITS.pingTimeoutMs.min, LIMITS.pingTimeoutMs.max)),
    intervalMs: optional(integer(LIMITS.pingIntervalMs.min, LIMITS.pingIntervalMs.max)),
    progress: optional(BOOLEAN),
  },
  monitor: {},
};

/** The envelope's own keys, never taken as operation fields. */
const ENVELOPE_KEYS: ReadonlySet<string> = new Set(['v', 'id', 'op']);

/** Every operation name, in the order the documentation lists them. */
export const OP_NAMES = Object.keys(OPERATIONS) as OpName[];

/** Whether `name` is an operation. */
export function isOpName(name: string): name is OpName {
  return Object.hasOwn(OPERATIONS, name);
}

/** What `decodeRequest` makes of a line: a request, or the error response to send. */
export type DecodedRequest =
  | { readonly ok: true; readonly request: Request }
  | { readonly ok: false; readonly id: RequestId | null; readonly error: ErrorBody };

function refuse(id: RequestId | null, code: ErrorCode, message: string): DecodedRequest {
  return { ok: false, id, error: { code, message } };
}

/** Why `value` does not fit `kind`, or undefined when it does. */
function fieldProblem(kind: FieldKind, value: unknown): string | undefined {
  switch (kind.type) {
    case 'string':
      return typeof value === 'string' && value !== '' ? undefined : 'expected a non-empty string';
    case 'ipv4':
      return typeof value === 'string' && isValidIpv4(value)
        ? undefined
        : 'expected a dotted IPv4 address';
    case 'mac':
      return typeof value === 'string' && isValidMac(value)
        ? undefined
        : 'expected an Ethernet address (xx:xx:xx:xx:xx:xx)';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'expected true or false';
    case 'integer':
      return typeof value === 'number' &&
        Number.isInteger(value) &&
        value >= kind.min &&
        value <= kind.max
        ? undefined
        : `expected an integer in ${kind.min}..${kind.max}`;
  }
}

/** A request id as given, or null if it is not a finite number or a short string. */
function readId(value: unknown): RequestId | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.length <= 256) return value;
  return null;
}

/**
 * Decodes one request line (without its newline). Never throws: anything that is not a
 * well-formed request of a known operation becomes the error response to send, carrying the
 * request's id when it could be read.
 */
export function decodeRequest(line: string): DecodedRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return refuse(null, 'EPROTO', `not JSON: ${detail}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return refuse(null, 'EPROTO', 'a request must be a JSON object');
  }
  const fields = parsed as Record<string, unknown>;
  const id = readId(fields.id);
  if (fields.id === undefined || id === null) {
    return refuse(null, 'EPROTO', 'id must be a number or a string');
  }
  if (fields.v !== PROTOCOL_VERSION) {
    return refuse(
      id,
      'EPROTONOSUPPORT',
      fields.v === undefined
        ? `v is missing (this daemon speaks protocol version ${PROTOCOL_VERSION})`
        : `protocol version ${JSON.stringify(fields.v)} is not supported (this daemon speaks ${PROTOCOL_VERSION})`,
    );
  }
  const op = fields.op;
  if (typeof op !== 'string') return refuse(id, 'EPROTO', 'op must be a string');
  if (!isOpName(op)) {
    return refuse(id, 'EOPNOTSUPP', `unknown op '${op}' (known: ${OP_NAMES.join(', ')})`);
  }
  const spec: Readonly<Record<string, FieldSpec>> = OPERATIONS[op];
  for (const key of Object.keys(fields)) {
    if (ENVELOPE_KEYS.has(key)) continue;
    if (!Object.hasOwn(spec, key)) return refuse(id, 'EINVAL', `${op}: unknown field '${key}'`);
  }
  for (const [key, field] of Object.entries(spec)) {
    const value = fields[key];
    if (value === undefined) {
      if (field.required) return refuse(id, 'EINVAL', `${op}: ${key} is required`);
      continue;
    }
    const problem = fieldProblem(field.kind, value);
    if (problem !== undefined) return refuse(id, 'EINVAL', `${op}: ${key}: ${problem}`);
  }
  return { ok: true, request: parsed as Request };
}

/** Encodes a request line (with its newline) for operation `op`. */
export function encodeRequest<O extends OpName>(id: RequestId, op: O, params: OpParams<O>): string {
  return `${JSON.stringify({ v: PROTOCOL_VERSION, id, op, ...params })}\n`;
}

/** Encodes a success response line. */
export function encodeResult(id: RequestId | null, result: unknown): string {
  return `${JSON.stringify({ v: PROTOCOL_VERSION, id, ok: true, result })}\n`;
}

/** Encodes an error response line. */
export function encodeError(id: RequestId | null, error: ErrorBody): string {
  return `${JSON.stringify({ v: PROTOCOL_VERSION, id, ok: false, error: { code: error.code, message: error.message } })}\n`;
}

/** Encodes a monitor event line. */
export function encodeEvent(id: RequestId, event: MonitorEvent): string {
  return `${JSON.stringify({ v: PROTOCOL_VERSION, id, event })}\n`;
}

/** Encodes a progress line of request `id`. */
export function encodeProgress(id: RequestId, progress: unknown): string {
  return `${JSON.stringify({ v: PROTOCOL_VERSION, id, progress })}\n`;
}

/** What `decodeServerLine` makes of a line from the daemon. */
export type DecodedServerLine =
  | { readonly ok: true; readonly line: ServerLine }
  | { readonly ok: false; readonly message: string };

/** Decodes a line the daemon wrote (the client side). Never throws. */
export function decodeServerLine(text: string): DecodedServerLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, message: `the daemon sent a line that is not JSON: ${text.slice(0, 80)}` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, message: 'the daemon sent a line that is not a JSON object' };
  }
  const fields = parsed as Record<string, unknown>;
  if (fields.v !== PROTOCOL_VERSION) {
    return {
      ok: false,
      message: `the daemon speaks protocol version ${JSON.stringify(fields.v)}, this client ${PROTOCOL_VERSION}`,
    };
  }
  const id = fields.id === null ? null : readId(fields.id);
  if (id === null && fields.id !== null) {
    return { ok: false, message: 'the daemon sent a line without a valid id' };
  }
  if ('event' in fields) {
    const event = fields.event;
    if (id === null || typeof event !== 'object' || event === null) {
      return { ok: false, message: 'the daemon sent a malformed event line' };
    }
    return { ok: true, line: { v: 1, id, event: event as MonitorEvent } };
  }
  if ('progress' in fields) {
    const progress = fields.progress;
    if (id === null || typeof progress !== 'object' || progress === null) {
      return { ok: false, message: 'the daemon sent a malformed progress line' };
    }
    return { ok: true, line: { v: 1, id, progress } };
  }
  if (fields.ok === true) return { ok: true, line: { v: 1, id, ok: true, result: fields.result } };
  if (fields.ok === false) {
    const error = fields.error as Record<string, unknown> | null | undefined;
    if (
      typeof error !== 'object' ||
      error === null ||
      typeof error.code !== 'string' ||
      typeof error.message !== 'string'
    ) {
      return { ok: false, message: 'the daemon sent an error response without code and message' };
    }
    return {
      ok: true,
      line: {
        v: 1,
        id,
        ok: false,
        error: { code: error.code as ErrorCode, message: error.message },
      },
    };
  }
  return {
    ok: false,
    message: 'the daemon sent a line that is neither a response, an event nor progress',
  };
}
