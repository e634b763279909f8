import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DB_MODES, startTestIssuer, type TestIssuer } from '@ecom/platform/testing';
import { type Inventory, startInventory } from './test-support/harness.js';

const ROWS = 10_000;
const PAGE = 100;

for (const mode of DB_MODES) {
  describe(`release-audit paging over ${ROWS} rows with colliding timestamps on ${mode}`, () => {
    let issuer: TestIssuer;
    let inv: Inventory;
    before(async () => {
      issuer = await startTestIssuer();
      inv = await startInventory(mode, issuer);
      // 10,000 rows on only 37 distinct instants (many share a millisecond): the id breaks ties.
      await inv.service.deps.db.execute(
        `INSERT INTO inventory_release_events (id, order_id, reservation_id, reason, created_at)
         SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'PAYMENT_FAILED',
                timestamptz '2026-02-11T10:00:00.123Z' - (g % 37) * interval '1 millisecond'
           FROM generate_series(1, ${ROWS}) AS g`,
      );
    });
    after(async () => {
      await inv.close();
      await issuer.close();
    });

    const get = async (url: string) => {
      const res = await inv.service.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
      return res.json();
    };

    test('offset pages and cursor pages list the same rows in the same order: none skipped, none repeated', async () => {
      const byOffset: string[] = [];
      for (let page = 0; ; page++) {
        const body = await get(`/api/stocks/release-events?size=${PAGE}&page=${page}`);
        byOffset.push(...body.items.map((r: { releaseId: string }) => r.releaseId));
        if (!body.hasNext) break;
      }
      const byCursor: string[] = [];
      let after = '';
      for (;;) {
        const body = await get(
          `/api/stocks/release-events/cursor?size=${PAGE}${after ? `&after=${encodeURIComponent(after)}` : ''}`,
        );
        byCursor.push(...body.items.map((r: { releaseId: string }) => r.releaseId));
        if (!body.hasMore) break;
        after = body.nextCursor;
      }
      assert.equal(byOffset.length, ROWS);
      assert.equal(new Set(byOffset).size, ROWS, 'offset paging repeated no row');
      assert.equal(byCursor.length, ROWS);
      assert.equal(new Set(byCursor).size, ROWS, 'cursor paging repeated no row');
      assert.deepEqual(byCursor, byOffset, 'both orders are created_at DESC, id DESC');
    });
  });
}
