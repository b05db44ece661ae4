#!/usr/bin/env node
// The one test command (`npm test`): lint, type-check (the whole tree, then the pure
// core with no Node types), then every *.test.ts under src/ and test/ through node:test.
// Node 20's test runner does not expand globs, so the files are listed here.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const onlyTests = process.argv.includes('--only-tests');
const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));

function findTests(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (name.endsWith('.test.ts')) found.push(relative(root, path));
  }
  return found;
}

function run(label, command, args) {
  process.stdout.write(`\n== ${label}\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stdout.write(`\n${label} failed (exit ${result.status ?? result.signal})\n`);
    process.exit(result.status ?? 1);
  }
}

const bin = (name) => join(root, 'node_modules', '.bin', name);
if (!onlyTests) {
  run('lint (biome)', bin('biome'), ['check', '.']);
  run('type-check (whole tree)', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
  run('type-check (src/wire + src/core with no Node types)', bin('tsc'), [
    '-p',
    'tsconfig.pure.json',
    '--noEmit',
  ]);
}
let files = [...findTests(join(root, 'src')), ...findTests(join(root, 'test'))].sort();
if (filters.length > 0) files = files.filter((f) => filters.some((p) => f.includes(p)));
if (files.length === 0) {
  process.stdout.write('no test files found\n');
  process.exit(1);
}
// The tests run with their output passed through and scanned, so that the skipped suites
// (real-network suites without root, say) are listed again at the very end with their reasons.
process.stdout.write(`\n== tests (${files.length} files)\n`);
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', ...files],
  {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const skipped = new Set();
let pending = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  pending += chunk.toString('utf8');
  const lines = pending.split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) {
    const match = /^\s*﹣ (.*?) \([0-9.]+m?s\) # (.*)$/.exec(line);
    if (match) skipped.add(`${match[1]}: ${match[2]}`);
  }
});
child.on('close', (code, signal) => {
  if (skipped.size > 0) {
    process.stdout.write(`\nSkipped (${skipped.size}), and why:\n`);
    for (const line of skipped) process.stdout.write(`  - ${line}\n`);
  } else {
    process.stdout.write('\nNo test was skipped: the real-network suites ran.\n');
  }
  process.exit(code ?? (signal ? 1 : 0));
});
