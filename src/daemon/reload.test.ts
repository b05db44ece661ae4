import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCidr } from '../wire/addr.ts';
import { ConfigError, type DaemonConfig, type InterfaceConfig, parseConfig } from './config.ts';
import { isEmptyPlan, planReload, type ReloadPlan } from './reload.ts';

const FILE = '/etc/netarp.toml';

/** Parses a config as the daemon would. */
function config(text: string): DaemonConfig {
  return parseConfig(text, FILE);
}

const iface = (name: string, mac: string, addresses: string[], extra = '', port = 4789) =>
  `[[interface]]\nname = "${name}"\nmac = "${mac}"\naddresses = ${JSON.stringify(addresses)}\n` +
  `link = { type = "vxlan", local = "198.18.0.1:${port}", remote = ["198.18.0.2"], vni = 42 }\n${extra}\n`;

const BASE =
  '[sysctl]\n"net.link.ether.inet.max_age" = 60\n"net.link.ether.inet.maxtries" = 3\n' +
  iface('vx0', '02:00:00:00:00:02', ['192.0.2.2/24']) +
  iface('vx1', '02:00:00:00:00:03', ['198.51.100.2/24'], '', 4790) +
  '[[route]]\nto = "10.0.0.0/8"\nvia = "192.0.2.1"\n';

/** The plan reduced to names and text, to compare with deepEqual. */
function summary(plan: ReloadPlan): Record<string, unknown> {
  const names = (list: readonly InterfaceConfig[]) => list.map((i) => i.name);
  const addresses = (list: ReloadPlan['addressesAdded']) =>
    list.map((a) => `${formatCidr(a.cidr)} on ${a.ifName}`);
  return {
    sysctlSet: plan.sysctlSet.map(([k, v]) => `${k}=${v}`),
    sysctlReset: plan.sysctlReset,
    routesRemoved: plan.routesRemoved.map((r) => formatCidr(r.to)),
    removed: plan.removed,
    added: names(plan.added),
    revived: names(plan.revived),
    relinked: names(plan.relinked),
    reflagged: names(plan.reflagged),
    recarped: names(plan.recarped),
    remacked: names(plan.remacked),
    addressesRemoved: addresses(plan.addressesRemoved),
    addressesAdded: addresses(plan.addressesAdded),
    routesAdded: plan.routesAdded.map((r) => formatCidr(r.to)),
  };
}

const NOTHING = {
  sysctlSet: ['max_age=60', 'maxtries=3'],
  sysctlReset: [],
  routesRemoved: [],
  removed: [],
  added: [],
  revived: [],
  relinked: [],
  reflagged: [],
  recarped: [],
  remacked: [],
  addressesRemoved: [],
  addressesAdded: [],
  routesAdded: [],
};

describe('planReload', () => {
  it('plans nothing for the same file', () => {
    const plan = planReload(config(BASE), config(BASE), new Map());
    assert.deepEqual(summary(plan), NOTHING);
    assert.ok(isEmptyPlan(plan));
  });

  it('diffs addresses, interfaces, routes and knobs', () => {
    const next =
      '[sysctl]\n"net.link.ether.inet.max_age" = 30\n' +
      iface('vx0', '02:00:00:00:00:02', ['192.0.2.2/24', '192.0.2.3/24'], 'flags = ["staticarp"]') +
      iface('vx2', '02:00:00:00:00:04', ['203.0.113.2/24'], '', 4791) +
      '[[route]]\nto = "10.0.0.0/8"\nvia = "192.0.2.254"\n';
    const plan = planReload(config(BASE), config(next), new Map());
    assert.deepEqual(summary(plan), {
      ...NOTHING,
      sysctlSet: ['max_age=30'],
      sysctlReset: ['maxtries'],
      routesRemoved: ['10.0.0.0/8'],
      removed: ['vx1'],
      added: ['vx2'],
      reflagged: ['vx0'],
      addressesAdded: ['192.0.2.3/24 on vx0', '203.0.113.2/24 on vx2'],
      routesAdded: ['10.0.0.0/8'],
    });
    assert.ok(!isEmptyPlan(plan));
  });

  it('removes an address whose prefix changed and adds it back with the new one', () => {
    const next = BASE.replace('192.0.2.2/24', '192.0.2.2/25');
    assert.deepEqual(summary(planReload(config(BASE), config(next), new Map())), {
      ...NOTHING,
      addressesRemoved: ['192.0.2.2/24 on vx0'],
      addressesAdded: ['192.0.2.2/25 on vx0'],
    });
  });

  it('reopens a link whose endpoints or capture changed', () => {
    for (const next of [
      BASE.replace('remote = ["198.18.0.2"]', 'remote = ["198.18.0.9"]'),
      BASE.replace('vni = 42', 'vni = 43'),
      BASE.replace(
        'addresses = ["192.0.2.2/24"]\n',
        'addresses = ["192.0.2.2/24"]\npcap = "vx0.pcap"\n',
      ),
    ]) {
      // String.replace changes the first interface only.
      const plan = summary(planReload(config(BASE), config(next), new Map()));
      assert.deepEqual(plan.relinked, ['vx0'], next);
    }
  });

  it('revives an interface an earlier reload removed, if it comes back the same', () => {
    const without = config(iface('vx0', '02:00:00:00:00:02', ['192.0.2.2/24']));
    const ghosts = new Map(
      config(BASE)
        .interfaces.filter((i) => i.name === 'vx1')
        .map((i) => [i.name, i]),
    );
    const plan = planReload(without, config(BASE), ghosts);
    assert.deepEqual(summary(plan).revived, ['vx1']);
    assert.deepEqual(summary(plan).added, []);
    assert.deepEqual(summary(plan).addressesAdded, ['198.51.100.2/24 on vx1']);

    // Back with another MAC: revived, and the engine told of the new MAC.
    const changed = BASE.replace('02:00:00:00:00:03', '02:00:00:00:00:33');
    const remacked = summary(planReload(without, config(changed), ghosts));
    assert.deepEqual(remacked.revived, ['vx1']);
    assert.deepEqual(remacked.remacked, ['vx1']);
  });

  it("changes an interface's MAC in place; an AF_PACKET link is reopened for it", () => {
    const next = BASE.replace('02:00:00:00:00:02', '02:00:00:00:00:22');
    assert.deepEqual(summary(planReload(config(BASE), config(next), new Map())), {
      ...NOTHING,
      remacked: ['vx0'],
    });
    const packet = (mac: string) =>
      `[[interface]]\nname = "eth0"\nmac = "${mac}"\naddresses = ["192.0.2.2/24"]\n` +
      'link = { type = "packet", device = "veth0" }\n';
    const plan = planReload(
      config(packet('02:00:00:00:00:02')),
      config(packet('02:00:00:00:00:22')),
      new Map(),
    );
    assert.deepEqual(summary(plan), {
      ...NOTHING,
      sysctlSet: [],
      relinked: ['eth0'],
      remacked: ['eth0'],
    });
    assert.ok(!isEmptyPlan(plan));
  });

  it('refuses what the engine cannot change in place, naming the key', () => {
    const cases: [string, string, string][] = [
      [
        BASE.replace(
          iface('vx1', '02:00:00:00:00:03', ['198.51.100.2/24'], '', 4790),
          '[[interface]]\nname = "vx1"\nkind = "bridge"\nmac = "02:00:00:00:00:03"\n',
        ),
        'interface[1].kind',
        'vx1 is of kind ether; changing it needs a restart',
      ],
      [
        `state = "/var/lib/other.json"\n${BASE}`,
        'state',
        'the state file is chosen at start (the default); changing it needs a restart',
      ],
    ];
    for (const [next, at, reason] of cases) {
      assert.throws(
        () => planReload(config(BASE), config(next), new Map()),
        (error: unknown) =>
          error instanceof ConfigError && error.location === at && error.reason === reason,
        at,
      );
    }
  });

  it('changes evict_nocarrier in place, as a flag', () => {
    const evicting = BASE.replace(
      iface('vx1', '02:00:00:00:00:03', ['198.51.100.2/24'], '', 4790),
      iface('vx1', '02:00:00:00:00:03', ['198.51.100.2/24'], 'evict_nocarrier = true', 4790),
    );
    assert.deepEqual(summary(planReload(config(BASE), config(evicting), new Map())), {
      ...NOTHING,
      reflagged: ['vx1'],
    });
  });

  it('changes the CARP state in place but not the parent', () => {
    const carp = (state: string, parent = 'vx0') =>
      `${BASE}[[interface]]\nname = "carp0"\ncarp = { parent = "${parent}", vhid = 1, state = "${state}" }\n`;
    const plan = planReload(config(carp('master')), config(carp('backup')), new Map());
    assert.deepEqual(summary(plan).recarped, ['carp0']);
    assert.throws(
      () => planReload(config(carp('master')), config(carp('master', 'vx1')), new Map()),
      {
        message: `${FILE}: interface[2].carp: carp0 is CARP vhid 1 over vx0; changing it needs a restart`,
      },
    );
  });
});
