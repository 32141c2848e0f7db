// Observations for a fit: JSON rows or CSV text (header time,observable,value[,subject|arm][,weight]),
// validated row by row with the field named in every error.
import { DataRow, FIT_LIMITS, type DataRow as Row } from './schema.ts';
import { InputError, fromZodIssues, type Issue } from '../../errors.ts';
import { FitRequest } from './schema.ts';
import { resolveModel } from '../../model/library.ts';
import { loadDataset } from '../../data/load.ts';
import { outputPlan, subjectDoses } from '../../data/subjects.ts';
import { splitQuoted } from '../../data/read.ts';

const DatasetInput = FitRequest.shape.dataset.unwrap();
const ObserveInput = FitRequest.shape.observe;

const COLUMNS = ['time', 'observable', 'value', 'subject', 'weight'];

/** Comma, semicolon or tab separated, as spreadsheets export. */
const splitCsvLine = (line: string): string[] =>
  splitQuoted(line, (ch) => ch === ',' || ch === ';' || ch === '\t').cells;

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
      header = cells.map((c) =>
        c.toLowerCase() === 'arm' || c.toLowerCase() === 'id' ? 'subject' : c.toLowerCase() === 'dv' ? 'value' : c,
      );
      headerLine = k + 1;
      for (const need of ['time', 'observable', 'value']) {
        if (!header.includes(need))
          issues.push({
            path: [...path, `line ${headerLine}`],
            message: `the CSV header needs a '${need}' column (got: ${cells.join(', ')})`,
          });
      }
      header.forEach((h) => {
        if (!COLUMNS.includes(h))
          issues.push({
            path: [...path, `line ${headerLine}`],
            message: `unknown column '${h}' (columns: ${COLUMNS.join(', ')}; 'arm' is read as subject)`,
          });
      });
      return;
    }
    if (cells.length !== header.length) {
      issues.push({
        path: [...path, `line ${k + 1}`],
        message: `expected ${header.length} values, got ${cells.length}`,
      });
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
        if (!Number.isFinite(v))
          issues.push({ path: [...path, `line ${k + 1}`, h], message: `'${c}' is not a number` });
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

/**
 * A fit request with a NONMEM-style `dataset` → the per-subject form fit() reads: observation records with a
 * DV (not MDV, not BLQ) become data rows `{time, observable, value, subject: ID}`; each subject's dose
 * records, covariates, covariate changes, resets and pre-dose observation times go under `subjects[ID]`.
 * A request without `dataset` is returned as it is.
 */
export function fitRequestFromDataset(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const req = input as Record<string, unknown>;
  if (req.dataset === undefined) {
    if (req.data === undefined)
      throw new InputError('give the observations: data (rows or CSV) or dataset (NONMEM-style)', ['data']);
    return input;
  }
  if (req.data !== undefined) throw new InputError('give data or dataset, not both', ['data']);
  if (req.doses !== undefined || req.subjects !== undefined)
    throw new InputError('with a dataset, doses and subjects come from its records: leave doses and subjects out', [
      req.doses !== undefined ? 'doses' : 'subjects',
    ]);
  const ds = DatasetInput.safeParse(req.dataset);
  if (!ds.success) throw new InputError(fromZodIssues(ds.error.issues, ['dataset']));
  const obs = ObserveInput.safeParse(req.observe);
  if (!obs.success) throw new InputError(fromZodIssues(obs.error.issues, ['observe']));
  const model = resolveModel(req.model as string | Record<string, unknown>);
  const { dataset } = loadDataset(ds.data, model, obs.data);
  const data: Row[] = [];
  const subjects: Record<string, unknown> = {};
  for (const s of dataset.subjects) {
    for (const o of s.observations) {
      if (o.value === null || o.blq) continue;
      if (o.time < 0)
        throw new InputError(`line ${o.line}: fits take observations at TIME >= 0`, [
          'dataset',
          `line ${o.line}`,
          'TIME',
        ]);
      data.push({ time: o.time, observable: o.observable, value: o.value, subject: s.id });
    }
    const plan = outputPlan(s);
    subjects[s.id] = {
      doses: subjectDoses(s),
      covariates: s.covariates,
      covariateChanges: s.covariateChanges,
      resets: s.resets,
      preDoseTimes: plan.times.filter((_, k) => plan.pre[k] === 1),
    };
  }
  if (!data.length)
    throw new InputError('the dataset has no observation with a value (EVID 0, MDV 0, DV given)', ['dataset']);
  const { dataset: _d, observe: _o, ...rest } = req;
  return { ...rest, data, subjects };
}
