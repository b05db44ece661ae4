/**
 * Counters. The first group is FreeBSD's struct arpstat (netinet/if_ether.h); the rest are
 * one counter per reason an input frame, an entry or a held packet is dropped, so that no
 * drop is silent.
 */

/** All counters, each a plain integer. */
export interface ArpStats {
  // --- FreeBSD arpstat ---
  /** ARP requests sent (resolution and refresh). */
  txrequests: number;
  /** ARP replies sent (for us, published, proxied, defending). */
  txreplies: number;
  /** Gratuitous ARP announcements sent. */
  txannounces: number;
  /** ARP requests received. */
  rxrequests: number;
  /** ARP replies received. */
  rxreplies: number;
  /** ARP frames received in all. */
  received: number;
  /** Held packets dropped: replaced by a newer one, or freed with their entry. */
  dropped: number;
  /** Entries freed by the prune pass because they expired. */
  timeouts: number;
  /** Frames from another station using one of our addresses. */
  dupips: number;
  // --- netarp: one counter per drop reason on input ---
  /** Not addressed to us at the Ethernet layer (unicast to another MAC). */
  rxNotForUs: number;
  /** Not an ARP EtherType (the engine only takes ARP frames). */
  rxNotArp: number;
  /** Received on an IFF_NOARP interface (ether_demux discards ARP there). */
  rxNoArp: number;
  /** Shorter than an Ethernet header. */
  rxRuntEthernet: number;
  /** Shorter than the fixed ARP header (arpintr's first runt check). */
  rxRuntHeader: number;
  /** Hardware type neither Ethernet (1) nor IEEE 802 (6). */
  rxUnknownHardware: number;
  /** Shorter than its own hln/pln say (arpintr's second runt check). */
  rxRuntAddresses: number;
  /** Protocol other than IPv4. */
  rxNotIpv4: number;
  /** Shorter than an Ethernet/IPv4 ARP packet (in_arpinput's runt check). */
  rxRuntInet: number;
  /** Protocol address length other than 4. */
  rxBadProtocolLength: number;
  /** No IPv4 address on the receiving interface to match against. */
  rxNoAddress: number;
  /** Our own frame looped back. */
  rxFromMe: number;
  /** Sender hardware address is broadcast. */
  rxBroadcastSender: number;
  /** restricted_match: not targeted at one of our addresses. */
  rxRestricted: number;
  /** The copy of a CARP master's request received on the CARP parent. */
  rxCarpParentCopy: number;
  /** Arrived on another interface than the entry's, outside a bridge. */
  rxWrongInterface: number;
  /** Would have changed a permanent entry. */
  rxPermanentModify: number;
  /** Hardware address length differs from the interface's. */
  rxAddressLength: number;
  /** A request for an address we neither own, publish nor proxy. */
  rxNotOurs: number;
  /** A request we cannot answer because hln is not 6. */
  rxUnanswerableLength: number;
  /** Received on an interface that is down or unknown. */
  rxInterfaceDown: number;
  // --- netarp: resolution ---
  /** Sends refused because the entry is down (EHOSTDOWN/EHOSTUNREACH). */
  resolveHostDown: number;
  /** Sends refused for lack of a route or an on-link next hop. */
  resolveUnreachable: number;
  /** Sends refused because the interface does not ARP (NOARP/STATICARP). */
  resolveNoArp: number;
  /** Entries declared down after maxtries requests (RTF_REJECT set). */
  hostDown: number;
  // --- netarp: limits (each also counted in `dropped` when it drops held packets) ---
  /** Dynamic entries evicted to stay within max_entries (least recently used first). */
  evicted: number;
  /** Unresolved entries evicted to stay within max_incomplete (oldest first). */
  evictedIncomplete: number;
  /** Entries the network would have created, refused: nothing it may evict was left. */
  tableFull: number;
  /** Requests not sent because of max_requests_per_sec. */
  txRateLimited: number;
  /** Held packets dropped to stay within maxhold_bytes. */
  holdBytesDropped: number;
  /** Held packets dropped after waiting hold_timeout seconds. */
  holdTimeouts: number;
  /** Log lines suppressed by log_ratelimit. */
  logSuppressed: number;
  // --- netarp: spoofing defences and odd senders ---
  /** RFC 5227 probes (sender IP 0.0.0.0): answered when they target us, never learned. */
  rxProbes: number;
  /** Sender hardware address is multicast (RFC 1812 section 3.3.2: never believed). */
  rxMulticastSender: number;
  /** Sender IP address is limited broadcast or multicast (RFC 1122 section 3.2.1.3). */
  rxBadSenderIp: number;
  /** A different MAC for an entry within locktime of its last change, ignored. */
  rxLocked: number;
  /** Unsolicited ARP ignored because accept is 1. */
  rxUnsolicited: number;
  /** Unsolicited ARP from outside the receiving interface's subnets, ignored (accept 2). */
  rxOffSubnet: number;
  /** arpwatch: addresses heard for the first time (or again after being forgotten). */
  watchNewStations: number;
  /** arpwatch: addresses heard with a new MAC. */
  watchChanges: number;
  /** arpwatch: addresses heard going back to their previous MAC. */
  watchFlipFlops: number;
}

/** A zeroed counter set. */
export function makeStats(): ArpStats {
  return {
    txrequests: 0,
    txreplies: 0,
    txannounces: 0,
    rxrequests: 0,
    rxreplies: 0,
    received: 0,
    dropped: 0,
    timeouts: 0,
    dupips: 0,
    rxNotForUs: 0,
    rxNotArp: 0,
    rxNoArp: 0,
    rxRuntEthernet: 0,
    rxRuntHeader: 0,
    rxUnknownHardware: 0,
    rxRuntAddresses: 0,
    rxNotIpv4: 0,
    rxRuntInet: 0,
    rxBadProtocolLength: 0,
    rxNoAddress: 0,
    rxFromMe: 0,
    rxBroadcastSender: 0,
    rxRestricted: 0,
    rxCarpParentCopy: 0,
    rxWrongInterface: 0,
    rxPermanentModify: 0,
    rxAddressLength: 0,
    rxNotOurs: 0,
    rxUnanswerableLength: 0,
    rxInterfaceDown: 0,
    resolveHostDown: 0,
    resolveUnreachable: 0,
    resolveNoArp: 0,
    hostDown: 0,
    evicted: 0,
    evictedIncomplete: 0,
    tableFull: 0,
    txRateLimited: 0,
    holdBytesDropped: 0,
    holdTimeouts: 0,
    logSuppressed: 0,
    rxProbes: 0,
    rxMulticastSender: 0,
    rxBadSenderIp: 0,
    rxLocked: 0,
    rxUnsolicited: 0,
    rxOffSubnet: 0,
    watchNewStations: 0,
    watchChanges: 0,
    watchFlipFlops: 0,
  };
}
