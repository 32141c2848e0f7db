// The design of the FOCE-I simulation study (tests/reference/nlme/simulation-study.ts) and of its small
// unit-test version: a one-compartment IV bolus ODE model, log-normal CL and V, proportional error,
// simulated from the closed form C = D/V·exp(−CL/V·t) with a seeded generator.
import { mulberry32, normalSampler } from '../../src/numerics/random.ts';

export const STUDY_TRUTH = { CL: 5, V: 50, omega_CL: 0.09, omega_V: 0.04, sigmaProp: 0.1 };
export const IV_1CMT = {
  id: 'iv-1cmt',
  title: 'One-compartment IV bolus',
  timeUnit: 'h',
  parameters: { CL: { value: 5, unit: 'L/h' }, V: { value: 50, unit: 'L' } },
  states: { A: { initial: 0, unit: 'mg' } },
  odes: { A: '-CL / V * A' },
  outputs: { conc: { expr: 'A / V', unit: 'mg/L' } },
};
export const STUDY_TIMES = [0.5, 1, 2, 4, 8, 12];

export function simulateStudy(seed: number, subjects = 30, start = 1.5) {
  const z = normalSampler(mulberry32(seed));
  const data: { time: number; observable: string; value: number; subject: string }[] = [];
  const subj: Record<string, { doses: { target: string; amount: number; start: number }[] }> = {};
  for (let i = 1; i <= subjects; i++) {
    const id = `S${i}`;
    const CL = STUDY_TRUTH.CL * Math.exp(Math.sqrt(STUDY_TRUTH.omega_CL) * z());
    const V = STUDY_TRUTH.V * Math.exp(Math.sqrt(STUDY_TRUTH.omega_V) * z());
    subj[id] = { doses: [{ target: 'A', amount: 100, start: 0 }] };
    for (const t of STUDY_TIMES) {
      const c = (100 / V) * Math.exp((-CL / V) * t);
      data.push({ time: t, observable: 'conc', value: c * (1 + STUDY_TRUTH.sigmaProp * z()), subject: id });
    }
  }
  return {
    model: IV_1CMT,
    data,
    subjects: subj,
    estimate: {
      CL: { initial: STUDY_TRUTH.CL * start },
      V: { initial: STUDY_TRUTH.V / start },
      sigmaProp: { initial: 0.2 },
    },
    error: { model: 'proportional' as const },
    solver: { rtol: 1e-8 },
    population: { method: 'focei' as const, omega: { CL: 0.2, V: 0.2 } },
  };
}

/**
 * A tumour-growth-inhibition trial: 30 subjects of the tgi-logistic model (V0 5e7 cells, K 1e9, kel 0.2/day),
 * half untreated and half dosed (10 mg into Cd on days 10, 17, …, 38), 4 tumour sizes each on a staggered
 * sparse schedule, log-normal r and kKill (ω² 0.04 and 0.09), 10 % log-normal measurement error.
 */
export const TGI_TRUTH = { r: 0.1, kKill: 0.02, omega_r: 0.04, omega_kKill: 0.09, sigma: 0.1 };
export function simulateTgi(
  seed: number,
  simulate: (s: unknown) => { times: number[]; states: Record<string, number[]> },
) {
  const z = normalSampler(mulberry32(seed));
  const doses = [{ target: 'Cd', amount: 10, start: 10, every: 7, count: 5 }];
  const data: { time: number; observable: string; value: number; subject: string }[] = [];
  const subjects: Record<string, { doses: typeof doses | never[] }> = {};
  for (let i = 0; i < 30; i++) {
    const id = `T${i + 1}`;
    const treated = i % 2 === 1;
    const r = TGI_TRUTH.r * Math.exp(Math.sqrt(TGI_TRUTH.omega_r) * z());
    const kKill = TGI_TRUTH.kKill * Math.exp(Math.sqrt(TGI_TRUTH.omega_kKill) * z());
    const times = [7, 21, 35, 49].map((t) => t + (i % 4));
    const sim = simulate({
      model: 'tgi-logistic',
      parameters: { r, kKill, V0: 5e7, kel: 0.2 },
      doses: treated ? doses : [],
      times,
      solver: { rtol: 1e-8 },
    });
    subjects[id] = { doses: treated ? doses : [] };
    sim.times.forEach((t, k) =>
      data.push({ time: t, observable: 'V', value: sim.states.V[k] * Math.exp(TGI_TRUTH.sigma * z()), subject: id }),
    );
  }
  return {
    model: 'tgi-logistic',
    parameters: { V0: 5e7, kel: 0.2 },
    data,
    subjects,
    estimate: { r: { initial: 0.15 }, kKill: { initial: 0.01 }, sigma: { initial: 0.2 } },
    error: { model: 'additive' as const, transform: 'log' as const },
    solver: { rtol: 1e-8 },
    population: { method: 'focei' as const, omega: { r: 0.1, kKill: 0.1 } },
  };
}
