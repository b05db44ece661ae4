/**
 * The route lookups the send path makes (route.ts), against their definitions: the longest
 * connected prefix covering an address (the first one on a tie), in_broadcast over an
 * interface's addresses (`isSubnetBroadcast`), and the source address of our requests (the
 * interface address covering the next hop, else the interface's first), for random sets of
 * overlapping addresses, those above 2^31 included.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type Ipv4, readIpv4 } from '../wire/addr.ts';
import { Engine } from './engine.ts';
import { covers, InterfaceTable, isSubnetBroadcast } from './iface.ts';
import { RouteTable } from './route.ts';

/** Addresses drawn from a few networks so that prefixes overlap and addresses repeat. */
const addressArbitrary: fc.Arbitrary<Ipv4> = fc
  .tuple(
    fc.constantFrom(0x0a_00_00_00, 0xc0_a8_00_00, 0xc0_00_02_00, 0xff_ff_ff_00),
    fc.integer({ min: 0, max: 0x3ff }),
  )
  .map(([base, low]) => (base + low) >>> 0);

const interfacesArbitrary = fc.array(
  fc.array(
    fc.record({ address: addressArbitrary, prefixLength: fc.integer({ min: 8, max: 32 }) }),
    {
      minLength: 1,
      maxLength: 4,
    },
  ),
  { minLength: 1, maxLength: 3 },
);

/** Builds the interfaces (eth0, eth1, ...) with their addresses, duplicates skipped. */
function build(specs: readonly { address: Ipv4; prefixLength: number }[][]): InterfaceTable {
  const interfaces = new InterfaceTable();
  specs.forEach((addresses, i) => {
    const iface = interfaces.add({ name: `eth${i}`, mac: 0x02_00_00_00_00_01 + i });
    for (const { address, prefixLength } of addresses) {
      if (!iface.addresses.some((a) => a.address === address)) {
        interfaces.addAddress(iface, address, prefixLength);
      }
    }
  });
  return interfaces;
}

describe('route lookups', () => {
  it('find the first longest connected prefix, and the broadcast addresses of an interface', () => {
    fc.assert(
      fc.property(
        interfacesArbitrary,
        fc.array(addressArbitrary, { maxLength: 20 }),
        (specs, ips) => {
          const interfaces = build(specs);
          const routes = new RouteTable(interfaces);
          // Besides the random addresses, each subnet's network and broadcast addresses.
          const edges = interfaces
            .all()
            .flatMap((iface) =>
              iface.addresses.flatMap((a) => [
                (a.address & a.mask) >>> 0,
                ((a.address & a.mask) | ~a.mask) >>> 0,
              ]),
            );
          for (const ip of [...ips, ...edges]) {
            // The definition: every address of every interface, in order; strictly longer wins.
            let best: { iface: number; address: Ipv4 } | undefined;
            let bestLength = -1;
            for (const iface of interfaces.all()) {
              for (const a of iface.addresses) {
                if (a.prefixLength > bestLength && covers(a, ip)) {
                  best = { iface: iface.index, address: a.address };
                  bestLength = a.prefixLength;
                }
              }
            }
            const match = routes.lookup(ip);
            assert.deepEqual(
              match?.kind === 'connected'
                ? { iface: match.iface.index, address: match.address.address }
                : undefined,
              best,
            );
            for (const iface of interfaces.all()) {
              assert.equal(
                routes.isBroadcastOn(iface.index, ip),
                iface.addresses.some((a) => isSubnetBroadcast(a, ip)),
              );
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('ask from the interface address covering the next hop, else the first one', () => {
    fc.assert(
      fc.property(interfacesArbitrary, addressArbitrary, (specs, destination) => {
        const engine = new Engine();
        const interfaces = build(specs);
        for (const iface of interfaces.all()) {
          engine.addInterface({ name: iface.name, mac: iface.mac });
          for (const a of iface.addresses) {
            engine.addAddress(0, iface.name, { address: a.address, prefixLength: a.prefixLength });
          }
        }
        const { result, outputs } = engine.resolve(1000, destination, new Uint8Array(20));
        if (result.kind !== 'held') return; // ours, a broadcast, or no route: nothing asked
        const iface = interfaces.all()[result.ifIndex]!;
        // The definition: the first covering address of the longest prefix, else the first.
        let source = iface.addresses[0]!;
        for (const a of iface.addresses) {
          if (
            covers(a, destination) &&
            (!covers(source, destination) || a.prefixLength > source.prefixLength)
          ) {
            source = a;
          }
        }
        const requests = outputs.filter((o) => o.kind === 'transmit');
        assert.equal(requests.length, 1);
        const frame = requests[0]!.kind === 'transmit' ? requests[0]!.frame : new Uint8Array(42);
        assert.equal(readIpv4(frame, 28), source.address, 'ar_spa');
        assert.equal(readIpv4(frame, 38), destination, 'ar_tpa');
      }),
      { numRuns: 300 },
    );
  });
});
