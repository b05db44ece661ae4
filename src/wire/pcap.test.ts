import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  PCAP_GLOBAL_HEADER_LEN,
  PCAP_LINKTYPE_ETHERNET,
  PCAP_RECORD_HEADER_LEN,
  PCAP_SNAPLEN,
  type PcapFile,
  parsePcap,
  pcapGlobalHeader,
  pcapRecord,
} from './pcap.ts';

function fromHex(text: string): Uint8Array {
  return Uint8Array.from(text.replace(/\s+/g, '').match(/../g) ?? [], (b) => parseInt(b, 16));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function parsed(bytes: Uint8Array): PcapFile {
  const file = parsePcap(bytes);
  assert.ok(!('kind' in file), `expected a file, got ${JSON.stringify(file)}`);
  return file;
}

const FRAME = fromHex(
  'ffffffffffff 02000a000002 0806 0001 0800 06 04 0001 02000a000002 0a000002 000000000000 0a000001',
);
// Magic a1b2c3d4 little-endian, version 2.4, thiszone 0, sigfigs 0, snaplen 65535, Ethernet.
const GLOBAL_HEADER = fromHex('d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000');
// ts_sec 1234, ts_usec 567000, incl_len 42, orig_len 42.
const RECORD_HEADER = fromHex('d2040000 d8a60800 2a000000 2a000000');

describe('pcap golden bytes', () => {
  it('writes the little-endian microsecond Ethernet global header', () => {
    assert.deepEqual(pcapGlobalHeader(), GLOBAL_HEADER);
  });

  it('writes a record header and a copy of the frame', () => {
    const record = pcapRecord(1_234_567, FRAME);
    assert.deepEqual(record, concat(RECORD_HEADER, FRAME));
    assert.notEqual(record.buffer, FRAME.buffer);
  });

  it('reads the golden file', () => {
    const file = parsed(concat(GLOBAL_HEADER, RECORD_HEADER, FRAME));
    assert.deepEqual(file, {
      linkType: PCAP_LINKTYPE_ETHERNET,
      snapLength: PCAP_SNAPLEN,
      records: [{ timestampMs: 1_234_567, frame: FRAME, originalLength: 42 }],
    });
  });

  it('reads a big-endian nanosecond file', () => {
    const bytes = fromHex(
      'a1b23c4d 0002 0004 00000000 00000000 0000ffff 00000001' +
        '000004d2 21cbbc3b 00000003 0000003c 010203',
    );
    assert.deepEqual(parsed(bytes).records, [
      { timestampMs: 1_234_567.000123, frame: fromHex('010203'), originalLength: 60 },
    ]);
  });

  it('reads a big-endian microsecond file and a little-endian nanosecond one', () => {
    const bigMicro = fromHex('a1b2c3d4 0002 0004 00000000 00000000 0000ffff 00000001');
    const littleNano = fromHex('4d3cb2a1 0200 0400 00000000 00000000 ffff0000 01000000');
    assert.deepEqual(parsed(bigMicro), { linkType: 1, snapLength: 65535, records: [] });
    const record = fromHex('02000000 40420f00 00000000 00000000');
    assert.equal(parsed(concat(littleNano, record)).records[0]?.timestampMs, 2001);
  });

  it('keeps only the link type from the FCS bits above it', () => {
    const bytes = Uint8Array.from(GLOBAL_HEADER);
    bytes[23] = 0x44; // FCS length 4 present
    assert.equal(parsed(bytes).linkType, PCAP_LINKTYPE_ETHERNET);
  });
});

describe('pcap writer', () => {
  it('keeps microseconds of fractional timestamps', () => {
    const file = parsed(concat(GLOBAL_HEADER, pcapRecord(1.5, FRAME)));
    assert.equal(file.records[0]?.timestampMs, 1.5);
  });

  it('cuts frames longer than the snaplen and records the original length', () => {
    const jumbo = new Uint8Array(PCAP_SNAPLEN + 10).fill(7);
    const record = pcapRecord(0, jumbo);
    assert.equal(record.length, PCAP_RECORD_HEADER_LEN + PCAP_SNAPLEN);
    const [read] = parsed(concat(GLOBAL_HEADER, record)).records;
    assert.equal(read?.frame.length, PCAP_SNAPLEN);
    assert.equal(read?.originalLength, PCAP_SNAPLEN + 10);
  });
});

describe('pcap reader checks', () => {
  it('rejects every length below the global header', () => {
    for (let length = 0; length < PCAP_GLOBAL_HEADER_LEN; length++) {
      assert.deepEqual(parsePcap(GLOBAL_HEADER.subarray(0, length)), {
        kind: 'truncated-header',
        length,
      });
    }
  });

  it('rejects unknown magic numbers', () => {
    const bytes = Uint8Array.from(GLOBAL_HEADER);
    bytes.set(fromHex('0a0d0d0a')); // pcapng
    assert.deepEqual(parsePcap(bytes), { kind: 'bad-magic', magic: 0x0a0d0d0a });
  });

  it('rejects versions other than 2.x', () => {
    const bytes = Uint8Array.from(GLOBAL_HEADER);
    bytes[4] = 1;
    assert.deepEqual(parsePcap(bytes), { kind: 'unsupported-version', major: 1, minor: 4 });
  });

  it('rejects a record cut anywhere, naming its index and offset', () => {
    const file = concat(GLOBAL_HEADER, pcapRecord(1, FRAME), pcapRecord(2, FRAME));
    const second = PCAP_GLOBAL_HEADER_LEN + PCAP_RECORD_HEADER_LEN + FRAME.length;
    for (let length = second + 1; length < file.length; length++) {
      assert.deepEqual(parsePcap(file.subarray(0, length)), {
        kind: 'truncated-record',
        index: 1,
        offset: second,
      });
    }
    assert.equal(parsed(file.subarray(0, second)).records.length, 1);
    assert.equal(parsed(file).records.length, 2);
  });
});

describe('pcap round trips', () => {
  const fixtures: [string, number, Uint8Array][] = [
    ['time 0 with an empty frame', 0, new Uint8Array(0)],
    ['the golden frame', 1_234_567, FRAME],
    ['a 2023 wall-clock time', 1_700_000_000_123, FRAME],
    ['the last second of u32 time', 4_294_967_295_999, FRAME],
  ];
  for (const [name, timestampMs, frame] of fixtures) {
    it(`reads back ${name}`, () => {
      assert.deepEqual(parsed(concat(pcapGlobalHeader(), pcapRecord(timestampMs, frame))).records, [
        { timestampMs, frame, originalLength: frame.length },
      ]);
    });
  }

  it('reads back any sequence of records with millisecond timestamps', () => {
    const anyRecord = fc.tuple(
      fc.integer({ min: 0, max: 4_294_967_295_999 }),
      fc.uint8Array({ maxLength: 80 }),
    );
    fc.assert(
      fc.property(fc.array(anyRecord, { maxLength: 8 }), (records) => {
        const bytes = concat(pcapGlobalHeader(), ...records.map(([t, f]) => pcapRecord(t, f)));
        assert.deepEqual(
          parsed(bytes).records,
          records.map(([timestampMs, frame]) => ({
            timestampMs,
            frame,
            originalLength: frame.length,
          })),
        );
      }),
    );
  });
});

describe('pcap on untrusted bytes', () => {
  it('parsePcap returns a file or an error value, never throws', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.uint8Array({ maxLength: 200 }), (withHeader, tail) => {
        // Half the inputs start with a valid header so that the record loop is reached.
        const bytes = withHeader ? concat(GLOBAL_HEADER, tail) : tail;
        const file = parsePcap(bytes);
        if ('kind' in file) {
          assert.match(
            file.kind,
            /^(truncated-header|bad-magic|unsupported-version|truncated-record)$/,
          );
        } else {
          for (const record of file.records) assert.ok(record.frame.length <= bytes.length);
        }
      }),
    );
  });
});
