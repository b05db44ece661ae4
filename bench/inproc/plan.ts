/**
 * The address plan and the frames of the in-process workloads, exactly as the shared
 * benchmark definition (WORKLOADS.md) gives them, with its golden frames:
 *
 * - us: MAC 02:00:00:00:00:01, IP 10.0.0.1/16;
 * - host i: IP 10.0.0.2 + i, MAC 02:00 followed by the four bytes of its IP;
 * - miss address k: 10.0.128.1 + (k mod 32000); filler j: 10.0.64.1 + j.
 *
 * That plan fits a /16 and 32,000 miss addresses. At N = 1,000,000 (which the definition
 * asks for, and which lwIP cannot run) it cannot hold: 4,000,000 hosts leave the /16, and miss
 * addresses repeating every 32,000 sends would find their entries still in a table of a
 * million (a hit on an unresolved entry, not a miss). So from N = 65,536 up the same plan is
 * scaled, and documented: us 10.0.0.1/8; hosts as above (up to 10.61.9.1); miss address k:
 * 10.0.128.1 + (k mod 4,194,304), never repeating within N; filler j: 10.128.0.1 + j, apart from
 * the miss addresses. Host 0, host 1 and the first miss address are the same in both plans,
 * so the golden frames check both.
 */
import { type Ipv4, type Mac, writeIpv4, writeMac } from '../../src/wire/addr.ts';

/** Our interface's MAC and address. */
export const OUR_MAC: Mac = 0x02_00_00_00_00_01;
export const OUR_IP: Ipv4 = 0x0a_00_00_01;
/** The interface name the engine is given. */
export const IF_NAME = 'eth0';

/** Every received frame: 14 bytes of Ethernet and 28 of ARP, no padding. */
export const FRAME_LEN = 42;
/** The IPv4 packets sent (hit, miss): 64 bytes. */
export const PACKET_LEN = 64;

/** From this table size up, the scaled plan (see the module comment). */
export const LARGE_N = 65_536;

/** The address plan for a table of `n` entries. */
export interface AddressPlan {
  /** Our address with its prefix, for `addAddress`. */
  readonly cidr: string;
  /** The first miss address and how many there are before they repeat. */
  readonly missBase: Ipv4;
  readonly missCount: number;
  /** The first filler address (the unresolved entries the miss workload starts with). */
  readonly fillerBase: Ipv4;
}

/** The plan WORKLOADS.md gives, scaled from LARGE_N up. */
export function addressPlan(n: number): AddressPlan {
  if (n < LARGE_N) {
    return {
      cidr: '10.0.0.1/16',
      missBase: 0x0a_00_80_01,
      missCount: 32_000,
      fillerBase: 0x0a_00_40_01,
    };
  }
  return {
    cidr: '10.0.0.1/8',
    missBase: 0x0a_00_80_01,
    missCount: 4_194_304,
    fillerBase: 0x0a_80_00_01,
  };
}

/** Host i's IP. */
export function hostIp(i: number): Ipv4 {
  return (0x0a_00_00_02 + i) >>> 0;
}

/** Host i's MAC: 02:00 and the four bytes of its IP. */
export function hostMac(i: number): Mac {
  return 0x02_00_00_00_00_00 + hostIp(i);
}

/** Miss address k. */
export function missIp(plan: AddressPlan, k: number): Ipv4 {
  return (plan.missBase + (k % plan.missCount)) >>> 0;
}

/** Filler address j. */
export function fillerIp(plan: AddressPlan, j: number): Ipv4 {
  return (plan.fillerBase + j) >>> 0;
}

/**
 * A reusable received frame, rewritten in place for each host: an ARP request from host c
 * to us (the reply workload's input), or an ARP reply from host c to us (learn's). Only the
 * sender's bytes change from one host to the next: the Ethernet source, ar_sha and ar_spa.
 */
export class InputFrame {
  readonly bytes = new Uint8Array(FRAME_LEN);

  constructor(readonly operation: 1 | 2) {
    const b = this.bytes;
    writeMac(b, 0, operation === 1 ? 0xff_ff_ff_ff_ff_ff : OUR_MAC);
    b[12] = 0x08;
    b[13] = 0x06;
    b[14] = 0x00;
    b[15] = 0x01;
    b[16] = 0x08;
    b[17] = 0x00;
    b[18] = 6;
    b[19] = 4;
    b[20] = 0;
    b[21] = operation;
    writeMac(b, 32, operation === 1 ? 0 : OUR_MAC);
    writeIpv4(b, 38, OUR_IP);
    this.setHost(0);
  }

  /** Makes the frame come from host c (its MAC is 02:00 and its IP's bytes). */
  setHost(c: number): void {
    const b = this.bytes;
    const ip = (0x0a_00_00_02 + c) >>> 0;
    const b0 = ip >>> 24;
    const b1 = (ip >>> 16) & 0xff;
    const b2 = (ip >>> 8) & 0xff;
    const b3 = ip & 0xff;
    // Ethernet source, then ar_sha: 02:00 and the IP's bytes; then ar_spa.
    b[6] = 0x02;
    b[7] = 0x00;
    b[8] = b0;
    b[9] = b1;
    b[10] = b2;
    b[11] = b3;
    b[22] = 0x02;
    b[23] = 0x00;
    b[24] = b0;
    b[25] = b1;
    b[26] = b2;
    b[27] = b3;
    b[28] = b0;
    b[29] = b1;
    b[30] = b2;
    b[31] = b3;
  }
}

/**
 * Writes a MAC into six bytes at `offset`, as a stack builds an Ethernet header: the 16 high
 * bits by a multiplication by 2^-32 (exact; writeMac divides, which costs more than the
 * rest of the header).
 */
export function putMac(bytes: Uint8Array, offset: number, mac: Mac): void {
  const high = (mac * 2 ** -32) | 0;
  const low = mac >>> 0;
  bytes[offset] = high >>> 8;
  bytes[offset + 1] = high;
  bytes[offset + 2] = low >>> 24;
  bytes[offset + 3] = low >>> 16;
  bytes[offset + 4] = low >>> 8;
  bytes[offset + 5] = low;
}

/** Parses WORKLOADS.md's spaced hex into bytes. */
export function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, '');
  const bytes = new Uint8Array(digits.length / 2);
  for (let i = 0; i < bytes.length; i++)
    bytes[i] = Number.parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/** Bytes as hex, for messages. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The golden frames of WORKLOADS.md, verbatim. */
export const GOLDEN = {
  /** Request from host 0 (input of reply). */
  requestFromHost0: hex(
    'ffffffffffff 02000a000002 0806 0001 0800 06 04 0001 02000a000002 0a000002 000000000000 0a000001',
  ),
  /** Expected reply. */
  replyToHost0: hex(
    '02000a000002 020000000001 0806 0001 0800 06 04 0002 020000000001 0a000001 02000a000002 0a000002',
  ),
  /** Reply from host 1 (input of learn). */
  replyFromHost1: hex(
    '020000000001 02000a000003 0806 0001 0800 06 04 0002 02000a000003 0a000003 020000000001 0a000001',
  ),
  /** Request emitted on a miss for 10.0.128.1. */
  requestForMiss0: hex(
    'ffffffffffff 020000000001 0806 0001 0800 06 04 0001 020000000001 0a000001 000000000000 0a008001',
  ),
} as const;

/** Whether two byte strings are equal. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
