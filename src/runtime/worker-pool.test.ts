import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { workerPoolFlag, workerPoolSize } from './worker-pool.ts';

describe('workerPoolSize', () => {
  it('leaves the event loop a CPU: one fewer than the CPUs, from 1 up to 4', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 64].map((cpus) => workerPoolSize(cpus)),
      [1, 1, 2, 3, 4, 4, 4],
    );
    assert.equal(workerPoolSize(0), 1);
    assert.equal(workerPoolSize(2.5), 1);
  });

  it("defaults to this machine's CPUs, and spells the Node flag", () => {
    assert.equal(workerPoolSize(), workerPoolSize(availableParallelism()));
    assert.equal(workerPoolFlag(2), '--v8-pool-size=1');
  });
});
