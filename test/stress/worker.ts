/**
 * Runs one stress scenario in this process and prints its result as one JSON line:
 *
 *   node --expose-gc --import tsx test/stress/worker.ts SCENARIO SCALE
 *
 * One process per scenario, so that its heap and peak RSS are its own.
 */
import { runScenario, SCENARIOS, type ScenarioName } from './scenarios.ts';

const [name, scaleText] = process.argv.slice(2);
const scale = Number(scaleText ?? '1');
if (!(SCENARIOS as readonly string[]).includes(name ?? '') || !(scale > 0 && scale <= 1)) {
  process.stderr.write(`usage: worker.ts ${SCENARIOS.join('|')} SCALE (0 < SCALE <= 1)\n`);
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(runScenario(name as ScenarioName, scale))}\n`);
