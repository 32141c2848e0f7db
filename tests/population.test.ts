// Virtual populations: chunk-invariant (any split of the subjects merges to the same numbers), correlated Ω
// reproduced within Monte Carlo error at n = 10,000, the η transforms, covariates, residual error, and
// response probabilities reproduced by a hand computation from the drawn parameters.
import { describe, it, expect } from 'vitest';
import { runPopulation, simulatePopulationChunk, mergePopulationChunks } from '../src/analysis/population-request.ts';
import { simulatePopulation, lognormalSubjects } from '../src/analysis/population.ts';
import { responseSummary, kaplanMeier, kmMedian, ResponseOptions } from '../src/analysis/trial.ts';
import { simulate } from '../src/simulate.ts';
import { InputError } from '../src/errors.ts';

/** D(t) = D0·exp(g·t) (sum of diameters, mm), and a drug-free state for residual-error checks. */
const expModel = {
  id: 'exp-diam',
  title: 'exponential diameter',
  timeUnit: 'day',
  parameters: { g: { value: -0.01 }, D0: { value: 50 }, f: { value: 0.5 }, u: { value: 0 }, WT: { value: 70 } },
  states: { D: { initial: 'D0' }, A: { initial: 0 } },
  odes: { D: 'g*D', A: '-0.1*A' },
  outputs: { sumOfDiameters_mm: 'D', tumor: 'D', fu: 'f + u + 0*WT' },
  roles: { tumor: { series: 'tumor', unit: 'mm', diameter: 'sumOfDiameters_mm' } },
};
const base = {
  model: expModel,
  times: { start: 0, end: 200, step: 10 },
  solver: { method: 'dopri5' as const, rtol: 1e-9, atol: 1e-9 },
};

function withoutMs<T extends { stats: { ms: number } }>(r: T) {
  return { ...r, stats: { ...r.stats, ms: 0 } };
}

describe('population chunks', () => {
  const request = {
    ...base,
    population: {
      n: 13,
      seed: 11,
      omega: {
        block: [
          ['g', 'D0', 'f'],
          [
            [0.0001, 0.0005, 0],
            [0.0005, 0.04, 0.01],
            [0, 0.01, 0.25],
          ],
        ],
      },
      distributions: { g: 'normal', f: 'logitnormal' },
      covariates: {
        table: {
          columns: ['weight', 'WT'],
          rows: [
            [50, 1],
            [70, 2],
            [90, 3],
          ],
        },
      },
      residual: { tumor: { proportional: 0.1, additive: 0.5 } },
      series: ['tumor', 'fu'],
      perSubject: { series: true },
      response: { progressionBy: [50, 100] },
    },
    arms: [
      { name: 'a', parameters: { u: 0 } },
      { name: 'b', parameters: { u: 1 }, doses: [{ target: 'A', amount: 10 }] },
    ],
  };
  it('merges to the same summary whatever the chunking', () => {
    const whole = runPopulation(request);
    expect(whole.stats.solved).toBe(13);
    const parts = [
      [7, 6],
      [0, 3],
      [3, 4],
    ].map(([s, c]) => simulatePopulationChunk(request, s, c));
    const merged = mergePopulationChunks(request, JSON.parse(JSON.stringify(parts)));
    expect(withoutMs(merged)).toEqual(withoutMs(whole));
    const ones = Array.from({ length: 13 }, (_, i) => simulatePopulationChunk(request, i, 1));
    expect(withoutMs(mergePopulationChunks(request, ones.reverse()))).toEqual(withoutMs(whole));
    // a gap or an overlap is refused
    expect(() => mergePopulationChunks(request, parts.slice(0, 2))).toThrow(InputError);
  });
  it('a summary-only chunk (solved straight into the partial) holds the same numbers as the per-subject records packed', async () => {
    const { resolvePopulation, populationChunk, packChunk } = await import('../src/analysis/population.ts');
    const { parsePopulationRequest } = await import('../src/analysis/population-request.ts');
    const { perSubject: _p, response: _r, ...summaryOnly } = request.population;
    const req = { ...request, population: summaryOnly };
    const R = resolvePopulation(parsePopulationRequest(req));
    const packed = packChunk(R, populationChunk(R, 2, 9));
    const done: number[] = [];
    const direct = simulatePopulationChunk(req, 2, 9, { progress: (d) => done.push(d) });
    expect(direct.steps).toBe(packed.steps);
    expect(direct.rhsEvaluations).toBe(packed.rhsEvaluations);
    direct.arms.forEach((arm, a) => {
      expect(arm.failures).toEqual(packed.arms[a].failures);
      arm.series.forEach((col, q) => expect(Array.from(col)).toEqual(Array.from(packed.arms[a].series[q])));
    });
    expect(done).toEqual([9]);
  });
  it('per subject: transforms, covariate rows and residual error as declared', () => {
    const r = runPopulation(request);
    const subj = r.subjects as {
      parameters: Record<string, number>;
      covariates: Record<string, number>;
      arms: { series: Record<string, number[]> }[];
    }[];
    for (const s of subj) {
      expect([
        [50, 1],
        [70, 2],
        [90, 3],
      ]).toContainEqual([s.covariates.weight, s.covariates.WT]);
      expect(s.parameters.f).toBeGreaterThan(0);
      expect(s.parameters.f).toBeLessThan(1);
      // 'fu' has no residual error: f + u exactly, per arm
      expect(s.arms[0].series.fu[3]).toBeCloseTo(s.parameters.f, 12);
      expect(s.arms[1].series.fu[3]).toBeCloseTo(s.parameters.f + 1, 12);
      // tumor has residual error: not the model prediction, but close to it
      const pred = s.parameters.D0 * Math.exp(s.parameters.g * 100);
      expect(s.arms[0].series.tumor[10]).not.toBe(pred);
      expect(Math.abs(s.arms[0].series.tumor[10] / pred - 1)).toBeLessThan(0.6);
    }
    // quantiles are exact type-7 over the subjects
    const col = subj.map((s) => s.arms[1].series.fu[0]).sort((a, b) => a - b);
    expect(r.arms[1].summary.fu['q0.5'][0]).toBe(col[6]);
  });
});

describe('covariates', () => {
  const pk = {
    id: 'pk-wt',
    title: 'per-kg bolus',
    timeUnit: 'day',
    parameters: { V: { value: 5 }, ke: { value: 0.1 }, CLWT: { value: 70 } },
    states: { A: { initial: 0 } },
    odes: { A: '-ke*(CLWT/70)^0.75*A' },
    outputs: { C: 'A/V' },
  };
  const scen = {
    model: pk,
    times: { start: 0, end: 10, step: 5 },
    doses: [{ target: 'A', amountPerKg: 2 }],
    metrics: false,
  };
  it('weight drives per-kg doses and a parameter covariate enters the model expressions', () => {
    const r = runPopulation({
      ...scen,
      population: {
        n: 30,
        seed: 4,
        omega: { V: 0.2 },
        series: ['C'],
        perSubject: { series: true },
        covariates: {
          distributions: {
            weight: { distribution: 'normal', mean: 75, sd: 15, lower: 50, upper: 100 },
            CLWT: { distribution: 'uniform', lower: 40, upper: 120 },
          },
        },
      },
    });
    for (const s of r.subjects as {
      parameters: { V: number };
      covariates: { weight: number; CLWT: number };
      series: { C: number[] };
    }[]) {
      expect(s.covariates.weight).toBeGreaterThanOrEqual(50);
      expect(s.covariates.weight).toBeLessThanOrEqual(100);
      expect(s.series.C[0]).toBeCloseTo((2 * s.covariates.weight) / s.parameters.V, 8);
      const k = 0.1 * (s.covariates.CLWT / 70) ** 0.75;
      expect(s.series.C[2]).toBeCloseTo(((2 * s.covariates.weight) / s.parameters.V) * Math.exp(-k * 10), 5);
    }
  });
  it('refuses a covariate that is neither weight nor a parameter, and a truncation that keeps nothing', () => {
    expect(() =>
      runPopulation({
        ...scen,
        population: {
          n: 3,
          omega: { V: 0.2 },
          covariates: { distributions: { AGE: { distribution: 'uniform', lower: 20, upper: 80 } } },
        },
      }),
    ).toThrow(/covariate 'AGE' is neither 'weight' nor a parameter/);
    expect(() =>
      runPopulation({
        ...scen,
        population: {
          n: 3,
          omega: { V: 0.2 },
          covariates: { distributions: { weight: { distribution: 'normal', mean: 70, sd: 1, lower: 200 } } },
        },
      }),
    ).toThrow(/no draw in \[200, Infinity\]/);
    expect(() =>
      runPopulation({
        ...scen,
        population: { n: 3, omega: { V: 0.2 }, covariates: { table: { columns: ['weight', 'CLWT'], rows: [[70]] } } },
      }),
    ).toThrow(/row has 1 values for 2 columns/);
  });
});

describe('correlated Ω', () => {
  it('reproduces SDs and correlations within Monte Carlo error at n = 10,000', () => {
    const sd = { a: 0.3, b: 0.2, c: 0.5 };
    const rho = [
      [1, 0.6, -0.3],
      [0.6, 1, 0.2],
      [-0.3, 0.2, 1],
    ];
    const model = {
      id: 'lin',
      title: 'lin',
      timeUnit: 'day',
      parameters: { a: { value: 1 }, b: { value: 2 }, c: { value: 3 } },
      states: { x: { initial: 0 } },
      odes: { x: '-x' },
    };
    const n = 10_000;
    const r = runPopulation({
      model,
      times: { start: 0, end: 1, step: 1 },
      metrics: false,
      population: { n, seed: 5, omega: { sd, correlation: rho }, perSubject: true, series: ['x'] },
    });
    const typical = { a: 1, b: 2, c: 3 };
    const names = ['a', 'b', 'c'] as const;
    const eta = names.map((k) =>
      (r.subjects as { parameters: Record<string, number> }[]).map((s) => Math.log(s.parameters[k] / typical[k])),
    );
    const mean = eta.map((e) => e.reduce((x, y) => x + y, 0) / n);
    const cov = (i: number, j: number) =>
      eta[i].reduce((acc, _, k) => acc + (eta[i][k] - mean[i]) * (eta[j][k] - mean[j]), 0) / (n - 1);
    names.forEach((k, i) => {
      const s = Math.sqrt(cov(i, i));
      // SE of an SD ≈ σ/√(2n); 4 SE
      expect(Math.abs(s - sd[k])).toBeLessThan((4 * sd[k]) / Math.sqrt(2 * n));
      expect(Math.abs(mean[i])).toBeLessThan((4 * sd[k]) / Math.sqrt(n));
      for (let j = 0; j < i; j++) {
        const rr = cov(i, j) / Math.sqrt(cov(i, i) * cov(j, j));
        // SE of a correlation ≈ (1 − ρ²)/√n; 4 SE
        expect(Math.abs(rr - rho[i][j])).toBeLessThan((4 * (1 - rho[i][j] ** 2)) / Math.sqrt(n));
      }
    });
  }, 60_000);
  it('refuses an Ω that is not positive definite, naming the field', () => {
    const req = {
      ...base,
      population: {
        n: 5,
        omega: {
          sd: { g: 0.001, D0: 0.1, f: 0.1 },
          correlation: [
            [1, 0.9, 0.9],
            [0.9, 1, -0.9],
            [0.9, -0.9, 1],
          ],
        },
      },
    };
    try {
      runPopulation(req);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).issues[0].path).toEqual(['population', 'omega']);
      expect((e as InputError).message).toMatch(/not positive definite/);
    }
    expect(() =>
      runPopulation({
        ...req,
        population: {
          n: 5,
          omega: {
            block: [
              ['g', 'D0'],
              [
                [1, 2],
                [3, 1],
              ],
            ],
          },
        },
      }),
    ).toThrow(/not symmetric/);
    expect(() => runPopulation({ ...req, population: { n: 5, omega: { nope: 0.2 } } })).toThrow(
      /'nope' is not a parameter/,
    );
    expect(() =>
      runPopulation({
        ...req,
        population: { n: 5, omega: { f: 0.2 }, distributions: { f: 'logitnormal' } },
        parameters: { f: 2 },
      }),
    ).toThrow(/logit-normal/);
  });
});

describe('response probabilities', () => {
  it('Kaplan–Meier and its median match a hand computation with censoring', () => {
    // times 2, 3+, 4, 4, 6+, 8: S = 5/6 at 2; 3/4·5/6 → at 4 (risk 4, 2 events) 5/6·2/4 = 0.41667; at 8: 0
    const km = kaplanMeier([2, 3, 4, 4, 6, 8], [true, false, true, true, false, true]);
    expect(km.map((p) => p.time)).toEqual([2, 3, 4, 6, 8]);
    expect(km[0].survival).toBeCloseTo(5 / 6, 14);
    expect(km[2].survival).toBeCloseTo((5 / 6) * (2 / 4), 14);
    expect(km[4].survival).toBe(0);
    // Greenwood at t = 4: S²·(1/(6·5) + 2/(4·2))
    expect(km[2].se).toBeCloseTo((5 / 12) * Math.sqrt(1 / 30 + 2 / 8), 14);
    expect(kmMedian([2, 3, 4, 4, 6, 8], [true, false, true, true, false, true])).toBe(4);
  });
  it('ORR, P(progression by t) and their binomial standard errors from per-subject metrics', () => {
    const m = (best: string, ttp?: number) => ({
      bestOverallResponse: best,
      confirmedBestOverallResponse: best,
      progressed: ttp !== undefined,
      ...(ttp !== undefined ? { timeToProgression: ttp } : {}),
    });
    const metrics = [
      m('CR'),
      m('PR'),
      m('PR', 150),
      m('SD'),
      m('SD', 60),
      m('PD', 20),
      m('PD', 40),
      m('SD', 100),
      undefined,
      m('SD'),
    ];
    const r = responseSummary(metrics, 180, ResponseOptions.parse({ progressionBy: [50, 100] }), 1);
    expect(r.evaluable).toBe(9);
    expect(r.objectiveResponse!.count).toBe(3);
    expect(r.objectiveResponse!.p).toBeCloseTo(3 / 9, 15);
    expect(r.objectiveResponse!.se).toBeCloseTo(Math.sqrt(((1 / 3) * (2 / 3)) / 9), 15);
    expect(r.progressionBy.map((x) => x.count)).toEqual([2, 4]);
    // KM without censoring before 180: S(100) = 5/9, S(150) = 4/9 ≤ 0.5: the median is 150
    expect(r.timeToProgression!.median).toBe(150);
    expect(r.timeToProgression!.medianSe).toBeGreaterThan(0);
  });
  it('the population reproduces RECIST response and progression computed by hand from the drawn parameters', () => {
    const n = 200;
    const T = 200;
    const r = runPopulation({
      ...base,
      parameters: { g: 0.004 },
      population: {
        n,
        seed: 3,
        omega: { g: 0.02 },
        distributions: { g: 'normal' },
        perSubject: true,
        response: { progressionBy: [100] },
      },
    });
    const gs = (r.subjects as { parameters: { g: number } }[]).map((s) => s.parameters.g);
    const dt = T / 2000;
    // Responder (confirmed PR): D/D0 = e^{gt} ≤ 0.7 from t* = ln 0.7 / g, held to the end ≥ 28 days.
    // Progression: e^{gt} ≥ 1.2 (and +10 mm ≥ 5 mm) at t = ln 1.2 / g.
    let responders = 0;
    let progByT = 0;
    let ambiguous = 0;
    const ttp: number[] = [];
    const ev: boolean[] = [];
    for (const g of gs) {
      const tr = g < 0 ? Math.log(0.7) / g : Infinity;
      if (Math.abs(tr - (T - 28)) < 2 * dt) ambiguous++;
      if (tr <= T - 28) responders++;
      const tp = g > 0 ? Math.log(1.2) / g : Infinity;
      if (Math.abs(tp - 100) < 2 * dt) ambiguous++;
      if (tp <= 100) progByT++;
      ttp.push(Math.min(tp, T));
      ev.push(tp <= T);
    }
    expect(ambiguous).toBe(0);
    const res = r.response!;
    expect(res.evaluable).toBe(n);
    expect(res.notEvaluable).toBe(0);
    expect(res.objectiveResponse!.count).toBe(responders);
    expect(res.objectiveResponse!.se).toBeCloseTo(Math.sqrt(((responders / n) * (1 - responders / n)) / n), 12);
    expect(res.progressionBy[0].count).toBe(progByT);
    const med = kmMedian(ttp, ev);
    expect(med).not.toBeNull();
    expect(Math.abs(res.timeToProgression!.median! - med!)).toBeLessThanOrEqual(dt + 1e-9);
  });
});

describe('roles decide the tumor series', () => {
  it('the default series is the declared tumor series, and RECIST NE subjects are left out of the response', () => {
    // the same model, its tumor declared as the state D (no output called `tumor`)
    const { outputs: _o, roles: _r, ...rest } = expModel;
    void _o;
    void _r;
    const model = { ...rest, outputs: { fu: 'f + u + 0*WT' }, roles: { tumor: { series: 'D', unit: 'mm' } } };
    const pop = { n: 6, seed: 5, omega: { g: 0.002 }, distributions: { g: 'normal' }, response: {} };
    const r = runPopulation({ ...base, model, parameters: { g: -0.01 }, population: pop });
    expect(Object.keys(r.summary)).toEqual(['D']);
    expect(r.response!.evaluable).toBe(6);
    // no roles: every state is summarised, and no subject has a tumor for RECIST
    const bare = runPopulation({ ...base, model: rest, parameters: { g: -0.01 }, population: pop });
    expect(Object.keys(bare.summary)).toEqual(['D', 'A']);
    expect(bare.response!.evaluable + bare.response!.notEvaluable).toBe(0);
    expect(bare.response!.objectiveResponse).toBeNull();
    // a baseline of 5 mm is below RECIST's 10 mm measurability limit: NE, not a non-responder
    const small = runPopulation({ ...base, model, parameters: { g: -0.01, D0: 5 }, population: pop });
    expect(small.response!.notEvaluable).toBe(6);
    expect(small.response!.evaluable).toBe(0);
    expect(small.response!.objectiveResponse).toBeNull();
    expect(small.response!.meanLogTumorRatio!.n).toBe(6);
  });
});

describe('given subjects', () => {
  it('matches simulate() subject by subject; failures are reported', () => {
    const subjects = lognormalSubjects(4, { g: -0.01, D0: 50 }, { g: 0.3, D0: 0.2 }, 42);
    expect(lognormalSubjects(3, { c: 1 }, { c: 0.3 }, 7)).toEqual(lognormalSubjects(3, { c: 1 }, { c: 0.3 }, 7));
    const pop = simulatePopulation({
      scenario: { ...base, metrics: false },
      subjects: [...subjects, { parameters: { nope: 1 } }],
      states: ['D'],
    });
    for (let j = 0; j < 4; j++) {
      const one = simulate({ ...base, metrics: false, parameters: subjects[j].parameters });
      expect(Array.from(pop.subjects[j].states.D)).toEqual(one.states.D);
    }
    expect(pop.failures.map((f) => f.index)).toEqual([4]);
    expect(() => simulatePopulation({ scenario: base, subjects, states: ['Q'] })).toThrow(
      /'Q' is neither a state nor an output/,
    );
  });
});

describe('exact quantiles by selection', () => {
  it('quantilesSelect gives the type-7 quantiles of a sort, bit for bit, with ties, one value and none', async () => {
    const { quantilesSelect, quantileSorted } = await import('../src/analysis/population.ts');
    const { mulberry32 } = await import('../src/numerics/random.ts');
    const rnd = mulberry32(7);
    const qs = [0.95, 0.05, 0.5, 0.25, 0.999, 0.001];
    for (const m of [0, 1, 2, 3, 10, 101, 1000, 5000]) {
      for (const ties of [false, true]) {
        const v = Float64Array.from({ length: m }, () => (ties ? Math.floor(rnd() * 7) : Math.exp(10 * rnd())));
        const sorted = Float64Array.from(v).sort();
        const out: (number | null)[] = qs.map(() => null);
        quantilesSelect(v, m, qs, out);
        qs.forEach((q, r) => expect(out[r]).toBe(m ? quantileSorted(sorted, q) : null));
      }
    }
  });

  it('large columns, sorted, reversed, tied, constant or adversarial: the quantiles of a sort, bit for bit', async () => {
    const { quantilesSelect, quantileSorted } = await import('../src/analysis/population.ts');
    const { mulberry32 } = await import('../src/numerics/random.ts');
    const rnd = mulberry32(11);
    const qs = [0.05, 0.5, 0.95, 0.001, 0.999, 0.25];
    const kinds: Record<string, (i: number, m: number) => number> = {
      lognormal: () => Math.exp(3 * (rnd() + rnd() + rnd() - 1.5)),
      ties: () => Math.floor(rnd() * 7),
      constant: () => 4.5,
      ascending: (i) => i * 0.5,
      descending: (i, m) => (m - i) * 0.25,
      // Every 39th value far off the rest.
      adversarial: (i) => (i % 39 === 0 ? 1e9 + i : rnd()),
      negative: () => -Math.exp(5 * rnd()) * (rnd() < 0.5 ? 1 : 1e-6),
    };
    for (const m of [2_048, 10_000, 100_003]) {
      for (const [kind, value] of Object.entries(kinds)) {
        const v = Float64Array.from({ length: m }, (_, i) => value(i, m));
        const sorted = Float64Array.from(v).sort();
        const out: (number | null)[] = qs.map(() => null);
        quantilesSelect(v, m, qs, out);
        qs.forEach((q, r) => expect(out[r], `${kind}, m = ${m}, q = ${q}`).toBe(quantileSorted(sorted, q)));
      }
    }
  });
});

describe('stored etas (population.etas)', () => {
  const omega = { g: 0.2, D0: 0.3 };
  const etas = [
    [0.1, -0.2],
    [0, 0],
    [-0.5, 0.4],
  ];
  const request = {
    ...base,
    population: { n: 3, omega, etas, distributions: { g: 'normal' }, series: ['tumor'], perSubject: true },
  };
  it('row i is subject i: transformed as drawn η (normal: θ + η, log-normal: θ·exp(η))', () => {
    const r = runPopulation(request) as unknown as { subjects: { parameters: Record<string, number> }[] };
    etas.forEach((e, i) => {
      expect(r.subjects[i].parameters.g).toBeCloseTo(-0.01 + e[0], 15);
      expect(r.subjects[i].parameters.D0).toBeCloseTo(50 * Math.exp(e[1]), 12);
    });
    // The series is that subject's simulate(): D0·exp(g·t) at t = 200.
    const whole = runPopulation({ ...request, population: { ...request.population, quantiles: [0.5] } }) as unknown as {
      summary: { tumor: Record<string, number[]> };
    };
    const finals = etas.map((e) => 50 * Math.exp(e[1]) * Math.exp((-0.01 + e[0]) * 200)).sort((a, b) => a - b);
    expect(whole.summary.tumor['q0.5'][20]).toBeCloseTo(finals[1], 6);
  });
  it('refuses a row count other than n and a row of the wrong length, naming the field', () => {
    const bad = (etasIn: number[][], n = 3) => {
      try {
        runPopulation({ ...request, population: { ...request.population, n, etas: etasIn } });
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        return (e as InputError).issues[0];
      }
      throw new Error('accepted');
    };
    expect(bad(etas, 4).path).toEqual(['population', 'etas']);
    const row = bad([[0, 0], [0], [0, 0]]);
    expect(row.path).toEqual(['population', 'etas', 1]);
    expect(row.message).toMatch(/1 etas for the 2 parameters of omega \(g, D0\)/);
  });
});
