// The segment driver (src/solve/driver.ts) and solve_ivp's state events, on problems with closed forms:
// y' = -y (y = e^{-t}) and y' = 1 (y = t).
import { describe, expect, it } from 'vitest';
import { stepperDriver } from '../src/solve/driver.ts';
import { stepperFactories } from '../src/solve/methods.ts';
import { solveIvp, type IvpProblem } from '../src/solve/solve_ivp.ts';
import type { Rhs, StepperOptions } from '../src/solve/types.ts';

const decay: Rhs = (_t, y, d) => {
  d[0] = -y[0];
};
const opts = (): StepperOptions => ({ rtol: Float64Array.of(1e-8), atol: Float64Array.of(1e-10) });

describe('stepperDriver', () => {
  it('runs a segment to its end, showing every accepted step in order, and counts per segment', () => {
    const drive = stepperDriver(stepperFactories.dopri5);
    const seen: number[] = [];
    const r = drive(decay, 0, Float64Array.of(1), 2, opts(), (v) => (seen.push(v.t), true), 10_000);
    expect(r.status).toBe('finished');
    expect(seen[seen.length - 1]).toBe(2);
    expect(seen.every((t, i) => i === 0 || t > seen[i - 1])).toBe(true);
    expect(r.counters.steps).toBe(seen.length);
    // Second segment on the same driver: the stepper is reused and the counters restart from zero.
    const r2 = drive(decay, 2, Float64Array.of(Math.exp(-2)), 3, opts(), () => true, 10_000);
    expect(r2.status).toBe('finished');
    expect(r2.counters.steps).toBeLessThan(r.counters.steps + 1);
    expect(r2.counters.steps).toBeGreaterThan(0);
  });
  it('stops when the observer says so, and reports max-steps as a failure reason', () => {
    const drive = stepperDriver(stepperFactories.rodas);
    let k = 0;
    expect(drive(decay, 0, Float64Array.of(1), 10, opts(), () => ++k < 3, 10_000).status).toBe('stopped');
    const r = stepperDriver(stepperFactories.dopri5)(decay, 0, Float64Array.of(1), 10, opts(), () => true, 2);
    expect(r.status).toBe('failed');
    expect(r.reason).toBe('max-steps');
  });
  it('reports a non-finite start as a failure, not a throw', () => {
    const r = stepperDriver(stepperFactories.dopri5)(
      (_t, _y, d) => {
        d[0] = NaN;
      },
      0,
      Float64Array.of(1),
      1,
      opts(),
      () => true,
      100,
    );
    expect(r.status).toBe('failed');
    expect(r.reason).toBe('non-finite');
  });
});

describe('solveIvp state events', () => {
  const base = (extra: Partial<IvpProblem>): IvpProblem => ({
    rhs: (_t, _y, d) => {
      d[0] = 1;
    },
    t0: 0,
    tEnd: 3,
    y0: Float64Array.of(0),
    outputTimes: Float64Array.of(0, 0.5, 1, 2, 3),
    rtol: Float64Array.of(1e-8),
    atol: Float64Array.of(1e-10),
    ...extra,
  });
  for (const method of ['dopri5', 'rodas', 'auto', 'odex'] as const) {
    it(`${method}: locates y = 1.25 on y' = 1 to 1e-10 and applies the reset there`, () => {
      const sol = solveIvp(
        base({
          method,
          events: [
            {
              name: 'reset',
              g: (_t, y) => y[0] - 1.25,
              apply: (_t, y) => {
                y[0] = 0;
              },
            },
          ],
        }),
      );
      expect(sol.events.length).toBe(2); // at 1.25 and again at 2.5
      expect(Math.abs(sol.events[0].t - 1.25)).toBeLessThan(1e-10);
      expect(Math.abs(sol.events[1].t - 2.5)).toBeLessThan(1e-9);
      expect(sol.y[2]).toBeCloseTo(1, 9); // t = 1, before the event
      expect(sol.y[3]).toBeCloseTo(0.75, 8); // t = 2: 0.75 after the reset at 1.25
      expect(sol.y[4]).toBeCloseTo(0.5, 8); // t = 3: 0.5 after the reset at 2.5
    });
  }
  it('an event true at the start fires once at t0; one whose change leaves the state as it was is not reported', () => {
    const sol = solveIvp(
      base({
        y0: Float64Array.of(2),
        events: [
          {
            name: 'cap',
            g: (_t, y) => y[0] - 1,
            apply: (_t, y) => {
              y[0] = 0.5;
            },
          },
        ],
      }),
    );
    expect(sol.events[0]).toEqual({ name: 'cap', t: 0 });
    expect(Math.abs(sol.events[1].t - 0.5)).toBeLessThan(1e-10);
    const idle = solveIvp(base({ events: [{ name: 'noop', g: (_t, y) => y[0] - 1, apply: () => {} }] }));
    expect(idle.events).toEqual([]);
  });
  it('a bolus at a discontinuity is applied before the output at that time', () => {
    const sol = solveIvp(base({ discontinuities: [{ t: 1, jumps: [{ index: 0, amount: 10 }], rateChanges: [] }] }));
    expect(sol.y[2]).toBeCloseTo(11, 9);
    expect(sol.y[4]).toBeCloseTo(13, 9);
  });
});
