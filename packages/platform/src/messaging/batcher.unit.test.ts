/** The consumer's batcher (consumer.ts createBatcher): when batches form, how big, and who gets what. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createBatcher } from './consumer.js';

/** A run whose batches the test finishes by hand. */
function manualRun() {
  const batches: { items: number[]; finish(): void; fail(err: Error): void }[] = [];
  const run = (items: number[]) =>
    new Promise<string[]>((resolve, reject) => {
      batches.push({ items, finish: () => resolve(items.map((i) => `done ${i}`)), fail: reject });
    });
  return { batches, run };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('consumer batcher', () => {
  test('an item that finds a slot free starts at once, alone: a quiet queue is never held back', async () => {
    const { batches, run } = manualRun();
    const batcher = createBatcher(run, { max: 10, slots: 2 });
    const first = batcher.submit(1);
    const second = batcher.submit(2);
    assert.deepEqual(
      batches.map((b) => b.items),
      [[1], [2]],
    );
    batches[0]?.finish();
    batches[1]?.finish();
    assert.equal(await first, 'done 1');
    assert.equal(await second, 'done 2');
  });

  test('while every slot is busy items wait, then go together, at most `max` per batch, each getting its own result', async () => {
    const { batches, run } = manualRun();
    const batcher = createBatcher(run, { max: 3, slots: 1 });
    const results = [1, 2, 3, 4, 5, 6].map((i) => batcher.submit(i));
    assert.deepEqual(
      batches.map((b) => b.items),
      [[1]],
    );
    batches[0]?.finish();
    await tick();
    assert.deepEqual(
      batches.map((b) => b.items),
      [[1], [2, 3, 4]],
      'the waiting ones, up to max',
    );
    batches[1]?.finish();
    await tick();
    assert.deepEqual(batches[2]?.items, [5, 6]);
    batches[2]?.finish();
    assert.deepEqual(await Promise.all(results), ['done 1', 'done 2', 'done 3', 'done 4', 'done 5', 'done 6']);
  });

  test('a failing run rejects its own items only, and frees its slot', async () => {
    const { batches, run } = manualRun();
    const batcher = createBatcher(run, { max: 5, slots: 1 });
    const a = batcher.submit(1);
    const b = batcher.submit(2);
    batches[0]?.fail(new Error('boom'));
    await assert.rejects(a, /boom/);
    await tick();
    assert.deepEqual(batches[1]?.items, [2]);
    batches[1]?.finish();
    assert.equal(await b, 'done 2');
  });
});
