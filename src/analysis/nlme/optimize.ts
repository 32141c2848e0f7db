// The outer optimisation of a population fit: the population −2 log-likelihood as a function of the
// working vector x (each subject's η̂ re-found, warm-started from the last accepted point), minimised
// by BFGS with a backtracking line search and the gradient of gradient.ts.
import { SolveError } from '../../errors.ts';
import type { PopProblem } from './problem.ts';
import { omegaOf } from './problem.ts';
import { fitSubject, omegaFactors, type SubjectFit } from './likelihood.ts';
import { omegaDerivatives, subjectGradient } from './gradient.ts';

export interface Objective {
  value: number;
  fits: SubjectFit[];
}

/** Σ −2 log L_i at x, η̂ warm-started from `etas`; null when Ω is not positive definite or a subject fails. */
export function populationM2ll(
  pb: PopProblem,
  x: Float64Array,
  etas: Float64Array[],
  hints?: (Float64Array | null)[],
): Objective | null {
  const q = pb.etaNames.length;
  const om = omegaFactors(omegaOf(pb, x), q);
  if (!om) return null;
  const fits: SubjectFit[] = [];
  let value = 0;
  for (let i = 0; i < pb.subjects.length; i++) {
    const fit = fitSubject(pb, x, pb.subjects[i], etas[i], om, hints?.[i]);
    if (!fit) return null;
    fits.push(fit);
    value += fit.m2ll;
  }
  return Number.isFinite(value) ? { value, fits } : null;
}

function quadForm(eta: Float64Array, inv: Float64Array, q: number): number {
  let v = 0;
  for (let i = 0; i < q; i++) for (let k = 0; k < q; k++) v += eta[i] * inv[i * q + k] * eta[k];
  return v;
}

/**
 * Warm starts may sit in another mode of a subject's conditional density (the flip-flop of ka and CL/V in
 * oral models, reached along the outer path). At each accepted point, a subject whose η̂ lies beyond the bulk
 * of N(0, Ω) (η̂ᵀΩ⁻¹η̂ beyond the χ²_q mean + 3 SD, q + 3√(2q): a flip-flop mode lies far out, ~(log ka/k)²/ω²) is searched again from η = 0 and the better mode kept (its −2 log L_i
 * replaces the other in the objective). Once per outer iteration, not per line-search evaluation: the next
 * evaluations warm-start from the mode kept.
 */
function refreshModes(pb: PopProblem, x: Float64Array, o: Objective): Objective {
  const q = pb.etaNames.length;
  const om = omegaFactors(omegaOf(pb, x), q);
  if (!om) return o;
  const far = q + 3 * Math.sqrt(2 * q);
  let value = o.value;
  const fits = o.fits.map((fit, i) => {
    if (quadForm(fit.eta, om.inv, q) <= far) return fit;
    const alt = fitSubject(pb, x, pb.subjects[i], new Float64Array(q), om, null);
    if (!alt || !(alt.point.obj < fit.point.obj - 1e-9)) return fit;
    value += alt.m2ll - fit.m2ll;
    return alt;
  });
  return { value, fits };
}

export interface OuterResult {
  x: Float64Array;
  best: Objective;
  iterations: number;
  converged: boolean;
  reason: string;
  evaluations: number;
}

const clamp = (pb: PopProblem, x: Float64Array) => {
  for (let k = 0; k < x.length; k++) x[k] = Math.min(pb.upper[k], Math.max(pb.lower[k], x[k]));
  return x;
};

const scaledIdentity = (m: number, v: number) => {
  const H = new Float64Array(m * m);
  for (let k = 0; k < m; k++) H[k * m + k] = v;
  return H;
};
const norm2 = (v: Float64Array) => Math.sqrt(v.reduce((a, w) => a + w * w, 0)) || 1;
const dot = (a: Float64Array, b: Float64Array) => a.reduce((acc, v, k) => acc + v * b[k], 0);
const scaledGradMax = (g: Float64Array, x: Float64Array) =>
  Math.max(...g.map((v, k) => Math.abs(v) * Math.max(1, Math.abs(x[k]))));

/**
 * The objective evaluated along the outer path: each η̂ at a trial point y starts from η̂ + dη̂/dx·(y − x)
 * (dη̂/dx at the accepted point x, from the gradient), first-order accurate, which saves the inner
 * optimisation about a third of its iterations on the tail of the path.
 */
function warmStartedObjective(
  pb: PopProblem,
  x: Float64Array,
  etas: Float64Array[],
  hints: (Float64Array | null)[],
  slopes: (Float64Array | null)[],
) {
  const m = x.length;
  const q = pb.etaNames.length;
  const counter = { evaluations: 0 };
  const F = (y: Float64Array) => {
    counter.evaluations++;
    const starts = etas.map((e, i) => {
      const S = slopes[i];
      if (!S) return e;
      const st = Float64Array.from(e);
      for (let c = 0; c < q; c++) for (let k = 0; k < m; k++) st[c] += S[c * m + k] * (y[k] - x[k]);
      return st.every(Number.isFinite) ? st : e;
    });
    return populationM2ll(pb, y, starts, hints);
  };
  return { F, counter };
}

/** The quasi-Newton direction −H⁻¹g, steepest descent when that is not a descent direction, at most 2 working units long. */
function searchDirection(
  Hi: Float64Array,
  g: Float64Array,
  gn: number,
): { d: Float64Array; slope: number; restarted: Float64Array | null } {
  const m = g.length;
  const d = new Float64Array(m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) d[i] -= Hi[i * m + j] * g[j];
  let slope = dot(d, g);
  let restarted: Float64Array | null = null;
  if (!(slope < 0)) {
    // Not a descent direction: restart from steepest descent.
    restarted = scaledIdentity(m, 0.1 / gn);
    for (let k = 0; k < m; k++) d[k] = -(0.1 / gn) * g[k];
    slope = dot(d, g);
  }
  // Limit the step to 2 working units (a factor e² on log-scale quantities).
  const dmax = Math.max(...d.map(Math.abs));
  if (dmax > 2) {
    for (let k = 0; k < m; k++) d[k] *= 2 / dmax;
    slope *= 2 / dmax;
  }
  return { d, slope, restarted };
}

/**
 * Backtracking: halve until the Armijo condition holds, or until the first-order decrease t·|slope| is below
 * the 1e-6 the OFV is converged to.
 */
function lineSearch(
  pb: PopProblem,
  F: (y: Float64Array) => Objective | null,
  x: Float64Array,
  d: Float64Array,
  slope: number,
  curValue: number,
) {
  let t = 1;
  for (let ls = 0; ls < 30 && t * -slope > 1e-6; ls++, t /= 2) {
    const xn = clamp(
      pb,
      Float64Array.from(x, (v, k) => v + t * d[k]),
    );
    const cand = F(xn);
    if (cand && cand.value <= curValue + 1e-4 * t * slope) return { next: cand, xn };
  }
  return null;
}

/** BFGS update of the inverse Hessian approximation, in place (s the step, y the change of gradient, sy = sᵀy > 0). */
function bfgsUpdate(Hi: Float64Array, s: Float64Array, yv: Float64Array, sy: number) {
  const m = s.length;
  const Hy = new Float64Array(m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) Hy[i] += Hi[i * m + j] * yv[j];
  const yHy = dot(yv, Hy);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++)
      Hi[i * m + j] += ((sy + yHy) * s[i] * s[j]) / (sy * sy) - (Hy[i] * s[j] + s[i] * Hy[j]) / sy;
  }
}

export function minimizeOuter(
  pb: PopProblem,
  x0: Float64Array,
  maxIterations: number,
  onProgress?: (it: number, ofv: number) => void,
): OuterResult {
  const m = x0.length;
  const x = clamp(pb, Float64Array.from(x0));
  const etas = pb.subjects.map(() => new Float64Array(pb.etaNames.length));
  const hints: (Float64Array | null)[] = pb.subjects.map(() => null);
  const slopes: (Float64Array | null)[] = pb.subjects.map(() => null);
  const { F, counter } = warmStartedObjective(pb, x, etas, hints, slopes);
  let cur = F(x);
  if (cur) cur = refreshModes(pb, x, cur);
  if (!cur)
    throw new SolveError(
      "the population likelihood cannot be evaluated at the initial estimates (a subject's model fails to solve, or predicts a value the error model cannot take, e.g. ≤ 0 with a log transform or 0 with a proportional error)",
      'other',
      0,
    );
  const accept = (o: Objective) => o.fits.forEach((f, i) => etas[i].set(f.eta));
  accept(cur);
  // The gradient at an accepted point (gradient.ts), projected: a component pushing x out of its box is 0.
  const grad = (y: Float64Array, o: Objective) => {
    const g = populationGradient(pb, y, o, hints, slopes);
    if (!g)
      throw new SolveError(
        'the gradient of the population likelihood could not be computed (a perturbed model solve failed)',
        'other',
        0,
      );
    for (let k = 0; k < m; k++) if ((y[k] <= pb.lower[k] && g[k] > 0) || (y[k] >= pb.upper[k] && g[k] < 0)) g[k] = 0;
    return g;
  };
  let g: Float64Array = grad(x, cur);
  // Inverse Hessian approximation, started at a scaled identity.
  const gn = norm2(g);
  let Hi: Float64Array = scaledIdentity(m, Math.min(1, 0.1 / gn));
  let it = 0;
  let reason = 'max-iterations';
  let converged = false;
  let small = 0;
  let fresh = true;
  let scaleFirst = true;
  for (; it < maxIterations; it++) {
    onProgress?.(it, cur.value);
    const { d, slope, restarted } = searchDirection(Hi, g, gn);
    if (restarted) {
      Hi = restarted;
      scaleFirst = true;
    }
    if (-slope < 2e-6 && !fresh) {
      // The quasi-Newton model predicts a decrease −slope/2 below the 1e-6 the OFV is converged to (the
      // relative-reduction test below): stop here rather than halve a step whose gain is lost in the
      // inner optimisations' noise (on the simulation study's design, 30–60 evaluations of such tails).
      converged = true;
      reason = 'relative-reduction';
      break;
    }
    const found = lineSearch(pb, F, x, d, slope, cur.value);
    if (!found && !fresh) {
      // The quasi-Newton direction failed (a stale curvature model, or an objective made slightly rough by
      // the inner optimisations): restart from steepest descent once before giving up.
      fresh = true;
      Hi = scaledIdentity(m, Math.min(1, 0.1 / norm2(g)));
      scaleFirst = true;
      it--;
      continue;
    }
    if (!found) {
      reason = 'no-progress';
      converged = scaledGradMax(g, x) < 1e-2;
      break;
    }
    const { xn } = found;
    const next = refreshModes(pb, xn, found.next);
    const drop = cur.value - next.value;
    fresh = false;
    accept(next);
    const gNew = grad(xn, next);
    const s = Float64Array.from(xn, (v, k) => v - x[k]);
    const yv = Float64Array.from(gNew, (v, k) => v - g[k]);
    const sy = dot(s, yv);
    if (sy > 1e-12 && scaleFirst) {
      // Before the first update, rescale the starting identity by sᵀy/yᵀy (Shanno–Phua; Nocedal & Wright
      // eq. 6.20): the guess 0.1/|g| knows nothing of the objective's curvature.
      Hi = scaledIdentity(m, sy / dot(yv, yv));
      scaleFirst = false;
    }
    if (sy > 1e-12) bfgsUpdate(Hi, s, yv, sy);
    x.set(xn);
    cur = next;
    g = gNew;
    const gmax = scaledGradMax(g, x);
    small = drop < 1e-6 ? small + 1 : 0;
    if (gmax < 1e-3 || small >= 2) {
      converged = true;
      reason = gmax < 1e-3 ? 'gradient' : 'relative-reduction';
      it++;
      break;
    }
  }
  return { x, best: cur, iterations: it, converged, reason, evaluations: counter.evaluations };
}

/**
 * Hessian of the population −2 log L at x by forward differences of its gradient (step h·max(1, |x_k|) on the
 * working scale; O(h) = 1e-3 relative error in H, far below what matters for standard errors).
 */
export function hessianAt(pb: PopProblem, x: Float64Array, best: Objective, h = 1e-3): Float64Array | null {
  const m = x.length;
  const etas = best.fits.map((f) => Float64Array.from(f.eta));
  const hints: (Float64Array | null)[] = best.fits.map(() => null);
  const slopes: (Float64Array | null)[] = best.fits.map(() => null);
  const g0 = populationGradient(pb, x, best, hints, slopes);
  if (!g0) return null;
  const H = new Float64Array(m * m);
  for (let k = 0; k < m; k++) {
    const hk = h * Math.max(1, Math.abs(x[k]));
    const y = Float64Array.from(x);
    y[k] += hk;
    // η̂ at y starts from η̂ + hk·∂η̂/∂x_k (as in minimizeOuter).
    const starts = etas.map((e, i) => Float64Array.from(e, (v, c) => v + (slopes[i] ? hk * slopes[i]![c * m + k] : 0)));
    const o = populationM2ll(pb, y, starts, hints);
    const up = o ? populationGradient(pb, y, o) : null;
    if (!up) return null;
    for (let l = 0; l < m; l++) H[l * m + k] = (up[l] - g0[l]) / hk;
  }
  for (let k = 0; k < m; k++)
    for (let l = 0; l < k; l++) H[k * m + l] = H[l * m + k] = 0.5 * (H[k * m + l] + H[l * m + k]);
  return H.every(Number.isFinite) ? H : null;
}

/** Analytic-in-η̂ gradient of the population −2 log L at x (gradient.ts); null when a solve fails. */
export function populationGradient(
  pb: PopProblem,
  x: Float64Array,
  obj: Objective,
  hints?: (Float64Array | null)[],
  slopes?: (Float64Array | null)[],
): Float64Array | null {
  const om = omegaFactors(omegaOf(pb, x), pb.etaNames.length);
  if (!om) return null;
  const dOmega = omegaDerivatives(pb, x);
  const g = new Float64Array(x.length);
  for (let i = 0; i < pb.subjects.length; i++) {
    const gi = subjectGradient(pb, x, pb.subjects[i], obj.fits[i], om, dOmega);
    if (!gi) return null;
    if (hints) hints[i] = gi.hessEta;
    if (slopes) slopes[i] = gi.detaDx;
    for (let k = 0; k < x.length; k++) g[k] += gi.g[k];
  }
  return g;
}
