// Numerics shared by the steppers (scipy's integrate/_ivp/common.py): the automatic initial step, the
// index of non-negative components and the rules applied to them. Hot loops (stages, error norms inside
// step()) stay in the steppers, written out for speed.
import type { Rhs } from './types.ts';

/**
 * Hairer's HINIT (Solving ODEs I, sect. II.4; scipy's select_initial_step) for a method whose error estimate
 * has order `errorOrder` (4 for DOPRI5 and Rodas5P): the first step such that the explicit Euler step's
 * error, and the change of f over it, are about 1% of the tolerance. `f0` = f(t, y); `y1`, `f1` are scratch
 * (length n). Calls `rhs` once. Returns a positive finite step no larger than hMax.
 */
export function selectInitialStep(
  rhs: Rhs,
  t: number,
  y: Float64Array,
  f0: Float64Array,
  hMax: number,
  rtol: Float64Array,
  atol: Float64Array,
  errorOrder: number,
  y1: Float64Array,
  f1: Float64Array,
): number {
  const n = y.length;
  let d0 = 0,
    d1 = 0;
  for (let i = 0; i < n; i++) {
    const sk = atol[i] + rtol[i] * Math.abs(y[i]);
    d0 += (y[i] / sk) ** 2;
    d1 += (f0[i] / sk) ** 2;
  }
  d0 = Math.sqrt(d0 / n);
  d1 = Math.sqrt(d1 / n);
  let h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * (d0 / d1);
  h0 = Math.min(h0, hMax);
  for (let i = 0; i < n; i++) y1[i] = y[i] + h0 * f0[i];
  rhs(t + h0, y1, f1);
  let d2 = 0;
  for (let i = 0; i < n; i++) {
    const sk = atol[i] + rtol[i] * Math.abs(y[i]);
    d2 += ((f1[i] - f0[i]) / sk) ** 2;
  }
  d2 = Math.sqrt(d2 / n) / h0;
  const dm = Math.max(d1, d2);
  const h1 = dm <= 1e-15 ? Math.max(1e-6, h0 * 1e-3) : (0.01 / dm) ** (1 / (errorOrder + 1));
  const h = Math.min(100 * h0, h1, hMax);
  return Number.isFinite(h) && h > 0 ? h : Math.min(1e-6, hMax);
}

/** Indices of the components flagged non-negative (empty when none is). */
export function nonNegativeIndex(n: number, nonNegative: Uint8Array | undefined): Int32Array {
  let nn = 0;
  if (nonNegative) for (let i = 0; i < n; i++) if (nonNegative[i]) nn++;
  const idx = new Int32Array(nn);
  if (nn > 0) for (let i = 0, k = 0; i < n; i++) if (nonNegative![i]) idx[k++] = i;
  return idx;
}

/** MATLAB ode45's NonNegative derivative rule: a listed component at or below zero may not decrease. */
export function clampDerivative(idx: Int32Array, y: Float64Array, dydt: Float64Array): void {
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k];
    if (y[i] <= 0 && dydt[i] < 0) dydt[i] = 0;
  }
}

/** Sets listed components below zero to zero; true when one was. */
export function clipNegative(idx: Int32Array, y: Float64Array): boolean {
  let clipped = false;
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k];
    if (y[i] < 0) {
      y[i] = 0;
      clipped = true;
    }
  }
  return clipped;
}

/** Whether a listed component is at or below zero. */
export function anyAtZero(idx: Int32Array, y: Float64Array): boolean {
  for (let k = 0; k < idx.length; k++) if (y[idx[k]] <= 0) return true;
  return false;
}

/**
 * ode45's NonNegative test on a step's error: a listed component ending below zero counts as an error of
 * -y/atol, so that one more than atol below zero fails the step. Returns max(err, those errors).
 */
export function nonNegativeError(idx: Int32Array, yNew: Float64Array, atol: Float64Array, err: number): number {
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k];
    if (yNew[i] < 0) {
      const eNN = -yNew[i] / atol[i];
      if (eNN > err) err = eNN;
    }
  }
  return err;
}

/** `count` work vectors of length n (a stepper's stage and scratch buffers). */
export function vectors(n: number, count: number): Float64Array[] {
  return Array.from({ length: count }, () => new Float64Array(n));
}
