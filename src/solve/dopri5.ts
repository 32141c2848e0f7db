// Dormand–Prince 5(4) after Hairer's DOPRI5 (Hairer, Nørsett & Wanner, Solving ODEs I, sect. II.5 and
// the Fortran code dopri5.f): FSAL, the order-4 continuous extension of dopri5's CONTD5, PI step-size
// control with beta = 0.04, Hairer's automatic initial step (HINIT, as scipy's select_initial_step) and
// Hairer's stiffness test (the HLAMB estimate h*|lambda| > 3.25 on the stage pair k6/k7 at x + h).
//
// Non-negative components (opts.nonNegative) are handled as MATLAB's ode45 NonNegative option: the
// derivative of a component at or below zero may not point further down, a step whose non-negative
// components end more than atol below zero is rejected, and accepted values are clipped at zero (and
// the FSAL derivative recomputed there). Positive values, however tiny, are never touched.
//
// step() allocates nothing: every work array is made in the constructor.
import type { Rhs, StepperOptions, StepStatus } from './types.ts';
import { StepperBase } from './base.ts';
import { clampDerivative, clipNegative, anyAtZero, nonNegativeError, vectors } from './common.ts';
import { DOPRI5_TABLEAU } from './tableaus.ts';

// The tableau (tableaus.ts) as local constants: read once at load, inlined in the stage loops.
const { a: TA, c: TC, e: TE, d: TD } = DOPRI5_TABLEAU;
const C2 = TC[1],
  C3 = TC[2],
  C4 = TC[3],
  C5 = TC[4];
const A21 = TA[1][0];
const A31 = TA[2][0],
  A32 = TA[2][1];
const A41 = TA[3][0],
  A42 = TA[3][1],
  A43 = TA[3][2];
const A51 = TA[4][0],
  A52 = TA[4][1],
  A53 = TA[4][2],
  A54 = TA[4][3];
const A61 = TA[5][0],
  A62 = TA[5][1],
  A63 = TA[5][2],
  A64 = TA[5][3],
  A65 = TA[5][4];
const A71 = TA[6][0],
  A73 = TA[6][2],
  A74 = TA[6][3],
  A75 = TA[6][4],
  A76 = TA[6][5];
const E1 = TE[0],
  E3 = TE[2],
  E4 = TE[3],
  E5 = TE[4],
  E6 = TE[5],
  E7 = TE[6];
const D1 = TD[0],
  D3 = TD[2],
  D4 = TD[3],
  D5 = TD[4],
  D6 = TD[5],
  D7 = TD[6];

// Step-size control (Hairer's defaults for DOPRI5).
const SAFE = 0.9;
const BETA = 0.04;
const EXPO1 = 0.2 - BETA * 0.75;
const FACC1 = 1 / 0.2; // largest decrease: h/5
const FACC2 = 1 / 10; // largest increase: 10h
/** log(1e-4): the controller's memory of the last error starts (and is floored) at 1e-4, as in dopri5.f. */
const LOG_FACOLD_MIN = Math.log(1e-4);
/** h*|lambda| above this (the stability boundary of DOPRI5 on the negative axis) counts as a stiff indication. */
export const DOPRI5_STABILITY_BOUNDARY = 3.25;
/** Stiff indications (not interrupted by 6 nonstiff ones) before the problem is declared stiff. */
const STIFF_COUNT = 15;
/** While no stiff indication is pending, the stiffness test runs on every STIFF_CHECK_EVERY-th accepted step. */
const STIFF_CHECK_EVERY = 8;

export interface Dopri5Extras {
  /** Step size to try next. */
  h: number;
  /** Last estimate of h*|lambda| from the stiffness test. */
  hlamb: number;
  /** Hairer's stiffness test fired (15 stiff indications without 6 nonstiff ones in between). */
  stiff: boolean;
  /** Hairer's IASTI: consecutive-ish stiff indications. */
  stiffIndications: number;
}

export class Dopri5 extends StepperBase implements Dopri5Extras {
  readonly name = 'dopri5';
  hlamb = 0;
  stiff = false;
  stiffIndications = 0;
  private nonStiffIndications = 0;
  /**
   * log of Hairer's FACOLD (max(err, 1e-4) of the last accepted step). The controller's powers are taken as
   * exp(a·log x): V8's Math.pow (`**`) costs ~50 ns a call, a third of a 6-state step; log and exp ~10 ns.
   */
  private logFacOld = LOG_FACOLD_MIN;
  private hOld = 0; // size of the last accepted step (for dense output)
  private atZero = false; // a non-negative component of y is at zero

  private k1: Float64Array;
  private readonly k2: Float64Array;
  private readonly k3: Float64Array;
  private readonly k4: Float64Array;
  private readonly k5: Float64Array;
  private readonly k6: Float64Array;
  private k7: Float64Array;
  private yNew: Float64Array;
  /** The state at the start of the last accepted step (dense output is built from it on demand). */
  private yPrev: Float64Array;
  /** Whether r1..r5 describe the last accepted step (they are computed on the first interpolation). */
  private denseValid = true;
  private readonly s2: Float64Array; // stage arguments 2-5
  private readonly s3: Float64Array;
  private readonly s4: Float64Array;
  private readonly s5: Float64Array;
  private readonly ySti: Float64Array; // the stage-6 argument (at x + h), for the stiffness test
  private readonly r1: Float64Array;
  private readonly r2: Float64Array;
  private readonly r3: Float64Array;
  private readonly r4: Float64Array;
  private readonly r5: Float64Array;

  constructor(f: Rhs, t0: number, y0: Float64Array, tBound: number, opts: StepperOptions) {
    super(f, t0, y0, tBound, opts);
    const n = this.n;
    // Stages, step ends and stage arguments, the dense-output coefficients (CONTD5).
    [this.k1, this.k2, this.k3, this.k4, this.k5, this.k6, this.k7] = vectors(n, 7);
    [this.yNew, this.yPrev, this.ySti, this.s2, this.s3, this.s4, this.s5] = vectors(n, 7);
    [this.r1, this.r2, this.r3, this.r4, this.r5] = vectors(n, 5);
    this.restart(t0, y0, tBound, opts.firstStep);
  }

  protected resetHistory(): void {
    this.atZero = anyAtZero(this.nnIdx, this.y);
    this.hOld = 0;
    this.denseValid = true;
    this.r1.set(this.y);
    this.r2.fill(0);
    this.r3.fill(0);
    this.r4.fill(0);
    this.r5.fill(0);
    this.logFacOld = LOG_FACOLD_MIN;
    this.lastRejected = false;
    this.stiff = false;
    this.stiffIndications = 0;
    this.nonStiffIndications = 0;
    this.hlamb = 0;
  }

  protected startDerivative(): { f0: Float64Array; scratch1: Float64Array; scratch2: Float64Array } {
    this.rhs(this.t, this.y, this.k1);
    return { f0: this.k1, scratch1: this.k2, scratch2: this.k3 };
  }

  /** f with MATLAB's NonNegative rule: a component at or below zero may not decrease. */
  protected rhs(t: number, y: Float64Array, dydt: Float64Array): void {
    this.f(t, y, dydt);
    this.counters.rhsEvaluations++;
    if (this.nnIdx.length > 0) clampDerivative(this.nnIdx, y, dydt);
  }

  step(): StepStatus {
    if (this.status !== 'running') return this.status;
    const { n, y, yNew, ySti, k1, k2, k3, k4, k5, k6, k7, rtol, atol, t, tBound } = this;
    const hMax = Math.min(this.hMaxOpt, tBound - t);
    let h = Math.min(this.h, hMax);
    let nonFinite = false;
    // The model's f with its stages fused (dopri5-stages.ts), when it has them.
    const stages = this.f.dopri5Stages;
    const idx = this.nnIdx;
    const nnLen = idx.length;
    // A non-negative component at zero: its derivative may not point down, in any stage of this step.
    const clampStages = this.atZero;
    for (;;) {
      // Land on tBound exactly rather than leave a sliver (Hairer: 1.01*h).
      const last = t + 1.01 * h >= tBound;
      if (last) h = tBound - t;
      const tooSmall = this.underflow(t, h, last, nonFinite);
      if (tooSmall) return tooSmall;
      // The NonNegative derivative rule applies in the stages when a non-negative component starts the step
      // at zero. Stages that dip below zero from a positive start are left alone: for a state passing through
      // 1e-15 cells those dips are noise well within atol, and bending the stage derivatives there would
      // perturb the step (and cost a loop per stage); the end of the step is checked and clipped below.
      // The fused stages cannot apply the rule: a step starting at zero takes the loops.
      const tNew = last ? tBound : t + h;
      const e =
        stages !== undefined && !clampStages
          ? stages(t, h, tNew, y, k1, k2, k3, k4, k5, k6, k7, ySti, yNew, atol, rtol)
          : this.genericStages(h, tNew, clampStages);
      this.counters.rhsEvaluations += 6;
      // ode45's NonNegative test: non-negative components ending more than atol below zero fail the step.
      const err = nonNegativeError(idx, yNew, atol, Math.sqrt(e / n));
      if (!Number.isFinite(err)) {
        nonFinite = true;
        h = this.rejectNonFinite(h);
        continue;
      }
      // fac11 = err^EXPO1 (0 when err = 0: log gives -Infinity, exp 0).
      const logErr = Math.log(err);
      if (err <= 1) {
        // Accepted: fac = err^EXPO1 / facOld^BETA.
        let fac = Math.exp(EXPO1 * logErr - BETA * this.logFacOld);
        fac = Math.max(FACC2, Math.min(FACC1, fac / SAFE));
        let hNew = h / fac;
        this.logFacOld = Math.max(logErr, LOG_FACOLD_MIN);
        this.counters.steps++;
        // Stiffness test on the two evaluations at x + h: every STIFF_CHECK_EVERY accepted steps, and every
        // step while stiff indications are being counted (Hairer tests every NSTIFF steps, then every step).
        if (this.stiffIndications > 0 || this.counters.steps % STIFF_CHECK_EVERY === 0) {
          let stNum = 0,
            stDen = 0;
          for (let i = 0; i < n; i++) {
            const a = k7[i] - k6[i];
            const b = yNew[i] - ySti[i];
            stNum += a * a;
            stDen += b * b;
          }
          if (stDen > 0) this.hlamb = h * Math.sqrt(stNum / stDen);
          if (this.hlamb > DOPRI5_STABILITY_BOUNDARY) {
            this.nonStiffIndications = 0;
            this.stiffIndications++;
            if (this.stiffIndications >= STIFF_COUNT) this.stiff = true;
          } else {
            this.nonStiffIndications++;
            if (this.nonStiffIndications >= 6) {
              this.stiffIndications = 0;
              this.stiff = false;
            }
          }
        }
        if (this.lastRejected) hNew = Math.min(hNew, h);
        this.lastRejected = false;
        this.hOld = h;
        this.tOld = t;
        this.t = tNew;
        // ode45's NonNegative rule: accepted values below zero (by less than atol: more was rejected above)
        // are clipped at zero, and f is then evaluated afresh there; positive values, however small, are kept.
        let atZero = false;
        for (let m = 0; m < nnLen; m++) if (yNew[idx[m]] <= 0) atZero = true;
        this.atZero = atZero;
        if (!atZero) {
          // Usual case: rotate buffers instead of copying (FSAL: the new k1 is k7), and leave the dense
          // output (CONTD5) to the first interpolation in this step, if any.
          const free = this.yPrev;
          this.yPrev = y;
          this.y = yNew;
          this.yNew = free;
          this.k1 = k7;
          this.k7 = k1;
          this.denseValid = false;
        } else {
          this.buildDense(y, yNew, k1, k7, h);
          y.set(yNew);
          if (clipNegative(idx, y)) this.rhs(tNew, y, k1);
          else {
            k1.set(k7);
            clampDerivative(idx, y, k1);
          }
        }
        this.h = hNew;
        if (last) this.status = 'finished';
        return this.status;
      }
      // Rejected.
      h = h / Math.min(FACC1, Math.exp(EXPO1 * logErr) / SAFE);
      this.lastRejected = true;
      this.counters.rejected++;
    }
  }

  /**
   * The six stages of an attempt of size h from (t, y) with k1 = f(t, y), through f (the RHS called
   * directly, counted by the caller): k2..k7, ySti and yNew; returns the error's sum of squares (RMS norm,
   * Hairer's scaling with max(|y|, |yNew|)). With `clamp`, the NonNegative derivative rule in every stage.
   */
  private genericStages(h: number, tNew: number, clamp: boolean): number {
    const { n, y, yNew, ySti, k1, k2, k3, k4, k5, k6, k7, rtol, atol, t, f, s2, s3, s4, s5 } = this;
    const idx = this.nnIdx;
    for (let i = 0; i < n; i++) s2[i] = y[i] + h * A21 * k1[i];
    f(t + C2 * h, s2, k2);
    if (clamp) clampDerivative(idx, s2, k2);
    for (let i = 0; i < n; i++) s3[i] = y[i] + h * (A31 * k1[i] + A32 * k2[i]);
    f(t + C3 * h, s3, k3);
    if (clamp) clampDerivative(idx, s3, k3);
    for (let i = 0; i < n; i++) s4[i] = y[i] + h * (A41 * k1[i] + A42 * k2[i] + A43 * k3[i]);
    f(t + C4 * h, s4, k4);
    if (clamp) clampDerivative(idx, s4, k4);
    for (let i = 0; i < n; i++) s5[i] = y[i] + h * (A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i]);
    f(t + C5 * h, s5, k5);
    if (clamp) clampDerivative(idx, s5, k5);
    for (let i = 0; i < n; i++)
      ySti[i] = y[i] + h * (A61 * k1[i] + A62 * k2[i] + A63 * k3[i] + A64 * k4[i] + A65 * k5[i]);
    f(tNew, ySti, k6);
    if (clamp) clampDerivative(idx, ySti, k6);
    for (let i = 0; i < n; i++)
      yNew[i] = y[i] + h * (A71 * k1[i] + A73 * k3[i] + A74 * k4[i] + A75 * k5[i] + A76 * k6[i]);
    f(tNew, yNew, k7);
    if (clamp) clampDerivative(idx, yNew, k7);
    let e = 0;
    for (let i = 0; i < n; i++) {
      const sk = atol[i] + rtol[i] * Math.max(Math.abs(y[i]), Math.abs(yNew[i]));
      const d = (h * (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i] + E7 * k7[i])) / sk;
      e += d * d;
    }
    return e;
  }

  /** CONTD5 coefficients of the step from y0 (slope ka) to y1 (slope kb) of size h; k3..k6 are the step's stages. */
  private buildDense(y0: Float64Array, y1: Float64Array, ka: Float64Array, kb: Float64Array, h: number): void {
    const n = this.n;
    const k3 = this.k3,
      k4 = this.k4,
      k5 = this.k5,
      k6 = this.k6;
    const { r1, r2, r3, r4, r5 } = this;
    for (let i = 0; i < n; i++) {
      const yd = y1[i] - y0[i];
      const bspl = h * ka[i] - yd;
      r1[i] = y0[i];
      r2[i] = yd;
      r3[i] = bspl;
      r4[i] = yd - h * kb[i] - bspl;
      r5[i] = h * (D1 * ka[i] + D3 * k3[i] + D4 * k4[i] + D5 * k5[i] + D6 * k6[i] + D7 * kb[i]);
    }
    this.denseValid = true;
  }

  /** Dense output over the last accepted step (order 4), clipped at zero for non-negative components. */
  interpolate(t: number, out: Float64Array, offset = 0): void {
    const n = this.n;
    if (this.hOld === 0 || t === this.t) {
      out.set(this.y, offset);
      return;
    }
    // After a lazy acceptance: yPrev/k7 hold the step's start, y/k1 its end.
    if (!this.denseValid) this.buildDense(this.yPrev, this.y, this.k7, this.k1, this.hOld);
    const th = (t - this.tOld) / this.hOld;
    const th1 = 1 - th;
    const { r1, r2, r3, r4, r5 } = this;
    for (let i = 0; i < n; i++) out[offset + i] = r1[i] + th * (r2[i] + th1 * (r3[i] + th * (r4[i] + th1 * r5[i])));
    // A non-negative component whose polynomial dips to or below zero between two positive ends follows the
    // geometric path y0 (y1/y0)^theta instead (positive, and within the step's error there).
    const idx = this.nnIdx;
    for (let m = 0; m < idx.length; m++) {
      const i = idx[m];
      if (out[offset + i] <= 0) {
        const y0 = r1[i],
          y1 = r1[i] + r2[i];
        out[offset + i] = y0 > 0 && y1 > 0 ? y0 * (y1 / y0) ** th : 0;
      }
    }
  }
}

export function dopri5(f: Rhs, t0: number, y0: Float64Array, tBound: number, opts: StepperOptions): Dopri5 {
  return new Dopri5(f, t0, y0, tBound, opts);
}
