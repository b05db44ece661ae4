import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseCidr, parseIpv4, parseMac } from '../wire/addr.ts';
import { ConfigError, describeLink, loadConfig, parseConfig } from './config.ts';

const FILE = '/etc/netarp/netarp.toml';

/** The example, extended with every optional key. */
const GOOD = `
state = "state/netarp.json"

[sysctl]
"net.link.ether.inet.max_age" = 1200
"net.link.ether.inet.maxtries" = 3

[[interface]]
name = "vx0"
mac = "02:00:00:00:00:02"
addresses = ["192.0.2.2/24", "198.51.100.2/24"]
flags = []
link = { type = "vxlan", local = "198.18.0.1:4789", remote = ["198.18.0.2:4789", "198.18.0.3"], vni = 42 }
pcap = "vx0.pcap"

[[interface]]
name = "br0"
kind = "bridge"
mac = "02:00:00:00:00:10"
addresses = ["203.0.113.1/24"]

[[interface]]
name = "tap0"
mac = "02:00:00:00:00:03"
flags = ["noarp", "staticarp"]
bridge = "br0"
link = { type = "tap", device = "tap0" }
evict_nocarrier = true

[[interface]]
name = "carp0"
carp = { parent = "vx0", vhid = 7, state = "backup" }
addresses = ["192.0.2.100/24"]

[[static]]
host = "192.0.2.9"
mac = "02:00:00:00:00:09"
pub = true

[[static]]
host = "192.0.2.10"
mac = "02:00:00:00:00:0a"
pub = true
only = true
interface = "vx0"

[[static]]
host = "192.0.2.11"
mac = "02:00:00:00:00:0b"
temp = true

[[route]]
to = "10.0.0.0/8"
via = "192.0.2.1"

[[route]]
to = "172.16.0.0/12"
interface = "vx0"
`;

describe('parseConfig', () => {
  it('reads every key of a good file', () => {
    const config = parseConfig(GOOD, FILE);
    assert.deepEqual(
      [...config.sysctl],
      [
        ['max_age', 1200],
        ['maxtries', 3],
      ],
    );
    assert.deepEqual(config.interfaces, [
      {
        name: 'vx0',
        kind: 'ether',
        mac: parseMac('02:00:00:00:00:02'),
        addresses: [parseCidr('192.0.2.2/24'), parseCidr('198.51.100.2/24')],
        noarp: false,
        staticarp: false,
        evictNoCarrier: false,
        link: {
          type: 'vxlan',
          local: { address: '198.18.0.1', port: 4789 },
          remotes: [
            { address: '198.18.0.2', port: 4789 },
            { address: '198.18.0.3', port: 4789 },
          ],
          vni: 42,
          io: 'auto',
        },
        pcap: '/etc/netarp/vx0.pcap',
        bridge: undefined,
        carp: undefined,
      },
      {
        name: 'br0',
        kind: 'bridge',
        mac: parseMac('02:00:00:00:00:10'),
        addresses: [parseCidr('203.0.113.1/24')],
        noarp: false,
        staticarp: false,
        evictNoCarrier: false,
        link: undefined,
        pcap: undefined,
        bridge: undefined,
        carp: undefined,
      },
      {
        name: 'tap0',
        kind: 'ether',
        mac: parseMac('02:00:00:00:00:03'),
        addresses: [],
        noarp: true,
        staticarp: true,
        evictNoCarrier: true,
        link: { type: 'tap', device: 'tap0' },
        pcap: undefined,
        bridge: 'br0',
        carp: undefined,
      },
      {
        name: 'carp0',
        kind: 'carp',
        mac: undefined,
        addresses: [parseCidr('192.0.2.100/24')],
        noarp: false,
        staticarp: false,
        evictNoCarrier: false,
        link: undefined,
        pcap: undefined,
        bridge: undefined,
        carp: { parent: 'vx0', vhid: 7, state: 'backup' },
      },
    ]);
    assert.deepEqual(config.statics, [
      {
        ip: parseIpv4('192.0.2.9'),
        mac: parseMac('02:00:00:00:00:09'),
        ifName: undefined,
        temp: false,
        pub: true,
        only: false,
      },
      {
        ip: parseIpv4('192.0.2.10'),
        mac: parseMac('02:00:00:00:00:0a'),
        ifName: 'vx0',
        temp: false,
        pub: true,
        only: true,
      },
      {
        ip: parseIpv4('192.0.2.11'),
        mac: parseMac('02:00:00:00:00:0b'),
        ifName: undefined,
        temp: true,
        pub: false,
        only: false,
      },
    ]);
    assert.deepEqual(config.routes, [
      { to: parseCidr('10.0.0.0/8'), via: parseIpv4('192.0.2.1'), ifName: undefined },
      { to: parseCidr('172.16.0.0/12'), via: undefined, ifName: 'vx0' },
    ]);
    // Relative to the config file's directory, like a capture file.
    assert.equal(config.state, '/etc/netarp/state/netarp.json');
  });

  it('reads a vxlan link\'s io, "auto" when absent, and names it in the summary unless auto', () => {
    const linkOf = (io: string) => {
      const text = vx(
        '',
        `link = { type = "vxlan", local = "198.18.0.1", remote = ["198.18.0.2"], vni = 1${io} }`,
      );
      const link = parseConfig(text, FILE).interfaces[0]?.link;
      assert.ok(link?.type === 'vxlan');
      return link;
    };
    assert.deepEqual(
      ['', ', io = "auto"', ', io = "native"', ', io = "dgram"'].map((io) => linkOf(io).io),
      ['auto', 'auto', 'native', 'dgram'],
    );
    assert.equal(describeLink(linkOf('')), 'vxlan 198.18.0.1:4789 -> 198.18.0.2:4789 vni 1');
    assert.equal(
      describeLink(linkOf(', io = "dgram"')),
      'vxlan 198.18.0.1:4789 -> 198.18.0.2:4789 vni 1 io dgram',
    );
  });

  it('accepts an empty file (a daemon with nothing yet, filled by a reload)', () => {
    const config = parseConfig('', FILE);
    assert.deepEqual(
      [config.sysctl.size, config.interfaces.length, config.statics.length, config.routes.length],
      [0, 0, 0, 0],
    );
    assert.equal(config.state, undefined);
  });
});

/** One interface everything below builds on; `$` marks where a case changes it. */
const vx = (
  extra = '',
  link = 'link = { type = "vxlan", local = "198.18.0.1:4789", remote = ["198.18.0.2:4789"], vni = 42 }',
) =>
  `[[interface]]\nname = "vx0"\nmac = "02:00:00:00:00:02"\naddresses = ["192.0.2.2/24"]\n${link}\n${extra}\n`;

/** Bad files: the key path each error must name, and a fragment of the reason. */
const BAD: readonly { name: string; text: string; at: string; says: string }[] = [
  { name: 'TOML syntax', text: 'a = \n', at: 'line 1, column 5', says: 'invalid value' },
  { name: 'duplicate key', text: 'x = 1\nx = 2\n', at: 'line 2, column 1', says: 'redefine' },
  {
    name: 'unknown section',
    text: '[interfaces]\n',
    at: 'interfaces',
    says: 'unknown key (known: state, sysctl, interface, static, route)',
  },
  { name: 'state not a string', text: 'state = 1\n', at: 'state', says: 'non-empty string' },
  {
    name: 'evict_nocarrier not a boolean',
    text: vx('evict_nocarrier = "yes"'),
    at: 'interface[0].evict_nocarrier',
    says: 'expected true or false',
  },
  {
    name: 'evict_nocarrier without a link',
    text: '[[interface]]\nname = "br0"\nkind = "bridge"\nmac = "02:00:00:00:00:10"\nevict_nocarrier = true\n',
    at: 'interface[0].evict_nocarrier',
    says: 'only an interface with a link has a carrier',
  },
  {
    name: 'sysctl short name',
    text: '[sysctl]\nmax_age = 5\n',
    at: 'sysctl.max_age',
    says: 'use the full name "net.link.ether.inet.max_age"',
  },
  {
    name: 'sysctl unknown',
    text: '[sysctl]\n"net.link.ether.inet.nope" = 5\n',
    at: 'sysctl."net.link.ether.inet.nope"',
    says: 'unknown key',
  },
  {
    name: 'sysctl range',
    text: '[sysctl]\n"net.link.ether.inet.maxtries" = 0\n',
    at: 'sysctl."net.link.ether.inet.maxtries"',
    says: '0 is not an integer in 1..1000',
  },
  {
    name: 'sysctl type',
    text: '[sysctl]\n"net.link.ether.inet.maxtries" = "5"\n',
    at: 'sysctl."net.link.ether.inet.maxtries"',
    says: '"5" is not an integer',
  },
  {
    name: 'interface not array',
    text: '[interface]\nname = "vx0"\n',
    at: 'interface',
    says: 'expected an array of tables',
  },
  {
    name: 'name missing',
    text: '[[interface]]\nmac = "02:00:00:00:00:02"\n',
    at: 'interface[0].name',
    says: 'is required',
  },
  {
    name: 'name too long',
    text: vx().replace('"vx0"', '"averyveryverylongname"'),
    at: 'interface[0].name',
    says: 'is not a name of 1..15',
  },
  {
    name: 'duplicate interface',
    text: vx() + vx().replace('198.18.0.1:4789', '198.18.0.1:4790'),
    at: 'interface[1].name',
    says: 'interface vx0 is declared twice',
  },
  {
    name: 'bad mac',
    text: vx().replace('02:00:00:00:00:02', '02:00:00:00:02'),
    at: 'interface[0].mac',
    says: 'is not an Ethernet address',
  },
  {
    name: 'group mac',
    text: vx().replace('02:00:00:00:00:02', '03:00:00:00:00:02'),
    at: 'interface[0].mac',
    says: '03:00:00:00:00:02 is not a unicast Ethernet address; an interface needs one of its own',
  },
  {
    name: 'zero mac',
    text: vx().replace('02:00:00:00:00:02', '00:00:00:00:00:00'),
    at: 'interface[0].mac',
    says: 'is not a unicast Ethernet address',
  },
  {
    name: 'bad address',
    text: vx().replace('192.0.2.2/24', '192.0.2.2'),
    at: 'interface[0].addresses[0]',
    says: 'with a prefix length',
  },
  {
    name: 'addresses not strings',
    text: vx().replace('["192.0.2.2/24"]', '[1]'),
    at: 'interface[0].addresses[0]',
    says: 'expected a string',
  },
  {
    name: 'duplicate address',
    text: vx().replace('["192.0.2.2/24"]', '["192.0.2.2/24", "192.0.2.2/25"]'),
    at: 'interface[0].addresses[1]',
    says: 'vx0 already has 192.0.2.2',
  },
  {
    name: 'unknown flag',
    text: vx('flags = ["noarp", "promisc"]'),
    at: 'interface[0].flags[1]',
    says: 'unknown flag "promisc"',
  },
  {
    name: 'flag twice',
    text: vx('flags = ["noarp", "noarp"]'),
    at: 'interface[0].flags[1]',
    says: 'given twice',
  },
  {
    name: 'unknown interface key',
    text: vx('mtu = 1500'),
    at: 'interface[0].mtu',
    says: 'unknown key',
  },
  { name: 'link missing', text: vx('', ''), at: 'interface[0].link', says: 'is required' },
  {
    name: 'link type missing',
    text: vx('', 'link = { device = "x" }'),
    at: 'interface[0].link.type',
    says: 'is required (one of vxlan, tap, packet)',
  },
  {
    name: 'link type unknown',
    text: vx('', 'link = { type = "gre" }'),
    at: 'interface[0].link.type',
    says: 'unknown link type the string "gre"',
  },
  {
    name: 'vxlan local missing',
    text: vx('', 'link = { type = "vxlan", remote = ["198.18.0.2"], vni = 1 }'),
    at: 'interface[0].link.local',
    says: 'is required',
  },
  {
    name: 'vxlan local not an endpoint',
    text: vx(
      '',
      'link = { type = "vxlan", local = "host:4789", remote = ["198.18.0.2"], vni = 1 }',
    ),
    at: 'interface[0].link.local',
    says: 'is not "ADDRESS:PORT"',
  },
  {
    name: 'vxlan local port',
    text: vx(
      '',
      'link = { type = "vxlan", local = "198.18.0.1:65536", remote = ["198.18.0.2"], vni = 1 }',
    ),
    at: 'interface[0].link.local',
    says: 'port "65536" is not an integer in 0..65535',
  },
  {
    name: 'vxlan remote port 0',
    text: vx(
      '',
      'link = { type = "vxlan", local = "198.18.0.1", remote = ["198.18.0.2:0"], vni = 1 }',
    ),
    at: 'interface[0].link.remote[0]',
    says: 'in 1..65535',
  },
  {
    name: 'vxlan remote empty',
    text: vx('', 'link = { type = "vxlan", local = "198.18.0.1", remote = [], vni = 1 }'),
    at: 'interface[0].link.remote',
    says: 'non-empty array',
  },
  {
    name: 'vxlan vni range',
    text: vx(
      '',
      'link = { type = "vxlan", local = "198.18.0.1", remote = ["198.18.0.2"], vni = 16777216 }',
    ),
    at: 'interface[0].link.vni',
    says: 'in 0..16777215',
  },
  {
    name: 'vxlan extra key',
    text: vx(
      '',
      'link = { type = "vxlan", local = "198.18.0.1", remote = ["198.18.0.2"], vni = 1, ttl = 3 }',
    ),
    at: 'interface[0].link.ttl',
    says: 'unknown key (known: type, local, remote, vni, io)',
  },
  {
    name: 'vxlan io unknown',
    text: vx(
      '',
      'link = { type = "vxlan", local = "198.18.0.1", remote = ["198.18.0.2"], vni = 1, io = "uring" }',
    ),
    at: 'interface[0].link.io',
    says: 'expected "auto", "native", "dgram", got "uring"',
  },
  {
    name: 'vxlan io not a string',
    text: vx(
      '',
      'link = { type = "vxlan", local = "198.18.0.1", remote = ["198.18.0.2"], vni = 1, io = true }',
    ),
    at: 'interface[0].link.io',
    says: 'expected a non-empty string',
  },
  {
    name: 'tap device missing',
    text: vx('', 'link = { type = "tap" }'),
    at: 'interface[0].link.device',
    says: 'is required',
  },
  {
    name: 'two links on one port',
    text:
      vx() +
      vx()
        .replace('vx0', 'vx1')
        .replace('"198.18.0.1:4789"', '"0.0.0.0:4789"')
        .replace('02:00:00:00:00:02', '02:00:00:00:00:03')
        .replace('192.0.2.2/24', '192.0.3.2/24'),
    at: 'interface[1].link.local',
    says: '0.0.0.0:4789 is also bound by interface[0] (vx0)',
  },
  {
    name: 'two captures to one file',
    text:
      vx('pcap = "x.pcap"') +
      vx('pcap = "x.pcap"')
        .replace('vx0', 'vx1')
        .replace('198.18.0.1:4789', '198.18.0.1:4790')
        .replace('192.0.2.2/24', '192.0.3.2/24'),
    at: 'interface[1].pcap',
    says: '/etc/netarp/x.pcap is also written by interface[0]',
  },
  {
    name: 'bridge with link',
    text: '[[interface]]\nname = "br0"\nkind = "bridge"\nmac = "02:00:00:00:00:10"\nlink = { type = "tap", device = "t" }\n',
    at: 'interface[0].link',
    says: 'a bridge has no link of its own',
  },
  {
    name: 'pcap without link',
    text: '[[interface]]\nname = "br0"\nkind = "bridge"\nmac = "02:00:00:00:00:10"\npcap = "x.pcap"\n',
    at: 'interface[0].pcap',
    says: 'only an interface with a link',
  },
  {
    name: 'unknown kind',
    text: vx('kind = "wifi"'),
    at: 'interface[0].kind',
    says: 'expected "ether", "bridge" or "carp"',
  },
  {
    name: 'bridge unknown',
    text: vx('bridge = "br9"'),
    at: 'interface[0].bridge',
    says: 'no interface br9 is declared before this one',
  },
  {
    name: 'bridge not a bridge',
    text:
      vx() +
      vx('bridge = "vx0"')
        .replace('vx0"\nmac', 'vx1"\nmac')
        .replace('198.18.0.1:4789', '198.18.0.1:4790')
        .replace('192.0.2.2/24', '192.0.3.2/24'),
    at: 'interface[1].bridge',
    says: 'vx0 is not a bridge',
  },
  {
    name: 'carp parent missing',
    text: '[[interface]]\nname = "carp0"\ncarp = { vhid = 1 }\n',
    at: 'interface[0].carp.parent',
    says: 'is required',
  },
  {
    name: 'carp parent later',
    text: '[[interface]]\nname = "carp0"\ncarp = { parent = "vx0", vhid = 1 }\n' + vx(),
    at: 'interface[0].carp.parent',
    says: 'no interface vx0 is declared before this one',
  },
  {
    name: 'carp vhid',
    text: vx() + '[[interface]]\nname = "carp0"\ncarp = { parent = "vx0", vhid = 256 }\n',
    at: 'interface[1].carp.vhid',
    says: 'in 1..255',
  },
  {
    name: 'carp state',
    text:
      vx() +
      '[[interface]]\nname = "carp0"\ncarp = { parent = "vx0", vhid = 1, state = "primary" }\n',
    at: 'interface[1].carp.state',
    says: 'expected "master" or "backup"',
  },
  {
    name: 'carp with mac',
    text:
      vx() +
      '[[interface]]\nname = "carp0"\nmac = "02:00:00:00:00:05"\ncarp = { parent = "vx0", vhid = 1 }\n',
    at: 'interface[1].mac',
    says: 'virtual MAC of its vhid',
  },
  {
    name: 'carp settings on ether',
    text: vx('carp = { parent = "vx0", vhid = 1 }\nkind = "ether"'),
    at: 'interface[0].carp',
    says: 'only a CARP interface',
  },
  {
    name: 'static host missing',
    text: vx() + '[[static]]\nmac = "02:00:00:00:00:09"\n',
    at: 'static[0].host',
    says: 'is required',
  },
  {
    name: 'static host not IPv4',
    text: vx() + '[[static]]\nhost = "gateway"\nmac = "02:00:00:00:00:09"\n',
    at: 'static[0].host',
    says: '"gateway" is not an IPv4 address',
  },
  {
    name: 'static mac',
    text: vx() + '[[static]]\nhost = "192.0.2.9"\nmac = "zz"\n',
    at: 'static[0].mac',
    says: 'is not an Ethernet address',
  },
  {
    name: 'static boolean',
    text: vx() + '[[static]]\nhost = "192.0.2.9"\nmac = "02:00:00:00:00:09"\npub = 1\n',
    at: 'static[0].pub',
    says: 'expected true or false, got number 1',
  },
  {
    name: 'static only without pub',
    text: vx() + '[[static]]\nhost = "192.0.2.9"\nmac = "02:00:00:00:00:09"\nonly = true\n',
    at: 'static[0].only',
    says: 'needs pub = true',
  },
  {
    name: 'static unknown interface',
    text: vx() + '[[static]]\nhost = "192.0.2.9"\nmac = "02:00:00:00:00:09"\ninterface = "vx9"\n',
    at: 'static[0].interface',
    says: 'no interface vx9 is declared',
  },
  {
    name: 'static off-link',
    text: vx() + '[[static]]\nhost = "10.0.0.9"\nmac = "02:00:00:00:00:09"\n',
    at: 'static[0]',
    says: 'cannot intuit interface index and type for 10.0.0.9',
  },
  {
    name: 'static over our address',
    text: vx() + '[[static]]\nhost = "192.0.2.2"\nmac = "02:00:00:00:00:09"\n',
    at: 'static[0]',
    says: 'File exists (a local address)',
  },
  {
    name: 'static twice',
    text:
      vx() +
      '[[static]]\nhost = "192.0.2.9"\nmac = "02:00:00:00:00:09"\n[[static]]\nhost = "192.0.2.9"\nmac = "02:00:00:00:00:08"\ntemp = true\n',
    at: 'static[1].host',
    says: '192.0.2.9 is already set by static[0]',
  },
  {
    name: 'route both',
    text: vx() + '[[route]]\nto = "10.0.0.0/8"\nvia = "192.0.2.1"\ninterface = "vx0"\n',
    at: 'route[0]',
    says: 'give exactly one of via',
  },
  {
    name: 'route neither',
    text: vx() + '[[route]]\nto = "10.0.0.0/8"\n',
    at: 'route[0]',
    says: 'give exactly one of via',
  },
  {
    name: 'route to',
    text: vx() + '[[route]]\nto = "10.0.0.0"\nvia = "192.0.2.1"\n',
    at: 'route[0].to',
    says: 'with a prefix length',
  },
  {
    name: 'route twice',
    text:
      vx() +
      '[[route]]\nto = "10.0.0.0/8"\nvia = "192.0.2.1"\n[[route]]\nto = "10.0.0.0/8"\ninterface = "vx0"\n',
    at: 'route[1]',
    says: 'route 10.0.0.0/8 exists',
  },
];

describe('config errors name the file, the key and the reason', () => {
  for (const { name, text, at, says } of BAD) {
    it(name, () => {
      assert.throws(
        () => parseConfig(text, FILE),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, String(error));
          assert.equal(error.code, 'ECONFIG');
          assert.equal(error.file, FILE);
          assert.equal(error.location, at, error.message);
          assert.ok(error.reason.includes(says), `reason: ${error.reason}`);
          assert.equal(error.message, `${FILE}: ${at}: ${error.reason}`);
          return true;
        },
      );
    });
  }
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netarp-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file, and anchors relative capture paths at its directory', async () => {
    const file = join(dir, 'netarp.toml');
    writeFileSync(file, vx('pcap = "captures/vx0.pcap"'));
    const config = await loadConfig(file);
    assert.equal(config.file, file);
    assert.equal(config.interfaces[0]?.pcap, join(dir, 'captures/vx0.pcap'));
  });

  it('says when the file cannot be read', async () => {
    const missing = join(dir, 'missing.toml');
    await assert.rejects(loadConfig(missing), {
      name: 'ConfigError',
      message: `${missing}: no such file`,
    });
    await assert.rejects(loadConfig(dir), { message: `${dir}: is a directory` });
  });
});
