import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maySet, mayTombstone, tombstoneText, versionOf } from './entry.js';

test('versionOf reads a numeric version from a JSON object only', () => {
  assert.equal(versionOf('{"version":3,"a":1}'), 3);
  assert.equal(versionOf(tombstoneText(9)), 9);
  for (const raw of [null, '', 'nope', '[1]', '{"version":"3"}', '{"version":null}', '"x"', '{}']) {
    assert.equal(versionOf(raw), undefined, String(raw));
  }
});

test('maySet refuses only strictly newer content; mayTombstone keeps anything at least as new', () => {
  assert.equal(maySet(null, 1), true);
  assert.equal(maySet('{"version":2}', 1), false);
  assert.equal(maySet('{"version":2}', 2), true);
  assert.equal(maySet(tombstoneText(2), 2), true);
  assert.equal(maySet('garbage', 0), true);
  assert.equal(mayTombstone(null, 1), true);
  assert.equal(mayTombstone('{"version":2}', 2), false);
  assert.equal(mayTombstone('{"version":2}', 3), true);
  assert.equal(mayTombstone(tombstoneText(5), 4), false);
  assert.equal(mayTombstone('garbage', 1), true);
});
