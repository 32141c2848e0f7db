// The design of the FOCE-I simulation study (tests/reference/nlme/simulation-study.ts) and of its small
// unit-test version: a one-compartment IV bolus ODE model, log-normal CL and V, proportional error,
// simulated from the closed form C = D/V·exp(−CL/V·t) with a seeded generator.
import { mulberry32, normalSampler } from '../../src/numerics/random.ts';

export const STUDY_TRUTH = { CL: 5, V: 50, omega_CL: 0.09, omega_V: 0.04, sigmaProp: 0.1 };
export const IV_1CMT = {
  id: 'iv-1cmt', title: 'One-compartment IV bolus',
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
    model: IV_1CMT, data, subjects: subj,
    estimate: { CL: { initial: STUDY_TRUTH.CL * start }, V: { initial: STUDY_TRUTH.V / start }, sigmaProp: { initial: 0.2 } },
    error: { model: 'proportional' as const },
    solver: { rtol: 1e-8 },
    population: { method: 'focei' as const, omega: { CL: 0.2, V: 0.2 } },
  };
}
