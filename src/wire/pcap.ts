/**
 * The classic libpcap capture file (draft-ietf-opsawg-pcap; pcap-savefile(5)), which
 * tcpdump and Wireshark read.
 *
 * A 24-byte global header, then per frame a 16-byte record header and the captured bytes:
 * ```
 * global:  0 magic  4 version major (u16)  6 minor (u16)  8 thiszone (i32)  12 sigfigs
 *          16 snaplen  20 linktype
 * record:  0 ts_sec  4 ts_usec (ts_nsec in nanosecond files)  8 incl_len  12 orig_len
 * ```
 * The writer emits little-endian, microsecond-resolution files with link type Ethernet; the
 * reader also accepts big-endian and nanosecond files. Time is an argument: no clock here.
 */

/** Bytes in the global file header. */
export const PCAP_GLOBAL_HEADER_LEN = 24;
/** Bytes in a record header. */
export const PCAP_RECORD_HEADER_LEN = 16;
/** The magic of a microsecond-resolution file, as a u32 in the file's byte order. */
export const PCAP_MAGIC_MICROSECONDS = 0xa1b2_c3d4;
/** The magic of a nanosecond-resolution file, as a u32 in the file's byte order. */
export const PCAP_MAGIC_NANOSECONDS = 0xa1b2_3c4d;
/** The largest frame we record in full (tcpdump's historical default snaplen). */
export const PCAP_SNAPLEN = 65535;
/** LINKTYPE_ETHERNET: records are Ethernet II frames without FCS. */
export const PCAP_LINKTYPE_ETHERNET = 1;

/** One captured frame. `frame` is a subarray of the file bytes, not a copy. */
export interface PcapRecord {
  readonly timestampMs: number;
  readonly frame: Uint8Array;
  /** The frame's length on the wire; larger than `frame.length` when the snaplen cut it. */
  readonly originalLength: number;
}

/** A parsed capture file. */
export interface PcapFile {
  readonly linkType: number;
  readonly snapLength: number;
  readonly records: readonly PcapRecord[];
}

/** Why bytes are not a capture file netarp reads. */
export type PcapError =
  | { readonly kind: 'truncated-header'; readonly length: number }
  | { readonly kind: 'bad-magic'; readonly magic: number }
  | { readonly kind: 'unsupported-version'; readonly major: number; readonly minor: number }
  | { readonly kind: 'truncated-record'; readonly index: number; readonly offset: number };

/** The 24-byte global header of a little-endian, microsecond, Ethernet capture file. */
export function pcapGlobalHeader(): Uint8Array {
  const header = new Uint8Array(PCAP_GLOBAL_HEADER_LEN);
  const view = new DataView(header.buffer);
  view.setUint32(0, PCAP_MAGIC_MICROSECONDS, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  // thiszone and sigfigs stay 0: timestamps are UTC and the spec says writers set both to 0.
  view.setUint32(16, PCAP_SNAPLEN, true);
  view.setUint32(20, PCAP_LINKTYPE_ETHERNET, true);
  return header;
}

/**
 * One record: a header for `timestampMs` (milliseconds, >= 0, fractions kept to the
 * microsecond) and a copy of `frame`, cut to the snaplen with orig_len keeping the full length.
 */
export function pcapRecord(timestampMs: number, frame: Uint8Array): Uint8Array {
  const included = Math.min(frame.length, PCAP_SNAPLEN);
  const record = new Uint8Array(PCAP_RECORD_HEADER_LEN + included);
  const view = new DataView(record.buffer);
  const micros = Math.round(timestampMs * 1000);
  const seconds = Math.floor(micros / 1_000_000);
  view.setUint32(0, seconds, true);
  view.setUint32(4, micros - seconds * 1_000_000, true);
  view.setUint32(8, included, true);
  view.setUint32(12, frame.length, true);
  record.set(frame.subarray(0, included), PCAP_RECORD_HEADER_LEN);
  return record;
}

/** Reads a whole capture file in either byte order and either timestamp resolution. */
export function parsePcap(bytes: Uint8Array): PcapFile | PcapError {
  if (bytes.length < PCAP_GLOBAL_HEADER_LEN) {
    return { kind: 'truncated-header', length: bytes.length };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The writer stores the magic in its own byte order, so whichever order reads back a known
  // magic is the file's order, and which magic it is gives the timestamp resolution.
  const isMagic = (m: number) => m === PCAP_MAGIC_MICROSECONDS || m === PCAP_MAGIC_NANOSECONDS;
  let littleEndian: boolean;
  if (isMagic(view.getUint32(0, true))) littleEndian = true;
  else if (isMagic(view.getUint32(0, false))) littleEndian = false;
  else return { kind: 'bad-magic', magic: view.getUint32(0, false) };
  const ticksPerMs = view.getUint32(0, littleEndian) === PCAP_MAGIC_NANOSECONDS ? 1_000_000 : 1000;
  const major = view.getUint16(4, littleEndian);
  const minor = view.getUint16(6, littleEndian);
  if (major !== 2) return { kind: 'unsupported-version', major, minor };
  const snapLength = view.getUint32(16, littleEndian);
  // The link type is the low 16 bits; the upper ones may carry FCS information
  // (draft-ietf-opsawg-pcap section 4, libpcap's LT_LINKTYPE).
  const linkType = view.getUint32(20, littleEndian) & 0xffff;

  const records: PcapRecord[] = [];
  let offset = PCAP_GLOBAL_HEADER_LEN;
  while (offset < bytes.length) {
    const index = records.length;
    if (bytes.length - offset < PCAP_RECORD_HEADER_LEN) {
      return { kind: 'truncated-record', index, offset };
    }
    const seconds = view.getUint32(offset, littleEndian);
    const fraction = view.getUint32(offset + 4, littleEndian);
    const included = view.getUint32(offset + 8, littleEndian);
    const originalLength = view.getUint32(offset + 12, littleEndian);
    const start = offset + PCAP_RECORD_HEADER_LEN;
    if (bytes.length - start < included) return { kind: 'truncated-record', index, offset };
    records.push({
      timestampMs: seconds * 1000 + fraction / ticksPerMs,
      frame: bytes.subarray(start, start + included),
      originalLength,
    });
    offset = start + included;
  }
  return { linkType, snapLength, records };
}
