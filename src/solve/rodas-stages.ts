// Rodas5P's eight stages of one step attempt fused with a model's right-hand side into one generated function,
// as dopri5-stages.ts does for DOPRI5: the stage arguments, derivatives and stages are local numbers, the
// factored iteration matrix is read into locals once per attempt, and each stage's forward and back
// substitution is written out for the model's n. The bench's W3 population solved by Rodas alone: 0.86–0.92 ms
// per subject against 1.21–1.26 ms through the generic loops of rodas.ts and lu.ts.
//
// The arithmetic is that of rodas.ts and lu.ts expression for expression, in the same order and with every
// tableau entry (zeros included), so a step is bit-identical with or without the fused function
// (tests/fused-stages.test.ts). The row swaps of the partial pivoting go through a scratch array (pivots are
// data), as luSolve applies them.
import { RODAS5P_TABLEAU } from './tableaus.ts';
import { DOPRI5_STAGES_MAX_SOURCE, type RhsStatements } from './dopri5-stages.ts';
import type { RodasStages } from './types.ts';

export type { RodasStages };

/** The fused function's parameters (see RodasStages in types.ts). */
export const RODAS_STAGE_PARAMS = [
  'tA',
  'h',
  'tN',
  'y',
  'f0',
  'dT',
  'E',
  'piv',
  'k',
  'w',
  'yNew',
  'atol',
  'rtol',
] as const;

const T = RODAS5P_TABLEAU;
const S = T.stages;
/** Rows of `a` with explicit coefficients; later stage arguments are the previous argument plus the previous k. */
const EXPLICIT_ROWS = T.a.length - 1;
const num = (v: number) => (Object.is(v, -0) ? '-0' : String(v));

/**
 * The body of a RodasStages function for n states (parameters RODAS_STAGE_PARAMS), or null when it would exceed
 * DOPRI5_STAGES_MAX_SOURCE characters (the same V8 optimization limit applies).
 */
export function rodasStagesBody(n: number, rhs: RhsStatements): string | null {
  const L: string[] = [];
  const each = (f: (i: number) => string) => {
    for (let i = 0; i < n; i++) L.push(f(i));
  };
  const range = (m: number, f: (j: number) => string) => Array.from({ length: m }, (_, j) => f(j));
  each((i) => `const y_${i} = y[${i}], dT_${i} = dT[${i}];`);
  for (let r = 0; r < n; r++) L.push(`const ${range(n, (c) => `e_${r}_${c} = E[${r * n + c}]`).join(', ')};`);
  L.push('const invH = 1 / h;');
  // luSolve on the locals x_0..x_{n-1} (read from `vec(i)`) into `out(i)`: row swaps through w, then L, then U.
  const solve = (vec: (i: number) => string, out: (i: number) => string) => {
    L.push('{');
    each((i) => `w[${i}] = ${vec(i)};`);
    L.push(
      `for (let q = 0; q < ${n}; q++) { const pq = piv[q]; if (pq !== q) { const tmp = w[q]; w[q] = w[pq]; w[pq] = tmp; } }`,
    );
    each((i) => `let b_${i} = w[${i}];`);
    for (let i = 1; i < n; i++)
      L.push(`b_${i} = ${range(i, (j) => ` - e_${i}_${j} * b_${j}`).reduce((s, t) => `(${s}${t})`, `b_${i}`)};`);
    for (let i = n - 1; i >= 0; i--) {
      const s = range(n - 1 - i, (m) => ` - e_${i}_${i + 1 + m} * b_${i + 1 + m}`).reduce(
        (a, t) => `(${a}${t})`,
        `b_${i}`,
      );
      L.push(`b_${i} = ${s} / e_${i}_${i};`);
    }
    each((i) => `${out(i)} = b_${i};`);
    L.push('}');
  };
  for (let s = 0; s < S; s++) L.push(`let ${range(n, (i) => `k${s}_${i}`).join(', ')};`);
  // Stage 1: f0 + h d_1 df/dt.
  each((i) => `k0_${i} = f0[${i}] + h * ${num(T.d[0])} * dT_${i};`);
  solve(
    (i) => `k0_${i}`,
    (i) => `k0_${i}`,
  );
  let arg = '';
  for (let s = 1; s < S; s++) {
    const prev = arg;
    arg = `u${s}`;
    if (s <= EXPLICIT_ROWS) {
      const a = T.a[s];
      each(
        (i) =>
          `const ${arg}_${i} = ${range(s, (j) => ` + ${num(a[j])} * k${j}_${i}`).reduce((x, t) => `(${x}${t})`, `y_${i}`)};`,
      );
    } else {
      each((i) => `const ${arg}_${i} = ${prev}_${i} + k${s - 1}_${i};`);
    }
    const time = s >= 5 ? 'tN' : `tA + ${num(T.c[s])} * h`;
    const C = T.C[s];
    L.push(`{\nconst t = ${time};`);
    each((i) => `let du_${i};`);
    L.push(
      rhs(
        (i) => `${arg}_${i}`,
        (i) => `du_${i}`,
      ),
    );
    L.push(`const ds = h * ${num(T.d[s])};`);
    each(
      (i) =>
        `k${s}_${i} = du_${i} + ds * dT_${i} + ${range(s, (j) => ` + ${num(C[j])} * k${j}_${i}`).reduce((x, t) => `(${x}${t})`, '0')} * invH;`,
    );
    L.push('}');
    solve(
      (i) => `k${s}_${i}`,
      (i) => `k${s}_${i}`,
    );
  }
  // Every stage for the dense output; y1 = last argument + k_8; the error estimate is k_8.
  each((i) => range(S, (s) => `k[${s * n + i}] = k${s}_${i};`).join(' '));
  L.push('let e = 0;');
  each(
    (i) =>
      `{ const yn = ${arg}_${i} + k${S - 1}_${i}; yNew[${i}] = yn; const sk = atol[${i}] + rtol[${i}] * Math.max(Math.abs(y_${i}), Math.abs(yn)); const d = k${S - 1}_${i} / sk; e += d * d; }`,
  );
  L.push('return e;');
  const body = L.join('\n');
  return body.length <= DOPRI5_STAGES_MAX_SOURCE ? body : null;
}
