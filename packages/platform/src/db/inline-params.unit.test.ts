import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inlineParams } from './inline-params.js';

describe('inlineParams: a statement with its parameters as literals, or undefined when unsure', () => {
  test('placeholders become quoted literals; NULL for null and undefined; $10 is not $1', () => {
    const ten = Array.from({ length: 10 }, (_, i) => String(i + 1));
    assert.equal(inlineParams('INSERT INTO t VALUES ($1, $2, $10)', ten), undefined, '$3 … $9 unused');
    assert.equal(
      inlineParams('SELECT $1::uuid, $2, $3, $4, $5, $1', ['a', 42, true, null, undefined]),
      "SELECT 'a'::uuid, '42', 'true', NULL, NULL, 'a'",
    );
    assert.equal(
      inlineParams('SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10', ten),
      "SELECT '1', '2', '3', '4', '5', '6', '7', '8', '9', '10'",
    );
  });

  test("strings are escaped with pg's escapeLiteral: quotes doubled, backslashes as E''", () => {
    assert.equal(inlineParams('SELECT $1', ["it's"]), "SELECT 'it''s'");
    assert.equal(inlineParams('SELECT $1', ["'); DROP TABLE t; --"]), "SELECT '''); DROP TABLE t; --'");
    assert.equal(inlineParams('SELECT $1', ['a\\b']), "SELECT  E'a\\\\b'");
    assert.equal(inlineParams('SELECT $1', ['日本 🚀 $2']), "SELECT '日本 🚀 $2'");
  });

  test('flat arrays go as the array literal pg binds, quoted as a string', () => {
    assert.equal(
      inlineParams('SELECT $1::varchar[], $2::int[], $3::text[]', [['a', "it's", 'q"b\\c', null], [1, -2], []]),
      `SELECT  E'{"a","it''s","q\\\\"b\\\\\\\\c",NULL}'::varchar[], '{"1","-2"}'::int[], '{}'::text[]`,
    );
  });

  test('dates are sent as node-postgres sends them', () => {
    const d = new Date('2026-11-27T15:40:00.123Z');
    const sql = inlineParams('SELECT $1::timestamptz', [d]);
    assert.match(sql ?? '', /^SELECT '2026-11-27T\d\d:\d\d:00\.123[+-]\d\d:\d\d'::timestamptz$/);
  });

  test('placeholders inside quotes, identifiers, comments and dollar quotes are left alone', () => {
    assert.equal(
      inlineParams(`SELECT '$1', "col$1", a$1, $1 -- $1\n, /* $1 /* nested $1 */ $1 */ $x$ $1 $x$, $$ $1 $$ FROM t`, [
        'v',
      ]),
      `SELECT '$1', "col$1", a$1, 'v' -- $1\n, /* $1 /* nested $1 */ $1 */ $x$ $1 $x$, $$ $1 $$ FROM t`,
    );
    assert.equal(inlineParams(`SELECT 'it''s $1', $1`, ['v']), `SELECT 'it''s $1', 'v'`);
  });

  test('anything uncertain is refused (the caller binds the parameters instead)', () => {
    assert.equal(inlineParams(`SELECT E'\\' $1'`, ['v']), undefined, "E'' string");
    assert.equal(inlineParams(`SELECT 'open $1`, ['v']), undefined, 'unterminated quote');
    assert.equal(inlineParams('SELECT 1 /* open $1', ['v']), undefined, 'unterminated comment');
    assert.equal(inlineParams('SELECT $x$ open $1', ['v']), undefined, 'unterminated dollar quote');
    assert.equal(inlineParams('SELECT $2', ['v']), undefined, 'out of range');
    assert.equal(inlineParams('SELECT $1', ['v', 'w']), undefined, 'unused parameter');
    assert.equal(inlineParams('SELECT $0', ['v']), undefined, '$0');
    assert.equal(inlineParams('SELECT $1', ['a\0b']), undefined, 'NUL');
    assert.equal(inlineParams('SELECT $1', [[['a']]]), undefined, 'nested array');
    assert.equal(inlineParams('SELECT $1', [['a', 'b\0']]), undefined, 'NUL inside an array');
    assert.equal(inlineParams('SELECT $1', [[{ a: 1 }]]), undefined, 'object inside an array');
    assert.equal(inlineParams('SELECT $1', [{ a: 1 }]), undefined, 'object');
    assert.equal(inlineParams('SELECT $1', [Buffer.from('a')]), undefined, 'buffer');
    assert.equal(inlineParams('SELECT $1', [Number.NaN]), undefined, 'NaN');
    assert.equal(inlineParams('SELECT $1', [new Date(Number.NaN)]), undefined, 'invalid date');
    assert.equal(inlineParams('SELECT $1', [10n]), undefined, 'bigint');
  });
});
