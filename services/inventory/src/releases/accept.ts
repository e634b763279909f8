/**
 * Whether an Accept header admits `text/csv` (http-api.md §3.6: `*\/*` and `text/csv` work,
 * `application/json` gets 406). Absent or blank admits everything; a range with q=0 admits nothing.
 */
export function acceptsCsv(header: string | undefined): boolean {
  if (header === undefined || header.trim() === '') return true;
  return header.split(',').some((range) => {
    const [type = '', ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) return false;
    return type === '*/*' || type === 'text/*' || type === 'text/csv';
  });
}
