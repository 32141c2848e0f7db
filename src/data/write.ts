// Writing a dataset back in its own layout (`--format nonmem`): every record as read, with DV replaced by
// the prediction on observation records, so that a simulated trial goes straight into a fit.
import type { Table } from './read.ts';

/** Shortest round-trip form of a number; '.' for a missing value, as NONMEM writes it. */
export function cell(v: number | null): string {
  return v === null || !Number.isFinite(v) ? '.' : String(v);
}

/** The table as CSV with DV (added as the last column when absent) set from `dvByLine` where given. */
export function writeNonmem(table: Table, dvByLine: Map<number, number | null>): string {
  let dv = table.upper.indexOf('DV');
  const columns = dv < 0 ? [...table.columns, 'DV'] : table.columns;
  if (dv < 0) dv = columns.length - 1;
  const quote = (c: string) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c);
  const lines = [columns.map(quote).join(',')];
  for (const r of table.rows) {
    const cells = [...r.cells];
    while (cells.length < columns.length) cells.push('.');
    if (dvByLine.has(r.line)) cells[dv] = cell(dvByLine.get(r.line)!);
    lines.push(cells.map(quote).join(','));
  }
  return lines.join('\n') + '\n';
}
