// Response metrics on synthetic series with hand-computed answers (src/results/metrics.ts).
import { describe, it, expect } from 'vitest';
import { compileModel } from '../src/model/compile.ts';
import {
  computeMetrics, recist, trapezoid, sphereDiameter, interpolate, type DrugMetrics,
} from '../src/results/metrics.ts';
import type { SimulationResult } from '../src/scenario/schema.ts';

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
});

const solver = { method: 'test', switches: [], steps: 0, rejected: 0, rhsEvaluations: 0, jacobianEvaluations: 0, luDecompositions: 0, segments: 1, ms: 0, rtol: 1e-6 };

/** Cells of a sphere with diameter d mm at 1e6 cells per mm3. */
const cellsOfDiameter = (d: number) => (Math.PI / 6) * d ** 3 * 1e6;

function result(times: number[], tumor: number[], extra: Partial<ResultLike> = {}): ResultLike {
  return {
    model: 'metrics-fixture', times, states: { T: tumor, A: times.map(() => 0) },
    outputs: { tumor }, events: [], doses: [], solver, ...extra,
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

  it('no RECIST for a zero baseline', () => {
    expect(recist([0, 1], [0, 3])).toBeUndefined();
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
    const m = computeMetrics(result([0, 10, 20], [1e9, 1e3, 0], { events: [{ name: 'clone eliminated', time: 14.5, kind: 'event' }] }), model);
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
      doses: [{ target: 'A', time: 0, amount: 20 }, { target: 'A', time: 3, amount: 20 }],
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
    const m = computeMetrics({ model: 'bare', times: [0, 1], states: { x: [1, 1] }, outputs: {}, events: [], doses: [], solver }, bare);
    expect(m).toEqual({});

    const zero = computeMetrics(result([0, 1, 2], [0, 0, 0]), model);
    expect(zero.baseline).toBe(0);
    expect(zero.bestPercentChange).toBeUndefined();
    expect(zero.bestOverallResponse).toBeUndefined();
    expect(allFinite(zero)).toBe(true);
  });

  it('falls back to a state named T', () => {
    const m2 = compileModel({ id: 'state-t', states: { T: { initial: 1, unit: 'cells' } }, odes: { T: '0' } });
    const m = computeMetrics({ model: 'state-t', times: [0, 1], states: { T: [4, 2] }, outputs: {}, events: [], doses: [], solver }, m2);
    expect(m.tumorSeries).toBe('T');
    expect(m.nadir).toBe(2);
    expect(m.bestPercentChange).toBe(-50);
  });
});
