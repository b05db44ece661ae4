/**
 * Network namespaces for the suites and benchmarks that run netarp against a real Linux kernel:
 * whether this machine can make them, making and deleting them, the veth pairs and vxlan
 * devices inside them, and the processes started in them.
 *
 * Every namespace made here and every process started here is remembered until it is deleted
 * or exits, and taken down when this process exits, whatever the reason. Veth pairs are born
 * with each end inside its namespace, so no device ever appears in the machine's own.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { findTool, must, run } from './commands.ts';
import { waitFor } from './wait.ts';

// --- whether namespaces can be made here ---------------------------------------------------

/** The checks `namespacesUnavailableReason` makes, injectable so that tests can fake them. */
export interface NamespaceProbes {
  /** The effective user id, or undefined where there is none (not POSIX). */
  uid(): number | undefined;
  /** The absolute path of an executable, or undefined when it is not installed. */
  findTool(name: string): string | undefined;
  /** Adds and deletes a scratch namespace: undefined on success, else the error text. */
  tryNetns(): string | undefined;
}

/** The probes of this machine. */
export const systemProbes: NamespaceProbes = {
  uid: () => process.getuid?.(),
  findTool,
  tryNetns() {
    const ip = findTool('ip') ?? 'ip';
    const name = `netarp-probe-${process.pid}`;
    const added = spawnSync(ip, ['netns', 'add', name], { encoding: 'utf8', timeout: 5000 });
    if (added.status !== 0) {
      const why = added.error?.message ?? added.stderr.trim();
      return `\`ip netns add\` failed: ${why || `exit ${added.status}`}`;
    }
    spawnSync(ip, ['netns', 'del', name], { timeout: 5000 });
    return undefined;
  },
};

/**
 * Why programs needing root, network namespaces and `tools` cannot run here (every reason
 * found, joined), or undefined if they can. `packages` names the Debian packages of the tools.
 */
export function namespacesUnavailableReason(
  probes: NamespaceProbes,
  tools: readonly string[],
  packages: string,
): string | undefined {
  const reasons: string[] = [];
  const uid = probes.uid();
  if (uid !== 0) reasons.push(`not running as root (uid ${uid ?? 'unknown'})`);
  const missing = tools.filter((tool) => probes.findTool(tool) === undefined);
  if (missing.length > 0) reasons.push(`missing ${missing.join(', ')} (Debian: ${packages})`);
  // Creating a namespace needs root and ip; trying without them only repeats those reasons.
  if (reasons.length === 0) {
    const netns = probes.tryNetns();
    if (netns !== undefined) reasons.push(netns);
  }
  return reasons.length === 0 ? undefined : reasons.join('; ');
}

// --- namespaces and the processes in them ----------------------------------------------------

/** The repository root: node runs from there so that tsx finds the tsconfig. */
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Namespaces made by this process and not yet deleted. */
const liveNamespaces = new Set<string>();
/** Processes started in namespaces and not yet exited: killed at exit, before their namespaces go. */
const liveChildren = new Set<ChildProcessWithoutNullStreams>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveChildren) child.kill('SIGKILL');
    const ip = findTool('ip') ?? 'ip';
    for (const ns of liveNamespaces) spawnSync(ip, ['netns', 'del', ns], { timeout: 5000 });
  });
}

/** Makes namespace `ns`, with its loopback up; it is deleted at exit unless deleted before. */
export async function addNamespace(ns: string): Promise<void> {
  installExitHook();
  await must(['ip', 'netns', 'add', ns]);
  liveNamespaces.add(ns);
  await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
}

/** Deletes namespace `ns` (and every device in it) if this process made it and it is still there. */
export async function deleteNamespace(ns: string): Promise<void> {
  if (!liveNamespaces.has(ns)) return;
  await run(['ip', 'netns', 'del', ns]);
  liveNamespaces.delete(ns);
}

/**
 * Starts `argv` inside `ns`, its stdio piped; it is killed at exit if still running.
 * `ip netns exec` execs the program, so the child is the program itself: a signal sent to it
 * reaches the program.
 */
export function spawnIn(
  ns: string,
  argv: readonly string[],
  cwd?: string,
): ChildProcessWithoutNullStreams {
  installExitHook();
  const child = spawn(findTool('ip') ?? 'ip', ['netns', 'exec', ns, ...argv], {
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(cwd === undefined ? {} : { cwd }),
  });
  liveChildren.add(child);
  child.on('exit', () => liveChildren.delete(child));
  return child;
}

/** Starts the TypeScript program `script` with `args` under node and tsx inside `ns`. */
export function spawnNodeIn(
  ns: string,
  script: string,
  args: readonly string[],
): ChildProcessWithoutNullStreams {
  return spawnIn(ns, [process.execPath, '--import', 'tsx', script, ...args], REPO_ROOT);
}

// --- devices ---------------------------------------------------------------------------------

/** `ip link` shows a device with carrier as operationally up. */
export const OPER_UP = /state UP /;

/**
 * Waits until `dev` in `ns` shows `state` in `ip -d link show`. A device's carrier reaches
 * its operational state, and a bridge port's forwarding, through the kernel's linkwatch,
 * which may run up to a second later; a frame sent before then is dropped, so the first ARP
 * request of a test would be lost.
 */
export async function waitForLink(
  ns: string,
  dev: string,
  state: RegExp,
  timeoutMs = 3000,
): Promise<void> {
  let shown = '';
  await waitFor(
    `${dev} in ${ns} showing ${state}`,
    async () => {
      shown = await must(['ip', '-n', ns, '-d', 'link', 'show', dev]);
      return state.test(shown) ? true : undefined;
    },
    timeoutMs,
    () => shown,
    20,
  );
}

/** One end of a veth pair and how to set it up. */
export interface VethEnd {
  readonly ns: string;
  readonly dev: string;
  /** Set before the device goes up. */
  readonly mac?: string;
  /** An address with its prefix length (`198.18.0.1/30`). */
  readonly address?: string;
  /** Bring the end up (default true); an end left down is the caller's to finish. */
  readonly up?: boolean;
}

/**
 * Makes a veth pair with each end born in its namespace, sets each end's MAC and address and
 * brings it up; when both ends go up, waits until both have carrier.
 */
export async function addVethPair(a: VethEnd, b: VethEnd): Promise<void> {
  await must([
    'ip',
    'link',
    'add',
    a.dev,
    'netns',
    a.ns,
    'type',
    'veth',
    'peer',
    'name',
    b.dev,
    'netns',
    b.ns,
  ]);
  for (const end of [a, b]) {
    if (end.mac !== undefined) {
      await must(['ip', '-n', end.ns, 'link', 'set', end.dev, 'address', end.mac]);
    }
    if (end.address !== undefined) {
      await must(['ip', '-n', end.ns, 'addr', 'add', end.address, 'dev', end.dev]);
    }
    if (end.up ?? true) await must(['ip', '-n', end.ns, 'link', 'set', end.dev, 'up']);
  }
  if ((a.up ?? true) && (b.up ?? true)) {
    await waitForLink(a.ns, a.dev, OPER_UP);
    await waitForLink(b.ns, b.dev, OPER_UP);
  }
}

/** A kernel vxlan device: one VNI, flooding to one remote VTEP, learning nothing. */
export interface VxlanDevice {
  readonly ns: string;
  readonly dev: string;
  readonly vni: number;
  /** The underlay addresses of this VTEP and of the remote one. */
  readonly local: string;
  readonly remote: string;
  /** The UDP port, the same at both ends. */
  readonly port: number;
  readonly mac: string;
  /** The overlay address with its prefix length (`192.0.2.1/24`). */
  readonly address: string;
}

/** Makes the vxlan device `device`, with its MAC and address, and brings it up. */
export async function addVxlanDevice(device: VxlanDevice): Promise<void> {
  const { ns, dev } = device;
  await must([
    'ip',
    '-n',
    ns,
    'link',
    'add',
    dev,
    'type',
    'vxlan',
    'id',
    String(device.vni),
    'local',
    device.local,
    'remote',
    device.remote,
    'dstport',
    String(device.port),
    'nolearning',
  ]);
  await must(['ip', '-n', ns, 'link', 'set', dev, 'address', device.mac]);
  await must(['ip', '-n', ns, 'addr', 'add', device.address, 'dev', dev]);
  await must(['ip', '-n', ns, 'link', 'set', dev, 'up']);
}

// --- building and tearing down -----------------------------------------------------------------

/** Something built in namespaces that must always be taken down again. */
export interface Destroyable {
  destroy(): Promise<void>;
}

/** Runs `build` for `made` and returns it; if building fails, destroys what was built and throws. */
export async function buildOrDestroy<T extends Destroyable>(
  made: T,
  build: () => Promise<void>,
): Promise<T> {
  try {
    await build();
  } catch (error) {
    await made.destroy();
    throw error;
  }
  return made;
}

/** Runs `body` on what `create` makes and always destroys it after, even when `body` fails. */
export async function runThenDestroy<T extends Destroyable, R>(
  create: () => Promise<T>,
  body: (made: T) => Promise<R>,
): Promise<R> {
  const made = await create();
  try {
    return await body(made);
  } finally {
    await made.destroy();
  }
}
