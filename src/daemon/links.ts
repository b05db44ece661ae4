/**
 * Opens the link a config names for an interface, optionally tee'd to a pcap file: one switch
 * over the link types (`vxlan`, `tap`, `packet`); and probes the device behind a TAP or
 * AF_PACKET link (does it exist, has it carrier), which the daemon does to notice a carrier
 * loss and to reattach a link whose device was deleted once it exists again.
 */
import { readFile } from 'node:fs/promises';
import type { Link } from '../link/link.ts';
import { loadNative } from '../link/native/addon.ts';
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
  /** How the driver moves frames, where it has a choice (VXLAN: "native" or "dgram"). */
  readonly io?: string;
  /** The driver's counters. */
  counters(): Record<string, number>;
  /** The capture's counters, when tee'd. */
  pcapCounters(): Record<string, number> | undefined;
  /**
   * Why the link stopped for good (its device was deleted), or undefined while it works. A
   * link that cannot lose its device (VXLAN, memory) may leave this out.
   */
  gone?(): string | undefined;
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
): Promise<{
  link: Link;
  io?: string;
  counters: () => Record<string, number>;
  gone?: () => string | undefined;
}> {
  switch (spec.type) {
    case 'vxlan': {
      const link = await VxlanLink.open({
        vni: spec.vni,
        local: { address: spec.local.address, port: spec.local.port },
        remotes: spec.remotes.map((r) => ({ address: r.address, port: r.port })),
        io: spec.io,
      });
      return {
        link,
        io: link.io,
        // The counters only: which backend runs (stats().io) is not a number.
        counters: () => {
          const { io: _io, ...counters } = link.stats();
          return counters;
        },
      };
    }
    case 'tap': {
      const link = await TapLink.open({ device: spec.device });
      return { link, counters: () => ({ ...link.stats() }), gone: () => link.gone };
    }
    case 'packet': {
      const link = await PacketLink.open({
        device: spec.device,
        ...(options.mac === undefined ? {} : { unicastMac: options.mac }),
      });
      return { link, counters: () => ({ ...link.stats() }), gone: () => link.gone };
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
      ...(driver.io === undefined ? {} : { io: driver.io }),
      counters: driver.counters,
      pcapCounters: () => undefined,
      ...(driver.gone === undefined ? {} : { gone: driver.gone }),
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
    ...(driver.io === undefined ? {} : { io: driver.io }),
    counters: driver.counters,
    pcapCounters: () => ({ ...tee.stats() }),
    ...(driver.gone === undefined ? {} : { gone: driver.gone }),
  };
};

/**
 * The device behind a link, as the daemon watches it: `absent` (no such interface in this
 * network namespace), `down` (no carrier, or administratively down), `up`, or `unknown`
 * (nothing to watch: a VXLAN link, or a device that does not say).
 */
export type DeviceState = 'up' | 'down' | 'absent' | 'unknown';

/** Probes the device behind a link; the daemon's default is `probeDevice`. */
export type DeviceProbe = (spec: LinkSpec) => Promise<DeviceState>;

/**
 * The kernel's word on a TAP or AF_PACKET link's device: whether it exists (the interface
 * index, in this process's network namespace), and its operational state from
 * /sys/class/net/DEV/operstate (RFC 2863's ifOperStatus: "up", "down", "lowerlayerdown", ...).
 * sysfs shows the namespace it was mounted in: run the daemon where it is its own (`ip netns
 * exec` mounts one for the namespace it enters).
 */
export const probeDevice: DeviceProbe = async (spec) => {
  if (spec.type === 'vxlan') return 'unknown';
  const native = loadNative();
  if (native.kind === 'loaded' && native.addon.interfaceIndex(spec.device) === 0) {
    return 'absent';
  }
  let operstate: string;
  try {
    operstate = (await readFile(`/sys/class/net/${spec.device}/operstate`, 'utf8')).trim();
  } catch {
    return native.kind === 'loaded' ? 'unknown' : 'absent';
  }
  switch (operstate) {
    case 'up':
      return 'up';
    case 'down':
    case 'lowerlayerdown':
    case 'notpresent':
    case 'dormant':
      return 'down';
    default:
      // "unknown" (drivers that do not report carrier) and "testing": nothing to act on.
      return 'unknown';
  }
};
