import assert from 'node:assert/strict';
import { test } from 'node:test';
import { traceIdFrom } from './trace-id.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('a sent X-Trace-Id is echoed trimmed', () => {
  assert.equal(traceIdFrom('  req-42 '), 'req-42');
  assert.equal(traceIdFrom(['first', 'second']), 'first');
  assert.equal(traceIdFrom('with inner space'), 'with inner space');
});

test('absent, blank, over 128 characters or not printable ASCII → a new UUID', () => {
  for (const bad of [undefined, '', '   ', 'a'.repeat(129), 'tab\there', 'new\nline', 'ünïcode', '\u0000']) {
    assert.match(traceIdFrom(bad), UUID, JSON.stringify(bad));
  }
  assert.notEqual(traceIdFrom(undefined), traceIdFrom(undefined));
});
