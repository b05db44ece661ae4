import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseIpv4 } from '../wire/addr.ts';
import {
  type Action,
  loadScenarioFile,
  parseArpCommand,
  parseScenario,
  ScenarioError,
} from './scenario.ts';

/** A valid base scenario; each case below breaks one thing in it. */
const BASE = `seed: 3
segments:
  - name: lan
  - { name: dmz, loss: 0.25, delayMs: 5 }
hosts:
  - name: alice
    sysctl: { max_age: 30, net.link.ether.inet.proxyall: 1 }
    interfaces:
      - { name: eth0, mac: "02:00:00:00:00:01", segment: lan, addresses: [192.0.2.1/24] }
    routes:
      - { to: 0.0.0.0/0, via: 192.0.2.254 }
stations:
  - { name: probe, segment: lan, mac: "02:00:00:00:00:99" }
timeline:
  - at: 2
    note: second
  - at: 1
    ping: { from: alice, to: 192.0.2.2 }
  - at: 2
    note: third
`;

function errorOf(text: string, file = 'case.yaml'): ScenarioError {
  try {
    parseScenario(text, file);
  } catch (error) {
    assert.ok(error instanceof ScenarioError, `not a ScenarioError: ${String(error)}`);
    return error;
  }
  assert.fail('the scenario was accepted');
}

/** BASE with a timeline of one step. */
function withStep(step: string): string {
  return `${BASE.slice(0, BASE.indexOf('timeline:'))}timeline:\n  - at: 1\n    ${step}\n`;
}

describe('parseScenario: a valid file', () => {
  const scenario = parseScenario(BASE, 'base.yaml');

  it('reads the top-level fields and fills the defaults', () => {
    assert.equal(scenario.seed, 3);
    assert.deepEqual(scenario.segments, [
      { name: 'lan', loss: 0, delayMs: 0 },
      { name: 'dmz', loss: 0.25, delayMs: 5 },
    ]);
    assert.deepEqual(scenario.stations, [
      { name: 'probe', segment: 'lan', mac: 0x02_00_00_00_00_99 },
    ]);
    // end defaults to one second after the last step.
    assert.equal(scenario.endMs, 3000);
  });

  it('turns sysctl names into short ones and keeps addresses apart from interfaces', () => {
    const alice = scenario.hosts[0]!;
    assert.deepEqual(alice.sysctl, { max_age: 30, proxyall: 1 });
    assert.deepEqual(alice.interfaces, [
      { name: 'eth0', kind: 'ether', mac: 0x02_00_00_00_00_01, segment: 'lan' },
    ]);
    assert.deepEqual(alice.addresses, [{ ifName: 'eth0', cidr: '192.0.2.1/24' }]);
    assert.deepEqual(alice.routes, [
      { prefix: '0.0.0.0/0', next: { kind: 'gateway', via: '192.0.2.254' } },
    ]);
  });

  it('sorts the timeline by time, keeping file order at equal times', () => {
    assert.deepEqual(
      scenario.timeline.map((s) => [s.atMs, s.action.kind === 'note' ? s.action.text : 'ping']),
      [
        [1000, 'ping'],
        [2000, 'second'],
        [2000, 'third'],
      ],
    );
  });

  it('reads JSON as well', () => {
    const json = parseScenario(
      '{"segments":[{"name":"lan"}],"timeline":[{"at":0.25,"note":"x"}],"end":1}',
      'x.json',
    );
    assert.deepEqual(json.timeline, [{ atMs: 250, action: { kind: 'note', text: 'x' } }]);
    assert.equal(json.endMs, 1000);
    assert.equal(json.seed, 1);
  });

  it('expands a ping with a count into steps an interval apart', () => {
    const s = parseScenario(
      withStep('ping: { from: alice, to: 192.0.2.2, count: 3, interval: 0.5 }'),
    );
    assert.deepEqual(
      s.timeline.map((t) => t.atMs),
      [1000, 1500, 2000],
    );
    assert.equal(s.endMs, 3000);
  });

  it('builds an injected frame from its fields, with the station as default sender', () => {
    const s = parseScenario(
      withStep('inject: { from: probe, frame: { op: request, spa: 192.0.2.99, tpa: 192.0.2.1 } }'),
    );
    const action = s.timeline[0]!.action as Extract<Action, { kind: 'inject' }>;
    assert.equal(action.segment, 'lan');
    assert.equal(
      Buffer.from(action.frame).toString('hex'),
      'ffffffffffff020000000099080600010800060400010200000000' + '99c0000263000000000000c0000201',
    );
  });

  it('sends an injected reply to its target hardware address unless told otherwise', () => {
    const s = parseScenario(
      withStep(
        'inject: { from: probe, segment: dmz, frame: { op: reply, sha: "02:00:00:00:00:42", spa: 192.0.2.9, tha: "02:00:00:00:00:01", tpa: 192.0.2.1, hardwareType: 6 } }',
      ),
    );
    const action = s.timeline[0]!.action as Extract<Action, { kind: 'inject' }>;
    assert.equal(action.segment, 'dmz');
    assert.equal(
      Buffer.from(action.frame).toString('hex'),
      '020000000001020000000042080600060800060400020200000000' + '42c0000209020000000001c0000201',
    );
  });

  it('takes raw hex with separators', () => {
    const s = parseScenario(withStep('inject: { from: probe, hex: "ff:ff ff-ff.ff ff 00" }'));
    const action = s.timeline[0]!.action as Extract<Action, { kind: 'inject' }>;
    assert.deepEqual([...action.frame], [255, 255, 255, 255, 255, 255, 0]);
  });

  it('reads every other action', () => {
    const steps = [
      'arp: { host: alice, command: " -s 192.0.2.9 02:00:00:00:00:09 temp pub only " }',
      'address: { host: alice, interface: eth0, add: 192.0.2.7/24 }',
      'address: { host: alice, interface: eth0, remove: 192.0.2.7/24 }',
      'link: { host: alice, interface: eth0, up: false }',
      'sysctl: { host: alice, name: net.link.ether.inet.maxtries, value: 2 }',
      'route: { host: alice, add: 203.0.113.0/24, interface: eth0 }',
      'route: { host: alice, remove: 0.0.0.0/0 }',
      'show: {}',
      'stats: { host: alice }',
    ];
    const actions = steps.map((step) => parseScenario(withStep(step)).timeline[0]!.action);
    assert.deepEqual(actions, [
      {
        kind: 'arp',
        host: 'alice',
        words: '-s 192.0.2.9 02:00:00:00:00:09 temp pub only',
        command: {
          kind: 'set',
          spec: {
            ip: parseIpv4('192.0.2.9'),
            mac: 0x02_00_00_00_00_09,
            temp: true,
            pub: true,
            only: true,
          },
        },
      },
      { kind: 'address', host: 'alice', ifName: 'eth0', add: true, address: '192.0.2.7/24' },
      { kind: 'address', host: 'alice', ifName: 'eth0', add: false, address: '192.0.2.7' },
      { kind: 'link', host: 'alice', ifName: 'eth0', up: false },
      { kind: 'sysctl', host: 'alice', name: 'maxtries', value: 2 },
      {
        kind: 'route',
        host: 'alice',
        prefix: '203.0.113.0/24',
        next: { kind: 'interface', ifName: 'eth0' },
      },
      { kind: 'route', host: 'alice', prefix: '0.0.0.0/0', next: undefined },
      { kind: 'show', host: undefined },
      { kind: 'stats', host: 'alice' },
    ]);
  });

  it('reads bridges and CARP interfaces', () => {
    const s = parseScenario(`segments: [{ name: lan }]
hosts:
  - name: sw
    interfaces:
      - { name: bridge0, kind: bridge, mac: "02:00:00:00:00:b0" }
      - { name: eth0, mac: "02:00:00:00:00:e0", segment: lan, bridge: bridge0, flags: [staticarp], up: false }
      - { name: carp0, carp: { parent: eth0, vhid: 7 } }
`);
    assert.deepEqual(s.hosts[0]!.interfaces, [
      { name: 'bridge0', kind: 'bridge', mac: 0x02_00_00_00_00_b0 },
      {
        name: 'eth0',
        kind: 'ether',
        mac: 0x02_00_00_00_00_e0,
        segment: 'lan',
        bridge: 'bridge0',
        staticarp: true,
        up: false,
      },
      { name: 'carp0', kind: 'carp', carp: { parent: 'eth0', vhid: 7, state: 'master' } },
    ]);
  });
});

describe('parseScenario: mistakes name the file, line, field and reason', () => {
  // [what is wrong, the text, the error code, the expected message]
  const cases: [string, string, string, string][] = [
    ['not YAML', 'segments: [\n  {name: lan', 'EPARSE', 'case.yaml:2:'],
    ['empty', '', 'EINVAL', 'case.yaml: the scenario is empty'],
    ['a list at the top', '- 1\n', 'EINVAL', 'case.yaml:1:1: expected a mapping, got a list'],
    ['unknown top-level field', `${BASE}sed: 1\n`, 'EINVAL', 'sed: unknown field'],
    [
      'no segment',
      'segments: []\n',
      'EINVAL',
      'case.yaml:1:11: segments: declare at least one segment',
    ],
    [
      'bad seed',
      BASE.replace('seed: 3', 'seed: -1'),
      'EINVAL',
      'case.yaml:1:7: seed: expected a number in 0..4294967295, got -1',
    ],
    [
      'segment twice',
      BASE.replace('name: dmz', 'name: lan'),
      'EINVAL',
      'segments[1].name: segment lan is declared twice',
    ],
    [
      'loss above 1',
      BASE.replace('loss: 0.25', 'loss: 2'),
      'EINVAL',
      'case.yaml:4:24: segments[1].loss: expected a number in 0..1, got 2',
    ],
    [
      'fractional delay',
      BASE.replace('delayMs: 5', 'delayMs: 0.5'),
      'EINVAL',
      'segments[1].delayMs: expected an integer, got 0.5',
    ],
    [
      'bad MAC',
      BASE.replace('"02:00:00:00:00:01"', '"zz"'),
      'EINVAL',
      'case.yaml:9:28: hosts[0].interfaces[0].mac: "zz" is not a MAC address like "02:00:00:00:00:01"',
    ],
    [
      'missing MAC',
      BASE.replace('mac: "02:00:00:00:00:01", ', ''),
      'EINVAL',
      'hosts[0].interfaces[0].mac: missing (this field is required)',
    ],
    [
      'unknown segment',
      BASE.replace('segment: lan, addr', 'segment: wan, addr'),
      'EINVAL',
      'hosts[0].interfaces[0].segment: no segment named wan',
    ],
    [
      'address without prefix',
      BASE.replace('[192.0.2.1/24]', '[192.0.2.1]'),
      'EINVAL',
      'hosts[0].interfaces[0].addresses[0]: "192.0.2.1" is not an IPv4 address with a prefix length',
    ],
    [
      'unknown flag',
      BASE.replace('addresses: [192.0.2.1/24] }', 'flags: [arp] }'),
      'EINVAL',
      'hosts[0].interfaces[0].flags[0]: expected one of noarp, staticarp, got "arp"',
    ],
    [
      'unknown sysctl',
      BASE.replace('max_age: 30', 'max_agex: 30'),
      'EINVAL',
      'hosts[0].sysctl.max_agex: unknown sysctl max_agex (known: prune_intvl,',
    ],
    [
      'sysctl out of range',
      BASE.replace('max_age: 30', 'max_age: 0'),
      'EINVAL',
      'hosts[0].sysctl.max_age: net.link.ether.inet.max_age takes an integer in 1..31536000, got 0',
    ],
    [
      'an address twice',
      BASE.replace('[192.0.2.1/24]', '[192.0.2.1/24, 192.0.2.1/25]'),
      'EINVAL',
      'hosts[0].interfaces[0].addresses[1]: 192.0.2.1 is listed twice',
    ],
    [
      'a route twice',
      BASE.replace(
        'via: 192.0.2.254 }',
        'via: 192.0.2.254 }\n      - { to: 0.0.0.7/0, interface: eth0 }',
      ),
      'EINVAL',
      'hosts[0].routes[1].to: a route to 0.0.0.0/0 is already listed',
    ],
    [
      'route with both',
      BASE.replace('via: 192.0.2.254', 'via: 192.0.2.254, interface: eth0'),
      'EINVAL',
      'hosts[0].routes[0]: a route needs exactly one of via (a gateway) or interface',
    ],
    [
      'route to a missing interface',
      BASE.replace('via: 192.0.2.254', 'interface: eth9'),
      'EINVAL',
      'hosts[0].routes[0].interface: no interface named eth9',
    ],
    [
      'station named like a host',
      BASE.replace('name: probe', 'name: alice'),
      'EINVAL',
      'stations[0].name: alice is already a host or station',
    ],
    [
      'a name with a space',
      BASE.replace('name: probe', 'name: "my probe"'),
      'EINVAL',
      'stations[0].name: "my probe" is not a name',
    ],
    [
      'step without at',
      withStep('note: x').replace('at: 1', 'when: 1'),
      'EINVAL',
      'timeline[0].when: unknown field',
    ],
    [
      'step without action',
      withStep('').replace('    \n', ''),
      'EINVAL',
      'timeline[0]: a step needs one action',
    ],
    [
      'step with two actions',
      withStep('note: x\n    show: {}'),
      'EINVAL',
      'timeline[0]: a step has one action, got show and note',
    ],
    [
      'negative time',
      withStep('note: x').replace('at: 1', 'at: -1'),
      'EINVAL',
      'timeline[0].at: expected a number in 0..31536000, got -1',
    ],
    [
      'time finer than 1 ms',
      withStep('note: x').replace('at: 1', 'at: 1.0005'),
      'EINVAL',
      'timeline[0].at: 1.0005 is finer than a millisecond',
    ],
    [
      'end before the last step',
      `${withStep('note: x')}end: 0.5\n`,
      'EINVAL',
      'end: 0.5 is before the last timeline step (at 1)',
    ],
    [
      'ping from nobody',
      withStep('ping: { from: bob, to: 192.0.2.2 }'),
      'EINVAL',
      'case.yaml:16:19: timeline[0].ping.from: no host named bob (hosts: alice)',
    ],
    [
      'ping to a name',
      withStep('ping: { from: alice, to: bob }'),
      'EINVAL',
      'timeline[0].ping.to: "bob" is not an IPv4 address',
    ],
    [
      'ping count 0',
      withStep('ping: { from: alice, to: 192.0.2.2, count: 0 }'),
      'EINVAL',
      'timeline[0].ping.count: expected a number in 1..10000, got 0',
    ],
    [
      'inject from a host',
      withStep('inject: { from: alice, hex: "00" }'),
      'EINVAL',
      'timeline[0].inject.from: no station named alice (stations: probe)',
    ],
    [
      'inject both',
      withStep('inject: { from: probe, hex: "00", frame: {} }'),
      'EINVAL',
      'timeline[0].inject: give exactly one of frame',
    ],
    [
      'odd hex',
      withStep('inject: { from: probe, hex: "fff" }'),
      'EINVAL',
      'timeline[0].inject.hex: expected pairs of hex digits',
    ],
    [
      'bad op',
      withStep('inject: { from: probe, frame: { op: ask, spa: 192.0.2.9, tpa: 192.0.2.1 } }'),
      'EINVAL',
      'timeline[0].inject.frame.op: expected request, reply or a number, got "ask"',
    ],
    [
      'no sender MAC',
      withStep('inject: { from: probe, frame: { op: 1, spa: 192.0.2.9, tpa: 192.0.2.1 } }').replace(
        ', mac: "02:00:00:00:00:99"',
        '',
      ),
      'EINVAL',
      'timeline[0].inject.frame.sha: give sha, or a mac to station probe',
    ],
    [
      'arp words',
      withStep('arp: { host: alice, command: "-x" }'),
      'EINVAL',
      'timeline[0].arp.command: expected -s, -S, -d or -a',
    ],
    [
      'arp bad MAC',
      withStep('arp: { host: alice, command: "-s 192.0.2.9 zz" }'),
      'EINVAL',
      "timeline[0].arp.command: invalid Ethernet address 'zz'",
    ],
    [
      'address on a missing interface',
      withStep('address: { host: alice, interface: eth1, add: 192.0.2.7/24 }'),
      'EINVAL',
      'timeline[0].address.interface: alice has no interface eth1',
    ],
    [
      'address add and remove',
      withStep('address: { host: alice, interface: eth0, add: 192.0.2.7/24, remove: 192.0.2.7 }'),
      'EINVAL',
      'timeline[0].address: give exactly one of add',
    ],
    [
      'link up as text',
      withStep('link: { host: alice, interface: eth0, up: "yes" }'),
      'EINVAL',
      'timeline[0].link.up: expected true or false, got "yes"',
    ],
    [
      'sysctl value',
      withStep('sysctl: { host: alice, name: proxyall, value: 2 }'),
      'EINVAL',
      'timeline[0].sysctl.value: net.link.ether.inet.proxyall takes an integer in 0..1, got 2',
    ],
    [
      'carp on an Ethernet interface',
      withStep('carp: { host: alice, interface: eth0, state: master }'),
      'EINVAL',
      'timeline[0].carp.interface: eth0 is not a CARP interface',
    ],
    [
      'route remove with via',
      withStep('route: { host: alice, remove: 0.0.0.0/0, via: 192.0.2.1 }'),
      'EINVAL',
      'timeline[0].route: a route is removed by its prefix alone',
    ],
    [
      'note not text',
      withStep('note: [1]'),
      'EINVAL',
      'timeline[0].note: expected a non-empty string, got a list',
    ],
  ];
  for (const [what, text, code, message] of cases) {
    it(what, () => {
      const error = errorOf(text);
      assert.equal(error.code, code);
      assert.ok(
        error.message.includes(message),
        `message ${JSON.stringify(error.message)} lacks ${JSON.stringify(message)}`,
      );
      assert.ok(!error.message.includes('\n'), 'one line');
    });
  }

  const interfaceCases: [string, string, string][] = [
    [
      'a bridge declared after its member',
      '- { name: eth0, mac: "02:00:00:00:00:01", segment: lan, bridge: br0 }\n      - { name: br0, kind: bridge, mac: "02:00:00:00:00:02" }',
      'interfaces[0].bridge: br0 must be a bridge interface declared before eth0',
    ],
    [
      'a CARP parent that is a bridge',
      '- { name: br0, kind: bridge, mac: "02:00:00:00:00:02" }\n      - { name: carp0, carp: { parent: br0, vhid: 1 } }',
      'interfaces[1].carp.parent: br0 must be an Ethernet interface declared before carp0',
    ],
    [
      'a CARP interface with a MAC',
      '- { name: eth0, mac: "02:00:00:00:00:01" }\n      - { name: carp0, mac: "02:00:00:00:00:02", carp: { parent: eth0, vhid: 1 } }',
      'interfaces[1].mac: a CARP interface has the virtual MAC',
    ],
    [
      'a vhid of 0',
      '- { name: eth0, mac: "02:00:00:00:00:01" }\n      - { name: carp0, carp: { parent: eth0, vhid: 0 } }',
      'interfaces[1].carp.vhid: expected a number in 1..255, got 0',
    ],
    [
      'a bridge on a segment',
      '- { name: br0, kind: bridge, mac: "02:00:00:00:00:02", segment: lan }',
      'interfaces[0].segment: a bridge interface is not plugged into a segment',
    ],
    [
      'two interfaces on one segment',
      '- { name: eth0, mac: "02:00:00:00:00:01", segment: lan }\n      - { name: eth1, mac: "02:00:00:00:00:02", segment: lan }',
      'interfaces[1].segment: h already has an interface on lan',
    ],
    [
      'an interface twice',
      '- { name: eth0, mac: "02:00:00:00:00:01" }\n      - { name: eth0, mac: "02:00:00:00:00:02" }',
      'interfaces[1].name: h already has an interface eth0',
    ],
  ];
  for (const [what, interfaces, message] of interfaceCases) {
    it(what, () => {
      const error = errorOf(
        `segments: [{ name: lan }]\nhosts:\n  - name: h\n    interfaces:\n      ${interfaces}\n`,
      );
      assert.ok(error.message.includes(message), error.message);
    });
  }

  it('reports a missing or unreadable file with EIO', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netarp-scenario-'));
    assert.throws(
      () => loadScenarioFile(join(dir, 'none.yaml')),
      (error: unknown) => {
        assert.ok(error instanceof ScenarioError);
        assert.equal(error.code, 'EIO');
        assert.equal(error.message, `${join(dir, 'none.yaml')}: no such file`);
        return true;
      },
    );
    assert.throws(() => loadScenarioFile(dir), /is a directory/);
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, 'segments: [{ name: lan }]\n');
    assert.equal(loadScenarioFile(file).segments.length, 1);
    rmSync(dir, { recursive: true });
  });
});

describe('parseArpCommand', () => {
  it('reads the arp(8) forms', () => {
    const ip = parseIpv4('192.0.2.9');
    assert.deepEqual(parseArpCommand(['-S', '192.0.2.9', '02:00:00:00:00:09']), {
      kind: 'set',
      spec: { ip, mac: 0x02_00_00_00_00_09, replace: true },
    });
    assert.deepEqual(parseArpCommand(['-d', '192.0.2.9']), { kind: 'delete', ip, pub: false });
    assert.deepEqual(parseArpCommand(['-d', '192.0.2.9', 'pub']), {
      kind: 'delete',
      ip,
      pub: true,
    });
    assert.deepEqual(parseArpCommand(['-d', '-a']), { kind: 'flush' });
    assert.deepEqual(parseArpCommand(['-a', '-d']), { kind: 'flush' });
    assert.deepEqual(parseArpCommand(['-a']), { kind: 'list' });
  });

  it('says what is wrong', () => {
    assert.equal(parseArpCommand(['-d']), 'expected: -d host [pub] or -d -a');
    assert.equal(parseArpCommand(['-d', 'host']), 'host: not an IPv4 address');
    assert.match(String(parseArpCommand(['-d', '192.0.2.9', 'only'])), /only 'pub' may follow/);
    assert.equal(parseArpCommand(['-a', 'x']), "unexpected 'x' after -a");
    assert.equal(
      parseArpCommand(['-s', '192.0.2.9']),
      'expected: host ether_addr [temp] [pub [only]]',
    );
  });
});
