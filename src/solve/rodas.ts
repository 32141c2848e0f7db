// Rodas5P: an L-stable, stiffly accurate Rosenbrock method of order 5 with an embedded order-4 error
// estimate and an order-4 dense output (Steinebach, "Construction of Rosenbrock-Wanner method Rodas5P
// and numerical benchmarks within the Julia Differential Equations package", BIT 63, 2023). The
// coefficients are those of DifferentialEquations.jl's Rodas5PTableau, in the W-transformed form of
// Hairer's RODAS code: each stage solves
//     (1/(h*gamma) I - J) k_s = f(t + c_s h, y + sum_j a_sj k_j) + h d_s df/dt + sum_j (C_sj / h) k_j,
// y1 = y + sum of the last stage arguments (stiffly accurate), and the error estimate is k_8.
//
// Step control and Jacobian handling follow Hairer's RODAS: Gustafsson's predictive controller, the
// Jacobian (analytic opts.jac, else forward differences with scipy's num_jac increments) evaluated
// once per step point and kept through rejections (same point, only h changes), a new LU whenever h
// changes. A Rosenbrock method needs the exact Jacobian at the step's start for its order: J is not
// carried over accepted steps (that would take a W-method). The df/dt term is a forward difference in t
// (skipped when opts.autonomous).
//
// Non-negative components are handled as in dopri5.ts (MATLAB ode45's NonNegative rule). step()
// allocates nothing.
import type { JacobianFn, Rhs, StepperOptions, StepStatus } from './types.ts';
import { StepperBase } from './base.ts';
import { clampDerivative, anyAtZero, nonNegativeError, vectors } from './common.ts';
import { RODAS5P_TABLEAU } from './tableaus.ts';
import { luFactor, luSolve } from './lu.ts';
import { FdJacobian } from './jacobian.ts';

// The tableau (tableaus.ts) in flat typed arrays, row-major S x S (only j < i used), read in the stage loops.
const S = RODAS5P_TABLEAU.stages;
const GAMMA = RODAS5P_TABLEAU.gamma;
/** a_ij (stage arguments); rows 7 and 8 are "previous argument + k" and stay zero here. */
const A = new Float64Array(S * S);
/** C_ij (W-transformed coupling). */
const C = new Float64Array(S * S);
const CT = Float64Array.from(RODAS5P_TABLEAU.c);
const D = Float64Array.from(RODAS5P_TABLEAU.d);
/** Dense output: y(θ) = (1-θ) y0 + θ (y1 + (1-θ) (K1 + θ (K2 + θ K3))), K_r = sum_j H[r][j] k_j. */
const H = new Float64Array(3 * S);
RODAS5P_TABLEAU.a.forEach((row, i) => row.forEach((v, j) => (A[i * S + j] = v)));
RODAS5P_TABLEAU.C.forEach((row, i) => row.forEach((v, j) => (C[i * S + j] = v)));
RODAS5P_TABLEAU.h.forEach((row, r) => H.set(row, r * S));

// Step-size control (Hairer's RODAS defaults; exponent 1/5 for the order-4 embedded estimate).
const SAFE = 0.9;
const FAC1 = 5; // largest decrease: h/5
const FAC2 = 1 / 6; // largest increase: 6h
const EXPO = 1 / 5;
/** h*rho(J) below this on an accepted step counts as a nonstiff indication (DOPRI5's real-axis stability boundary is ~3.3). */
export const NONSTIFF_HRHO = 3;

export class Rodas extends StepperBase {
  readonly name = 'rodas';
  /** Weighted norm bound of the spectral radius of J at the start of the last accepted step (similarity-invariant scaling by the error weights). */
  rho = 0;
  /** Consecutive accepted steps with h*rho below NONSTIFF_HRHO (an explicit method would be stable at this step size). */
  nonStiffSteps = 0;

  private readonly jac: JacobianFn | undefined;
  private readonly fd: FdJacobian;
  private readonly autonomous: boolean;

  private readonly J: Float64Array;
  private readonly E: Float64Array;
  private readonly piv: Int32Array;
  private readonly f0: Float64Array;
  private readonly dT: Float64Array;
  private readonly k: Float64Array; // S stages, k[s*n + i]
  private readonly u: Float64Array;
  private readonly du: Float64Array;
  private readonly yNew: Float64Array;
  private readonly w: Float64Array; // error weights at the step start
  private readonly d0: Float64Array; // dense output: y0, y1, K1, K2, K3
  private readonly d1: Float64Array;
  private readonly K1: Float64Array;
  private readonly K2: Float64Array;
  private readonly K3: Float64Array;
  private readonly res: Float64Array; // residual of the dense output at mid-step
  private readonly rowSwaps: Float64Array; // scratch of the fused stages' row swaps
  private f0Current = false;
  private clampNow = false;
  private jacCurrent = false;
  private hOld = 0;
  private hAcc = 0;
  private errAcc = 0;
  private accepted = 0;
  private firstAttempt = true;

  constructor(f: Rhs, t0: number, y0: Float64Array, tBound: number, opts: StepperOptions) {
    super(f, t0, y0, tBound, opts);
    const n = this.n;
    this.jac = opts.jac;
    this.fd = new FdJacobian(n);
    this.autonomous = opts.autonomous === true;
    this.J = new Float64Array(n * n);
    this.E = new Float64Array(n * n);
    this.piv = new Int32Array(n);
    this.f0 = new Float64Array(n);
    this.dT = new Float64Array(n);
    this.k = new Float64Array(S * n);
    [this.u, this.du, this.yNew, this.w, this.d0, this.d1, this.K1, this.K2, this.K3, this.res, this.rowSwaps] =
      vectors(n, 11);
    this.restart(t0, y0, tBound, opts.firstStep);
  }

  protected resetHistory(): void {
    this.hOld = 0;
    this.hAcc = 0;
    this.errAcc = 0;
    this.accepted = 0;
    this.lastRejected = false;
    this.firstAttempt = true;
    this.f0Current = false;
    this.jacCurrent = false;
    this.nonStiffSteps = 0;
    this.rho = 0;
  }

  protected startDerivative(): { f0: Float64Array; scratch1: Float64Array; scratch2: Float64Array } {
    this.updateClamp();
    this.rhs(this.t, this.y, this.f0);
    this.f0Current = true;
    return { f0: this.f0, scratch1: this.u, scratch2: this.du };
  }

  /**
   * f, with MATLAB's NonNegative derivative rule while a non-negative component of the step's starting
   * state is at zero (`clampNow`, set at the start of each step). Stages that dip below zero from a positive
   * start are left alone, as in dopri5.ts: those dips are noise within atol, and the analytic Jacobian knows
   * nothing of the rule.
   */
  protected rhs(t: number, y: Float64Array, dydt: Float64Array): void {
    this.f(t, y, dydt);
    this.counters.rhsEvaluations++;
    if (this.clampNow) clampDerivative(this.nnIdx, y, dydt);
  }

  private updateClamp(): void {
    const z = anyAtZero(this.nnIdx, this.y);
    if (z !== this.clampNow) {
      this.clampNow = z;
      this.f0Current = false; // f0 and J were evaluated under the other rule
      this.jacCurrent = false;
    }
  }

  /** J and df/dt at the current point (f0 must be current). */
  private evaluateJacobian(): void {
    const n = this.n,
      t = this.t,
      y = this.y,
      J = this.J;
    if (this.jac) this.jac(t, y, J);
    else this.fd.evaluate(this.rhsBound, t, y, this.f0, this.atol, J, this.nonNeg);
    this.counters.jacobianEvaluations++;
    if (this.autonomous) this.dT.fill(0);
    else {
      const delt = Math.sqrt(Number.EPSILON * Math.max(1e-5, Math.abs(t)));
      this.rhs(t + delt, y, this.dT);
      for (let i = 0; i < n; i++) this.dT[i] = (this.dT[i] - this.f0[i]) / delt;
    }
    // rho >= spectral radius of J: the smallest of four induced norms, of J and of W^-1 J W with
    // W = diag(error weights), each in the 1- and infinity-norms (every one bounds the spectral radius).
    const w = this.w,
      cs = this.u,
      csw = this.du; // u, du are free here: column sums
    for (let i = 0; i < n; i++) {
      w[i] = this.atol[i] + this.rtol[i] * Math.abs(y[i]);
      cs[i] = 0;
      csw[i] = 0;
    }
    let rowMax = 0,
      rowMaxW = 0;
    for (let i = 0; i < n; i++) {
      let s = 0,
        sw = 0;
      const ri = i * n,
        wi = 1 / w[i];
      for (let j = 0; j < n; j++) {
        const a = Math.abs(J[ri + j]);
        s += a;
        sw += a * w[j];
        cs[j] += a;
        csw[j] += a * wi;
      }
      sw *= wi;
      if (s > rowMax) rowMax = s;
      if (sw > rowMaxW) rowMaxW = sw;
    }
    let colMax = 0,
      colMaxW = 0;
    for (let j = 0; j < n; j++) {
      if (cs[j] > colMax) colMax = cs[j];
      const v = csw[j] * w[j];
      if (v > colMaxW) colMaxW = v;
    }
    const rho = Math.min(rowMax, rowMaxW, colMax, colMaxW);
    this.rho = rho;
    this.jacCurrent = true;
  }

  step(): StepStatus {
    if (this.status !== 'running') return this.status;
    const { n, y, f0, dT, k, u, du, yNew, J, E, piv, rtol, atol, t, tBound } = this;
    const stages = this.f.rodasStages;
    if (this.nnIdx.length > 0) this.updateClamp();
    if (!this.f0Current) {
      this.rhs(t, y, f0);
      this.f0Current = true;
    }
    if (!this.jacCurrent) this.evaluateJacobian();
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(f0[i]) || !Number.isFinite(dT[i]))
        return this.fail(`rodas: non-finite right-hand side at t = ${t} (state ${i})`, 'non-finite');
    }
    const hMax = Math.min(this.hMaxOpt, tBound - t);
    let h = Math.min(this.h, hMax);
    let nonFinite = false;
    let singular = 0;
    for (;;) {
      // Land on tBound exactly rather than leave a sliver (Hairer: 1.01*h).
      const last = t + 1.01 * h >= tBound;
      if (last) h = tBound - t;
      const tooSmall = this.underflow(t, h, last, nonFinite);
      if (tooSmall) return tooSmall;
      const tNew = last ? tBound : t + h;
      // E = 1/(h gamma) I - J, factored.
      const diag = 1 / (h * GAMMA);
      for (let i = 0, nn = n * n; i < nn; i++) E[i] = -J[i];
      for (let i = 0; i < n; i++) E[i * n + i] += diag;
      this.counters.luDecompositions++;
      if (!luFactor(E, n, piv)) {
        singular++;
        if (singular >= 5)
          return this.fail(`rodas: the iteration matrix is singular at t = ${t} (h = ${h}), repeatedly`);
        h *= 0.5;
        continue;
      }
      const invH = 1 / h;
      // The stages: fused with the model's f (rodas-stages.ts) unless the NonNegative rule applies now.
      let e: number;
      if (stages !== undefined && !this.clampNow) {
        e = stages(t, h, tNew, y, f0, dT, E, piv, k, this.rowSwaps, yNew, atol, rtol);
        this.counters.rhsEvaluations += S - 1;
      } else e = this.genericStages(h, tNew);
      let err = nonNegativeError(this.nnIdx, yNew, atol, Math.sqrt(e / n));
      if (!Number.isFinite(err)) {
        nonFinite = true;
        h = this.rejectNonFinite(h);
        continue;
      }
      if (err <= 1) {
        // Dense output (needed on acceptance) and its check: the residual of the interpolant at the
        // midpoint, r = p'(t + h/2) - f(t + h/2, p(t + h/2)), filtered through E^-1 (as RADAU5 filters its
        // estimate): E^-1 r is the midpoint error for stiff components and ~ h*gamma*r for the others.
        // Rodas5P's interpolant is not stiffly accurate on its own (errors of 1e-3 at rtol 1e-6 on
        // Prothero-Robinson with lambda = -1e5); this makes the step size control the output values too.
        const K1 = this.K1,
          K2 = this.K2,
          K3 = this.K3,
          r = this.res;
        for (let i = 0; i < n; i++) {
          let a = 0,
            b = 0,
            c = 0;
          for (let j = 0; j < S; j++) {
            const kj = k[j * n + i];
            a += H[j] * kj;
            b += H[S + j] * kj;
            c += H[2 * S + j] * kj;
          }
          K1[i] = a;
          K2[i] = b;
          K3[i] = c;
          u[i] = 0.5 * (y[i] + yNew[i] + 0.5 * (a + 0.5 * (b + 0.5 * c)));
          r[i] = (yNew[i] - y[i] + 0.25 * (b + c)) * invH;
        }
        this.rhs(t + 0.5 * h, u, du);
        for (let i = 0; i < n; i++) r[i] -= du[i];
        luSolve(E, n, piv, r);
        let ed = 0;
        for (let i = 0; i < n; i++) {
          const d = r[i] / (atol[i] + rtol[i] * Math.max(Math.abs(y[i]), Math.abs(u[i])));
          ed += d * d;
        }
        ed = Math.sqrt(ed / n);
        if (!(ed <= err)) err = Number.isFinite(ed) ? ed : Infinity;
        if (!Number.isFinite(err)) {
          nonFinite = true;
          h = this.rejectNonFinite(h);
          continue;
        }
      }
      // Powers as exp(a·log x): V8's Math.pow is several times slower (see dopri5.ts).
      const logErr = Math.log(err);
      let fac = Math.max(FAC2, Math.min(FAC1, Math.exp(EXPO * logErr) / SAFE));
      let hNew = h / fac;
      if (err <= 1) {
        // Accepted; Gustafsson's predictive correction.
        if (this.accepted > 0) {
          let facGus = ((this.hAcc / h) * Math.exp(EXPO * (2 * logErr - Math.log(this.errAcc)))) / SAFE;
          facGus = Math.max(FAC2, Math.min(FAC1, facGus));
          fac = Math.max(fac, facGus);
          hNew = h / fac;
        }
        this.hAcc = h;
        this.errAcc = Math.max(1e-2, err);
        this.accepted++;
        this.counters.steps++;
        if (this.lastRejected) hNew = Math.min(hNew, h);
        this.lastRejected = false;
        this.firstAttempt = false;
        if (h * this.rho < NONSTIFF_HRHO) this.nonStiffSteps++;
        else this.nonStiffSteps = 0;
        this.d0.set(y);
        // ode45's NonNegative rule: accepted values below zero (by less than atol: more was rejected above)
        // are clipped at zero; positive values, however small, are kept.
        const idx = this.nnIdx;
        for (let m = 0; m < idx.length; m++) if (yNew[idx[m]] < 0) yNew[idx[m]] = 0;
        this.d1.set(yNew);
        this.hOld = h;
        this.tOld = t;
        this.t = tNew;
        y.set(yNew);
        this.f0Current = false;
        this.jacCurrent = false;
        this.h = hNew;
        if (last) this.status = 'finished';
        return this.status;
      }
      // Rejected: same point, same J, smaller h.
      this.counters.rejected++;
      if (this.firstAttempt) hNew = h * 0.1;
      this.lastRejected = true;
      h = hNew;
    }
  }

  /**
   * The S stages of an attempt of size h through f (this.rhs: counted, NonNegative rule when it applies), with
   * E factored: k, the last stage argument in u, y1 in yNew; returns the error's sum of squares.
   */
  private genericStages(h: number, tNew: number): number {
    const { n, y, f0, dT, k, u, du, yNew, E, piv, rtol, atol, t } = this;
    const invH = 1 / h;
    // Stage 1.
    for (let i = 0; i < n; i++) k[i] = f0[i] + h * D[0] * dT[i];
    luSolve(E, n, piv, k);
    for (let s = 1; s < S; s++) {
      // Stage argument: y + sum a_sj k_j for s <= 5 (0-based), then the previous argument + k_{s-1}.
      if (s <= 5) {
        const ra = s * S;
        for (let i = 0; i < n; i++) {
          let v = y[i];
          for (let j = 0; j < s; j++) v += A[ra + j] * k[j * n + i];
          u[i] = v;
        }
      } else {
        const off = (s - 1) * n;
        for (let i = 0; i < n; i++) u[i] += k[off + i];
      }
      this.rhs(s >= 5 ? tNew : t + CT[s] * h, u, du);
      const ks = s * n,
        rc = s * S,
        ds = h * D[s];
      for (let i = 0; i < n; i++) {
        let c = 0;
        for (let j = 0; j < s; j++) c += C[rc + j] * k[j * n + i];
        k[ks + i] = du[i] + ds * dT[i] + c * invH;
      }
      luSolve(E, n, piv, k, ks);
    }
    // y1 = last argument + k8; the error estimate is k8.
    const k8 = (S - 1) * n;
    let e = 0;
    for (let i = 0; i < n; i++) {
      const yn = u[i] + k[k8 + i];
      yNew[i] = yn;
      const sk = atol[i] + rtol[i] * Math.max(Math.abs(y[i]), Math.abs(yn));
      const d = k[k8 + i] / sk;
      e += d * d;
    }
    return e;
  }

  /** Dense output over the last accepted step (order 4), clipped at zero for non-negative components. */
  interpolate(t: number, out: Float64Array, offset = 0): void {
    const n = this.n;
    if (this.hOld === 0 || t === this.t) {
      out.set(this.y, offset);
      return;
    }
    const th = (t - this.tOld) / this.hOld;
    const th1 = 1 - th;
    const { d0: y0, d1: y1, K1, K2, K3 } = this;
    for (let i = 0; i < n; i++)
      out[offset + i] = th1 * y0[i] + th * (y1[i] + th1 * (K1[i] + th * (K2[i] + th * K3[i])));
    // A non-negative component whose polynomial dips to or below zero between two positive ends follows the
    // geometric mean path y0 (y1/y0)^theta instead (positive, and within the step's error there).
    const idx = this.nnIdx;
    for (let m = 0; m < idx.length; m++) {
      const i = idx[m];
      if (out[offset + i] <= 0) out[offset + i] = y0[i] > 0 && y1[i] > 0 ? y0[i] * (y1[i] / y0[i]) ** th : 0;
    }
  }
}

export function rodas(f: Rhs, t0: number, y0: Float64Array, tBound: number, opts: StepperOptions): Rodas {
  return new Rodas(f, t0, y0, tBound, opts);
}
