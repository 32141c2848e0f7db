// The two literature models of the library against independent high-accuracy solutions (SciPy DOP853 and
// Radau at rtol 1e-12..1e-13, cross-checked; tests/reference/make_references.py), and the W2 checkpoint
// scenario with 18 doses. Criterion: at rtol 1e-8 / atol 1e-10 every value within 1e-5 relative
// error, for values above 1e-3 of a cell; smaller ones (the tumor passes through 1e-4 cells and below)
// within an absolute 1e-6 cell.
//
// The implicit method (rodas) is held to the same bound with atol 1e-20 on the runs where the tumor
// passes through 1e-15 cells: with an absolute tolerance far above the state, an implicit method's linear
// solves add noise of the size of atol and the regrowth timing is lost (the drift the issue reports for
// LSODA/BDF/CVODE); explicit methods keep the relative accuracy of a state that decays linearly.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { simulate } from '../src/simulate.ts';

interface Case {
  id: string;
  overrides: Record<string, number>;
  initial: Record<string, number>;
  doses: unknown[];
  times: number[];
  states: Record<string, number[]>;
}
const load = (name: string) =>
  JSON.parse(readFileSync(`tests/reference/${name}.json`, 'utf8')) as { model: Record<string, unknown>; cases: Case[] };

function worst(res: Record<string, number[]>, ref: Record<string, number[]>) {
  let rel = 0,
    abs = 0;
  for (const [name, vals] of Object.entries(ref)) {
    vals.forEach((v, k) => {
      const e = Math.abs(res[name][k] - v);
      if (Math.abs(v) > 1e-3) rel = Math.max(rel, e / Math.abs(v));
      else abs = Math.max(abs, e);
    });
  }
  return { rel, abs };
}

const METHODS = (process.env.ONLY_METHOD ? [process.env.ONLY_METHOD] : ['auto', 'dopri5', 'odex', 'rodas']) as string[];
const TINY = new Set(['c0.02', 'w2']);
/**
 * The criterion (rtol 1e-8, atol 1e-10) for the default `auto` and for dopri5. odex and rodas are
 * held to the same error bound at rtol 1e-10: on these limit cycles the global (phase) error they reach
 * at rtol 1e-8 is 2-4e-5.
 */
const solverFor = (method: string, caseId = '') =>
  method === 'auto' || method === 'dopri5'
    ? { method, rtol: 1e-8, atol: 1e-10 }
    : { method, rtol: 1e-10, atol: method === 'rodas' && TINY.has(caseId) ? 1e-20 : 1e-12 };

describe.each(METHODS)('literature models with %s', (method) => {
  for (const [file, modelId] of [
    ['kirschner-panetta-1998', 'kirschner-panetta-1998'],
    ['kuznetsov-1994', 'kuznetsov-1994'],
  ] as const) {
    for (const c of load(file).cases) {
      it(`${modelId} ${c.id}: library model file vs reference`, () => {
        const r = simulate({
          model: modelId,
          parameters: c.overrides,
          initial: c.initial,
          doses: c.doses,
          times: c.times,
          solver: solverFor(method, c.id),
          metrics: false,
        });
        const w = worst(r.states, c.states);
        expect(w.rel).toBeLessThan(1e-5);
        expect(w.abs).toBeLessThan(1e-6);
        expect(
          Object.values(r.states)
            .flat()
            .every((v) => v >= 0),
        ).toBe(true);
      });
    }
  }

  it('W2 checkpoint scenario, 18 bolus doses, piecewise', () => {
    const ref = load('checkpoint-w2');
    const c = ref.cases[0];
    const r = simulate({
      model: ref.model,
      parameters: c.overrides,
      initial: c.initial,
      doses: c.doses,
      times: c.times,
      solver: solverFor(method, c.id),
      metrics: false,
    });
    const w = worst(r.states, c.states);
    expect(w.rel).toBeLessThan(1e-5);
    expect(w.abs).toBeLessThan(1e-6);
    expect(r.solver.segments).toBe(18);
  });
});

/** Rodas5P's worst relative error on KP98 c = 0.02 (rtol 1e-8, atol 1e-10) may not grow beyond this. */
const RODAS_KP98_BOUND = 0.5;

describe('the implicit method and tiny states', () => {
  it('auto is accurate on Kirschner-Panetta c = 0.02 at atol 1e-10; rodas there stays within its documented bound', () => {
    const c = load('kirschner-panetta-1998').cases.find((x) => x.id === 'c0.02')!;
    const run = (method: string) =>
      simulate({
        model: 'kirschner-panetta-1998',
        parameters: c.overrides,
        initial: c.initial,
        times: c.times,
        solver: { method, rtol: 1e-8, atol: 1e-10 },
        metrics: false,
      });
    expect(worst(run('auto').states, c.states).rel).toBeLessThan(1e-5);
    // Rodas alone drifts on this case (0.19 at the time of writing; docs/architecture.md, "Solvers"): the
    // bound catches a regression, an improvement passes.
    expect(worst(run('rodas').states, c.states).rel).toBeLessThan(RODAS_KP98_BOUND);
  });
});
