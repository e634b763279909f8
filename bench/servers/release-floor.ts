/**
 * The floor for release-cursor and csv-export: the least a Node server must do to give the same
 * answers as inventory-service's release-audit routes from the same table — Fastify 5 with no
 * logger, no hooks, no plugins, node-postgres Pool of the same size, the same SQL, the same JSON
 * (response schemas compiled by Fastify) and the same CSV bytes:
 *
 * - `GET /api/stocks/release-events/cursor?size&after` — the keyset page: decode the cursor
 *   (base64url `<epoch ms>:<uuid>`), `WHERE (created_at, id) < ($1, $2) ORDER BY created_at DESC,
 *   id DESC LIMIT size + 1`, `nextCursor` from the last item.
 * - `GET /api/stocks/release-events?page&size` — the offset page: `count(*)`, then
 *   `ORDER BY … LIMIT size OFFSET page × size`.
 * - `GET /api/stocks/release-events/export?limit` — the CSV: the same keyset pages of
 *   FLOOR_EXPORT_PAGE_SIZE rows (the service's INVENTORY_EXPORT_PAGE_SIZE, default 500) streamed as
 *   they come, one chunk per page, with back-pressure (a Readable from an async generator); the
 *   same quoting, formula neutralisation and Instant format.
 *
 * No filters beyond what the benchmark asks (the service's orderId/from/to are not used by it).
 * Env: FLOOR_DB_URL, FLOOR_DB_POOL_SIZE (10), FLOOR_EXPORT_PAGE_SIZE (500), SERVER_PORT, SERVER_HOST.
 */
import { Readable } from 'node:stream';
import Fastify from 'fastify';
import pg from 'pg';
import { guardChild, requireEnv } from '../lib/child-guard.js';

interface Row {
  id: string;
  order_id: string;
  reservation_id: string;
  reason: string;
  created_at: Date;
}

const COLUMNS = 'id, order_id, reservation_id, reason, created_at';
const ORDER = 'ORDER BY created_at DESC, id DESC';
const AFTER_SQL = `SELECT ${COLUMNS} FROM inventory_release_events WHERE (created_at, id) < ($1::timestamptz, $2::uuid) ${ORDER} LIMIT $3`;
const FIRST_SQL = `SELECT ${COLUMNS} FROM inventory_release_events ${ORDER} LIMIT $1`;
const COUNT_SQL = 'SELECT count(*)::bigint AS n FROM inventory_release_events';
const PAGE_SQL = `SELECT ${COLUMNS} FROM inventory_release_events ${ORDER} LIMIT $1 OFFSET $2`;

const pool = new pg.Pool({
  connectionString: requireEnv('FLOOR_DB_URL'),
  max: Number(process.env.FLOOR_DB_POOL_SIZE ?? 10),
  idleTimeoutMillis: 30_000,
});
pool.on('error', () => undefined);
const exportPageSize = Number(process.env.FLOOR_EXPORT_PAGE_SIZE ?? 500);

const fetchPage = async (after: { ms: number; id: string } | undefined, limit: number): Promise<Row[]> =>
  after
    ? (await pool.query<Row>(AFTER_SQL, [new Date(after.ms), after.id, limit])).rows
    : (await pool.query<Row>(FIRST_SQL, [limit])).rows;

const item = (r: Row) => ({
  releaseId: r.id,
  orderId: r.order_id,
  reservationId: r.reservation_id,
  reason: r.reason,
  createdAt: r.created_at.toISOString(),
});
const cursorOf = (r: Row) => Buffer.from(`${r.created_at.getTime()}:${r.id}`, 'utf8').toString('base64url');
function decodeCursor(text: string): { ms: number; id: string } | undefined {
  const [ms, id, extra] = Buffer.from(text, 'base64url').toString('utf8').split(':');
  if (extra !== undefined || !ms || !id || !/^-?\d{1,16}$/.test(ms)) return undefined;
  return { ms: Number(ms), id: id.toLowerCase() };
}

// CSV: quote only fields with , " CR or LF; neutralise formula starts; java.time.Instant text.
const csvField = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
const neutralize = (v: string) => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v);
const instant = (d: Date) => {
  const iso = d.toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
};
const csvLine = (r: Row) =>
  `${csvField(r.id)},${csvField(r.order_id)},${csvField(r.reservation_id)},${csvField(r.reason === null ? '' : neutralize(r.reason))},${csvField(instant(r.created_at))}\n`;

const releaseEvent = {
  type: 'object',
  properties: {
    releaseId: { type: 'string' },
    orderId: { type: 'string' },
    reservationId: { type: 'string' },
    reason: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
  required: ['releaseId', 'orderId', 'reservationId', 'reason', 'createdAt'],
} as const;
const size = { type: 'integer', minimum: 1, maximum: 100, default: 20 } as const;

const app = Fastify({ logger: false });

app.get<{ Querystring: { size: number; after?: string } }>(
  '/api/stocks/release-events/cursor',
  {
    schema: {
      querystring: { type: 'object', properties: { size, after: { type: 'string' } } },
      response: {
        200: {
          type: 'object',
          properties: {
            items: { type: 'array', items: releaseEvent },
            size: { type: 'integer' },
            hasMore: { type: 'boolean' },
            nextCursor: { anyOf: [{ type: 'string' }, { type: 'null' }] },
          },
          required: ['items', 'size', 'hasMore', 'nextCursor'],
        },
      },
    },
  },
  async (request, reply) => {
    const { size: n, after } = request.query;
    const position = after?.trim() ? decodeCursor(after.trim()) : undefined;
    if (after?.trim() && !position) return reply.code(400).send({ status: 400, error: 'Bad Request' });
    const rows = await fetchPage(position, n + 1);
    const hasMore = rows.length > n;
    const items = rows.slice(0, n);
    const last = items.at(-1);
    return { items: items.map(item), size: n, hasMore, nextCursor: hasMore && last ? cursorOf(last) : null };
  },
);

app.get<{ Querystring: { page: number; size: number } }>(
  '/api/stocks/release-events',
  {
    schema: {
      querystring: {
        type: 'object',
        properties: { page: { type: 'integer', minimum: 0, maximum: 2_147_483_647, default: 0 }, size },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            items: { type: 'array', items: releaseEvent },
            page: { type: 'integer' },
            size: { type: 'integer' },
            totalElements: { type: 'integer' },
            totalPages: { type: 'integer' },
            hasNext: { type: 'boolean' },
          },
          required: ['items', 'page', 'size', 'totalElements', 'totalPages', 'hasNext'],
        },
      },
    },
  },
  async (request) => {
    const { page, size: n } = request.query;
    const total = Number((await pool.query<{ n: string }>(COUNT_SQL)).rows[0]?.n ?? 0);
    const rows = total > page * n ? (await pool.query<Row>(PAGE_SQL, [n, page * n])).rows : [];
    const totalPages = Math.ceil(total / n);
    return { items: rows.map(item), page, size: n, totalElements: total, totalPages, hasNext: page + 1 < totalPages };
  },
);

app.get<{ Querystring: { limit: number } }>(
  '/api/stocks/release-events/export',
  {
    schema: {
      querystring: {
        type: 'object',
        properties: { limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 1000 } },
      },
    },
  },
  async (request, reply) => {
    const limit = request.query.limit;
    let requested = Math.min(exportPageSize, limit);
    const first = await fetchPage(undefined, requested);
    async function* chunks(): AsyncGenerator<string> {
      yield 'release_id,order_id,reservation_id,reason,created_at\n';
      let page = first;
      let remaining = limit;
      for (;;) {
        let text = '';
        for (const r of page) text += csvLine(r);
        if (text) yield text;
        remaining -= page.length;
        const last = page.at(-1);
        if (!last || page.length < requested || remaining <= 0) return;
        requested = Math.min(exportPageSize, remaining);
        page = await fetchPage({ ms: last.created_at.getTime(), id: last.id }, requested);
      }
    }
    reply
      .header('content-type', 'text/csv;charset=UTF-8')
      .header('content-disposition', 'attachment; filename="inventory-release-events.csv"');
    return reply.send(Readable.from(chunks()));
  },
);

await app.listen({ port: Number(requireEnv('SERVER_PORT')), host: process.env.SERVER_HOST ?? '127.0.0.1' });
guardChild(async () => {
  await app.close();
  await pool.end();
});
