/**
 * NOT the kernel: a sketch of the outbox writer change suggested in bench/README.md ("The
 * outbox NOTIFY serialises commits"), so its effect can be measured next to the kernel's
 * `createOutbox().add` in the same run (outbox-write, and publish-to-handled-latency with
 * BENCH_LATENCY_WRITER=after-commit).
 *
 * The row is written in the caller's transaction exactly as the kernel writes it; the wake-up
 * NOTIFY is sent AFTER the commit, outside it: coalesced (one in flight at most; a commit meanwhile
 * sends one more when it returns, so the relay always looks after the last commit), in its own
 * NOTIFY-only transaction with `synchronous_commit = off` (a lost wake-up costs one poll interval;
 * it never needs to be durable). PostgreSQL holds a database-wide lock from a notifying
 * transaction's pre-commit until its commit record is flushed; with the NOTIFY inside the business
 * transaction that serialises every outbox-writing commit (no group commit).
 */
import { assertValidEvent, type EventOf, routingKeyOf } from '@ecom/contracts';
import { type Database, quoteIdent } from '@ecom/platform';

const CHANNEL = 'ecom_outbox';
export const OUTBOX_INSERT = `INSERT INTO outbox_events (id, event_type, routing_key, payload, status, created_at)
         VALUES ($1, $2, $3, $4, 'PENDING', $5)`;

export interface AfterCommitOutbox {
  /** One event in its own transaction (INSERT, COMMIT), then the coalesced wake-up. */
  write(event: EventOf<'OrderCreated'>): Promise<void>;
  /** Wake-ups actually sent (≤ writes). */
  readonly wakes: number;
  /** Resolves once no wake-up is in flight. */
  idle(): Promise<void>;
}

export function afterCommitOutbox(db: Database): AfterCommitOutbox {
  const notify = `SET LOCAL synchronous_commit = off; NOTIFY ${quoteIdent(db.channel(CHANNEL))}`;
  let inFlight = false;
  let again = false;
  let wakes = 0;
  const wake = () => {
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    again = false;
    wakes++;
    db.exec(notify)
      .catch(() => undefined) // the relay's poll is the fallback, as when LISTEN is down
      .finally(() => {
        inFlight = false;
        if (again) wake();
      });
  };
  return {
    async write(event) {
      assertValidEvent(event);
      await db.transaction((tx) =>
        tx.execute(OUTBOX_INSERT, [
          event.event_id,
          event.event_type,
          routingKeyOf(event.event_type),
          JSON.stringify(event),
          new Date(),
        ]),
      );
      wake();
    },
    get wakes() {
      return wakes;
    },
    async idle() {
      while (inFlight) await new Promise((r) => setTimeout(r, 5));
    },
  };
}
