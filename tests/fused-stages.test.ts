// DOPRI5's and Rodas5P's stages fused with a model's right-hand side (src/solve/dopri5-stages.ts,
// rodas-stages.ts): the generated DOPRI5 function against the tableau applied step by step, and whole solves
// (dopri5, auto, rodas) of every library model and of models reading t and dose clocks bit-identical with and
// without them.
import { describe, it, expect } from 'vitest';
import { compileModel } from '../src/model/compile.ts';
import { getModel, listModels } from '../src/model/library.ts';
import { solveIvp, type IvpProblem } from '../src/solve/solve_ivp.ts';
import { DOPRI5_TABLEAU } from '../src/solve/tableaus.ts';
import { dopri5StagesBody, DOPRI5_STAGES_MAX_SOURCE } from '../src/solve/dopri5-stages.ts';
import type { CompiledModel } from '../src/model/compile.ts';
import type { Rhs } from '../src/solve/types.ts';

/** The same f without its fused stages: DOPRI5 then takes its generic loops. */
const plain =
  (f: Rhs): Rhs =>
  (t, y, d) =>
    f(t, y, d);

const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

// A 2-state model reading t: y0' = -k y0 + sin(t) y1, y1' = y0 - y1 / (1 + t).
const timeModel = compileModel({
  id: 'stages-time',
  parameters: { k: { value: 0.7 } },
  states: { u: { initial: 1 }, v: { initial: 0.5 } },
  odes: { u: '-k * u + sin(t) * v', v: 'u - v / (1 + t)' },
});

describe('fused stages', () => {
  it('compute the tableau: k2..k7, the stage-6 argument, y1 and the error sum, within 1e-15 of the formulas', () => {
    const p = Float64Array.from(timeModel.defaultParams);
    const f = timeModel.bindRhs(p);
    expect(typeof f.dopri5Stages).toBe('function');
    const n = 2;
    const { a, c, e } = DOPRI5_TABLEAU;
    const t = 0.3,
      h = 0.17;
    const y = Float64Array.of(1.2, -0.4);
    const k = Array.from({ length: 7 }, () => new Float64Array(n));
    f(t, y, k[0]);
    const arg = Array.from({ length: 7 }, () => new Float64Array(n));
    // Independently: stage s at t + c_s h from y + h Σ a_sj k_j (the tableau's own loops).
    for (let s = 1; s < 7; s++) {
      for (let i = 0; i < n; i++) {
        let v = 0;
        for (let j = 0; j < s; j++) v += a[s][j] * k[j][i];
        arg[s][i] = y[i] + h * v;
      }
      f(t + c[s] * h, arg[s], k[s]);
    }
    const atol = Float64Array.of(1e-6, 1e-6),
      rtol = Float64Array.of(1e-5, 1e-5);
    let err = 0;
    for (let i = 0; i < n; i++) {
      let d = 0;
      for (let j = 0; j < 7; j++) d += e[j] * k[j][i];
      const sk = atol[i] + rtol[i] * Math.max(Math.abs(y[i]), Math.abs(arg[6][i]));
      err += ((h * d) / sk) ** 2;
    }
    const out = Array.from({ length: 8 }, () => new Float64Array(n));
    const [k2, k3, k4, k5, k6, k7, ySti, yNew] = out;
    const sum = f.dopri5Stages!(t, h, t + h, y, k[0], k2, k3, k4, k5, k6, k7, ySti, yNew, atol, rtol);
    const close = (x: number, ref: number) => Math.abs(x - ref) <= 1e-15 * Math.max(1, Math.abs(ref));
    for (let s = 1; s < 7; s++) for (let i = 0; i < n; i++) expect(close(out[s - 1][i], k[s][i])).toBe(true);
    for (let i = 0; i < n; i++) {
      expect(close(ySti[i], arg[5][i])).toBe(true);
      expect(close(yNew[i], arg[6][i])).toBe(true);
    }
    expect(Math.abs(sum - err) / err).toBeLessThan(1e-12);
  });

  type Method = 'dopri5' | 'auto' | 'rodas';
  const problem = (model: CompiledModel, f: Rhs, p: Float64Array, method: Method): IvpProblem => {
    const n = model.stateNames.length;
    const y0 = model.initial(p);
    const tEnd = 60;
    return {
      rhs: f,
      t0: 0,
      tEnd,
      y0,
      outputTimes: Float64Array.from({ length: 61 }, (_, k) => k),
      // A jump into the first state every 10 days (a new segment each time, as doses make).
      discontinuities: [10, 20, 30, 40, 50].map((t) => ({
        t,
        jumps: [{ index: 0, amount: 0.5 * Math.abs(y0[0]) + 1 }],
        rateChanges: [],
      })),
      method,
      rtol: new Float64Array(n).fill(1e-6),
      atol: new Float64Array(n).fill(1e-6),
      nonNegative: model.nonNegative,
      autonomous: model.autonomous,
      maxSteps: 200_000,
      jac: model.jacobian ? (t, y, J) => model.jacobian!(t, y, p, J) : undefined,
    };
  };

  /** Solve with and without the fused stages; both results (or both failures) must be identical. */
  const compare = (model: CompiledModel, p: Float64Array, method: Method) => {
    const run = (fused: boolean) => {
      const f = model.bindRhs(p);
      try {
        return solveIvp(problem(model, fused ? f : plain(f), p, method));
      } catch (e) {
        return (e as Error).message;
      }
    };
    const a = run(true),
      b = run(false);
    if (typeof a === 'string' || typeof b === 'string') {
      expect(a).toEqual(b);
      return;
    }
    expect(sameBits(a.y, b.y)).toBe(true);
    expect(a.counters).toEqual(b.counters);
    expect(a.counters.rhsEvaluations).toBeGreaterThan(0);
  };

  const library = listModels().map((m) => m.id);
  it.each(library)('library model %s: dopri5, auto and rodas solves bit-identical with and without them', (id) => {
    const model = getModel(id);
    expect(typeof model.bindRhs(model.defaultParams).dopri5Stages).toBe('function');
    // Rodas's fused stages hold an n×n solve per stage: generated up to a source size (8 states fit).
    if (model.stateNames.length <= 8) expect(typeof model.bindRhs(model.defaultParams).rodasStages).toBe('function');
    for (const method of ['dopri5', 'auto', 'rodas'] as const)
      compare(model, Float64Array.from(model.defaultParams), method);
  });

  it('models reading t and dose clocks (tfd, tld): bit-identical solves', () => {
    for (const method of ['dopri5', 'rodas'] as const)
      compare(timeModel, Float64Array.from(timeModel.defaultParams), method);
    const clocks = compileModel({
      id: 'stages-clocks',
      parameters: { k: { value: 0.3 } },
      states: { A: { initial: 2 }, x: { initial: 0 }, z: { initial: 0 } },
      odes: { A: '-k * A', x: 'tld(A) * A', z: 'exp(-tfd(A)) + x / (1 + t)' },
    });
    const p = Float64Array.from(clocks.defaultParams);
    expect(clocks.doseClocks.length).toBe(2);
    // First dose into A on day 3, the last on day 7 (the clocks' slots, as the runner sets them).
    for (const c of clocks.doseClocks) p[c.slot] = c.kind === 'tfd' ? 3 : 7;
    for (const method of ['dopri5', 'auto', 'rodas'] as const) compare(clocks, p, method);
  });

  it('are left out above DOPRI5_STAGES_MAX_SOURCE characters (the generic loops serve such models)', () => {
    const long = (arg: (i: number) => string, out: (i: number) => string) =>
      Array.from({ length: 40 }, (_, i) => `${out(i)} = ${Array(40).fill(arg(i)).join(' + ')};`).join('\n');
    expect(dopri5StagesBody(40, long)).toBeNull();
    expect(dopri5StagesBody(2, (arg, out) => `${out(0)} = ${arg(1)};\n${out(1)} = -${arg(0)};`)!.length).toBeLessThan(
      DOPRI5_STAGES_MAX_SOURCE,
    );
    // A model that large compiles and solves without them.
    const n = 60;
    const states = Object.fromEntries(Array.from({ length: n }, (_, i) => [`s${i}`, { initial: 1 + i / n }]));
    const odes = Object.fromEntries(
      Array.from({ length: n }, (_, i) => [
        `s${i}`,
        `-k * s${i} + 0.01 * (${Array.from({ length: 12 }, (_, j) => `s${(i + j + 1) % n}`).join(' + ')})`,
      ]),
    );
    const big = compileModel({ id: 'stages-big', parameters: { k: { value: 1 } }, states, odes });
    const f = big.bindRhs(Float64Array.from(big.defaultParams));
    expect(f.dopri5Stages).toBeUndefined();
    expect(f.rodasStages).toBeUndefined();
    const sol = solveIvp(problem(big, f, Float64Array.from(big.defaultParams), 'dopri5'));
    expect(sol.counters.steps).toBeGreaterThan(0);
  });
});
