/**
 * Runs a checked scenario in a virtual world: builds the segments and hosts, plays the
 * timeline in time order (running the world up to each step first), and prints the trace
 * and, at the end, every host's table as `arp -a` does. Same scenario, same lines.
 */
import { NetarpError } from '../core/errors.ts';
import type { Output } from '../core/output.ts';
import { formatIpv4, formatMac } from '../wire/addr.ts';
import type { Action, RouteNext, Scenario } from './scenario.ts';
import { type SendResult, type SimRecord, TraceWriter, textLayout } from './trace.ts';
import { type TraceRecord, World } from './world.ts';

/** How to print a run. */
export interface RunOptions {
  /** JSON lines instead of text (docs/sim.md has the schema). */
  readonly json?: boolean;
}

/** Runs `scenario` and returns the trace lines (no trailing newline on any). */
export function runScenario(scenario: Scenario, options: RunOptions = {}): string[] {
  const writer = new TraceWriter(
    options.json ? 'json' : 'text',
    textLayout({
      hosts: scenario.hosts.map((h) => h.name),
      segments: scenario.segments.map((s) => s.name),
      ports: [
        ...scenario.hosts.flatMap((h) =>
          h.interfaces.filter((i) => i.segment !== undefined).map((i) => `${h.name}/${i.name}`),
        ),
        ...scenario.stations.map((s) => s.name),
      ],
    }),
  );
  const world = new World(scenario.seed);
  world.onTrace = (record) => writer.write(fromWorld(world, record));

  for (const segment of scenario.segments) {
    world.addSegment(segment.name, { loss: segment.loss, delayMs: segment.delayMs });
  }
  // Every host is plugged in before any address is set, so that every host hears the
  // gratuitous ARP of every other (arp_ifaddr) whatever the order of the file.
  for (const host of scenario.hosts) {
    world.addHost(host.name, [...host.interfaces], { config: { ...host.sysctl } });
  }
  for (const host of scenario.hosts) {
    for (const { ifName, cidr } of host.addresses) world.addAddress(host.name, ifName, cidr);
    for (const route of host.routes) {
      world.withHost(host.name, (engine) => engine.addRoute(route.prefix, routeNext(route.next)));
    }
  }

  for (const step of scenario.timeline) {
    world.runUntil(step.atMs);
    perform(world, writer, step.action);
  }
  world.runUntil(scenario.endMs);
  for (const host of scenario.hosts) writer.write(tableRecord(world, host.name, true));
  return writer.result();
}

function routeNext(next: RouteNext): { gateway: string } | { ifName: string } {
  return next.kind === 'gateway' ? { gateway: next.via } : { ifName: next.ifName };
}

function tableRecord(world: World, host: string, final: boolean): SimRecord {
  const entries = world.withHost(host, (engine) => engine.listEntries(world.now));
  return { kind: 'table', time: world.now, host, entries, final };
}

/** Names instead of indices, numbers as text: what the trace prints. */
function fromWorld(world: World, record: TraceRecord): SimRecord {
  if (record.kind !== 'send') return record;
  const result = record.result;
  const ifName = (index: number): string =>
    world.host(record.host).engine.interfaces()[index]?.name ?? '?';
  let converted: SendResult;
  switch (result.kind) {
    case 'resolved':
      converted = { kind: 'resolved', ifName: ifName(result.ifIndex), mac: formatMac(result.mac) };
      break;
    case 'local':
      converted = { kind: 'local', ifName: ifName(result.ifIndex) };
      break;
    case 'held':
      converted = {
        kind: 'held',
        ifName: ifName(result.ifIndex),
        nextHop: formatIpv4(result.nextHop),
      };
      break;
    case 'failed':
      converted = { kind: 'failed', reason: result.reason };
      break;
  }
  return { ...record, result: converted };
}

/** The timeline actions that are operator commands on one host. */
type Command = Extract<Action, { kind: 'arp' | 'address' | 'link' | 'sysctl' | 'carp' | 'route' }>;

/** The words an operator command is traced with, like "arp -s 192.0.2.9 02:00:00:00:00:09". */
function commandWords(action: Command): string {
  switch (action.kind) {
    case 'arp':
      return `arp ${action.words}`;
    case 'address':
      return `address ${action.add ? 'add' : 'remove'} ${action.ifName} ${action.address}`;
    case 'link':
      return `link ${action.ifName} ${action.up ? 'up' : 'down'}`;
    case 'sysctl':
      return `sysctl net.link.ether.inet.${action.name}=${action.value}`;
    case 'carp':
      return `carp ${action.ifName} ${action.state}`;
    case 'route':
      if (action.next === undefined) return `route delete ${action.prefix}`;
      return action.next.kind === 'gateway'
        ? `route add ${action.prefix} ${action.next.via}`
        : `route add ${action.prefix} -interface ${action.next.ifName}`;
  }
}

/**
 * Does one timeline action. Operator commands the engine refuses (arp -s over a permanent
 * entry, removing an address the interface lacks) are part of the story, not a crash: they
 * are traced with the engine's message and the run goes on.
 */
function perform(world: World, writer: TraceWriter, action: Action): void {
  switch (action.kind) {
    case 'ping':
      world.ping(action.host, action.destination);
      return;
    case 'inject':
      world.inject(action.segment, action.station, action.frame);
      return;
    case 'show':
      for (const host of action.host === undefined ? [...world.hosts.keys()] : [action.host]) {
        writer.write(tableRecord(world, host, false));
      }
      return;
    case 'stats': {
      const stats = world.withHost(action.host, (engine) => engine.stats());
      writer.write({ kind: 'stats', time: world.now, host: action.host, stats });
      return;
    }
    case 'note':
      writer.write({ kind: 'note', time: world.now, text: action.text });
      return;
    case 'arp':
      if (action.command.kind === 'list') {
        writer.write(tableRecord(world, action.host, false));
        return;
      }
  }
  const host = action.host;
  const now = world.now;
  let outputs: Output[] = [];
  let error: string | undefined;
  try {
    outputs = world.withHost(host, (engine): Output[] => {
      switch (action.kind) {
        case 'arp': {
          const command = action.command;
          if (command.kind === 'set') return engine.addEntry(now, command.spec);
          if (command.kind === 'delete') return engine.deleteEntry(now, command.ip, command.pub);
          return engine.flush(now);
        }
        case 'address':
          return action.add
            ? engine.addAddress(now, action.ifName, action.address)
            : engine.removeAddress(now, action.ifName, action.address);
        case 'link':
          return engine.setInterfaceUp(now, action.ifName, action.up);
        case 'sysctl':
          engine.setSysctl(action.name, action.value);
          return [];
        case 'carp':
          engine.setCarpState(action.ifName, action.state);
          return [];
        case 'route':
          if (action.next === undefined) {
            if (!engine.removeRoute(action.prefix)) {
              throw new NetarpError('ENOENT', `route ${action.prefix}: not in table`);
            }
          } else engine.addRoute(action.prefix, routeNext(action.next));
          return [];
      }
    });
  } catch (caught) {
    if (!(caught instanceof NetarpError)) throw caught;
    error = caught.message;
  }
  // The command first, then what it caused.
  writer.write({ kind: 'admin', time: now, host, command: commandWords(action), error });
  world.emit(world.host(host), outputs);
}
