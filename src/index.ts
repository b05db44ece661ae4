/** netarp: the pure ARP engine, the wire codecs and the simulator. */
export * from './core/index.ts';
export * from './sim/world.ts';
