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
 * - a value that is not a string, a finite number, a boolean, a valid Date, null or undefined,
 *   or a flat array of those (objects, buffers and nested arrays have driver-specific encodings);
 * - a string holding U+0000 (the simple protocol ends the text there), also inside an array;
 * - a text whose placeholders cannot be found with certainty: an escape-string literal (E'…'),
 *   an unterminated quote or comment, a placeholder number out of range, or a parameter that
 *   the text never uses.
 *
 * The literals mean what node-postgres's bound parameters mean: pg sends every parameter as
 * text of unspecified type, and an untyped quoted literal is resolved from its context the same
 * way (`$1::uuid` and `'…'::uuid` alike). Strings are escaped with pg's own `escapeLiteral`.
 */
export function inlineParams(text: string, params: readonly unknown[]): string | undefined {
  const template = templateOf(text);
  const literals = template && literalsFor(template, params);
  if (!template || !literals) return undefined;
  let out = template.parts[0]!;
  for (let k = 0; k < template.slots.length; k++) out += literals[template.slots[k]! - 1] + template.parts[k + 1]!;
  return out;
}

/**
 * The parameters as SQL literals ($1 first), under the same conditions as inlineParams: for
 * `EXECUTE name(…)` of the statement prepared from this text (db/postgres.ts).
 */
export function inlineLiterals(text: string, params: readonly unknown[]): string[] | undefined {
  const template = templateOf(text);
  return template ? literalsFor(template, params) : undefined;
}

function literalsFor(template: Template, params: readonly unknown[]): string[] | undefined {
  if (template.highest !== params.length || template.used.size !== params.length) return undefined;
  const literals: string[] = [];
  for (const value of params) {
    const literal = toLiteral(value);
    if (literal === undefined) return undefined;
    literals.push(literal);
  }
  return literals;
}

/** A statement text split at its placeholders: parts[0] $slots[0] parts[1] $slots[1] … */
interface Template {
  parts: string[];
  slots: number[];
  used: Set<number>;
  highest: number;
}

/**
 * Texts are the services' fixed statements (the same few hundred, as for prepared statements in
 * postgres.ts), so each is scanned once; past MAX_TEMPLATES distinct texts the rest are scanned
 * every time instead of growing the cache.
 */
const MAX_TEMPLATES = 500;
const templates = new Map<string, Template | null>();

function templateOf(text: string): Template | null {
  let template = templates.get(text);
  if (template === undefined) {
    template = scan(text);
    if (templates.size < MAX_TEMPLATES) templates.set(text, template);
  }
  return template;
}

/** The placeholders outside quotes, comments and dollar quotes; null when that is not certain. */
function scan(text: string): Template | null {
  const parts: string[] = [];
  const slots: number[] = [];
  let from = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === "'") {
      // An E'…' string takes backslash escapes: finding its end needs more than this scanner does.
      const before = text[i - 1];
      if ((before === 'e' || before === 'E') && !isIdentChar(text[i - 2])) return null;
      i = endOfQuoted(text, i, "'");
    } else if (c === '"') {
      i = endOfQuoted(text, i, '"');
    } else if (c === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? n : end;
    } else if (c === '/' && next === '*') {
      i = endOfBlockComment(text, i);
    } else if (c === '$' && !isIdentChar(text[i - 1])) {
      const digits = /^\$(\d+)/.exec(text.slice(i, i + 12));
      if (digits) {
        parts.push(text.slice(from, i));
        slots.push(Number(digits[1]));
        i += digits[0].length;
        from = i;
        continue;
      }
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i));
      if (tag) {
        const close = text.indexOf(tag[0], i + tag[0].length);
        i = close < 0 ? -1 : close + tag[0].length;
      } else {
        i++;
      }
    } else {
      i++;
    }
    if (i < 0) return null; // unterminated quote, comment or dollar quote
  }
  parts.push(text.slice(from));
  if (slots.some((slot) => slot < 1)) return null;
  return { parts, slots, used: new Set(slots), highest: Math.max(0, ...slots) };
}

function isScalar(value: unknown): boolean {
  return (
    value === null ||
    value === undefined ||
    typeof value === 'string' ||
    (typeof value === 'number' && Number.isFinite(value)) ||
    typeof value === 'boolean' ||
    (value instanceof Date && !Number.isNaN(value.getTime()))
  );
}

/**
 * A flat array goes as the array literal pg itself would bind (`{"a","b\\"c",NULL}`: every
 * element quoted and backslash-escaped by pg's arrayString), then quoted as any string: the
 * server reads the same text through the same array input function.
 */
function toLiteral(value: unknown): string | undefined {
  if (value === null || value === undefined) return 'NULL';
  const inlinable = isScalar(value) || (Array.isArray(value) && value.every(isScalar));
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
