// Limits and failures: a solve that runs past its wall-clock budget or step limit is stopped with a
// SolveError saying how far it got; a non-finite state is an error, never a silent NaN in the result.
import { describe, it, expect } from 'vitest';
import { simulate } from '../src/simulate.ts';
import { SolveError, InputError } from '../src/errors.ts';

function solveError(fn: () => unknown): SolveError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SolveError);
    return e as SolveError;
  }
  throw new Error('no error');
}

const vdp = {
  id: 'vdp',
  parameters: { mu: { value: 1e4 } },
  states: { x: { initial: 2 }, v: { initial: 0 } },
  odes: { x: 'v', v: 'mu*(1 - x^2)*v - x' },
};

describe('solver limits', () => {
  it('a stiff problem forced through an explicit method stops at its step limit', () => {
    const e = solveError(() =>
      simulate({ model: vdp, times: [0, 3000], solver: { method: 'dopri5', maxSteps: 2000 } }),
    );
    expect(e.reason).toBe('max-steps');
    expect(e.timeReached).toBeGreaterThan(0);
    expect(e.timeReached).toBeLessThan(3000);
  });

  it('the wall-clock budget stops a long solve', () => {
    const e = solveError(() =>
      simulate({ model: vdp, times: [0, 3000], solver: { method: 'odex', maxSteps: 2_000_000, timeBudgetMs: 30 } }),
    );
    expect(['time-budget', 'max-steps']).toContain(e.reason);
    expect(e.message).toMatch(/time budget|maximum number of steps/);
  });

  it('a solution that blows up is reported, not returned as NaN', () => {
    const m = { id: 'b', states: { y: { initial: 1 } }, odes: { y: 'y^3' } };
    for (const method of ['auto', 'odex', 'rodas']) {
      const e = solveError(() => simulate({ model: m, times: [0, 1], solver: { method: method as 'auto' } }));
      expect(e.timeReached).toBeLessThan(0.51);
    }
  });

  it('an expression that is NaN from the start (0/0) is reported', () => {
    const m = { id: 'n', states: { y: { initial: 0 } }, odes: { y: 'y/y' } };
    const e = solveError(() => simulate({ model: m, times: [0, 1] }));
    expect(e.reason).toMatch(/non-finite|step-size/);
  });

  it('output count and time range limits are input errors', () => {
    expect(() => simulate({ model: vdp, times: { start: 0, end: 1e6, step: 1 } })).toThrow(InputError);
    expect(() => simulate({ model: vdp, times: [0, 1e16] })).toThrow(/out of range/);
    expect(() => simulate({ model: vdp, times: [0, NaN] })).toThrow(InputError);
    expect(() => simulate({ model: vdp, times: [0, 1], solver: { rtol: 0 } })).toThrow(/rtol/);
  });
});

describe('long spans', () => {
  it('Robertson to t = 4e10 through simulate() with the default method', () => {
    const rob = {
      id: 'robertson',
      parameters: { k1: { value: 0.04 }, k2: { value: 3e7 }, k3: { value: 1e4 } },
      states: { y1: { initial: 1 }, y2: { initial: 0 }, y3: { initial: 0 } },
      odes: { y1: '-k1*y1 + k3*y2*y3', y2: 'k1*y1 - k3*y2*y3 - k2*y2^2', y3: 'k2*y2^2' },
    };
    const r = simulate({ model: rob, times: [0, 0.4, 4e2, 4e6, 4e10], solver: { rtol: 1e-6, atol: 1e-10 } });
    // Reference (bench/reference/robertson_4e10.json, SciPy Radau rtol 1e-13): y1(4e10) = 5.208345e-8.
    expect(r.states.y1[4]).toBeGreaterThan(5.1e-8);
    expect(r.states.y1[4]).toBeLessThan(5.3e-8);
    expect(Math.abs(r.states.y1[4] + r.states.y2[4] + r.states.y3[4] - 1)).toBeLessThan(1e-6);
    expect(r.solver.switches.map((s) => s.method)).toContain('rodas');
  });
});
