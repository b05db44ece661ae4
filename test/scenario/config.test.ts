/**
 * The sysctl knobs (net.link.ether.inet.*): the seed's names and defaults, set by short or
 * full name with immediate effect, validated with errors that name the knob.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine } from '../../src/core/engine.ts';
import { NetarpError } from '../../src/core/errors.ts';
import { A, ip, isAt, makeHost, packet, s, US } from './helpers.ts';

describe('sysctl knobs', () => {
  it('default to the values of if_ether.c', () => {
    assert.deepEqual(new Engine().config(), {
      prune_intvl: 300, // arpt_prune = 5*60
      max_age: 1200, // arpt_keep = 20*60
      host_down_time: 20, // arpt_down
      maxtries: 5, // arp_maxtries
      useloopback: 1,
      proxyall: 0, // arp_proxyall
      restricted_match: 0, // arp_restricted_match
      refresh: 60, // arp_refresh, "not impl yet"
      log_arp_wrong_iface: 1,
      log_arp_movements: 1,
      log_arp_permanent_modify: 1,
      maxhold: 1, // one la_hold mbuf
      // netarp's limits and defences: defaults that leave the seed's behaviour as it was
      // (limits no segment of normal size reaches, or off); see limits.test.ts.
      max_entries: 65_536,
      max_incomplete: 1024,
      max_requests_per_sec: 0,
      maxhold_bytes: 212_992, // Linux unres_qlen_bytes; the newest packet is always kept
      hold_timeout: 0,
      log_ratelimit: 0,
      locktime: 0,
      accept: 0,
      arpwatch: 0,
      arpwatch_window: 0,
      unicast_refresh: 0, // the seed broadcasts its pre-expiry refresh
    });
  });

  it('are listed by their full names', () => {
    const names = new Engine().sysctls().map((k) => k.name);
    assert.ok(names.includes('net.link.ether.inet.max_age'));
    assert.ok(names.includes('net.link.ether.inet.log_arp_wrong_iface'));
    assert.ok(names.every((name) => name.startsWith('net.link.ether.inet.')));
  });

  it('can be set by short or full name, or at construction, and read back', () => {
    const engine = new Engine({ config: { 'net.link.ether.inet.maxtries': 3, proxyall: 1 } });
    assert.equal(engine.getSysctl('maxtries'), 3);
    assert.equal(engine.getSysctl('net.link.ether.inet.proxyall'), 1);
    engine.setSysctl('max_age', 60);
    engine.setSysctl('net.link.ether.inet.host_down_time', 5);
    assert.equal(engine.getSysctl('net.link.ether.inet.max_age'), 60);
    assert.equal(engine.config().host_down_time, 5);
  });

  it('take effect at once', () => {
    const { engine, eth0 } = makeHost();
    engine.setSysctl('net.link.ether.inet.max_age', 60);
    engine.resolve(s(10), ip(A.ip), packet('p'));
    engine.handleFrame(s(10), eth0, isAt(A, US));
    assert.equal(engine.lookup(s(10), A.ip)?.expiresIn, 60);
    engine.setSysctl('maxtries', 1);
    engine.setSysctl('host_down_time', 2);
    const asks = [100, 101, 102, 103, 104].map(
      (at) => engine.resolve(s(at), ip(A.ip), packet('p')).result.kind,
    );
    // Expired at 70: one request at 100, down at 101 until 103, asked again at 103, and
    // down again at 104.
    assert.deepEqual(asks, ['held', 'held', 'failed', 'held', 'held']);
    assert.equal(engine.stats().hostDown, 2);
  });

  it('reject values out of range with EINVAL and a message naming the knob', () => {
    const engine = new Engine();
    const bad: [string, number][] = [
      ['max_age', 0],
      ['maxtries', 1.5],
      ['useloopback', 2],
      ['net.link.ether.inet.log_arp_wrong_iface', 3],
      ['prune_intvl', -1],
      ['maxhold', Number.NaN],
    ];
    for (const [name, value] of bad) {
      const knob = name.replace('net.link.ether.inet.', '');
      assert.throws(
        () => engine.setSysctl(name, value),
        (error: unknown) =>
          error instanceof NetarpError &&
          error.code === 'EINVAL' &&
          error.message.includes(`net.link.ether.inet.${knob}`),
        `${name} = ${value}`,
      );
    }
    assert.deepEqual(engine.config(), new Engine().config(), 'nothing changed');
    assert.throws(
      () => new Engine({ config: { maxtries: 0 } }),
      (error: unknown) => error instanceof NetarpError && error.code === 'EINVAL',
    );
  });

  it('reject unknown names with ENOENT', () => {
    const engine = new Engine();
    for (const name of ['max_ages', 'net.link.ether.inet.nope', 'net.inet.ip.forwarding']) {
      assert.throws(
        () => engine.setSysctl(name, 1),
        (error: unknown) =>
          error instanceof NetarpError && error.code === 'ENOENT' && error.message.includes(name),
      );
      assert.throws(
        () => engine.getSysctl(name),
        (error: unknown) => error instanceof NetarpError && error.code === 'ENOENT',
      );
    }
  });

  it('belong to one engine: two engines with different knobs coexist', () => {
    const eager = new Engine({ config: { maxtries: 1 } });
    const patient = new Engine();
    assert.equal(eager.getSysctl('maxtries'), 1);
    assert.equal(patient.getSysctl('maxtries'), 5);
  });
});
