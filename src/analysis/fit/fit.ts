// fit(): a fit request (Contract 4) → estimates with standard errors and 95 % intervals, the stopping
// report, information criteria, residuals and fitted curves. See problem.ts for the likelihood and
// lm.ts for the optimizer.
import { FitRequest, type FitResult, type FitEstimate, type FitResidual } from './schema.ts';
import { validateRows } from './data.ts';
import { buildProblem, evaluate, natural, working, PredictionError, subjectParams, DEFAULT_SUBJECT, type Problem, type Evaluation } from './problem.ts';
import { levenbergMarquardt, type LmResult } from '../../numerics/lm.ts';
import { invertInformation, normalQuantile } from '../../numerics/linalg.ts';
import { solveStates } from './sensitivity.ts';
import { InputError, SolveError, fromZodIssues } from '../../errors.ts';
import { mulberry32 } from '../../numerics/random.ts';
import { latinHypercube } from '../../numerics/sampling.ts';
import { nelderMead } from '../../numerics/nelder-mead.ts';

const CHI2_95_1 = 3.841458820694124;

export function parseFitRequest(input: unknown): FitRequest {
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
      const v = ((model !== 'proportional' ? a * a : 0) + (model !== 'additive' ? b * b * mu[i] * mu[i] : 0)) / pb.weights[i];
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
  const r = nelderMead((u) => {
    if (u.some((v, q) => Math.abs(v - u0[q]) > 4 * Math.LN10)) return 1e300;
    const [a, b] = toAB(u);
    return nll(a, b);
  }, u0, 200, 1);
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
    maxIterations: req.maxIterations, ...req.tolerances, leastSquares: pb.profiled,
  }) as LmResult & { evaluation: Eval };
}

const fin = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** `progress(done, total)`: after each start of a multistart fit (starts done of all). */
export function fit(input: unknown, progress?: (done: number, total: number) => void): FitResult {
  const started = performance.now();
  const req = parseFitRequest(input);
  const rows = validateRows(req.data as unknown[] | string);
  const pb = buildProblem(req, rows);
  const m = pb.theta.length;
  const n = rows.length;

  // Starts: the given initial values, then a Latin hypercube over the bounds (working scale).
  const x0 = Float64Array.from(pb.theta, (e) => working(e, e.initial));
  const starts: Float64Array[] = [x0];
  const ms = req.multistart;
  if (ms && ms.count > 1) {
    const ranges = pb.theta.map((e, j) => {
      let lo = pb.lower[j];
      let hi = pb.upper[j];
      const w = e.log ? Math.LN10 : Math.max(Math.abs(x0[j]), 1);
      if (!Number.isFinite(lo)) lo = x0[j] - w;
      if (!Number.isFinite(hi)) hi = x0[j] + w;
      return [lo, hi];
    });
    for (const u of latinHypercube(ms.count - 1, m, ms.seed)) {
      starts.push(Float64Array.from(u, (v, j) => ranges[j][0] + v * (ranges[j][1] - ranges[j][0])));
    }
  }
  let best: (LmResult & { evaluation: Eval }) | null = null;
  let bestStart = -1;
  const startReports: NonNullable<FitResult['multistart']>['starts'] = [];
  let firstError: unknown = null;
  starts.forEach((s, k) => {
    const initial = Object.fromEntries(pb.theta.map((e, j) => [e.name, natural(e, s[j])]));
    try {
      startErrorParameters(pb, s);
      const r = runLm(pb, s);
      startReports.push({ initial, objective: r.evaluation.phi, converged: r.converged, iterations: r.iterations });
      if (!best || r.evaluation.phi < best.evaluation.phi) {
        best = r;
        bestStart = k;
      }
    } catch (e) {
      if (!(e instanceof SolveError) && !(e instanceof Error && /not finite at the starting/.test(e.message))) throw e;
      firstError ??= e;
      startReports.push({ initial, objective: null, converged: false, iterations: 0 });
    }
    progress?.(k + 1, starts.length);
  });
  if (!best) {
    const e = firstError as Error;
    throw e instanceof SolveError ? e : new SolveError(e.message, 'other', 0);
  }
  const res = best as LmResult & { evaluation: Eval };
  const x = res.x;
  const ev = res.evaluation;

  // Covariance on the working scale.
  const p = m;
  const dof = n - p;
  const s2 = pb.profiled ? ev.ssr / Math.max(dof, 1) : 1;
  const { inverse, condition, singular } = invertInformation(ev.H, m);
  const cov = Float64Array.from(inverse, (v) => v * s2);
  const z = normalQuantile(0.975);
  const estimates: Record<string, FitEstimate> = {};
  const warnings: string[] = [];
  pb.theta.forEach((e, j) => {
    const value = natural(e, x[j]);
    const seW = Math.sqrt(cov[j * m + j]);
    const se = e.log ? value * seW : seW;
    const lo = natural(e, x[j] - z * seW);
    const hi = natural(e, x[j] + z * seW);
    const atBound = res.atBound[j];
    estimates[e.name] = {
      value, se: fin(se), rse: fin(se / Math.abs(value)), ci95: [fin(lo), fin(hi)], ciMethod: 'wald', wald95: [fin(lo), fin(hi)],
      scale: e.log ? 'log' : 'linear', initial: e.initial, lower: e.lower, upper: e.upper, atBound, kind: e.kind, parameter: e.parameter,
      ...(e.subject !== undefined ? { subject: e.subject } : {}),
    };
    if (!Number.isFinite(se)) warnings.push(`'${e.name}' is not identifiable from these data (its standard error is unbounded)`);
    else if (se / Math.abs(value) > 1) warnings.push(`'${e.name}' is poorly identified: relative standard error ${(100 * se / Math.abs(value)).toFixed(0)} %`);
    if (e.log && value < 1e-8 * e.initial) warnings.push(`'${e.name}' tends to 0 (${value.toPrecision(3)}, from ${e.initial}): the data do not support it; fix it or try multistart`);
    if (atBound) warnings.push(`'${e.name}' is at a bound (${value}); its standard error and interval assume it is free`);
  });
  const corr: (number | null)[][] = [];
  for (let i = 0; i < m; i++) {
    const row: (number | null)[] = [];
    for (let j = 0; j < m; j++) {
      const c = cov[i * m + j] / Math.sqrt(cov[i * m + i] * cov[j * m + j]);
      row.push(i === j ? 1 : fin(c));
      if (j > i && Number.isFinite(c) && Math.abs(c) > 0.99) {
        warnings.push(`'${pb.theta[i].name}' and '${pb.theta[j].name}' are almost perfectly correlated (r = ${c.toFixed(4)}): only a combination of them is identified`);
      }
    }
    corr.push(row);
  }
  if (singular || condition > 1e10) warnings.push(`the information matrix is ${singular ? 'singular' : 'ill-conditioned'} (condition number ${Number.isFinite(condition) ? condition.toExponential(2) : 'infinite'}): some parameters are not identifiable from these data`);

  // Likelihood and information criteria.
  let nll: number;
  let k = p;
  if (pb.profiled) {
    const sig2 = ev.ssr / n;
    let sumLogW = 0;
    for (let i = 0; i < n; i++) sumLogW += Math.log(pb.weights[i]);
    nll = 0.5 * n * Math.log(2 * Math.PI * sig2) + 0.5 * n - 0.5 * sumLogW;
    k = p + 1;
  } else nll = ev.phi;

  // Profile likelihood intervals.
  const crit = CHI2_95_1;
  const base2 = minus2LogL(pb, ev);
  for (const name of req.profile) {
    for (let j = 0; j < m; j++) {
      const e = pb.theta[j];
      if (e.name !== name && e.parameter !== name) continue;
      const seW = Math.sqrt(cov[j * m + j]);
      const bounds: (number | null)[] = [];
      for (const dir of [-1, 1]) {
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
        let delta = Number.isFinite(seW) && seW > 0 ? Math.min(z * seW, e.log ? 3 : Infinity) : e.log ? 0.5 : 0.5 * Math.max(Math.abs(x[j]), 1);
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
        if (!Number.isFinite(hi)) {
          bounds.push(Number.isFinite(limit) && Math.abs(limit - x[j]) <= delta ? natural(e, limit) : null);
          continue;
        }
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
        bounds.push(natural(e, x[j] + dir * 0.5 * (lo + hi)));
      }
      const est = estimates[e.name];
      est.profile95 = [bounds[0], bounds[1]];
      est.ci95 = [bounds[0], bounds[1]];
      est.ciMethod = 'profile';
    }
  }

  // Residuals.
  const residuals: FitResidual[] = rows.map((r, i) => {
    const residual = pb.obs[i] - ev.mu[i];
    const sd = pb.profiled ? Math.sqrt(s2) / Math.sqrt(pb.weights[i]) : ev.sd[i];
    return {
      subject: r.subject ?? DEFAULT_SUBJECT, time: r.time, observable: r.observable, observed: r.value, predicted: ev.pred[i],
      residual, weightedResidual: residual / sd,
    };
  });

  // Fitted curves on a fine grid.
  const fitted: FitResult['fitted'] = {};
  for (const s of pb.subjects) {
    const prm = subjectParams(pb, s, x);
    const tEnd = s.times[s.times.length - 1];
    const t0 = s.prep.t0;
    const N = req.fitted.points;
    const grid = tEnd > t0 ? Float64Array.from({ length: N }, (_, q) => (q === N - 1 ? tEnd : t0 + ((tEnd - t0) * q) / (N - 1))) : Float64Array.of(t0);
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

  const covMatrix: (number | null)[][] = [];
  for (let i = 0; i < m; i++) covMatrix.push(Array.from({ length: m }, (_, j) => fin(cov[i * m + j])));
  const sigmaOut = pb.iSigma >= 0 ? natural(pb.theta[pb.iSigma], x[pb.iSigma]) : Number.isFinite(pb.sigma) ? pb.sigma : undefined;
  const sigmaPropOut = pb.iSigmaProp >= 0 ? natural(pb.theta[pb.iSigmaProp], x[pb.iSigmaProp]) : Number.isFinite(pb.sigmaProp) ? pb.sigmaProp : undefined;
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
    identifiability: { identifiable: warnings.every((w) => !/identif|correlated|information matrix/.test(w)), conditionNumber: fin(condition), warnings },
    error: {
      model: req.error.model, transform: req.error.transform, profiled: pb.profiled,
      ...(pb.profiled ? { sigma: Math.sqrt(s2) } : sigmaOut !== undefined ? { sigma: sigmaOut } : {}),
      ...(sigmaPropOut !== undefined ? { sigmaProp: sigmaPropOut } : {}),
    },
    residuals,
    fitted,
    ...(starts.length > 1 ? { multistart: { starts: startReports, best: bestStart } } : {}),
    odeSolves: pb.counters.odeSolves,
    rhsEvaluations: pb.counters.rhsEvaluations,
    sensitivities: req.sensitivities,
    ms: performance.now() - started,
  };
}
