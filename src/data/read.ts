// Reading a NONMEM-style dataset (Contract 6, docs/architecture.md) into a table of cells that remember their line and
// column, from CSV text (comma, semicolon or tab separated; or whitespace separated as NONMEM writes
// tables) or from JSON rows. Only the shape is checked here; meanings are checked in check.ts.
import { InputError, type Issue } from '../errors.ts';

export const DATASET_LIMITS = {
  rows: 200_000,
  columns: 200,
  subjects: 5_000,
  cellLength: 200,
  /** Administrations in the whole dataset after expanding ADDL. */
  administrations: 1_000_000,
};

export interface Table {
  /** Header names as written. */
  columns: string[];
  /** Upper-cased names, for case-insensitive lookup. */
  upper: string[];
  rows: { line: number; cells: string[] }[];
  /** How CSV cells were separated (kept for writing the layout back). */
  separator: string;
}

/** An error at a dataset line and column (1-based column number and its name). */
export function cellIssue(
  line: number,
  column: number | null,
  name: string | null,
  message: string,
  root: (string | number)[] = ['dataset'],
): Issue {
  const where = column === null ? `line ${line}` : `line ${line}, column ${column} (${name})`;
  return { path: [...root, `line ${line}`, ...(name !== null ? [name] : [])], message: `${where}: ${message}` };
}

/**
 * One line of delimited text → its cells, trimmed. `isSeparator` tells the separators; double quotes group
 * (a doubled quote inside stands for one). `unterminated`: a quote was left open at the end of the line.
 */
export function splitQuoted(
  line: string,
  isSeparator: (ch: string) => boolean,
): { cells: string[]; unterminated: boolean } {
  const cells: string[] = [];
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
    else if (isSeparator(ch)) {
      cells.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  cells.push(cur.trim());
  return { cells, unterminated: quoted };
}

function splitLine(line: string, sep: string, lineNo: number, issues: Issue[]): string[] {
  if (sep === ' ') return line.trim().split(/\s+/);
  const { cells, unterminated } = splitQuoted(line, (ch) => ch === sep);
  if (unterminated) issues.push(cellIssue(lineNo, cells.length, null, 'unterminated quote'));
  return cells;
}

/** CSV text → table. Blank lines and lines starting with # or @ are skipped (NONMEM's IGNORE=@). */
export function readCsv(text: string): Table {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const issues: Issue[] = [];
  let table: Table | null = null;
  for (let k = 0; k < lines.length; k++) {
    const raw = lines[k];
    const trimmed = raw.trim();
    if (!trimmed || trimmed.startsWith('#') || trimmed.startsWith('@')) continue;
    const lineNo = k + 1;
    if (!table) {
      const separator = trimmed.includes(',') ? ',' : trimmed.includes(';') ? ';' : trimmed.includes('\t') ? '\t' : ' ';
      const columns = splitLine(trimmed, separator, lineNo, issues);
      table = { columns, upper: columns.map((c) => c.toUpperCase()), rows: [], separator };
      checkHeader(table, lineNo, issues);
      if (issues.length) throw new InputError(issues);
      continue;
    }
    if (table.rows.length >= DATASET_LIMITS.rows)
      throw new InputError(cellIssue(lineNo, null, null, `too many records (at most ${DATASET_LIMITS.rows})`).message, [
        'dataset',
      ]);
    const cells = splitLine(raw, table.separator, lineNo, issues);
    if (cells.length !== table.columns.length) {
      issues.push(
        cellIssue(
          lineNo,
          null,
          null,
          `expected ${table.columns.length} values (${table.columns.join(', ')}), got ${cells.length}`,
        ),
      );
    }
    cells.forEach((c, j) => {
      if (c.length > DATASET_LIMITS.cellLength)
        issues.push(
          cellIssue(
            lineNo,
            j + 1,
            table!.columns[j] ?? '?',
            `value longer than ${DATASET_LIMITS.cellLength} characters`,
          ),
        );
    });
    table.rows.push({ line: lineNo, cells });
    if (issues.length >= 20) break;
  }
  if (!table) throw new InputError('the dataset is empty (no header line)', ['dataset']);
  if (issues.length) throw new InputError(issues.slice(0, 20));
  if (!table.rows.length) throw new InputError('the dataset has a header but no records', ['dataset']);
  return table;
}

function checkHeader(t: Table, lineNo: number, issues: Issue[]) {
  if (t.columns.length > DATASET_LIMITS.columns)
    issues.push(
      cellIssue(lineNo, null, null, `too many columns (${t.columns.length}; at most ${DATASET_LIMITS.columns})`),
    );
  const seen = new Map<string, number>();
  t.upper.forEach((u, j) => {
    if (!u) issues.push(cellIssue(lineNo, j + 1, '', 'empty column name in the header'));
    else if (!/^[A-Z_][A-Z0-9_]*$/.test(u))
      issues.push(
        cellIssue(lineNo, j + 1, t.columns[j], `'${t.columns[j]}' is not a column name (letters, digits, _)`),
      );
    else if (seen.has(u))
      issues.push(
        cellIssue(
          lineNo,
          j + 1,
          t.columns[j],
          `duplicate column '${t.columns[j]}' (also column ${seen.get(u)! + 1}; names are case-insensitive)`,
        ),
      );
    else seen.set(u, j);
  });
  for (const need of ['ID', 'TIME'])
    if (!seen.has(need))
      issues.push(cellIssue(lineNo, null, null, `the header needs a ${need} column (got: ${t.columns.join(', ')})`));
}

/** JSON rows (objects column → number or string) → table; line numbers as if the rows were a CSV under a header on line 1. */
export function readRows(rows: Record<string, unknown>[]): Table {
  if (!rows.length) throw new InputError('the dataset has no records', ['dataset']);
  if (rows.length > DATASET_LIMITS.rows)
    throw new InputError(`too many records (at most ${DATASET_LIMITS.rows})`, ['dataset']);
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const r of rows)
    for (const k of Object.keys(r))
      if (!seen.has(k)) {
        seen.add(k);
        columns.push(k);
      }
  const table: Table = { columns, upper: columns.map((c) => c.toUpperCase()), rows: [], separator: ',' };
  const issues: Issue[] = [];
  checkHeader(table, 1, issues);
  if (issues.length) throw new InputError(issues);
  rows.forEach((r, i) => {
    table.rows.push({
      line: i + 2,
      cells: columns.map((c) => {
        const v = Object.hasOwn(r, c) ? r[c] : undefined;
        return v === undefined || v === null ? '.' : typeof v === 'number' ? String(v) : String(v).trim();
      }),
    });
  });
  return table;
}
