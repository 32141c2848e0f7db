// The schedule optimizer on a virtual population: a population objective under a constraint on a
// population percentile of Cmax, with common random numbers (the same subjects for every candidate).
import { describe, it, expect } from 'vitest';
import { optimizePopulationSchedule } from '../src/analysis/optimize/population-objective.ts';
import { runPopulation } from '../src/analysis/population-request.ts';
import { quantileSorted } from '../src/analysis/population.ts';
import { InputError } from '../src/errors.ts';

/** One-compartment bolus drug (C = A/V, so Cmax = dose/V) killing a tumor of diameter D (mm). */
const model = {
  id: 'pk-kill',
  title: 'bolus drug, Emax kill of a tumor diameter',
  timeUnit: 'day',
  parameters: { V: { value: 5 }, ke: { value: 0.1 }, g: { value: 0.01 }, kmax: { value: 0.08 }, EC50: { value: 10 } },
  states: { A: { initial: 0 }, D: { initial: 50 } },
  odes: { A: '-ke*A', D: '(g - kmax*(A/V)/(EC50 + A/V))*D' },
  outputs: { C_drug: 'A/V', sumOfDiameters_mm: 'D', tumor: 'D' },
  roles: {
    tumor: { series: 'tumor', unit: 'mm', diameter: 'sumOfDiameters_mm' },
    drugs: { drug: { concentration: 'C_drug', doseTarget: 'A' } },
  },
};
const population = { n: 60, seed: 21, omega: { V: 0.3, EC50: 0.5 } };
const request = {
  model,
  horizon: 120,
  step: 2,
  solver: { method: 'dopri5', rtol: 1e-8, atol: 1e-9 },
  drugs: [{ name: 'drug', target: 'A', amount: { values: [10, 50, 100, 200, 400] }, interval: 14, count: 4 }],
  population,
  objective: { kind: 'meanLogTumorRatio' },
  constraints: { cmax: { drug: { percentile: 95, max: 40 } } },
};

describe('population schedule optimization', () => {
  it('the best feasible amount under a 95th-percentile Cmax limit, on the same subjects for every candidate', () => {
    const r = optimizePopulationSchedule(request);
    expect(r.candidates).toBe(5);
    expect(r.solves).toBe(5 * 60);
    // Cmax (bolus, first dose, before accumulation matters little): proportional to the amount on the same
    // subjects, so p95(Cmax)/amount is the same for every candidate (common random numbers)
    const perMg = r.table.map((c) => c.exposure['cmax.drug.p95'] / c.schedule[0].amount);
    for (const x of perMg) expect(x).toBeCloseTo(perMg[0], 10);
    // and it equals p95 of Cmax/amount of those subjects, from their drawn V (linear PK: Cmax = amount·c(V))
    const pop = runPopulation({
      model,
      times: { start: 0, end: 120, step: 2 },
      solver: request.solver,
      doses: [{ target: 'A', amount: 1, every: 14, count: 4 }],
      population: { ...population, perSubject: true, series: ['C_drug'] },
    });
    const cmax1 = (pop.subjects as { metrics: { drugs: { drug: { Cmax: number } } } }[])
      .map((s) => s.metrics.drugs.drug.Cmax)
      .sort((a, b) => a - b);
    expect(perMg[0]).toBeCloseTo(quantileSorted(cmax1, 0.95), 8);
    const limitAmount = 40 / perMg[0];
    for (const c of r.table) expect(c.feasible).toBe(c.schedule[0].amount <= limitAmount);
    expect(r.table.filter((c) => c.feasible).length).toBeGreaterThan(0);
    expect(r.table.filter((c) => !c.feasible).length).toBeGreaterThan(0);
    // more drug shrinks the tumor more: the best is the largest feasible amount
    const feasibleAmounts = [10, 50, 100, 200, 400].filter((a) => a <= limitAmount);
    expect(r.best.schedule[0].amount).toBe(Math.max(...feasibleAmounts));
    expect(r.best.feasible).toBe(true);
    expect(r.best.se).toBeGreaterThan(0);
  }, 60_000);

  it('maximizes the response probability and reports its Monte Carlo SE', () => {
    const r = optimizePopulationSchedule({ ...request, objective: { kind: 'responseProbability' }, constraints: {} });
    const values = r.table.map((c) => c.value);
    expect(r.best.value).toBe(Math.max(...values));
    expect(r.best.value).toBeGreaterThan(Math.min(...values));
    // response is monotone in the amount on common subjects: the 400 mg candidate is among the best
    expect(r.table.find((c) => c.schedule[0].amount === 400)!.value).toBe(r.best.value);
    expect(r.best.se).toBeCloseTo(Math.sqrt((r.best.value * (1 - r.best.value)) / 60), 12);
    expect(r.best.objective).toBe(-r.best.value);
  }, 60_000);

  it('a continuous amount: Latin hypercube then Nelder–Mead, ending feasible near the Cmax limit', () => {
    const r = optimizePopulationSchedule({
      ...request,
      drugs: [{ ...request.drugs[0], amount: { min: 10, max: 400 } }],
      search: { seed: 3, candidates: 6, refineEvaluations: 12 },
    });
    const perMg = r.table[0].exposure['cmax.drug.p95'] / r.table[0].schedule[0].amount;
    const limitAmount = 40 / perMg;
    expect(r.best.feasible).toBe(true);
    expect(r.best.schedule[0].amount).toBeLessThanOrEqual(limitAmount * (1 + 1e-9));
    // the refinement moved toward the constraint boundary (more drug is better): within 10 % of it
    expect(r.best.schedule[0].amount).toBeGreaterThan(0.9 * limitAmount);
    expect(r.candidates).toBeGreaterThan(6);
  }, 60_000);

  it('bad input names the field', () => {
    try {
      optimizePopulationSchedule({ ...request, population: { ...population, n: 20_000 } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).issues[0].path).toEqual(['population', 'n']);
    }
    expect(() =>
      optimizePopulationSchedule({ ...request, constraints: { cmax: { nodrug: { percentile: 95, max: 1 } } } }),
    ).toThrow(/no exposure metrics for drug 'nodrug'/);
    // what the objective and constraints read comes from the model's roles, checked before any solve
    const issuesOf = (req: unknown) => {
      try {
        optimizePopulationSchedule(req);
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        return (e as InputError).issues;
      }
      return expect.unreachable();
    };
    expect(issuesOf({ ...request, constraints: { auc: { nodrug: { percentile: 50, max: 1 } } } })[0].path).toEqual([
      'constraints',
      'auc',
      'nodrug',
    ]);
    // the same model with no roles: no tumor series and no drug, whatever its outputs are called
    const { roles: _r, ...unroled } = model;
    void _r;
    const issues = issuesOf({ ...request, model: unroled });
    expect(issues.map((i) => i.path)).toEqual([['objective'], ['constraints', 'cmax', 'drug']]);
    expect(issues[0].message).toMatch(/roles\.tumor/);
  });
});
