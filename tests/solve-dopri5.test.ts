// DOPRI5 stepper: analytic solutions, dense output, the stepper contract, tolerance proportionality,
// Hairer's stiffness test, non-negative components, failures.
import { describe, it, expect } from 'vitest';
import { Dopri5 } from '../src/solve/dopri5.ts';
import { stepperFactories } from '../src/solve/methods.ts';
import type { Rhs } from '../src/solve/types.ts';
import { integrate, robertson, scaledError, tol } from './helpers/stiff-problems.ts';

const dopri5 = stepperFactories.dopri5;
const decay: Rhs = (_t, y, d) => {
  d[0] = -0.5 * y[0];
};
const oscillator: Rhs = (_t, y, d) => {
  d[0] = y[1];
  d[1] = -y[0];
};
// y' = -2 t y^2, y(0) = 1: y = 1 / (1 + t^2).
const rational: Rhs = (t, y, d) => {
  d[0] = -2 * t * y[0] * y[0];
};

describe('dopri5: analytic solutions', () => {
  it('exponential decay to t = 10 within 3x the tolerance, landing exactly on tBound', () => {
    const { s, contractOk } = integrate(dopri5, decay, 0, [2], 10, tol(1, 1e-8, 1e-12));
    expect(s.status).toBe('finished');
    expect(contractOk).toBe(true);
    expect(s.t).toBe(10);
    expect(Math.abs(s.y[0] - 2 * Math.exp(-5)) / (2 * Math.exp(-5))).toBeLessThan(3e-8);
  });

  it('harmonic oscillator over [0, 20]: end point and dense output at every mid-step within 2e-8 (rtol 1e-8)', () => {
    let worst = 0;
    const mid = new Float64Array(2);
    const { s } = integrate(dopri5, oscillator, 0, [1, 0], 20, tol(2, 1e-8, 1e-10), [], (st) => {
      for (const th of [0.25, 0.5, 0.75]) {
        const tm = st.tOld + th * (st.t - st.tOld);
        st.interpolate(tm, mid);
        worst = Math.max(worst, Math.abs(mid[0] - Math.cos(tm)), Math.abs(mid[1] + Math.sin(tm)));
      }
    });
    expect(s.status).toBe('finished');
    expect(Math.abs(s.y[0] - Math.cos(20))).toBeLessThan(2e-8);
    expect(Math.abs(s.y[1] + Math.sin(20))).toBeLessThan(2e-8);
    expect(worst).toBeLessThan(2e-8);
  });

  it('interpolate reproduces both ends of the last step', () => {
    const s = new Dopri5(oscillator, 0, Float64Array.of(1, 0), 5, tol(2, 1e-6, 1e-9));
    s.step();
    s.step();
    const out = new Float64Array(2);
    s.interpolate(s.t, out);
    expect(Array.from(out)).toEqual(Array.from(s.y));
    s.interpolate(s.tOld, out);
    expect(Math.abs(out[0] - Math.cos(s.tOld))).toBeLessThan(1e-6);
  });
});

describe('dopri5: contract and counters', () => {
  it('counts 6 RHS calls per attempted step plus 2 at the start (FSAL), never passes tBound, then stays finished', () => {
    const { s, contractOk } = integrate(dopri5, rational, 0, [1], 7, tol(1, 1e-7, 1e-10));
    const c = s.counters;
    expect(contractOk).toBe(true);
    expect(c.steps).toBeGreaterThan(10);
    expect(c.rhsEvaluations).toBe(6 * (c.steps + c.rejected) + 2);
    expect(c.jacobianEvaluations).toBe(0);
    expect(c.luDecompositions).toBe(0);
    expect(s.step()).toBe('finished');
    expect(s.counters.steps).toBe(c.steps);
  });

  it('honours maxStep and firstStep', () => {
    const hs: number[] = [];
    integrate(dopri5, decay, 0, [1], 10, tol(1, 1e-3, 1e-6, { maxStep: 0.1, firstStep: 0.01 }), [], (s) =>
      hs.push(s.t - s.tOld),
    );
    expect(hs[0]).toBeCloseTo(0.01, 12);
    expect(Math.max(...hs)).toBeLessThanOrEqual(0.1 * (1 + 1e-12) * 1.01);
    expect(hs.length).toBeGreaterThanOrEqual(100);
  });

  it('a segment shorter than the underflow limit (1e-14 |t|) is still stepped, by dopri5 and rodas', () => {
    for (const m of ['dopri5', 'rodas'] as const) {
      const s = stepperFactories[m](decay, 1000, Float64Array.of(1), 1000 + 1e-12, tol(1, 1e-6, 1e-9));
      expect(s.step()).toBe('finished');
      expect(s.t).toBe(1000 + 1e-12);
      expect(Math.abs(s.y[0] - 1)).toBeLessThan(1e-12);
    }
  });

  it('a segment of zero length is finished at once', () => {
    const s = new Dopri5(decay, 3, Float64Array.of(1), 3, tol(1, 1e-6, 1e-9));
    expect(s.status).toBe('finished');
    expect(s.counters.rhsEvaluations).toBe(0);
  });

  it('errors fall in proportion to rtol (1e-4 ... 1e-10)', () => {
    const errs = [1e-4, 1e-6, 1e-8, 1e-10].map((rt) => {
      const { s } = integrate(dopri5, rational, 0, [1], 10, tol(1, rt, rt * 1e-3));
      return Math.abs(s.y[0] - 1 / 101) * 101;
    });
    for (let i = 1; i < errs.length; i++) expect(errs[i]).toBeLessThan(errs[i - 1] / 20);
    expect(errs[3]).toBeLessThan(1e-9);
  });
});

describe('dopri5: stiffness test', () => {
  it('fires on Robertson and not on the harmonic oscillator', () => {
    const stiff = new Dopri5(robertson, 0, Float64Array.of(1, 0, 0), 1e3, tol(3, 1e-6, 1e-10));
    let steps = 0;
    while (!stiff.stiff && stiff.step() === 'running' && steps < 5000) steps++;
    expect(stiff.stiff).toBe(true);
    expect(stiff.hlamb).toBeGreaterThan(3.25);
    expect(stiff.t).toBeLessThan(10);
    const calm = new Dopri5(oscillator, 0, Float64Array.of(1, 0), 100, tol(2, 1e-6, 1e-9));
    while (calm.step() === 'running');
    expect(calm.stiff).toBe(false);
    expect(calm.hlamb).toBeLessThan(3.25);
  });
});

describe('dopri5: non-negative components (ode45 NonNegative)', () => {
  // y0' = -1 until y0 hits 0 at t = 1: with NonNegative it stays at 0; y1' = -y1 is left alone.
  const ramp: Rhs = (_t, y, d) => {
    d[0] = -1;
    d[1] = -y[1];
  };
  it('a component driven below zero stays at zero, and never comes out negative, not even in dense output', () => {
    let minDense = Infinity;
    const out = new Float64Array(2);
    const { s } = integrate(
      dopri5,
      ramp,
      0,
      [1, 1],
      3,
      tol(2, 1e-6, 1e-9, { nonNegative: Uint8Array.of(1, 0) }),
      [],
      (st) => {
        expect(st.y[0]).toBeGreaterThanOrEqual(0);
        for (let k = 1; k < 8; k++) {
          st.interpolate(st.tOld + (k / 8) * (st.t - st.tOld), out);
          minDense = Math.min(minDense, out[0]);
        }
      },
    );
    expect(s.status).toBe('finished');
    expect(s.y[0]).toBe(0);
    expect(minDense).toBeGreaterThanOrEqual(0);
    expect(Math.abs(s.y[1] - Math.exp(-3))).toBeLessThan(1e-6);
  });

  it('a positive component far below atol (1e-16 cells) is kept, positive and accurate, not forced to zero', () => {
    // y' = -y from 1 to t = 37: y = e^-37 = 8.5e-17, with atol 1e-20 so the tiny value is resolved.
    const { s } = integrate(dopri5, decay, 0, [1], 74, tol(1, 1e-8, 1e-22, { nonNegative: Uint8Array.of(1) }));
    expect(s.y[0]).toBeGreaterThan(0);
    expect(Math.abs(s.y[0] / Math.exp(-37) - 1)).toBeLessThan(1e-6);
  });
});

describe('dopri5: failures', () => {
  it("blow-up (y' = y^2 from 1, singular at t = 1) ends in status failed with a message", () => {
    const { s } = integrate(
      dopri5,
      (_t, y, d) => {
        d[0] = y[0] * y[0];
      },
      0,
      [1],
      2,
      tol(1, 1e-6, 1e-9),
    );
    expect(s.status).toBe('failed');
    expect(s.message).toMatch(/dopri5: (step size underflow|non-finite)/);
    // The numerical solution may step a hair past the pole before the steps collapse.
    expect(Math.abs(s.t - 1)).toBeLessThan(1e-3);
  });

  it('a right-hand side that is NaN at the start fails at once', () => {
    const s = new Dopri5(
      (_t, _y, d) => {
        d[0] = NaN;
      },
      0,
      Float64Array.of(1),
      1,
      tol(1, 1e-6, 1e-9),
    );
    expect(s.status).toBe('failed');
    expect(s.message).toMatch(/not finite/);
  });
});

describe('dopri5: same answer as the reference on a scaled comparison', () => {
  it('oscillator at rtol 1e-6 within 5x the tolerance', () => {
    const { s } = integrate(dopri5, oscillator, 0, [1, 0], 10, tol(2, 1e-6, 1e-8));
    expect(scaledError(s.y, [Math.cos(10), -Math.sin(10)], 1e-6, 1e-8)).toBeLessThan(5);
  });
});
