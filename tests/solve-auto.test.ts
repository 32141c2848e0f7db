// Auto switching (DOPRI5 <-> Rodas5P): stays explicit on nonstiff problems (Kirschner-Panetta, where
// the tumor passes through 1e-15 cells), switches on the stiff reference problems, switches back when
// the stiffness goes away, interpolates with the method that took the step.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { AutoStepper } from '../src/solve/auto.ts';
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
} from './helpers/stiff-problems.ts';

const auto = stepperFactories.auto;

// Kirschner-Panetta 1998 (c = 0.02) and its SciPy reference (tests/reference/kirschner-panetta-1998.json,
// DOP853/Radau cross-checked at rtol 1e-13 in log variables): a limit cycle where T falls to 1.5e-15 cells.
const kpRef = JSON.parse(readFileSync(new URL('./reference/kirschner-panetta-1998.json', import.meta.url), 'utf8'))
  .cases[0] as {
  parameters: Record<string, number>;
  times: number[];
  states: { E: number[]; T: number[]; IL: number[] };
};
const p = kpRef.parameters;
const kp: Rhs = (_t, y, d) => {
  const E = y[0],
    T = y[1],
    IL = y[2];
  d[0] = p.c * T - p.mu2 * E + (p.p1 * E * IL) / (p.g1 + IL) + p.s1;
  d[1] = p.r2 * T * (1 - p.b * T) - (p.a * E * T) / (p.g2 + T);
  d[2] = (p.p2 * E * T) / (p.g3 + T) - p.mu3 * IL + p.s2;
};

describe('auto: nonstiff problems stay with DOPRI5', () => {
  it('Kirschner-Panetta to day 1000 at rtol = atol = 1e-6: no switch, no drift (tumor within 1e-4 in log scale, through 1e-15 cells)', () => {
    const { s, out } = integrate(
      auto,
      kp,
      0,
      [1, 1e5, 1],
      1000,
      tol(3, 1e-6, 1e-6, { nonNegative: Uint8Array.of(1, 1, 1) }),
      kpRef.times,
    );
    const a = s as AutoStepper;
    expect(s.status).toBe('finished');
    expect(a.switches).toEqual([]);
    expect(a.method).toBe('dopri5');
    expect(s.counters.jacobianEvaluations).toBe(0);
    expect(out.length).toBe(kpRef.times.length);
    let logT = 0,
      relE = 0;
    out.forEach((y, k) => {
      expect(y[1]).toBeGreaterThan(0);
      logT = Math.max(logT, Math.abs(Math.log(y[1] / kpRef.states.T[k])));
      relE = Math.max(relE, Math.abs(y[0] / kpRef.states.E[k] - 1));
    });
    expect(Math.min(...kpRef.states.T)).toBeLessThan(1e-14);
    expect(logT).toBeLessThan(1e-4); // measured 4.6e-5
    expect(relE).toBeLessThan(1e-4); // measured 1.0e-5
  });

  it('harmonic oscillator: no switch, same result as DOPRI5 alone', () => {
    const osc: Rhs = (_t, y, d) => {
      d[0] = y[1];
      d[1] = -y[0];
    };
    const a = integrate(auto, osc, 0, [1, 0], 50, tol(2, 1e-7, 1e-9));
    const d = integrate(stepperFactories.dopri5, osc, 0, [1, 0], 50, tol(2, 1e-7, 1e-9));
    expect((a.s as AutoStepper).switches.length).toBe(0);
    expect(Array.from(a.s.y)).toEqual(Array.from(d.s.y));
    expect(a.s.counters).toEqual(d.s.counters);
  });
});

describe('auto: stiff reference problems', () => {
  it('Robertson to 1e5 and 4e10 (rtol 1e-6, atol 1e-10): one early switch to Rodas, reference within 3x the tolerance', () => {
    for (const [key, tEnd] of [
      ['1e5', 1e5],
      ['4e10', 4e10],
    ] as const) {
      for (const jac of [undefined, robertsonJac]) {
        const { s, contractOk } = integrate(auto, robertson, 0, [1, 0, 0], tEnd, tol(3, 1e-6, 1e-10, { jac }));
        const a = s as AutoStepper;
        expect(s.status).toBe('finished');
        expect(contractOk).toBe(true);
        expect(a.switches.length).toBe(1);
        expect(a.switches[0].method).toBe('rodas');
        expect(a.switches[0].t).toBeLessThan(1);
        expect(scaledError(s.y, ROBERTSON_REF[key], 1e-6, 1e-10)).toBeLessThan(3);
        // Measured to 1e5: 124 steps, 1337 RHS calls (FD Jacobian), 81 Jacobians.
        expect(s.counters.steps).toBeLessThan(key === '1e5' ? 400 : 800);
        expect(s.counters.jacobianEvaluations).toBeGreaterThan(20);
        expect(s.counters.luDecompositions).toBeGreaterThanOrEqual(s.counters.jacobianEvaluations);
      }
    }
  });

  it('Van der Pol mu = 1000 on [0, 3000]: switches both ways at the fast transitions, reference within 5x the tolerance at six times', () => {
    const { s, out } = integrate(auto, vanDerPol, 0, [2, 0], 3000, tol(2, 1e-6, 1e-6), VDP_REF_TIMES);
    const a = s as AutoStepper;
    expect(s.status).toBe('finished');
    out.forEach((y, k) => expect(scaledError(y, VDP_REF[k], 1e-6, 1e-6)).toBeLessThan(5)); // measured 1.8
    expect(a.switches[0].method).toBe('rodas');
    expect(a.switches.some((w) => w.method === 'dopri5')).toBe(true);
    for (let i = 1; i < a.switches.length; i++) {
      expect(a.switches[i].t).toBeGreaterThan(a.switches[i - 1].t);
      expect(a.switches[i].method).not.toBe(a.switches[i - 1].method);
    }
    expect(s.counters.steps).toBeLessThan(3000); // measured 629 steps, 5822 RHS calls
  });

  it('HIRES at t = 321.8122 against the Bari reference (rtol 1e-6, atol 1e-10)', () => {
    const { s } = integrate(auto, hires, 0, HIRES_Y0, HIRES_T, tol(8, 1e-6, 1e-10));
    expect(s.status).toBe('finished');
    expect(scaledError(s.y, HIRES_REF, 1e-6, 1e-10)).toBeLessThan(3); // measured 0.09
    expect((s as AutoStepper).switches[0].method).toBe('rodas');
  });

  it('OREGO at t = 360 against the Bari reference (rtol 1e-6, atol 1e-10)', () => {
    const { s } = integrate(auto, orego, 0, [1, 2, 3], 360, tol(3, 1e-6, 1e-10));
    expect(s.status).toBe('finished');
    expect(scaledError(s.y, OREGO_REF, 1e-6, 1e-10)).toBeLessThan(5);
    expect((s as AutoStepper).switches.length).toBeGreaterThan(0);
  });

  it('errors fall as rtol falls on Robertson (1e-4 / 1e-6 / 1e-8, atol = 1e-4 rtol)', () => {
    const errs = [1e-4, 1e-6, 1e-8].map((rt) => {
      const { s } = integrate(auto, robertson, 0, [1, 0, 0], 1e5, tol(3, rt, rt * 1e-4));
      return Math.max(...ROBERTSON_REF['1e5'].map((r, i) => Math.abs(s.y[i] - r) / r));
    });
    expect(errs[1]).toBeLessThan(errs[0] / 10);
    expect(errs[2]).toBeLessThan(errs[1] / 10);
  });
});

describe('auto: PK/PD model with fast IL-2 elimination (stiff Kirschner-Panetta)', () => {
  // KP98 with IL-2 cleared 100x faster (mu3 = 1000/day, p2 = 500/day, same steady IL-2 level): stiff
  // throughout. Reference: /usr/bin/python3, scipy 1.10.1, solve_ivp(method='Radau', rtol=1e-11, atol=1e-11)
  // on the logarithms of (E, T, IL) from (1, 1e5, 1); LSODA agrees to 1e-6, our Rodas at rtol 1e-11 / atol
  // 1e-30 to 1e-10. The tumor falls to 2.5e-15 cells by day 100 and regrows.
  const q: Record<string, number> = { ...p, p2: 500, mu3: 1000 };
  const kpFast: Rhs = (_t, y, d) => {
    const E = y[0],
      T = y[1],
      IL = y[2];
    d[0] = q.c * T - q.mu2 * E + (q.p1 * E * IL) / (q.g1 + IL) + q.s1;
    d[1] = q.r2 * T * (1 - q.b * T) - (q.a * E * T) / (q.g2 + T);
    d[2] = (q.p2 * E * T) / (q.g3 + T) - q.mu3 * IL + q.s2;
  };
  const times = [0, 100, 200, 250, 300, 350, 400, 500, 600, 700, 800, 900, 1000];
  const REF = [
    [1.0, 100000.00000000003, 1.0],
    [26682.338925050073, 2.543345975378825e-15, 3.393517435312355e-14],
    [1328.435432275943, 3.567406963352024e-11, 2.3692109984649962e-11],
    [296.4140107704244, 2.049286079513247e-7, 3.036739020337147e-8],
    [66.13905269259432, 0.0015378613694266537, 5.0848675184266344e-5],
    [15.92514984073401, 12.249014982634865, 0.09633775706322696],
    [7681.371649100612, 69757.64016320466, 3785.8250256428173],
    [16221.495711632599, 7.70290149709859e-5, 0.000624770504472874],
    [810.5824287898969, 29.682405554663095, 11.681623510921746],
    [63756.931557555545, 0.27020404604421866, 8.61556337755738],
    [3174.2753545928963, 0.030112921932938706, 0.047786262996469854],
    [33355.76314286447, 229780.42058292977, 16603.81731783637],
    [11391.018204313586, 0.00022939381070323462, 0.0013064670914564249],
  ];

  it('switches to Rodas at once and follows the tumor through 1e-15 cells (atol 1e-20 on T): log errors below 1e-3', () => {
    const opts = {
      rtol: Float64Array.of(1e-6, 1e-6, 1e-6),
      atol: Float64Array.of(1e-6, 1e-20, 1e-6),
      nonNegative: Uint8Array.of(1, 1, 1),
    };
    const { s, out } = integrate(auto, kpFast, 0, [1, 1e5, 1], 1000, opts, times);
    const a = s as AutoStepper;
    expect(s.status).toBe('finished');
    expect(a.switches.length).toBe(1);
    expect(a.switches[0].method).toBe('rodas');
    expect(a.switches[0].t).toBeLessThan(1);
    let worst = 0;
    out.forEach((y, k) => {
      for (let i = 0; i < 3; i++) {
        expect(y[i]).toBeGreaterThan(0);
        worst = Math.max(worst, Math.abs(Math.log(y[i] / REF[k][i])));
      }
    });
    expect(worst).toBeLessThan(1e-3); // measured 8.5e-5
    expect(s.counters.steps).toBeLessThan(5000); // measured 1167 steps, 15018 RHS calls
  });
});

describe('auto: switching back, dense output across methods, options', () => {
  // Prothero-Robinson with a stiffness that fades, k(t) = 1e4 e^{-5t} (k < 3 after t ~ 1.6), beside an
  // oscillator that keeps the steps short: exact y0 = cos t, y1 = sin t.
  const fading: Rhs = (t, y, d) => {
    d[0] = -1e4 * Math.exp(-5 * t) * (y[0] - Math.cos(t)) - Math.sin(t);
    d[1] = y[2];
    d[2] = -y[1];
  };

  it('goes to Rodas while stiff, back to DOPRI5 when not, and its dense output is right in every step of either method', () => {
    const o = new Float64Array(3);
    let worst = 0;
    const methods = new Set<string>();
    const { s } = integrate(auto, fading, 0, [1, 0, 1], 10, tol(3, 1e-6, 1e-9), [], (st) => {
      methods.add((st as AutoStepper).method);
      for (let k = 1; k < 10; k++) {
        const tm = st.tOld + (k / 10) * (st.t - st.tOld);
        st.interpolate(tm, o);
        worst = Math.max(worst, Math.abs(o[0] - Math.cos(tm)), Math.abs(o[1] - Math.sin(tm)));
      }
    });
    const a = s as AutoStepper;
    expect(s.status).toBe('finished');
    expect(a.switches.map((w) => w.method)).toEqual(['rodas', 'dopri5']);
    expect(a.switches[0].t).toBeLessThan(0.1);
    expect(a.switches[1].t).toBeGreaterThan(0.5);
    expect(a.switches[1].t).toBeLessThan(3);
    expect(methods).toEqual(new Set(['dopri5', 'rodas']));
    expect(worst).toBeLessThan(5e-6); // measured 2.0e-6
    expect(Math.abs(s.y[0] - Math.cos(10))).toBeLessThan(5e-6);
  });

  it('startWith: rodas continues a stiff segment without a listed switch; counters add up over both methods', () => {
    // Robertson from (about) its state at t = 1, well inside the stiff regime.
    const a = new AutoStepper(
      robertson,
      1,
      Float64Array.of(0.9664597, 3.074e-5, 0.0335096),
      100,
      tol(3, 1e-6, 1e-10, { startWith: 'rodas', firstStep: 1e-3 }),
    );
    expect(a.method).toBe('rodas');
    while (a.step() === 'running');
    expect(a.status).toBe('finished');
    expect(a.switches).toEqual([]);
    expect(a.counters.steps).toBe(a.rodas.counters.steps + a.dopri5.counters.steps);
    expect(a.dopri5.counters.rhsEvaluations).toBe(0);
    expect(a.h).toBeGreaterThan(0);
  });

  it('a nonnegative component never comes out negative across the switches', () => {
    // Stiff decay to zero plus a ramp driven into the bound.
    const f: Rhs = (_t, y, d) => {
      d[0] = -1e5 * y[0];
      d[1] = -1;
      d[2] = y[3];
      d[3] = -y[2];
    };
    let minSeen = Infinity;
    const o = new Float64Array(4);
    const { s } = integrate(
      auto,
      f,
      0,
      [1, 1, 0, 1],
      5,
      tol(4, 1e-6, 1e-9, { nonNegative: Uint8Array.of(1, 1, 0, 0) }),
      [],
      (st) => {
        minSeen = Math.min(minSeen, st.y[0], st.y[1]);
        for (let k = 1; k < 5; k++) {
          st.interpolate(st.tOld + (k / 5) * (st.t - st.tOld), o);
          minSeen = Math.min(minSeen, o[0], o[1]);
        }
      },
    );
    expect(s.status).toBe('finished');
    expect(minSeen).toBeGreaterThanOrEqual(0);
    expect(s.y[1]).toBe(0);
    expect(Math.abs(s.y[2] - Math.sin(5))).toBeLessThan(1e-5);
  });
});
