// Dense LU factorization with partial pivoting, in place on a row-major n x n matrix (LAPACK's getrf
// without blocking), and the matching forward/back substitution. Nothing is allocated.

/**
 * Factor A = P L U in place (L unit lower, U upper, both stored in `a`); `piv[k]` is the row swapped
 * with row k at step k. Returns false when a pivot is zero or not finite (A singular to working precision).
 */
export function luFactor(a: Float64Array, n: number, piv: Int32Array): boolean {
  for (let k = 0; k < n; k++) {
    // Pivot: largest |a[i][k]| for i >= k.
    let p = k;
    let big = Math.abs(a[k * n + k]);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(a[i * n + k]);
      if (v > big) {
        big = v;
        p = i;
      }
    }
    piv[k] = p;
    if (!(big > 0) || !Number.isFinite(big)) return false;
    if (p !== k) {
      const rk = k * n,
        rp = p * n;
      for (let j = 0; j < n; j++) {
        const tmp = a[rk + j];
        a[rk + j] = a[rp + j];
        a[rp + j] = tmp;
      }
    }
    const rk = k * n;
    const inv = 1 / a[rk + k];
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      const l = a[ri + k] * inv;
      a[ri + k] = l;
      if (l !== 0) for (let j = k + 1; j < n; j++) a[ri + j] -= l * a[rk + j];
    }
  }
  return true;
}

/** Solve A x = b with the factors from luFactor; b[off .. off+n) is overwritten with x. */
export function luSolve(a: Float64Array, n: number, piv: Int32Array, b: Float64Array, off = 0): void {
  // Apply the row swaps, then L (unit diagonal), then U.
  for (let k = 0; k < n; k++) {
    const p = piv[k];
    if (p !== k) {
      const tmp = b[off + k];
      b[off + k] = b[off + p];
      b[off + p] = tmp;
    }
  }
  for (let i = 1; i < n; i++) {
    const ri = i * n;
    let s = b[off + i];
    for (let j = 0; j < i; j++) s -= a[ri + j] * b[off + j];
    b[off + i] = s;
  }
  for (let i = n - 1; i >= 0; i--) {
    const ri = i * n;
    let s = b[off + i];
    for (let j = i + 1; j < n; j++) s -= a[ri + j] * b[off + j];
    b[off + i] = s / a[ri + i];
  }
}
