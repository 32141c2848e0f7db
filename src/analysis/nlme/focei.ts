// Population fit by FOCE-I (first-order conditional estimation with interaction): the outer BFGS over
// θ, β, Ω (Cholesky) and σ of src/analysis/nlme/optimize.ts on the Laplace/FOCE-I likelihood of
// likelihood.ts, then the covariance step and the diagnostics, assembled into the result of Contract 4b.
import { invertInformation } from '../../numerics/linalg.ts';
import { omegaOf, sigmasOf, individualParams, type PopProblem } from './problem.ts';
import { minimizeOuter, hessianAt, populationGradient, type Objective } from './optimize.ts';
import { recordDiagnostics, shrinkage, addNpde, type PopulationRecord } from './diagnostics.ts';

export interface PopEstimate {
  value: number;
  se: number | null;
  rse: number | null;
  ci95: [number | null, number | null];
  fixed?: boolean;
}

export interface PopulationFitResult {
  method: 'focei' | 'saem';
  theta: Record<string, PopEstimate & { scale: 'log' | 'linear'; lower: number; upper: number; atBound: boolean }>;
  beta: Record<string, PopEstimate>;
  omega: {
    names: string[];
    matrix: number[][];
    se: (number | null)[][];
    cv: number[];
    shrinkage: number[];
    /** 95 % Wald intervals of the variances ω²_k, symmetric on the log scale. */ ci95: [
      number | null,
      number | null,
    ][];
  };
  sigma: { sigma?: PopEstimate; sigmaProp?: PopEstimate; model: string; transform: string; epsilonShrinkage: number };
  /** −2 log L without the Σ log 2π constant (NONMEM's OFV). */
  ofv: number;
  /** −2 log L with every constant (as R's logLik reports it, times −2). */
  minus2LogLikelihood: number;
  aic: number;
  bic: number;
  parameters: number;
  observations: number;
  subjects: number;
  covariance: {
    method: 'R' | 'none';
    names: string[];
    matrix: (number | null)[][];
    correlation: (number | null)[][];
    conditionNumber: number | null;
  } | null;
  ebe: { subject: string; eta: Record<string, number>; parameters: Record<string, number> }[];
  records: PopulationRecord[];
  warnings: string[];
  converged: boolean;
  reason: string;
  iterations: number;
  odeSolves: number;
  ms: number;
}

const round = (v: number) => (Number.isFinite(v) ? v : null);

type Sd = (k: number) => number;

/** θ (on their scales, with Wald 95 % intervals, symmetric on the log scale for log-scale θ) and the covariate effects β. */
function thetaEstimates(pb: PopProblem, x: Float64Array, sdOf: Sd, warnings: string[]) {
  const theta: PopulationFitResult['theta'] = {};
  pb.fixed.forEach((f, k) => {
    const value = f.log ? Math.exp(x[k]) : x[k];
    const sw = sdOf(k);
    const se = f.log ? value * sw : sw;
    const ci: [number | null, number | null] = f.log
      ? [round(Math.exp(x[k] - 1.959964 * sw)), round(Math.exp(x[k] + 1.959964 * sw))]
      : [round(value - 1.959964 * sw), round(value + 1.959964 * sw)];
    const atBound =
      (Number.isFinite(pb.lower[k]) && x[k] - pb.lower[k] < 1e-6) ||
      (Number.isFinite(pb.upper[k]) && pb.upper[k] - x[k] < 1e-6);
    theta[f.name] = {
      value,
      se: round(se),
      rse: round(se / Math.abs(value)),
      ci95: ci,
      scale: f.log ? 'log' : 'linear',
      lower: f.lower,
      upper: f.upper,
      atBound,
    };
    if (atBound) warnings.push(`θ ${f.name} is at a bound (${value})`);
  });
  const beta: Record<string, PopEstimate> = {};
  for (const c of pb.covariates) {
    const key = `${c.parameter}~${c.covariate}`;
    if (c.x < 0) beta[key] = { value: c.initial, se: null, rse: null, ci95: [null, null], fixed: true };
    else {
      const sw = sdOf(c.x);
      beta[key] = {
        value: x[c.x],
        se: round(sw),
        rse: round(sw / Math.abs(x[c.x])),
        ci95: [round(x[c.x] - 1.959964 * sw), round(x[c.x] + 1.959964 * sw)],
      };
    }
  }
  return { theta, beta };
}

/** SE of Ω's entries by the delta method (numerical Jacobian of Ω = L Lᵀ in the Cholesky entries). */
function omegaStandardErrors(
  pb: PopProblem,
  x: Float64Array,
  omega: Float64Array,
  cov: Float64Array | null,
): (number | null)[][] {
  const m = x.length;
  const q = pb.etaNames.length;
  const nc = pb.cholesky.length;
  const J: Float64Array[] = [];
  for (let c = 0; c < nc; c++) {
    const h = 1e-6;
    const xp = Float64Array.from(x);
    xp[pb.xOmega + c] += h;
    J.push(Float64Array.from(omegaOf(pb, xp), (v, k) => (v - omega[k]) / h));
  }
  return Array.from({ length: q }, (_, i) =>
    Array.from({ length: q }, (_, j) => {
      if (!cov) return null;
      let v = 0;
      for (let a = 0; a < nc; a++)
        for (let b = 0; b < nc; b++) v += J[a][i * q + j] * cov[(pb.xOmega + a) * m + pb.xOmega + b] * J[b][i * q + j];
      return round(Math.sqrt(Math.max(v, 0)));
    }),
  );
}

/** σ estimates (log-scale working parameters: SE by the delta method, intervals symmetric on the log scale). */
function sigmaEstimates(
  pb: PopProblem,
  x: Float64Array,
  sdOf: Sd,
  epsilonShrinkage: number,
): PopulationFitResult['sigma'] {
  const { a, b } = sigmasOf(pb, x);
  const sigEst = (k: number, value: number): PopEstimate => {
    if (k < 0) return { value, se: null, rse: null, ci95: [null, null], fixed: true };
    const sw = sdOf(k);
    return {
      value,
      se: round(value * sw),
      rse: round(sw),
      ci95: [round(value * Math.exp(-1.959964 * sw)), round(value * Math.exp(1.959964 * sw))],
    };
  };
  const sigma: PopulationFitResult['sigma'] = {
    model: pb.errorModel,
    transform: pb.request.error.transform,
    epsilonShrinkage,
  };
  if (pb.errorModel !== 'proportional') sigma.sigma = sigEst(pb.xSigma, a);
  if (pb.errorModel !== 'additive') sigma.sigmaProp = sigEst(pb.xSigmaProp, b);
  return sigma;
}

/** The covariance matrix of the estimates, their correlation and its condition number; identifiability warnings. */
function covarianceSummary(
  pb: PopProblem,
  x: Float64Array,
  cov: Float64Array | null,
  sdOf: Sd,
  warnings: string[],
): PopulationFitResult['covariance'] {
  const m = x.length;
  const varOf = (k: number) => (cov ? cov[k * m + k] : NaN);
  let covariance: PopulationFitResult['covariance'] = null;
  if (cov) {
    const corr = Array.from({ length: m }, (_, i) =>
      Array.from({ length: m }, (_, j) => round(cov[i * m + j] / Math.sqrt(varOf(i) * varOf(j)))),
    );
    const R = Float64Array.from({ length: m * m }, (_, k) => corr[Math.floor(k / m)][k % m] ?? 0);
    const { condition } = invertInformation(R, m);
    covariance = {
      method: 'R',
      names: pb.xNames,
      matrix: Array.from({ length: m }, (_, i) => Array.from({ length: m }, (_, j) => round(cov[i * m + j]))),
      correlation: corr,
      conditionNumber: round(condition),
    };
    if (condition > 1e6)
      warnings.push(
        `the correlation matrix of the estimates has condition number ${condition.toExponential(2)} (> 1e6): some parameters are not identifiable from these data`,
      );
    pb.xNames.forEach((n, k) => {
      if (!Number.isFinite(varOf(k)) || varOf(k) < 0)
        warnings.push(`${n}: no standard error (the R matrix is singular in its direction): not identifiable`);
      else if (k < pb.fixed.length && sdOf(k) > 0.5 * (pb.fixed[k].log ? 1 : Math.abs(x[k])))
        warnings.push(`${n}: RSE above 50 %: poorly identified`);
    });
  } else if (pb.request.population.covariance !== 'none')
    warnings.push('the covariance step failed (the R matrix could not be computed or is not positive definite)');
  return covariance;
}

/** The estimates, their uncertainty and the diagnostics at x (shared by FOCE-I and SAEM). */
export function assembleResult(
  pb: PopProblem,
  x: Float64Array,
  best: Objective,
  cov: Float64Array | null,
  extra: {
    method: 'focei' | 'saem';
    converged: boolean;
    reason: string;
    iterations: number;
    t0: number;
    m2ll?: number;
  },
): PopulationFitResult {
  const req = pb.request;
  const m = x.length;
  const q = pb.etaNames.length;
  const warnings: string[] = [...pb.notes];
  const sdOf = (k: number) =>
    cov && Number.isFinite(cov[k * m + k]) && cov[k * m + k] >= 0 ? Math.sqrt(cov[k * m + k]) : NaN;
  const { theta, beta } = thetaEstimates(pb, x, sdOf, warnings);
  // Ω and its SE by the delta method (numerical Jacobian of Ω = L Lᵀ in the Cholesky entries).
  const omega = omegaOf(pb, x);
  const seOmega = omegaStandardErrors(pb, x, omega, cov);
  // Records, shrinkage.
  const records = recordDiagnostics(pb, x, omega, best.fits);
  if (req.population.npde.replicates > 0)
    addNpde(pb, x, omega, records, req.population.npde.replicates, req.population.npde.seed);
  const shr = shrinkage(
    best.fits.map((f) => f.eta),
    omega,
    q,
    records.map((r) => r.IWRES),
  );
  shr.eta.forEach((s, c) => {
    if (s > 0.3)
      warnings.push(
        `η shrinkage of ${pb.etaNames[c]} is ${(100 * s).toFixed(0)} % (> 30 %): its EBEs and EBE-based diagnostics are unreliable`,
      );
  });
  const sigma = sigmaEstimates(pb, x, sdOf, shr.epsilon);
  // Covariance matrix, correlation, condition number, identifiability.
  const covariance = covarianceSummary(pb, x, cov, sdOf, warnings);
  const ebe = pb.subjects.map((s, i) => {
    const p = individualParams(pb, x, s, best.fits[i].eta);
    return {
      subject: s.id,
      eta: Object.fromEntries(pb.etaNames.map((n, c) => [n, best.fits[i].eta[c]])),
      parameters: Object.fromEntries(pb.fixed.map((f) => [f.name, p[f.index]])),
    };
  });
  const m2ll = extra.m2ll ?? best.value;
  const N = pb.nObs;
  return {
    method: extra.method,
    theta,
    beta,
    omega: {
      names: pb.etaNames,
      matrix: Array.from({ length: q }, (_, i) => Array.from({ length: q }, (_, j) => omega[i * q + j])),
      se: seOmega,
      cv: pb.etaNames.map((_, c) => Math.sqrt(omega[c * q + c])),
      shrinkage: shr.eta,
      ci95: pb.etaNames.map((_, c) => {
        const v = omega[c * q + c];
        const se = seOmega[c][c];
        return se === null
          ? [null, null]
          : [round(v * Math.exp((-1.959964 * se) / v)), round(v * Math.exp((1.959964 * se) / v))];
      }),
    },
    sigma,
    ofv: m2ll - N * Math.log(2 * Math.PI),
    minus2LogLikelihood: m2ll,
    aic: m2ll + 2 * m,
    bic: m2ll + m * Math.log(N),
    parameters: m,
    observations: N,
    subjects: pb.subjects.length,
    covariance,
    ebe,
    records,
    warnings,
    converged: extra.converged,
    reason: extra.reason,
    iterations: extra.iterations,
    odeSolves: pb.counters.odeSolves,
    ms: Date.now() - extra.t0,
  };
}

/** Covariance of x from the R matrix: 2·H⁻¹ with H the Hessian of −2 log L (NONMEM's MATRIX=R). */
export function covarianceFromR(pb: PopProblem, x: Float64Array, best: Objective): Float64Array | null {
  const H = hessianAt(pb, x, best);
  if (!H) return null;
  const m = x.length;
  const half = Float64Array.from(H, (v) => v / 2);
  const { inverse } = invertInformation(half, m);
  for (let k = 0; k < m; k++) if (!(half[k * m + k] > 0)) inverse[k * m + k] = NaN;
  return inverse;
}

/**
 * The Newton decrement gᵀH⁻¹g/2 at x (H the Hessian of −2 log L, cov = 2H⁻¹ from covarianceFromR): the
 * decrease of −2 log L a Newton step still promises. Below 1e-3 the estimates are within ~0.03 SE of the
 * minimum. null when the gradient cannot be computed.
 */
export function newtonDecrement(pb: PopProblem, x: Float64Array, best: Objective, cov: Float64Array): number | null {
  const g = populationGradient(pb, x, best);
  if (!g) return null;
  const m = x.length;
  let dec = 0;
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) dec += (g[i] * cov[i * m + j] * g[j]) / 4;
  return Number.isFinite(dec) && dec >= 0 ? dec : null;
}

export function fitFocei(pb: PopProblem, onProgress?: (it: number, ofv: number) => void): PopulationFitResult {
  const t0 = Date.now();
  const out = minimizeOuter(pb, pb.x0, pb.request.population.maxIterations, onProgress);
  const cov = pb.request.population.covariance === 'R' ? covarianceFromR(pb, out.x, out.best) : null;
  let { converged, reason } = out;
  if (!converged && reason === 'no-progress' && cov) {
    // The line search stops when the objective's noise (inner optimisations and ODE solutions to rtol) hides
    // the remaining decrease; the R matrix decides whether that is the optimum.
    const dec = newtonDecrement(pb, out.x, out.best, cov);
    if (dec !== null && dec < 1e-3) {
      converged = true;
      reason = 'newton-decrement';
    }
  }
  return assembleResult(pb, out.x, out.best, cov, {
    method: 'focei',
    converged,
    reason,
    iterations: out.iterations,
    t0,
  });
}
