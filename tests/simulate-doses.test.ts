// Dose edge cases and the piecewise integration contract: values at a dose time are post-dose, no step
// crosses a discontinuity, doses outside the output span, overlapping infusions, state events.
import { describe, it, expect } from 'vitest';
import { simulate } from '../src/simulate.ts';
import { InputError } from '../src/errors.ts';
import { onecpt } from './helpers/models.ts';

const k = 0.3;
const solver = { rtol: 1e-10, atol: 1e-12 };

describe('dose edge cases', () => {
  it('dose at t = 0 is reported post-dose at t = 0', () => {
    const r = simulate({ model: onecpt, times: [0, 1], doses: [{ target: 'A', amount: 10, start: 0 }], solver });
    expect(r.states.A[0]).toBe(10);
    expect(r.states.A[1]).toBeCloseTo(10 * Math.exp(-k), 9);
  });

  it('dose at the last output time is included, post-dose', () => {
    const r = simulate({
      model: onecpt,
      times: { start: 0, end: 10, step: 5 },
      doses: [{ target: 'A', amount: 10, start: 0, every: 10, count: 2 }],
      solver,
    });
    expect(r.times).toEqual([0, 5, 10]);
    expect(r.states.A[2]).toBeCloseTo(10 + 10 * Math.exp(-k * 10), 9);
    expect(r.doses).toHaveLength(2);
  });

  it('dose between output times and a dose after the end', () => {
    const r = simulate({
      model: onecpt,
      times: { start: 0, end: 10, step: 1 },
      doses: [
        { target: 'A', amount: 10, start: 2.5 },
        { target: 'A', amount: 99, start: 11 },
      ],
      solver,
    });
    expect(r.states.A[2]).toBe(0);
    expect(r.states.A[3]).toBeCloseTo(10 * Math.exp(-k * 0.5), 9);
    expect(r.doses.map((d) => d.time)).toEqual([2.5]);
    expect(Math.max(...r.states.A)).toBeLessThan(10);
  });

  it('overlapping infusions add their rates', () => {
    // 10 mg over [0, 4] and 6 mg over [2, 5]: piecewise constant input.
    const r = simulate({
      model: onecpt,
      times: { start: 0, end: 8, step: 0.5 },
      doses: [
        { target: 'A', amount: 10, duration: 4 },
        { target: 'A', amount: 6, start: 2, duration: 3 },
      ],
      solver,
    });
    const rate = (t: number) => (t < 4 ? 2.5 : 0) + (t >= 2 && t < 5 ? 2 : 0);
    // Exact by piecewise integration of A' = -kA + R.
    const exact = (t: number) => {
      let a = 0,
        s = 0;
      for (const b of [2, 4, 5, Infinity]) {
        const e = Math.min(b, t),
          R = rate(s);
        a = R / k + (a - R / k) * Math.exp(-k * (e - s));
        if (b >= t) break;
        s = b;
      }
      return a;
    };
    r.times.forEach((t, i) => expect(r.states.A[i]).toBeCloseTo(exact(t), 8));
  });

  it('doses at the same time add up', () => {
    const r = simulate({
      model: onecpt,
      times: [0, 1],
      doses: [
        { target: 'A', amount: 3 },
        { target: 'A', amount: 4 },
      ],
      solver,
    });
    expect(r.states.A[0]).toBe(7);
  });

  it('an infusion running at the start counts only after the start', () => {
    const r = simulate({
      model: onecpt,
      times: { start: 1, end: 3, step: 1 },
      doses: [{ target: 'A', amount: 10, start: 0, duration: 2 }],
      solver,
    });
    expect(r.states.A[0]).toBe(0);
    expect(r.states.A[1]).toBeCloseTo((5 / k) * (1 - Math.exp(-k)), 9);
  });

  it('bad doses are named by path', () => {
    const bad = (doses: unknown[]) => {
      try {
        simulate({ model: onecpt, times: [0, 1], doses });
      } catch (e) {
        return (e as InputError).issues.map((i) => i.path.join('.'));
      }
      return [];
    };
    expect(bad([{ target: 'B', amount: 1 }])).toEqual(['doses.0.target']);
    expect(bad([{ target: 'A', amount: -1 }])).toEqual(['doses.0.amount']);
    expect(bad([{ target: 'A' }])).toEqual(['doses.0.amount']);
    expect(bad([{ target: 'A', amount: 1, count: 3 }])).toEqual(['doses.0.every']);
    expect(bad([{ target: 'A', amount: 1, duration: 0 }])).toEqual(['doses.0.duration']);
    expect(bad([{ target: 'A', amount: 1, every: 1e-9, count: 1e6 }])).toEqual(['doses.0.count']);
  });
});

describe('state events', () => {
  const growth = {
    id: 'g',
    parameters: { r: { value: 0.5 } },
    states: { T: { initial: 1, unit: 'cells' } },
    odes: { T: 'r*T' },
    events: [{ name: 'harvest', when: 'T > 100', set: { T: 1 } }],
  };
  it('locates each crossing to solver tolerance and restarts', () => {
    const r = simulate({ model: growth, times: { start: 0, end: 30, step: 1 }, solver: { rtol: 1e-10, atol: 1e-12 } });
    const period = Math.log(100) / 0.5;
    expect(r.events.length).toBe(Math.floor(30 / period));
    r.events.forEach((e, i) => {
      expect(e.name).toBe('harvest');
      expect(Math.abs(e.time - (i + 1) * period)).toBeLessThan(1e-7);
    });
    expect(Math.max(...r.states.T)).toBeLessThanOrEqual(100 + 1e-6);
  });
  it('an extinction event keeps the state at zero', () => {
    const decay = {
      id: 'd',
      parameters: { k: { value: 0.7, unit: '1/day' } },
      states: { T: { initial: 1e3, unit: 'cells' } },
      odes: { T: '-k*T' },
      events: [{ when: 'T < 1', set: { T: 0 } }],
    };
    const r = simulate({ model: decay, times: { start: 0, end: 40, step: 1 } });
    expect(r.events).toHaveLength(1);
    expect(r.events[0].time).toBeCloseTo(Math.log(1e3) / 0.7, 5);
    const after = r.times.map((t, i) => [t, r.states.T[i]]).filter(([t]) => t > r.events[0].time);
    expect(after.every(([, v]) => v === 0)).toBe(true);
  });
});

describe('non-negative states', () => {
  it('fast decay at loose tolerance never reports negative cells', () => {
    const m = {
      id: 'n',
      parameters: { k: { value: 5, unit: '1/day' }, kd: { value: 0.01, unit: '1/day' } },
      states: { T: { initial: 1e6, unit: 'cells' }, D: { initial: 1, unit: '1' } },
      odes: { T: '-k*T*D', D: '-kd*D' },
    };
    for (const method of ['auto', 'dopri5', 'odex', 'rodas']) {
      const r = simulate({
        model: m,
        times: { start: 0, end: 200, step: 0.5 },
        solver: { method: method as 'auto', rtol: 1e-3, atol: 1e-3 },
      });
      expect(Math.min(...r.states.T)).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('select', () => {
  it('reports only the named states and outputs; unknown names are input errors', () => {
    const r = simulate({ model: onecpt, times: [0, 1], doses: [{ target: 'A', amount: 10 }], select: ['C'] });
    expect(Object.keys(r.states)).toEqual([]);
    expect(Object.keys(r.outputs)).toEqual(['C']);
    expect(() => simulate({ model: onecpt, times: [0, 1], select: ['C', 'nope'] })).toThrow(
      /select\.1|'nope' is neither/,
    );
  });
});
