// Two growth data sets that ship with R as population fit requests, each model written as an output of
// time (the model's one state is a placeholder the output does not use), log-normal random effect on the
// asymptote, additive error: Orange (tests/reference/nlme/orange.json, written by orange.R; logistic
// growth of the trunk circumference) and Loblolly (loblolly.json, loblolly.R; asymptotic regression of
// pine heights, with R0 on the linear scale).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = path.join(path.dirname(path.dirname(fileURLToPath(import.meta.url))), 'reference', 'nlme');

interface RFit<K extends string> {
  fixed: Record<K, number>;
  se: Record<K, number>;
  omega: number;
  sigma: number;
  logLik: number;
}
export interface OrangeRef {
  trees: { id: string; age: number[]; circumference: number[] }[];
  nlme: RFit<'lAsym' | 'lxmid' | 'lscal'> & { ranef: Record<string, number> };
  nlmer: RFit<'lAsym' | 'lxmid' | 'lscal'>;
}
export const orangeRef = (): OrangeRef => JSON.parse(readFileSync(path.join(DIR, 'orange.json'), 'utf8'));

export const LOGISTIC_GROWTH = {
  id: 'logistic-growth',
  title: 'Logistic growth curve (SSlogis)',
  timeUnit: 'day',
  parameters: {
    Asym: { value: 190, unit: 'mm' },
    xmid: { value: 700, unit: 'day' },
    scal: { value: 350, unit: 'day' },
  },
  states: { Z: { initial: 0, unit: '1' } },
  odes: { Z: '0' },
  outputs: { circumference: { expr: 'Asym / (1 + exp(-(t - xmid) / scal))', unit: 'mm' } },
};

export function orangeRequest(ref: OrangeRef) {
  const data: { time: number; observable: string; value: number; subject: string }[] = [];
  const subjects: Record<string, { doses: never[] }> = {};
  for (const s of ref.trees) {
    subjects[s.id] = { doses: [] };
    s.age.forEach((t, k) =>
      data.push({ time: t, observable: 'circumference', value: s.circumference[k], subject: s.id }),
    );
  }
  return {
    model: LOGISTIC_GROWTH,
    data,
    subjects,
    estimate: { Asym: { initial: 190 }, xmid: { initial: 700 }, scal: { initial: 350 }, sigma: { initial: 10 } },
    error: { model: 'additive' as const },
    solver: { rtol: 1e-8 },
    population: { method: 'focei' as const, omega: { Asym: 0.1 } },
  };
}

export interface LoblollyRef {
  seeds: { id: string; age: number[]; height: number[] }[];
  nlme: RFit<'lAsym' | 'R0' | 'lrc'> & { ranef: Record<string, number> };
  nlmer: RFit<'lAsym' | 'R0' | 'lrc'>;
}
export const loblollyRef = (): LoblollyRef => JSON.parse(readFileSync(path.join(DIR, 'loblolly.json'), 'utf8'));

export const ASYMPTOTIC_REGRESSION = {
  id: 'asymptotic-regression',
  title: 'Asymptotic regression (SSasymp)',
  timeUnit: 'year',
  parameters: {
    Asym: { value: 95, unit: 'ft units' },
    R0: { value: -8, unit: 'ft units' },
    rc: { value: 0.04, unit: '1/year' },
  },
  states: { Z: { initial: 0, unit: '1' } },
  odes: { Z: '0' },
  outputs: { height: { expr: 'Asym + (R0 - Asym) * exp(-rc * t)', unit: 'ft units' } },
};

export function loblollyRequest(ref: LoblollyRef) {
  const data: { time: number; observable: string; value: number; subject: string }[] = [];
  const subjects: Record<string, { doses: never[] }> = {};
  for (const s of ref.seeds) {
    subjects[s.id] = { doses: [] };
    s.age.forEach((t, k) => data.push({ time: t, observable: 'height', value: s.height[k], subject: s.id }));
  }
  return {
    model: ASYMPTOTIC_REGRESSION,
    data,
    subjects,
    estimate: {
      Asym: { initial: 95 },
      R0: { initial: -8, scale: 'linear' as const },
      rc: { initial: 0.04 },
      sigma: { initial: 1 },
    },
    error: { model: 'additive' as const },
    solver: { rtol: 1e-8 },
    population: { method: 'focei' as const, omega: { Asym: 0.01 } },
  };
}
