// Global sensitivity: Sobol indices (Saltelli design, Jansen estimators) against the analytic indices of the
// Ishigami function and the Sobol G function — both written as model outputs and solved through the
// scenario path — and of a linear model; Morris elementary effects against the linear model's exact slopes.
// Tolerance: 0.02 absolute on every index (the issue's acceptance bound).
import { describe, it, expect } from 'vitest';
import { sensitivity, type GlobalSensitivityResult } from '../src/analysis/sensitivity.ts';
import { sobolIndices } from '../src/analysis/gsa/sobol.ts';
import { InputError } from '../src/errors.ts';

const PI = Math.PI;
/** Ishigami (a = 7, b = 0.1): V = a²/8 + bπ⁴/5 + b²π⁸/18 + 1/2; V1 = (1 + bπ⁴/5)²/2, V2 = a²/8, V13 = 8b²π⁸/225. */
function ishigamiIndices() {
  const a = 7;
  const b = 0.1;
  const V = (a * a) / 8 + (b * PI ** 4) / 5 + (b * b * PI ** 8) / 18 + 0.5;
  const V1 = 0.5 * (1 + (b * PI ** 4) / 5) ** 2;
  const V2 = (a * a) / 8;
  const V13 = (8 * b * b * PI ** 8) / 225;
  return { S1: [V1 / V, V2 / V, 0], ST: [(V1 + V13) / V, V2 / V, V13 / V] };
}

const outputModel = (params: string[], expr: string) => ({
  id: 'gsa-test',
  title: 'a test function as a model output',
  timeUnit: 'day',
  parameters: Object.fromEntries(params.map((p) => [p, { value: 0.5 }])),
  states: { z: { initial: 0 } },
  odes: { z: '0' },
  outputs: { y: expr },
});

const indicesOf = (r: GlobalSensitivityResult, names: string[], key: 'S1' | 'ST') =>
  names.map((n) => (r.indices[n] as { S1: number; ST: number })[key]);

describe('Sobol indices', () => {
  it('Ishigami as a model output: S1 and ST within 0.02 of the analytic values', () => {
    const exact = ishigamiIndices();
    const range = { lower: -PI, upper: PI };
    const r = sensitivity({
      model: outputModel(['x1', 'x2', 'x3'], 'sin(x1) + 7*sin(x2)^2 + 0.1*x3^4*sin(x1)'),
      times: { start: 0, end: 1, step: 1 },
      metrics: false,
      sensitivity: {
        method: 'sobol',
        ranges: { x1: range, x2: range, x3: range },
        samples: 4096,
        seed: 3,
        bootstrap: 100,
        response: { series: 'y', time: 0 },
      },
    }) as GlobalSensitivityResult;
    expect(r.solves).toBe(4096 * 5);
    expect(r.dropped).toBe(0);
    indicesOf(r, ['x1', 'x2', 'x3'], 'S1').forEach((v, i) => expect(Math.abs(v - exact.S1[i])).toBeLessThan(0.02));
    indicesOf(r, ['x1', 'x2', 'x3'], 'ST').forEach((v, i) => expect(Math.abs(v - exact.ST[i])).toBeLessThan(0.02));
    for (const n of ['x1', 'x2', 'x3']) {
      const x = r.indices[n] as { S1: number; S1ci: [number, number]; ST: number; STci: [number, number] };
      expect(x.S1ci[0]).toBeLessThanOrEqual(x.S1ci[1]);
      expect(x.STci[0]).toBeLessThanOrEqual(x.ST + 1e-12);
      expect(x.STci[1]).toBeGreaterThanOrEqual(x.ST - 1e-12);
    }
    // independent random base samples: wider error, still unbiased (a looser check, 0.05)
    const mc = sobolIndices(
      (u) => {
        const [a, b, c] = Array.from(u).map((v) => -PI + 2 * PI * v);
        return Math.sin(a) + 7 * Math.sin(b) ** 2 + 0.1 * c ** 4 * Math.sin(a);
      },
      3,
      { samples: 16384, seed: 1, bootstrap: 0, level: 0.95, sampling: 'random' },
    );
    mc.ST.forEach((v, i) => expect(Math.abs(v - exact.ST[i])).toBeLessThan(0.05));
  }, 60_000);

  it('Sobol G function as a model output (a = 0, 1, 4.5, 9): within 0.02', () => {
    const a = [0, 1, 4.5, 9];
    const Vi = a.map((ai) => 1 / (3 * (1 + ai) ** 2));
    const V = Vi.reduce((p, v) => p * (1 + v), 1) - 1;
    const S1 = Vi.map((v) => v / V);
    const ST = Vi.map((v, i) => (v * Vi.reduce((p, w, j) => (j === i ? p : p * (1 + w)), 1)) / V);
    const names = ['x1', 'x2', 'x3', 'x4'];
    const expr = names.map((x, i) => `(abs(4*${x} - 2) + ${a[i]})/(1 + ${a[i]})`).join(' * ');
    const r = sensitivity({
      model: outputModel(names, expr),
      times: { start: 0, end: 1, step: 1 },
      metrics: false,
      sensitivity: {
        method: 'sobol',
        ranges: Object.fromEntries(names.map((n) => [n, { lower: 0, upper: 1 }])),
        samples: 4096,
        seed: 5,
        bootstrap: 0,
        response: { series: 'y', time: 0 },
      },
    }) as GlobalSensitivityResult;
    indicesOf(r, names, 'S1').forEach((v, i) => expect(Math.abs(v - S1[i])).toBeLessThan(0.02));
    indicesOf(r, names, 'ST').forEach((v, i) => expect(Math.abs(v - ST[i])).toBeLessThan(0.02));
  }, 60_000);

  it('a linear model: S1 = ST = aᵢ²/Σa², and Morris μ* = |aᵢ|·(range width), σ = 0', () => {
    const names = ['x1', 'x2', 'x3'];
    const model = outputModel(names, '1*x1 - 2*x2 + 3*x3');
    const base = { model, times: { start: 0, end: 1, step: 1 }, metrics: false };
    const ranges = { x1: { lower: 0, upper: 1 }, x2: { lower: 0, upper: 1 }, x3: { lower: 0, upper: 1 } };
    const r = sensitivity({
      ...base,
      sensitivity: { method: 'sobol', ranges, samples: 2048, bootstrap: 0, response: { series: 'y', time: 0 } },
    }) as GlobalSensitivityResult;
    const exact = [1, 4, 9].map((v) => v / 14);
    indicesOf(r, names, 'S1').forEach((v, i) => expect(Math.abs(v - exact[i])).toBeLessThan(0.01));
    indicesOf(r, names, 'ST').forEach((v, i) => expect(Math.abs(v - exact[i])).toBeLessThan(0.01));
    const m = sensitivity({
      ...base,
      sensitivity: {
        method: 'morris',
        ranges: { ...ranges, x3: { lower: 0, upper: 2 } },
        samples: 10,
        response: { series: 'y', time: 0 },
      },
    }) as GlobalSensitivityResult;
    const slopes = [1, -2, 6];
    names.forEach((n, i) => {
      const x = m.indices[n] as { mu: number; muStar: number; sigma: number };
      expect(x.mu).toBeCloseTo(slopes[i], 9);
      expect(x.muStar).toBeCloseTo(Math.abs(slopes[i]), 9);
      expect(x.sigma).toBeLessThan(1e-9);
    });
    expect(m.solves).toBe(40);
  });

  it('Morris separates an influential non-linear input (Ishigami x3: μ* > 0 although S1 = 0)', () => {
    const range = { lower: -PI, upper: PI };
    const m = sensitivity({
      model: outputModel(['x1', 'x2', 'x3'], 'sin(x1) + 7*sin(x2)^2 + 0.1*x3^4*sin(x1)'),
      times: { start: 0, end: 1, step: 1 },
      metrics: false,
      sensitivity: {
        method: 'morris',
        ranges: { x1: range, x2: range, x3: range },
        samples: 50,
        levels: 6,
        seed: 2,
        response: { series: 'y', time: 0 },
      },
    }) as GlobalSensitivityResult;
    const x3 = m.indices.x3 as { muStar: number; sigma: number };
    expect(x3.muStar).toBeGreaterThan(1);
    expect(x3.sigma).toBeGreaterThan(1);
  });

  it('bad input names the field', () => {
    const base = { model: outputModel(['x1'], 'x1'), times: { start: 0, end: 1, step: 1 }, metrics: false };
    const path = (req: unknown) => {
      try {
        sensitivity(req);
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        return (e as InputError).issues[0].path;
      }
      return null;
    };
    expect(path({ ...base, sensitivity: { method: 'sobol', response: { series: 'y', time: 0 } } })).toEqual([
      'sensitivity',
      'ranges',
    ]);
    expect(
      path({
        ...base,
        sensitivity: { method: 'sobol', ranges: { nope: { lower: 0, upper: 1 } }, response: { series: 'y', time: 0 } },
      }),
    ).toEqual(['sensitivity', 'ranges', 'nope']);
    expect(
      path({
        ...base,
        sensitivity: { method: 'sobol', ranges: { x1: { lower: 1, upper: 0 } }, response: { series: 'y', time: 0 } },
      }),
    ).toEqual(['sensitivity', 'ranges', 'x1', 'upper']);
    expect(
      path({
        ...base,
        sensitivity: {
          method: 'sobol',
          ranges: { x1: { lower: 0, upper: 1 } },
          samples: 100_000,
          response: { series: 'y', time: 0 },
        },
      }),
    ).toEqual(['sensitivity', 'samples']);
  });
});
