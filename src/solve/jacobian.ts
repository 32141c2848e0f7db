// Forward-difference Jacobian with scipy's num_jac increment choice (scipy/integrate/_ivp/common.py):
// the increment of column j is factor_j * max(|y_j|, atol_j), signed like f_j, and the per-column factor
// adapts from call to call (grown when the difference drowns in round-off, shrunk when it is large).
// A column whose difference is too small is retried once with a 10x larger factor. Non-negative
// components are only ever perturbed upward. Nothing is allocated per call.
//
// One departure from scipy: the factor never shrinks below sqrt(eps) (scipy: 1e3*eps). num_jac serves
// Newton iterations, which tolerate a rough J; a Rosenbrock method builds J into its formula. On the
// Kirschner-Panetta model, where the tumor passes through 1e-15 cells, scipy's rule drove the factor to
// 2e-13 and the IL-2 column to relative errors of 1e-4, and Rodas5P needed 4x the steps (16342 vs 4353,
// 6104 rejections) at rtol 1e-8.
import type { Rhs } from './types.ts';

const EPS = Number.EPSILON;
const DIFF_REJECT = EPS ** 0.875;
const DIFF_SMALL = EPS ** 0.75;
const DIFF_BIG = EPS ** 0.25;
const MIN_FACTOR = Math.sqrt(EPS);
const FACTOR_INCREASE = 10;
const FACTOR_DECREASE = 0.1;
const ROUNDOFF = 8 * EPS;

export class FdJacobian {
  readonly n: number;
  readonly factor: Float64Array;
  private readonly fNew: Float64Array;
  private readonly fNew2: Float64Array;

  constructor(n: number) {
    this.n = n;
    this.factor = new Float64Array(n).fill(Math.sqrt(EPS));
    this.fNew = new Float64Array(n);
    this.fNew2 = new Float64Array(n);
  }

  /**
   * J[i*n + j] = d f_i / d y_j at (t, y), given f0 = f(t, y). `y` is perturbed and restored exactly.
   * Returns the number of right-hand-side evaluations made.
   */
  evaluate(
    f: Rhs,
    t: number,
    y: Float64Array,
    f0: Float64Array,
    threshold: Float64Array,
    J: Float64Array,
    nonNeg: Uint8Array | null,
  ): number {
    const n = this.n;
    const factor = this.factor;
    let fNew = this.fNew;
    let fAlt = this.fNew2;
    let evals = 0;
    for (let j = 0; j < n; j++) {
      const yj = y[j];
      const sign = f0[j] >= 0 ? 1 : -1;
      const yScale = sign * Math.max(threshold[j], Math.abs(yj));
      let h = yj + factor[j] * yScale - yj;
      while (h === 0) {
        factor[j] *= FACTOR_INCREASE;
        h = yj + factor[j] * yScale - yj;
      }
      if (nonNeg && nonNeg[j] && yj + h < 0) h = -h;
      y[j] = yj + h;
      f(t, y, fNew);
      evals++;
      let maxDiff = -1,
        iMax = 0;
      for (let i = 0; i < n; i++) {
        const d = Math.abs(fNew[i] - f0[i]);
        if (d > maxDiff) {
          maxDiff = d;
          iMax = i;
        }
      }
      let scale = Math.max(Math.abs(f0[iMax]), Math.abs(fNew[iMax]));
      if (maxDiff < DIFF_REJECT * scale) {
        // Round-off dominated: try a 10x larger increment, keep it if its relative difference is larger.
        const newFactor = factor[j] * FACTOR_INCREASE;
        let h2 = yj + newFactor * yScale - yj;
        if (nonNeg && nonNeg[j] && yj + h2 < 0) h2 = -h2;
        y[j] = yj + h2;
        f(t, y, fAlt);
        evals++;
        let maxDiff2 = -1,
          iMax2 = 0;
        for (let i = 0; i < n; i++) {
          const d = Math.abs(fAlt[i] - f0[i]);
          if (d > maxDiff2) {
            maxDiff2 = d;
            iMax2 = i;
          }
        }
        const scale2 = Math.max(Math.abs(f0[iMax2]), Math.abs(fAlt[iMax2]));
        if (maxDiff * scale2 < maxDiff2 * scale) {
          factor[j] = newFactor;
          h = h2;
          const swap = fNew;
          fNew = fAlt;
          fAlt = swap;
          maxDiff = maxDiff2;
          scale = scale2;
        }
      }
      y[j] = yj;
      const inv = 1 / h;
      for (let i = 0; i < n; i++) {
        // A difference within a few ulps of f_i is round-off, not slope: with the increment sized by y_j
        // (tiny for a state passing through 1e-15 cells) it would be read as an entry of size ulp(f_i)/h.
        const d = fNew[i] - f0[i];
        J[i * n + j] = Math.abs(d) <= ROUNDOFF * Math.max(Math.abs(f0[i]), Math.abs(fNew[i])) ? 0 : d * inv;
      }
      if (maxDiff < DIFF_SMALL * scale) factor[j] *= FACTOR_INCREASE;
      else if (maxDiff > DIFF_BIG * scale) factor[j] *= FACTOR_DECREASE;
      if (factor[j] < MIN_FACTOR) factor[j] = MIN_FACTOR;
    }
    return evals;
  }
}
