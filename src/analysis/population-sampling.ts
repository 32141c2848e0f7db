// Drawing virtual subjects: the between-subject variability Ω (diagonal, NONMEM-style block, or SDs plus a
// correlation matrix), its Cholesky factor, the per-parameter transforms (log-normal, normal, logit-normal)
// and covariates (from distributions or resampled rows of a table). Subject i's draws depend only on
// (seed, i): each subject has its own random stream seeded by a hash of the two, so any split of a
// population into chunks draws exactly the same subjects.
import { InputError, type Path } from '../errors.ts';
import { mulberry32, normalSampler } from '../numerics/random.ts';

/** A resolved Ω: parameter names and the covariance matrix (row-major, m × m). */
export interface OmegaMatrix {
  names: string[];
  cov: Float64Array;
}

export type OmegaInput =
  Record<string, number> | { block: [string[], number[][]] } | { sd: Record<string, number>; correlation: number[][] };

function isBlock(o: OmegaInput): o is { block: [string[], number[][]] } {
  return Object.hasOwn(o, 'block') && Array.isArray((o as { block: unknown }).block);
}
function isSdCorr(o: OmegaInput): o is { sd: Record<string, number>; correlation: number[][] } {
  return Object.hasOwn(o, 'sd') && Object.hasOwn(o, 'correlation');
}

function checkSquare(matrix: number[][], m: number, path: Path) {
  if (matrix.length !== m) throw new InputError(`the matrix has ${matrix.length} rows for ${m} parameters`, path);
  matrix.forEach((row, i) => {
    if (row.length !== m) throw new InputError(`row ${i} has ${row.length} entries for ${m} parameters`, [...path, i]);
    row.forEach((v, j) => {
      if (!Number.isFinite(v)) throw new InputError('entries must be finite numbers', [...path, i, j]);
    });
  });
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < i; j++) {
      const a = matrix[i][j];
      const b = matrix[j][i];
      if (Math.abs(a - b) > 1e-12 * Math.max(1, Math.abs(a), Math.abs(b)))
        throw new InputError(`not symmetric: [${i}][${j}] = ${a} but [${j}][${i}] = ${b}`, [...path, i, j]);
    }
  }
}

/** Resolve any of the three Ω forms to a covariance matrix (not yet checked positive definite). */
export function omegaMatrix(o: OmegaInput, path: Path): OmegaMatrix {
  if (isBlock(o)) {
    const [names, matrix] = o.block;
    const m = names.length;
    checkSquare(matrix, m, [...path, 'block', 1]);
    const cov = new Float64Array(m * m);
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) cov[i * m + j] = matrix[i][j];
    return { names: [...names], cov };
  }
  if (isSdCorr(o)) {
    const names = Object.keys(o.sd);
    const m = names.length;
    checkSquare(o.correlation, m, [...path, 'correlation']);
    const cov = new Float64Array(m * m);
    for (let i = 0; i < m; i++) {
      if (o.correlation[i][i] !== 1)
        throw new InputError(`the diagonal of a correlation matrix is 1 (got ${o.correlation[i][i]})`, [
          ...path,
          'correlation',
          i,
          i,
        ]);
      for (let j = 0; j < m; j++) {
        const r = o.correlation[i][j];
        if (Math.abs(r) > 1)
          throw new InputError(`a correlation is in [-1, 1] (got ${r})`, [...path, 'correlation', i, j]);
        cov[i * m + j] = r * o.sd[names[i]] * o.sd[names[j]];
      }
    }
    return { names, cov };
  }
  const names = Object.keys(o);
  const m = names.length;
  const cov = new Float64Array(m * m);
  names.forEach((n, i) => (cov[i * m + i] = (o as Record<string, number>)[n] ** 2));
  return { names, cov };
}

/**
 * Lower Cholesky factor L (Ω = L Lᵀ). A zero variance (a fixed parameter in a diagonal Ω) gives a zero
 * column; otherwise a pivot ≤ 0 means Ω is not positive definite, reported with the leading minor.
 */
export function cholesky(cov: Float64Array, m: number, names: string[], path: Path): Float64Array {
  const L = new Float64Array(m * m);
  for (let j = 0; j < m; j++) {
    let d = cov[j * m + j];
    for (let k = 0; k < j; k++) d -= L[j * m + k] ** 2;
    const scale = Math.max(1e-300, Math.abs(cov[j * m + j]));
    if (cov[j * m + j] === 0) {
      // a degenerate (fixed) parameter: allowed only when it is uncorrelated with the others
      for (let i = 0; i < m; i++)
        if (i !== j && cov[i * m + j] !== 0)
          throw new InputError(
            `Ω is not positive definite: '${names[j]}' has variance 0 but covariance with '${names[i]}'`,
            path,
          );
      continue;
    }
    if (!(d > 1e-12 * scale)) {
      throw new InputError(
        `Ω is not positive definite: the leading ${j + 1}×${j + 1} block (${names.slice(0, j + 1).join(', ')}) has a non-positive pivot (${d.toPrecision(3)}); check the covariances/correlations`,
        path,
      );
    }
    const ljj = Math.sqrt(d);
    L[j * m + j] = ljj;
    for (let i = j + 1; i < m; i++) {
      let s = cov[i * m + j];
      for (let k = 0; k < j; k++) s -= L[i * m + k] * L[j * m + k];
      L[i * m + j] = s / ljj;
    }
  }
  return L;
}

/** A 32-bit mix of (seed, i) (murmur3's finaliser over both words): the seed of subject i's stream. */
export function subjectSeed(seed: number, i: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul((i + 1) >>> 0, 0x85ebca77)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Subject i's random stream: uniform and standard normal draws. */
export function subjectStream(seed: number, i: number): { uniform: () => number; normal: () => number } {
  const uniform = mulberry32(subjectSeed(seed, i));
  return { uniform, normal: normalSampler(uniform) };
}

export type Transform = 'lognormal' | 'normal' | 'logitnormal';

/** p from the typical value θ and η: θ·exp(η), θ + η, or expit(logit(θ) + η). */
export function transform(kind: Transform, theta: number, eta: number): number {
  if (kind === 'normal') return theta + eta;
  if (kind === 'lognormal') return theta * Math.exp(eta);
  const x = Math.log(theta / (1 - theta)) + eta;
  return 1 / (1 + Math.exp(-x));
}

/** η = L z for one subject. */
export function drawEta(L: Float64Array, m: number, normal: () => number, out: Float64Array): Float64Array {
  const z = new Float64Array(m);
  for (let j = 0; j < m; j++) z[j] = normal();
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let k = 0; k <= i; k++) s += L[i * m + k] * z[k];
    out[i] = s;
  }
  return out;
}

export type CovariateDistribution =
  | { distribution: 'normal'; mean: number; sd: number; lower?: number; upper?: number }
  | { distribution: 'lognormal'; median: number; omega: number; lower?: number; upper?: number }
  | { distribution: 'uniform'; lower: number; upper: number };

/** Draws for truncation by rejection before giving up (a truncation that keeps almost nothing is an input error). */
export const MAX_REJECTIONS = 1000;

export function drawCovariate(
  d: CovariateDistribution,
  s: { uniform: () => number; normal: () => number },
  path: Path,
): number {
  if (d.distribution === 'uniform') return d.lower + (d.upper - d.lower) * s.uniform();
  const lo = d.lower ?? -Infinity;
  const hi = d.upper ?? Infinity;
  for (let k = 0; k < MAX_REJECTIONS; k++) {
    const v = d.distribution === 'normal' ? d.mean + d.sd * s.normal() : d.median * Math.exp(d.omega * s.normal());
    if (v >= lo && v <= hi) return v;
  }
  throw new InputError(
    `no draw in [${lo}, ${hi}] after ${MAX_REJECTIONS} tries: the truncation keeps almost none of the distribution`,
    path,
  );
}
