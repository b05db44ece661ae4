/**
 * The pure boundary (ARCHITECTURE: "wire and core never import node:*, never read a clock,
 * never set a timer and never use Buffer"). Biome enforces it at lint time; this test checks
 * the same rule over the source text, so it holds even if the lint config drifts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Source files (not tests) of a folder, recursively. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return sources(path);
    return d.name.endsWith('.ts') && !d.name.endsWith('.test.ts') ? [path] : [];
  });
}

const forbidden: [RegExp, string][] = [
  [/from\s+['"]node:/, 'imports a Node module'],
  [/require\(\s*['"]/, 'uses require'],
  [/\bDate\b/, 'reads the clock (Date)'],
  [/\bperformance\b/, 'reads the clock (performance)'],
  [/\bset(Timeout|Interval|Immediate)\s*\(/, 'sets a timer'],
  [/\bBuffer\b/, 'uses Buffer'],
  [/\bprocess\./, 'touches process'],
];

/** Strips comments so that prose mentioning "Date" does not count. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
}

for (const folder of ['src/wire', 'src/core']) {
  test(`${folder} stays pure: no Node, clock, timer or Buffer`, () => {
    const files = sources(join(root, folder));
    assert.ok(files.length > 5, `expected source files in ${folder}`);
    const problems: string[] = [];
    for (const file of files) {
      const text = code(readFileSync(file, 'utf8'));
      for (const [pattern, what] of forbidden) {
        if (pattern.test(text)) problems.push(`${file.slice(root.length)} ${what}`);
      }
    }
    assert.deepEqual(problems, []);
  });
}

test('src/core never imports from the edge (link, runtime, sim, cli, daemon)', () => {
  const problems = sources(join(root, 'src/core')).filter((file) =>
    /from\s+['"]\.\.\/(link|runtime|sim|cli|daemon|control)\//.test(readFileSync(file, 'utf8')),
  );
  assert.deepEqual(problems, []);
});

test('the boundary check itself catches a violation', () => {
  const sample = "import { readFileSync } from 'node:fs';\nconst t = Date.now();";
  const hits = forbidden.filter(([pattern]) => pattern.test(code(sample))).map(([, what]) => what);
  assert.deepEqual(hits, ['imports a Node module', 'reads the clock (Date)']);
});
