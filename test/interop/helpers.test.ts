/**
 * The interop skip policy, with the machine's checks faked: what a non-root user, a machine
 * without the tools or without namespaces, and CI (NETARP_REQUIRE_INTEROP=1) each get.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  INTEROP_TOOLS,
  type InteropProbes,
  interopUnavailableReason,
  planSuite,
  REQUIRE_INTEROP_ENV,
} from './helpers.ts';

/** Probes of an imaginary machine; records whether a namespace was tried. */
function fakeMachine(options: { uid?: number; missing?: string[]; netnsError?: string }) {
  const calls = { netns: 0 };
  const probes: InteropProbes = {
    uid: () => options.uid ?? 0,
    findTool: (name) => (options.missing?.includes(name) ? undefined : `/usr/bin/${name}`),
    tryNetns: () => {
      calls.netns++;
      return options.netnsError;
    },
  };
  return { probes, calls };
}

describe('interop skip policy', () => {
  it('needs all five tools', () => {
    assert.deepEqual([...INTEROP_TOOLS], ['ip', 'ping', 'arping', 'arp-scan', 'tcpdump']);
  });

  it('runs as root with every tool and working namespaces', () => {
    const { probes, calls } = fakeMachine({});
    assert.equal(interopUnavailableReason(probes), undefined);
    assert.equal(calls.netns, 1);
    assert.deepEqual(planSuite('s', undefined, { [REQUIRE_INTEROP_ENV]: '1' }), { kind: 'run' });
  });

  it('names every reason: not root and the missing tools (without trying a namespace)', () => {
    const { probes, calls } = fakeMachine({ uid: 1000, missing: ['arping', 'tcpdump'] });
    assert.equal(
      interopUnavailableReason(probes),
      'not running as root (uid 1000); missing arping, tcpdump ' +
        '(Debian: iproute2 iputils-ping iputils-arping arp-scan tcpdump)',
    );
    assert.equal(calls.netns, 0);
  });

  it('reports a failing `ip netns add` with its error', () => {
    const { probes } = fakeMachine({
      netnsError: '`ip netns add` failed: Operation not permitted',
    });
    assert.equal(
      interopUnavailableReason(probes),
      '`ip netns add` failed: Operation not permitted',
    );
  });

  it('skips with a message naming the suite and the reason', () => {
    assert.deepEqual(planSuite('kernel over VXLAN', 'not running as root (uid 1000)', {}), {
      kind: 'skip',
      message:
        'interop suite "kernel over VXLAN" skipped: not running as root (uid 1000) ' +
        '(set NETARP_REQUIRE_INTEROP=1 to fail instead)',
    });
    assert.equal(planSuite('s', 'r', { [REQUIRE_INTEROP_ENV]: '0' }).kind, 'skip');
  });

  it('fails instead under NETARP_REQUIRE_INTEROP=1', () => {
    assert.deepEqual(
      planSuite('kernel over VXLAN', 'missing tcpdump', { [REQUIRE_INTEROP_ENV]: '1' }),
      {
        kind: 'fail',
        message:
          'interop suite "kernel over VXLAN" cannot run and NETARP_REQUIRE_INTEROP=1: missing tcpdump',
      },
    );
  });
});
