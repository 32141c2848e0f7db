// A fit problem: the request resolved into subjects (one prepared scenario each, solved at its own data
// times), the vector θ of estimated quantities on their working scale (log or linear), and the
// objective with its gradient and Fisher information at any θ.
//
// Likelihood. Observation y_i (transformed by g = identity or log) ~ N(μ_i, v_i), μ_i = g(model_i(θ)),
// v_i = (σ² + (σ_p μ_i)²) / w_i (additive: σ_p = 0; proportional: σ = 0), w_i the row weight.
//   Φ(θ) = Σ ½ (y_i − μ_i)²/v_i + ½ log v_i + ½ log 2π            (the negative log-likelihood)
//   ∇Φ   = Σ −(y_i − μ_i)/v_i ∇μ_i + ½ (1/v_i − (y_i − μ_i)²/v_i²) ∇v_i
//   I(θ) = Σ ∇μ_i ∇μ_iᵀ / v_i + ∇v_i ∇v_iᵀ / (2 v_i²)              (Fisher information)
// When the error model is additive and σ is neither given nor estimated, σ is profiled out: the
// optimizer minimizes ½ Σ w_i (y_i − μ_i)² (least squares, as minpack / SciPy), and the covariance is
// s² (JᵀWJ)⁻¹ with s² = SSR/(n − p), as nls and curve_fit report.
import type { PreparedScenario } from '../../simulate.ts';
import { prepareScenario, preparedNeedsEpochs } from '../../simulate.ts';
import { InputError, type Issue } from '../../errors.ts';
import type { CompiledModel } from '../../model/compile.ts';
import type { FitRequest, DataRow } from './schema.ts';
import { ERROR_PARAMETERS } from './schema.ts';
import { solveSensitivities, solveStates, type SensitivityColumn } from './sensitivity.ts';
import type { LmEvaluation } from '../../numerics/lm.ts';

export const DEFAULT_SUBJECT = 'default';

export interface ThetaEntry {
  /** Display name: the parameter, `name[subject]` for per-subject ones. */
  name: string;
  kind: 'model' | 'error';
  parameter: string;
  /** Model parameter index (kind model). */
  index: number;
  /** For a per-subject parameter, the subject it belongs to. */
  subject?: string;
  log: boolean;
  initial: number;
  lower: number;
  upper: number;
}

export interface SubjectProblem {
  id: string;
  prep: PreparedScenario;
  /** Unique data times, increasing. */
  times: Float64Array;
  /** Data rows of this subject: global row index, time index, observable. */
  rows: { row: number; k: number; state: number; output: number }[];
  /** θ entries (indices into the θ vector) that are model parameters of this subject. */
  theta: number[];
}

export interface Problem {
  model: CompiledModel;
  request: FitRequest;
  rows: DataRow[];
  /** Transformed observations. */
  obs: Float64Array;
  weights: Float64Array;
  subjects: SubjectProblem[];
  theta: ThetaEntry[];
  lower: Float64Array;
  upper: Float64Array;
  /** Error model: fixed values (NaN = estimated or profiled) and θ indices (−1 = not estimated). */
  sigma: number;
  sigmaProp: number;
  iSigma: number;
  iSigmaProp: number;
  profiled: boolean;
  logTransform: boolean;
  counters: { odeSolves: number; rhsEvaluations: number };
}

/** Natural value of θ entry j. */
export const natural = (e: ThetaEntry, v: number) => (e.log ? Math.exp(v) : v);
export const working = (e: ThetaEntry, v: number) => (e.log ? Math.log(v) : v);

export function buildProblem(req: FitRequest, rows: DataRow[]): Problem {
  const { subjects, model: m } = fitSubjects(req, rows);
  const theta = thetaEntries(req, subjects, m);
  const { iSig, iSigmaProp, profiled } = errorModelSlots(req, rows, theta);
  const { obs, weights, logTransform } = observations(req, rows, theta.length, profiled);
  const err = req.error;
  for (const s of subjects)
    s.theta = theta
      .map((e, j) => (e.kind === 'model' && (e.subject === undefined || e.subject === s.id) ? j : -1))
      .filter((j) => j >= 0);
  return {
    model: m,
    request: req,
    rows,
    obs,
    weights,
    subjects,
    theta,
    lower: Float64Array.from(theta, (e) => (e.log ? (e.lower > 0 ? Math.log(e.lower) : -Infinity) : e.lower)),
    upper: Float64Array.from(theta, (e) => (e.log ? Math.log(e.upper) : e.upper)),
    sigma: err.sigma ?? NaN,
    sigmaProp: err.sigmaProp ?? NaN,
    iSigma: iSig,
    iSigmaProp,
    profiled,
    logTransform,
    counters: { odeSolves: 0, rhsEvaluations: 0 },
  };
}

/** One problem per subject (its prepared scenario, output times, rows); every observable checked against the model. */
function fitSubjects(req: FitRequest, rows: DataRow[]): { subjects: SubjectProblem[]; model: CompiledModel } {
  const issues: Issue[] = [];
  // Subjects: every subject named in the data needs an entry in `subjects` when `subjects` is used.
  const subjectIds: string[] = [];
  const seen = new Set<string>();
  rows.forEach((r, i) => {
    const id = r.subject ?? DEFAULT_SUBJECT;
    if (r.subject !== undefined && !Object.hasOwn(req.subjects, r.subject) && Object.keys(req.subjects).length > 0) {
      issues.push({
        path: ['data', i, 'subject'],
        message: `unknown subject '${r.subject}' (subjects: ${Object.keys(req.subjects).join(', ')})`,
      });
    }
    if (!seen.has(id)) {
      seen.add(id);
      subjectIds.push(id);
    }
  });
  if (issues.length) throw new InputError(issues.slice(0, 20));

  const base = {
    model: req.model,
    parameters: req.parameters,
    initial: req.initial,
    preset: req.preset,
    doses: req.doses,
    therapies: req.therapies,
    weight: req.weight,
    solver: req.solver,
    metrics: false,
  };
  const scenarioOf = (id: string, times: number[]) => {
    const s = Object.hasOwn(req.subjects, id) ? req.subjects[id] : undefined;
    return {
      ...base,
      parameters: { ...base.parameters, ...(s?.parameters ?? {}) },
      initial: { ...base.initial, ...(s?.initial ?? {}) },
      doses: s?.doses ?? base.doses,
      therapies: s?.therapies ?? base.therapies,
      weight: s?.weight ?? base.weight,
      preset: s?.preset ?? base.preset,
      covariates: { ...req.covariates, ...(s?.covariates ?? {}) },
      covariateChanges: s?.covariateChanges ?? [],
      times,
    };
  };
  const byId = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const id = r.subject ?? DEFAULT_SUBJECT;
    if (!byId.has(id)) byId.set(id, []);
    byId.get(id)!.push(i);
  });

  const subjects: SubjectProblem[] = [];
  let model: CompiledModel | null = null;
  for (const id of subjectIds) {
    const idx = byId.get(id)!;
    const times = [...new Set(idx.map((i) => rows[i].time))].sort((a, b) => a - b);
    const path = id === DEFAULT_SUBJECT || !Object.hasOwn(req.subjects, id) ? [] : ['subjects', id];
    const pre = (Object.hasOwn(req.subjects, id) ? req.subjects[id] : undefined)?.preDoseTimes;
    const prep = prepareScenario(scenarioOf(id, times), path, {
      resets: (Object.hasOwn(req.subjects, id) ? req.subjects[id] : undefined)?.resets,
      preDose: pre ? Uint8Array.from(times, (t) => (pre.includes(t) ? 1 : 0)) : undefined,
    });
    model = prep.model;
    const tIndex = new Map(times.map((t, k) => [t, k]));
    const subRows = idx.map((i) => {
      const r = rows[i];
      const state = prep.model.stateIndex.get(r.observable) ?? -1;
      const output = state >= 0 ? -1 : prep.model.outputNames.indexOf(r.observable);
      if (state < 0 && output < 0) {
        issues.push({
          path: ['data', i, 'observable'],
          message: `'${r.observable}' is neither a state nor an output of model '${prep.model.id}' (states: ${prep.model.stateNames.join(', ')}; outputs: ${prep.model.outputNames.join(', ') || 'none'})`,
        });
      }
      return { row: i, k: tIndex.get(r.time)!, state, output };
    });
    subjects.push({ id, prep, times: Float64Array.from(times), rows: subRows, theta: [] });
  }
  if (issues.length) throw new InputError(issues.slice(0, 20));
  return { subjects, model: model! };
}

/** The estimated quantities θ (model parameters, per subject where asked, and error-model terms) with their scales and bounds. */
function thetaEntries(req: FitRequest, subjects: SubjectProblem[], m: CompiledModel): ThetaEntry[] {
  const issues: Issue[] = [];
  const theta: ThetaEntry[] = [];
  const names = Object.keys(req.estimate);
  if (!names.length) issues.push({ path: ['estimate'], message: 'name at least one parameter to estimate' });
  for (const name of names) {
    const spec = req.estimate[name];
    const path = ['estimate', name];
    const isError = (ERROR_PARAMETERS as readonly string[]).includes(name) && !m.paramIndex.has(name);
    const index = m.paramIndex.get(name);
    if (!isError && index === undefined) {
      issues.push({
        path,
        message: `'${name}' is not a parameter of model '${m.id}' (nor an error-model parameter: ${ERROR_PARAMETERS.join(', ')})`,
      });
      continue;
    }
    if (isError) {
      const needs = name === 'sigma' ? req.error.model !== 'proportional' : req.error.model !== 'additive';
      if (!needs) issues.push({ path, message: `'${name}' is not part of the ${req.error.model} error model` });
      if (spec.perSubject)
        issues.push({ path: [...path, 'perSubject'], message: 'error-model parameters are shared by all subjects' });
    }
    const current = isError
      ? ((name === 'sigma' ? req.error.sigma : req.error.sigmaProp) ?? (name === 'sigma' ? 1 : 0.1))
      : subjects[0].prep.params[index!];
    const initial = spec.initial ?? current;
    const log = (spec.scale ?? (initial > 0 ? 'log' : 'linear')) === 'log';
    const lower = spec.lower ?? (log ? 0 : -Infinity);
    const upper = spec.upper ?? Infinity;
    if (log && !(initial > 0))
      issues.push({ path: [...path, 'initial'], message: `log scale needs a positive initial value (got ${initial})` });
    if (log && lower < 0) issues.push({ path: [...path, 'lower'], message: 'log scale needs lower >= 0' });
    if (!(lower < upper)) issues.push({ path: [...path, 'upper'], message: 'upper must be greater than lower' });
    if (initial < lower || initial > upper)
      issues.push({ path: [...path, 'initial'], message: `initial value ${initial} is outside [${lower}, ${upper}]` });
    if (isError && !(initial > 0)) issues.push({ path: [...path, 'initial'], message: `${name} must be > 0` });
    const ids = spec.perSubject ? subjects.map((s) => s.id) : [undefined];
    for (const sid of ids) {
      theta.push({
        name: sid === undefined ? name : `${name}[${sid}]`,
        kind: isError ? 'error' : 'model',
        parameter: name,
        index: index ?? -1,
        subject: sid,
        log,
        initial,
        lower,
        upper,
      });
    }
  }
  if (theta.length > 40)
    issues.push({ path: ['estimate'], message: `too many estimated quantities (${theta.length}; at most 40)` });
  // A proportional term on the log scale would scale the sd by log(prediction): not a likelihood of the data
  // (it rewards predictions near 1, where that sd vanishes). On the log scale the additive error already is
  // the proportional (log-normal) error of the natural scale.
  if (req.error.transform === 'log' && req.error.model !== 'additive') {
    issues.push({
      path: ['error', 'model'],
      message: `a ${req.error.model} error model with transform 'log' is not a proper likelihood: use model 'additive' with transform 'log' (a proportional, log-normal error on the natural scale) or model '${req.error.model}' with transform 'none'`,
    });
  }
  for (const [k, name] of req.profile.entries()) {
    if (!theta.some((e) => e.name === name || e.parameter === name))
      issues.push({ path: ['profile', k], message: `'${name}' is not estimated` });
  }
  if (issues.length) throw new InputError(issues);
  return theta;
}

/**
 * The error model's terms: fixed, estimated (θ indices) or, for an additive σ neither fixed nor estimated,
 * profiled out. Proportional / combined terms that are neither fixed nor estimated are added to θ (ML).
 */
function errorModelSlots(
  req: FitRequest,
  rows: DataRow[],
  theta: ThetaEntry[],
): { iSig: number; iSigmaProp: number; profiled: boolean } {
  const err = req.error;
  const iSigma = theta.findIndex((e) => e.kind === 'error' && e.parameter === 'sigma');
  let iSigmaProp = theta.findIndex((e) => e.kind === 'error' && e.parameter === 'sigmaProp');
  let profiled = false;
  if (err.model === 'additive' && iSigma < 0 && err.sigma === undefined) profiled = true;
  // Proportional / combined terms that are neither fixed nor estimated are estimated (ML).
  if (err.model !== 'additive' && iSigmaProp < 0 && err.sigmaProp === undefined) {
    theta.push({
      name: 'sigmaProp',
      kind: 'error',
      parameter: 'sigmaProp',
      index: -1,
      log: true,
      initial: 0.1,
      lower: 0,
      upper: Infinity,
    });
    iSigmaProp = theta.length - 1;
  }
  let iSig = iSigma;
  if (err.model === 'combined' && iSig < 0 && err.sigma === undefined) {
    const obsAbs = rows
      .map((r) => Math.abs(err.transform === 'log' ? Math.log(Math.abs(r.value) || 1) : r.value))
      .sort((a, b) => a - b);
    const med = obsAbs[obsAbs.length >> 1] || 1;
    theta.push({
      name: 'sigma',
      kind: 'error',
      parameter: 'sigma',
      index: -1,
      log: true,
      initial: 0.05 * med,
      lower: 0,
      upper: Infinity,
    });
    iSig = theta.length - 1;
  }
  return { iSig, iSigmaProp, profiled };
}

/** Observations on the residual scale and their weights; more observations than estimated quantities. */
function observations(
  req: FitRequest,
  rows: DataRow[],
  nFree: number,
  profiled: boolean,
): { obs: Float64Array; weights: Float64Array; logTransform: boolean } {
  const issues: Issue[] = [];
  const err = req.error;
  const logTransform = err.transform === 'log';
  const obs = new Float64Array(rows.length);
  const weights = new Float64Array(rows.length);
  rows.forEach((r, i) => {
    if (logTransform && !(r.value > 0))
      issues.push({
        path: ['data', i, 'value'],
        message: `log-transformed residuals need positive observations (got ${r.value})`,
      });
    obs[i] = logTransform ? Math.log(r.value) : r.value;
    weights[i] = r.weight ?? 1;
  });
  if (rows.length <= nFree) {
    issues.push({
      path: ['data'],
      message: `${rows.length} observation${rows.length === 1 ? '' : 's'} for ${nFree} estimated quantit${nFree === 1 ? 'y' : 'ies'}${profiled ? ' and the residual variance' : ''}: need more observations than parameters`,
    });
  }
  if (issues.length) throw new InputError(issues.slice(0, 20));
  return { obs, weights, logTransform };
}

/** Parameter vector of a subject at θ. */
export function subjectParams(pb: Problem, s: SubjectProblem, x: Float64Array): Float64Array {
  const p = Float64Array.from(s.prep.params);
  for (const j of s.theta) p[pb.theta[j].index] = natural(pb.theta[j], x[j]);
  return p;
}

export class PredictionError extends Error {}

/** Model predictions (untransformed) at every data row and, when asked, their gradients ∂/∂θ (rows × m). */
export function predict(
  pb: Problem,
  x: Float64Array,
  withGradient: boolean,
): { pred: Float64Array; grad: Float64Array | null } {
  const nRows = pb.rows.length;
  const m = x.length;
  const pred = new Float64Array(nRows);
  const grad = withGradient ? new Float64Array(nRows * m) : null;
  const fdAll = pb.request.sensitivities === 'finite-difference';
  for (const s of pb.subjects) {
    const model = s.prep.model;
    // Steady states, resets, time-varying covariates, rules and parameter-dependent dose modifiers go through the epoch runner: finite differences.
    const fd = fdAll || model.doseModifiers.size > 0 || preparedNeedsEpochs(s.prep);
    const n = model.stateNames.length;
    const nOut = model.outputNames.length;
    const p = subjectParams(pb, s, x);
    const needOutputs = s.rows.some((r) => r.output >= 0);
    const out = new Float64Array(nOut);
    const outputAt = (t: number, y: Float64Array, pv: Float64Array, o: number) => {
      model.outputs(t, y, pv, out);
      return out[o];
    };
    if (!withGradient || fd || s.theta.length === 0) {
      const solveAt = (pv: Float64Array) => {
        const sol = solveStates(s.prep, pv, s.times);
        pb.counters.odeSolves++;
        pb.counters.rhsEvaluations += sol.counters.rhsEvaluations;
        const v = new Float64Array(s.rows.length);
        s.rows.forEach((r, q) => {
          const y = sol.y.subarray(r.k * n, (r.k + 1) * n);
          v[q] = r.state >= 0 ? y[r.state] : outputAt(s.times[r.k], y, pv, r.output);
        });
        return v;
      };
      const v0 = solveAt(p);
      s.rows.forEach((r, q) => (pred[r.row] = v0[q]));
      if (grad) {
        const rtol = s.prep.scenario.solver.rtol;
        for (const j of s.theta) {
          const e = pb.theta[j];
          const h =
            Math.sqrt(Math.max(rtol, Number.EPSILON)) *
            Math.max(Math.abs(x[j]), e.log ? 1 : Math.abs(natural(e, x[j])) || 1);
          const pv = Float64Array.from(p);
          pv[e.index] = natural(e, x[j] + h);
          const v1 = solveAt(pv);
          s.rows.forEach((r, q) => (grad[r.row * m + j] = (v1[q] - v0[q]) / h));
        }
      }
      continue;
    }
    const cols: SensitivityColumn[] = s.theta.map((j) => {
      const e = pb.theta[j];
      return { param: e.index, factor: e.log ? natural(e, x[j]) : 1 };
    });
    const sol = solveSensitivities(s.prep, p, cols, s.times);
    pb.counters.odeSolves++;
    pb.counters.rhsEvaluations += sol.rhsEvaluations;
    const mc = cols.length;
    const yk = new Float64Array(n);
    const pv = Float64Array.from(p);
    for (const r of s.rows) {
      for (let i = 0; i < n; i++) yk[i] = sol.y[r.k * n + i];
      const t = s.times[r.k];
      if (r.state >= 0) {
        pred[r.row] = yk[r.state];
        for (let c = 0; c < mc; c++) grad![r.row * m + s.theta[c]] = sol.S[(r.k * mc + c) * n + r.state];
        continue;
      }
      // An output: chain rule with central differences of the (algebraic) output function.
      const g0 = outputAt(t, yk, p, r.output);
      pred[r.row] = g0;
      const dOut = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const yi = yk[i];
        const h = 6e-6 * Math.max(Math.abs(yi), 1e-6 * Math.abs(g0) || 1e-12, 1e-30);
        yk[i] = yi + h;
        const up = outputAt(t, yk, p, r.output);
        yk[i] = yi - h;
        const dn = outputAt(t, yk, p, r.output);
        yk[i] = yi;
        dOut[i] = (up - dn) / (2 * h);
      }
      for (let c = 0; c < mc; c++) {
        let d = 0;
        for (let i = 0; i < n; i++) d += dOut[i] * sol.S[(r.k * mc + c) * n + i];
        const pi = cols[c].param;
        const pj = p[pi];
        const h = 6e-6 * Math.max(Math.abs(pj), 1e-12);
        pv[pi] = pj + h;
        const up = outputAt(t, yk, pv, r.output);
        pv[pi] = pj - h;
        const dn = outputAt(t, yk, pv, r.output);
        pv[pi] = pj;
        d += ((up - dn) / (2 * h)) * cols[c].factor;
        grad![r.row * m + s.theta[c]] = d;
      }
    }
    void needOutputs;
  }
  return { pred, grad };
}

/** Transformed predictions μ (and ∇μ in place). Throws PredictionError if a log transform meets a prediction <= 0. */
function transformed(pb: Problem, pred: Float64Array, grad: Float64Array | null, m: number): Float64Array {
  if (!pb.logTransform) return pred;
  const mu = new Float64Array(pred.length);
  for (let i = 0; i < pred.length; i++) {
    if (!(pred[i] > 0)) {
      const r = pb.rows[i];
      throw new PredictionError(
        `the model predicts ${pred[i]} for '${r.observable}' at t = ${r.time}: log-transformed residuals need positive predictions`,
      );
    }
    mu[i] = Math.log(pred[i]);
    if (grad) for (let j = 0; j < m; j++) grad[i * m + j] /= pred[i];
  }
  return mu;
}

export interface Evaluation extends LmEvaluation {
  pred: Float64Array;
  mu: Float64Array;
  /** Standard deviation of each observation (1/√w in the profiled case). */
  sd: Float64Array;
  ssr: number;
  /** Information with unit variance scale (JᵀWJ) in the profiled case. */
}

/** Objective, gradient and Fisher information at x (working scale). */
export function evaluate(pb: Problem, x: Float64Array): Evaluation {
  const m = x.length;
  const { pred, grad } = predict(pb, x, true);
  const mu = transformed(pb, pred, grad, m);
  const n = mu.length;
  const a = pb.iSigma >= 0 ? natural(pb.theta[pb.iSigma], x[pb.iSigma]) : pb.sigma;
  const b = pb.iSigmaProp >= 0 ? natural(pb.theta[pb.iSigmaProp], x[pb.iSigmaProp]) : pb.sigmaProp;
  const model = pb.request.error.model;
  const useA = model !== 'proportional';
  const useB = model !== 'additive';
  const g = new Float64Array(m);
  const H = new Float64Array(m * m);
  const sd = new Float64Array(n);
  let phi = 0;
  let ssr = 0;
  const dv = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    const w = pb.weights[i];
    const res = pb.obs[i] - mu[i];
    ssr += w * res * res;
    const gi = grad!.subarray(i * m, (i + 1) * m);
    if (pb.profiled) {
      sd[i] = 1 / Math.sqrt(w);
      phi += 0.5 * w * res * res;
      for (let j = 0; j < m; j++) {
        if (gi[j] === 0) continue;
        g[j] -= w * res * gi[j];
        for (let k = 0; k < m; k++) H[j * m + k] += w * gi[j] * gi[k];
      }
      continue;
    }
    const va = useA ? a * a : 0;
    const vb = useB ? b * b * mu[i] * mu[i] : 0;
    const v = (va + vb) / w;
    if (!(v > 0))
      throw new PredictionError(
        `the error model's variance is zero at t = ${pb.rows[i].time} (a prediction of 0 with a proportional error)`,
      );
    sd[i] = Math.sqrt(v);
    phi += (0.5 * res * res) / v + 0.5 * Math.log(v) + 0.5 * Math.log(2 * Math.PI);
    // ∇v: through μ (proportional part) and the error parameters.
    for (let j = 0; j < m; j++) dv[j] = useB ? (2 * b * b * mu[i] * gi[j]) / w : 0;
    if (pb.iSigma >= 0) dv[pb.iSigma] = (pb.theta[pb.iSigma].log ? 2 * a * a : 2 * a) / w;
    if (pb.iSigmaProp >= 0) dv[pb.iSigmaProp] = ((pb.theta[pb.iSigmaProp].log ? 2 * b * b : 2 * b) * mu[i] * mu[i]) / w;
    const c1 = -res / v;
    const c2 = 0.5 * (1 / v - (res * res) / (v * v));
    for (let j = 0; j < m; j++) {
      g[j] += c1 * gi[j] + c2 * dv[j];
      for (let k = 0; k < m; k++) H[j * m + k] += (gi[j] * gi[k]) / v + (dv[j] * dv[k]) / (2 * v * v);
    }
  }
  return { phi, g, H, scale2: pb.profiled ? Math.max(2 * phi, 1e-300) : n, pred, mu, sd, ssr };
}
