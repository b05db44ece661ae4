/**
 * The wire benchmark's network: two namespaces joined by a veth pair, built and deleted by
 * the benchmark itself with test/support/netns.ts, as the interop suites build theirs. Nothing
 * touches the machine's own interfaces (each veth end is born inside its namespace); every
 * address below exists only inside these namespaces.
 *
 * ```
 *  responder namespace                          generator namespace
 *  netarp (node:dgram)  198.18.0.1:4789 <-.      loadgen client, UDP 198.18.0.2:<port>
 *      198.19.0.2, 02:00:00:00:00:02      |      (speaks VXLAN itself: no device)
 *  vxk (kernel vxlan, dstport 4790)   <---+      vxg (kernel vxlan, dstport 4791)
 *      198.19.0.3, 02:00:00:00:00:03      |          198.19.0.1, 02:00:00:00:00:01
 *  loadgen reflect      198.18.0.1:4792 <-'          the peer netarp resolves for latency
 *      198.19.0.4, 02:00:00:00:00:04
 *  u0 (veth) 198.18.0.1/30  <--------- underlay ---------> u0 (veth) 198.18.0.2/30
 * ```
 * Both responders under load live in the same namespace behind the same veth, so the load
 * generator drives them over exactly the same path; only what answers differs. Underlay and
 * overlay come from 198.18.0.0/15, the block RFC 2544 and RFC 6890 set aside for
 * benchmarking; the overlay is a /21 so that a thousand senders are on-link for both
 * netarp and the kernel. IPv6 is off in both namespaces so that no router solicitation or
 * MLD report mixes with the measured traffic.
 */
import type { ChildProcess } from 'node:child_process';
import { must, run } from '../../test/support/commands.ts';
import {
  addNamespace,
  addVethPair,
  addVxlanDevice,
  buildOrDestroy,
  deleteNamespace,
  namespacesUnavailableReason,
  spawnIn,
  systemProbes,
} from '../../test/support/netns.ts';

export { type CommandResult, findTool, must, run } from '../../test/support/commands.ts';

/** Why the wire benchmark cannot run here (every reason, joined), or undefined if it can. */
export function wireUnavailableReason(): string | undefined {
  return namespacesUnavailableReason(systemProbes, ['ip', 'cc'], 'iproute2 gcc');
}

/** An endpoint of the benchmark: where it listens and what it answers as. */
export interface Responder {
  readonly port: number;
  readonly ip: string;
  readonly mac: string;
}

/** The two namespaces, their veth pair and the kernel's two vxlan devices. */
export class WireTopology {
  readonly generatorNs: string;
  readonly responderNs: string;
  readonly responderUnderlay = '198.18.0.1';
  readonly generatorUnderlay = '198.18.0.2';
  readonly vni = 42;
  /** The overlay prefix length: a /21 of 198.19.0.0 holds every sender on-link. */
  readonly prefixLength = 21;
  /** Sender i is 198.19.2.0 + i (and MAC 02:00 + its four address bytes). */
  readonly senderBase = '198.19.2.0';
  /** netarp under load, answering for its address. */
  readonly netarp: Responder = { port: 4789, ip: '198.19.0.2', mac: '02:00:00:00:00:02' };
  /** The kernel under load: vxk in the responder namespace. */
  readonly kernel: Responder = { port: 4790, ip: '198.19.0.3', mac: '02:00:00:00:00:03' };
  /** The C reference responder (loadgen reflect). */
  readonly reflector: Responder = { port: 4792, ip: '198.19.0.4', mac: '02:00:00:00:00:04' };
  /** The kernel that netarp resolves in the latency test: vxg in the generator namespace. */
  readonly latencyPeer: Responder = { port: 4791, ip: '198.19.0.1', mac: '02:00:00:00:00:01' };
  /**
   * The kernel as the sender in the latency baseline: vxl in the responder namespace, on the
   * latency peer's port, made once the netarp latency run has freed that port.
   */
  readonly kernelClient: Responder = { port: 4791, ip: '198.19.0.5', mac: '02:00:00:00:00:05' };

  private constructor() {
    this.generatorNs = `nbw-${process.pid}-g`;
    this.responderNs = `nbw-${process.pid}-r`;
  }

  /** Builds everything; on failure, removes what was built and throws. */
  static create(): Promise<WireTopology> {
    const t = new WireTopology();
    return buildOrDestroy(t, () => t.build());
  }

  private async build(): Promise<void> {
    const { generatorNs: g, responderNs: r } = this;
    for (const ns of [g, r]) {
      await addNamespace(ns);
      await must([
        'ip',
        'netns',
        'exec',
        ns,
        'sysctl',
        '-qw',
        'net.ipv6.conf.all.disable_ipv6=1',
        'net.ipv6.conf.default.disable_ipv6=1',
      ]);
    }
    await addVethPair(
      { ns: r, dev: 'u0', address: `${this.responderUnderlay}/30` },
      { ns: g, dev: 'u0', address: `${this.generatorUnderlay}/30` },
    );
    await this.addVxlan(r, 'vxk', this.responderUnderlay, this.generatorUnderlay, this.kernel);
    await this.addVxlan(g, 'vxg', this.generatorUnderlay, this.responderUnderlay, this.latencyPeer);
  }

  /** A kernel vxlan device answering as `who`, flooding to `remote` (no learning). */
  private addVxlan(
    ns: string,
    dev: string,
    local: string,
    remote: string,
    who: Responder,
  ): Promise<void> {
    return addVxlanDevice({
      ns,
      dev,
      vni: this.vni,
      local,
      remote,
      port: who.port,
      mac: who.mac,
      address: `${who.ip}/${this.prefixLength}`,
    });
  }

  /**
   * Replaces the loaded kernel responder (vxk, done with by then) with vxl, the kernel client
   * of the latency baseline, so that one device alone holds the overlay's route.
   */
  async addKernelClient(): Promise<void> {
    await must(['ip', '-n', this.responderNs, 'link', 'del', 'vxk']);
    await this.addVxlan(
      this.responderNs,
      'vxl',
      this.responderUnderlay,
      this.generatorUnderlay,
      this.kernelClient,
    );
  }

  /**
   * One cold resolution by the kernel: its entry for `ip` flushed, then one ping, which the
   * kernel holds while it resolves (arp_queue). True if the ping was answered.
   */
  async kernelClientPing(ip: string): Promise<boolean> {
    await run(['ip', '-n', this.responderNs, 'neigh', 'flush', 'dev', 'vxl']);
    const ping = await run(
      ['ip', 'netns', 'exec', this.responderNs, 'ping', '-n', '-q', '-c1', '-W1', '-I', 'vxl', ip],
      5000,
    );
    return ping.code === 0;
  }

  /** Starts `argv` inside namespace `ns`; the process is killed at exit if still running. */
  spawnIn(ns: string, argv: readonly string[], cwd?: string): ChildProcess {
    return spawnIn(ns, argv, cwd);
  }

  /** The kernel responder's neighbour entries on vxk, by state (e.g. { STALE: 500 }). */
  async kernelNeighbourStates(): Promise<Record<string, number>> {
    const out = await must(['ip', '-n', this.responderNs, 'neigh', 'show', 'dev', 'vxk']);
    const states: Record<string, number> = {};
    for (const line of out.split('\n')) {
      const state = line.trim().split(/\s+/).pop();
      if (state) states[state] = (states[state] ?? 0) + 1;
    }
    return states;
  }

  /** Deletes both namespaces (their devices go with them). */
  async destroy(): Promise<void> {
    await deleteNamespace(this.generatorNs);
    await deleteNamespace(this.responderNs);
  }
}
