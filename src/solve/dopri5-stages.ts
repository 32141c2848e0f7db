// DOPRI5's six stages of one step attempt fused with a model's right-hand side into one generated function
// (as ModelingToolkit compiles a model into its solver's hot loop): the stage arguments and derivatives are
// plain local numbers instead of Float64Array elements passed through six calls of f. The bench's W3
// population solved by DOPRI5 alone: 0.93–0.98 ms per subject against 1.28–1.30 ms through the generic loops.
//
// The arithmetic is that of dopri5.ts, expression for expression and in the same order (the constants are
// the tableau's own doubles, written with String(), which round-trips exactly), so a step gives bit-identical
// stages, state and error with or without the fused function (tests/fused-stages.test.ts checks this).
// This module knows the method; the model compiler (src/model/compile/generate.ts) supplies the right-hand
// side's statements, emitted from the model's whitelisted syntax trees with each state read from a local. No
// user text reaches the generated code: the emitted statements name only p[j], a{k}, q{k}, t, Math.* and the
// $-helpers, and the locals here (y_i, s2_i, k2_i, A21, ...) are built from indices.
import { DOPRI5_TABLEAU } from './tableaus.ts';
import type { Dopri5Stages } from './types.ts';

export type { Dopri5Stages };

/** The fused function's parameters (see Dopri5Stages in types.ts). */
export const DOPRI5_STAGE_PARAMS = [
  'tA',
  'h',
  'tN',
  'y',
  'k1',
  'k2',
  'k3',
  'k4',
  'k5',
  'k6',
  'k7',
  'ySti',
  'yNew',
  'atol',
  'rtol',
] as const;

/**
 * Largest generated body, in characters, that is fused: V8 does not optimize a function whose bytecode
 * exceeds ~60 KB, and an unoptimized fused step is slower than the generic loops. Larger models keep them.
 */
export const DOPRI5_STAGES_MAX_SOURCE = 40_000;

/**
 * Statements computing the right-hand side at time `t` (a local the caller declares) from the state read
 * through `arg(i)` into `out(i)` (assignments `out(i) = ...;`): the model's f with other names.
 */
export type RhsStatements = (arg: (i: number) => string, out: (i: number) => string) => string;

const { a: TA, c: TC, e: TE } = DOPRI5_TABLEAU;
const CONSTANTS: Record<string, number> = {
  C2: TC[1],
  C3: TC[2],
  C4: TC[3],
  C5: TC[4],
  A21: TA[1][0],
  A31: TA[2][0],
  A32: TA[2][1],
  A41: TA[3][0],
  A42: TA[3][1],
  A43: TA[3][2],
  A51: TA[4][0],
  A52: TA[4][1],
  A53: TA[4][2],
  A54: TA[4][3],
  A61: TA[5][0],
  A62: TA[5][1],
  A63: TA[5][2],
  A64: TA[5][3],
  A65: TA[5][4],
  A71: TA[6][0],
  A73: TA[6][2],
  A74: TA[6][3],
  A75: TA[6][4],
  A76: TA[6][5],
  E1: TE[0],
  E3: TE[2],
  E4: TE[3],
  E5: TE[4],
  E6: TE[5],
  E7: TE[6],
};

/**
 * The body of a Dopri5Stages function for n states (parameters DOPRI5_STAGE_PARAMS), or null when it would
 * exceed DOPRI5_STAGES_MAX_SOURCE. Each stage's right-hand side runs in a block of its own, with `t` the
 * stage's time, so the model's assignments (const a0...) are local to it.
 */
export function dopri5StagesBody(n: number, rhs: RhsStatements): string | null {
  const L: string[] = [];
  const each = (f: (i: number) => string) => {
    for (let i = 0; i < n; i++) L.push(f(i));
  };
  for (const [k, v] of Object.entries(CONSTANTS)) L.push(`const ${k} = ${String(v)};`);
  each((i) => `const y_${i} = y[${i}], k1_${i} = k1[${i}];`);
  for (let s = 2; s <= 7; s++) L.push(`let ${Array.from({ length: n }, (_, i) => `k${s}_${i}`).join(', ')};`);
  // The stages as in Dopri5.step: argument, then f at the stage's time.
  const stage = (arg: string, argExpr: (i: number) => string, time: string, out: string) => {
    each((i) => `const ${arg}_${i} = ${argExpr(i)};`);
    L.push(
      `{\nconst t = ${time};\n${rhs(
        (i) => `${arg}_${i}`,
        (i) => `${out}_${i}`,
      )}\n}`,
    );
  };
  stage('s2', (i) => `y_${i} + h * A21 * k1_${i}`, 'tA + C2 * h', 'k2');
  stage('s3', (i) => `y_${i} + h * (A31 * k1_${i} + A32 * k2_${i})`, 'tA + C3 * h', 'k3');
  stage('s4', (i) => `y_${i} + h * (A41 * k1_${i} + A42 * k2_${i} + A43 * k3_${i})`, 'tA + C4 * h', 'k4');
  stage(
    's5',
    (i) => `y_${i} + h * (A51 * k1_${i} + A52 * k2_${i} + A53 * k3_${i} + A54 * k4_${i})`,
    'tA + C5 * h',
    'k5',
  );
  stage(
    's6',
    (i) => `y_${i} + h * (A61 * k1_${i} + A62 * k2_${i} + A63 * k3_${i} + A64 * k4_${i} + A65 * k5_${i})`,
    'tN',
    'k6',
  );
  stage(
    'yn',
    (i) => `y_${i} + h * (A71 * k1_${i} + A73 * k3_${i} + A74 * k4_${i} + A75 * k5_${i} + A76 * k6_${i})`,
    'tN',
    'k7',
  );
  // What the rest of the step reads: the stages (dense output, FSAL), the stage-6 argument (stiffness test).
  each(
    (i) =>
      `k2[${i}] = k2_${i}; k3[${i}] = k3_${i}; k4[${i}] = k4_${i}; k5[${i}] = k5_${i}; k6[${i}] = k6_${i}; k7[${i}] = k7_${i}; ySti[${i}] = s6_${i}; yNew[${i}] = yn_${i};`,
  );
  // The error's sum of squares, as Dopri5.step sums it.
  L.push('let e = 0;');
  each(
    (i) =>
      `{ const sk = atol[${i}] + rtol[${i}] * Math.max(Math.abs(y_${i}), Math.abs(yn_${i})); const d = (h * (E1 * k1_${i} + E3 * k3_${i} + E4 * k4_${i} + E5 * k5_${i} + E6 * k6_${i} + E7 * k7_${i})) / sk; e += d * d; }`,
  );
  L.push('return e;');
  const body = L.join('\n');
  return body.length <= DOPRI5_STAGES_MAX_SOURCE ? body : null;
}
