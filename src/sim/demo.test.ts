import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEMO_SCENARIO, demoScenario } from './demo.ts';
import { runScenario } from './run.ts';
import { parseScenario } from './scenario.ts';

describe('the demo', () => {
  const lines = runScenario(demoScenario());
  const section = (heading: string): string[] => {
    const start = lines.findIndex((l) => l.startsWith(`# ${heading}`));
    assert.ok(start >= 0, `no section "${heading}"`);
    const end = lines.findIndex((l, i) => i > start && (l.startsWith('# ') || l.startsWith('==')));
    return lines.slice(start, end < 0 ? undefined : end);
  };
  const has = (part: string[], text: string): boolean => part.some((l) => l.includes(text));

  it('shows a held packet leaving after the reply, and the echo reply coming back', () => {
    const part = section('resolution with a held packet');
    const held = part.findIndex((l) => /alice +send 192\.0\.2\.2 -> held/.test(l));
    const reply = part.findIndex((l) => l.includes('Reply 192.0.2.2 is-at 02:00:00:00:00:02'));
    const echo = part.findIndex((l) => l.includes('ICMP echo request, id 1, seq 1'));
    const back = part.findIndex((l) =>
      l.includes('alice   recv eth0 ICMP echo reply from 192.0.2.2'),
    );
    assert.ok(held >= 0 && held < reply && reply < echo && echo < back, part.join('\n'));
  });

  it('shows proxy ARP by proxyall and by a published entry', () => {
    assert.ok(
      has(section('proxy ARP: the router answers'), 'Reply 198.51.100.4 is-at 02:00:00:00:00:fe'),
    );
    const pub = section('proxy ARP: a published entry');
    assert.ok(has(pub, 'Announcement 192.0.2.99'));
    assert.ok(has(pub, 'Reply 192.0.2.99 is-at 02:00:00:00:00:99'));
  });

  it('shows a conflict logged and defended', () => {
    const part = section('a conflict');
    assert.ok(
      has(part, 'carol   log err: arp: 02:00:00:00:00:66 is using my IP address 192.0.2.3!'),
    );
    assert.ok(has(part, '02:00:00:00:00:03 > 02:00:00:00:00:66, ARP, Reply'));
  });

  it('shows a MAC move', () => {
    assert.ok(
      has(
        section('a MAC move'),
        'log info: arp: 192.0.2.2 moved from 02:00:00:00:00:02 to 02:00:00:00:00:22 on eth0',
      ),
    );
  });

  it('shows maxtries requests, then the host down', () => {
    const part = section('a host that never answers');
    assert.equal(part.filter((l) => l.includes('Request who-has 192.0.2.77')).length, 5);
    assert.ok(has(part, 'route miss eth0 192.0.2.77 (incomplete) maxtries'));
    assert.ok(has(part, 'send 192.0.2.77 -> failed: host is down'));
  });

  it('shows expiry within a minute of virtual time, then every final table', () => {
    assert.ok(has(lines, 'route delete eth0 192.0.2.2 02:00:00:00:00:22 expired'));
    assert.equal(demoScenario().endMs, 45_000);
    assert.deepEqual(
      lines.filter((l) => l.startsWith('==') && l.endsWith('45.000')).map((l) => l.split(':')[0]),
      ['== alice', '== bob', '== carol', '== router', '== dave'],
    );
  });

  it('prints the scenario it runs, which parses back to the same', () => {
    assert.deepEqual(parseScenario(DEMO_SCENARIO), demoScenario());
  });
});
