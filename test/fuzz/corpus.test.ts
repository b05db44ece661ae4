/**
 * Replays the committed fuzz corpus (fuzz/corpus/*.json, the interesting inputs the fuzzer
 * found, distilled): every input holds every invariant (known issues aside, see
 * known-issues.test.ts), runs the same twice, and survives a round trip through its file form.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readCorpus } from './fuzzer.ts';
import { fromCorpusFile, runInput, toCorpusFile } from './target.ts';

const CORPUS = fileURLToPath(new URL('../../fuzz/corpus', import.meta.url));
const corpus = readCorpus(CORPUS);

describe('the fuzz corpus', () => {
  it('holds a few dozen inputs', () => {
    assert.ok(corpus.length >= 20, `${corpus.length} inputs in fuzz/corpus`);
  });

  for (const { name, input } of corpus) {
    it(`${name}: every invariant holds, the same way twice`, () => {
      const first = runInput(input);
      assert.deepEqual(first.violations, []);
      const again = runInput(fromCorpusFile(toCorpusFile(input)));
      assert.deepEqual(again.stats, first.stats);
      assert.equal(again.transmitted, first.transmitted);
    });
  }
});
