import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  formatCidr,
  formatIpv4,
  formatMac,
  IPV4_BROADCAST,
  isGroupMac,
  isMulticastIpv4,
  isValidIpv4,
  isValidMac,
  MAC_BROADCAST,
  MAC_ZERO,
  multicastMac,
  parseCidr,
  parseCidrOrUndefined,
  parseIpv4,
  parseIpv4OrUndefined,
  parseMac,
  parseMacOrUndefined,
  prefixMask,
  readIpv4,
  readMac,
  writeIpv4,
  writeMac,
} from './addr.ts';

const anyMac = fc.integer({ min: 0, max: 0xffff_ffff_ffff });
const anyIpv4 = fc.integer({ min: 0, max: 0xffff_ffff });

describe('MAC addresses', () => {
  const valid: [string, number][] = [
    ['02:00:00:00:00:01', 0x02_00_00_00_00_01],
    ['ff:ff:ff:ff:ff:ff', MAC_BROADCAST],
    ['00:00:00:00:00:00', MAC_ZERO],
    ['02:00:0A:00:00:02', 0x02_00_0a_00_00_02],
    ['02-00-0a-00-00-02', 0x02_00_0a_00_00_02],
    // BSD arp(8) goes through ether_aton, which takes one-digit octets.
    ['2:0:a:0:0:2', 0x02_00_0a_00_00_02],
    ['1:2:3:4:5:6', 0x01_02_03_04_05_06],
  ];
  for (const [text, mac] of valid) {
    it(`parses ${JSON.stringify(text)}`, () => {
      assert.equal(parseMac(text), mac);
      assert.equal(parseMacOrUndefined(text), mac);
      assert.equal(isValidMac(text), true);
    });
  }

  const invalid = [
    '',
    '02:00:00:00:00',
    '02:00:00:00:00:01:02',
    '002:00:00:00:00:01',
    '0g:00:00:00:00:01',
    '02::00:00:00:01',
    '02:00:00:00:00:',
    ' 02:00:00:00:00:01',
    '02:00:00:00:00:01 ',
    '02:00:00:00:00:01\n',
    '0x2:00:00:00:00:01',
    '+2:00:00:00:00:01',
    '02.00.00.00.00.01',
    '020000000001',
  ];
  for (const text of invalid) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.equal(parseMacOrUndefined(text), undefined);
      assert.equal(isValidMac(text), false);
      assert.throws(() => parseMac(text), TypeError);
    });
  }

  it('names the bad text in the error', () => {
    assert.throws(() => parseMac('nope'), { name: 'TypeError', message: /"nope"/ });
  });

  it('formats as six lower-case two-digit octets', () => {
    assert.equal(formatMac(0x02_00_0a_00_00_02), '02:00:0a:00:00:02');
    assert.equal(formatMac(MAC_BROADCAST), 'ff:ff:ff:ff:ff:ff');
    assert.equal(formatMac(MAC_ZERO), '00:00:00:00:00:00');
    assert.equal(formatMac(0xab_cd_ef_01_23_45), 'ab:cd:ef:01:23:45');
  });

  it('reads and writes six bytes in network order', () => {
    const bytes = new Uint8Array([0xee, 0x02, 0x00, 0x0a, 0x00, 0x00, 0x02, 0xee]);
    assert.equal(readMac(bytes, 1), 0x02_00_0a_00_00_02);
    const out = new Uint8Array(8).fill(0xee);
    writeMac(out, 1, 0x02_00_0a_00_00_02);
    assert.deepEqual(out, bytes);
  });

  it('round-trips text and bytes for every MAC', () => {
    fc.assert(
      fc.property(anyMac, (mac) => {
        assert.equal(parseMac(formatMac(mac)), mac);
        const bytes = new Uint8Array(6);
        writeMac(bytes, 0, mac);
        assert.equal(readMac(bytes, 0), mac);
      }),
    );
  });

  it('isGroupMac tests the I/G bit of the first octet', () => {
    assert.equal(isGroupMac(MAC_BROADCAST), true);
    assert.equal(isGroupMac(parseMac('01:00:5e:00:00:01')), true);
    assert.equal(isGroupMac(parseMac('03:00:00:00:00:00')), true);
    assert.equal(isGroupMac(parseMac('02:00:00:00:00:01')), false);
    assert.equal(isGroupMac(parseMac('fe:ff:ff:ff:ff:ff')), false);
    assert.equal(isGroupMac(MAC_ZERO), false);
    fc.assert(
      fc.property(anyMac, (mac) => {
        const bytes = new Uint8Array(6);
        writeMac(bytes, 0, mac);
        assert.equal(isGroupMac(mac), (bytes[0]! & 1) === 1);
      }),
    );
  });
});

describe('IPv4 addresses', () => {
  const valid: [string, number][] = [
    ['192.0.2.1', 0xc0_00_02_01],
    ['10.0.0.1', 0x0a_00_00_01],
    ['0.0.0.0', 0],
    ['255.255.255.255', IPV4_BROADCAST],
    ['1.22.201.0', 0x01_16_c9_00],
  ];
  for (const [text, ip] of valid) {
    it(`parses ${JSON.stringify(text)}`, () => {
      assert.equal(parseIpv4(text), ip);
      assert.equal(parseIpv4OrUndefined(text), ip);
      assert.equal(isValidIpv4(text), true);
    });
  }

  const invalid = [
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.0.0.0',
    '1.2.3.256',
    '1000.0.0.0',
    // Leading zeros are rejected: inet_aton would read "010" as octal 8.
    '01.2.3.4',
    '1.2.3.00',
    '1..2.3',
    '1.2.3.',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '1.2.3.-4',
    '+1.2.3.4',
    '0x1.2.3.4',
    '1e2.0.0.0',
    '16909060',
  ];
  for (const text of invalid) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.equal(parseIpv4OrUndefined(text), undefined);
      assert.equal(isValidIpv4(text), false);
      assert.throws(() => parseIpv4(text), TypeError);
    });
  }

  it('reads and writes four bytes in network order', () => {
    const bytes = new Uint8Array([0xee, 192, 0, 2, 1, 0xee]);
    assert.equal(readIpv4(bytes, 1), 0xc0_00_02_01);
    const out = new Uint8Array(6).fill(0xee);
    writeIpv4(out, 1, 0xc0_00_02_01);
    assert.deepEqual(out, bytes);
  });

  it('round-trips text and bytes for every address', () => {
    fc.assert(
      fc.property(anyIpv4, (ip) => {
        assert.equal(parseIpv4(formatIpv4(ip)), ip);
        const bytes = new Uint8Array(4);
        writeIpv4(bytes, 0, ip);
        assert.equal(readIpv4(bytes, 0), ip);
      }),
    );
  });

  it('prefixMask covers /0, /1, /24 and /32', () => {
    assert.equal(prefixMask(0), 0);
    assert.equal(prefixMask(1), 0x8000_0000);
    assert.equal(prefixMask(24), 0xffff_ff00);
    assert.equal(prefixMask(31), 0xffff_fffe);
    assert.equal(prefixMask(32), 0xffff_ffff);
  });

  it('parses CIDR prefixes, a bare address meaning /32', () => {
    assert.deepEqual(parseCidr('192.0.2.1/24'), { address: 0xc0_00_02_01, prefixLength: 24 });
    assert.deepEqual(parseCidr('10.0.0.1'), { address: 0x0a_00_00_01, prefixLength: 32 });
    assert.deepEqual(parseCidr('0.0.0.0/0'), { address: 0, prefixLength: 0 });
    for (const text of ['1.2.3.4/33', '1.2.3.4/024', '1.2.3.4/', '/24', '1.2.3/24', '1.2.3.4/-1']) {
      assert.equal(parseCidrOrUndefined(text), undefined, text);
      assert.throws(() => parseCidr(text), TypeError);
    }
    fc.assert(
      fc.property(anyIpv4, fc.integer({ min: 0, max: 32 }), (address, prefixLength) => {
        assert.deepEqual(parseCidr(formatCidr({ address, prefixLength })), {
          address,
          prefixLength,
        });
      }),
    );
  });
});

describe('IPv4 multicast', () => {
  it('recognises 224.0.0.0/4', () => {
    assert.equal(isMulticastIpv4(parseIpv4('224.0.0.1')), true);
    assert.equal(isMulticastIpv4(parseIpv4('239.255.255.255')), true);
    assert.equal(isMulticastIpv4(parseIpv4('223.255.255.255')), false);
    assert.equal(isMulticastIpv4(parseIpv4('240.0.0.0')), false);
  });

  it('maps groups to 01:00:5e plus the low 23 bits (RFC 1112 section 6.4)', () => {
    assert.equal(formatMac(multicastMac(parseIpv4('224.0.0.1'))), '01:00:5e:00:00:01');
    assert.equal(formatMac(multicastMac(parseIpv4('239.255.255.255'))), '01:00:5e:7f:ff:ff');
    // The 24th bit from the right is dropped: 32 groups share each MAC.
    assert.equal(formatMac(multicastMac(parseIpv4('224.128.0.1'))), '01:00:5e:00:00:01');
  });

  it('always yields a group MAC', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0xe000_0000, max: 0xefff_ffff }), (group) => {
        assert.equal(isGroupMac(multicastMac(group)), true);
      }),
    );
  });
});
