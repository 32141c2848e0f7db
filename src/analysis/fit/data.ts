// Observations for a fit: JSON rows or CSV text (header time,observable,value[,subject|arm][,weight]),
// validated row by row with the field named in every error.
import { DataRow, FIT_LIMITS, type DataRow as Row } from './schema.ts';
import { InputError, fromZodIssues, type Issue } from '../../errors.ts';

const COLUMNS = ['time', 'observable', 'value', 'subject', 'weight'];

function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',' || ch === ';' || ch === '\t') {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

/** CSV text → row objects (strings converted to numbers where the column is numeric). Errors name the line. */
export function parseCsv(text: string, path: (string | number)[] = ['data']): unknown[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const issues: Issue[] = [];
  let header: string[] | null = null;
  let headerLine = 0;
  const rows: unknown[] = [];
  lines.forEach((raw, k) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const cells = splitCsvLine(line);
    if (!header) {
      header = cells.map((c) => c.toLowerCase() === 'arm' || c.toLowerCase() === 'id' ? 'subject' : c.toLowerCase() === 'dv' ? 'value' : c);
      headerLine = k + 1;
      for (const need of ['time', 'observable', 'value']) {
        if (!header.includes(need)) issues.push({ path: [...path, `line ${headerLine}`], message: `the CSV header needs a '${need}' column (got: ${cells.join(', ')})` });
      }
      header.forEach((h) => {
        if (!COLUMNS.includes(h)) issues.push({ path: [...path, `line ${headerLine}`], message: `unknown column '${h}' (columns: ${COLUMNS.join(', ')}; 'arm' is read as subject)` });
      });
      return;
    }
    if (cells.length !== header.length) {
      issues.push({ path: [...path, `line ${k + 1}`], message: `expected ${header.length} values, got ${cells.length}` });
      return;
    }
    const row: Record<string, unknown> = {};
    header.forEach((h, j) => {
      const c = cells[j];
      if (h === 'observable' || h === 'subject') {
        if (h === 'subject' && c === '') return;
        row[h] = c;
      } else if (h === 'weight' && c === '') {
        // empty weight: default 1
      } else {
        const v = c === '' ? NaN : Number(c);
        if (!Number.isFinite(v)) issues.push({ path: [...path, `line ${k + 1}`, h], message: `'${c}' is not a number` });
        row[h] = v;
      }
    });
    rows.push(row);
  });
  if (!header) issues.push({ path, message: 'the data are empty (no header, no rows)' });
  if (issues.length) throw new InputError(issues.slice(0, 20));
  if (rows.length > FIT_LIMITS.dataRows) throw new InputError(`at most ${FIT_LIMITS.dataRows} data rows`, path);
  return rows;
}

/** Validate rows (from JSON or CSV) into typed rows; every problem with its row index. */
export function validateRows(data: unknown[] | string, path: (string | number)[] = ['data']): Row[] {
  const raw = typeof data === 'string' ? parseCsv(data, path) : data;
  if (!raw.length) throw new InputError('the data are empty: give at least one observation', path);
  const issues: Issue[] = [];
  const rows: Row[] = [];
  raw.forEach((r, i) => {
    const res = DataRow.safeParse(r);
    if (!res.success) issues.push(...fromZodIssues(res.error.issues, [...path, i]));
    else rows.push(res.data);
  });
  if (issues.length) throw new InputError(issues.slice(0, 20));
  return rows;
}
