// The benchmark workloads of bench/workloads.ts as inline models (Contract 1, docs/architecture.md)
// and scenarios (Contract 2). The peers in bench/peers/ implement the same equations by hand.
import type { ScenarioInput } from '../src/scenario/schema.ts';

const p = (value: number) => ({ value });

/** W1: Kirschner-Panetta 1998, c = 0.02 (limit cycle through T ~ 1e-4 cells). */
export const KP98 = {
  id: 'bench-kp98',
  title: 'Kirschner-Panetta 1998 (W1)',
  timeUnit: 'day',
  parameters: {
    c: p(0.02),
    mu2: p(0.03),
    p1: p(0.1245),
    g1: p(2e7),
    s1: p(0),
    r2: p(0.18),
    b: p(1e-9),
    a: p(1),
    g2: p(1e5),
    p2: p(5),
    g3: p(1e3),
    mu3: p(10),
    s2: p(0),
  },
  states: { E: { initial: 1 }, T: { initial: 1e5 }, IL: { initial: 1 } },
  odes: {
    E: 'c*T - mu2*E + p1*E*IL/(g1 + IL) + s1',
    T: 'r2*T*(1 - b*T) - a*E*T/(g2 + T)',
    IL: 'p2*E*T/(g3 + T) - mu3*IL + s2',
  },
};

/** W2: KP98 + exhaustion (X) + two-compartment anti-PD-1 PK (Ac, Ap). State order E, X, T, IL, Ac, Ap. */
export const CHECKPOINT = {
  id: 'bench-checkpoint',
  title: 'Checkpoint model (W2)',
  timeUnit: 'day',
  parameters: {
    ...KP98.parameters,
    kex: p(0.05),
    gx: p(1e5),
    krev: p(0.1),
    dX: p(0.02),
    CL: p(0.22),
    V1: p(3.48),
    Q: p(0.795),
    V2: p(4.06),
    EC50: p(0.5),
  },
  states: {
    E: { initial: 1 },
    X: { initial: 0 },
    T: { initial: 1e5 },
    IL: { initial: 1 },
    Ac: { initial: 0 },
    Ap: { initial: 0 },
  },
  assignments: {
    occ: '(Ac/V1)/(Ac/V1 + EC50)',
    exh: 'kex*E*T/(gx + T)*(1 - occ)',
    rev: 'krev*occ*X',
  },
  odes: {
    E: 'c*T - mu2*E + p1*E*IL/(g1 + IL) + s1 - exh + rev',
    X: 'exh - rev - dX*X',
    T: 'r2*T*(1 - b*T) - a*E*T/(g2 + T)',
    IL: 'p2*E*T/(g3 + T) - mu3*IL + s2',
    Ac: '-(CL/V1)*Ac - (Q/V1)*Ac + (Q/V2)*Ap',
    Ap: '(Q/V1)*Ac - (Q/V2)*Ap',
  },
};

export const ROBERTSON = {
  id: 'bench-robertson',
  title: 'Robertson (W4)',
  timeUnit: 's',
  parameters: { k1: p(0.04), k2: p(3e7), k3: p(1e4) },
  states: { y1: { initial: 1 }, y2: { initial: 0 }, y3: { initial: 0 } },
  odes: { y1: '-k1*y1 + k3*y2*y3', y2: 'k1*y1 - k3*y2*y3 - k2*y2^2', y3: 'k2*y2^2' },
};

export const VANDERPOL = {
  id: 'bench-vanderpol',
  title: 'Van der Pol, mu = 1000 (W4)',
  timeUnit: 's',
  parameters: { mu: p(1000) },
  states: { y1: { initial: 2 }, y2: { initial: 0 } },
  odes: { y1: 'y2', y2: 'mu*(1 - y1^2)*y2 - y1' },
};

export type Method = 'auto' | 'nonstiff' | 'stiff' | 'odex' | 'dopri5' | 'rodas';

export function w1Scenario(method: Method): ScenarioInput {
  return {
    model: KP98,
    times: { start: 0, end: 1000, step: 1 },
    solver: { method, rtol: 1e-6, atol: 1e-6 },
    metrics: false,
  };
}

export const W2_DOSES = [{ target: 'Ac', amount: 200, start: 0, every: 21, count: 18 }];

export function w2Scenario(method: Method): ScenarioInput {
  return {
    model: CHECKPOINT,
    times: { start: 0, end: 365, step: 1 },
    doses: W2_DOSES,
    solver: { method, rtol: 1e-6, atol: 1e-6 },
    metrics: false,
  };
}

/** W4 output times: 0, 0.4·10^k below tend, tend. */
export function robertsonTimes(tEnd: number): number[] {
  const t = [0];
  for (let k = 0; k < 40; k++) {
    const v = 0.4 * 10 ** k;
    if (v < tEnd) t.push(v);
  }
  t.push(tEnd);
  return t;
}

export interface StiffCase {
  id: string;
  model: Record<string, unknown>;
  times: number[];
  rtol: number;
  atol: number;
}

export const STIFF_CASES: StiffCase[] = [
  { id: 'robertson_1e5', model: ROBERTSON, times: robertsonTimes(1e5), rtol: 1e-6, atol: 1e-10 },
  { id: 'robertson_4e10', model: ROBERTSON, times: robertsonTimes(4e10), rtol: 1e-6, atol: 1e-10 },
  { id: 'vanderpol', model: VANDERPOL, times: [0, 500, 1000, 1500, 2000, 2500, 3000], rtol: 1e-6, atol: 1e-6 },
];

/** W3 stored η (bench/reference/w3_etas.json): names in column order, one row per subject. */
export interface W3Etas {
  names: string[];
  etas: number[][];
}

/**
 * W3 as a population request (POST /api/jobs kind "population", `immunopd population`): W2 for the first n
 * subjects of the stored η (population.etas, so the same subjects as every peer), log-normal with ω = 0.3
 * on c, kex, EC50 and r2, the quantiles (5%, 50%, 95%) and mean of `series` over the daily grid (default:
 * every state, what this model, which declares no tumor role, summarises by default).
 */
export function w3Request(
  method: Method,
  E: W3Etas,
  n: number,
  series: string[] = Object.keys(CHECKPOINT.states),
): Record<string, unknown> {
  return {
    ...w2Scenario(method),
    population: {
      n,
      seed: 1,
      omega: Object.fromEntries(E.names.map((k) => [k, 0.3])),
      etas: E.etas.slice(0, n),
      series,
    },
  };
}
