import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DATABASE_PREFIX, SERVICES } from './services.js';

test("DATABASE_PREFIX names each service's own database prefix (npm start prewarms the embedded database by it)", async () => {
  assert.deepEqual(Object.keys(DATABASE_PREFIX).sort(), Object.keys(SERVICES).sort());
  for (const [name, load] of Object.entries(SERVICES)) {
    const module = await load();
    assert.equal(DATABASE_PREFIX[name], module.database?.envPrefix, name);
  }
});
