// fit(): a fit request (docs/architecture.md, "Contracts": fit) → estimates with standard errors and 95 %
// intervals, the stopping report, information criteria, residuals and fitted curves. The stages, in order:
// multistart (starting points, one LM run each, the best kept), covariance (Wald errors, correlations,
// identifiability from the information matrix), profile likelihood intervals, residuals and fitted curves,
// result assembly. See problem.ts for the likelihood and numerics/lm.ts for the optimizer.
import { assertNoReservedKeys } from '../../keys.ts';
import { checkBudget, BYTES_PER_OUTPUT_VALUE, BYTES_PER_TYPED_VALUE } from '../../limits.ts';
import { FitRequest, type FitResult, type FitEstimate, type FitResidual } from './schema.ts';
import { validateRows } from './data.ts';
import {
  buildProblem,
  evaluate,
  natural,
  working,
  PredictionError,
  subjectParams,
  DEFAULT_SUBJECT,
  type Problem,
  type Evaluation,
} from './problem.ts';
import { levenbergMarquardt, NonFiniteStartError, type LmResult } from '../../numerics/lm.ts';
import { invertInformation, normalQuantile } from '../../numerics/linalg.ts';
import { solveStates } from './sensitivity.ts';
import { InputError, SolveError, fromZodIssues } from '../../errors.ts';
import { latinHypercube } from '../../numerics/sampling.ts';
import { nelderMead } from '../../numerics/nelder-mead.ts';

const CHI2_95_1 = 3.841458820694124;

export function parseFitRequest(input: unknown): FitRequest {
  assertNoReservedKeys(input);
  const r = FitRequest.safeParse(input);
  if (!r.success) throw new InputError(fromZodIssues(r.error.issues));
  return r.data;
}

type Eval = Evaluation;

/**
 * Estimated error-model parameters start at their conditional maximum-likelihood values given the model's
 * predictions at the start (no ODE solve: the predictions are fixed), so that the first Fisher-scoring
 * steps are not spent walking a badly scaled variance toward the residuals.
 */
function startErrorParameters(pb: Problem, x: Float64Array): void {
  const idx = [pb.iSigma, pb.iSigmaProp].filter((j) => j >= 0);
  if (!idx.length || pb.profiled) return;
  let mu: Float64Array;
  try {
    mu = evaluate(pb, x).mu;
  } catch {
    return;
  }
  const n = mu.length;
  const model = pb.request.error.model;
  const nll = (a: number, b: number) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const v =
        ((model !== 'proportional' ? a * a : 0) + (model !== 'additive' ? b * b * mu[i] * mu[i] : 0)) / pb.weights[i];
      const r = pb.obs[i] - mu[i];
      s += (0.5 * r * r) / v + 0.5 * Math.log(v);
    }
    return Number.isFinite(s) ? s : 1e300;
  };
  const cur = (j: number, fixed: number) => (j >= 0 ? natural(pb.theta[j], x[j]) : fixed);
  const a0 = cur(pb.iSigma, pb.sigma);
  const b0 = cur(pb.iSigmaProp, pb.sigmaProp);
  // Search in log space of the estimated ones, within their bounds.
  const toAB = (u: number[]) => {
    let q = 0;
    const a = pb.iSigma >= 0 ? Math.exp(u[q++]) : a0;
    const b = pb.iSigmaProp >= 0 ? Math.exp(u[q++]) : b0;
    return [a, b];
  };
  const u0 = idx.map((j) => Math.log(natural(pb.theta[j], x[j])));
  // Within four decades of the given start: an error term the start's residuals make negligible is not
  // sent toward 0 (a log-scale parameter there could not come back).
  const r = nelderMead(
    (u) => {
      if (u.some((v, q) => Math.abs(v - u0[q]) > 4 * Math.LN10)) return 1e300;
      const [a, b] = toAB(u);
      return nll(a, b);
    },
    u0,
    200,
    1,
    false,
  );
  const [a, b] = toAB(r.x);
  const set = (j: number, v: number) => {
    if (j < 0) return;
    const w = working(pb.theta[j], v);
    x[j] = Math.min(pb.upper[j], Math.max(pb.lower[j], w));
  };
  if (r.f < nll(a0, b0)) {
    set(pb.iSigma, a);
    set(pb.iSigmaProp, b);
  }
}

function wrapEvaluate(pb: Problem) {
  return (x: Float64Array): Eval => {
    try {
      return evaluate(pb, x);
    } catch (e) {
      if (e instanceof PredictionError) throw new SolveError(e.message, 'other', 0);
      throw e;
    }
  };
}

/** −2 log-likelihood up to a constant, comparable between fits of the same problem (for profiles). */
function minus2LogL(pb: Problem, ev: Eval): number {
  return pb.profiled ? pb.rows.length * Math.log(Math.max(ev.ssr, 1e-300)) : 2 * ev.phi;
}

function runLm(pb: Problem, x0: Float64Array, lower = pb.lower, upper = pb.upper): LmResult & { evaluation: Eval } {
  const req = pb.request;
  return levenbergMarquardt(wrapEvaluate(pb), x0, lower, upper, {
    maxIterations: req.maxIterations,
    ...req.tolerances,
    leastSquares: pb.profiled,
  }) as LmResult & { evaluation: Eval };
}

const fin = (v: number): number | null => (Number.isFinite(v) ? v : null);

/**
 * The output and memory budget of a fit (src/limits.ts), before any solve: the fitted curves (per subject,
 * fitted.points times x its observables + time) and one residual row (7 numbers) per observation.
 */
function checkFitBudget(pb: Problem, points: number, nRows: number): void {
  let values = nRows * 7;
  let typed = 0;
  for (const s of pb.subjects) {
    values += points * (new Set(s.rows.map((r) => r.state * 1000 + r.output)).size + 1);
    typed += points * s.prep.model.stateNames.length;
  }
  checkBudget(
    {
      values,
      bytes: typed * BYTES_PER_TYPED_VALUE + values * BYTES_PER_OUTPUT_VALUE,
      detail: `${pb.subjects.length} subjects x ${points} fitted points (and ${nRows} residuals)`,
    },
    ['fitted', 'points'],
    'use fewer fitted points',
  );
}

type Best = LmResult & { evaluation: Eval };

/** Starting points on the working scale: the given initial values, then a Latin hypercube over the bounds. */
function multistartPoints(pb: Problem, ms: FitRequest['multistart']): Float64Array[] {
  const x0 = Float64Array.from(pb.theta, (e) => working(e, e.initial));
  const starts: Float64Array[] = [x0];
  if (ms && ms.count > 1) {
    const ranges = pb.theta.map((e, j) => {
      let lo = pb.lower[j];
      let hi = pb.upper[j];
      const w = e.log ? Math.LN10 : Math.max(Math.abs(x0[j]), 1);
      if (!Number.isFinite(lo)) lo = x0[j] - w;
      if (!Number.isFinite(hi)) hi = x0[j] + w;
      return [lo, hi];
    });
    for (const u of latinHypercube(ms.count - 1, pb.theta.length, ms.seed)) {
      starts.push(Float64Array.from(u, (v, j) => ranges[j][0] + v * (ranges[j][1] - ranges[j][0])));
    }
  }
  return starts;
}

type StartReport = NonNullable<FitResult['multistart']>['starts'][number];
/** Why a start could not be evaluated, as plain data (it travels between job chunks). */
type StartError = { message: string; reason: SolveError['reason']; timeReached: number; timeStated?: boolean };

/** One start, run to convergence (deterministic: the same start gives the same result anywhere). */
function runStart(
  pb: Problem,
  start: Float64Array,
): { report: StartReport; result: Best | null; error: StartError | null } {
  const s = Float64Array.from(start);
  const initial = Object.fromEntries(pb.theta.map((e, j) => [e.name, natural(e, s[j])]));
  try {
    startErrorParameters(pb, s);
    const r = runLm(pb, s);
    return {
      report: { initial, objective: r.evaluation.phi, converged: r.converged, iterations: r.iterations },
      result: r,
      error: null,
    };
  } catch (e) {
    if (!(e instanceof SolveError) && !(e instanceof NonFiniteStartError)) throw e;
    const error =
      e instanceof SolveError
        ? { message: e.message, reason: e.reason, timeReached: e.timeReached, timeStated: e.timeStated }
        : { message: e.message, reason: 'other' as const, timeReached: 0 };
    return { report: { initial, objective: null, converged: false, iterations: 0 }, result: null, error };
  }
}

/** The best start: the lowest objective, the first of equals (as a sequential run keeps it); -1 when none. */
function bestOf(reports: StartReport[]): number {
  let best = -1;
  reports.forEach((r, k) => {
    if (r.objective !== null && (best < 0 || r.objective < reports[best].objective!)) best = k;
  });
  return best;
}

/** Parse, build the problem, check the budget and lay out the starts: what every entry point does first. */
function prepareFit(input: unknown) {
  const req = parseFitRequest(input);
  const rows = validateRows(req.data as unknown[] | string);
  const pb = buildProblem(req, rows);
  checkFitBudget(pb, req.fitted.points, rows.length);
  return { req, rows, pb, starts: multistartPoints(pb, req.multistart) };
}

interface Covariance {
  /** Covariance on the working scale (m×m, row-major), scaled by s2. */
  cov: Float64Array;
  /** Residual variance factor (profiled σ²) or 1. */
  s2: number;
  condition: number;
  estimates: Record<string, FitEstimate>;
  corr: (number | null)[][];
  warnings: string[];
  /** Decided from the numbers (an unbounded or > 100 % standard error, |r| > 0.99, a singular or ill-conditioned information matrix), not from the warnings' text. */
  identifiable: boolean;
}

/** Wald standard errors and intervals, correlations and identifiability at the optimum. */
function covarianceStage(pb: Problem, res: Best, n: number): Covariance {
  const m = pb.theta.length;
  const x = res.x;
  const ev = res.evaluation;
  const dof = n - m;
  const s2 = pb.profiled ? ev.ssr / Math.max(dof, 1) : 1;
  const { inverse, condition, singular } = invertInformation(ev.H, m);
  const cov = Float64Array.from(inverse, (v) => v * s2);
  const z = normalQuantile(0.975);
  const estimates: Record<string, FitEstimate> = {};
  const warnings: string[] = [];
  let identifiable = true;
  pb.theta.forEach((e, j) => {
    const value = natural(e, x[j]);
    const seW = Math.sqrt(cov[j * m + j]);
    const se = e.log ? value * seW : seW;
    const lo = natural(e, x[j] - z * seW);
    const hi = natural(e, x[j] + z * seW);
    const atBound = res.atBound[j];
    estimates[e.name] = {
      value,
      se: fin(se),
      rse: fin(se / Math.abs(value)),
      ci95: [fin(lo), fin(hi)],
      ciMethod: 'wald',
      wald95: [fin(lo), fin(hi)],
      scale: e.log ? 'log' : 'linear',
      initial: e.initial,
      lower: e.lower,
      upper: e.upper,
      atBound,
      kind: e.kind,
      parameter: e.parameter,
      ...(e.subject !== undefined ? { subject: e.subject } : {}),
    };
    if (!Number.isFinite(se)) {
      identifiable = false;
      warnings.push(`'${e.name}' is not identifiable from these data (its standard error is unbounded)`);
    } else if (se / Math.abs(value) > 1) {
      identifiable = false;
      warnings.push(
        `'${e.name}' is poorly identified: relative standard error ${((100 * se) / Math.abs(value)).toFixed(0)} %`,
      );
    }
    if (e.log && value < 1e-8 * e.initial)
      warnings.push(
        `'${e.name}' tends to 0 (${value.toPrecision(3)}, from ${e.initial}): the data do not support it; fix it or try multistart`,
      );
    if (atBound)
      warnings.push(`'${e.name}' is at a bound (${value}); its standard error and interval assume it is free`);
  });
  const corr: (number | null)[][] = [];
  for (let i = 0; i < m; i++) {
    const row: (number | null)[] = [];
    for (let j = 0; j < m; j++) {
      const c = cov[i * m + j] / Math.sqrt(cov[i * m + i] * cov[j * m + j]);
      row.push(i === j ? 1 : fin(c));
      if (j > i && Number.isFinite(c) && Math.abs(c) > 0.99) {
        identifiable = false;
        warnings.push(
          `'${pb.theta[i].name}' and '${pb.theta[j].name}' are almost perfectly correlated (r = ${c.toFixed(4)}): only a combination of them is identified`,
        );
      }
    }
    corr.push(row);
  }
  if (singular || condition > 1e10) {
    identifiable = false;
    warnings.push(
      `the information matrix is ${singular ? 'singular' : 'ill-conditioned'} (condition number ${Number.isFinite(condition) ? condition.toExponential(2) : 'infinite'}): some parameters are not identifiable from these data`,
    );
  }
  return { cov, s2, condition, estimates, corr, warnings, identifiable };
}

/**
 * One end of the profile-likelihood 95 % interval of θ_j: walk away from the optimum in direction `dir`
 * (doubling the step) until −2ΔlogL passes χ²₁(0.95), then refine by interpolation in √Δ. null: the
 * profile stays below the threshold up to an infinite bound.
 */
function profileBound(pb: Problem, j: number, dir: -1 | 1, x: Float64Array, seW: number, base2: number): number | null {
  const e = pb.theta[j];
  const crit = CHI2_95_1;
  const z = normalQuantile(0.975);
  const lower = Float64Array.from(pb.lower);
  const upper = Float64Array.from(pb.upper);
  const limit = dir < 0 ? pb.lower[j] : pb.upper[j];
  let warm = Float64Array.from(x);
  const at = (delta: number): number => {
    const v = x[j] + dir * delta;
    lower[j] = v;
    upper[j] = v;
    const start = Float64Array.from(warm);
    start[j] = v;
    try {
      const r = runLm(pb, start, lower, upper);
      warm = Float64Array.from(r.x);
      return minus2LogL(pb, r.evaluation) - base2;
    } catch {
      return Infinity;
    }
  };
  let lo = 0;
  let dLo = 0;
  let delta =
    Number.isFinite(seW) && seW > 0
      ? Math.min(z * seW, e.log ? 3 : Infinity)
      : e.log
        ? 0.5
        : 0.5 * Math.max(Math.abs(x[j]), 1);
  let dHi = NaN;
  let hi = NaN;
  for (let it = 0; it < 12; it++) {
    if (Math.abs(limit - x[j]) <= delta) {
      const dd = at(Math.abs(limit - x[j]));
      if (dd < crit) break; // the interval reaches the bound
      hi = Math.abs(limit - x[j]);
      dHi = dd;
      break;
    }
    const d = at(delta);
    if (d >= crit) {
      hi = delta;
      dHi = d;
      break;
    }
    lo = delta;
    dLo = Math.max(d, 0);
    delta *= 2;
  }
  if (!Number.isFinite(hi)) return Number.isFinite(limit) && Math.abs(limit - x[j]) <= delta ? natural(e, limit) : null;
  for (let it = 0; it < 30 && Number.isFinite(dHi); it++) {
    const sl = Math.sqrt(Math.max(dLo, 0));
    const sh = Math.sqrt(dHi);
    let mid = lo + ((hi - lo) * (Math.sqrt(crit) - sl)) / (sh - sl);
    if (!(mid > lo + 0.05 * (hi - lo) && mid < hi - 0.05 * (hi - lo))) mid = 0.5 * (lo + hi);
    const d = at(mid);
    if (Math.abs(d - crit) < 1e-4 * crit || hi - lo < 1e-10 * (1 + Math.abs(x[j]))) {
      lo = hi = mid;
      break;
    }
    if (d >= crit) {
      hi = mid;
      dHi = d;
    } else {
      lo = mid;
      dLo = d;
    }
  }
  return natural(e, x[j] + dir * 0.5 * (lo + hi));
}

/** Profile-likelihood intervals for the requested parameters; they replace the Wald intervals in `estimates`. */
function profileStage(
  pb: Problem,
  names: string[],
  res: Best,
  cov: Float64Array,
  estimates: Record<string, FitEstimate>,
): void {
  const m = pb.theta.length;
  const base2 = minus2LogL(pb, res.evaluation);
  for (const name of names) {
    for (let j = 0; j < m; j++) {
      const e = pb.theta[j];
      if (e.name !== name && e.parameter !== name) continue;
      const seW = Math.sqrt(cov[j * m + j]);
      const bounds = [profileBound(pb, j, -1, res.x, seW, base2), profileBound(pb, j, 1, res.x, seW, base2)];
      const est = estimates[e.name];
      est.profile95 = [bounds[0], bounds[1]];
      est.ci95 = [bounds[0], bounds[1]];
      est.ciMethod = 'profile';
    }
  }
}

/** Observed − predicted per row, and weighted by the row's standard deviation. */
function residualsStage(pb: Problem, rows: ReturnType<typeof validateRows>, ev: Eval, s2: number): FitResidual[] {
  return rows.map((r, i) => {
    const residual = pb.obs[i] - ev.mu[i];
    const sd = pb.profiled ? Math.sqrt(s2) / Math.sqrt(pb.weights[i]) : ev.sd[i];
    return {
      subject: r.subject ?? DEFAULT_SUBJECT,
      time: r.time,
      observable: r.observable,
      observed: r.value,
      predicted: ev.pred[i],
      residual,
      weightedResidual: residual / sd,
    };
  });
}

/** The fitted curves of each subject's observables on a grid of `points` times (left out for a subject the solver cannot finish). */
function fittedCurves(
  pb: Problem,
  rows: ReturnType<typeof validateRows>,
  x: Float64Array,
  points: number,
): FitResult['fitted'] {
  const fitted: FitResult['fitted'] = {};
  for (const s of pb.subjects) {
    const prm = subjectParams(pb, s, x);
    const tEnd = s.times[s.times.length - 1];
    const t0 = s.prep.t0;
    const N = points;
    const grid =
      tEnd > t0
        ? Float64Array.from({ length: N }, (_, q) => (q === N - 1 ? tEnd : t0 + ((tEnd - t0) * q) / (N - 1)))
        : Float64Array.of(t0);
    const model = s.prep.model;
    const nS = model.stateNames.length;
    const observables = [...new Set(s.rows.map((r) => rows[r.row].observable))];
    const series: Record<string, number[]> = {};
    try {
      const sol = solveStates(s.prep, prm, grid);
      pb.counters.odeSolves++;
      pb.counters.rhsEvaluations += sol.counters.rhsEvaluations;
      const out = new Float64Array(model.outputNames.length);
      for (const o of observables) series[o] = [];
      for (let q = 0; q < grid.length; q++) {
        const yq = sol.y.subarray(q * nS, (q + 1) * nS);
        if (out.length) model.outputs(grid[q], yq, prm, out);
        for (const o of observables) {
          const si = model.stateIndex.get(o);
          series[o].push(si !== undefined ? yq[si] : out[model.outputNames.indexOf(o)]);
        }
      }
    } catch {
      // curves are a convenience: a grid the solver cannot finish leaves them out
    }
    fitted[s.id] = { times: Array.from(grid), series };
  }
  return fitted;
}

/** A fit: every start in order (`progress(done, total)` after each), then the stages on the best. */
export function fit(input: unknown, progress?: (done: number, total: number) => void): FitResult {
  const started = performance.now();
  const { req, rows, pb, starts } = prepareFit(input);
  let best: Best | null = null;
  const startReports: StartReport[] = [];
  let firstError: StartError | null = null;
  starts.forEach((s, k) => {
    const r = runStart(pb, s);
    startReports.push(r.report);
    if (r.result && (!best || r.result.evaluation.phi < best.evaluation.phi)) best = r.result;
    firstError ??= r.error;
    progress?.(k + 1, starts.length);
  });
  return finishFit(req, rows, pb, best, startReports, firstError, started);
}

/** The starts of a (multistart) fit, for the job system: how many there are. */
export function fitStartCount(input: unknown): number {
  return prepareFit(input).starts.length;
}

/** Starts [from, to) of a fit: their reports (plain data), for mergeFitStarts. */
export interface FitStartsPartial {
  from: number;
  reports: StartReport[];
  firstError: StartError | null;
  counters: { odeSolves: number; rhsEvaluations: number };
  ms: number;
}

export function fitStartsChunk(
  input: unknown,
  from: number,
  to: number,
  progress?: (done: number) => void,
): FitStartsPartial {
  const started = performance.now();
  const { pb, starts } = prepareFit(input);
  if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && from < to && to <= starts.length))
    throw new InputError(`starts [${from}, ${to}) are not within the fit's ${starts.length} starts`, ['multistart']);
  const reports: StartReport[] = [];
  let firstError: StartError | null = null;
  const before = { ...pb.counters };
  for (let k = from; k < to; k++) {
    const r = runStart(pb, starts[k]);
    reports.push(r.report);
    firstError ??= r.error;
    progress?.(k + 1 - from);
  }
  const counters = {
    odeSolves: pb.counters.odeSolves - before.odeSolves,
    rhsEvaluations: pb.counters.rhsEvaluations - before.rhsEvaluations,
  };
  return { from, reports, firstError, counters, ms: performance.now() - started };
}

/**
 * The fit from partials covering every start once: the best start is run again (deterministic, the same
 * result as in its chunk) and finished as fit() finishes it, so the answer equals a sequential fit's.
 */
export function mergeFitStarts(input: unknown, partials: FitStartsPartial[]): FitResult {
  const started = performance.now() - partials.reduce((a, p) => a + p.ms, 0);
  const { req, rows, pb, starts } = prepareFit(input);
  const parts = [...partials].sort((a, b) => a.from - b.from);
  const reports = parts.flatMap((p) => p.reports);
  if (reports.length !== starts.length)
    throw new InputError(`the partials hold ${reports.length} starts of ${starts.length}`, ['multistart']);
  const k = bestOf(reports);
  const before = { ...pb.counters };
  const best = k >= 0 ? runStart(pb, starts[k]).result : null;
  // The run again was counted in its chunk: the solves are the chunks' (as a sequential fit counts them).
  pb.counters.odeSolves = before.odeSolves + parts.reduce((a, p) => a + p.counters.odeSolves, 0);
  pb.counters.rhsEvaluations = before.rhsEvaluations + parts.reduce((a, p) => a + p.counters.rhsEvaluations, 0);
  const firstError = parts.find((p) => p.firstError)?.firstError ?? null;
  return finishFit(req, rows, pb, best, reports, firstError, started);
}

/** The stages after the starts: covariance, likelihood, profiles, residuals, fitted curves, the result. */
function finishFit(
  req: FitRequest,
  rows: ReturnType<typeof validateRows>,
  pb: Problem,
  best: Best | null,
  startReports: StartReport[],
  firstError: StartError | null,
  started: number,
): FitResult {
  if (!best) {
    const e = firstError ?? { message: 'no start could be evaluated', reason: 'other' as const, timeReached: 0 };
    throw new SolveError(e.message, e.reason, e.timeReached, e.timeStated);
  }
  const res: Best = best;
  const bestStart = bestOf(startReports);
  const m = pb.theta.length;
  const n = rows.length;
  const x = res.x;
  const ev = res.evaluation;
  const { cov, s2, condition, estimates, corr, warnings, identifiable } = covarianceStage(pb, res, n);

  // Likelihood and information criteria.
  const p = m;
  const dof = n - p;
  let nll: number;
  let k = p;
  if (pb.profiled) {
    const sig2 = ev.ssr / n;
    let sumLogW = 0;
    for (let i = 0; i < n; i++) sumLogW += Math.log(pb.weights[i]);
    nll = 0.5 * n * Math.log(2 * Math.PI * sig2) + 0.5 * n - 0.5 * sumLogW;
    k = p + 1;
  } else nll = ev.phi;

  profileStage(pb, req.profile, res, cov, estimates);
  const residuals = residualsStage(pb, rows, ev, s2);
  const fitted = fittedCurves(pb, rows, x, req.fitted.points);

  const covMatrix: (number | null)[][] = [];
  for (let i = 0; i < m; i++) covMatrix.push(Array.from({ length: m }, (_, j) => fin(cov[i * m + j])));
  const sigmaOut =
    pb.iSigma >= 0 ? natural(pb.theta[pb.iSigma], x[pb.iSigma]) : Number.isFinite(pb.sigma) ? pb.sigma : undefined;
  const sigmaPropOut =
    pb.iSigmaProp >= 0
      ? natural(pb.theta[pb.iSigmaProp], x[pb.iSigmaProp])
      : Number.isFinite(pb.sigmaProp)
        ? pb.sigmaProp
        : undefined;
  return {
    estimates,
    objective: nll,
    objectiveKind: 'negative log-likelihood',
    ssr: ev.ssr,
    sigmaResidual: pb.profiled ? Math.sqrt(s2) : Math.sqrt(ev.ssr / Math.max(dof, 1)),
    aic: 2 * nll + 2 * k,
    bic: 2 * nll + k * Math.log(n),
    observations: n,
    parameters: k,
    converged: res.converged,
    reason: res.reason,
    message: res.message,
    iterations: res.iterations,
    correlation: { names: pb.theta.map((e) => e.name), matrix: corr },
    covariance: { names: pb.theta.map((e) => e.name), scale: 'working', matrix: covMatrix },
    identifiability: { identifiable, conditionNumber: fin(condition), warnings },
    error: {
      model: req.error.model,
      transform: req.error.transform,
      profiled: pb.profiled,
      ...(pb.profiled ? { sigma: Math.sqrt(s2) } : sigmaOut !== undefined ? { sigma: sigmaOut } : {}),
      ...(sigmaPropOut !== undefined ? { sigmaProp: sigmaPropOut } : {}),
    },
    residuals,
    fitted,
    ...(startReports.length > 1 ? { multistart: { starts: startReports, best: bestStart } } : {}),
    odeSolves: pb.counters.odeSolves,
    rhsEvaluations: pb.counters.rhsEvaluations,
    sensitivities: req.sensitivities,
    ms: performance.now() - started,
  };
}
