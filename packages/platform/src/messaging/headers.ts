import type { Headers, HeaderValue } from './transport.js';

/**
 * amqplib decodes some AMQP field types into shapes the rest of the code should never see:
 * byte arrays ('x') as Buffers that alias the frame buffer (RabbitMQ may send x-death `queue`
 * this way), and timestamps ('T') as `{ '!': 'timestamp', value: <unix seconds> }`.
 * We turn them into UTF-8 strings and plain numbers (seconds) so both transports hand the
 * consumer identical headers.
 */
export function normalizeHeaders(raw: unknown): Headers {
  if (raw === null || typeof raw !== 'object') return {};
  const out: Headers = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) out[k] = normalizeValue(v);
  return out;
}

function normalizeValue(v: unknown): HeaderValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return Number(v);
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (Array.isArray(v)) return v.map(normalizeValue);
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (o['!'] === 'timestamp') return normalizeValue(o.value);
    const out: { [k: string]: HeaderValue } = {};
    for (const [k, inner] of Object.entries(o)) out[k] = normalizeValue(inner);
    return out;
  }
  return String(v);
}

/** One `x-death` entry as RabbitMQ writes it (one per queue + reason). */
export interface XDeathEntry {
  queue: string;
  reason: string;
  count: number;
  exchange: string;
  routingKeys: string[];
  /** Unix seconds. */
  time: number | null;
}

/** Parses the `x-death` header defensively: a malformed entry is skipped, never thrown on. */
export function readXDeath(headers: Headers): XDeathEntry[] {
  const raw = headers['x-death'];
  if (!Array.isArray(raw)) return [];
  const out: XDeathEntry[] = [];
  for (const item of raw) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) continue;
    const e = normalizeValue(item) as { [k: string]: HeaderValue };
    const rks = e['routing-keys'];
    out.push({
      queue: typeof e.queue === 'string' ? e.queue : '',
      reason: typeof e.reason === 'string' ? e.reason : '',
      count: typeof e.count === 'number' ? e.count : 0,
      exchange: typeof e.exchange === 'string' ? e.exchange : '',
      routingKeys: Array.isArray(rks) ? rks.filter((x): x is string => typeof x === 'string') : [],
      time: typeof e.time === 'number' ? e.time : null,
    });
  }
  return out;
}

/** `count` of the first x-death entry for `queue` (spec §4.1 retryCount), 0 when absent. */
export function deathCount(headers: Headers, queue: string, reason?: string): number {
  const entry = readXDeath(headers).find((e) => e.queue === queue && (reason === undefined || e.reason === reason));
  return entry?.count ?? 0;
}

/**
 * What RabbitMQ does to the headers when it dead-letters a message (3.x semantics): the entry
 * for the same (queue, reason) gets count+1 and moves to the front (keeping its first `time`,
 * exchange and routing-keys); otherwise a new entry with count 1 goes in front. The
 * x-first-death-* headers are written only on the first dead-lettering.
 */
export function withDeath(
  headers: Headers,
  death: { queue: string; reason: 'rejected' | 'expired'; exchange: string; routingKey: string; timeSeconds: number },
): Headers {
  const entries = Array.isArray(headers['x-death']) ? (headers['x-death'] as HeaderValue[]) : [];
  const isSame = (e: HeaderValue) =>
    e !== null && typeof e === 'object' && !Array.isArray(e) && e.queue === death.queue && e.reason === death.reason;
  const found = entries.find(isSame) as { [k: string]: HeaderValue } | undefined;
  const entry: { [k: string]: HeaderValue } = found
    ? { ...found, count: (typeof found.count === 'number' ? found.count : 0) + 1 }
    : {
        count: 1,
        reason: death.reason,
        queue: death.queue,
        time: death.timeSeconds,
        exchange: death.exchange,
        'routing-keys': [death.routingKey],
      };
  const out: Headers = { ...headers, 'x-death': [entry, ...entries.filter((e) => !isSame(e))] };
  if (!Array.isArray(headers['x-death'])) {
    out['x-first-death-exchange'] = death.exchange;
    out['x-first-death-queue'] = death.queue;
    out['x-first-death-reason'] = death.reason;
  }
  return out;
}
