import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from './command.ts';
import { interfaceLines, parseInterfacesArgs } from './interfaces.ts';

describe('parseInterfacesArgs', () => {
  it('takes --json and --socket, nothing else', () => {
    assert.deepEqual(parseInterfacesArgs(['--json']), { kind: 'run', json: true });
    assert.deepEqual(parseInterfacesArgs(['--socket', '/s']), {
      kind: 'run',
      json: false,
      socket: '/s',
    });
    assert.throws(
      () => parseInterfacesArgs(['vx0']),
      (error: unknown) =>
        error instanceof UsageError && error.message === "interfaces: unexpected argument 'vx0'",
    );
  });
});

describe('interfaceLines', () => {
  it('shows an Ethernet interface with its link and capture', () => {
    assert.deepEqual(
      interfaceLines({
        name: 'vx0',
        kind: 'ether',
        mac: '02:00:00:00:00:02',
        up: true,
        flags: ['staticarp'],
        addresses: ['192.0.2.2/24', '192.0.2.3/24'],
        link: { type: 'vxlan', name: 'vxlan 127.0.0.1:4789 vni 42', io: 'native' },
        pcap: 'vx0.pcap',
        bridge: 'br0',
      }),
      [
        'vx0: flags=<UP,STATICARP> kind ether',
        '\tether 02:00:00:00:00:02',
        '\tinet 192.0.2.2/24',
        '\tinet 192.0.2.3/24',
        '\tmember of br0',
        '\tlink: vxlan 127.0.0.1:4789 vni 42 (io native)',
        '\tpcap: vx0.pcap',
      ],
    );
  });

  it('shows why the daemon holds an interface down', () => {
    const lines = interfaceLines({
      name: 'tap0',
      kind: 'ether',
      mac: '02:00:00:00:00:03',
      up: false,
      flags: ['evict_nocarrier', 'no-carrier'],
      addresses: ['203.0.113.3/24'],
      fault: 'tap tap0: the device tap0 is gone (deleted?); reopened when tap0 exists again',
    });
    assert.deepEqual(lines, [
      'tap0: flags=<DOWN,EVICT_NOCARRIER,NO-CARRIER> kind ether',
      '\tether 02:00:00:00:00:03',
      '\tinet 203.0.113.3/24',
      '\tfault: tap tap0: the device tap0 is gone (deleted?); reopened when tap0 exists again',
    ]);
  });

  it('shows a CARP interface that is down', () => {
    assert.deepEqual(
      interfaceLines({
        name: 'carp0',
        kind: 'carp',
        mac: '00:00:5e:00:01:07',
        up: false,
        flags: [],
        addresses: [],
        carp: { parent: 'vx0', vhid: 7, state: 'backup' },
      }),
      [
        'carp0: flags=<DOWN> kind carp',
        '\tether 00:00:5e:00:01:07',
        '\tcarp: BACKUP vhid 7 parent vx0',
      ],
    );
  });
});
