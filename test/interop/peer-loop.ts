/**
 * What every interop peer program shares (peer-node.ts on VXLAN, peer-native.ts on TAP or
 * AF_PACKET): the options besides the link's, the runtime on the link (tee'd to a capture
 * when asked) reporting every event and error on stdout, and the commands the suites send.
 * The programs differ only in how they open their link and what they say about it.
 */
import type { Link } from '../../src/link/link.ts';
import { PcapTee } from '../../src/link/pcap-tee.ts';
import { SystemClock } from '../../src/runtime/clock.ts';
import {
  type PeerRuntime,
  print,
  servePeerCommands,
  startPeerRuntime,
} from '../support/peer-runtime.ts';

/** What the test writes to the peer, one JSON object a line. */
export type PeerCommand =
  | {
      id: number;
      cmd: 'ping';
      destination: string;
      count?: number;
      timeoutMs?: number;
      intervalMs?: number;
    }
  | { id: number; cmd: 'state' }
  | { id: number; cmd: 'close' };

/** The options (node:util parseArgs) every interop peer takes besides its link's. */
export const PEER_OPTIONS = {
  /** The interface's MAC address. */
  mac: { type: 'string' },
  /** Its addresses, CIDR text; one or more. */
  address: { type: 'string', multiple: true },
  /** Tee the link to this pcap file. */
  pcap: { type: 'string' },
  /** Engine settings, `name=value`. */
  sysctl: { type: 'string', multiple: true },
} as const;

/** The values of PEER_OPTIONS, the required ones checked. */
export interface PeerValues {
  readonly mac: string;
  readonly address: readonly string[];
  readonly pcap?: string | undefined;
  readonly sysctl?: readonly string[] | undefined;
}

/** A link with counters, which the state command reports. */
export interface CountedLink extends Link {
  stats(): object;
}

/** An interop peer's runtime on its link, and the capture tee when there is one. */
export interface InteropPeer<L> extends PeerRuntime {
  /** The link as opened, before any tee. */
  readonly device: L;
  /** The link the interface is attached to: the tee when there is one, else the device. */
  readonly link: Link;
  readonly tee: PcapTee | undefined;
}

/**
 * Builds the runtime of an interop peer with one interface `ifName` on `device` (tee'd to
 * --pcap when asked): every runtime event and error is printed, then the addresses are added.
 */
export function startInteropPeer<L extends CountedLink>(
  ifName: string,
  values: PeerValues,
  device: L,
): InteropPeer<L> {
  const clock = new SystemClock();
  const tee = values.pcap === undefined ? undefined : PcapTee.open(device, values.pcap, clock);
  const link = tee ?? device;
  const runtime = startPeerRuntime({
    ifName,
    mac: values.mac,
    link,
    clock,
    config: sysctlConfig(values.sysctl ?? []),
    addresses: values.address,
    onEvent: (event) => print({ type: 'event', event }),
    onError: (error) => print({ type: 'error', message: error.message }),
  });
  return { ...runtime, device, link, tee };
}

/** Engine settings from `name=value` texts. */
function sysctlConfig(settings: readonly string[]): Record<string, number> {
  const config: Record<string, number> = {};
  for (const setting of settings) {
    const at = setting.indexOf('=');
    const value = Number(setting.slice(at + 1));
    if (at <= 0 || setting.slice(at + 1) === '' || !Number.isFinite(value)) {
      throw new Error(`--sysctl wants name=number, got ${JSON.stringify(setting)}`);
    }
    config[setting.slice(0, at)] = value;
  }
  return config;
}

/**
 * Answers the suites' commands (PeerCommand) until close or the end of stdin. `state`
 * reports the entries and every counter, link and capture included, with what `more` adds.
 */
export function serveInteropPeer<L extends CountedLink>(
  peer: InteropPeer<L>,
  more: () => object = () => ({}),
): void {
  const { engine, runner, host, device, tee } = peer;
  servePeerCommands<PeerCommand>(peer, {
    ping: async ({ destination, count, timeoutMs, intervalMs }) => ({
      ping: await host.ping(destination, {
        ...(count === undefined ? {} : { count }),
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        ...(intervalMs === undefined ? {} : { intervalMs }),
      }),
    }),
    state: () => ({
      state: {
        entries: engine.listEntries(runner.now()),
        engine: engine.stats(),
        runner: runner.stats(),
        host: host.stats(),
        link: device.stats(),
        ...more(),
        pcap: tee?.stats(),
      },
    }),
  });
}
