// simulate(): a scenario (Contract 2) → a result (Contract 3). Resolves the model, applies parameters,
// initial values and doses, builds the output grid, runs the orchestrator and computes metrics.
import { Scenario, type ScenarioInput, type SimulationResult, type TimeGrid, type Dose, LIMITS } from './scenario/schema.ts';
import { InputError, fromZodIssues, type Issue, type Path } from './errors.ts';
import type { CompiledModel } from './model/compile.ts';
import { resolveModel } from './model/library.ts';
import { expandDoses, doseTimeline, type DoseRecord } from './dosing/schedule.ts';
import { expandTherapies } from './dosing/therapies.ts';
import { solveIvp, type StateEvent } from './solve/solve_ivp.ts';
import { computeMetrics } from './results/metrics.ts';

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
      throw new InputError(`too many output points (${Math.floor(intervals) + 1}; at most ${LIMITS.outputPoints}): use a larger step`, [...path, 'step']);
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
export function parameterVector(model: CompiledModel, values: Record<string, number>, preset?: string, path: Path = []): Float64Array {
  const p = Float64Array.from(model.defaultParams);
  const issues: Issue[] = [];
  if (preset !== undefined) {
    const ps = model.spec.presets?.[preset];
    if (!ps) issues.push({ path: [...path, 'preset'], message: `unknown preset '${preset}' (available: ${Object.keys(model.spec.presets ?? {}).join(', ') || 'none'})` });
    else for (const [k, v] of Object.entries(ps.parameters)) p[model.paramIndex.get(k)!] = v;
  }
  for (const [k, v] of Object.entries(values)) {
    const j = model.paramIndex.get(k);
    if (j === undefined) issues.push({ path: [...path, 'parameters', k], message: `'${k}' is not a parameter of model '${model.id}'` });
    else p[j] = v;
  }
  if (issues.length) throw new InputError(issues);
  return p;
}

export function initialState(model: CompiledModel, p: Float64Array, values: Record<string, number>, preset?: string, path: Path = []): Float64Array {
  const y = model.initial(p);
  const issues: Issue[] = [];
  const ps = preset !== undefined ? model.spec.presets?.[preset] : undefined;
  for (const [k, v] of Object.entries({ ...(ps?.initial ?? {}), ...values })) {
    const i = model.stateIndex.get(k);
    if (i === undefined) issues.push({ path: [...path, 'initial', k], message: `'${k}' is not a state of model '${model.id}'` });
    else if (model.nonNegative[i] && v < 0) issues.push({ path: [...path, 'initial', k], message: `'${k}' cannot be negative` });
    else y[i] = v;
  }
  y.forEach((v, i) => {
    if (!Number.isFinite(v)) issues.push({ path: [...path, 'initial', model.stateNames[i]], message: 'initial value is not finite' });
  });
  if (issues.length) throw new InputError(issues);
  return y;
}

/** Default absolute tolerance of a state that neither the scenario nor the model file sets. */
export const DEFAULT_ATOL = 1e-9;

/** Per-state tolerances: a scenario number for all; else per state from the scenario, the model file, the default. */
export function tolerances(model: CompiledModel, rtol: number, atol: number | Record<string, number> | undefined, path: Path = ['solver', 'atol']) {
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
  /** Filled on the first solve: what every later solve of this scenario reuses. */
  cache?: { rtol: Float64Array; atol: Float64Array; timeline: ReturnType<typeof doseTimeline> };
}

export function prepareScenario(input: unknown, path: Path = []): PreparedScenario {
  let scenario: Scenario;
  try {
    scenario = parseScenario(input);
  } catch (e) {
    throw e instanceof InputError && path.length ? e.prefixed(path) : e;
  }
  const model = resolveModel(scenario.model as string | Record<string, unknown>, [...path, 'model']);
  const params = parameterVector(model, scenario.parameters, scenario.preset, path);
  const y0 = initialState(model, params, scenario.initial, scenario.preset, path);
  const { t0, times } = outputGrid(scenario.times, [...path, 'times']);
  const direct: Dose[] = scenario.doses;
  let fromTherapies: Dose[] = [];
  try {
    fromTherapies = expandTherapies(scenario.therapies, model, scenario.weight);
  } catch (e) {
    throw e instanceof InputError && path.length ? e.prefixed(path) : e;
  }
  const all = [...direct, ...fromTherapies];
  const doses = expandDoses(all, model.stateIndex, scenario.weight, (i) =>
    i < direct.length ? [...path, 'doses', i] : [...path, 'therapies']);
  return { scenario, model, params, y0, t0, times, doses };
}

/**
 * Times at which metrics are evaluated: the output grid refined with a uniform grid, every dose time, the
 * instant before each dose and each infusion's end, so that Cmax, troughs, the nadir and AUC do not depend
 * on how coarse the requested output grid is.
 */
export function metricsGrid(times: Float64Array, doses: DoseRecord[]): Float64Array {
  const first = times[0];
  const last = times[times.length - 1];
  const pts: number[] = Array.from(times);
  const N = 2000;
  if (last > first) for (let k = 0; k <= N; k++) pts.push(first + ((last - first) * k) / N);
  for (const d of doses) {
    if (d.time >= first && d.time <= last) {
      pts.push(d.time);
      const before = d.time - 1e-9 * Math.max(1, Math.abs(d.time));
      if (before > first) pts.push(before);
    }
    if (d.duration !== undefined && d.time + d.duration > first && d.time + d.duration <= last) pts.push(d.time + d.duration);
  }
  pts.sort((a, b) => a - b);
  const out: number[] = [];
  for (const v of pts) if (!out.length || v > out[out.length - 1]) out.push(v);
  return Float64Array.from(out);
}

/** Tolerances and the dose timeline depend on the scenario only: made once per prepared scenario (also used by the fit's sensitivity solves). */
export function solverInputs(prep: PreparedScenario): NonNullable<PreparedScenario['cache']> {
  prep.cache ??= { ...tolerances(prep.model, prep.scenario.solver.rtol, prep.scenario.solver.atol), timeline: doseTimeline(prep.doses) };
  return prep.cache;
}

/** Solve a prepared scenario with (optionally) other parameters and output times; returns the raw solution. */
export function solvePrepared(prep: PreparedScenario, params: Float64Array = prep.params, y0: Float64Array = prep.y0, times: Float64Array = prep.times) {
  const { model, scenario, t0 } = prep;
  const tEnd = times[times.length - 1];
  const p = params;
  const jac = model.jacobian;
  const events: StateEvent[] = model.events.map((ev) => {
    const vals = new Float64Array(ev.targets.length);
    return {
      name: ev.name,
      g: (t, y) => ev.g(t, y, p),
      apply: (t, y) => {
        ev.values(t, y, p, vals);
        ev.targets.forEach((i, j) => (y[i] = vals[j]));
      },
    };
  });
  const { rtol, atol, timeline } = solverInputs(prep);
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
  });
}

/** States and outputs by name at the given times, from a row-major solution. */
function seriesOf(model: CompiledModel, times: Float64Array, y: Float64Array, params: Float64Array, warnings: string[]) {
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
    for (let k = 0; k < nOut; k++) {
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
  prep: PreparedScenario, sol: ReturnType<typeof solvePrepared>, ms: number, params: Float64Array = prep.params, solTimes: Float64Array = prep.times,
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
  const all = seriesOf(model, times, y, params, warnings);
  const { states, outputs } = scenario.select ? selectSeries(all, scenario.select) : all;
  const tEnd = times[times.length - 1];
  const base = {
    model: model.id,
    times: Array.from(times),
    states,
    outputs,
    events: sol.events.map((e) => ({ name: e.name, time: e.t, kind: 'event' as const })),
    doses: prep.doses.filter((d) => d.time >= prep.t0 && d.time <= tEnd).map((d) => ({
      target: d.target, time: d.time, amount: d.amount, ...(d.duration !== undefined ? { duration: d.duration } : {}), ...(d.label ? { label: d.label } : {}),
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
    const fine = solTimes === times ? base : { ...base, times: Array.from(solTimes), ...seriesOf(model, solTimes, sol.y, params, []) };
    metrics = computeMetrics(fine as Omit<SimulationResult, 'metrics'>, model);
  }
  return { ...base, metrics, ...(warnings.length ? { warnings } : {}) } as SimulationResult;
}

/** Simulate one scenario. Throws InputError (bad input, with paths) or SolveError (could not be solved). */
export function simulate(input: ScenarioInput | unknown): SimulationResult {
  const started = performance.now();
  const prep = prepareScenario(input);
  const grid = prep.scenario.metrics ? metricsGrid(prep.times, prep.doses) : prep.times;
  const sol = solvePrepared(prep, prep.params, prep.y0, grid);
  return buildResult(prep, sol, performance.now() - started, prep.params, grid);
}
