/**
 * Opens the link a config names for an interface, optionally tee'd to a pcap file: one switch
 * over the link types (`vxlan`, `tap`, `packet`).
 */
import type { Link } from '../link/link.ts';
import { PacketLink } from '../link/packet.ts';
import { PcapTee, type TimestampSource } from '../link/pcap-tee.ts';
import { TapLink } from '../link/tap.ts';
import { VxlanLink } from '../link/vxlan.ts';
import type { Mac } from '../wire/addr.ts';
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
  /** The interface's MAC: an AF_PACKET link asks the device to pass unicast frames for it. */
  mac?: Mac | undefined;
  /** Where capture timestamps come from (the runtime clock). */
  clock: TimestampSource;
}

/** Opens links; the daemon's default is `openLink`, tests pass one over memory links. */
export type LinkOpener = (spec: LinkSpec, options: OpenLinkOptions) => Promise<OpenedLink>;

/** Opens the driver a spec names. */
async function openDriver(
  spec: LinkSpec,
  options: OpenLinkOptions,
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
    case 'tap': {
      const link = await TapLink.open({ device: spec.device });
      return { link, counters: () => ({ ...link.stats() }) };
    }
    case 'packet': {
      const link = await PacketLink.open({
        device: spec.device,
        ...(options.mac === undefined ? {} : { unicastMac: options.mac }),
      });
      return { link, counters: () => ({ ...link.stats() }) };
    }
  }
}

/** Opens the link for `spec`, wrapped in a pcap tee when `options.pcap` is set. */
export const openLink: LinkOpener = async (spec, options) => {
  const driver = await openDriver(spec, options);
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
