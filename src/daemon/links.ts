/**
 * Opens the link a config names for an interface, optionally tee'd to a pcap file. One switch
 * over the link types: `vxlan` is here today; `tap` and `packet` fail with a clear message
 * until their drivers land, and plug in as one more case each.
 */
import type { Link } from '../link/link.ts';
import { PcapTee, type TimestampSource } from '../link/pcap-tee.ts';
import { VxlanLink } from '../link/vxlan.ts';
import type { LinkSpec } from './config.ts';

/** An open link and how to read its counters. */
export interface OpenedLink {
  /** What the runner sends on and receives from: the tee when captured, else the driver. */
  readonly link: Link;
  readonly type: LinkSpec['type'];
  /** The driver's counters. */
  counters(): Record<string, number>;
  /** The capture's counters, when tee'd. */
  pcapCounters(): Record<string, number> | undefined;
}

/** What a link opener is told besides the spec. */
export interface OpenLinkOptions {
  /** The interface the link is for (names the link in logs). */
  ifName: string;
  /** The capture file, when the interface has one. */
  pcap: string | undefined;
  /** Where capture timestamps come from (the runtime clock). */
  clock: TimestampSource;
}

/** Opens links; the daemon's default is `openLink`, tests pass one over memory links. */
export type LinkOpener = (spec: LinkSpec, options: OpenLinkOptions) => Promise<OpenedLink>;

/** A link type this build cannot open yet. */
export class LinkUnavailableError extends Error {
  /** Machine-readable: the operation is not supported. */
  readonly code = 'ENOTSUP';

  constructor(readonly type: string) {
    super(`link type '${type}' is not available yet`);
    this.name = 'LinkUnavailableError';
  }
}

/** Opens the driver a spec names. */
async function openDriver(
  spec: LinkSpec,
): Promise<{ link: Link; counters: () => Record<string, number> }> {
  switch (spec.type) {
    case 'vxlan': {
      const link = await VxlanLink.open({
        vni: spec.vni,
        local: { address: spec.local.address, port: spec.local.port },
        remotes: spec.remotes.map((r) => ({ address: r.address, port: r.port })),
      });
      return { link, counters: () => ({ ...link.stats() }) };
    }
    case 'tap':
    case 'packet':
      throw new LinkUnavailableError(spec.type);
  }
}

/** Opens the link for `spec`, wrapped in a pcap tee when `options.pcap` is set. */
export const openLink: LinkOpener = async (spec, options) => {
  const driver = await openDriver(spec);
  if (options.pcap === undefined) {
    return {
      link: driver.link,
      type: spec.type,
      counters: driver.counters,
      pcapCounters: () => undefined,
    };
  }
  let tee: PcapTee;
  try {
    tee = PcapTee.open(driver.link, options.pcap, options.clock);
  } catch (error) {
    // The capture cannot be written: the link is useless to this config, close it again.
    await driver.link.close();
    throw error;
  }
  return {
    link: tee,
    type: spec.type,
    counters: driver.counters,
    pcapCounters: () => ({ ...tee.stats() }),
  };
};
