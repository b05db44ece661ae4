/**
 * The BSD arp(8) forms of `netarp`: show a host's entries or all (-a), delete one (-d) or all
 * (-d -a), set one (-s, -S) or a file of them (-f), with arp(8)'s output lines. They talk
 * to the daemon through the control socket; host names are looked up here (names.ts)
 * because the daemon takes dotted addresses only.
 *
 * Follows DragonFly's usr.sbin/arp/arp.c: get() prints every entry for the host, or
 * "HOST (IP) -- no entry" on stdout, delete() prints "HOST (IP) deleted", -S deletes and
 * sets, -f goes on after a bad line and fails at the end; -i is FreeBSD's (entries of one
 * interface), here also with -d HOST.
 */
import { readFileSync } from 'node:fs';
import { type ControlClient, ControlError, entriesOf } from '../control/client.ts';
import { type EntryInfo, formatArpLine } from '../core/admin.ts';
import { assertNever } from '../core/errors.ts';
import { isValidMac, parseCidrOrUndefined, parseIpv4, prefixMask } from '../wire/addr.ts';
import { CLIENT_OPTIONS, hasFlag, optionValue, parseOptions } from './args.ts';
import { CliError, type CliIo, type Command, ExitCode, namesOf, UsageError } from './command.ts';
import { withDaemon } from './connect.ts';
import { addressOf, HostLookupError, type NameService, reverseNames } from './names.ts';

/** The words of `-s host ether_addr [temp] [pub [only]]`. */
export interface SetWords {
  readonly host: string;
  /** An Ethernet address, or "auto" (with pub: the MAC of the interface on host's subnet). */
  readonly mac: string;
  readonly temp: boolean;
  readonly pub: boolean;
  readonly only: boolean;
}

/** What an arp(8) command line asks for. */
export type ArpAction =
  | { readonly kind: 'help' }
  | { readonly kind: 'get'; readonly host: string }
  | { readonly kind: 'list' }
  | { readonly kind: 'delete'; readonly host: string; readonly pub: boolean }
  | { readonly kind: 'flush' }
  | ({ readonly kind: 'set'; readonly replace: boolean } & SetWords)
  | { readonly kind: 'file'; readonly file: string };

/** A parsed arp(8) command line: the action and the options that shape it. */
export interface ArpCommandLine {
  readonly action: ArpAction;
  /** -n: no reverse lookups, the host column is "?". */
  readonly numeric: boolean;
  /** --json: the daemon's entries as JSON instead of arp(8) lines. */
  readonly json: boolean;
  /** -i: only this interface's entries (with -d HOST, delete only there; with -s, -S, -f: set them on it). */
  readonly ifName?: string;
  /** --socket. */
  readonly socket?: string;
}

const ARP_OPTIONS = {
  all: { short: 'a' },
  numeric: { short: 'n' },
  delete: { short: 'd' },
  set: { short: 's' },
  replace: { short: 'S' },
  file: { short: 'f' },
  ifName: { short: 'i', value: true },
  ...CLIENT_OPTIONS,
} as const;

/** Operation errors the daemon reports for one entry; anything else ends an -f run. */
const ENTRY_ERRORS: ReadonlySet<string> = new Set([
  'EEXIST',
  'ENOENT',
  'EINVAL',
  'ENETUNREACH',
  'EPERM',
]);

/**
 * Parses `[temp] [pub [only]]` after host and ether_addr (arp.c set()); a string is what is
 * wrong. The words and their order are those of core/admin.ts parseSetWords, which takes
 * dotted addresses only; here the host may be a name, looked up later.
 */
export function parseSetWords(words: readonly string[]): SetWords | string {
  const [host, mac, ...rest] = words;
  if (host === undefined) return 'missing host and ether_addr';
  if (mac === undefined) return 'missing ether_addr';
  let temp = false;
  let pub = false;
  let only = false;
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    if (word === 'temp') temp = true;
    else if (word === 'pub') {
      pub = true;
      if (rest[i + 1] === 'only') {
        only = true;
        i++;
      }
    } else if (word === 'only') return "'only' must follow 'pub'";
    else return `unknown word '${word}' (expected temp, pub or pub only)`;
  }
  // arp.c: "auto" is only understood when publishing; otherwise it is a bad address.
  if (!(pub && mac === 'auto') && !isValidMac(mac)) return `invalid Ethernet address '${mac}'`;
  return { host, mac, temp, pub, only };
}

/** Parses the arguments of the arp(8) forms; throws UsageError. */
export function parseArpArgs(args: readonly string[]): ArpCommandLine {
  let parsed: ReturnType<typeof parseOptions<keyof typeof ARP_OPTIONS>>;
  try {
    parsed = parseOptions(args, ARP_OPTIONS);
  } catch (error) {
    // The arp(8) forms have no verb of their own to point at: the main help lists them.
    if (error instanceof UsageError) throw new UsageError(`${error.message} (see netarp --help)`);
    throw error;
  }
  const { positionals } = parsed;
  const ifName = optionValue(parsed, 'ifName');
  const socket = optionValue(parsed, 'socket');
  const common = {
    numeric: hasFlag(parsed, 'numeric'),
    json: hasFlag(parsed, 'json'),
    ...(ifName === undefined ? {} : { ifName }),
    ...(socket === undefined ? {} : { socket }),
  };
  if (hasFlag(parsed, 'help')) return { action: { kind: 'help' }, ...common };
  const all = hasFlag(parsed, 'all');
  const modes = (['delete', 'set', 'replace', 'file'] as const).filter((m) => hasFlag(parsed, m));
  if (modes.length > 1) throw new UsageError('only one of -d, -s, -S and -f may be given');
  const mode = modes[0];
  const letter = { delete: 'd', set: 's', replace: 'S', file: 'f' } as const;
  if (all && (mode === 'set' || mode === 'replace' || mode === 'file')) {
    throw new UsageError(`-a and -${letter[mode]} do not go together`);
  }
  const unexpected = (from: number): UsageError =>
    new UsageError(`unexpected argument '${positionals[from]}'`);
  switch (mode) {
    case undefined: {
      if (all) {
        if (positionals.length > 0) throw unexpected(0);
        return { action: { kind: 'list' }, ...common };
      }
      const [host] = positionals;
      if (host === undefined) throw new UsageError('missing host or -a (see netarp --help)');
      if (positionals.length > 1) throw unexpected(1);
      return { action: { kind: 'get', host }, ...common };
    }
    case 'delete': {
      if (all) {
        if (positionals.length > 0) throw unexpected(0);
        return { action: { kind: 'flush' }, ...common };
      }
      const [host, pub] = positionals;
      if (host === undefined) throw new UsageError('-d: missing host, or -a');
      if (pub !== undefined && pub !== 'pub') {
        throw new UsageError(`-d: expected 'pub' after the host, got '${pub}'`);
      }
      if (positionals.length > 2) throw unexpected(2);
      return { action: { kind: 'delete', host, pub: pub === 'pub' }, ...common };
    }
    case 'set':
    case 'replace': {
      const words = parseSetWords(positionals);
      if (typeof words === 'string') throw new UsageError(`-${letter[mode]}: ${words}`);
      return { action: { kind: 'set', replace: mode === 'replace', ...words }, ...common };
    }
    case 'file': {
      const [file] = positionals;
      if (file === undefined) throw new UsageError('-f: missing file');
      if (positionals.length > 1) throw unexpected(1);
      return { action: { kind: 'file', file }, ...common };
    }
    default:
      return assertNever(mode);
  }
}

/** The arp(8) line for each entry, with reverse names unless `numeric`. */
export async function arpLines(
  entries: readonly EntryInfo[],
  names: NameService,
  numeric: boolean,
): Promise<string> {
  const hosts = numeric
    ? new Map<string, string>()
    : await reverseNames(
        names,
        entries.map((e) => e.ip),
      );
  return entries.map((e) => `${formatArpLine(e, hosts.get(e.ip) ?? '?')}\n`).join('');
}

/** Whether `error` is the daemon's ENOENT. */
function isNoEntry(error: unknown): boolean {
  return error instanceof ControlError && error.code === 'ENOENT';
}

/** Throws ENOENT unless the daemon runs interface `ifName` (FreeBSD arp checks -i first). */
async function requireInterface(client: ControlClient, ifName: string): Promise<void> {
  const interfaces = await client.interfaces();
  if (!interfaces.some((i) => i.name === ifName)) {
    throw new CliError('ENOENT', `no such interface: ${ifName}`);
  }
}

/**
 * The MAC of `pub auto`: the interface with an address on `ip`'s subnet (arp.c
 * get_ether_addr), on `ifName` only when given.
 */
async function autoMac(
  client: ControlClient,
  ip: string,
  ifName: string | undefined,
): Promise<string> {
  const target = parseIpv4(ip);
  for (const iface of await client.interfaces()) {
    if (ifName !== undefined && iface.name !== ifName) continue;
    for (const text of iface.addresses) {
      const cidr = parseCidrOrUndefined(text);
      if (cidr && ((cidr.address ^ target) & prefixMask(cidr.prefixLength)) === 0) {
        return iface.mac;
      }
    }
  }
  throw new CliError('ENOENT', `no interface found for ${ip}`);
}

/** Sets one entry (-s, -S, a line of -f); returns it as stored and whether one was replaced. */
async function setEntry(
  client: ControlClient,
  words: SetWords,
  ip: string,
  options: { replace: boolean; ifName: string | undefined },
): Promise<{ entry: EntryInfo; replaced: boolean }> {
  const mac = words.mac === 'auto' ? await autoMac(client, ip, options.ifName) : words.mac;
  let replaced = false;
  if (options.replace) {
    // -S is "delete, then set" in arp.c, which prints the deletion: find what it replaces
    // (the host entry, or with pub only the proxy-only one).
    try {
      const proxyOnly = words.pub && words.only;
      replaced = entriesOf(await client.get(ip)).some((e) => e.proxyOnly === proxyOnly && !e.local);
    } catch (error) {
      if (!isNoEntry(error)) throw error;
    }
  }
  const entry = await client.set({
    host: ip,
    mac,
    ...(options.ifName === undefined ? {} : { ifName: options.ifName }),
    temp: words.temp,
    pub: words.pub,
    only: words.only,
    replace: options.replace,
  });
  return { entry, replaced };
}

/** One line of an `arp -f` file that names an entry. */
export interface ArpFileLine {
  /** 1-based line number. */
  readonly line: number;
  /** The line without its comment, trimmed. */
  readonly text: string;
  readonly words: readonly string[];
}

/** The lines of an `arp -f` file that are not blank once '#' comments are cut (arp.c file()). */
export function arpFileLines(text: string): ArpFileLine[] {
  const lines: ArpFileLine[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const hash = raw.indexOf('#');
    const body = (hash < 0 ? raw : raw.slice(0, hash)).trim();
    if (body !== '') lines.push({ line: index + 1, text: body, words: body.split(/\s+/) });
  });
  return lines;
}

/** The text of `file`, or a CliError saying why it cannot be read. */
function readArpFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code =
      typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : error instanceof Error
              ? error.message
              : String(error);
    throw new CliError('ENOENT', `cannot open ${file}: ${reason}`);
  }
}

/** Writes JSON on one line. */
function printJson(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value)}\n`);
}

/** Runs a parsed arp(8) command line; resolves to the exit status. */
export async function runArp(line: ArpCommandLine, io: CliIo): Promise<number> {
  const { action, ifName, json, socket } = line;
  const names = namesOf(io);
  switch (action.kind) {
    case 'help':
      io.stdout(ARP_HELP);
      return ExitCode.Ok;
    case 'get': {
      const ip = await addressOf(names, action.host);
      // arp(8) prints every entry for the host: its host entry and its proxy-only one.
      const entries = await withDaemon(io, socket, async (client) => {
        if (ifName !== undefined) await requireInterface(client, ifName);
        try {
          const found = entriesOf(await client.get(ip));
          return found.filter((e) => ifName === undefined || e.ifName === ifName);
        } catch (error) {
          if (isNoEntry(error)) return [];
          throw error;
        }
      });
      const first = entries[0];
      if (!first) {
        const missing = `${action.host} (${ip}) -- no entry${ifName === undefined ? '' : ` on ${ifName}`}`;
        // arp(8) prints this on stdout; with --json stdout is for JSON only.
        if (json) io.stderr(`netarp: ${missing}\n`);
        else io.stdout(`${missing}\n`);
        return ExitCode.Failure;
      }
      // The daemon's `get` answer, as it would be with only these entries.
      if (json) printJson(io, { ...first, entries });
      else io.stdout(await arpLines(entries, names, line.numeric));
      return ExitCode.Ok;
    }
    case 'list': {
      const entries = await withDaemon(io, socket, (client) => client.list(ifName));
      if (json) printJson(io, entries);
      else io.stdout(await arpLines(entries, names, line.numeric));
      return ExitCode.Ok;
    }
    case 'delete': {
      const ip = await addressOf(names, action.host);
      const result = await withDaemon(io, socket, async (client) => {
        // Checked first, so that the daemon's ENOENT below can only mean "no entry".
        if (ifName !== undefined) await requireInterface(client, ifName);
        try {
          return await client.delete(ip, action.pub, ifName);
        } catch (error) {
          if (!isNoEntry(error)) throw error;
          const where = ifName === undefined ? '' : ` on ${ifName}`;
          throw new CliError('ENOENT', `${action.host} (${ip}) -- no entry${where}`);
        }
      });
      if (json) printJson(io, result.deleted);
      else io.stdout(`${action.host} (${ip}) deleted\n`);
      return ExitCode.Ok;
    }
    case 'flush': {
      const result = await withDaemon(io, socket, (client) => client.flush(ifName));
      if (json) printJson(io, result.deleted);
      else io.stdout(result.deleted.map((e) => `${e.ip} (${e.ip}) deleted\n`).join(''));
      return ExitCode.Ok;
    }
    case 'set': {
      const ip = await addressOf(names, action.host);
      const { entry, replaced } = await withDaemon(io, socket, (client) =>
        setEntry(client, action, ip, { replace: action.replace, ifName }),
      );
      if (json) printJson(io, entry);
      else if (replaced) io.stdout(`${action.host} (${ip}) deleted\n`);
      return ExitCode.Ok;
    }
    case 'file':
      return runFile(action.file, line, io);
  }
}

/** arp -f: sets each line's entry, reporting each failing line; status 1 if any failed. */
async function runFile(file: string, line: ArpCommandLine, io: CliIo): Promise<number> {
  const lines = arpFileLines(readArpFile(file));
  const names = namesOf(io);
  const stored: EntryInfo[] = [];
  let failed = 0;
  const report = (at: ArpFileLine, message: string): void => {
    failed++;
    io.stderr(`netarp: ${file}:${at.line}: ${message}\n`);
  };
  await withDaemon(io, line.socket, async (client) => {
    for (const at of lines) {
      if (at.words.length < 2) {
        report(at, `bad line: ${at.text}`);
        continue;
      }
      const words = parseSetWords(at.words);
      if (typeof words === 'string') {
        report(at, words);
        continue;
      }
      try {
        const ip = await addressOf(names, words.host);
        const { entry } = await setEntry(client, words, ip, {
          replace: false,
          ifName: line.ifName,
        });
        stored.push(entry);
      } catch (error) {
        if (error instanceof HostLookupError || error instanceof CliError) {
          report(at, error.message);
        } else if (error instanceof ControlError && ENTRY_ERRORS.has(error.code)) {
          report(at, error.message);
        } else {
          throw error;
        }
      }
    }
  });
  if (line.json) printJson(io, stored);
  return failed > 0 ? ExitCode.Failure : ExitCode.Ok;
}

/** The text of `netarp arp --help`. */
export const ARP_HELP = `usage: netarp [-n] [-i if] [--json] host
       netarp [-n] [-i if] [--json] -a
       netarp -d [-i if] host [pub]
       netarp -d [-i if] -a
       netarp -s host ether_addr [temp] [pub [only]]
       netarp -S host ether_addr [temp] [pub [only]]
       netarp -f file

The arp(8) forms: show, delete and set entries of the running daemon's table. "netarp
arp ARGS" is the same, for a host named like a command.

  host            show the entries for host (an address or a name), its host entry and
                  its proxy-only one:
                    ? (192.0.2.1) at 02:00:00:00:00:01 on vx0 expires in 1187 seconds [ethernet]
                  or "host (192.0.2.1) -- no entry" and exit status 1
  -a              show every entry
  -d host [pub]   delete the entry, on whichever interface has it ("pub": the proxy-only
                  one); prints "host (ip) deleted"
  -d -a           delete every entry but our own addresses
  -s host ether_addr [temp] [pub [only]]
                  set a static entry: permanent unless temp (then it ages like a learned
                  one), published (answered for) with pub, only for proxy with pub only;
                  ether_addr "auto" with pub is the MAC of the interface on host's subnet.
                  Setting over a permanent entry fails: "File exists"
  -S ...          the same, replacing an existing entry
  -f file         -s for each line "host ether_addr [temp] [pub [only]]" of file ('#'
                  starts a comment); every failing line is reported with its number, and
                  the exit status is then 1

options:
  -n              no reverse DNS lookups: the host column is "?"
  -i if           only the entries on interface if (to show, or to delete with -d);
                  with -s, -S, -f: set them on if
  --json          print the daemon's entries as JSON instead of arp(8) lines: for host,
                  the first entry's fields and "entries", all of them; an array for -a,
                  -d, -d -a and -f
  --socket PATH   the daemon's control socket (default: $NETARP_SOCKET, else
                  /run/netarp/netarp.sock)
  -h, --help      show this help

exit status: 0 ok, 1 no such entry or the daemon refused, 2 usage error
`;

/** The `arp` verb: the arp(8) forms, spelled out (`netarp -a` is `netarp arp -a`). */
export const arpCommand: Command = {
  name: 'arp',
  synopsis: 'arp ARGS',
  summary: 'the arp(8) forms, for a host named like a command',
  help: ARP_HELP,
  run: (args, io) => runArp(parseArpArgs(args), io),
};
