import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { runScenario } from './run.ts';
import { parseScenario } from './scenario.ts';

const HOSTS = `seed: 1
segments:
  - { name: lan, delayMs: 10 }
hosts:
  - name: alice
    interfaces:
      - { name: eth0, mac: "02:00:00:00:00:01", segment: lan, addresses: [192.0.2.1/24] }
  - name: bob
    interfaces:
      - { name: eth0, mac: "02:00:00:00:00:02", segment: lan, addresses: [192.0.2.2/24] }
  - name: carol
    interfaces:
      - { name: eth0, mac: "02:00:00:00:00:03", segment: lan, addresses: [192.0.2.3/24] }
`;

interface JsonRecord {
  t: number;
  type: string;
  host?: string;
  final?: boolean;
  command?: string;
  error?: string | null;
  summary?: string;
  stats?: Record<string, number>;
  entries?: { ip: string; mac: string | null; state: string; held: number }[];
  event?: { kind: string; type?: string; message?: string };
}

function runJson(text: string): JsonRecord[] {
  return runScenario(parseScenario(text), { json: true }).map((l) => JSON.parse(l) as JsonRecord);
}

describe('runScenario', () => {
  it('plugs every host in before any address, so each hears every announcement', () => {
    const records = runJson(`${HOSTS}timeline:\n  - at: 1\n    stats: { host: alice }\n`);
    const stats = records.find((r) => r.type === 'stats')!.stats!;
    // bob's and carol's announcements reached alice although she was declared first.
    assert.equal(stats.rxrequests, 2);
    assert.equal(stats.txannounces, 1);
  });

  it('runs the world up to each step: a step sees what was delivered before it', () => {
    const records = runJson(`${HOSTS}timeline:
  - at: 1
    ping: { from: alice, to: 192.0.2.2 }
  - at: 1.005
    show: { host: alice }
  - at: 1.025
    show: { host: alice }
end: 1.025
`);
    const tables = records.filter((r) => r.type === 'table' && r.host === 'alice');
    const bob = (i: number) => tables[i]!.entries!.find((e) => e.ip === '192.0.2.2')!;
    // At 1.005 the request is still on the wire (10 ms), the echo held.
    assert.deepEqual([tables[0]!.t, bob(0).state, bob(0).held], [1.005, 'incomplete', 1]);
    // The reply arrived at 1.020: resolved, nothing held any more.
    assert.deepEqual([tables[1]!.t, bob(1).state, bob(1).held], [1.025, 'resolved', 0]);
    assert.equal(bob(1).mac, '02:00:00:00:00:02');
  });

  it('stops at end: what is due later does not happen', () => {
    const records = runJson(`${HOSTS}timeline:
  - at: 1
    ping: { from: alice, to: 192.0.2.2 }
end: 1.015
`);
    const frames = records.filter((r) => r.type === 'frame' && r.t >= 1);
    // The request (1.000) and bob's reply (1.010); the echo would leave at 1.020.
    assert.deepEqual(
      frames.map((f) => [f.t, f.summary!.includes('Reply') ? 'reply' : 'request']),
      [
        [1, 'request'],
        [1.01, 'reply'],
      ],
    );
    assert.ok(records.filter((r) => r.type === 'table').every((r) => r.t === 1.015 && r.final));
  });

  it('traces a refused command with its error and goes on', () => {
    const records = runJson(`${HOSTS}timeline:
  - at: 1
    arp: { host: alice, command: "-d 192.0.2.77" }
  - at: 1
    route: { host: alice, remove: 203.0.113.0/24 }
  - at: 1
    address: { host: alice, interface: eth0, add: 192.0.2.1/24 }
  - at: 1
    arp: { host: alice, command: "-s 192.0.2.77 02:00:00:00:00:77" }
`);
    assert.deepEqual(
      records.filter((r) => r.type === 'admin').map((r) => [r.command, r.error]),
      [
        ['arp -d 192.0.2.77', '192.0.2.77 (192.0.2.77) -- no entry'],
        ['route delete 203.0.113.0/24', 'route 203.0.113.0/24: not in table'],
        ['address add eth0 192.0.2.1/24', 'eth0 already has 192.0.2.1'],
        ['arp -s 192.0.2.77 02:00:00:00:00:77', null],
      ],
    );
    const table = records.find((r) => r.type === 'table' && r.host === 'alice')!;
    assert.ok(table.entries!.some((e) => e.ip === '192.0.2.77' && e.state === 'permanent'));
  });

  it('applies routes: via a gateway the packet waits for the gateway', () => {
    const lines = runScenario(
      parseScenario(`${HOSTS}timeline:
  - at: 1
    route: { host: alice, add: 203.0.113.0/24, via: 192.0.2.3 }
  - at: 1
    ping: { from: alice, to: 203.0.113.9 }
  - at: 2
    route: { host: alice, remove: 203.0.113.0/24 }
  - at: 2
    ping: { from: alice, to: 203.0.113.9 }
`),
    );
    assert.ok(lines.includes('   1.000  alice  route add 203.0.113.0/24 192.0.2.3'));
    assert.ok(lines.includes('   1.000  alice  send 203.0.113.9 -> held for 192.0.2.3'));
    assert.ok(lines.includes('   2.000  alice  route delete 203.0.113.0/24'));
    assert.ok(lines.includes('   2.000  alice  send 203.0.113.9 -> failed: no route to host'));
  });

  it('prints the final tables of every host in file order, in both modes', () => {
    const scenario = parseScenario(HOSTS);
    const text = runScenario(scenario);
    assert.deepEqual(
      text.filter((l) => l.startsWith('==')),
      ['== alice: arp -a at 1.000', '== bob: arp -a at 1.000', '== carol: arp -a at 1.000'],
    );
    assert.equal(text.at(-1), '? (192.0.2.3) at 02:00:00:00:00:03 on eth0 permanent [ethernet]');
    const json = runJson(HOSTS).filter((r) => r.type === 'table');
    assert.deepEqual(
      json.map((r) => [r.host, r.final]),
      [
        ['alice', true],
        ['bob', true],
        ['carol', true],
      ],
    );
  });

  it('says the same in both modes: one JSON line per text record', () => {
    const source = readFileSync(
      new URL('../../examples/replies-and-proxy.yaml', import.meta.url),
      'utf8',
    );
    const scenario = parseScenario(source);
    const text = runScenario(scenario);
    const json = runScenario(scenario, { json: true }).map((l) => JSON.parse(l) as JsonRecord);
    const textRecords = text.filter((l) => /^ {0,3}\d+\.\d{3} {2}/.test(l) || l.startsWith('# '));
    const jsonRecords = json.filter((r) => r.type !== 'table');
    assert.equal(textRecords.length, jsonRecords.length);
    for (const record of json.filter((r) => r.type === 'frame')) {
      assert.ok(
        text.some((l) => l.endsWith(record.summary!)),
        record.summary,
      );
    }
  });

  it('runs the complete example of docs/sim.md', () => {
    const doc = readFileSync(new URL('../../docs/sim.md', import.meta.url), 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(yaml, 'docs/sim.md has a yaml block');
    const scenario = parseScenario(yaml, 'docs/sim.md');
    assert.equal(scenario.endMs, 60_000);
    const lines = runScenario(scenario);
    assert.ok(lines.includes('# alice resolves bob'));
    assert.ok(lines.some((l) => l.includes('arp -s 192.0.2.99 02:00:00:00:00:99 pub')));
  });
});
