/**
 * The examples are the simulator's golden tests: every examples/NAME.yaml runs and must print
 * exactly examples/NAME.out (and, where it exists, examples/NAME.json.out with --json), twice
 * over, to show that a run depends on nothing but its file. After a deliberate change to the
 * output, review the new traces and rewrite them with NETARP_UPDATE_EXAMPLES=1.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runScenario } from './run.ts';
import { loadScenarioFile } from './scenario.ts';

const examplesDir = fileURLToPath(new URL('../../examples/', import.meta.url));
const update = process.env.NETARP_UPDATE_EXAMPLES === '1';

/** What `netarp sim FILE [--json]` prints. */
function output(file: string, json: boolean): string {
  return `${runScenario(loadScenarioFile(file), { json }).join('\n')}\n`;
}

const names = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.yaml') || f.endsWith('.json'))
  .sort();

describe('examples', () => {
  it('has an example for each behaviour of the seed the simulator shows', () => {
    assert.ok(names.length >= 17, `only ${names.length} examples`);
  });

  for (const name of names) {
    const base = name.replace(/\.(yaml|json)$/, '');
    const file = join(examplesDir, name);
    const goldens: [string, boolean][] = [[join(examplesDir, `${base}.out`), false]];
    const jsonGolden = join(examplesDir, `${base}.json.out`);
    if (existsSync(jsonGolden)) goldens.push([jsonGolden, true]);
    for (const [golden, json] of goldens) {
      it(`${name}${json ? ' --json' : ''} prints ${golden.slice(examplesDir.length)}`, () => {
        const first = output(file, json);
        assert.equal(output(file, json), first, 'two runs of the same file differ');
        if (update) writeFileSync(golden, first);
        assert.ok(existsSync(golden), `missing ${golden}: run with NETARP_UPDATE_EXAMPLES=1`);
        assert.equal(first, readFileSync(golden, 'utf8'));
      });
    }
  }
});
