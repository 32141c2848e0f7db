// Dosing (rate, duration, lag, bioavailability, repeats, steady state, BSA, time-varying covariates,
// rules) checked against closed forms (tests/helpers/linear-pk.ts) to 1e-8 relative.
import { describe, expect, it } from 'vitest';
import { simulate } from '../src/simulate.ts';
import { bodySurfaceArea } from '../src/dosing/bsa.ts';
import { simulate1, steadyState1, twoCpt, oral1, type Event1 } from './helpers/linear-pk.ts';

const TOL = 1e-8;
const solver = { rtol: 1e-12, atol: 1e-14 };

const ka = 1.2,
  V = 30;
const kOf = (wt: number) => (4 * Math.pow(wt / 70, 0.75)) / V;

function expectClose(got: number[], want: number[], what: string) {
  got.forEach((g, i) => {
    const rel = Math.abs(g - want[i]) / Math.abs(want[i]);
    if (!(rel <= TOL))
      throw new Error(`${what}[${i}]: got ${g}, closed form ${want[i]} (relative error ${rel.toExponential(2)})`);
  });
}

describe('dosing against closed forms (1e-8 relative)', () => {
  it('oral with lag and F, IV bolus, infusion by rate and by duration, repeats, time-varying weight on allometric CL', () => {
    const times = [0.5, 1, 2, 3.3, 5, 7.9, 12, 12.2, 15, 20, 24.7, 30, 36, 47.5];
    const r = simulate({
      model: oral1,
      times,
      solver,
      metrics: false,
      covariates: { WT: 60 },
      covariateChanges: [
        { time: 10, values: { WT: 85 } },
        { time: 26, values: { WT: 72 } },
      ],
      doses: [
        { target: 'depot', amount: 100, start: 0, every: 12, count: 4 }, // F 0.7, lag 0.4 from the model
        { target: 'central', amount: 50, start: 6 }, // IV bolus
        { target: 'central', amount: 40, start: 14, rate: 20 }, // 2 h infusion by rate
        { target: 'central', amount: 30, start: 21, duration: 3 }, // infusion by duration
        { target: 'central', amount: 60, start: 33, rate: 'model' }, // RATE = -1: R1 = 25
        { target: 'central', amount: 45, start: 40, duration: 'model' }, // RATE = -2: D1 = 1.5
      ],
    });
    const ev: Event1[] = [
      { t: 10, k: kOf(85) },
      { t: 26, k: kOf(72) },
    ];
    for (let j = 0; j < 4; j++) ev.push({ t: 12 * j + 0.4, bolus: { cmt: 'd', amount: 70 } });
    ev.push({ t: 6, bolus: { cmt: 'c', amount: 50 } });
    const inf = (t: number, R: number, T: number) =>
      ev.push({ t, rate: { cmt: 'c', delta: R } }, { t: t + T, rate: { cmt: 'c', delta: -R } });
    inf(14, 20, 2);
    inf(21, 10, 3);
    inf(33, 25, 60 / 25);
    inf(40, 30, 1.5);
    const ref = simulate1(ev, ka, kOf(60), times);
    expectClose(
      r.outputs.CP,
      ref.map((x) => x[1] / V),
      'CP',
    );
    expectClose(
      r.states.depot.slice(0, 13),
      ref.slice(0, 13).map((x) => x[0]),
      'depot',
    );
  });

  it('steady state (SS=1): bolus, oral, infusion shorter and longer than the interval, constant infusion: peaks and troughs', () => {
    const k = kOf(70);
    const II = 12;
    const cases: { dose: Record<string, unknown>; events: Event1[]; after: Event1[] }[] = [
      { dose: { target: 'central', amount: 100 }, events: [{ t: 0, bolus: { cmt: 'c', amount: 100 } }], after: [] },
      {
        dose: { target: 'depot', amount: 100, lag: 0 },
        events: [{ t: 0, bolus: { cmt: 'd', amount: 70 } }],
        after: [],
      },
      {
        dose: { target: 'central', amount: 100, duration: 2 },
        events: [
          { t: 0, rate: { cmt: 'c', delta: 50 } },
          { t: 2, rate: { cmt: 'c', delta: -50 } },
        ],
        after: [],
      },
      // 30 h infusion every 12 h: three infusions overlap.
      {
        dose: { target: 'central', amount: 90, duration: 30 },
        events: [0, -12, -24].flatMap((s) => [
          { t: Math.max(s, 0), rate: { cmt: 'c' as const, delta: 3 } },
          { t: s + 30, rate: { cmt: 'c' as const, delta: -3 } },
        ]),
        after: [],
      },
    ];
    for (const c of cases) {
      const times = [0, 0.5, 1, 2, 5, 11.999, 12];
      const r = simulate({
        model: oral1,
        times,
        solver,
        metrics: false,
        doses: [{ ...c.dose, start: 0, every: II, count: 2, steadyState: true }],
      });
      // Closed form: pre-dose state of the periodic regime, then one interval with the dose (and the next at 12).
      const oneDose: Event1[] = [{ t: 0, bolus: undefined }, ...c.events.filter((e) => e.t >= 0)];
      const single =
        c.dose.duration === 30
          ? [
              { t: 0, rate: { cmt: 'c' as const, delta: 9 } },
              { t: 6, rate: { cmt: 'c' as const, delta: -3 } },
              { t: 18, rate: { cmt: 'c' as const, delta: -3 } },
              { t: 30, rate: { cmt: 'c' as const, delta: -3 } },
            ]
          : oneDose;
      const pre = steadyState1(ka, k, II, single);
      const next = (c.events.map((e) => ({ ...e, t: e.t + II })) as Event1[]).filter((e) => e.t >= II);
      const ref = simulate1(
        [...single, ...(c.dose.duration === 30 ? [{ t: 12, rate: { cmt: 'c' as const, delta: 3 } }] : next)],
        ka,
        k,
        times,
        0,
        pre,
      );
      expectClose(
        r.states.central,
        ref.map((x) => x[1]),
        `SS ${JSON.stringify(c.dose)} central`,
      );
    }
    // Constant infusion at steady state (AMT 0, RATE 10): central = R/k, and it keeps running.
    const r = simulate({
      model: oral1,
      times: [0, 5, 50],
      solver,
      metrics: false,
      doses: [{ target: 'central', amount: 0, rate: 10, start: 0, steadyState: true }],
    });
    expectClose(r.states.central, [10 / k, 10 / k, 10 / k], 'constant infusion');
  });

  it('SS=2 adds the steady state to what is there (superposition)', () => {
    const k = kOf(70);
    const r = simulate({
      model: oral1,
      times: [24, 25, 30],
      solver,
      metrics: false,
      doses: [
        { target: 'central', amount: 80, start: 0 },
        { target: 'central', amount: 100, start: 24, every: 12, steadyState: 2 },
      ],
    });
    const pre = steadyState1(ka, k, 12, [{ t: 0, bolus: { cmt: 'c', amount: 100 } }]);
    const want = [24, 25, 30].map((t) => 80 * Math.exp(-k * t) + (pre[1] + 100) * Math.exp(-k * (t - 24)));
    expectClose(r.states.central, want, 'SS=2');
  });

  it('two compartments: bolus, infusion and steady-state peaks and troughs', () => {
    const k10 = 0.15,
      k12 = 0.4,
      k21 = 0.25;
    const model = {
      id: 'iv-2cpt-test',
      parameters: { k10: { value: k10 }, k12: { value: k12 }, k21: { value: k21 } },
      states: { A1: { unit: 'mg' }, A2: { unit: 'mg' } },
      odes: { A1: '-(k10+k12)*A1 + k21*A2', A2: 'k12*A1 - k21*A2' },
    };
    const m = twoCpt(k10, k12, k21);
    const times = [0.25, 1, 3, 6, 10, 17, 24];
    const r = simulate({
      model,
      times,
      solver,
      metrics: false,
      doses: [
        { target: 'A1', amount: 100, start: 0 },
        { target: 'A1', amount: 50, start: 8, duration: 4 },
      ],
    });
    expectClose(
      r.states.A1,
      times.map((t) => m.bolus(100, t) + m.infusion(12.5, 4, t - 8)),
      '2-cpt A1',
    );
    const ss = simulate({
      model,
      times: [0, 0.5, 3, 11.5, 12],
      solver,
      metrics: false,
      doses: [{ target: 'A1', amount: 100, start: 0, every: 12, count: 2, steadyState: 1 }],
    });
    expectClose(
      ss.states.A1,
      [0, 0.5, 3, 11.5, 0].map((tau) => m.bolusSS(100, 12, tau)),
      '2-cpt SS peak/trough',
    );
  });

  it('amountPerM2 with DuBois and Mosteller body surface area', () => {
    // Mosteller: sqrt(180·80/3600) = 2 m²; DuBois: 0.007184·80^0.425·180^0.725.
    expect(bodySurfaceArea(180, 80, 'mosteller')).toBe(2);
    const dubois = 0.007184 * Math.pow(80, 0.425) * Math.pow(180, 0.725);
    expect(bodySurfaceArea(180, 80, 'dubois')).toBe(dubois);
    expect(dubois).toBeCloseTo(1.9964, 3);
    for (const f of ['mosteller', 'dubois'] as const) {
      const r = simulate({
        model: oral1,
        times: [0, 1],
        solver,
        metrics: false,
        height: 180,
        weight: 80,
        bsaFormula: f,
        doses: [{ target: 'central', amountPerM2: 50 }],
      });
      expect(r.doses[0].amount).toBe(50 * bodySurfaceArea(180, 80, f));
      expectClose(
        r.states.central,
        [0, 1].map((t) => 50 * bodySurfaceArea(180, 80, f) * Math.exp(-kOf(70) * t)),
        'BSA dose',
      );
    }
    expect(() => simulate({ model: oral1, times: [0, 1], doses: [{ target: 'central', amountPerM2: 50 }] })).toThrow(
      /height/,
    );
  });

  it('rules: skip while the concentration is high, reduce, stop and resume; what was given is reported', () => {
    const k = kOf(70);
    const r = simulate({
      model: oral1,
      times: [0, 48],
      solver,
      metrics: false,
      doses: [{ target: 'central', amount: 100, start: 0, every: 4, count: 12 }],
      rules: [
        { when: 'CP > 3', action: 'skip' },
        { when: 'CP > 2', action: 'reduce', factor: 0.5 },
        { when: 't >= 40', action: 'stop' },
      ],
    });
    // Replay the decisions with the closed form.
    let a = 0,
      t = 0;
    const want: { time: number; amount: number; status: string }[] = [];
    for (let j = 0; j < 12; j++) {
      const td = 4 * j;
      a *= Math.exp(-k * (td - t));
      t = td;
      const cp = a / V;
      let status = 'given',
        amt = 100;
      if (td >= 40) status = 'stopped';
      else if (cp > 3) status = 'skipped';
      else if (cp > 2) {
        status = 'reduced';
        amt = 50;
      }
      if (status === 'given' || status === 'reduced') a += amt;
      want.push({ time: td, amount: amt, status });
    }
    expect(r.doses.map((d) => ({ time: d.time, amount: d.amount, status: d.status }))).toEqual(want);
    expect(new Set(want.map((w) => w.status))).toEqual(new Set(['given', 'skipped', 'reduced', 'stopped']));
    expectClose([r.states.central[1]], [a * Math.exp(-k * (48 - t))], 'after rules');
  });

  it('a dose before the start: applied from its time with explicit output times, refused with a grid', () => {
    const r = simulate({
      model: oral1,
      times: [0, 2],
      solver,
      metrics: false,
      doses: [{ target: 'central', amount: 100, start: -5 }],
    });
    expectClose(
      r.states.central,
      [0, 2].map((t) => 100 * Math.exp(-kOf(70) * (t + 5))),
      'early dose',
    );
    expect(() =>
      simulate({ model: oral1, times: { start: 0, end: 2 }, doses: [{ target: 'central', amount: 100, start: -5 }] }),
    ).toThrow(/before the simulation start/);
  });
});
