// Virtual populations: the pooled (worker_threads) run must give exactly the single-threaded numbers, and
// each subject must equal a plain simulate() of the scenario with that subject's parameters.
import { describe, it, expect } from 'vitest';
import { simulatePopulation, lognormalSubjects } from '../src/analysis/population.ts';
import { mulberry32 } from '../src/numerics/random.ts';
import { simulate } from '../src/simulate.ts';

const model = {
  id: 'pop-test',
  title: 'KP98 with two-compartment antibody PK (population test)',
  timeUnit: 'day',
  parameters: {
    c: { value: 0.035 }, mu2: { value: 0.03 }, p1: { value: 0.1245 }, g1: { value: 2e7 }, r2: { value: 0.18 },
    b: { value: 1e-9 }, a: { value: 1 }, g2: { value: 1e5 }, p2: { value: 5 }, g3: { value: 1e3 }, mu3: { value: 10 },
    CL: { value: 0.22 }, V1: { value: 3.48 }, Q: { value: 0.795 }, V2: { value: 4.06 }, EC50: { value: 0.5 }, emax: { value: 0.5 },
  },
  states: { E: { initial: 1 }, T: { initial: 1e5 }, IL: { initial: 1 }, Ac: { initial: 0 }, Ap: { initial: 0 } },
  assignments: { occ: '(Ac/V1)/(Ac/V1 + EC50)' },
  odes: {
    E: 'c*T*(1 + emax*occ) - mu2*E + p1*E*IL/(g1 + IL)',
    T: 'r2*T*(1 - b*T) - a*E*T/(g2 + T)',
    IL: 'p2*E*T/(g3 + T) - mu3*IL',
    Ac: '-(CL/V1)*Ac - (Q/V1)*Ac + (Q/V2)*Ap',
    Ap: '(Q/V1)*Ac - (Q/V2)*Ap',
  },
};

const scenario = {
  model,
  times: { start: 0, end: 120, step: 5 },
  doses: [{ target: 'Ac', amount: 200, start: 0, every: 21, count: 4 }],
  solver: { method: 'odex' as const, rtol: 1e-7, atol: 1e-9 },
  metrics: false,
};

const subjects = lognormalSubjects(10, { c: 0.035, r2: 0.18, EC50: 0.5 }, { c: 0.3, r2: 0.3, EC50: 0.3 }, 42);

describe('simulatePopulation', () => {
  it('draws reproducible subjects from a seed', () => {
    expect(lognormalSubjects(3, { c: 1 }, { c: 0.3 }, 7)).toEqual(lognormalSubjects(3, { c: 1 }, { c: 0.3 }, 7));
    expect(lognormalSubjects(3, { c: 1 }, { c: 0.3 }, 7)).not.toEqual(lognormalSubjects(3, { c: 1 }, { c: 0.3 }, 8));
    const u = mulberry32(1);
    for (let i = 0; i < 100; i++) {
      const v = u();
      expect(v >= 0 && v < 1).toBe(true);
    }
  });

  it('gives the same numbers single-threaded and on a worker pool', async () => {
    const single = await simulatePopulation({ scenario, subjects, workers: 1, quantiles: [0.05, 0.5, 0.95], keepSubjects: true });
    const pooled = await simulatePopulation({ scenario, subjects, workers: 2, chunkSize: 3, quantiles: [0.05, 0.5, 0.95], keepSubjects: true });
    expect(single.stats.workers).toBe(1);
    expect(pooled.stats.workers).toBe(2);
    expect(pooled.failures).toEqual([]);
    expect(pooled.times).toEqual(single.times);
    expect(pooled.subjects.length).toBe(10);
    for (let j = 0; j < subjects.length; j++) {
      for (const s of ['E', 'T', 'IL', 'Ac', 'Ap']) {
        expect(Array.from(pooled.subjects[j].states[s])).toEqual(Array.from(single.subjects[j].states[s]));
      }
    }
    expect(pooled.stats.rhsEvaluations).toBe(single.stats.rhsEvaluations);
    for (const s of ['E', 'T']) {
      for (let r = 0; r < 3; r++) expect(Array.from(pooled.summary!.values[s][r])).toEqual(Array.from(single.summary!.values[s][r]));
    }
  }, 120_000);

  it('matches simulate() subject by subject, and summarises with quantiles', async () => {
    const pop = await simulatePopulation({ scenario, subjects: subjects.slice(0, 4), workers: 1, states: ['T'], quantiles: [0, 0.5, 1], keepSubjects: 4 });
    expect(pop.states).toEqual(['T']);
    for (let j = 0; j < 4; j++) {
      const one = simulate({ ...scenario, parameters: subjects[j].parameters });
      expect(Array.from(pop.subjects[j].states.T)).toEqual(one.states.T);
    }
    const k = 10;
    const col = pop.subjects.map((s) => s.states.T[k]).sort((x, y) => x - y);
    expect(pop.summary!.values.T[0][k]).toBe(col[0]);
    expect(pop.summary!.values.T[2][k]).toBe(col[3]);
    expect(pop.summary!.values.T[1][k]).toBeCloseTo((col[1] + col[2]) / 2, 6);
  });

  it('reports a subject that cannot be built instead of failing the population', async () => {
    const pop = await simulatePopulation({ scenario, subjects: [subjects[0], { parameters: { nope: 1 } }, subjects[1]], workers: 1, states: ['T'] });
    expect(pop.failures.map((f) => f.index)).toEqual([1]);
    expect(pop.failures[0].message).toMatch(/nope/);
    expect(Number.isNaN(pop.subjects[1].states.T[0])).toBe(true);
    expect(pop.stats.solved).toBe(2);
  });

  it('rejects a name that is neither a state nor an output', async () => {
    await expect(simulatePopulation({ scenario, subjects, states: ['Q'] })).rejects.toThrow(/'Q' is neither a state nor an output/);
  });
});
