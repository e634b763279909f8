import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JSON_MAX_DEPTH, scanJson } from './hardening.js';

const deep = (n: number, open = '[', close = ']') => `${open.repeat(n)}${close.repeat(n)}`;

test('scanJson: nesting up to the limit passes, one level more is JSON_TOO_DEEP', () => {
  assert.equal(scanJson(deep(JSON_MAX_DEPTH), JSON_MAX_DEPTH), undefined);
  assert.equal(scanJson(deep(JSON_MAX_DEPTH + 1), JSON_MAX_DEPTH)?.code, 'JSON_TOO_DEEP');
  assert.equal(scanJson(`${'{"a":'.repeat(65)}1${'}'.repeat(65)}`, 64)?.code, 'JSON_TOO_DEEP');
  // Siblings do not add up; brackets inside strings do not count.
  assert.equal(scanJson(`[${Array.from({ length: 1000 }, () => deep(10)).join(',')}]`, 64), undefined);
  assert.equal(scanJson(JSON.stringify({ s: '['.repeat(500) }), 64), undefined);
  assert.equal(scanJson(JSON.stringify({ s: 'a\\"[[[[' }), 3), undefined);
});

test('scanJson: a \\u0000 escape is NUL_CHARACTER; an escaped backslash before u0000 is text', () => {
  assert.equal(scanJson(JSON.stringify({ a: 'x\u0000y' }), 64)?.code, 'NUL_CHARACTER');
  assert.equal(scanJson(JSON.stringify({ 'k\u0000': 1 }), 64)?.code, 'NUL_CHARACTER');
  assert.equal(scanJson(JSON.stringify({ a: '\\u0000' }), 64), undefined);
  assert.equal(scanJson(JSON.stringify({ a: '\u0001\u001f' }), 64), undefined);
});

test('scanJson: unpaired surrogate escapes are INVALID_UNICODE; pairs and raw astral characters pass', () => {
  assert.equal(scanJson('{"a":"\\ud83d\\ude00"}', 64), undefined);
  assert.equal(scanJson('{"a":"\\uD83D\\uDE00"}', 64), undefined);
  assert.equal(scanJson(JSON.stringify({ a: '😀' }), 64), undefined);
  assert.equal(scanJson('{"a":"\\ud83d"}', 64)?.code, 'INVALID_UNICODE');
  assert.equal(scanJson('{"a":"\\ud83dx"}', 64)?.code, 'INVALID_UNICODE');
  assert.equal(scanJson('{"a":"\\ude00"}', 64)?.code, 'INVALID_UNICODE');
  assert.equal(scanJson('{"a":"\\ud83d\\ud83d"}', 64)?.code, 'INVALID_UNICODE');
  assert.equal(scanJson(JSON.stringify({ a: 'x\udfff' }), 64)?.code, 'INVALID_UNICODE');
});

test('scanJson: malformed JSON is left to the parser', () => {
  for (const text of ['{', '}', ']]]]', '"unterminated', '{"a":"\\u12"}', ''])
    assert.equal(scanJson(text, 64), undefined);
});
