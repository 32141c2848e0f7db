// Response metrics on synthetic series with hand-computed answers (src/results/metrics.ts).
import { describe, it, expect } from 'vitest';
import { compileModel } from '../src/model/compile.ts';
import {
  computeMetrics,
  recist,
  trapezoid,
  sphereDiameter,
  interpolate,
  type DrugMetrics,
} from '../src/results/metrics.ts';
import type { SimulationResult } from '../src/scenario/schema.ts';
import { InputError } from '../src/errors.ts';

type ResultLike = Omit<SimulationResult, 'metrics'>;

const model = compileModel({
  id: 'metrics-fixture',
  parameters: { V: { value: 2, unit: 'L' } },
  states: { T: { initial: 1, unit: 'cells' }, A: { initial: 0, unit: 'mg' } },
  assignments: { conc: 'A / V' },
  odes: { T: '0', A: '0' },
  outputs: {
    tumor: { expr: 'T', unit: 'cells' },
    C_drugx: { expr: 'conc', unit: 'mg/L' },
    RO_drugx: { expr: 'conc / (conc + 1)', unit: 'fraction' },
  },
  roles: {
    tumor: { series: 'tumor', unit: 'cells' },
    drugs: { drugx: { concentration: 'C_drugx', unit: 'mg/L', occupancy: 'RO_drugx', doseTarget: 'A' } },
  },
});

const solver = {
  method: 'test',
  switches: [],
  steps: 0,
  rejected: 0,
  rhsEvaluations: 0,
  jacobianEvaluations: 0,
  luDecompositions: 0,
  segments: 1,
  ms: 0,
  rtol: 1e-6,
};

/** Cells of a sphere with diameter d mm at 1e6 cells per mm3. */
const cellsOfDiameter = (d: number) => (Math.PI / 6) * d ** 3 * 1e6;

function result(times: number[], tumor: number[], extra: Partial<ResultLike> = {}): ResultLike {
  return {
    model: 'metrics-fixture',
    times,
    states: { T: tumor, A: times.map(() => 0) },
    outputs: { tumor },
    events: [],
    doses: [],
    solver,
    ...extra,
  };
}

function allFinite(x: unknown): boolean {
  if (typeof x === 'number') return Number.isFinite(x);
  if (Array.isArray(x)) return x.every(allFinite);
  if (x && typeof x === 'object') return Object.values(x).every(allFinite);
  return true;
}

describe('helpers', () => {
  it('trapezoid, interpolation and sphere diameter', () => {
    expect(trapezoid([0, 1, 3], [0, 2, 2])).toBe(5); // 1 + 4
    expect(interpolate([0, 2, 4], [0, 10, 30], 3)).toBe(20);
    expect(interpolate([0, 2, 4], [0, 10, 30], -1)).toBe(0);
    expect(sphereDiameter((Math.PI / 6) * 1000)).toBeCloseTo(10, 12);
  });
});

describe('RECIST 1.1 from diameters', () => {
  it('PR confirmed over 28 days, then PD at +20 % and +7 mm over the nadir', () => {
    // d: 50 → 40 (SD: -20 %) → 30 (PR: -40 %) → 34 (PR: -32 %) → 37 (PD: 37 >= 1.2*30 = 36 and 37-30 = 7 >= 5)
    const r = recist([0, 28, 56, 84, 112], [50, 40, 30, 34, 37])!;
    expect(r.baselineDiameter_mm).toBe(50);
    expect(r.nadirDiameter_mm).toBe(30);
    expect(r.bestPercentChangeDiameter).toBeCloseTo(-40, 12);
    expect(r.bestOverallResponse).toBe('PR');
    expect(r.confirmedBestOverallResponse).toBe('PR'); // held from day 56 to day 84
    expect(r.progressed).toBe(true);
    expect(r.timeToProgression).toBe(112);
    expect(r.timeToResponse).toBe(56);
    expect(r.durationOfResponse).toBe(56);
  });

  it('the 5 mm absolute rule: +24 % over a 8 mm nadir is not progression until the rise reaches 5 mm', () => {
    // nadir 8; 9.9 is +24 % but +1.9 mm; 12.5 is +4.5 mm; 13.1 is +5.1 mm → PD at t = 40
    const r = recist([0, 10, 20, 30, 40], [10, 8, 9.9, 12.5, 13.1])!;
    expect(r.timeToProgression).toBe(40);
    // Progression before the 42-day minimum for stable disease, no response: best overall response PD.
    expect(r.bestOverallResponse).toBe('PD');
    expect(r.confirmedBestOverallResponse).toBe('PD');
  });

  it('stable disease lasting past 42 days counts before progression', () => {
    const r = recist([0, 30, 60], [20, 19, 26])!; // 26 >= 22.8 and 7 >= 5 → PD at 60
    expect(r.timeToProgression).toBe(60);
    expect(r.bestOverallResponse).toBe('SD');
  });

  it('complete response below 1 mm, confirmed after 30 days', () => {
    const r = recist([0, 30, 60, 90], [20, 10, 0.5, 0])!;
    expect(r.bestOverallResponse).toBe('CR');
    expect(r.confirmedBestOverallResponse).toBe('CR');
    expect(r.progressed).toBe(false);
    expect(r.timeToProgression).toBeUndefined();
    expect(r.timeToResponse).toBe(30); // PR at day 30 (-50 %)
    expect(r.bestPercentChangeDiameter).toBe(-100);
  });

  it('an unconfirmed PR (one assessment) followed by early progression', () => {
    const r = recist([0, 14, 28], [50, 34, 45])!; // PR at 14 (-32 %), then 45 >= 40.8 and +11 mm → PD at 28
    expect(r.bestOverallResponse).toBe('PR');
    expect(r.confirmedBestOverallResponse).toBe('PD');
    expect(r.timeToProgression).toBe(28);
  });

  it('not evaluable (NE, with the reason) when the baseline is not measurable (< 10 mm), however the tumor shrinks', () => {
    for (const d of [
      [0, 3],
      [9.99, 0.5, 0.2],
    ]) {
      const r = recist(
        d.map((_, k) => 7 * k),
        d,
      )!;
      expect(r.bestOverallResponse).toBe('NE');
      expect(r.confirmedBestOverallResponse).toBe('NE');
      expect(r.recistNotEvaluable).toMatch(/below the RECIST 1.1 measurability limit of 10 mm/);
      expect(r.timeToProgression).toBeUndefined();
    }
    expect(recist([0, 100], [10, 9])!.bestOverallResponse).toBe('SD'); // exactly 10 mm is measurable
  });

  it('clinical windows are in days, converted from the model time unit', () => {
    // Progression 4 time units after baseline: in days (4 d < 42 d) PD; in weeks (28 d < 42 d) PD; in months (122 d) SD.
    const t = [0, 2, 4];
    const d = [20, 20, 26];
    expect(recist(t, d, 1)!.bestOverallResponse).toBe('PD');
    expect(recist(t, d, 7)!.bestOverallResponse).toBe('PD');
    expect(recist(t, d, 365.25 / 12)!.bestOverallResponse).toBe('SD');
    // A PR held 4 units: confirmed (>= 28 d) in weeks, not in days.
    const t2 = [0, 1, 2, 3, 4, 5, 6];
    const d2 = [20, 12, 12, 12, 12, 12, 30];
    expect(recist(t2, d2, 7)!.confirmedBestOverallResponse).toBe('PR');
    expect(recist(t2, d2, 1)!.confirmedBestOverallResponse).toBe('PD');
  });
});

describe('computeMetrics', () => {
  it('tumor burden: baseline, nadir, best change, AUC', () => {
    const m = computeMetrics(result([0, 1, 2, 3, 4], [100, 50, 25, 50, 100]), model);
    expect(m.tumorSeries).toBe('tumor');
    expect(m.tumorUnit).toBe('cells');
    expect(m.baseline).toBe(100);
    expect(m.nadir).toBe(25);
    expect(m.timeOfNadir).toBe(2);
    expect(m.final).toBe(100);
    expect(m.bestPercentChange).toBe(-75);
    expect(m.tumorAUC).toBe(225); // 75 + 37.5 + 37.5 + 75
    expect(allFinite(m)).toBe(true);
  });

  it('RECIST from cells through the sphere diameter (d proportional to V^(1/3))', () => {
    const d = [20, 10, 10, 20, 30];
    const m = computeMetrics(result([0, 1, 2, 3, 4], d.map(cellsOfDiameter)), model);
    expect(m.baselineDiameter_mm as number).toBeCloseTo(20, 10);
    expect(m.bestPercentChangeDiameter as number).toBeCloseTo(-50, 10);
    expect(m.bestPercentChange as number).toBeCloseTo(-87.5, 10); // volume: 1 - (1/2)^3
    expect(m.timeToProgression).toBe(3); // 20 >= 1.2*10 and +10 mm
    expect(m.bestOverallResponse).toBe('PR');
    expect(m.confirmedBestOverallResponse).toBe('PD'); // PR lasted 1 day; progression at day 3 < 42
  });

  it('a tumor that only grows: positive best change, no response', () => {
    const m = computeMetrics(result([0, 50, 100], [1e9, 2e9, 8e9]), model);
    expect(m.bestPercentChange).toBe(100);
    expect(m.nadir).toBe(1e9);
    expect(m.timeOfNadir).toBe(0);
    // diameters 12.41, 15.63, 24.81 mm: +100 % and +12.4 mm over the nadir at day 100
    expect(m.timeToProgression).toBe(100);
    expect(m.bestOverallResponse).toBe('SD'); // stable at day 50, progression after 42 days
  });

  it('elimination is reported with the event time', () => {
    const m = computeMetrics(
      result([0, 10, 20], [1e9, 1e3, 0], { events: [{ name: 'clone eliminated', time: 14.5, kind: 'event' }] }),
      model,
    );
    expect(m.tumorEliminated).toBe(true);
    expect(m.timeOfElimination).toBe(14.5);
    expect(m.bestOverallResponse).toBe('CR'); // 1e3 cells: diameter 0.12 mm < 1 mm at day 10
    expect(m.confirmedBestOverallResponse).toBe('SD'); // held 10 days only (series ends), no progression
  });

  it('per-drug Cmax, Ctrough (bolus: last output time before the dose), AUC and mean occupancy', () => {
    const times = [0, 1, 2, 3, 4];
    const A = [0, 20, 10, 24, 12]; // mg; V = 2 L
    const C = A.map((a) => a / 2); // 0, 10, 5, 12, 6 mg/L
    const RO = [0, 0.5, 0.5, 1, 1];
    const r = result(times, [1, 1, 1, 1, 1], {
      states: { T: [1, 1, 1, 1, 1], A },
      outputs: { tumor: [1, 1, 1, 1, 1], C_drugx: C, RO_drugx: RO },
      doses: [
        { target: 'A', time: 0, amount: 20 },
        { target: 'A', time: 3, amount: 20 },
      ],
    });
    const drugs = computeMetrics(r, model).drugs as Record<string, DrugMetrics>;
    const x = drugs.drugx;
    expect(x.Cmax).toBe(12);
    expect(x.tmax).toBe(3);
    expect(x.AUC).toBe(30); // 5 + 7.5 + 8.5 + 9
    expect(x.doses).toBe(2);
    expect(x.Ctrough).toBe(5); // value at t = 2, the last output time before the bolus at 3
    expect(x.CtroughCycle1).toBe(5);
    expect(x.meanOccupancy).toBe(0.625); // (0.25 + 0.5 + 0.75 + 1) / 4
    expect(x.unit).toBe('mg/L');
  });

  it('Ctrough before an infusion is the value at its start; occupancy averaged from the first dose', () => {
    const times = [0, 1, 2, 3, 4];
    const C = [0, 10, 5, 12, 6];
    const r = result(times, [1, 1, 1, 1, 1], {
      outputs: { tumor: [1, 1, 1, 1, 1], C_drugx: C, RO_drugx: [0, 0, 1, 1, 1] },
      doses: [
        { target: 'A', time: 1, amount: 20, duration: 0.02 },
        { target: 'A', time: 2.5, amount: 20, duration: 0.02 },
      ],
    });
    const x = (computeMetrics(r, model).drugs as Record<string, DrugMetrics>).drugx;
    expect(x.Ctrough).toBe(8.5); // 5 + 0.5 * (12 - 5)
    expect(x.CtroughCycle1).toBe(8.5);
    expect(x.meanOccupancy).toBe((0.5 + 1 + 1) / 3); // from t = 1 to 4
  });

  it('omits what does not apply: no drug given, no tumor series, zero baseline; never NaN', () => {
    const none = computeMetrics(result([0, 1], [5e9, 6e9], { outputs: { tumor: [5e9, 6e9], C_drugx: [0, 0] } }), model);
    expect(none.drugs).toBeUndefined();
    expect(allFinite(none)).toBe(true);

    const bare = compileModel({ id: 'bare', states: { x: { initial: 1 } }, odes: { x: '0' } });
    const m = computeMetrics(
      { model: 'bare', times: [0, 1], states: { x: [1, 1] }, outputs: {}, events: [], doses: [], solver },
      bare,
    );
    expect(m).toEqual({ timeUnit: 'day' });

    const zero = computeMetrics(result([0, 1, 2], [0, 0, 0]), model);
    expect(zero.baseline).toBe(0);
    expect(zero.bestPercentChange).toBeUndefined();
    expect(zero.bestOverallResponse).toBe('NE');
    expect(allFinite(zero)).toBe(true);
  });

  it('never guesses from names: a state T without roles gets no tumor metrics; any name declared as the tumor does', () => {
    const m2 = compileModel({ id: 'state-t', states: { T: { initial: 1, unit: 'cells' } }, odes: { T: '0' } });
    const none = computeMetrics(
      { model: 'state-t', times: [0, 1], states: { T: [4, 2] }, outputs: {}, events: [], doses: [], solver },
      m2,
    );
    expect(none.tumorSeries).toBeUndefined();
    // A user model whose tumor output is a longest diameter in mm: RECIST straight from it.
    const m3 = compileModel({
      id: 'lesion-mm',
      states: { L: { initial: 30, unit: 'mm' } },
      odes: { L: '0' },
      outputs: { lesion: { expr: 'L', unit: 'mm' } },
      roles: { tumor: { series: 'lesion', unit: 'mm' } },
    });
    const m = computeMetrics(
      {
        model: 'lesion-mm',
        times: [0, 60, 120],
        states: { L: [30, 20, 18] },
        outputs: { lesion: [30, 20, 18] },
        events: [],
        doses: [],
        solver,
      },
      m3,
    );
    expect(m.tumorSeries).toBe('lesion');
    expect(m.baselineDiameter_mm).toBe(30);
    expect(m.bestOverallResponse).toBe('PR'); // 18 <= 0.7 * 30 = 21
    expect(m.bestPercentChangeDiameter).toBe(-40);
  });

  it('roles naming an unknown series or a non-state dose target are refused with their path', () => {
    const bad = () =>
      compileModel({
        id: 'bad-roles',
        states: { x: { initial: 1 } },
        odes: { x: '0' },
        roles: { tumor: { series: 'tumour', unit: 'cells' }, drugs: { d: { concentration: 'x', doseTarget: 'C' } } },
      });
    expect(bad).toThrow(InputError);
    try {
      bad();
    } catch (e) {
      const paths = (e as InputError).issues.map((i) => i.path.join('.'));
      expect(paths).toContain('roles.tumor.series');
      expect(paths).toContain('roles.drugs.d.doseTarget');
    }
  });

  it('timeUnit is a real unit: fortnight is refused, naming the field', () => {
    try {
      compileModel({ id: 'f', timeUnit: 'fortnight', states: { x: { initial: 1 } }, odes: { x: '0' } });
      expect.unreachable();
    } catch (e) {
      expect((e as InputError).issues[0].path).toEqual(['timeUnit']);
      expect((e as InputError).issues[0].message).toMatch(/s, min, h, day, week, month, year/);
    }
  });

  it('arm-comparison metrics: time back to baseline, depth and response area (depth x duration), by hand', () => {
    // 100 -> 50 (day 10) -> 50 (day 20) -> 150 (day 30): back at 100 at day 25.
    const m = computeMetrics(result([0, 10, 20, 30], [100, 50, 50, 150]), model);
    expect(m.timeToBaseline).toBe(25);
    expect(m.depthOfResponse).toBe(0.5);
    // relative shrinkage 0, .5, .5, then 0 at day 25: 2.5 + 5 + 1.25 = 8.75
    expect(m.responseArea).toBeCloseTo(8.75, 12);
    const never = computeMetrics(result([0, 10], [100, 120]), model);
    expect(never.timeToBaseline).toBe(0);
    expect(never.responseArea).toBe(0);
    const still = computeMetrics(result([0, 10], [100, 20]), model);
    expect(still.timeToBaseline).toBeUndefined();
    expect(still.belowBaselineAtEnd).toBe(true);
  });

  it('plausibility warnings: effectors above 1e12 cells, tumor above 1e13 cells, Cmax above 10x the label', () => {
    const pm = compileModel({
      id: 'plaus',
      parameters: { V: { value: 5, unit: 'L' } },
      states: { E: { initial: 1, unit: 'cells' }, T: { initial: 1, unit: 'cells' }, A: { initial: 0, unit: 'mg' } },
      odes: { E: '0', T: '0', A: '0' },
      outputs: { C: { expr: 'A / V', unit: 'mg/L' } },
      roles: {
        tumor: { series: 'T', unit: 'cells' },
        effectors: ['E'],
        drugs: { d: { concentration: 'C', unit: 'mg/L', doseTarget: 'A', labelCmax: 10 } },
      },
    });
    const base = { model: 'plaus', times: [0, 1], events: [], doses: [], solver };
    const bad = computeMetrics(
      { ...base, states: { E: [1e9, 5.6e12], T: [1e9, 2e13], A: [0, 600] }, outputs: { C: [0, 120] } },
      pm,
    );
    const w = bad.plausibility as string[];
    expect(w).toHaveLength(3);
    expect(w[0]).toMatch(/'E' reaches 5.60e\+12 cells/);
    expect(w[1]).toMatch(/2.00e\+13 cells/);
    expect(w[2]).toMatch(/Cmax 120 mg\/L/);
    const ok = computeMetrics(
      { ...base, states: { E: [1e9, 1e11], T: [1e9, 1e12], A: [0, 400] }, outputs: { C: [0, 80] } },
      pm,
    );
    expect(ok.plausibility).toBeUndefined();
  });
});
