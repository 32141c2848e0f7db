// Dataset-driven simulation (Contract 2 `dataset`, docs/architecture.md): each subject of a NONMEM-style dataset is
// simulated with its own doses, covariates and resets; predictions are reported at its observation
// records, and can be written back in the dataset's own layout (`--format nonmem`).
import { parseScenario, prepareScenario, solvePrepared } from './simulate.ts';
import { paramsAt } from './simulation/runner.ts';
import { resolveModel } from './model/library.ts';
import { InputError, SolveError, type Issue } from './errors.ts';
import { cellIssue, type Table } from './data/read.ts';
import { loadDataset } from './data/load.ts';
import { outputPlan, subjectDoses } from './data/subjects.ts';
import { writeNonmem } from './data/write.ts';
import type { SubjectData } from './data/types.ts';
import type { Scenario } from './scenario/schema.ts';

export interface RecordPrediction {
  line: number;
  time: number;
  observable: string;
  dv: number | null;
  pred: number;
}

export interface DatasetSimulation {
  model: string;
  subjects: {
    id: string;
    covariates: Record<string, number>;
    predictions: RecordPrediction[];
    doses: { target: string; time: number; amount: number; duration?: number; status?: string; steadyState?: number }[];
  }[];
  ms: number;
}

export { loadDataset };

/** The dataset column behind a scenario dose field (for errors found while expanding a subject's doses). */
const FIELD_COLUMN: Record<string, string> = {
  target: 'CMT',
  amount: 'AMT',
  lag: 'CMT',
  bioavailability: 'CMT',
  rate: 'RATE',
  every: 'II',
  count: 'ADDL',
  steadyState: 'SS',
};

/** Errors of a subject's scenario, moved to the dataset line (and column) of the dose they concern. */
function onSubject<T>(s: SubjectData, table: Table, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    throw new InputError(
      e.issues.map((i): Issue => {
        const [head, k, field] = i.path;
        const dose = head === 'doses' && typeof k === 'number' ? s.doses[k] : undefined;
        if (dose?.line === undefined)
          return { path: ['dataset', `ID ${s.id}`, ...i.path], message: `ID ${s.id}: ${i.message}` };
        const name =
          field === 'duration'
            ? dose.duration === 'model'
              ? 'RATE'
              : 'DUR'
            : typeof field === 'string'
              ? FIELD_COLUMN[field]
              : undefined;
        const j = name ? table.upper.indexOf(name) : -1;
        return j >= 0
          ? cellIssue(dose.line, j + 1, table.columns[j], `${i.message} (ID ${s.id})`)
          : {
              path: ['dataset', `line ${dose.line}`, ...i.path.slice(2)],
              message: `line ${dose.line} (ID ${s.id}): ${i.message}`,
            };
      }),
    );
  }
}

/** The scenario of one subject: the base scenario's model, parameters and solver, the subject's records. */
export function subjectScenario(base: Scenario, s: SubjectData) {
  const plan = outputPlan(s);
  const { dataset: _d, observe: _o, therapies: _t, ...rest } = base;
  const scenario = {
    ...rest,
    doses: subjectDoses(s),
    therapies: [],
    times: plan.unique,
    metrics: false,
    covariates: { ...base.covariates, ...s.covariates },
    covariateChanges: s.covariateChanges,
  };
  return { scenario, plan };
}

/** The output times come from each subject's records: a scenario with a dataset needs no `times` (a placeholder is put in for validation). */
export function withDatasetTimes(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  return Object.hasOwn(input, 'dataset') && !Object.hasOwn(input, 'times') ? { ...input, times: [0] } : input;
}

export function simulateDataset(input: unknown): {
  result: DatasetSimulation;
  table: Table;
  predictions: Map<number, number>;
} {
  const started = performance.now();
  const base = parseScenario(withDatasetTimes(input));
  if (base.dataset === undefined) throw new InputError('no dataset given', ['dataset']);
  if (base.doses.length || base.therapies.length)
    throw new InputError("give either a dataset or doses/therapies: the dataset's dose records are the doses", [
      'doses',
    ]);
  const model = resolveModel(base.model as string | Record<string, unknown>);
  const { table, dataset } = loadDataset(base.dataset as string | Record<string, unknown>[], model, base.observe);
  const predictions = new Map<number, number>();
  // One wall-clock budget for the whole dataset (the scenario's timeBudgetMs), shared by its subjects.
  const deadline = Date.now() + base.solver.timeBudgetMs;
  const subjects = dataset.subjects.map((s, i) => {
    const left = deadline - Date.now();
    if (left <= 0)
      throw new SolveError(
        `time budget exceeded after ${i} of ${dataset.subjects.length} subjects (ID ${s.id} not simulated)`,
        'time-budget',
        0,
      );
    const { scenario: sc, plan } = subjectScenario(base, s);
    const scenario = { ...sc, solver: { ...sc.solver, timeBudgetMs: Math.max(1, Math.floor(left)) } };
    const prep = onSubject(s, table, () => prepareScenario(scenario, [], { resets: s.resets }));
    prep.times = Float64Array.from(plan.times);
    prep.preDose = plan.pre;
    const sol = solvePrepared(prep);
    const n = model.stateNames.length;
    const pAt = paramsAt(prep.params, prep.covariateChanges);
    const out = new Float64Array(model.outputNames.length);
    const preds = s.observations.map((o, q) => {
      const k = plan.row[q];
      const y = sol.y.subarray(k * n, (k + 1) * n);
      const si = model.stateIndex.get(o.observable);
      let v: number;
      if (si !== undefined) v = y[si];
      else {
        model.outputs(o.time, y, pAt(o.time), out); // the covariates in force at the record
        v = out[model.outputNames.indexOf(o.observable)];
      }
      predictions.set(o.line, v);
      return { line: o.line, time: o.time, observable: o.observable, dv: o.value, pred: v };
    });
    const given = (sol.records ?? prep.doses) as {
      target: string;
      time: number;
      amount: number;
      duration?: number;
      status?: string;
      steadyState?: number;
    }[];
    return {
      id: s.id,
      covariates: s.covariates,
      predictions: preds,
      doses: given.map((d) => ({
        target: d.target,
        time: d.time,
        amount: d.amount,
        ...(d.duration !== undefined ? { duration: d.duration } : {}),
        ...(d.status ? { status: d.status } : {}),
        ...(d.steadyState ? { steadyState: d.steadyState } : {}),
      })),
    };
  });
  return { result: { model: model.id, subjects, ms: performance.now() - started }, table, predictions };
}

/** The three output formats of a dataset simulation. */
export function formatDatasetSimulation(
  sim: ReturnType<typeof simulateDataset>,
  format: 'json' | 'csv' | 'nonmem',
): string {
  if (format === 'nonmem') return writeNonmem(sim.table, sim.predictions);
  if (format === 'json') return JSON.stringify(sim.result, null, 1) + '\n';
  const lines = ['ID,TIME,observable,DV,PRED,line'];
  for (const s of sim.result.subjects) {
    for (const p of s.predictions)
      lines.push(
        [
          /[",]/.test(s.id) ? `"${s.id.replace(/"/g, '""')}"` : s.id,
          p.time,
          p.observable,
          p.dv === null ? '.' : p.dv,
          p.pred,
          p.line,
        ].join(','),
      );
  }
  return lines.join('\n') + '\n';
}
