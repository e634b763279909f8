import { randomUUID } from 'node:crypto';
import type { Database } from '../db/database.js';
import type { Delivery, Headers, Settlement, Transport } from './transport.js';

/** One dead-lettered message as an operator sees it. */
export interface DlqMessage {
  messageId: string | null;
  eventType: string | null;
  traceId: string | null;
  reason: string | null;
  retryCount: number | null;
  sourceQueue: string | null;
  originalRoutingKey: string | null;
  failedAt: string | null;
  /** The body as text, cut at 16 KiB. */
  body: string;
}

export interface DlqAuditRow {
  id: string;
  queue: string;
  action: 'REPLAYED' | 'DISCARDED';
  messageId: string | null;
  eventType: string | null;
  dlqReason: string | null;
  reason: string | null;
  actor: string;
  target: string | null;
  createdAt: string;
}

/** Browsing takes messages without settling them; this caps how many one call may hold. */
export const DLQ_SCAN_LIMIT = 10_000;

/** A message taken off a queue; settled at most once (the rest go back when the visit ends). */
class Held {
  settled = false;
  constructor(private readonly raw: { delivery: Delivery; settle(s: Settlement): Promise<void> }) {}
  get delivery(): Delivery {
    return this.raw.delivery;
  }
  async settle(s: Settlement): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    await this.raw.settle(s);
  }
}

function text(h: Headers, name: string): string | null {
  const v = h[name];
  return v === undefined || v === null ? null : String(v);
}

export function describeDlqMessage(d: Delivery): DlqMessage {
  const retry = d.headers['x-retry-count'];
  return {
    messageId: d.messageId ?? null,
    eventType: text(d.headers, 'x-event-type'),
    traceId: text(d.headers, 'x-trace-id'),
    reason: text(d.headers, 'x-dlq-reason'),
    retryCount: typeof retry === 'number' ? retry : retry === undefined || retry === null ? null : Number(retry),
    sourceQueue: text(d.headers, 'x-source-queue'),
    originalRoutingKey: text(d.headers, 'x-original-routing-key'),
    failedAt: text(d.headers, 'x-failed-at'),
    body: d.body.subarray(0, 16 * 1024).toString('utf8'),
  };
}

/**
 * Takes up to `max` messages off the queue and holds them unsettled (so the same one is not
 * handed back), runs `visit`, then returns every message `visit` did not settle to the queue.
 */
async function withHeld<T>(
  transport: Transport,
  queue: string,
  max: number,
  visit: (held: Held[]) => Promise<T>,
): Promise<T> {
  const held: Held[] = [];
  try {
    while (held.length < max) {
      const next = await transport.get(queue);
      if (!next) break;
      held.push(new Held(next));
    }
    return await visit(held);
  } finally {
    await Promise.allSettled(held.filter((h) => !h.settled).map((h) => h.settle({ kind: 'requeue' })));
  }
}

export async function listDlq(transport: Transport, queue: string, limit: number): Promise<DlqMessage[]> {
  return withHeld(transport, queue, limit, async (held) => held.map((h) => describeDlqMessage(h.delivery)));
}

/** Headers a replayed copy keeps: observation headers; the failure bookkeeping is dropped. */
function replayHeaders(h: Headers): Headers {
  const out: Headers = {};
  for (const [k, v] of Object.entries(h)) {
    if (k === 'x-death' || k.startsWith('x-first-death') || k.startsWith('x-last-death')) continue;
    if (['x-dlq-reason', 'x-retry-count', 'x-failed-at', 'x-consumer'].includes(k)) continue;
    out[k] = v;
  }
  out['x-replayed-at'] = new Date().toISOString();
  return out;
}

export interface DlqActionInput {
  /** One message by id; absent → every message in the queue (replay only). */
  messageId?: string;
  actor: string;
  reason?: string;
}

/**
 * Replays back to the message's source queue (through the default exchange, so no other queue
 * bound to its routing key gets a copy), then acknowledges the DLQ copy and writes the audit
 * row. The message id is kept: if it had somehow been applied, the consumer deduplicates it.
 */
export async function replayDlq(
  transport: Transport,
  db: Database,
  queue: string,
  input: DlqActionInput,
): Promise<number> {
  return withHeld(transport, queue, DLQ_SCAN_LIMIT, async (held) => {
    let done = 0;
    for (const h of held) {
      if (input.messageId !== undefined && h.delivery.messageId !== input.messageId) continue;
      const target = text(h.delivery.headers, 'x-source-queue') ?? queue.replace(/\.dlq$/, '');
      await transport.publish({
        exchange: '',
        routingKey: target,
        body: h.delivery.body,
        messageId: h.delivery.messageId,
        contentType: h.delivery.contentType ?? 'application/json',
        contentEncoding: 'UTF-8',
        headers: replayHeaders(h.delivery.headers),
      });
      await audit(db, queue, 'REPLAYED', h.delivery, input, target);
      await h.settle({ kind: 'ack' });
      done++;
    }
    return done;
  });
}

export async function discardDlq(
  transport: Transport,
  db: Database,
  queue: string,
  input: DlqActionInput & { messageId: string; reason: string },
): Promise<number> {
  return withHeld(transport, queue, DLQ_SCAN_LIMIT, async (held) => {
    const h = held.find((m) => m.delivery.messageId === input.messageId);
    if (!h) return 0;
    await audit(db, queue, 'DISCARDED', h.delivery, input, null);
    await h.settle({ kind: 'ack' });
    return 1;
  });
}

async function audit(
  db: Database,
  queue: string,
  action: 'REPLAYED' | 'DISCARDED',
  d: Delivery,
  input: DlqActionInput,
  target: string | null,
): Promise<void> {
  await db.execute(
    `INSERT INTO dlq_audit (id, queue, action, message_id, event_type, dlq_reason, reason, actor, target, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      randomUUID(),
      queue,
      action,
      d.messageId ?? null,
      text(d.headers, 'x-event-type'),
      text(d.headers, 'x-dlq-reason'),
      input.reason ?? null,
      input.actor,
      target,
      new Date(),
    ],
  );
}

export async function dlqAudit(db: Database, limit: number): Promise<DlqAuditRow[]> {
  const rows = await db.query<{
    id: string;
    queue: string;
    action: 'REPLAYED' | 'DISCARDED';
    message_id: string | null;
    event_type: string | null;
    dlq_reason: string | null;
    reason: string | null;
    actor: string;
    target: string | null;
    created_at: Date;
  }>('SELECT * FROM dlq_audit ORDER BY created_at DESC, id DESC LIMIT $1', [limit]);
  return rows.map((r) => ({
    id: r.id,
    queue: r.queue,
    action: r.action,
    messageId: r.message_id,
    eventType: r.event_type,
    dlqReason: r.dlq_reason,
    reason: r.reason,
    actor: r.actor,
    target: r.target,
    createdAt: r.created_at.toISOString(),
  }));
}
