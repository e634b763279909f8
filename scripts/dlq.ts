/**
 * `npm run dlq -- <service> <command> …`: the DLQ admin endpoints from a terminal.
 *   npm run dlq -- inventory list                         every DLQ of the service with its depth
 *   npm run dlq -- inventory show q.inventory.order-created.dlq [--limit 20]
 *   npm run dlq -- inventory replay q.inventory.order-created.dlq [--message-id ID] [--reason TEXT]
 *   npm run dlq -- inventory discard q.inventory.order-created.dlq --message-id ID --reason TEXT
 *   npm run dlq -- inventory audit [--limit 20]
 * The service URL is http://localhost:<spec port>, or <SERVICE>_URL. The admin token is
 * DLQ_TOKEN, or one minted at auth-service (AUTH_URL, default http://localhost:8084) for
 * subject DLQ_ACTOR (default `ops-cli`) with role `admin`.
 */
import { parseArgs } from 'node:util';

const PORTS: Record<string, number> = { order: 8081, inventory: 8082, payment: 8083, notification: 8086 };

export async function runDlqCli(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
): Promise<unknown> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'message-id': { type: 'string' }, reason: { type: 'string' }, limit: { type: 'string' } },
  });
  const [service, command, queue] = positionals;
  if (!service || !PORTS[service] || !command) {
    throw new Error(`usage: dlq <${Object.keys(PORTS).join('|')}> <list|show|replay|discard|audit> [queue] [options]`);
  }
  const base = env[`${service.toUpperCase()}_URL`] ?? `http://localhost:${PORTS[service]}`;
  const token = env.DLQ_TOKEN ?? (await mintAdminToken(env));
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const payload = (await res.json()) as { message?: string };
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${payload.message ?? JSON.stringify(payload)}`);
    return payload;
  };
  const needQueue = () => {
    if (!queue) throw new Error(`${command} needs a queue name (see: dlq ${service} list)`);
    return encodeURIComponent(queue);
  };
  const limit = values.limit ?? '50';
  switch (command) {
    case 'list':
      return call('GET', '/admin/dlq');
    case 'show':
      return call('GET', `/admin/dlq/${needQueue()}/messages?limit=${encodeURIComponent(limit)}`);
    case 'replay':
      return call('POST', `/admin/dlq/${needQueue()}/replay`, {
        messageId: values['message-id'],
        reason: values.reason,
      });
    case 'discard':
      return call('POST', `/admin/dlq/${needQueue()}/discard`, {
        messageId: values['message-id'],
        reason: values.reason,
      });
    case 'audit':
      return call('GET', `/admin/dlq/audit?limit=${encodeURIComponent(limit)}`);
    default:
      throw new Error(`unknown command ${command}`);
  }
}

async function mintAdminToken(env: Record<string, string | undefined>): Promise<string> {
  const auth = env.AUTH_URL ?? 'http://localhost:8084';
  const res = await fetch(`${auth}/api/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: env.DLQ_ACTOR ?? 'ops-cli', roles: ['admin'], ttlSeconds: 300 }),
  });
  if (!res.ok) throw new Error(`could not get an admin token from ${auth}: ${res.status}`);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runDlqCli(process.argv.slice(2)).then(
    (out) => console.log(JSON.stringify(out, null, 2)),
    (err: Error) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
