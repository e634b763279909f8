/**
 * amqp-write-coalescing.ts on the real broker and this amqplib: a burst of publishes made in one
 * event-loop turn leaves in a few socket writes instead of one per message, and every message
 * still arrives, in order, confirmed. Fails when amqplib's internals change shape.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import amqp, { type ChannelModel } from 'amqplib';
import { TEST_AMQP_URL, uniqueName } from '../testing/index.js';
import { coalesceMuxWrites } from './amqp-write-coalescing.js';

const BURST = 50;

/** Socket writes (write or writev, each one syscall) while `fn` runs. */
async function countWrites(model: ChannelModel, fn: () => Promise<void>): Promise<number> {
  const socket = (model as unknown as { connection: { stream: { _writeGeneric: (...a: unknown[]) => unknown } } })
    .connection.stream;
  const original = socket._writeGeneric;
  let writes = 0;
  socket._writeGeneric = function (this: unknown, ...args: unknown[]) {
    writes++;
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    socket._writeGeneric = original;
  }
  return writes;
}

async function burst(model: ChannelModel, queue: string, tag: string): Promise<void> {
  const ch = await model.createConfirmChannel();
  try {
    for (let i = 0; i < BURST; i++) ch.sendToQueue(queue, Buffer.from(`${tag}-${i}`), { persistent: true });
    await ch.waitForConfirms();
  } finally {
    await ch.close();
  }
}

describe('AMQP write coalescing (real RabbitMQ)', () => {
  test(`${BURST} publishes in one turn: one write per message without, a few with; all delivered in order`, async () => {
    const queue = uniqueName('coalesce');
    const plain = await amqp.connect(TEST_AMQP_URL, { noDelay: true });
    const coalesced = await amqp.connect(TEST_AMQP_URL, { noDelay: true });
    try {
      const admin = await plain.createChannel();
      await admin.assertQueue(queue, { durable: false, autoDelete: false });

      assert.equal(coalesceMuxWrites(coalesced), true, 'amqplib internals are as expected');
      assert.equal(coalesceMuxWrites(coalesced), true, 'applying twice is harmless');

      const without = await countWrites(plain, () => burst(plain, queue, 'plain'));
      const withCoalescing = await countWrites(coalesced, () => burst(coalesced, queue, 'coalesced'));
      // Channel open/close and confirm.select are a few writes of their own in both runs.
      assert.ok(without >= BURST, `without: ${without} writes for ${BURST} messages`);
      assert.ok(withCoalescing <= 10, `with: ${withCoalescing} writes for ${BURST} messages`);

      const bodies: string[] = [];
      for (;;) {
        const m = await admin.get(queue, { noAck: true });
        if (!m) break;
        bodies.push(m.content.toString());
      }
      const expected = (tag: string) => Array.from({ length: BURST }, (_, i) => `${tag}-${i}`);
      assert.deepEqual(bodies, [...expected('plain'), ...expected('coalesced')]);
      await admin.deleteQueue(queue);
    } finally {
      await Promise.all([plain.close(), coalesced.close()]);
    }
  });
});
