/**
 * Gratuitous ARP: arp_gratuitous and arp_ifaddr. When an address is added to an interface that
 * is up, a request with SPA = TPA = the address tells the segment (RFC 5227 section 3 calls it
 * an ARP Announcement) and updates caches that hold the address. CARP interfaces announce
 * themselves, and a CARP parent stays quiet "to avoid unnecessary confusion" (l.1239).
 */
import { IPV4_ANY, type Ipv4 } from '../wire/addr.ts';
import type { Interface } from './iface.ts';
import type { EngineState } from './state.ts';

/** Announces `address` on `iface` if the seed would (arp_ifaddr's rules). */
export function announceAddress(state: EngineState, iface: Interface, address: Ipv4): void {
  if (!iface.up || address === IPV4_ANY) return;
  if (iface.kind === 'carp' || iface.carpChildren.length > 0) return;
  state.sendRequest(iface, address, address);
}
