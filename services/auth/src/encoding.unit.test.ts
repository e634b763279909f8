import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeBase64url, decodeJsonObject } from './encoding.js';

describe('decodeBase64url', () => {
  test('decodes canonical unpadded base64url', () => {
    assert.equal(decodeBase64url('aGk')?.toString(), 'hi');
    assert.equal(decodeBase64url('-_8')?.toString('hex'), 'fbff');
    assert.equal(decodeBase64url('')?.length, 0);
  });

  test('refuses other alphabets, padding, impossible lengths and non-canonical trailing bits', () => {
    // 'aGl' and 'aGk' both decode to "hi" in Node; only 'aGk' is the canonical spelling.
    for (const bad of ['a*b', 'aGk+', 'aG/k', 'a b', 'aGk=', 'aGkx=', 'a', 'abcde', '=abc', 'aGl']) {
      assert.equal(decodeBase64url(bad), undefined, bad);
    }
  });
});

describe('decodeJsonObject', () => {
  const seg = (s: string) => Buffer.from(s).toString('base64url');
  test('a JSON object decodes; arrays, scalars, bad JSON and bad UTF-8 do not', () => {
    assert.deepEqual(decodeJsonObject(seg('{"a":1}')), { a: 1 });
    for (const bad of ['[1]', '"x"', 'null', '{', '']) assert.equal(decodeJsonObject(seg(bad)), undefined, bad);
    assert.equal(decodeJsonObject(Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')), undefined);
  });
});
