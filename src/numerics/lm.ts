// Levenberg-Marquardt with bounds for a negative log-likelihood whose Hessian is approximated by the
// Fisher information (Gauss-Newton / Fisher scoring): for least squares exactly minpack's lmder model
// (H = JᵀJ, g = Jᵀr), with Marquardt's diagonal scaling D = max over iterations of diag(H), a damping
// parameter updated from the ratio of actual to predicted reduction (Nielsen's rule, the smooth form of
// the trust-region radius update), and bounds by projection: parameters at a bound whose gradient
// points outward are held there (an active set), the step of the free ones is projected into the box.
//
// Stopping report (as minpack's info): relative reduction (actual and predicted reductions both below
// ftol relative to the objective's scale), step (the step below xtol relative to the parameters),
// gradient (the largest cosine between the residual and a Jacobian column below gtol), iteration limit,
// or no further progress possible (the damping grew without an acceptable step).
import { choleskySolve } from './linalg.ts';

export interface LmEvaluation {
  /** Objective (negative log-likelihood up to a constant, or ½ sum of squares). */
  phi: number;
  /** Gradient of phi. */
  g: Float64Array;
  /** Fisher information (Gauss-Newton Hessian), row-major m×m. */
  H: Float64Array;
  /** Scale for the gradient test: ‖r‖² for least squares; the number of observations otherwise. */
  scale2: number;
}

export interface LmOptions {
  maxIterations: number;
  ftol: number;
  xtol: number;
  gtol: number;
  /** Pure least squares (phi ≥ 0): relative reduction measured against phi itself. */
  leastSquares: boolean;
}

export const DEFAULT_LM: LmOptions = { maxIterations: 200, ftol: 1e-10, xtol: 1e-10, gtol: 1e-10, leastSquares: true };

export type StopReason =
  'relative-reduction' | 'step' | 'gradient' | 'max-iterations' | 'no-progress' | 'evaluation-failed';

/** The objective is not finite at the starting point (the caller may try another start). */
export class NonFiniteStartError extends Error {
  constructor() {
    super('the objective is not finite at the starting values');
    this.name = 'NonFiniteStartError';
  }
}

export interface LmResult {
  x: Float64Array;
  evaluation: LmEvaluation;
  iterations: number;
  converged: boolean;
  reason: StopReason;
  message: string;
  /** Evaluations requested (each one solve of the model with sensitivities per subject). */
  evaluations: number;
  /** Parameters held at a bound at the end. */
  atBound: boolean[];
}

/**
 * The parameters free to move: those not held at a bound by a gradient pushing outward. Marks them in
 * `free` (1 free, 0 held) and returns their indices.
 */
function freeIndices(
  x: Float64Array,
  g: Float64Array,
  lower: Float64Array,
  upper: Float64Array,
  free: Uint8Array,
): number[] {
  const idx: number[] = [];
  for (let j = 0; j < x.length; j++) {
    const held = (x[j] <= lower[j] && g[j] > 0) || (x[j] >= upper[j] && g[j] < 0);
    free[j] = held ? 0 : 1;
    if (!held) idx.push(j);
  }
  return idx;
}

/**
 * Minimize from x0 within [lower, upper] (may be ±Infinity). `evaluate` throws on failure (a solve that
 * cannot finish); a failure at a trial point counts as a rejected step.
 */
export function levenbergMarquardt(
  evaluate: (x: Float64Array) => LmEvaluation,
  x0: Float64Array,
  lower: Float64Array,
  upper: Float64Array,
  opts: LmOptions,
): LmResult {
  const m = x0.length;
  const x = Float64Array.from(x0, (v, j) => Math.min(upper[j], Math.max(lower[j], v)));
  let evaluations = 1;
  let ev = evaluate(x);
  if (!Number.isFinite(ev.phi)) throw new NonFiniteStartError();
  const D = new Float64Array(m);
  const updateD = () => {
    for (let j = 0; j < m; j++) D[j] = Math.max(D[j], ev.H[j * m + j], 1e-300);
  };
  updateD();
  // D is Marquardt's scaling (the diagonal of H): the damping λ is relative to it.
  let lambda = 1e-3;
  let nu = 2;
  const objScale = () => (opts.leastSquares ? Math.max(ev.phi, 1e-300) : Math.abs(ev.phi) + 1);
  let iterations = 0;
  let reason: StopReason = 'max-iterations';
  let converged = false;
  const free = new Uint8Array(m);
  const atBoundFlags = () => Array.from(x, (v, j) => v <= lower[j] || v >= upper[j]);

  outer: while (iterations < opts.maxIterations) {
    iterations++;
    const idx = freeIndices(x, ev.g, lower, upper, free);
    if (idx.length === 0 || gradientConverged(ev, free, opts.gtol)) {
      converged = true;
      reason = 'gradient';
      break;
    }
    const A = new Float64Array(idx.length * idx.length);
    const b = new Float64Array(idx.length);
    for (;;) {
      const { s, trial, stepNorm } = dampedStep(ev, D, lambda, idx, A, b, x, lower, upper);
      const xNorm = 0;
      const pred = predictedReduction(ev, trial, x);
      if (!s || stepNorm === 0 || !(pred > 0)) {
        if (s && stepNorm <= opts.xtol * (1 + xNorm)) {
          converged = true;
          reason = 'step';
          break outer;
        }
        lambda = lambda * nu;
        nu *= 2;
        if (!Number.isFinite(lambda) || lambda > 1e300) {
          reason = 'no-progress';
          break outer;
        }
        continue;
      }
      let next: LmEvaluation | null = null;
      evaluations++;
      try {
        next = evaluate(trial);
      } catch {
        next = null;
      }
      const actual = next && Number.isFinite(next.phi) ? ev.phi - next.phi : -Infinity;
      const rho = actual / pred;
      if (next && rho > 1e-4) {
        const scale = objScale();
        x.set(trial);
        ev = next;
        updateD();
        lambda *= Math.max(1 / 3, 1 - Math.pow(2 * rho - 1, 3));
        nu = 2;
        if (Math.abs(actual) <= opts.ftol * scale && pred <= opts.ftol * scale) {
          converged = true;
          reason = 'relative-reduction';
          break outer;
        }
        if (stepNorm <= opts.xtol * (1 + xNorm)) {
          converged = true;
          reason = 'step';
          break outer;
        }
        break;
      }
      // Rejected: a tiny step that changes nothing measurable means we are at the minimum.
      if (next && Math.abs(actual) <= opts.ftol * objScale() && pred <= opts.ftol * objScale()) {
        converged = true;
        reason = 'relative-reduction';
        break outer;
      }
      if (stepNorm <= opts.xtol * (1 + xNorm)) {
        // The trust region collapsed without an acceptable step: a minimum only if the model predicts
        // (almost) nothing more to gain; otherwise the objective is too noisy or too nonlinear here.
        converged = pred <= 1e-6 * objScale();
        reason = converged ? 'step' : 'no-progress';
        break outer;
      }
      lambda *= nu;
      nu *= 2;
      if (!Number.isFinite(lambda) || lambda > 1e300) {
        reason = 'no-progress';
        break outer;
      }
    }
  }
  return {
    x,
    evaluation: ev,
    iterations,
    converged,
    reason,
    message: stopMessage(reason, opts),
    evaluations,
    atBound: atBoundFlags(),
  };
}

/** Projected gradient small relative to the curvature and the residual scale (free parameters only). */
function gradientConverged(ev: LmEvaluation, free: Uint8Array, gtol: number): boolean {
  const m = free.length;
  let worst = 0;
  for (let j = 0; j < m; j++) {
    if (!free[j]) continue;
    const denom = Math.sqrt(Math.max(ev.H[j * m + j], 1e-300) * Math.max(ev.scale2, 1e-300));
    worst = Math.max(worst, Math.abs(ev.g[j]) / denom);
  }
  return worst <= gtol;
}

/**
 * The damped Gauss–Newton step over the free parameters `idx`, (H + λ·diag D) s = −g (A, b are k×k and k
 * work arrays), projected onto the bounds; s is null when the system is not positive definite. stepNorm is
 * the step relative to each parameter (max_j |δ_j| / (1 + |x_j|)), so that one large coordinate (a
 * log-scale value far from 0) does not make every other step look negligible.
 */
function dampedStep(
  ev: LmEvaluation,
  D: Float64Array,
  lambda: number,
  idx: number[],
  A: Float64Array,
  b: Float64Array,
  x: Float64Array,
  lower: Float64Array,
  upper: Float64Array,
): { s: Float64Array | null; trial: Float64Array; stepNorm: number } {
  const m = x.length;
  const k = idx.length;
  for (let a = 0; a < k; a++) {
    b[a] = -ev.g[idx[a]];
    for (let c = 0; c < k; c++) A[a * k + c] = ev.H[idx[a] * m + idx[c]];
    A[a * k + a] += lambda * D[idx[a]];
  }
  const s = choleskySolve(A, b, k);
  const trial = Float64Array.from(x);
  if (s) for (let a = 0; a < k; a++) trial[idx[a]] = Math.min(upper[idx[a]], Math.max(lower[idx[a]], x[idx[a]] + s[a]));
  let stepNorm = 0;
  for (let j = 0; j < m; j++) stepNorm = Math.max(stepNorm, Math.abs(trial[j] - x[j]) / (1 + Math.abs(x[j])));
  return { s, trial, stepNorm };
}

/** Predicted reduction of the quadratic model, −(g·δ + ½ δᵀHδ), for the (projected) step δ = trial − x. */
function predictedReduction(ev: LmEvaluation, trial: Float64Array, x: Float64Array): number {
  const m = x.length;
  const step = new Float64Array(m);
  for (let j = 0; j < m; j++) step[j] = trial[j] - x[j];
  let pred = 0;
  for (let i = 0; i < m; i++) {
    if (step[i] === 0) continue;
    let hs = 0;
    for (let j = 0; j < m; j++) hs += ev.H[i * m + j] * step[j];
    pred -= ev.g[i] * step[i] + 0.5 * step[i] * hs;
  }
  return pred;
}

function stopMessage(reason: StopReason, opts: LmOptions): string {
  const messages: Record<StopReason, string> = {
    'relative-reduction': `the actual and predicted relative reductions of the objective are below ftol = ${opts.ftol}`,
    step: `the relative change of the parameters is below xtol = ${opts.xtol}`,
    gradient: `the gradient is orthogonal to the residuals within gtol = ${opts.gtol}`,
    'max-iterations': `stopped after the maximum of ${opts.maxIterations} iterations`,
    'no-progress': 'no step reduces the objective further (damping exhausted)',
    'evaluation-failed': 'the model could not be solved',
  };
  return messages[reason];
}
