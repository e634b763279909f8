import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixtureService } from '../fixtures/test-service.js';
import { createService } from '../service.js';

test('embedded mode with DATA_DIR keeps its data across a restart; schemas isolate services', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ecom-datadir-'));
  const env = { DATA_DIR: dataDir, SERVER_PORT: '0', LOG_LEVEL: 'warn' };
  try {
    const first = await createService(fixtureService, { env });
    const other = await createService(fixtureService, { env, schema: 'fixture_other' });
    assert.equal(first.deps.db.kind, 'pglite');
    await first.deps.db.execute('INSERT INTO items (id, name) VALUES (1, $1)', ['kept']);
    assert.deepEqual(await other.deps.db.query('SELECT id FROM items'), [], 'another schema does not see it');
    await Promise.all([first.stop(), other.stop()]);

    const second = await createService(fixtureService, { env });
    try {
      const res = await second.app.inject({ method: 'GET', url: '/items/1' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().name, 'kept');
      const applied = await second.deps.db.query<{ n: number }>('SELECT count(*) AS n FROM schema_migrations');
      assert.equal(applied[0]?.n, 2, 'migrations are not re-applied on restart');
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
