/**
 * Errors for programmer and operator mistakes (bad config, an admin command that cannot be
 * done). Untrusted bytes never raise these: they are counted and dropped instead.
 */

/** Machine-readable error codes; the errno-like ones match what arp(8) reports. */
export type NetarpErrorCode =
  | 'EEXIST' // arp -s over a permanent entry: "File exists"
  | 'ENOENT' // no such entry / interface
  | 'EINVAL' // a value out of range or malformed
  | 'ENETUNREACH' // arp -s for an address no interface covers
  | 'EPERM'; // an operation the entry's kind forbids (deleting a local address)

/** An error with a machine-readable `code` and a message naming the field at fault. */
export class NetarpError extends Error {
  constructor(
    readonly code: NetarpErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'NetarpError';
  }
}

/** Exhaustiveness guard for switches over discriminated unions. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
