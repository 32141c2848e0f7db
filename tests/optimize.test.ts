// Schedule optimization: on the default model, the optimizer's schedule is at least as good as every
// approved pembrolizumab regimen under the same constraints; on a small model of our own, the continuous
// refinement drives the dose to the binding cumulative-dose constraint; constraints, seeds and input errors.
import { describe, it, expect } from 'vitest';
import { optimizeSchedule, OptimizeRequest } from '../src/analysis/optimize/index.ts';
import { nelderMead } from '../src/analysis/optimize/optimize.ts';
import { THERAPIES } from '../src/dosing/therapies.ts';
import { InputError } from '../src/errors.ts';

const MIN = 1 / 1440;

describe('optimize: the default model against the approved regimens', () => {
  const approved = THERAPIES.filter((t) => t.drug === 'pembrolizumab').map((t) => t.id);
  it('approved pembrolizumab regimens exist as therapy presets', () => {
    expect(approved).toEqual(expect.arrayContaining(['pembrolizumab-200mg-q3w', 'pembrolizumab-400mg-q6w']));
  });
  for (const objective of [{ finalTumor: 1 }, { finalTumor: 1, tumorAUC: 1, timeToProgression: 1 }]) {
    it(`finds a schedule at least as good as every approved regimen (${Object.keys(objective).join(' + ')})`, () => {
      // Constraints every approved regimen meets: the largest cumulative dose over a year (18 x 200 mg =
      // 9 x 400 mg = 3600 mg) and the Cmax of 400 mg q6w (136 mg/L), plus 5 %.
      const r = optimizeSchedule({
        model: 'immunotherapy',
        horizon: 365,
        step: 1,
        drugs: [
          {
            name: 'pembrolizumab',
            target: 'PEMc',
            amount: { min: 100, max: 400, step: 100 },
            interval: { values: [14, 21, 28, 42] },
            duration: 30 * MIN,
          },
        ],
        objective,
        constraints: { cumulativeDose: { pembrolizumab: 3600 }, cmax: { pembrolizumab: 143 } },
        compare: approved,
      });
      expect(r.best.feasible).toBe(true);
      expect(r.baselines).toHaveLength(approved.length);
      for (const b of r.baselines) {
        expect(b.feasible, b.therapy).toBe(true);
        expect(r.best.objective).toBeLessThanOrEqual(b.objective + 1e-9 * Math.abs(b.objective));
      }
      // All 16 vial/interval combinations were evaluated and ranked: feasible ones first, by objective.
      expect(r.candidates).toBe(16);
      const feas = r.table.filter((c) => c.feasible);
      for (let k = 1; k < feas.length; k++) expect(feas[k].objective).toBeGreaterThanOrEqual(feas[k - 1].objective);
      expect(r.table.findIndex((c) => !c.feasible)).toBe(feas.length);
      for (const c of r.table.filter((q) => !q.feasible)) expect(Object.keys(c.violations).length).toBeGreaterThan(0);
      expect(r.curves.outputs.C_pembrolizumab.length).toBe(366);
      expect(r.best.summary.exposure.pembrolizumab.cumulativeDose).toBeLessThanOrEqual(3600);
    });
  }
});

// A small tumor-growth-inhibition model of our own: exponential growth, kill by a one-compartment drug.
const tgi = {
  id: 'opt-tgi',
  title: 'test',
  timeUnit: 'day',
  parameters: {
    k: { value: 0.05, unit: '1/day', description: 'growth' },
    kd: { value: 0.02, unit: 'L/(mg*day)', description: 'kill per concentration' },
    kel: { value: 0.3, unit: '1/day', description: 'elimination' },
    V: { value: 5, unit: 'L', description: 'volume' },
  },
  states: {
    T: { initial: 1e9, unit: 'cells', description: 'tumor' },
    A: { initial: 0, unit: 'mg', description: 'drug amount' },
  },
  odes: { T: 'k*T - kd*(A/V)*T', A: '-kel*A' },
  outputs: {
    tumor: { expr: 'T', unit: 'cells', description: 'tumor' },
    C_drug: { expr: 'A/V', unit: 'mg/L', description: 'concentration' },
  },
  roles: {
    tumor: { series: 'tumor', unit: 'cells' },
    drugs: { drug: { concentration: 'C_drug', unit: 'mg/L', doseTarget: 'A' } },
  },
};

describe('optimize: continuous choices on a model of our own', () => {
  const req = {
    model: tgi,
    horizon: 60,
    step: 0.5,
    drugs: [
      {
        name: 'drug',
        target: 'A',
        amount: { min: 10, max: 200 },
        interval: { values: [7, 14] },
        count: { values: [2, 4] },
      },
    ],
    objective: { tumorAUC: 1 },
    constraints: { cumulativeDose: { drug: 300 }, cmax: { drug: 25 } },
    search: { seed: 3, candidates: 12, refine: 2, refineEvaluations: 40 },
  };
  it('refines the amount up to the binding constraints, deterministically', () => {
    const r = optimizeSchedule(req);
    const r2 = optimizeSchedule(req);
    expect(r2.best.schedule).toEqual(r.best.schedule);
    expect(r.best.feasible).toBe(true);
    const s = r.best.schedule[0];
    const ex = r.best.summary.exposure.drug;
    // More drug is always better here, so a constraint binds: cumulative dose or Cmax within 3 %.
    expect(Math.max(ex.cumulativeDose / 300, ex.Cmax / 25)).toBeGreaterThan(0.97);
    expect(ex.cumulativeDose).toBeLessThanOrEqual(300 * (1 + 1e-9));
    expect(s.amount * s.count).toBeCloseTo(ex.cumulativeDose, 6);
    expect(r.table.some((c) => c.phase === 'refine')).toBe(true);
    // The refined schedule beats the best of the global phase.
    const globalBest = Math.min(...r.table.filter((c) => c.phase === 'global' && c.feasible).map((c) => c.objective));
    expect(r.best.objective).toBeLessThanOrEqual(globalBest);
  });
  it('respects a maximum number of doses', () => {
    const r = optimizeSchedule({ ...req, constraints: { ...req.constraints, maxDoses: { drug: 2 } } });
    expect(r.best.schedule[0].count).toBe(2);
    expect(r.best.feasible).toBe(true);
  });
  it('rejects bad requests naming the field', () => {
    const bad = (patch: object) => {
      try {
        optimizeSchedule({ ...req, ...patch });
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        return (e as InputError).issues[0];
      }
      throw new Error('accepted');
    };
    expect(bad({ drugs: [{ ...req.drugs[0], target: 'Q' }] }).path).toEqual(['drugs', 0, 'target']);
    expect(bad({ constraints: { cumulativeDose: { other: 1 } } }).path).toEqual([
      'constraints',
      'cumulativeDose',
      'other',
    ]);
    expect(bad({ drugs: [{ name: 'drug', target: 'A', amount: 10, count: 3 }] }).path).toEqual([
      'drugs',
      0,
      'interval',
    ]);
    expect(bad({ drugs: [{ ...req.drugs[0], amount: { min: 5, max: 1 } }] }).path).toEqual([
      'drugs',
      0,
      'amount',
      'max',
    ]);
    expect(bad({ objective: { finalTumor: 0 } }).path).toEqual(['objective']);
    expect(OptimizeRequest.safeParse({ horizon: 10, drugs: [] }).success).toBe(false);
  });
  it('Nelder-Mead finds the minimum of a quadratic in the unit box', () => {
    const r = nelderMead((x) => (x[0] - 0.3) ** 2 + 2 * (x[1] - 0.7) ** 2, [0.5, 0.5], 200);
    expect(r.x[0]).toBeCloseTo(0.3, 3);
    expect(r.x[1]).toBeCloseTo(0.7, 3);
  });
});
