import { createRequire } from 'node:module';
import { escapeLiteral } from 'pg';

/** The text node-postgres itself would send for a bound parameter (lib/utils.js, pg 8). */
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as {
  prepareValue(value: unknown): string | null;
};

/**
 * A parameterized statement rewritten with its parameters as SQL literals, so it can travel in
 * the same simple-protocol message as `BEGIN` (db/postgres.ts: one round trip instead of two at
 * the start of every transaction). Returns undefined — the caller then sends it the normal way,
 * as a bound parameter — whenever the rewrite could mean anything else:
 *
 * - a value that is not a string, a finite number, a boolean, a valid Date, null or undefined
 *   (arrays, objects and buffers have driver-specific encodings);
 * - a string holding U+0000 (the simple protocol ends the text there);
 * - a text whose placeholders cannot be found with certainty: an escape-string literal (E'…'),
 *   an unterminated quote or comment, a placeholder number out of range, or a parameter that
 *   the text never uses.
 *
 * The literals mean what node-postgres's bound parameters mean: pg sends every parameter as
 * text of unspecified type, and an untyped quoted literal is resolved from its context the same
 * way (`$1::uuid` and `'…'::uuid` alike). Strings are escaped with pg's own `escapeLiteral`.
 */
export function inlineParams(text: string, params: readonly unknown[]): string | undefined {
  const literals: string[] = [];
  for (const value of params) {
    const literal = toLiteral(value);
    if (literal === undefined) return undefined;
    literals.push(literal);
  }
  const used = new Set<number>();
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === "'") {
      // An E'…' string takes backslash escapes: finding its end needs more than this scanner does.
      const before = text[i - 1];
      if ((before === 'e' || before === 'E') && !isIdentChar(text[i - 2])) return undefined;
      const end = endOfQuoted(text, i, "'");
      if (end < 0) return undefined;
      out += text.slice(i, end);
      i = end;
    } else if (c === '"') {
      const end = endOfQuoted(text, i, '"');
      if (end < 0) return undefined;
      out += text.slice(i, end);
      i = end;
    } else if (c === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? n : end;
      out += text.slice(i, stop);
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = endOfBlockComment(text, i);
      if (end < 0) return undefined;
      out += text.slice(i, end);
      i = end;
    } else if (c === '$') {
      const digits = /^\$(\d+)/.exec(text.slice(i, i + 12));
      if (digits && !isIdentChar(text[i - 1])) {
        const index = Number(digits[1]);
        if (index < 1 || index > literals.length) return undefined;
        used.add(index);
        out += literals[index - 1];
        i += digits[0].length;
        continue;
      }
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i));
      if (tag && !isIdentChar(text[i - 1])) {
        const close = text.indexOf(tag[0], i + tag[0].length);
        if (close < 0) return undefined;
        const end = close + tag[0].length;
        out += text.slice(i, end);
        i = end;
        continue;
      }
      out += c;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return used.size === literals.length ? out : undefined;
}

function toLiteral(value: unknown): string | undefined {
  if (value === null || value === undefined) return 'NULL';
  const inlinable =
    typeof value === 'string' ||
    (typeof value === 'number' && Number.isFinite(value)) ||
    typeof value === 'boolean' ||
    (value instanceof Date && !Number.isNaN(value.getTime()));
  if (!inlinable) return undefined;
  const text = prepareValue(value);
  if (text === null) return 'NULL';
  return text.includes('\0') ? undefined : escapeLiteral(text);
}

function isIdentChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_$]/.test(c);
}

/** Index just past the quote that closes the one at `start` (a doubled quote is an escaped one); -1 if none. */
function endOfQuoted(text: string, start: number, quote: string): number {
  let i = start + 1;
  for (;;) {
    const close = text.indexOf(quote, i);
    if (close < 0) return -1;
    if (text[close + 1] === quote) {
      i = close + 2;
      continue;
    }
    return close + 1;
  }
}

/** Index just past the end of the (nestable) block comment at `start`; -1 if unterminated. */
function endOfBlockComment(text: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    if (text[i] === '/' && text[i + 1] === '*') {
      depth++;
      i += 2;
    } else if (text[i] === '*' && text[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return -1;
}
