// Limits and failures: a solve that runs past its wall-clock budget or step limit is stopped with a
// SolveError saying how far it got; a non-finite state is an error, never a silent NaN in the result.
import { describe, it, expect } from 'vitest';
import { simulate } from '../src/simulate.ts';
import { SolveError, InputError } from '../src/model/errors.ts';

function solveError(fn: () => unknown): SolveError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SolveError);
    return e as SolveError;
  }
  throw new Error('no error');
}

const vdp = { id: 'vdp', parameters: { mu: { value: 1e4 } }, states: { x: { initial: 2 }, v: { initial: 0 } }, odes: { x: 'v', v: 'mu*(1 - x^2)*v - x' } };

describe('solver limits', () => {
  it('a stiff problem forced through an explicit method stops at its step limit', () => {
    const e = solveError(() => simulate({ model: vdp, times: [0, 3000], solver: { method: 'dopri5', maxSteps: 2000 } }));
    expect(e.reason).toBe('max-steps');
    expect(e.timeReached).toBeGreaterThan(0);
    expect(e.timeReached).toBeLessThan(3000);
  });

  it('the wall-clock budget stops a long solve', () => {
    const e = solveError(() => simulate({ model: vdp, times: [0, 3000], solver: { method: 'odex', maxSteps: 2_000_000, timeBudgetMs: 30 } }));
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
    expect(() => simulate({ model: vdp, times: [0, 1e12] })).toThrow(/out of range/);
    expect(() => simulate({ model: vdp, times: [0, NaN] })).toThrow(InputError);
    expect(() => simulate({ model: vdp, times: [0, 1], solver: { rtol: 0 } })).toThrow(/rtol/);
  });
});
