// Rodas5P stepper, LU and finite-difference Jacobian: analytic solutions, a linear stiff system, the
// non-autonomous df/dt term, the stiff reference problems (Robertson, Van der Pol mu = 1000, HIRES),
// tolerance proportionality, counters, non-negative components, failures.
import { describe, it, expect } from 'vitest';
import { Rodas } from '../src/solve/rodas.ts';
import { luFactor, luSolve } from '../src/solve/lu.ts';
import { FdJacobian } from '../src/solve/jacobian.ts';
import { stepperFactories } from '../src/solve/methods.ts';
import type { Rhs } from '../src/solve/types.ts';
import {
  HIRES_REF,
  HIRES_T,
  HIRES_Y0,
  OREGO_REF,
  ROBERTSON_REF,
  orego,
  VDP_REF,
  VDP_REF_TIMES,
  hires,
  integrate,
  robertson,
  robertsonJac,
  scaledError,
  tol,
  vanDerPol,
  vanDerPolJac,
} from './helpers/stiff-problems.ts';

const rodas = stepperFactories.rodas;
const oscillator: Rhs = (_t, y, d) => {
  d[0] = y[1];
  d[1] = -y[0];
};

describe('lu', () => {
  it('solves a pivoting-dependent 4x4 system to round-off and flags a singular matrix', () => {
    const A = [0, 2, 1, 4, 1, 1, 0, 3, 3, -1, 2, 0, 2, 5, -3, 1];
    const x = [1, -2, 0.5, 3];
    const b = new Float64Array(4);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) b[i] += A[i * 4 + j] * x[j];
    const a = Float64Array.from(A);
    const piv = new Int32Array(4);
    expect(luFactor(a, 4, piv)).toBe(true);
    luSolve(a, 4, piv, b);
    for (let i = 0; i < 4; i++) expect(Math.abs(b[i] - x[i])).toBeLessThan(1e-14);
    // Solving in a slice of a bigger array (the stage storage).
    const big = new Float64Array(8);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) big[4 + i] += A[i * 4 + j] * x[j];
    luSolve(a, 4, piv, big, 4);
    for (let i = 0; i < 4; i++) expect(Math.abs(big[4 + i] - x[i])).toBeLessThan(1e-14);
    expect(luFactor(Float64Array.of(1, 2, 2, 4), 2, new Int32Array(2))).toBe(false);
  });
});

describe('finite-difference Jacobian', () => {
  it('matches the analytic Robertson Jacobian to 1e-6 relative (of the largest entry in each row)', () => {
    const y = Float64Array.of(0.9, 2e-5, 0.1);
    const f0 = new Float64Array(3);
    robertson(0, y, f0);
    const J = new Float64Array(9),
      Ja = new Float64Array(9);
    const fd = new FdJacobian(3);
    const evals = fd.evaluate(robertson, 0, y, f0, Float64Array.of(1e-10, 1e-10, 1e-10), J, null);
    robertsonJac(0, y, Ja);
    expect(evals).toBeGreaterThanOrEqual(3);
    expect(Array.from(y)).toEqual([0.9, 2e-5, 0.1]); // restored exactly
    for (let i = 0; i < 3; i++) {
      const rowMax = Math.max(...[0, 1, 2].map((j) => Math.abs(Ja[i * 3 + j])));
      for (let j = 0; j < 3; j++) expect(Math.abs(J[i * 3 + j] - Ja[i * 3 + j])).toBeLessThan(1e-6 * rowMax);
    }
  });
});

describe('rodas: analytic solutions', () => {
  it('exponential decay and the harmonic oscillator within 3x the tolerance; dense output mid-step within 5e-8', () => {
    const d = integrate(
      rodas,
      (_t, y, dy) => {
        dy[0] = -0.5 * y[0];
      },
      0,
      [2],
      10,
      tol(1, 1e-8, 1e-12),
    );
    expect(d.s.status).toBe('finished');
    expect(d.contractOk).toBe(true);
    expect(Math.abs(d.s.y[0] / (2 * Math.exp(-5)) - 1)).toBeLessThan(3e-8);
    let worst = 0;
    const mid = new Float64Array(2);
    const o = integrate(rodas, oscillator, 0, [1, 0], 20, tol(2, 1e-8, 1e-10), [], (s) => {
      for (const th of [0.3, 0.5, 0.7]) {
        const tm = s.tOld + th * (s.t - s.tOld);
        s.interpolate(tm, mid);
        worst = Math.max(worst, Math.abs(mid[0] - Math.cos(tm)), Math.abs(mid[1] + Math.sin(tm)));
      }
    });
    expect(o.s.status).toBe('finished');
    expect(Math.abs(o.s.y[0] - Math.cos(20))).toBeLessThan(3e-8);
    expect(worst).toBeLessThan(5e-8);
  });

  it('linear stiff system (eigenvalues -1 and -1e6): exact solution to the tolerance; <= 100 steps with the analytic Jacobian', () => {
    // A = 1/2 [[l1 + l2, l1 - l2], [l1 - l2, l1 + l2]]: y0 + y1 = 2 e^{l1 t}, y0 - y1 = 0 e^{l2 t} + 2 e^{l2 t}.
    const l1 = -1,
      l2 = -1e6;
    const f: Rhs = (_t, y, d) => {
      d[0] = 0.5 * ((l1 + l2) * y[0] + (l1 - l2) * y[1]);
      d[1] = 0.5 * ((l1 - l2) * y[0] + (l1 + l2) * y[1]);
    };
    const jac = (_t: number, _y: Float64Array, J: Float64Array) => {
      J[0] = J[3] = 0.5 * (l1 + l2);
      J[1] = J[2] = 0.5 * (l1 - l2);
    };
    const exact = (t: number) => [Math.exp(l1 * t) + Math.exp(l2 * t), Math.exp(l1 * t) - Math.exp(l2 * t)];
    const a = integrate(rodas, f, 0, [2, 0], 5, tol(2, 1e-6, 1e-10, { autonomous: true, jac }), [1e-6, 0.5, 2]);
    expect(a.s.status).toBe('finished');
    expect(scaledError(a.s.y, exact(5), 1e-6, 1e-10)).toBeLessThan(3);
    a.out.forEach((y, k) => expect(scaledError(y, exact([1e-6, 0.5, 2][k]), 1e-6, 1e-10)).toBeLessThan(3));
    expect(a.s.counters.steps).toBeLessThanOrEqual(100); // measured 44
    // Finite differences: the slow eigenvalue (-1, from entries of +-5e5 that cancel) carries the difference
    // quotient's round-off, which a Rosenbrock method feels: measured 95 steps (590 with scipy's factor floor).
    const b = integrate(rodas, f, 0, [2, 0], 5, tol(2, 1e-6, 1e-10, { autonomous: true }));
    expect(b.s.status).toBe('finished');
    expect(scaledError(b.s.y, exact(5), 1e-6, 1e-10)).toBeLessThan(3);
    expect(b.s.counters.steps).toBeLessThanOrEqual(200);
  });

  it('non-autonomous Prothero-Robinson problem (lambda = -1e5): y = cos t to the tolerance at step ends and in dense output', () => {
    // Exercises the df/dt term, and the mid-step residual check that keeps Rodas5P's interpolant (not
    // stiffly accurate by itself: 1e-3 errors here without the check) within the tolerance.
    const f: Rhs = (t, y, d) => {
      d[0] = -1e5 * (y[0] - Math.cos(t)) - Math.sin(t);
    };
    let worstDense = 0;
    const o = new Float64Array(1);
    const { s } = integrate(rodas, f, 0, [1], 10, tol(1, 1e-6, 1e-9), [], (st) => {
      expect(Math.abs(st.y[0] - Math.cos(st.t))).toBeLessThan(2e-6);
      for (let k = 1; k < 20; k++) {
        const tm = st.tOld + (k / 20) * (st.t - st.tOld);
        st.interpolate(tm, o);
        worstDense = Math.max(worstDense, Math.abs(o[0] - Math.cos(tm)));
      }
    });
    expect(s.status).toBe('finished');
    expect(worstDense).toBeLessThan(2e-6); // measured 8e-7
    expect(s.counters.steps).toBeLessThan(200); // measured 51
  });
});

describe('rodas: stiff reference problems', () => {
  // Tolerances: scaled error |y - ref| / (atol + rtol |ref|) below 3 (measured: 0.4 / 0.01 Robertson,
  // 1.1-1.7 Van der Pol, 0.2 HIRES).
  for (const [key, tEnd] of [
    ['1e5', 1e5],
    ['4e10', 4e10],
  ] as const) {
    for (const withJac of [false, true]) {
      it(`Robertson to t = ${key}, rtol 1e-6, atol 1e-10, ${withJac ? 'analytic' : 'finite-difference'} Jacobian`, () => {
        const { s, contractOk } = integrate(
          rodas,
          robertson,
          0,
          [1, 0, 0],
          tEnd,
          tol(3, 1e-6, 1e-10, { jac: withJac ? robertsonJac : undefined }),
        );
        expect(s.status).toBe('finished');
        expect(contractOk).toBe(true);
        expect(scaledError(s.y, ROBERTSON_REF[key], 1e-6, 1e-10)).toBeLessThan(3);
        const c = s.counters;
        // Measured: 98 steps to 1e5, 205 to 4e10; a few rejections at the start.
        expect(c.steps).toBeGreaterThan(30);
        expect(c.steps).toBeLessThan(key === '1e5' ? 300 : 600);
        expect(c.jacobianEvaluations).toBe(c.steps); // one per step point, kept through rejections
        expect(c.luDecompositions).toBe(c.steps + c.rejected);
        // Per step: f at the new point, 7 more stages, df/dt, the mid-step residual (+ n per finite-difference Jacobian).
        expect(c.rhsEvaluations).toBeGreaterThanOrEqual(10 * c.steps);
        expect(c.rhsEvaluations).toBeLessThanOrEqual((withJac ? 11 : 17) * (c.steps + c.rejected) + 10);
      });
    }
  }

  it('Van der Pol mu = 1000 on [0, 3000] (rtol = atol = 1e-6) at six times, with and without the analytic Jacobian', () => {
    for (const jac of [undefined, vanDerPolJac]) {
      const { s, out } = integrate(
        rodas,
        vanDerPol,
        0,
        [2, 0],
        3000,
        tol(2, 1e-6, 1e-6, { jac, autonomous: true }),
        VDP_REF_TIMES,
      );
      expect(s.status).toBe('finished');
      out.forEach((y, k) => expect(scaledError(y, VDP_REF[k], 1e-6, 1e-6)).toBeLessThan(3));
      expect(s.counters.steps).toBeLessThan(2000); // measured 537
    }
  });

  it('HIRES at t = 321.8122 against the Bari test-set reference (rtol 1e-6, atol 1e-10)', () => {
    const { s } = integrate(rodas, hires, 0, HIRES_Y0, HIRES_T, tol(8, 1e-6, 1e-10));
    expect(s.status).toBe('finished');
    expect(scaledError(s.y, HIRES_REF, 1e-6, 1e-10)).toBeLessThan(3);
    expect(s.counters.steps).toBeLessThan(1000); // measured 212
  });

  it('OREGO at t = 360 against the Bari reference (rtol 1e-6, atol 1e-10)', () => {
    const { s } = integrate(rodas, orego, 0, [1, 2, 3], 360, tol(3, 1e-6, 1e-10));
    expect(s.status).toBe('finished');
    expect(scaledError(s.y, OREGO_REF, 1e-6, 1e-10)).toBeLessThan(5);
    expect(s.counters.steps).toBeLessThan(3000);
  });

  it('errors fall as rtol falls (HIRES and Van der Pol, rtol 1e-4 / 1e-6 / 1e-8)', () => {
    const hErr = [1e-4, 1e-6, 1e-8].map((rt) => {
      const { s } = integrate(rodas, hires, 0, HIRES_Y0, HIRES_T, tol(8, rt, rt * 1e-4));
      return Math.max(...HIRES_REF.map((r, i) => Math.abs(s.y[i] - r) / r));
    });
    expect(hErr[1]).toBeLessThan(hErr[0] / 10);
    expect(hErr[2]).toBeLessThan(hErr[1] / 10);
    const vErr = [1e-4, 1e-6, 1e-8].map((rt) => {
      const { s } = integrate(rodas, vanDerPol, 0, [2, 0], 3000, tol(2, rt, rt));
      return Math.abs(s.y[0] - VDP_REF[5][0]);
    });
    expect(vErr[1]).toBeLessThan(vErr[0] / 5);
    expect(vErr[2]).toBeLessThan(vErr[1] / 5);
  });
});

describe('rodas: non-negative components and failures', () => {
  it('a fast decay toward zero with large steps never yields a negative value, in steps or dense output', () => {
    // y0' = -1e4 y0 (stiff decay), y1' = -1 with y1 reaching 0 at t = 1.
    const f: Rhs = (_t, y, d) => {
      d[0] = -1e4 * y[0];
      d[1] = -1;
    };
    const out = new Float64Array(2);
    let minSeen = Infinity;
    const { s } = integrate(
      rodas,
      f,
      0,
      [1, 1],
      5,
      tol(2, 1e-6, 1e-9, { nonNegative: Uint8Array.of(1, 1) }),
      [],
      (st) => {
        minSeen = Math.min(minSeen, st.y[0], st.y[1]);
        for (let k = 1; k < 6; k++) {
          st.interpolate(st.tOld + (k / 6) * (st.t - st.tOld), out);
          minSeen = Math.min(minSeen, out[0], out[1]);
        }
      },
    );
    expect(s.status).toBe('finished');
    expect(minSeen).toBeGreaterThanOrEqual(0);
    expect(s.y[1]).toBe(0);
  });

  it('fails with a message on a blow-up and on a NaN right-hand side', () => {
    const blow = integrate(
      rodas,
      (_t, y, d) => {
        d[0] = y[0] * y[0];
      },
      0,
      [1],
      2,
      tol(1, 1e-6, 1e-9),
    );
    expect(blow.s.status).toBe('failed');
    expect(blow.s.message).toMatch(/^rodas: /);
    const nan = new Rodas(
      (_t, _y, d) => {
        d[0] = NaN;
      },
      0,
      Float64Array.of(1),
      1,
      tol(1, 1e-6, 1e-9),
    );
    expect(nan.status).toBe('failed');
    expect(nan.message).toMatch(/not finite/);
  });
});
