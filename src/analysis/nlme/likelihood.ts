// The FOCE-I objective of one subject. Given θ, Ω, σ the conditional mode η̂ (the EBE) minimises
//   O(η) = Σ_j [ r_j²/V_j + log V_j ] + ηᵀΩ⁻¹η,   r_j = y_j − h(f_j(η)),  V_j = σ² + (σp·h(f_j))²
// (h = identity or log; the variance is evaluated at the individual prediction: the "interaction"),
// found by Fisher scoring (Gauss-Newton with the variance term) with step halving, warm-started (Newton
// with the exact Hessian of the last accepted point when the outer loop has one).
// The Laplace approximation with the first-order Hessian then gives
//   −2 log L_i ≈ Σ_j [ r_j²/V_j + log V_j + log 2π ] + η̂ᵀΩ⁻¹η̂ + log|Ω| + log|Ω⁻¹ + Σ_j g_j g_jᵀ/V_j|,
// g_j = ∂h(f_j)/∂η at η̂ — NONMEM's FOCE-I (Wang 2007, J Pharmacokinet Pharmacodyn 34:575). The
// population OFV is the sum; `ofv` drops the Σ log 2π constant as NONMEM reports it.
import { choleskySolve } from '../../numerics/linalg.ts';
import { cholesky, individualParams, sigmasOf, type PopProblem, type PopSubject } from './problem.ts';
import { predictSubject } from './predict.ts';

export interface OmegaFactors {
  q: number;
  omega: Float64Array;
  inv: Float64Array;
  logDet: number;
}

export function omegaFactors(omega: Float64Array, q: number): OmegaFactors | null {
  const L = cholesky(omega, q);
  if (!L) return null;
  let logDet = 0;
  for (let i = 0; i < q; i++) logDet += 2 * Math.log(L[i * q + i]);
  const inv = new Float64Array(q * q);
  for (let j = 0; j < q; j++) {
    const e = new Float64Array(q);
    e[j] = 1;
    const col = choleskySolve(omega, e, q)!;
    for (let i = 0; i < q; i++) inv[i * q + j] = col[i];
  }
  return { q, omega, inv, logDet };
}

export interface SubjectFit {
  eta: Float64Array;
  /** The point at η̂ (predictions, derivatives, O(η̂)). */
  point: Point;
  /** −2 log L_i (with the 2π constant). */
  m2ll: number;
  /** Individual predictions (model scale), transformed predictions, variances, ∂h(f)/∂η (records × q). */
  f: Float64Array;
  mu: Float64Array;
  V: Float64Array;
  G: Float64Array;
  iterations: number;
  converged: boolean;
}

export interface Point {
  eta: Float64Array;
  f: Float64Array;
  mu: Float64Array;
  V: Float64Array;
  /** ∂μ/∂φ over every fixed effect (records × nf) and its η columns (records × q). */
  Gf: Float64Array;
  G: Float64Array;
  dV: Float64Array;
  obj: number;
}

/**
 * The subject's transformed predictions and their derivatives at η (plus an optional shift of one φ_l by
 * δ, for second differences), and the conditional objective O(η).
 */
export function evalPoint(
  pb: PopProblem,
  x: Float64Array,
  s: PopSubject,
  eta: Float64Array,
  om: OmegaFactors,
  shift?: [number, number],
): Point | null {
  const q = om.q;
  const nf = pb.fixed.length;
  const p = individualParams(pb, x, s, eta);
  if (shift) {
    const fe = pb.fixed[shift[0]];
    p[fe.index] = fe.log ? p[fe.index] * Math.exp(shift[1]) : p[fe.index] + shift[1];
  }
  let pred;
  try {
    pred = predictSubject(pb, s, p, true);
  } catch {
    return null;
  }
  const { f } = pred;
  const Gf = pred.G!;
  const n = f.length;
  const mu = new Float64Array(n);
  const V = new Float64Array(n);
  const G = new Float64Array(n * q);
  const dV = new Float64Array(n * q);
  const { a, b } = sigmasOf(pb, x);
  let obj = 0;
  for (let j = 0; j < n; j++) {
    if (pb.logTransform) {
      if (!(f[j] > 0)) return null;
      mu[j] = Math.log(f[j]);
      for (let c = 0; c < nf; c++) Gf[j * nf + c] /= f[j];
    } else mu[j] = f[j];
    for (let c = 0; c < q; c++) G[j * q + c] = Gf[j * nf + pb.etaFe[c]];
    const v = a * a + b * b * mu[j] * mu[j];
    if (!(v > 0) || !Number.isFinite(mu[j])) return null;
    V[j] = v;
    for (let c = 0; c < q; c++) dV[j * q + c] = 2 * b * b * mu[j] * G[j * q + c];
    const r = s.obs[j].y - mu[j];
    obj += (r * r) / v + Math.log(v);
  }
  for (let i = 0; i < q; i++) for (let k = 0; k < q; k++) obj += eta[i] * om.inv[i * q + k] * eta[k];
  return Number.isFinite(obj) ? { eta, f, mu, V, Gf, G, dV, obj } : null;
}

/** η̂ of one subject by Fisher scoring from `eta0`; null when the model cannot be evaluated near it. */
export function fitSubject(
  pb: PopProblem,
  x: Float64Array,
  s: PopSubject,
  eta0: Float64Array,
  om: OmegaFactors,
  hint?: Float64Array | null,
  tol = 1e-11,
  maxIter = 60,
): SubjectFit | null {
  const q = om.q;
  let cur = evalPoint(pb, x, s, Float64Array.from(eta0), om);
  if (!cur && eta0.some((v) => v !== 0)) cur = evalPoint(pb, x, s, new Float64Array(q), om);
  if (!cur) return null;
  let it = 0;
  let converged = false;
  const g = new Float64Array(q);
  const H = new Float64Array(q * q);
  for (; it < maxIter; it++) {
    g.fill(0);
    H.fill(0);
    const n = cur.f.length;
    for (let j = 0; j < n; j++) {
      const r = s.obs[j].y - cur.mu[j];
      const v = cur.V[j];
      const c1 = (-2 * r) / v;
      const c2 = 1 / v - (r * r) / (v * v);
      for (let c = 0; c < q; c++) {
        const gc = cur.G[j * q + c];
        const dc = cur.dV[j * q + c];
        g[c] += c1 * gc + c2 * dc;
        for (let d = 0; d < q; d++)
          H[c * q + d] += (2 * gc * cur.G[j * q + d]) / v + (dc * cur.dV[j * q + d]) / (v * v);
      }
    }
    for (let c = 0; c < q; c++)
      for (let d = 0; d < q; d++) {
        g[c] += 2 * om.inv[c * q + d] * cur.eta[d];
        H[c * q + d] += 2 * om.inv[c * q + d];
      }
    // Newton with the exact data Hessian of a nearby point when given (the last gradient step computed
    // it): superlinear where Fisher scoring is linear on problems with non-small residuals.
    let step: Float64Array | null = null;
    if (hint && it < 3) {
      const Hx = Float64Array.from(hint, (v, k) => v + 2 * om.inv[k]);
      step = choleskySolve(Hx, g, q);
    }
    step ??= choleskySolve(H, g, q);
    if (!step) break;
    let dec = 0;
    for (let c = 0; c < q; c++) dec += g[c] * step[c];
    if (dec < tol) {
      converged = true;
      break;
    }
    let t = 1;
    let next: Point | null = null;
    for (let h = 0; h < 30; h++, t /= 2) {
      const eta = Float64Array.from(cur.eta, (v, c) => v - t * step[c]);
      const cand = evalPoint(pb, x, s, eta, om);
      if (cand && cand.obj <= cur.obj + 1e-12 * Math.abs(cur.obj)) {
        next = cand;
        break;
      }
    }
    if (!next) {
      converged = dec < 1e-6;
      break;
    }
    const gain = cur.obj - next.obj;
    cur = next;
    if (gain < tol * 1e-2) {
      converged = true;
      break;
    }
  }
  // Laplace term with the first-order Hessian Ω⁻¹ + Σ g gᵀ/V.
  const A = Float64Array.from(om.inv);
  const n = cur.f.length;
  for (let j = 0; j < n; j++)
    for (let c = 0; c < q; c++)
      for (let d = 0; d < q; d++) A[c * q + d] += (cur.G[j * q + c] * cur.G[j * q + d]) / cur.V[j];
  const LA = cholesky(A, q);
  if (!LA) return null;
  let logDetA = 0;
  for (let i = 0; i < q; i++) logDetA += 2 * Math.log(LA[i * q + i]);
  const m2ll = cur.obj + n * Math.log(2 * Math.PI) + om.logDet + logDetA;
  return { eta: cur.eta, point: cur, m2ll, f: cur.f, mu: cur.mu, V: cur.V, G: cur.G, iterations: it, converged };
}
