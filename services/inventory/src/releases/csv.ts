import { type Options, stringify } from 'csv-stringify/sync';
import { instantText } from '../shared/time.js';
import type { ReleaseEventRow } from './release-event.js';

export const CSV_HEADER = ['release_id', 'order_id', 'reservation_id', 'reason', 'created_at'] as const;

/**
 * OWASP CSV-injection defence (http-api.md §3.6 recommendation): a cell a spreadsheet would run
 * as a formula — starting with = + - @, TAB or CR — gets a leading single quote. Only such
 * values change, and they never occur in normal operation.
 */
export function neutralizeFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** One CSV record, fields in header order. A null reason is an empty field. */
export function csvRecord(row: ReleaseEventRow): string[] {
  return [
    row.id,
    row.order_id,
    row.reservation_id,
    row.reason === null ? '' : neutralizeFormula(row.reason),
    instantText(row.created_at),
  ];
}

/**
 * The §3.6 line format: LF after every line (the last included), UTF-8 without BOM, a field
 * quoted only when it holds a comma, a double quote, CR or LF (inner quotes doubled).
 * csv-stringify already quotes on , " and the LF record delimiter; CR needs `quoted_match`.
 */
export const CSV_OPTIONS: Readonly<Options> = {
  columns: CSV_HEADER,
  record_delimiter: '\n',
  quoted_match: /\r/,
  bom: false,
};

/**
 * One page of the export as ONE string (csv-stringify's sync API): the header line first when
 * `header` (also for an empty page, so an empty export is the header alone), then one
 * LF-terminated line per row. The pages of an export, joined, are byte for byte what a single
 * streaming `stringify({ ...CSV_OPTIONS, header: true })` writes for all the rows.
 */
export function csvPage(rows: readonly ReleaseEventRow[], opts: { header: boolean }): string {
  return stringify(rows.map(csvRecord), { ...CSV_OPTIONS, header: opts.header });
}
