import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDatabaseUrl } from './url.js';

test('a JDBC URL is accepted: jdbc: dropped, user/password from the fallback', () => {
  assert.deepEqual(parseDatabaseUrl('jdbc:postgresql://db.internal:55432/order_db', { user: 'svc', password: 'pw' }), {
    host: 'db.internal',
    port: 55432,
    database: 'order_db',
    user: 'svc',
    password: 'pw',
    options: {},
  });
});

test('credentials in the URL (userinfo or query) win over the fallback; the default is cloud/cloud', () => {
  const a = parseDatabaseUrl('postgres://alice:s%40cret@h/db', { user: 'x', password: 'y' });
  assert.equal(a.user, 'alice');
  assert.equal(a.password, 's@cret');
  const b = parseDatabaseUrl('jdbc:postgresql://h:5433/db?user=bob&password=pw&sslmode=require');
  assert.deepEqual([b.user, b.password, b.port, b.options], ['bob', 'pw', 5433, { sslmode: 'require' }]);
  const c = parseDatabaseUrl('postgresql://h/db');
  assert.deepEqual([c.user, c.password, c.port], ['cloud', 'cloud', 5432]);
});

test('bad URLs are refused with a message saying what is wrong', () => {
  assert.throws(() => parseDatabaseUrl('mysql://h/db'), /unsupported database URL scheme/);
  assert.throws(() => parseDatabaseUrl('postgres://h/'), /names no database/);
  assert.throws(() => parseDatabaseUrl('not a url'), /not a database URL/);
});
