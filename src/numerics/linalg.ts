// Small dense linear algebra for the fitter: Cholesky solves of the damped normal equations, and a
// symmetric eigendecomposition (cyclic Jacobi) for covariance matrices that may be (near) singular.
// Matrices are row-major Float64Array, m×m; m is the number of estimated parameters (a handful).

/** Lower Cholesky factor L of a symmetric matrix (A = L Lᵀ, row-major q×q); null if not positive definite. */
export function cholesky(A: Float64Array, q: number): Float64Array | null {
  const L = new Float64Array(q * q);
  for (let i = 0; i < q; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * q + j];
      for (let k = 0; k < j; k++) s -= L[i * q + k] * L[j * q + k];
      if (i === j) {
        if (!(s > 0)) return null;
        L[i * q + i] = Math.sqrt(s);
      } else L[i * q + j] = s / L[j * q + j];
    }
  }
  return L;
}

/** Solve A x = b for symmetric positive definite A by Cholesky; null if A is not positive definite (or a pivot is infinite). */
export function choleskySolve(A: Float64Array, b: Float64Array, m: number): Float64Array | null {
  const L = cholesky(A, m);
  if (!L) return null;
  for (let i = 0; i < m; i++) if (!Number.isFinite(L[i * m + i])) return null;
  const x = Float64Array.from(b);
  for (let i = 0; i < m; i++) {
    let s = x[i];
    for (let k = 0; k < i; k++) s -= L[i * m + k] * x[k];
    x[i] = s / L[i * m + i];
  }
  for (let i = m - 1; i >= 0; i--) {
    let s = x[i];
    for (let k = i + 1; k < m; k++) s -= L[k * m + i] * x[k];
    x[i] = s / L[i * m + i];
  }
  return x;
}

/** Eigenvalues (ascending) and eigenvectors (columns of V, row-major) of a symmetric matrix, by cyclic Jacobi. */
export function symmetricEigen(S: Float64Array, m: number): { values: Float64Array; vectors: Float64Array } {
  const A = Float64Array.from(S);
  const V = new Float64Array(m * m);
  for (let i = 0; i < m; i++) V[i * m + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < m; i++) {
      diag += A[i * m + i] * A[i * m + i];
      for (let j = i + 1; j < m; j++) off += A[i * m + j] * A[i * m + j];
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < m; p++) {
      for (let q = p + 1; q < m; q++) {
        const apq = A[p * m + q];
        if (apq === 0) continue;
        const app = A[p * m + p];
        const aqq = A[q * m + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < m; k++) {
          const akp = A[k * m + p];
          const akq = A[k * m + q];
          A[k * m + p] = c * akp - s * akq;
          A[k * m + q] = s * akp + c * akq;
        }
        for (let k = 0; k < m; k++) {
          const apk = A[p * m + k];
          const aqk = A[q * m + k];
          A[p * m + k] = c * apk - s * aqk;
          A[q * m + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < m; k++) {
          const vkp = V[k * m + p];
          const vkq = V[k * m + q];
          V[k * m + p] = c * vkp - s * vkq;
          V[k * m + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => A[a * m + a] - A[b * m + b]);
  const values = Float64Array.from(order.map((i) => A[i * m + i]));
  const vectors = new Float64Array(m * m);
  order.forEach((src, dst) => {
    for (let k = 0; k < m; k++) vectors[k * m + dst] = V[k * m + src];
  });
  return { values, vectors };
}

/**
 * Inverse of a symmetric positive semi-definite matrix (a Fisher information) computed in its own
 * scaling (unit diagonal, so that parameters of very different magnitude do not look singular), with
 * directions whose eigenvalue is below rcond·max treated as unidentifiable: their variance is Infinity.
 * Returns the inverse and the condition number of the scaled matrix.
 */
export function invertInformation(
  H: Float64Array,
  m: number,
  rcond = 1e-13,
): { inverse: Float64Array; condition: number; singular: boolean } {
  const d = new Float64Array(m);
  for (let i = 0; i < m; i++) d[i] = H[i * m + i] > 0 ? 1 / Math.sqrt(H[i * m + i]) : 0;
  const S = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) S[i * m + j] = H[i * m + j] * d[i] * d[j];
  const { values, vectors } = symmetricEigen(S, m);
  const max = Math.max(...values, 0);
  const min = values.length ? values[0] : 0;
  const condition = min > 0 ? max / min : Infinity;
  const inv = new Float64Array(m * m);
  let singular = false;
  const zeroDiag = d.some((v) => v === 0);
  for (let k = 0; k < m; k++) {
    const lam = values[k];
    if (!(lam > rcond * max)) {
      singular = true;
      continue;
    }
    for (let i = 0; i < m; i++) {
      const vi = vectors[i * m + k] / lam;
      if (vi === 0) continue;
      for (let j = 0; j < m; j++) inv[i * m + j] += vi * vectors[j * m + k];
    }
  }
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) inv[i * m + j] *= d[i] * d[j];
  if (singular || zeroDiag) {
    // Variance along a null direction is unbounded: every parameter with a component in it gets Infinity.
    for (let k = 0; k < m; k++) {
      if (values[k] > rcond * max) continue;
      for (let i = 0; i < m; i++) {
        if (Math.abs(vectors[i * m + k]) > 1e-8) inv[i * m + i] = Infinity;
      }
    }
    for (let i = 0; i < m; i++) if (d[i] === 0) inv[i * m + i] = Infinity;
    singular = true;
  }
  return { inverse: inv, condition, singular };
}

/** Standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [
    -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
    2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  let x: number;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    x =
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - pl) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
      (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x =
      -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  return x;
}
