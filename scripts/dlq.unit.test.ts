import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { runDlqCli } from './dlq.js';

// A fake service and auth-service on one port: records what the CLI sends.
const seen: { method: string; url: string; auth?: string; body: string }[] = [];
let base = '';
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
    res.setHeader('content-type', 'application/json');
    if (req.url === '/api/auth/token') return res.end(JSON.stringify({ accessToken: 'minted-token' }));
    if (body.includes('missing')) {
      res.statusCode = 404;
      return res.end(JSON.stringify({ status: 404, message: 'no such message' }));
    }
    res.end(JSON.stringify({ ok: true }));
  });
});

before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

test('replay mints an admin token at auth-service and posts to the DLQ endpoint', async () => {
  seen.length = 0;
  await runDlqCli(
    ['inventory', 'replay', 'q.inventory.order-created.dlq', '--message-id', 'm-1', '--reason', 'fixed'],
    {
      INVENTORY_URL: base,
      AUTH_URL: base,
    },
  );
  assert.equal(seen[0]?.url, '/api/auth/token');
  assert.deepEqual(JSON.parse(seen[0]!.body).roles, ['admin']);
  assert.deepEqual(
    { method: seen[1]?.method, url: seen[1]?.url, auth: seen[1]?.auth },
    { method: 'POST', url: '/admin/dlq/q.inventory.order-created.dlq/replay', auth: 'Bearer minted-token' },
  );
  assert.deepEqual(JSON.parse(seen[1]!.body), { messageId: 'm-1', reason: 'fixed' });
});

test('DLQ_TOKEN is used as is; an error answer becomes an error naming the status', async () => {
  seen.length = 0;
  await assert.rejects(
    runDlqCli(['payment', 'discard', 'q.payment.inventory-reserved.dlq', '--message-id', 'missing', '--reason', 'x'], {
      PAYMENT_URL: base,
      DLQ_TOKEN: 'given',
    }),
    /404: no such message/,
  );
  assert.equal(seen.length, 1);
  assert.equal(seen[0]?.auth, 'Bearer given');
});

test('bad usage is refused before any request', async () => {
  seen.length = 0;
  await assert.rejects(runDlqCli(['billing', 'list'], { DLQ_TOKEN: 't' }), /usage: dlq/);
  await assert.rejects(runDlqCli(['order', 'show'], { DLQ_TOKEN: 't', ORDER_URL: base }), /needs a queue name/);
  assert.equal(seen.length, 0);
});
