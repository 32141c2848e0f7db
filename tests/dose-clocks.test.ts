// Dose clocks in expressions: tfd(X) (time since the first dose into X) and tld(X) (since the last), used by
// nivolumab's time-varying clearance. Closed forms for the clocks themselves; SciPy
// (tests/reference/nivolumab_tfd.py → nivolumab-tfd.json) for nivolumab started on day 100.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { simulate } from '../src/simulate.ts';
import { compileModel } from '../src/model/compile.ts';
import { InputError } from '../src/errors.ts';

const clocks = {
  id: 'clocks',
  timeUnit: 'day',
  states: { A: { initial: 0, unit: 'mg' }, x: { initial: 0, unit: 'day^2' }, z: { initial: 0, unit: 'day^2' } },
  odes: { A: '0', x: 'tld(A)', z: 'tfd(A)' },
  outputs: { last: 'tld(A)', first: 'tfd(A)' },
};

describe('tfd / tld', () => {
  it('outputs: 0 before the first dose, counted from each dose (a dose at t counts from t)', () => {
    const r = simulate({
      model: clocks,
      times: [0, 5, 10, 12, 25, 30],
      doses: [
        { target: 'A', amount: 1, start: 10 },
        { target: 'A', amount: 1, start: 25 },
      ],
    });
    expect(r.outputs.last).toEqual([0, 0, 0, 2, 0, 5]);
    expect(r.outputs.first).toEqual([0, 0, 0, 2, 15, 20]);
  });
  it('in ODEs: the integrals of the clocks are the closed-form piecewise quadratics', () => {
    const r = simulate({
      model: clocks,
      times: [0, 30],
      doses: [
        { target: 'A', amount: 1, start: 0 },
        { target: 'A', amount: 1, start: 10 },
        { target: 'A', amount: 1, start: 25 },
      ],
      solver: { rtol: 1e-10, atol: 1e-10 },
    });
    expect(Math.abs(r.states.x[1] - (50 + 112.5 + 12.5))).toBeLessThan(1e-7); // ∫ tld
    expect(Math.abs(r.states.z[1] - 450)).toBeLessThan(1e-7); // ∫0^30 t dt
    for (const method of ['stiff', 'nonstiff'] as const) {
      const s = simulate({
        model: clocks,
        times: [0, 30],
        doses: [
          { target: 'A', amount: 1, start: 10 },
          { target: 'A', amount: 1, start: 25 },
        ],
        solver: { method, rtol: 1e-10, atol: 1e-10 },
      });
      expect(Math.abs(s.states.x[1] - (112.5 + 12.5)), method).toBeLessThan(1e-7);
      expect(Math.abs(s.states.z[1] - 200), method).toBeLessThan(1e-7);
    }
  });
  it('is refused with its path: not a state, no argument, in an initial value; $ in names', () => {
    const bad =
      (odes: Record<string, string>, extra: Record<string, unknown> = {}) =>
      () =>
        compileModel({ ...clocks, odes: { ...clocks.odes, ...odes }, ...extra });
    expect(bad({ x: 'tfd(q)' })).toThrow(/unknown name/);
    expect(bad({ x: 'tfd()' })).toThrow(/takes one state name/);
    expect(bad({ x: 'tld(A + 1)' })).toThrow(/takes one state name/);
    expect(bad({ x: 'tfd$A' })).toThrow(/'\$' is not allowed/);
    expect(bad({}, { states: { ...clocks.states, x: { initial: 'tfd(A)' } } })).toThrow(InputError);
  });
});

describe('5. nivolumab clearance runs on time since its first dose', () => {
  const ref = JSON.parse(readFileSync(new URL('./reference/nivolumab-tfd.json', import.meta.url), 'utf8'));
  it.each([0, 100])('240 mg q2w (30-min infusions) started on day %d: troughs = SciPy to 1e-6', (start) => {
    const times = [1, 2, 3, 4].map((k) => start + 14 * k);
    const r = simulate({
      model: 'immunotherapy',
      times: [start, ...times],
      doses: [{ target: 'NIVc', amount: 240, start, every: 14, count: 5, duration: 30 / 1440 }],
      solver: { rtol: 1e-10, atol: 1e-9 },
    });
    const expected = start === 0 ? ref.start0 : ref.start100;
    expected.forEach((v: number, k: number) =>
      expect(Math.abs(r.outputs.C_nivolumab[k + 1] / v - 1)).toBeLessThan(1e-6),
    );
    expect(Math.abs(r.outputs.C_nivolumab[1] / 20.92 - 1)).toBeLessThan(1e-3); // not 23.77 (started on day 100 with the clearance read on the model clock t instead of the time since the first dose)
  });
});
