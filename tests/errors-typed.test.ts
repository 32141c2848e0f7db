// Failures are carried as typed fields, never read back out of message text: the stepper's failReason, the
// SolveError's timeStated, and the reports built from them (CLI, HTTP 422) add "(reached t = …)" only when
// the message does not already say where the solve stopped.
import { describe, it, expect } from 'vitest';
import { SolveError, reachedSuffix } from '../src/errors.ts';
import { Dopri5 } from '../src/solve/dopri5.ts';
import { simulate } from '../src/simulate.ts';
import { jobError } from '../server/http-errors.ts';

const opts = { rtol: Float64Array.of(1e-6), atol: Float64Array.of(1e-9) };

describe('typed failure fields', () => {
  it("a stepper's failure carries its kind as failReason (non-finite start, blow-up)", () => {
    const nan = new Dopri5(
      (_t, _y, d) => {
        d[0] = NaN;
      },
      0,
      Float64Array.of(1),
      1,
      opts,
    );
    expect(nan.status).toBe('failed');
    expect(nan.failReason).toBe('non-finite');
    const blowup = new Dopri5(
      (_t, y, d) => {
        d[0] = y[0] * y[0];
      },
      0,
      Float64Array.of(1),
      2,
      opts,
    );
    while (blowup.status === 'running') blowup.step();
    expect(blowup.status).toBe('failed');
    expect(['non-finite', 'step-size']).toContain(blowup.failReason);
  });

  it('a solver failure is a SolveError whose message states the time (timeStated), with a typed reason', () => {
    const model = { id: 'b', states: { y: { initial: 1 } }, odes: { y: 'y^2' } };
    let err: unknown;
    try {
      simulate({ model, times: [0, 2] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SolveError);
    const e = err as SolveError;
    expect(e.timeStated).toBe(true);
    expect(['non-finite', 'step-size']).toContain(e.reason);
    expect(Math.abs(e.timeReached - 1)).toBeLessThan(1e-3);
    expect(reachedSuffix(e)).toBe('');
  });

  it('reachedSuffix: added when the time is known and not stated; never for null or non-finite times', () => {
    expect(reachedSuffix(new SolveError('no start could be evaluated', 'other', 2.5))).toBe(' (reached t = 2.5)');
    expect(reachedSuffix(new SolveError('stopped at t = 2.5', 'other', 2.5, true))).toBe('');
    expect(reachedSuffix({ timeReached: null })).toBe('');
    expect(reachedSuffix(new SolveError('x', 'other', NaN))).toBe('');
  });

  it("the HTTP 422 follows the typed field, not the message's wording", () => {
    const stated = jobError({
      type: 'solve',
      message: 'rodas: step size underflow at t = 1',
      reason: 'step-size',
      timeReached: 1,
      timeStated: true,
    });
    expect(stated.status).toBe(422);
    expect(stated.message).toBe('could not solve: rodas: step size underflow at t = 1');
    // The same words without the flag get the suffix: the decision is the field's, not a regex's.
    const unstated = jobError({
      type: 'solve',
      message: 'rodas: step size underflow at t = 1',
      reason: 'step-size',
      timeReached: 1,
    });
    expect(unstated.message).toBe('could not solve: rodas: step size underflow at t = 1 (reached t = 1)');
    expect(unstated.extra).toMatchObject({ reason: 'step-size', timeReached: 1 });
  });
});
