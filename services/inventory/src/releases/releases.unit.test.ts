import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { stringify } from 'csv-stringify';
import type { Reservation } from '../reservations/reservation.js';
import { instantText } from '../shared/time.js';
import { acceptsCsv } from './accept.js';
import { CSV_OPTIONS, csvRecord, neutralizeFormula } from './csv.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { decideRelease, planRelease } from './decide-release.js';
import { exportReleaseEvents, type FetchReleasePage } from './export-release-events.js';
import { parseInstant } from './instant.js';
import type { ReleaseEventRow } from './release-event.js';

describe('cursor (http-api.md §3.5)', () => {
  test('round trip, optional padding, lowercase id', () => {
    const id = 'A32EE3E5-0F81-4A88-A361-F1F2158DFDBF';
    const cursor = encodeCursor({ createdAtMillis: 1770804000123, id: id.toLowerCase() });
    assert.doesNotMatch(cursor, /=/);
    assert.deepEqual(decodeCursor(cursor), { createdAtMillis: 1770804000123, id: id.toLowerCase() });
    assert.deepEqual(decodeCursor(`${cursor}=`)?.createdAtMillis, 1770804000123);
    assert.equal(decodeCursor(Buffer.from(`5:${id}`).toString('base64url'))?.id, id.toLowerCase());
  });
  test('malformed cursors are refused', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64url');
    for (const bad of [
      '',
      'a+b/',
      'abc$',
      'A',
      b64('x:y'),
      b64('1:2:3'),
      b64('1.5:a32ee3e5-0f81-4a88-a361-f1f2158dfdbf'),
      b64('99999999999999999:a32ee3e5-0f81-4a88-a361-f1f2158dfdbf'),
    ]) {
      assert.equal(decodeCursor(bad), undefined, bad);
    }
  });
});

describe('instant parsing (http-api.md §1.3)', () => {
  test('offset forms, fractions to the nanosecond, exact µs bounds', () => {
    const z = parseInstant('2026-02-11T10:00:00Z');
    assert.equal(z?.epochNanos, BigInt(Date.parse('2026-02-11T10:00:00Z')) * 1_000_000n);
    assert.equal(parseInstant('2026-02-11T12:00:00+02:00')?.epochNanos, z?.epochNanos);
    assert.equal(parseInstant('2026-02-11t10:00z')?.epochNanos, z?.epochNanos, 'seconds optional, case-insensitive');
    const n = parseInstant('2026-02-11T10:00:00.000001500Z')!;
    assert.equal(n.ceilMicros - n.floorMicros, 1n);
    const exact = parseInstant('2026-02-11T10:00:00.123456Z')!;
    assert.equal(exact.ceilMicros, exact.floorMicros);
  });
  test('anything else is refused', () => {
    for (const bad of [
      '2026-02-11',
      '2026-02-11T10:00:00',
      '2026-02-30T10:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-02-11T24:00:00Z',
      '2026-02-11T10:00:00+19:00',
      '2026-02-11T10:00:00.1234567890Z',
      'now',
    ]) {
      assert.equal(parseInstant(bad), undefined, bad);
    }
  });
});

describe('CSV cells (http-api.md §3.6)', () => {
  test('formula injection is neutralized, other values untouched', () => {
    for (const v of ['=1+1', '+1', '-1', '@x', '\tx', '\rx']) assert.equal(neutralizeFormula(v), `'${v}`);
    for (const v of ['PAYMENT_FAILED', 'a=b', ' =x', '']) assert.equal(neutralizeFormula(v), v);
  });
  test('records and instants as the original prints them', () => {
    const row = {
      id: 'i',
      order_id: 'o',
      reservation_id: 'r',
      reason: '=x',
      created_at: new Date('2026-02-11T10:00:00Z'),
    };
    assert.deepEqual(csvRecord(row), ['i', 'o', 'r', "'=x", '2026-02-11T10:00:00Z']);
    assert.equal(instantText(new Date('2026-02-11T10:00:00.120Z')), '2026-02-11T10:00:00.120Z');
  });
  test('Accept negotiation', () => {
    for (const ok of [
      undefined,
      '',
      '*/*',
      'text/csv',
      'text/*',
      'TEXT/CSV; charset=utf-8',
      'application/json, text/csv;q=0.1',
    ]) {
      assert.equal(acceptsCsv(ok), true, String(ok));
    }
    for (const no of ['application/json', 'text/html', 'text/csv;q=0', 'text/plain, application/*']) {
      assert.equal(acceptsCsv(no), false, no);
    }
  });
});

describe('CSV export stream (http-api.md §3.6)', () => {
  const HEADER = 'release_id,order_id,reservation_id,reason,created_at\n';
  const reasons = ['PAYMENT_FAILED', 'a,b', 'say "hi"', 'x\ny', 'x\ry', '=1', 'ü €'];
  const table = (n: number): ReleaseEventRow[] =>
    Array.from({ length: n }, (_, i) => ({
      id: `id-${String(i).padStart(4, '0')}`,
      order_id: 'o',
      reservation_id: 'r',
      reason: reasons[i % reasons.length]!,
      created_at: new Date(Date.UTC(2026, 1, 11, 10) - i * 1000),
    }));
  /** An in-memory keyset over `rows` (already newest first); fails on call number `failOn`. */
  const keyset = (rows: ReleaseEventRow[], failOn?: number) => {
    const calls: number[] = [];
    const fetch: FetchReleasePage = async (after, limit) => {
      calls.push(limit);
      if (calls.length === failOn) throw new Error('database down');
      const start = after ? rows.findIndex((r) => r.id === after.id) + 1 : 0;
      return rows.slice(start, start + limit);
    };
    return { calls, fetch };
  };
  const chunksOf = async (stream: Readable) => {
    const chunks: string[] = [];
    for await (const chunk of stream) chunks.push(String(chunk));
    return chunks;
  };
  /** What the per-record implementation wrote: every record through one streaming stringifier. */
  const perRecord = async (rows: ReleaseEventRow[]) =>
    (await chunksOf(Readable.from(rows.map(csvRecord)).pipe(stringify({ ...CSV_OPTIONS, header: true })))).join('');

  test('one chunk per page (the header with the first), the same bytes as the per-record stream', async () => {
    for (const [n, limit, pageSize, pages, reads] of [
      [8, 100, 3, 3, 3],
      [6, 100, 3, 2, 3], // the last, empty read adds no chunk
      [8, 6, 3, 2, 2], // the limit ends it without a further read
      [8, 7, 3, 3, 3],
      [0, 100, 3, 1, 1], // empty: the header alone
    ] as const) {
      const rows = table(n);
      const { calls, fetch } = keyset(rows);
      const chunks = await chunksOf(await exportReleaseEvents(fetch, { limit, pageSize }));
      const what = `n=${n} limit=${limit} pageSize=${pageSize}`;
      assert.equal(chunks.length, pages, what);
      assert.equal(calls.length, reads, what);
      assert.ok(chunks[0]!.startsWith(HEADER), what);
      assert.equal(chunks.join(''), await perRecord(rows.slice(0, limit)), what);
    }
  });

  test('a failing first page rejects (a clean error response); a later one errors the stream after the pages sent', async () => {
    await assert.rejects(exportReleaseEvents(keyset(table(8), 1).fetch, { limit: 100, pageSize: 3 }), /database down/);
    const stream = await exportReleaseEvents(keyset(table(8), 2).fetch, { limit: 100, pageSize: 3 });
    const got: string[] = [];
    await assert.rejects(async () => {
      for await (const chunk of stream) got.push(String(chunk));
    }, /database down/);
    assert.equal(got.join(''), await perRecord(table(3)), 'the first page went out, then the stream failed');
    assert.ok(stream.destroyed);
  });
});

describe('release decisions (events.md §6.2)', () => {
  const reservation = (status: Reservation['status']): Reservation => ({
    id: 'r',
    orderId: 'o',
    status,
    reason: null,
    createdAt: new Date(),
    items: [{ skuId: 'A', quantity: 2 }],
  });
  test('only RESERVED is released', () => {
    assert.equal(decideRelease(reservation('RESERVED')).kind, 'release');
    assert.deepEqual(decideRelease(reservation('FAILED')), { kind: 'skip', why: 'FAILED' });
    assert.deepEqual(decideRelease(reservation('RELEASED')), { kind: 'skip', why: 'RELEASED' });
    assert.deepEqual(decideRelease(undefined), { kind: 'skip', why: 'NO_RESERVATION' });
  });
  test('stock goes back from reserved to available; missing rows or negative reserved are errors', () => {
    assert.deepEqual(planRelease([{ skuId: 'A', quantity: 2 }], new Map([['A', 5]])), {
      ok: true,
      moves: [{ skuId: 'A', availableDelta: 2, reservedDelta: -2 }],
    });
    assert.equal(planRelease([{ skuId: 'A', quantity: 2 }], new Map([['A', 1]])).ok, false);
    assert.equal(planRelease([{ skuId: 'A', quantity: 2 }], new Map()).ok, false);
  });
});
