/**
 * Host names for the CLI: the daemon speaks only dotted IPv4 (the pure core does no DNS), so
 * a name on the command line is looked up here first, as arp(8) does with gethostbyname, and
 * `arp -a` shows the reverse name of each address unless -n, as arp(8)'s print_entry does
 * with gethostbyaddr.
 */
import { lookup, Resolver } from 'node:dns/promises';
import { isValidIpv4 } from '../wire/addr.ts';

/** Why a forward lookup failed, worded as hstrerror(3) words it. */
export type LookupFailure = 'Unknown host' | 'Host name lookup failure';

/** A name that did not give an IPv4 address: `netarp: NAME: Unknown host`, status 1. */
export class HostLookupError extends Error {
  constructor(
    readonly host: string,
    readonly reason: LookupFailure,
  ) {
    super(`${host}: ${reason}`);
    this.name = 'HostLookupError';
  }
}

/** Name lookups, injectable so that tests need no DNS. */
export interface NameService {
  /** The IPv4 address of `name`; rejects with HostLookupError. */
  lookup(name: string): Promise<string>;
  /**
   * The name of `ip`, or undefined when it has none; rejects when the lookup could not be
   * made (no answer in time, no server), and the caller then stops asking.
   */
  reverse(ip: string): Promise<string | undefined>;
}

/** Milliseconds one reverse lookup may take: `arp -a` must not hang on a dead server. */
export const REVERSE_TIMEOUT_MS = 1000;

/** getaddrinfo's and c-ares' codes for "this name has no address" (HOST_NOT_FOUND, NO_DATA). */
const NO_SUCH_NAME: ReadonlySet<string> = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NONAME']);

function codeOf(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
}

/** The system's resolver: getaddrinfo (so /etc/hosts counts) forward, DNS PTR in reverse. */
export const systemNames: NameService = {
  async lookup(name) {
    try {
      return (await lookup(name, { family: 4 })).address;
    } catch (error) {
      // TRY_AGAIN and the like are not "no such host": say the lookup itself failed.
      const reason = NO_SUCH_NAME.has(codeOf(error)) ? 'Unknown host' : 'Host name lookup failure';
      throw new HostLookupError(name, reason);
    }
  },
  async reverse(ip) {
    const resolver = new Resolver({ timeout: REVERSE_TIMEOUT_MS, tries: 1 });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('reverse lookup timed out')), REVERSE_TIMEOUT_MS);
    });
    try {
      const names = await Promise.race([resolver.reverse(ip), deadline]);
      return names[0];
    } catch (error) {
      if (NO_SUCH_NAME.has(codeOf(error))) return undefined;
      throw error;
    } finally {
      clearTimeout(timer);
      // A query still in flight would keep the process alive until the server answers.
      resolver.cancel();
    }
  },
};

/** `host` as a dotted IPv4 address: as given when it is one, else looked up. */
export function addressOf(names: NameService, host: string): Promise<string> {
  return isValidIpv4(host) ? Promise.resolve(host) : names.lookup(host);
}

/** Reverse lookups made at most this many at a time. */
const REVERSE_PARALLEL = 8;

/**
 * The host column of `arp -a` for each address: its reverse name, else "?". Like arp(8)'s
 * print_entry, which sets nflag after a TRY_AGAIN, a lookup that fails (rather than finding
 * no name) stops the lookups not yet started: one dead server costs one timeout, not one per
 * entry.
 */
export async function reverseNames(
  names: NameService,
  ips: readonly string[],
): Promise<Map<string, string>> {
  const unique = [...new Set(ips)];
  const found = new Map<string, string>();
  let next = 0;
  let givenUp = false;
  const worker = async (): Promise<void> => {
    while (!givenUp && next < unique.length) {
      const ip = unique[next++]!;
      try {
        const name = await names.reverse(ip);
        if (name !== undefined) found.set(ip, name);
      } catch {
        givenUp = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(REVERSE_PARALLEL, unique.length) }, worker));
  return found;
}
