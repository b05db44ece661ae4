/**
 * The coverage-guided fuzzer in CI: a fixed seed, a bounded time and number of executions,
 * starting from the committed corpus (fuzz/corpus). Any invariant violation fails the test,
 * with the minimised input in the message and written to a file (NETARP_FUZZ_CRASH_DIR, or a
 * scratch directory). NETARP_FUZZ_STRICT=1 fails on the known issues too.
 * `node --import tsx test/fuzz/main.ts --seconds 600` runs it longer.
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fuzz, writeInput } from './fuzzer.ts';
import { toCorpusFile } from './target.ts';

const CORPUS = fileURLToPath(new URL('../../fuzz/corpus', import.meta.url));
const SECONDS = 20;

/**
 * The drop counters a received frame can move on the busy engine: reaching every one shows
 * the fuzzer gets through each check of the input path, not only past the first.
 */
const DROP_COUNTERS = [
  'rxRuntEthernet',
  'rxNotArp',
  'rxNotForUs',
  'rxNoArp',
  'rxInterfaceDown',
  'rxRuntHeader',
  'rxUnknownHardware',
  'rxRuntAddresses',
  'rxNotIpv4',
  'rxRuntInet',
  'rxBadProtocolLength',
  'rxNoAddress',
  'rxFromMe',
  'rxBroadcastSender',
  'rxMulticastSender',
  'rxBadSenderIp',
  'rxProbes',
  'rxRestricted',
  'rxCarpParentCopy',
  'rxWrongInterface',
  'rxPermanentModify',
  'rxAddressLength',
  'rxNotOurs',
  'rxUnanswerableLength',
  'rxLocked',
  'rxUnsolicited',
  'rxOffSubnet',
];

it(`holds every invariant for ${SECONDS} s of fuzzing from the corpus`, {
  timeout: 120_000,
}, (t) => {
  const report = fuzz({
    strict: process.env.NETARP_FUZZ_STRICT === '1',
    seed: 0x5eed_2026,
    timeMs: SECONDS * 1000,
    maxExecutions: 50_000,
    corpusDir: CORPUS,
    stopOnViolation: true,
  });
  const crashDir = process.env.NETARP_FUZZ_CRASH_DIR ?? join(tmpdir(), 'netarp-fuzz-crashes');
  for (const crash of report.crashes) {
    const path = writeInput(crashDir, crash.input, `${crash.violation.kind}-`);
    assert.fail(
      `${crash.violation.kind} at step ${crash.violation.step}: ${crash.violation.detail}\n` +
        `input written to ${path}:\n${JSON.stringify(toCorpusFile(crash.input), null, 2)}`,
    );
  }
  assert.ok(report.executions >= 200, `only ${report.executions} executions`);
  const missed = DROP_COUNTERS.filter((c) => !report.countersMoved.has(c));
  assert.deepEqual(missed, [], 'drop counters no input moved');
  // For the CI log: how far the run went.
  t.diagnostic(
    `fuzz: ${report.executions} executions (${report.executionsPerSecond.toFixed(0)}/s), ` +
      `${report.covered} of ${report.known} features, ${report.corpus.length} inputs kept, ` +
      `known issues ${JSON.stringify(report.knownIssues)}`,
  );
});
