import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ManualClock, SystemClock } from './clock.ts';

describe('ManualClock', () => {
  it('fires timers in deadline order, each at its own time, including ones set on the way', () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    clock.setTimer(1030, () => fired.push(`b@${clock.now()}`));
    clock.setTimer(1010, () => {
      fired.push(`a@${clock.now()}`);
      clock.setTimer(1020, () => fired.push(`c@${clock.now()}`));
    });
    clock.setTimer(1030, () => fired.push(`d@${clock.now()}`)); // same deadline: set order
    clock.setTimer(2000, () => fired.push('late'));
    clock.advance(50);
    assert.deepEqual(fired, ['a@1010', 'c@1020', 'b@1030', 'd@1030']);
    assert.equal(clock.now(), 1050);
    assert.equal(clock.pendingTimers, 1);
    assert.equal(clock.nextTimerAt(), 2000);
  });

  it('never fires a timer from inside setTimer, even one already due', () => {
    const clock = new ManualClock(5);
    let fired = 0;
    clock.setTimer(0, () => fired++);
    assert.equal(fired, 0);
    clock.runDue();
    assert.equal(fired, 1);
    assert.equal(clock.now(), 5, 'runDue does not move time');
  });

  it('does not fire a cancelled timer', () => {
    const clock = new ManualClock();
    let fired = 0;
    const timer = clock.setTimer(10, () => fired++);
    timer.cancel();
    timer.cancel();
    clock.advance(100);
    assert.equal(fired, 0);
    assert.equal(clock.pendingTimers, 0);
  });

  it('refuses to go back in time', () => {
    const clock = new ManualClock(100);
    assert.throws(() => clock.advanceTo(99), RangeError);
    assert.throws(() => clock.advance(-1), RangeError);
  });
});

describe('SystemClock', () => {
  it('reads epoch milliseconds', () => {
    const clock = new SystemClock();
    const wall = Date.now();
    assert.ok(Math.abs(clock.now() - wall) < 1000, `${clock.now()} vs ${wall}`);
  });

  it('fires a timer at or after its deadline, and not once cancelled', async () => {
    const clock = new SystemClock();
    const at = clock.now() + 30;
    const firedAt = await new Promise<number>((resolve) =>
      clock.setTimer(at, () => resolve(clock.now()), { keepAlive: true }),
    );
    // Node timers may run up to ~1 ms early against now(); see setTimer.
    assert.ok(firedAt >= at - 2, `fired at ${firedAt}, deadline ${at}`);
    let cancelledFired = false;
    clock.setTimer(clock.now() + 5, () => (cancelledFired = true), { keepAlive: true }).cancel();
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(cancelledFired, false);
  });

  it('does not keep the process alive unless asked', () => {
    const module = fileURLToPath(new URL('./clock.ts', import.meta.url));
    const script = (keepAlive: boolean) =>
      `const { SystemClock } = await import(${JSON.stringify(module)});` +
      `const c = new SystemClock();` +
      `c.setTimer(c.now() + ${keepAlive ? 300 : 60_000}, () => console.log('fired'), { keepAlive: ${keepAlive} });`;
    const run = (keepAlive: boolean) =>
      spawnSync(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script(keepAlive)],
        {
          encoding: 'utf8',
          timeout: 20_000,
        },
      );
    const unrefd = run(false);
    assert.equal(unrefd.status, 0, unrefd.stderr);
    assert.equal(unrefd.stdout, '', 'exited without waiting a minute');
    const kept = run(true);
    assert.equal(kept.stdout, 'fired\n', kept.stderr);
  });
});
