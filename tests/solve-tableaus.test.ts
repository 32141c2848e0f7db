// The coefficient tables of src/solve/tableaus.ts, checked as scipy's tests/test_rk.py checks its tables:
// row sums equal the nodes, and the order conditions of each method and of its embedded estimate hold to
// rounding (|residual| < 1e-14 for DOPRI5's rational coefficients, < 1e-12 for Rodas5P's 16-digit decimals).
import { describe, expect, it } from 'vitest';
import { DOPRI5_TABLEAU, RODAS5P_TABLEAU } from '../src/solve/tableaus.ts';

type Mat = number[][];
const full = (rows: readonly (readonly number[])[], s: number): Mat =>
  Array.from({ length: s }, (_, i) => Array.from({ length: s }, (_, j) => rows[i]?.[j] ?? 0));
const mv = (A: Mat, v: number[]) => A.map((r) => r.reduce((acc, a, j) => acc + a * v[j], 0));
const dot = (u: number[], v: number[]) => u.reduce((acc, x, i) => acc + x * v[i], 0);
const pw = (v: number[], k: number) => v.map((x) => x ** k);
const mul = (u: number[], v: number[]) => u.map((x, i) => x * v[i]);

/** The 17 order conditions of an explicit Runge–Kutta method up to order 5 (Butcher trees), as [order, residual]. */
function rkConditions(A: Mat, b: number[], c: number[]): [number, number][] {
  const Ac = mv(A, c),
    Ac2 = mv(A, pw(c, 2)),
    AAc = mv(A, Ac);
  return [
    [
      1,
      dot(
        b,
        c.map(() => 1),
      ) - 1,
    ],
    [2, dot(b, c) - 1 / 2],
    [3, dot(b, pw(c, 2)) - 1 / 3],
    [3, dot(b, Ac) - 1 / 6],
    [4, dot(b, pw(c, 3)) - 1 / 4],
    [4, dot(b, mul(c, Ac)) - 1 / 8],
    [4, dot(b, Ac2) - 1 / 12],
    [4, dot(b, AAc) - 1 / 24],
    [5, dot(b, pw(c, 4)) - 1 / 5],
    [5, dot(b, mul(pw(c, 2), Ac)) - 1 / 10],
    [5, dot(b, mul(c, Ac2)) - 1 / 15],
    [5, dot(b, mul(c, AAc)) - 1 / 30],
    [5, dot(b, pw(Ac, 2)) - 1 / 20],
    [5, dot(b, mv(A, pw(c, 3))) - 1 / 20],
    [5, dot(b, mv(A, mul(c, Ac))) - 1 / 40],
    [5, dot(b, mv(A, Ac2)) - 1 / 60],
    [5, dot(b, mv(A, AAc)) - 1 / 120],
  ];
}

describe('DOPRI5 tableau (Dormand & Prince 1980)', () => {
  const T = DOPRI5_TABLEAU;
  const s = T.c.length;
  const A = full(T.a, s);
  it('row sums of a equal c', () => {
    for (let i = 0; i < s; i++) expect(Math.abs(A[i].reduce((x, y) => x + y, 0) - T.c[i])).toBeLessThan(1e-15);
  });
  it('is FSAL: the last row of a is b, at c = 1', () => {
    expect(T.c[s - 1]).toBe(1);
    for (let j = 0; j < s; j++) expect(A[s - 1][j]).toBe(T.b[j]);
  });
  it('b satisfies all 17 conditions of order 5', () => {
    for (const [, r] of rkConditions(A, [...T.b], [...T.c])) expect(Math.abs(r)).toBeLessThan(1e-14);
  });
  it('the embedded b̂ = b − e has order 4, not 5', () => {
    const bh = T.b.map((v, i) => v - T.e[i]);
    const conds = rkConditions(A, bh, [...T.c]);
    for (const [order, r] of conds) if (order <= 4) expect(Math.abs(r)).toBeLessThan(1e-14);
    expect(Math.max(...conds.filter(([o]) => o === 5).map(([, r]) => Math.abs(r)))).toBeGreaterThan(1e-6);
  });
  it('the dense output (CONTD5) weights sum to zero (the interpolant matches y0 and y1)', () => {
    expect(Math.abs(T.d.reduce((x, y) => x + y, 0))).toBeLessThan(1e-12);
  });
});

/**
 * Rodas5P from its W-transformed form (Hairer & Wanner, Solving ODEs II, sect. IV.7, eq. 7.25): Γ⁻¹ = diag(1/γ) − C,
 * α = a Γ, and the weights b = m Γ, where the stiffly accurate rows 7 and 8 of a ("previous argument + k")
 * and m = a_8 + e_8 are filled in first. The embedded solution drops the last k (its weights m̂ = a_8).
 */
function rodasClassical() {
  const T = RODAS5P_TABLEAU;
  const s = T.stages;
  const a = full(T.a, s);
  for (const i of [6, 7]) {
    a[i] = [...a[i - 1]];
    a[i][i - 1] = 1;
  }
  const m = [...a[s - 1]];
  m[s - 1] = 1;
  const mHat = [...a[s - 1]];
  const Ginv = full(T.C, s).map((row, i) => row.map((v, j) => (i === j ? 1 / T.gamma : -v)));
  // Γ = (Γ⁻¹)⁻¹ by forward substitution (lower triangular).
  const G: Mat = Array.from({ length: s }, () => new Array<number>(s).fill(0));
  for (let col = 0; col < s; col++) {
    for (let i = 0; i < s; i++) {
      let v = i === col ? 1 : 0;
      for (let k = 0; k < i; k++) v -= Ginv[i][k] * G[k][col];
      G[i][col] = v / Ginv[i][i];
    }
  }
  const times = (u: number[], M: Mat) => M[0].map((_, j) => u.reduce((acc, x, i) => acc + x * M[i][j], 0));
  const alpha = a.map((row) => times(row, G));
  return { T, s, G, alpha, b: times(m, G), bHat: times(mHat, G) };
}

/** Rosenbrock order conditions up to order 4 (Hairer & Wanner II, Table IV.7.1), β = α + Γ strictly below the diagonal. */
function rosenbrockConditions(b: number[], alpha: Mat, G: Mat, gamma: number): [number, number][] {
  const s = b.length;
  const beta = alpha.map((row, i) => row.map((v, j) => (j < i ? v + G[i][j] : 0)));
  const ai = alpha.map((row) => row.reduce((x, y) => x + y, 0));
  const bp = beta.map((row) => row.reduce((x, y) => x + y, 0));
  const bb = mv(beta, bp);
  const g = gamma;
  const ones = new Array(s).fill(1);
  return [
    [1, dot(b, ones) - 1],
    [2, dot(b, bp) - (1 / 2 - g)],
    [3, dot(b, pw(ai, 2)) - 1 / 3],
    [3, dot(b, bb) - (1 / 6 - g + g * g)],
    [4, dot(b, pw(ai, 3)) - 1 / 4],
    [
      4,
      dot(
        b,
        mul(
          ai,
          mv(
            alpha.map((r, i) => r.map((v, j) => (j < i ? v : 0))),
            bp,
          ),
        ),
      ) -
        (1 / 8 - g / 3),
    ],
    [4, dot(b, mv(beta, pw(ai, 2))) - (1 / 12 - g / 3)],
    [4, dot(b, mv(beta, bb)) - (1 / 24 - g / 2 + 1.5 * g * g - g ** 3)],
  ];
}

describe('Rodas5P tableau (Steinebach 2023)', () => {
  const { T, s, G, alpha, b, bHat } = rodasClassical();
  it('row sums of α equal the nodes c, and row sums of Γ equal the df/dt coefficients d', () => {
    for (let i = 0; i < s; i++) {
      expect(Math.abs(alpha[i].slice(0, i).reduce((x, y) => x + y, 0) - T.c[i])).toBeLessThan(1e-12);
      expect(Math.abs(G[i].slice(0, i + 1).reduce((x, y) => x + y, 0) - T.d[i])).toBeLessThan(1e-12);
    }
  });
  it('is stiffly accurate: b equals the last row of (α + Γ) with γ on the diagonal', () => {
    for (let j = 0; j < s; j++)
      expect(Math.abs(b[j] - (j < s - 1 ? alpha[s - 1][j] + G[s - 1][j] : G[s - 1][j]))).toBeLessThan(1e-10);
  });
  it('the solution satisfies the Rosenbrock conditions up to order 4', () => {
    for (const [, r] of rosenbrockConditions(b, alpha, G, T.gamma)) expect(Math.abs(r)).toBeLessThan(1e-11);
  });
  it('the embedded solution satisfies them up to order 3', () => {
    for (const [order, r] of rosenbrockConditions(bHat, alpha, G, T.gamma))
      if (order <= 3) expect(Math.abs(r)).toBeLessThan(1e-11);
  });
});
