// The Theoph data set (tests/reference/nlme/theoph.json, written by theoph.R) as a population fit
// request: a one-compartment model with first-order absorption written as an inline ODE model (SSfol's
// parameters: ke, ka, Cl; concentration = amount·ke/Cl), dose in mg/kg into the depot.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = path.join(path.dirname(path.dirname(fileURLToPath(import.meta.url))), 'reference', 'nlme');

export interface TheophRef {
  subjects: { id: string; dose: number; wt: number; time: number[]; conc: number[] }[];
  diag2: NlmeSummary;
  nlmer: {
    fixed: Record<string, number>;
    se: Record<string, number>;
    omega: { lKa: number; lCl: number };
    sigma: number;
    logLik: number;
  };
  block2: NlmeSummary;
  medianSeconds: number;
}
export interface NlmeSummary {
  fixed: Record<string, number>;
  se: Record<string, number>;
  omega: number[][];
  omegaNames: string[];
  sigma: number;
  logLik: number;
  ranef: Record<string, Record<string, number>>;
  ranefIds: string[];
}

export const theophRef = (): TheophRef => JSON.parse(readFileSync(path.join(DIR, 'theoph.json'), 'utf8'));

export const ORAL_1CMT = {
  id: 'oral-1cmt',
  title: 'One-compartment model, first-order absorption',
  timeUnit: 'h',
  parameters: {
    ka: { value: 1.5, unit: '1/h' },
    ke: { value: 0.08, unit: '1/h' },
    Cl: { value: 0.04, unit: 'L/h/kg' },
  },
  states: { A: { initial: 0, unit: 'mg/kg' }, C: { initial: 0, unit: 'mg/kg' } },
  odes: { A: '-ka * A', C: 'ka * A - ke * C' },
  outputs: { conc: { expr: 'C * ke / Cl', unit: 'mg/L' } },
};

export function theophRequest(
  ref: TheophRef,
  omega: unknown = { ka: 0.2, Cl: 0.1 },
  extra: Record<string, unknown> = {},
) {
  const data: { time: number; observable: string; value: number; subject: string }[] = [];
  const subjects: Record<string, { doses: { target: string; amount: number; start: number }[]; weight: number }> = {};
  for (const s of ref.subjects) {
    subjects[s.id] = { doses: [{ target: 'A', amount: s.dose, start: 0 }], weight: s.wt };
    s.time.forEach((t, k) => data.push({ time: t, observable: 'conc', value: s.conc[k], subject: s.id }));
  }
  return {
    model: ORAL_1CMT,
    data,
    subjects,
    estimate: { ka: { initial: 1.6 }, ke: { initial: 0.08 }, Cl: { initial: 0.04 }, sigma: { initial: 0.7 } },
    error: { model: 'additive' as const },
    solver: { rtol: 1e-8 },
    population: { method: 'focei' as const, omega, ...extra },
  };
}
