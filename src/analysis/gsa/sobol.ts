// Variance-based global sensitivity (Sobol indices) of a scalar function on the unit cube [0,1]^d, by
// Saltelli's design — two independent base samples A and B (N rows each) and, for each input i, the matrix
// A_B^i (A with column i taken from B): N·(d + 2) evaluations — and Jansen's estimators:
//   V   = variance of f over the rows of A and B,
//   S1ᵢ = (V − 1/(2N) Σⱼ (f(B)ⱼ − f(A_B^i)ⱼ)²) / V,
//   STᵢ = 1/(2N) Σⱼ (f(A)ⱼ − f(A_B^i)ⱼ)² / V
// (Saltelli et al. 2010, Comput. Phys. Commun. 181:259, Table 2, estimators (f) and (b)). Confidence
// intervals: percentile bootstrap over the rows j (the same resampled rows for every estimator); with the
// quasi-random design the rows are not independent and the intervals are conservative.
import { mulberry32 } from '../../numerics/random.ts';

export interface SobolOptions {
  /** Base sample size N (evaluations: N·(d + 2)). */
  samples: number;
  seed: number;
  /** Bootstrap resamples for the confidence intervals (0: none). */
  bootstrap: number;
  /** Confidence level of the intervals. */
  level: number;
  /** Base samples: quasi-random (default) or independent uniforms. */
  sampling?: 'qmc' | 'random';
}

export interface SobolIndices {
  S1: number[];
  ST: number[];
  S1ci: [number, number][] | null;
  STci: [number, number][] | null;
  /** Variance of the response over A and B. */
  variance: number;
  mean: number;
  evaluations: number;
  /** Rows dropped because an evaluation failed or was not finite. */
  droppedRows: number;
}

/**
 * Points of a randomly shifted Kronecker (R_D) low-discrepancy sequence in [0,1)^D: xₙ = frac(s + n·α),
 * αᵢ = φ_D^{-i} with φ_D the positive root of x^{D+1} = x + 1 (Roberts 2018, "The unreasonable effectiveness
 * of quasirandom sequences"); the shift s is seeded, so the estimate is reproducible and unbiased.
 */
export function kroneckerPoints(N: number, D: number, seed: number): Float64Array {
  let phi = 2;
  for (let k = 0; k < 200; k++) phi = Math.pow(1 + phi, 1 / (D + 1));
  const u = mulberry32(seed);
  const alpha = Array.from({ length: D }, (_, i) => Math.pow(1 / phi, i + 1) % 1);
  const shift = Array.from({ length: D }, () => u());
  const X = new Float64Array(N * D);
  for (let j = 0; j < N; j++) for (let i = 0; i < D; i++) X[j * D + i] = (shift[i] + (j + 1) * alpha[i]) % 1;
  return X;
}

/**
 * The design: A, B and every A_B^i (row-major, N·d values). A and B are the two halves of one point set in
 * [0,1)^{2d}: quasi-random (default; errors ~1/N instead of 1/√N) or independent seeded uniforms.
 */
export function saltelliDesign(
  N: number,
  d: number,
  seed: number,
  sampling: 'qmc' | 'random' = 'qmc',
): { A: Float64Array; B: Float64Array; AB: Float64Array[] } {
  const D = 2 * d;
  let X: Float64Array;
  if (sampling === 'qmc') X = kroneckerPoints(N, D, seed);
  else {
    const u = mulberry32(seed);
    X = new Float64Array(N * D);
    for (let k = 0; k < X.length; k++) X[k] = u();
  }
  const A = new Float64Array(N * d);
  const B = new Float64Array(N * d);
  for (let j = 0; j < N; j++) {
    for (let i = 0; i < d; i++) {
      A[j * d + i] = X[j * D + i];
      B[j * d + i] = X[j * D + d + i];
    }
  }
  const AB = Array.from({ length: d }, (_, i) => {
    const M = Float64Array.from(A);
    for (let j = 0; j < N; j++) M[j * d + i] = B[j * d + i];
    return M;
  });
  return { A, B, AB };
}

function estimate(fA: Float64Array, fB: Float64Array, fAB: Float64Array[], rows: ArrayLike<number>) {
  const n = rows.length;
  let sum = 0;
  for (let k = 0; k < n; k++) sum += fA[rows[k]] + fB[rows[k]];
  const mean = sum / (2 * n);
  let ss = 0;
  for (let k = 0; k < n; k++) ss += (fA[rows[k]] - mean) ** 2 + (fB[rows[k]] - mean) ** 2;
  const V = ss / (2 * n - 1);
  const S1: number[] = [];
  const ST: number[] = [];
  for (const f of fAB) {
    let a = 0;
    let b = 0;
    for (let k = 0; k < n; k++) {
      const j = rows[k];
      a += (fB[j] - f[j]) ** 2;
      b += (fA[j] - f[j]) ** 2;
    }
    S1.push((V - a / (2 * n)) / V);
    ST.push(b / (2 * n) / V);
  }
  return { S1, ST, V, mean };
}

function percentile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Sobol indices of `f` (a function of a point of the unit cube; it may throw or return a non-finite value,
 * and then that row is left out of every estimator). `progress` is called with the evaluations done.
 */
export function sobolIndices(
  f: (x: Float64Array) => number,
  d: number,
  opts: SobolOptions,
  progress?: (done: number, total: number) => void,
): SobolIndices {
  const N = opts.samples;
  const { A, B, AB } = saltelliDesign(N, d, opts.seed, opts.sampling);
  const total = N * (d + 2);
  let done = 0;
  const evalAll = (M: Float64Array) => {
    const out = new Float64Array(N);
    for (let j = 0; j < N; j++) {
      let v: number;
      try {
        v = f(M.subarray(j * d, (j + 1) * d));
      } catch {
        v = NaN;
      }
      out[j] = v;
      if (progress && ++done % 256 === 0) progress(done, total);
    }
    return out;
  };
  const fA = evalAll(A);
  const fB = evalAll(B);
  const fAB = AB.map(evalAll);
  const rows: number[] = [];
  for (let j = 0; j < N; j++)
    if (Number.isFinite(fA[j]) && Number.isFinite(fB[j]) && fAB.every((x) => Number.isFinite(x[j]))) rows.push(j);
  const est = estimate(fA, fB, fAB, rows);
  let S1ci: SobolIndices['S1ci'] = null;
  let STci: SobolIndices['STci'] = null;
  if (opts.bootstrap > 1 && rows.length > 1) {
    const rnd = mulberry32((opts.seed ^ 0x27d4eb2f) >>> 0);
    const s1 = Array.from({ length: d }, () => [] as number[]);
    const st = Array.from({ length: d }, () => [] as number[]);
    const r = new Int32Array(rows.length);
    for (let b = 0; b < opts.bootstrap; b++) {
      for (let k = 0; k < rows.length; k++) r[k] = rows[Math.floor(rnd() * rows.length)];
      const e = estimate(fA, fB, fAB, r);
      for (let i = 0; i < d; i++) {
        s1[i].push(e.S1[i]);
        st[i].push(e.ST[i]);
      }
    }
    const lo = (1 - opts.level) / 2;
    const ci = (xs: number[]): [number, number] => {
      const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
      return s.length ? [percentile(s, lo), percentile(s, 1 - lo)] : [NaN, NaN];
    };
    S1ci = s1.map(ci);
    STci = st.map(ci);
  }
  return {
    S1: est.S1,
    ST: est.ST,
    S1ci,
    STci,
    variance: est.V,
    mean: est.mean,
    evaluations: total,
    droppedRows: N - rows.length,
  };
}
