/** The pure ARP engine and its types. */
export * from './admin.ts';
export * from './config.ts';
export * from './engine.ts';
export * from './entry.ts';
export * from './errors.ts';
export * from './events.ts';
export * from './iface.ts';
export * from './output.ts';
export { MutableResolveResult, type ResolveFailure, type ResolveResult } from './resolve.ts';
export * from './route.ts';
export * from './stats.ts';
