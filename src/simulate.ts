// simulate(): a scenario (Contract 2) → a result (Contract 3). Resolves the model, applies parameters,
// initial values and doses, builds the output grid, runs the orchestrator and computes metrics.
import {
  Scenario,
  type ScenarioInput,
  type SimulationResult,
  type TimeGrid,
  type Dose,
  LIMITS,
} from './scenario/schema.ts';
import { InputError, fromZodIssues, type Issue, type Path } from './errors.ts';
import type { CompiledModel } from './model/compile.ts';
import { resolveModel } from './model/library.ts';
import { expandDoses, doseTimeline, type DoseRecord } from './dosing/schedule.ts';
import { expandTherapies } from './dosing/therapies.ts';
import { solveIvp } from './solve/solve_ivp.ts';
import { computeMetrics } from './results/metrics.ts';
import { bodySurfaceArea } from './dosing/bsa.ts';
import { compileRules, type CompiledRule } from './simulation/rules.ts';
import { runEpochs, needsEpochs, paramsAt, modelEvents, type RunRecord } from './simulation/runner.ts';
import { exposureForSimulation, type ExposureIntegrals } from './results/exposure.ts';
import type { StepView } from './solve/driver.ts';
import { ownValue, assertNoReservedKeys } from './keys.ts';
import { checkBudget, simulationCost } from './limits.ts';

/** Output times and the simulation's start: a grid starts at its `start`; an array at min(0, first time). */
export function outputGrid(times: TimeGrid, path: Path = ['times']): { t0: number; times: Float64Array } {
  if (Array.isArray(times)) {
    for (let k = 1; k < times.length; k++) {
      if (!(times[k] > times[k - 1])) throw new InputError('output times must be strictly increasing', [...path, k]);
    }
    return { t0: Math.min(0, times[0]), times: Float64Array.from(times) };
  }
  const { start, end } = times;
  if (!(end > start)) throw new InputError('end must be greater than start', [...path, 'end']);
  const span = end - start;
  let count: number;
  let step: number;
  if (times.points !== undefined) {
    count = times.points;
    step = span / (count - 1);
  } else {
    step = times.step ?? (span <= 1000 ? 1 : span / 1000);
    const intervals = span / step;
    if (intervals + 1 > LIMITS.outputPoints) {
      throw new InputError(
        `too many output points (${Math.floor(intervals) + 1}; at most ${LIMITS.outputPoints}): use a larger step`,
        [...path, 'step'],
      );
    }
    const whole = Math.round(intervals);
    count = Math.abs(intervals - whole) < 1e-9 * Math.max(1, intervals) ? whole + 1 : Math.floor(intervals) + 2;
  }
  const out = new Float64Array(count);
  for (let k = 0; k < count; k++) out[k] = Math.min(start + k * step, end);
  out[count - 1] = end;
  return { t0: start, times: out };
}

/** Parameter vector for a model: defaults, then a named preset, then explicit values. */
export function parameterVector(
  model: CompiledModel,
  values: Record<string, number>,
  preset?: string,
  path: Path = [],
): Float64Array {
  const p = Float64Array.from(model.defaultParams);
  const issues: Issue[] = [];
  if (preset !== undefined) {
    const ps = ownValue(model.spec.presets, preset);
    if (!ps)
      issues.push({
        path: [...path, 'preset'],
        message: `unknown preset '${preset}' (available: ${Object.keys(model.spec.presets ?? {}).join(', ') || 'none'})`,
      });
    else for (const [k, v] of Object.entries(ps.parameters)) p[model.paramIndex.get(k)!] = v;
  }
  for (const [k, v] of Object.entries(values)) {
    const j = model.paramIndex.get(k);
    if (j === undefined)
      issues.push({ path: [...path, 'parameters', k], message: `'${k}' is not a parameter of model '${model.id}'` });
    else p[j] = v;
  }
  if (issues.length) throw new InputError(issues);
  return p;
}

export function initialState(
  model: CompiledModel,
  p: Float64Array,
  values: Record<string, number>,
  preset?: string,
  path: Path = [],
): Float64Array {
  const y = model.initial(p);
  const issues: Issue[] = [];
  const ps = preset !== undefined ? ownValue(model.spec.presets, preset) : undefined;
  for (const [k, v] of Object.entries({ ...(ps?.initial ?? {}), ...values })) {
    const i = model.stateIndex.get(k);
    if (i === undefined)
      issues.push({ path: [...path, 'initial', k], message: `'${k}' is not a state of model '${model.id}'` });
    else if (model.nonNegative[i] && v < 0)
      issues.push({ path: [...path, 'initial', k], message: `'${k}' cannot be negative` });
    else y[i] = v;
  }
  y.forEach((v, i) => {
    if (!Number.isFinite(v))
      issues.push({ path: [...path, 'initial', model.stateNames[i]], message: 'initial value is not finite' });
  });
  if (issues.length) throw new InputError(issues);
  return y;
}

/** Default absolute tolerance of a state that neither the scenario nor the model file sets. */
export const DEFAULT_ATOL = 1e-9;

/** Per-state tolerances: a scenario number for all; else per state from the scenario, the model file, the default. */
export function tolerances(
  model: CompiledModel,
  rtol: number,
  atol: number | Record<string, number> | undefined,
  path: Path = ['solver', 'atol'],
) {
  const n = model.stateNames.length;
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = typeof atol === 'number' ? atol : Number.isNaN(model.stateAtol[i]) ? DEFAULT_ATOL : model.stateAtol[i];
  }
  if (typeof atol === 'object') {
    for (const [k, v] of Object.entries(atol)) {
      const i = model.stateIndex.get(k);
      if (i === undefined) throw new InputError(`'${k}' is not a state`, [...path, k]);
      a[i] = v;
    }
  }
  return { rtol: new Float64Array(n).fill(rtol), atol: a };
}

export function parseScenario(input: unknown): Scenario {
  assertNoReservedKeys(input);
  const r = Scenario.safeParse(input);
  if (!r.success) throw new InputError(fromZodIssues(r.error.issues));
  return r.data;
}

/** Everything needed to solve one scenario, resolved and validated; reused by fits and populations. */
export interface PreparedScenario {
  scenario: Scenario;
  model: CompiledModel;
  params: Float64Array;
  y0: Float64Array;
  t0: number;
  times: Float64Array;
  doses: DoseRecord[];
  /** Covariate changes over time (index into p, value), in time order. */
  covariateChanges: { time: number; values: [number, number][] }[];
  rules: CompiledRule[];
  /** Times of state resets (dataset EVID 3/4). */
  resets: number[];
  /** Per output time: 1 when its value is taken just before the doses at that time. */
  preDose: Uint8Array;
  /** Body surface area (m²) when height was given. */
  bsa?: number;
  /** All dose entries (doses and expanded therapies), for re-expansion when dose modifiers depend on parameters. */
  entries: Dose[];
  /** Filled on the first solve: what every later solve of this scenario reuses. */
  cache?: { rtol: Float64Array; atol: Float64Array; timeline: ReturnType<typeof doseTimeline> };
}

/** What a dataset adds to a scenario beyond its fields: resets, and outputs taken before the doses at their time. */
export interface ScenarioExtras {
  resets?: number[];
  preDose?: Uint8Array;
}

/** Covariate values by name → (index into p, value) pairs; unknown names are input errors. */
function covariatePairs(model: CompiledModel, values: Record<string, number>, path: Path): [number, number][] {
  const issues: Issue[] = [];
  const out: [number, number][] = [];
  for (const [k, v] of Object.entries(values)) {
    const j = model.covariateIndex.get(k);
    if (j === undefined)
      issues.push({
        path: [...path, k],
        message: `'${k}' is not a covariate of model '${model.id}' (covariates: ${model.covariateNames.join(', ') || 'none'})`,
      });
    else out.push([j, v]);
  }
  if (issues.length) throw new InputError(issues);
  return out;
}

export function prepareScenario(input: unknown, path: Path = [], extras: ScenarioExtras = {}): PreparedScenario {
  let scenario: Scenario;
  try {
    scenario = parseScenario(input);
  } catch (e) {
    throw e instanceof InputError && path.length ? e.prefixed(path) : e;
  }
  if (scenario.dataset !== undefined) {
    throw new InputError(
      'a scenario with a dataset is simulated subject by subject (immunopd simulate --dataset, or POST /api/simulate): see docs/datasets.md',
      [...path, 'dataset'],
    );
  }
  const model = resolveModel(scenario.model as string | Record<string, unknown>, [...path, 'model']);
  const params = parameterVector(model, scenario.parameters, scenario.preset, path);
  for (const [j, v] of covariatePairs(model, scenario.covariates, [...path, 'covariates'])) params[j] = v;
  const covariateChanges = scenario.covariateChanges.map((c, k) => ({
    time: c.time,
    values: covariatePairs(model, c.values, [...path, 'covariateChanges', k, 'values']),
  }));
  for (let k = 1; k < covariateChanges.length; k++) {
    if (!(covariateChanges[k].time > covariateChanges[k - 1].time))
      throw new InputError('covariate change times must be strictly increasing', [
        ...path,
        'covariateChanges',
        k,
        'time',
      ]);
  }
  const y0 = initialState(model, params, scenario.initial, scenario.preset, path);
  const grid = outputGrid(scenario.times, [...path, 'times']);
  let t0 = grid.t0;
  const times = grid.times;
  const bsa =
    scenario.height !== undefined ? bodySurfaceArea(scenario.height, scenario.weight, scenario.bsaFormula) : undefined;
  const rules = (() => {
    try {
      return compileRules(model, scenario.rules);
    } catch (e) {
      throw e instanceof InputError && path.length ? e.prefixed(path) : e;
    }
  })();
  const direct: Dose[] = scenario.doses;
  let fromTherapies: Dose[] = [];
  try {
    fromTherapies = expandTherapies(scenario.therapies, model, scenario.weight);
  } catch (e) {
    throw e instanceof InputError && path.length ? e.prefixed(path) : e;
  }
  const all = [...direct, ...fromTherapies];
  const pathOf = (i: number) => (i < direct.length ? [...path, 'doses', i] : [...path, 'therapies']);
  const doses = expandDoses(
    all,
    model,
    { weight: scenario.weight, bsa, paramsAt: paramsAt(params, covariateChanges) },
    pathOf,
  );
  // A dose before the start: with explicit output times the simulation starts at it; a grid's start is the user's.
  // (An infusion that started before a grid's start and runs past it is kept: its rate counts from the start.)
  const early = doses.find(
    (d) => d.time < t0 && (Array.isArray(scenario.times) || d.duration === undefined || d.time + d.duration <= t0),
  );
  if (early) {
    if (Array.isArray(scenario.times)) t0 = Math.min(t0, doses[0].time);
    else
      throw new InputError(
        `a dose at t = ${early.time} is before the simulation start (times.start = ${t0}): start the simulation at or before it, or give explicit output times`,
        pathOf(early.entry),
      );
  }
  const resets = [...(extras.resets ?? [])];
  const preDose = extras.preDose ?? new Uint8Array(times.length);
  return { scenario, model, params, y0, t0, times, doses, covariateChanges, rules, resets, preDose, bsa, entries: all };
}

/**
 * Times at which metrics are evaluated: the output grid refined with a uniform grid, every dose time, the
 * instant before each dose and each infusion's end, so that Cmax, troughs, the nadir and AUC do not depend
 * on how coarse the requested output grid is.
 */
export function metricsGrid(times: Float64Array, doses: DoseRecord[]): Float64Array {
  const first = times[0];
  const last = times[times.length - 1];
  const N = 2000;
  // A typed array sorted natively (numeric order) instead of an array of numbers sorted by a comparator.
  const pts = new Float64Array(times.length + (last > first ? N + 1 : 0) + 3 * doses.length);
  pts.set(times);
  let len = times.length;
  if (last > first) for (let k = 0; k <= N; k++) pts[len++] = first + ((last - first) * k) / N;
  for (const d of doses) {
    if (d.time >= first && d.time <= last) {
      pts[len++] = d.time;
      const before = d.time - 1e-9 * Math.max(1, Math.abs(d.time));
      if (before > first) pts[len++] = before;
    }
    if (d.duration !== undefined && d.time + d.duration > first && d.time + d.duration <= last)
      pts[len++] = d.time + d.duration;
  }
  const sorted = pts.subarray(0, len).sort();
  let n = 0;
  for (let k = 0; k < len; k++) if (n === 0 || sorted[k] > sorted[n - 1]) sorted[n++] = sorted[k];
  return sorted.slice(0, n);
}

/** Tolerances and the dose timeline depend on the scenario only: made once per prepared scenario (also used by the fit's sensitivity solves). */
export function solverInputs(prep: PreparedScenario): NonNullable<PreparedScenario['cache']> {
  prep.cache ??= {
    ...tolerances(prep.model, prep.scenario.solver.rtol, prep.scenario.solver.atol),
    timeline: doseTimeline(prep.doses),
  };
  return prep.cache;
}

/** Dose times into each clock's state, sorted (only doses with a positive amount count). */
function clockTimes(model: CompiledModel, doses: readonly DoseRecord[]): number[][] {
  return model.doseClocks.map((c) =>
    doses
      .filter((d) => d.index === c.state && d.amount > 0)
      .map((d) => d.time)
      .sort((a, b) => a - b),
  );
}

/**
 * Set the dose clocks' slots of p for time t (doses at t included when `inclusive`): tfd's slot is the first
 * dose time, tld's the last dose time so far (the first one before any), Infinity when X is never dosed.
 */
export function setDoseClocks(model: CompiledModel, p: Float64Array, times: number[][], t: number, inclusive = true) {
  model.doseClocks.forEach((c, j) => {
    const ts = times[j];
    if (!ts.length) p[c.slot] = Infinity;
    else if (c.kind === 'tfd') p[c.slot] = ts[0];
    else {
      let v = ts[0];
      for (const x of ts) if (inclusive ? x <= t : x < t) v = x;
      p[c.slot] = v;
    }
  });
}

/** Does a prepared scenario go through the epoch runner (steady state, resets, covariate changes, rules, pre-dose outputs)? */
export function preparedNeedsEpochs(prep: PreparedScenario): boolean {
  return needsEpochs({ ...prep, records: prep.doses });
}

/** Solve a prepared scenario with (optionally) other parameters and output times; returns the raw solution. */
export function solvePrepared(
  prep: PreparedScenario,
  params: Float64Array = prep.params,
  y0: Float64Array = prep.y0,
  times: Float64Array = prep.times,
  stepObserver?: (v: StepView, tEnd: number) => void,
): ReturnType<typeof solveIvp> & { records?: RunRecord[] } {
  const { model, scenario, t0 } = prep;
  // Dose modifiers (F, lag, rate, duration) may read parameters: other parameters, other administrations.
  const doses =
    params !== prep.params && model.doseModifiers.size > 0
      ? expandDoses(
          prep.entries,
          model,
          { weight: scenario.weight, bsa: prep.bsa, paramsAt: paramsAt(params, prep.covariateChanges) },
          (i) => ['doses', i],
        )
      : prep.doses;
  // Dose clocks (tfd/tld): hidden parameter slots set from the dose times (see setDoseClocks).
  const ct = model.doseClocks.length ? clockTimes(model, doses) : undefined;
  const clocks = ct ? (q: Float64Array, t: number) => setDoseClocks(model, q, ct, t, true) : undefined;
  const tldClocks = model.doseClocks.some((c) => c.kind === 'tld');
  if (needsEpochs({ ...prep, records: doses })) {
    const { rtol, atol } = tolerances(model, scenario.solver.rtol, scenario.solver.atol);
    return runEpochs({
      model,
      p0: params,
      covariateChanges: prep.covariateChanges,
      y0,
      initialAt: (p) => initialState(model, p, scenario.initial, scenario.preset),
      t0,
      outputTimes: times,
      preDose: times === prep.times ? prep.preDose : new Uint8Array(times.length),
      records: doses,
      rules: prep.rules,
      resets: prep.resets,
      method: scenario.solver.method,
      rtol,
      atol,
      maxStep: scenario.solver.maxStep,
      maxSteps: scenario.solver.maxSteps,
      deadline: Date.now() + scenario.solver.timeBudgetMs,
      clocks,
      tldClocks,
      stepObserver,
    });
  }
  const tEnd = times[times.length - 1];
  const p = params;
  const jac = model.jacobian;
  const events = modelEvents(model, p);
  const { rtol, atol } = solverInputs(prep);
  const timeline = doses === prep.doses ? solverInputs(prep).timeline : doseTimeline(doses);
  // Dose clocks: set for the start, then moved to each dose time once the solve has reached it (steps end on
  // every dose time, a discontinuity; the update runs after the step's other observers).
  let observer = stepObserver;
  if (clocks) {
    clocks(p, t0);
    if (tldClocks) {
      const outer = stepObserver;
      observer = (v, tEnd) => {
        outer?.(v, tEnd);
        clocks(p, tEnd);
      };
    }
  }
  return solveIvp({
    rhs: model.bindRhs(p),
    jac: jac ? (t, y, J) => jac(t, y, p, J) : undefined,
    t0,
    tEnd,
    y0,
    outputTimes: times,
    discontinuities: timeline,
    events,
    method: scenario.solver.method,
    rtol,
    atol,
    nonNegative: model.nonNegative,
    autonomous: model.autonomous,
    maxStep: scenario.solver.maxStep,
    maxSteps: scenario.solver.maxSteps,
    deadline: Date.now() + scenario.solver.timeBudgetMs,
    stepObserver: observer,
  });
}

/** States and outputs by name at the given times, from a row-major solution. */
function seriesOf(
  model: CompiledModel,
  times: Float64Array,
  y: Float64Array,
  params: Float64Array,
  warnings: string[],
  doses: readonly DoseRecord[] = [],
) {
  const ct = model.doseClocks.length ? clockTimes(model, doses) : [];
  const n = model.stateNames.length;
  const nOut = times.length;
  const states: Record<string, number[]> = {};
  model.stateNames.forEach((name, i) => {
    const col = new Array<number>(nOut);
    for (let k = 0; k < nOut; k++) col[k] = y[k * n + i];
    states[name] = col;
  });
  const outputs: Record<string, number[]> = {};
  if (model.outputNames.length) {
    const cols = model.outputNames.map(() => new Array<number>(nOut));
    const o = new Float64Array(model.outputNames.length);
    // tfd clocks do not move with t: set once; only tld clocks follow the output times.
    if (ct.length) setDoseClocks(model, params, ct, times[0], true);
    const moving = model.doseClocks.some((c) => c.kind === 'tld');
    for (let k = 0; k < nOut; k++) {
      if (moving) setDoseClocks(model, params, ct, times[k], true);
      model.outputs(times[k], y.subarray(k * n, (k + 1) * n), params, o);
      for (let j = 0; j < o.length; j++) cols[j][k] = o[j];
    }
    model.outputNames.forEach((name, j) => {
      outputs[name] = cols[j];
      const bad = cols[j].findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) warnings.push(`output '${name}' is not finite at t = ${times[bad]} (reported as null)`);
    });
  }
  return { states, outputs };
}

/** A plain array of a typed array's numbers (Array.from goes through the iterator: several times slower). */
function numbersOf(a: Float64Array): number[] {
  const out = new Array<number>(a.length);
  for (let k = 0; k < a.length; k++) out[k] = a[k];
  return out;
}

/** Column i of a row-major block with `stride` columns (module-level: a closure made per call stays slow). */
function columnOf(src: Float64Array, stride: number, i: number, rows: number): number[] {
  const col = new Array<number>(rows);
  for (let k = 0; k < rows; k++) col[k] = src[k * stride + i];
  return col;
}

/**
 * Scratch for outputBlock, reused from call to call on this thread (a fresh ~0.4 MB block per simulate is
 * garbage the GC then has to collect): only lazySeriesOf's columns read it, and only while the metrics run.
 */
let scratch = new Float64Array(0);

/** Every output at every time, row-major, in `scratch` (one row buffer and one output buffer, copied: a subarray per row costs more). */
function outputBlock(
  model: CompiledModel,
  times: Float64Array,
  y: Float64Array,
  params: Float64Array,
  doses: readonly DoseRecord[],
): Float64Array {
  const n = model.stateNames.length;
  const m = model.outputNames.length;
  if (scratch.length < times.length * m) scratch = new Float64Array(times.length * m);
  const block = scratch;
  const ct = model.doseClocks.length ? clockTimes(model, doses) : [];
  if (ct.length) setDoseClocks(model, params, ct, times[0], true);
  const moving = model.doseClocks.some((c) => c.kind === 'tld');
  const row = new Float64Array(n);
  const o = new Float64Array(m);
  for (let k = 0; k < times.length; k++) {
    if (moving) setDoseClocks(model, params, ct, times[k], true);
    for (let i = 0; i < n; i++) row[i] = y[k * n + i];
    model.outputs(times[k], row, params, o);
    for (let j = 0; j < m; j++) block[k * m + j] = o[j];
  }
  return block;
}

/**
 * The same series as seriesOf, for the metrics' refined grid only (never serialized): each column is made
 * when first read (the metrics read about a quarter of them), and the outputs are evaluated once, into one
 * block, when the first output is read. Own enumerable getters: Object.hasOwn and Object.keys see every name.
 */
function lazySeriesOf(
  model: CompiledModel,
  times: Float64Array,
  y: Float64Array,
  params: Float64Array,
  doses: readonly DoseRecord[],
) {
  const n = model.stateNames.length;
  const m = model.outputNames.length;
  const rows = times.length;
  // The output block lives in the shared scratch: once `expire` is called (right after the metrics), a
  // column not read by then can no longer be made (an error, never another simulation's numbers).
  let expired = false;
  const lazy = (rec: Record<string, number[]>, name: string, make: () => number[]) => {
    let v: number[] | undefined;
    Object.defineProperty(rec, name, {
      enumerable: true,
      configurable: true,
      get: () => {
        if (v) return v;
        if (expired) throw new Error(`internal: the refined-grid series '${name}' was read after the metrics`);
        return (v = make());
      },
    });
  };
  const states: Record<string, number[]> = {};
  model.stateNames.forEach((name, i) => lazy(states, name, () => columnOf(y, n, i, rows)));
  const outputs: Record<string, number[]> = {};
  let block: Float64Array | undefined;
  model.outputNames.forEach((name, j) =>
    lazy(outputs, name, () => columnOf((block ??= outputBlock(model, times, y, params, doses)), m, j, rows)),
  );
  return { states, outputs, expire: () => (expired = true) };
}

/** Keep only the named states and outputs, in the order given; an unknown name is an input error. */
function selectSeries(all: { states: Record<string, number[]>; outputs: Record<string, number[]> }, names: string[]) {
  const states: Record<string, number[]> = {};
  const outputs: Record<string, number[]> = {};
  const issues: Issue[] = [];
  names.forEach((name, k) => {
    if (Object.prototype.hasOwnProperty.call(all.states, name)) states[name] = all.states[name];
    else if (Object.prototype.hasOwnProperty.call(all.outputs, name)) outputs[name] = all.outputs[name];
    else issues.push({ path: ['select', k], message: `'${name}' is neither a state nor an output of the model` });
  });
  if (issues.length) throw new InputError(issues);
  return { states, outputs };
}

/**
 * Turn a raw solution into the result object (states and outputs by name, metrics, stats). When the
 * solution was computed on a refined metrics grid (`solTimes`), the result keeps the requested rows and the
 * metrics use them all.
 */
export function buildResult(
  prep: PreparedScenario,
  sol: ReturnType<typeof solvePrepared>,
  ms: number,
  params: Float64Array = prep.params,
  solTimes: Float64Array = prep.times,
  exposure?: ExposureIntegrals,
): SimulationResult {
  const { model, times, scenario } = prep;
  const n = model.stateNames.length;
  let y = sol.y;
  if (solTimes !== times) {
    // Pick the requested rows out of the refined grid (both increasing; times is a subset).
    y = new Float64Array(times.length * n);
    let j = 0;
    for (let k = 0; k < times.length; k++) {
      while (solTimes[j] < times[k]) j++;
      y.set(sol.y.subarray(j * n, (j + 1) * n), k * n);
    }
  }
  const warnings: string[] = [];
  const all = seriesOf(model, times, y, params, warnings, prep.doses);
  const { states, outputs } = scenario.select ? selectSeries(all, scenario.select) : all;
  const tEnd = times[times.length - 1];
  const base = {
    model: model.id,
    times: numbersOf(times),
    states,
    outputs,
    events: sol.events.map((e) => ({ name: e.name, time: e.t, kind: 'event' as const })),
    doses: ((sol.records ?? prep.doses) as RunRecord[])
      .filter((d) => d.time >= prep.t0 && d.time <= tEnd)
      .map((d) => ({
        target: d.target,
        time: d.time,
        amount: d.amount,
        ...(d.duration !== undefined ? { duration: d.duration } : {}),
        ...(d.label ? { label: d.label } : {}),
        ...(d.status ? { status: d.status } : {}),
        ...(d.steadyState ? { steadyState: d.steadyState } : {}),
      })),
    solver: {
      method: sol.method,
      switches: sol.switches,
      steps: sol.counters.steps,
      rejected: sol.counters.rejected,
      rhsEvaluations: sol.counters.rhsEvaluations,
      jacobianEvaluations: sol.counters.jacobianEvaluations,
      luDecompositions: sol.counters.luDecompositions,
      segments: sol.segments,
      ms,
      rtol: scenario.solver.rtol,
    },
  };
  let metrics: Record<string, unknown> = {};
  if (scenario.metrics) {
    const lazy = solTimes === times ? undefined : lazySeriesOf(model, solTimes, sol.y, params, prep.doses);
    const fine = lazy ? { ...base, times: numbersOf(solTimes), states: lazy.states, outputs: lazy.outputs } : base;
    metrics = computeMetrics(fine as Omit<SimulationResult, 'metrics'>, model, exposure);
    lazy?.expire();
    if (Array.isArray(metrics.plausibility))
      warnings.push(...(metrics.plausibility as string[]).map((w) => `implausible: ${w}`));
  }
  return { ...base, metrics, ...(warnings.length ? { warnings } : {}) } as SimulationResult;
}

/** The output and memory budget of one simulation (src/limits.ts), checked before solving. */
export function checkSimulationBudget(prep: PreparedScenario): void {
  const columns = prep.scenario.select
    ? prep.scenario.select.length
    : prep.model.stateNames.length + prep.model.outputNames.length;
  checkBudget(
    simulationCost(prep.times.length, columns, prep.model.stateNames.length),
    ['times'],
    "use a larger step, fewer points or 'select'",
  );
}

/** Simulate one scenario. Throws InputError (bad input, with paths) or SolveError (could not be solved). */
export function simulate(input: ScenarioInput | unknown): SimulationResult {
  const started = performance.now();
  const prep = prepareScenario(input);
  checkSimulationBudget(prep);
  const grid = prep.scenario.metrics ? metricsGrid(prep.times, prep.doses) : prep.times;
  // Exposure integrals on the solver's dense output (independent of the output grid), when metrics are on.
  const ex =
    prep.scenario.metrics && prep.model.spec.roles?.drugs
      ? exposureForSimulation(prep.model, prep.params, prep.times, prep.doses)
      : undefined;
  const sol = solvePrepared(prep, prep.params, prep.y0, grid, ex?.observer);
  return buildResult(prep, sol, performance.now() - started, prep.params, grid, ex?.result());
}
