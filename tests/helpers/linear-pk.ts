// Closed-form (analytic) reference for linear one- and two-compartment models, independent of the ODE
// solvers: exact propagation of the linear system between events with piecewise-constant input rates,
// exact periodic steady states from the affine dose-to-dose map, and the classical biexponential forms.

/** One-compartment with first-order absorption: depot Ad, central Ac; Ad' = −ka·Ad + Rd, Ac' = ka·Ad − k·Ac + Rc. */
export function propagate1(
  ad: number,
  ac: number,
  ka: number,
  k: number,
  rd: number,
  rc: number,
  s: number,
): [number, number] {
  const adStar = rd / ka;
  const acStar = (rd + rc) / k;
  const u = ad - adStar;
  const eK = Math.exp(-k * s);
  const eA = Math.exp(-ka * s);
  const adS = adStar + u * eA;
  const acS =
    acStar + (ac - acStar) * eK + (Math.abs(ka - k) > 1e-12 ? ((ka * u) / (ka - k)) * (eK - eA) : ka * u * s * eK);
  return [adS, acS];
}

export interface Event1 {
  t: number;
  /** Bolus into depot (d) or central (c). */
  bolus?: { cmt: 'd' | 'c'; amount: number };
  /** Change of input rate into central or depot. */
  rate?: { cmt: 'd' | 'c'; delta: number };
  /** New elimination rate constant from t on. */
  k?: number;
}

/** Values of (Ad, Ac) at `times` (post-event at event times) for events sorted by t, starting from zero at t0. */
export function simulate1(
  events: Event1[],
  ka: number,
  k0: number,
  times: number[],
  t0 = 0,
  start: [number, number] = [0, 0],
): [number, number][] {
  const evs = [...events].sort((a, b) => a.t - b.t);
  const out: [number, number][] = [];
  let [ad, ac] = start;
  let t = t0;
  let k = k0;
  let rd = 0;
  let rc = 0;
  let i = 0;
  for (const to of times) {
    while (i < evs.length && evs[i].t <= to) {
      [ad, ac] = propagate1(ad, ac, ka, k, rd, rc, evs[i].t - t);
      t = evs[i].t;
      const e = evs[i++];
      if (e.bolus) {
        if (e.bolus.cmt === 'd') ad += e.bolus.amount;
        else ac += e.bolus.amount;
      }
      if (e.rate) {
        if (e.rate.cmt === 'd') rd += e.rate.delta;
        else rc += e.rate.delta;
      }
      if (e.k !== undefined) k = e.k;
    }
    out.push(propagate1(ad, ac, ka, k, rd, rc, to - t));
  }
  return out;
}

/** Pre-dose periodic steady state (Ad, Ac) of a dose repeated every II, from the affine map x → M x + c. */
export function steadyState1(ka: number, k: number, II: number, dose: Event1[]): [number, number] {
  const map = (x: [number, number]) => simulate1(dose, ka, k, [II], 0, x)[0];
  const c = map([0, 0]);
  const m1 = map([1, 0]);
  const m2 = map([0, 1]);
  // M = [[m1-c, m2-c]] (columns); solve (I − M) x = c.
  const a11 = 1 - (m1[0] - c[0]),
    a12 = -(m2[0] - c[0]);
  const a21 = -(m1[1] - c[1]),
    a22 = 1 - (m2[1] - c[1]);
  const det = a11 * a22 - a12 * a21;
  return [(c[0] * a22 - a12 * c[1]) / det, (a11 * c[1] - a21 * c[0]) / det];
}

/** Two-compartment IV (central A1, peripheral A2): macro constants α > β. */
export function twoCpt(k10: number, k12: number, k21: number) {
  const s = k10 + k12 + k21;
  const d = Math.sqrt(s * s - 4 * k10 * k21);
  const alpha = (s + d) / 2;
  const beta = (s - d) / 2;
  // Central amount after a unit bolus: c1 e^{−αt} + c2 e^{−βt}.
  const c1 = (alpha - k21) / (alpha - beta);
  const c2 = (k21 - beta) / (alpha - beta);
  /** Central amount at t after a bolus D at 0. */
  const bolus = (D: number, t: number) => (t < 0 ? 0 : D * (c1 * Math.exp(-alpha * t) + c2 * Math.exp(-beta * t)));
  /** Central amount at t for an infusion of rate R over [0, T]. */
  const infusion = (R: number, T: number, t: number) => {
    if (t <= 0) return 0;
    const term = (c: number, l: number) =>
      (c / l) * (1 - Math.exp(-l * Math.min(t, T))) * Math.exp(-l * Math.max(0, t - T));
    return R * (term(c1, alpha) + term(c2, beta));
  };
  /** Central amount at τ ∈ [0, II) after the last bolus D, at steady state with interval II. */
  const bolusSS = (D: number, II: number, tau: number) =>
    D *
    ((c1 * Math.exp(-alpha * tau)) / (1 - Math.exp(-alpha * II)) +
      (c2 * Math.exp(-beta * tau)) / (1 - Math.exp(-beta * II)));
  return { alpha, beta, bolus, infusion, bolusSS };
}

/** One compartment with first-order absorption, allometric clearance on a weight covariate, F and ALAG on the depot, R/D on central. */
export const oral1 = {
  id: 'oral-1cpt-test',
  parameters: {
    ka: { value: 1.2 },
    CL: { value: 4 },
    V: { value: 30 },
    F1: { value: 0.7 },
    ALAG1: { value: 0.4 },
    R1: { value: 25 },
    D1: { value: 1.5 },
  },
  covariates: { WT: { value: 70, unit: 'kg' } },
  states: { depot: { unit: 'mg' }, central: { unit: 'mg' } },
  assignments: { CLi: 'CL*(WT/70)^0.75' },
  odes: { depot: '-ka*depot', central: 'ka*depot - CLi/V*central' },
  outputs: { CP: 'central/V' },
  dosing: { depot: { bioavailability: 'F1', lag: 'ALAG1' }, central: { rate: 'R1', duration: 'D1' } },
};
