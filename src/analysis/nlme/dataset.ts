// A population fit request's NONMEM-style `dataset` (Contract 6) → SubjectData, read and checked by
// loadDataset with the model the fit compiles (the same reader as `simulate --dataset` and individual fits).
// Covariate effects (`population.covariates`) may name a model covariate (read by the reader, with its
// changes over time) or any other column of the dataset: such a column is read here, per subject, from its
// first record; a later record with another value makes it time-varying (the effect is then refused by the
// problem builder, naming the subject), `.` keeps the previous value.
import { InputError, fromZodIssues, type Issue } from '../../errors.ts';
import { resolveModel } from '../../model/library.ts';
import { loadDataset } from '../../simulate-dataset.ts';
import { cellIssue, type Table } from '../../data/read.ts';
import { FitRequest } from '../fit/schema.ts';
import type { SubjectData } from '../../data/types.ts';
import type { PopulationFitRequest } from './schema.ts';

const DatasetInput = FitRequest.shape.dataset.unwrap();

/** Covariate names used by the covariate effects of a request (string forms `(WT/70)^b` included). */
export function effectCovariates(req: PopulationFitRequest): string[] {
  const names = new Set<string>();
  for (const spec of Object.values(req.population.covariates)) {
    for (const e of Array.isArray(spec) ? spec : [spec]) {
      if (typeof e !== 'string') names.add(e.covariate);
      else {
        const m = /^\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)/.exec(e);
        if (m) names.add(m[1]);
      }
    }
  }
  return [...names];
}

/** Values of further (non-model) columns per subject: first record's value, and changes (LOCF). */
function readExtraColumns(table: Table, subjects: SubjectData[], names: string[]): void {
  const idCol = table.upper.indexOf('ID');
  const timeCol = table.upper.indexOf('TIME');
  const cols = names.map((n) => ({ n, j: table.upper.indexOf(n.toUpperCase()) })).filter((c) => c.j >= 0);
  if (!cols.length || idCol < 0) return;
  const byId = new Map(subjects.map((s) => [s.id, s]));
  const issues: Issue[] = [];
  const seen = new Map<string, Record<string, number>>();
  for (const { line, cells } of table.rows) {
    const s = byId.get(cells[idCol] ?? '');
    if (!s) continue;
    let cur = seen.get(s.id);
    const first = !cur;
    if (!cur) seen.set(s.id, (cur = Object.create(null) as Record<string, number>));
    for (const { n, j } of cols) {
      const c = cells[j] ?? '';
      if (c === '.' || c === '') {
        if (first)
          issues.push(
            cellIssue(
              line,
              j + 1,
              table.columns[j],
              `covariate ${n} (used in population.covariates) is missing on the subject's first record`,
            ),
          );
        continue;
      }
      const v = Number(c);
      if (!Number.isFinite(v)) {
        issues.push(
          cellIssue(
            line,
            j + 1,
            table.columns[j],
            `'${c}' is not a number (covariate ${n}, used in population.covariates)`,
          ),
        );
        continue;
      }
      if (first) s.covariates[n] = v;
      else if (v !== cur[n]) {
        const time = Number(cells[timeCol]);
        const last = s.covariateChanges[s.covariateChanges.length - 1];
        if (last && last.time === time) last.values[n] = v;
        else s.covariateChanges.push({ time, values: { [n]: v } });
      }
      cur[n] = v;
    }
    if (issues.length >= 20) break;
  }
  if (issues.length) throw new InputError(issues);
}

/** The subjects of the request's dataset, with the columns the covariate effects need. */
export function subjectsFromDataset(req: PopulationFitRequest): SubjectData[] {
  if (req.doses.length || Object.keys(req.subjects).length) {
    throw new InputError('with a dataset, doses and subjects come from its records: leave doses and subjects out', [
      req.doses.length ? 'doses' : 'subjects',
    ]);
  }
  const ds = DatasetInput.safeParse(req.dataset);
  if (!ds.success) throw new InputError(fromZodIssues(ds.error.issues, ['dataset']));
  const model = resolveModel(req.model as string | Record<string, unknown>, ['model']);
  const { table, dataset } = loadDataset(ds.data, model, req.observe);
  const extra = effectCovariates(req).filter((n) => !model.covariateIndex.has(n));
  readExtraColumns(table, dataset.subjects, extra);
  return dataset.subjects;
}
