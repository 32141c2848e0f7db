// The default model (models/immunotherapy.json) with its default parameters shows the six qualitative
// tumor-immunology behaviours the model is built to show (docs/models.md, immunotherapy: surveillance, escape, exhaustion and its reversal by PD-1 blockade), each a real assertion; every therapy preset expands and
// solves; the antibody PK reproduces its closed form (two-compartment antibody PK, Ahamadi 2017 typical values).
import { describe, it, expect } from 'vitest';
import { simulate } from '../src/simulate.ts';
import { THERAPIES } from '../src/dosing/therapies.ts';
import { InputError } from '../src/errors.ts';
import { getModel } from '../src/model/library.ts';
import type { ScenarioInput, SimulationResult } from '../src/scenario/schema.ts';

// The default solver (auto), as a user gets it.
const METHOD = 'auto' as const;
const YEAR = { start: 0, end: 365, step: 1 };
const TWO_YEARS = { start: 0, end: 730, step: 1 };

const cache = new Map<string, SimulationResult>();
function run(s: Omit<ScenarioInput, 'model' | 'solver'>): SimulationResult {
  const key = JSON.stringify(s);
  let r = cache.get(key);
  if (!r) {
    r = simulate({ model: 'immunotherapy', ...s, solver: { method: METHOD } } as ScenarioInput);
    cache.set(key, r);
  }
  return r;
}
const at = (r: SimulationResult, series: string, t: number) => {
  const k = r.times.indexOf(t);
  if (k < 0) throw new Error(`no output at t = ${t}`);
  return (r.outputs[series] ?? r.states[series])[k];
};
const max = (xs: number[]) => xs.reduce((a, b) => Math.max(a, b), -Infinity);
const min = (xs: number[]) => xs.reduce((a, b) => Math.min(a, b), Infinity);

describe('1. untreated: escape above a threshold, dormancy of a small tumor', () => {
  it('a 1e10-cell (10 cm3) tumor escapes toward the carrying capacity', () => {
    const r = run({ times: TWO_YEARS });
    expect(at(r, 'tumor', 365)).toBeGreaterThan(10 * 1e10);
    expect(at(r, 'tumor', 730)).toBeGreaterThan(0.9e12); // K = 1e12
    expect(r.metrics.progressed).toBe(true);
  });

  it('a 1e6-cell tumor is held dormant far below the escape threshold for two years', () => {
    const r = run({ times: TWO_YEARS, parameters: { T0: 1e6, f2: 0 } });
    const tumor = r.outputs.tumor;
    expect(max(tumor)).toBeLessThan(1e9); // below 1 cm3 throughout
    expect(at(r, 'tumor', 730)).toBeGreaterThan(1e7); // not eliminated: an equilibrium (dormancy)
    // Dormant: it has stopped growing (it settles at about 2.7e8 cells; less than 5 % growth over the last
    // three months of the second year).
    expect(Math.abs(at(r, 'tumor', 730) / at(r, 'tumor', 640) - 1)).toBeLessThan(0.05);
    // The same immune system controls a 1e9-cell tumor (it shrinks) but not a 6e9-cell one: a threshold.
    const mid = run({ times: TWO_YEARS, parameters: { T0: 1e9, f2: 0 } });
    expect(at(mid, 'tumor', 730)).toBeLessThan(1e9);
    const big = run({ times: TWO_YEARS, parameters: { T0: 6e9, f2: 0 } });
    expect(at(big, 'tumor', 730)).toBeGreaterThan(1e11);
  });
});

describe('2. anti-PD-1 at an approved regimen: shrinks a hot tumor, does little for a cold one', () => {
  it('hot (default = "hot" preset): partial response, far smaller tumor at day 365', () => {
    const none = run({ times: TWO_YEARS });
    const pem = run({ times: TWO_YEARS, therapies: ['pembrolizumab-200mg-q3w'] });
    expect(at(pem, 'tumor', 365)).toBeLessThan(0.05 * at(none, 'tumor', 365));
    expect(pem.metrics.bestPercentChange as number).toBeLessThan(-90);
    expect(['PR', 'CR']).toContain(pem.metrics.confirmedBestOverallResponse);
    // The "hot" preset is the default parameter set.
    const hot = run({ times: TWO_YEARS, preset: 'hot', therapies: ['pembrolizumab-200mg-q3w'] });
    expect(at(hot, 'tumor', 365)).toBe(at(pem, 'tumor', 365));
  });

  it('cold: the same regimen leaves the tumor growing (no response, < 20 % smaller than untreated at day 180)', () => {
    const none = run({ times: TWO_YEARS, preset: 'cold' });
    const pem = run({ times: TWO_YEARS, preset: 'cold', therapies: ['pembrolizumab-200mg-q3w'] });
    expect(at(pem, 'tumor', 180)).toBeGreaterThan(0.8 * at(none, 'tumor', 180));
    expect(at(pem, 'tumor', 180)).toBeGreaterThan(10 * at(pem, 'tumor', 0));
    expect(pem.metrics.bestOverallResponse).not.toBe('PR');
    expect(pem.metrics.bestOverallResponse).not.toBe('CR');
  });

  it('the other PD-1/PD-L1 regimens act like pembrolizumab on the hot tumor', () => {
    const none = run({ times: TWO_YEARS });
    for (const th of [
      'pembrolizumab-400mg-q6w',
      'nivolumab-240mg-q2w',
      'nivolumab-480mg-q4w',
      'atezolizumab-1200mg-q3w',
    ]) {
      const r = run({ times: TWO_YEARS, therapies: [th] });
      expect(at(r, 'tumor', 365), th).toBeLessThan(0.05 * at(none, 'tumor', 365));
      expect(r.metrics.bestPercentChange as number, th).toBeLessThan(-90);
    }
  });
});

describe('3. anti-PD-1 plus anti-CTLA-4 does at least as well as either alone', () => {
  for (const preset of ['hot', 'cold']) {
    it(`${preset} tumor: combination <= pembrolizumab alone and <= ipilimumab alone at days 90, 180, 365, 730`, () => {
      const pem = run({ times: TWO_YEARS, preset, therapies: ['pembrolizumab-200mg-q3w'] });
      const ipi = run({ times: TWO_YEARS, preset, therapies: ['ipilimumab-3mgkg-q3w-x4'] });
      const both = run({ times: TWO_YEARS, preset, therapies: ['pembrolizumab-200mg-q3w', 'ipilimumab-3mgkg-q3w-x4'] });
      for (const t of [90, 180, 365, 730]) {
        expect(at(both, 'tumor', t)).toBeLessThanOrEqual(at(pem, 'tumor', t));
        expect(at(both, 'tumor', t)).toBeLessThanOrEqual(at(ipi, 'tumor', t));
      }
      expect(both.metrics.nadir as number).toBeLessThanOrEqual(pem.metrics.nadir as number);
    });
  }
});

describe('4. immunoediting: the antigen-low share rises under immune pressure and drives relapse', () => {
  it('under pembrolizumab the antigen-low clone goes from 0.1 % to the whole tumor, and the relapse is made of it', () => {
    const none = run({ times: TWO_YEARS });
    const pem = run({ times: TWO_YEARS, therapies: ['pembrolizumab-200mg-q3w'] });
    expect(at(pem, 'antigenLowFraction', 0)).toBeCloseTo(0.001, 12);
    expect(at(pem, 'antigenLowFraction', 180)).toBeGreaterThan(0.5);
    expect(at(none, 'antigenLowFraction', 180)).toBeLessThan(0.01); // without therapy: little pressure
    // Relapse: the tumor regrows tenfold above its nadir and is then > 99 % antigen-low.
    expect(pem.metrics.progressed).toBe(true);
    expect(at(pem, 'tumor', 730)).toBeGreaterThan(10 * (pem.metrics.nadir as number));
    expect(at(pem, 'antigenLowFraction', 730)).toBeGreaterThan(0.99);
    // The antigen-high clone is eliminated by the extinction event and stays at zero.
    const ev = pem.events.find((e) => e.name.startsWith('clone 1'));
    expect(ev).toBeDefined();
    const k = pem.times.findIndex((t) => t > ev!.time);
    expect(pem.states.T1.slice(k).every((v) => v === 0)).toBe(true);
  });
});

describe('5. IL-2: transient effect, less than checkpoint blockade in a responsive tumor', () => {
  const times = { start: 0, end: 365, step: 0.05 };
  it('aldesleukin is gone within a day of the last dose and the effector expansion fades', () => {
    const il2 = run({ times, therapies: ['aldesleukin-600kiu-kg-q8h-x14'] });
    const c = il2.outputs.C_aldesleukin;
    const cmax = max(c);
    const lastDose = 13 / 3 + 15 / 1440;
    const kAfter = il2.times.findIndex((t) => t >= lastDose + 1);
    expect(c[kAfter]).toBeLessThan(1e-3 * cmax); // t1/2 85 min
    const E = il2.outputs.effectors;
    const kPeak = E.indexOf(max(E));
    expect(il2.times[kPeak]).toBeLessThan(10); // peaks around the end of the course
    expect(max(E)).toBeGreaterThan(3 * E[0]);
    expect(E[il2.times.indexOf(60)]).toBeLessThan(0.5 * max(E)); // and falls back
    // The tumor shrinks transiently, then regrows beyond its baseline.
    expect(il2.metrics.bestPercentChange as number).toBeLessThan(-10);
    expect(at(il2, 'tumor', 365)).toBeGreaterThan(at(il2, 'tumor', 0));
  });

  it('a course of IL-2 helps less than pembrolizumab', () => {
    const il2 = run({ times, therapies: ['aldesleukin-600kiu-kg-q8h-x14'] });
    const pem = run({ times, therapies: ['pembrolizumab-200mg-q3w'] });
    const none = run({ times });
    expect(il2.metrics.nadir as number).toBeGreaterThan(10 * (pem.metrics.nadir as number));
    expect(at(il2, 'tumor', 180)).toBeGreaterThan(at(pem, 'tumor', 180));
    expect(at(il2, 'tumor', 180)).toBeLessThan(at(none, 'tumor', 180)); // but it does help
  });
});

describe('6. CAR-T: expansion, contraction, persistence, deep response of antigen-positive cells', () => {
  it('one infusion of 2e6 cells/kg', () => {
    const none = run({ times: YEAR });
    const car = run({ times: YEAR, therapies: ['car-t-single-infusion'] });
    const dose = 2e6 * 70;
    const C = car.outputs.carT;
    const peak = max(C);
    const tPeak = car.times[C.indexOf(peak)];
    expect(peak).toBeGreaterThan(10 * dose); // expansion
    expect(tPeak).toBeGreaterThan(3);
    expect(tPeak).toBeLessThan(21);
    expect(at(car, 'carT', 120)).toBeLessThan(0.05 * peak); // contraction
    expect(at(car, 'carT', 365)).toBeGreaterThan(1e6); // persistence
    // Antigen-positive clone: at least 5 logs of kill; the antigen-negative clone is untouched by CAR-T.
    expect(min(car.states.T1)).toBeLessThan(1e-5 * car.states.T1[0]);
    expect(at(car, 'T2', 28)).toBeGreaterThan(0.9 * at(none, 'T2', 28));
    expect(car.metrics.bestPercentChange as number).toBeLessThan(-99);
    // Antigen-negative escape.
    expect(at(car, 'antigenLowFraction', 180)).toBeGreaterThan(0.99);
  });
});

describe('antibody pharmacokinetics', () => {
  it('P1, P5, P8, P10: distribution and elimination rate constants alpha, beta from the compiled Jacobian (rel 1e-4)', () => {
    const m = getModel('immunotherapy');
    const n = m.stateNames.length;
    const J = new Float64Array(n * n);
    m.jacobian!(0, m.initial(m.defaultParams), m.defaultParams, J);
    const cases: [string, number, number, number][] = [
      ['PEM', 0.4606, 0.026876, 25.791], // pembrolizumab: t1/2 beta 25.791 d
      ['NIV', 0.51827, 0.033231, 20.858], // nivolumab at baseline clearance (t = 0)
      ['ATZ', 0.35178, 0.026072, 26.586], // atezolizumab
      ['IPI', 0.59539, 0.046211, 15.0], // ipilimumab
    ];
    for (const [s, alpha, beta, thalf] of cases) {
      const i = m.stateIndex.get(`${s}c`)!;
      const j = m.stateIndex.get(`${s}p`)!;
      const a = J[i * n + i],
        b = J[i * n + j],
        c = J[j * n + i],
        d = J[j * n + j];
      const tr = a + d;
      const det = a * d - b * c;
      const disc = Math.sqrt((tr * tr) / 4 - det);
      const [fast, slow] = [-(tr / 2 - disc), -(tr / 2 + disc)].sort((x, y) => y - x);
      expect(Math.abs(fast / alpha - 1), s).toBeLessThan(1e-4);
      expect(Math.abs(slow / beta - 1), s).toBeLessThan(1e-4);
      expect(Math.abs(Math.LN2 / slow / thalf - 1), s).toBeLessThan(1e-4);
    }
  });

  it('P14: IL-2 first-order loss matches the 85-min terminal half-life (k = 11.743 /day)', () => {
    const m = getModel('immunotherapy');
    const k = m.defaultParams[m.paramIndex.get('kIL2')!];
    expect(Math.abs((Math.LN2 / k) * 1440 - 85)).toBeLessThan(0.01);
  });

  it('P2: pembrolizumab 200 mg IV bolus, C at days 1, 7, 21, 42 (rel 1e-6)', () => {
    const r = simulate({
      model: 'immunotherapy',
      times: [0, 1, 7, 21, 42],
      doses: [{ target: 'PEMc', amount: 200 }],
      solver: { method: METHOD, rtol: 1e-10, atol: 1e-9 },
    });
    [43.927438, 19.942166, 12.732804, 7.240007].forEach((v, k) => {
      expect(Math.abs(r.outputs.C_pembrolizumab[k + 1] / v - 1)).toBeLessThan(1e-6);
    });
  });

  it('P13: atezolizumab 1200 mg q3w cycle-1 trough within 25 % of the IMscin001 IV geometric mean (85 mg/L)', () => {
    const r = run({ times: { start: 0, end: 42, step: 0.5 }, therapies: ['atezolizumab-1200mg-q3w'] });
    const d = (r.metrics.drugs as Record<string, { CtroughCycle1: number }>).atezolizumab;
    expect(Math.abs(d.CtroughCycle1 / 85 - 1)).toBeLessThan(0.25);
    expect(Math.abs(d.CtroughCycle1 - 81.0)).toBeLessThan(0.5); // the two-compartment model's own value, 81.0 (Ahamadi 2017 typical subject)
  });
});

describe('therapy presets', () => {
  it.each(THERAPIES.map((t) => [t.id, t] as const))('%s expands and solves', (id, preset) => {
    expect(preset.source.length).toBeGreaterThan(10);
    expect(preset.drug.length).toBeGreaterThan(0);
    const r = run({ times: { start: 0, end: 730, step: 7 }, therapies: [id] });
    expect(r.doses.length).toBeGreaterThan(0);
    expect(r.doses.every((d) => d.amount > 0)).toBe(true);
    for (const series of [...Object.values(r.states), ...Object.values(r.outputs)]) {
      expect(series.every(Number.isFinite)).toBe(true);
    }
    expect(typeof r.metrics.bestPercentChange).toBe('number');
  });

  it('open-ended regimens cover two years; ipilimumab stops after 4 doses; per-kg doses use the weight', () => {
    const pem = THERAPIES.find((t) => t.id === 'pembrolizumab-200mg-q3w')!.doses[0];
    expect(pem.start + (pem.count - 1) * pem.every!).toBeGreaterThanOrEqual(730 - 21);
    const r = run({ times: { start: 0, end: 730, step: 7 }, therapies: ['ipilimumab-3mgkg-q3w-x4'], weight: 80 });
    expect(r.doses.length).toBe(4);
    expect(r.doses[0].amount).toBe(240);
    expect(r.doses[0].duration).toBeCloseTo(90 / 1440, 12);
  });

  it('unknown names and presets whose states the model lacks are input errors at therapies[i]', () => {
    const bad = (s: Record<string, unknown>) => {
      try {
        simulate({ times: YEAR, ...s } as ScenarioInput);
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        return (e as InputError).issues;
      }
      throw new Error('no error');
    };
    expect(bad({ model: 'immunotherapy', therapies: ['pembrolizumab-200mg-q3w', 'aspirin'] })[0].path).toEqual([
      'therapies',
      1,
    ]);
    const issues = bad({ model: 'kuznetsov-1994', therapies: ['nivolumab-240mg-q2w'] });
    expect(issues[0].path).toEqual(['therapies', 0]);
    expect(issues[0].message).toMatch(/NIVc/);
  });
});
