/**
 * The public wire API: codecs for the frames netarp reads and writes, each a checked view
 * over bytes plus a parsed Repr, and the helpers to describe and record them.
 */
export * from './addr.ts';
export * from './arp.ts';
export * from './ethernet.ts';
export * from './format.ts';
export * from './icmp.ts';
export * from './ipv4.ts';
export * from './pcap.ts';
export * from './vxlan.ts';
