// The engine against closed-form solutions: one-compartment PK (bolus, infusion during and after, repeated
// bolus by superposition) and logistic / Gompertz growth, through every method. Tolerance: relative error
// below 1e-6 at rtol 1e-9 (the methods' error is well below; the bound leaves room for error accumulation).
import { describe, it, expect } from 'vitest';
import { simulate } from '../src/simulate.ts';
import { onecpt, logistic, gompertz } from './helpers/models.ts';

const METHODS = (process.env.ONLY_METHOD ? [process.env.ONLY_METHOD] : ['auto', 'dopri5', 'rodas', 'odex']) as string[];
const tight = (method: string) => ({ method, rtol: 1e-9, atol: 1e-12 });

function relErr(a: number, b: number) {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}

describe.each(METHODS)('closed forms with %s', (method) => {
  const k = 0.3;
  it('single bolus', () => {
    const r = simulate({
      model: onecpt,
      times: { start: 0, end: 30, step: 0.5 },
      doses: [{ target: 'A', amount: 100 }],
      solver: tight(method),
    });
    r.times.forEach((t, i) => expect(relErr(r.states.A[i], 100 * Math.exp(-k * t))).toBeLessThan(1e-6));
    expect(r.outputs.C[0]).toBeCloseTo(20, 12); // post-dose value at the dose time, / V
  });

  it('zero-order infusion, during and after', () => {
    const D = 50,
      dur = 2.5,
      R = D / dur;
    const exact = (t: number) =>
      t <= dur ? (R / k) * (1 - Math.exp(-k * t)) : (R / k) * (1 - Math.exp(-k * dur)) * Math.exp(-k * (t - dur));
    const r = simulate({
      model: onecpt,
      times: { start: 0, end: 24, step: 0.25 },
      doses: [{ target: 'A', amount: D, duration: dur, start: 0 }],
      solver: tight(method),
    });
    r.times.forEach((t, i) => {
      if (t > 0) expect(relErr(r.states.A[i], exact(t))).toBeLessThan(1e-6);
    });
    expect(r.states.A[0]).toBe(0);
  });

  it('repeated bolus by superposition, amountPerKg x weight', () => {
    const doseTimes = [0, 7, 14, 21, 28];
    const amount = 2 * 80;
    const exact = (t: number) =>
      doseTimes.filter((s) => s <= t).reduce((acc, s) => acc + amount * Math.exp(-k * (t - s)), 0);
    const r = simulate({
      model: onecpt,
      weight: 80,
      times: { start: 0, end: 40, step: 0.5 },
      doses: [{ target: 'A', amountPerKg: 2, start: 0, every: 7, count: 5 }],
      solver: tight(method),
    });
    r.times.forEach((t, i) => expect(relErr(r.states.A[i], exact(t))).toBeLessThan(1e-6));
    expect(r.doses.map((d) => d.time)).toEqual(doseTimes);
    expect(r.solver.segments).toBe(5);
  });

  it('logistic growth', () => {
    const r = simulate({ model: logistic, times: [0, 10, 50, 100], solver: tight(method) });
    // logistic closed form (G-2): 2.713619e6, 1.293459e8, 9.566133e8
    const exact = (t: number) => 1e9 / (1 + (1e9 / 1e6 - 1) * Math.exp(-0.1 * t));
    r.times.forEach((t, i) => expect(relErr(r.states.V[i], exact(t))).toBeLessThan(1e-7));
    expect(relErr(r.states.V[1], 2.713619e6)).toBeLessThan(1e-6);
  });

  it('time-dependent forcing (non-autonomous, stiff relaxation onto cos t)', () => {
    const m = {
      id: 'pr',
      parameters: { lam: { value: -1e4 } },
      states: { y: { initial: 1 } },
      odes: { y: 'lam*(y - cos(t)) - sin(t)' },
    };
    const r = simulate({ model: m, times: { start: 0, end: 10, step: 0.5 }, solver: tight(method) });
    r.times.forEach((t, i) => expect(Math.abs(r.states.y[i] - Math.cos(t))).toBeLessThan(1e-7));
  });

  it('Gompertz growth', () => {
    const r = simulate({ model: gompertz, times: [0, 10, 50], solver: tight(method) });
    const exact = (t: number) => 1e9 * Math.exp(Math.log(1e6 / 1e9) * Math.exp(-0.1 * t));
    r.times.forEach((t, i) => expect(relErr(r.states.V[i], exact(t))).toBeLessThan(1e-7));
    // Gompertz closed form (G-1): 7.877015e7, 9.545225e8
    expect(relErr(r.states.V[1], 7.877015e7)).toBeLessThan(1e-6);
    expect(relErr(r.states.V[2], 9.545225e8)).toBeLessThan(1e-6);
  });
});

describe('tolerances are honoured', () => {
  it('error falls as rtol falls', () => {
    const errs = [1e-4, 1e-6, 1e-8].map((rtol) => {
      const r = simulate({
        model: gompertz,
        times: [0, 50],
        solver: { method: process.env.ONLY_METHOD ?? 'auto', rtol, atol: 1e-3 * rtol },
      });
      return relErr(r.states.V[1], 1e9 * Math.exp(Math.log(1e-3) * Math.exp(-5)));
    });
    expect(errs[1]).toBeLessThan(errs[0]);
    expect(errs[2]).toBeLessThan(errs[1]);
    expect(errs[0]).toBeLessThan(1e-3);
  });
});
