#!/usr/bin/env node
// Builds the native addon (native/netarp_native.cc -> native/build/Release/netarp_native.node)
// with the node-gyp that ships inside npm, against the headers of the Node.js that runs this
// script. It never downloads anything: when Node's headers are not on this machine it says so
// and stops. It runs as the package's `install` script (so `npm ci` builds it) and as
// `npm run build:native`.
//
// A failed build does not fail the install: TAP and AF_PACKET links are then unavailable,
// VXLAN links run on node:dgram, and the tests that need the addon are skipped with the reason. With NETARP_REQUIRE_INTEROP=1 (CI) it does fail,
// since the interop suites would fail later anyway, and here is where the cause is printed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const output = join(here, 'build', 'Release', 'netarp_native.node');
const strict = process.env.NETARP_REQUIRE_INTEROP === '1';

/** Stops with `reason`: a warning normally, a failure when strict. */
function giveUp(reason) {
  const verdict = strict
    ? 'failing because NETARP_REQUIRE_INTEROP=1'
    : 'TAP and AF_PACKET links will be unavailable; VXLAN links use node:dgram';
  process.stderr.write(`netarp: native addon not built: ${reason} (${verdict})\n`);
  process.exit(strict ? 1 : 0);
}

if (process.platform !== 'linux') giveUp(`TAP and AF_PACKET are Linux-only (${process.platform})`);

// npm tells its scripts where its node-gyp is; run by hand, look beside the running node.
const prefix = dirname(dirname(process.execPath));
const nodeGyp = [
  process.env.npm_config_node_gyp,
  join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
].find((path) => path !== undefined && path !== '' && existsSync(path));
if (nodeGyp === undefined) giveUp("npm's bundled node-gyp was not found");

// The headers node-gyp compiles against: npm's `nodedir` setting if any, else the ones that
// official Node.js builds (and Debian's libnode-dev) install under the prefix. Without them
// node-gyp would download headers, which this build never does.
const nodeDir = [process.env.npm_config_nodedir, prefix].find(
  (dir) =>
    dir !== undefined && dir !== '' && existsSync(join(dir, 'include', 'node', 'node_api.h')),
);
if (nodeDir === undefined) {
  giveUp(`Node's headers were not found under ${prefix}/include/node (set npm's nodedir)`);
}
const headers = join(nodeDir, 'include', 'node');
if (!existsSync(join(headers, 'uv.h'))) giveUp(`${headers} has no uv.h`);
const version = /#define NODE_MAJOR_VERSION (\d+)/.exec(
  readFileSync(join(headers, 'node_version.h'), 'utf8'),
)?.[1];

const built = spawnSync(
  process.execPath,
  [nodeGyp, 'rebuild', `--directory=${here}`, `--nodedir=${nodeDir}`, '--loglevel=warn'],
  // npm passes its settings on as npm_config_* variables, which node-gyp also reads: say the
  // same there, so that an empty setting cannot send node-gyp off to download headers.
  { stdio: 'inherit', env: { ...process.env, npm_config_nodedir: nodeDir } },
);
if (built.status !== 0) {
  giveUp(
    `node-gyp exited ${built.status ?? built.signal} (needs g++, make and python3; headers of Node ${version ?? '?'} at ${headers})`,
  );
}

// Load it once in a child, so a build that links but cannot load is caught here.
const check = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(output)}).apiVersion`], {
  encoding: 'utf8',
});
if (check.status !== 0) giveUp(`the built addon does not load: ${check.stderr.trim()}`);
process.stdout.write(`netarp: native addon built: ${output}\n`);
