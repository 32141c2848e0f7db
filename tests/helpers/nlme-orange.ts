// The Orange data set (tests/reference/nlme/orange.json, written by orange.R) as a population fit request:
// logistic growth of the trunk circumference written as an output of time (the model's one state is a
// placeholder the output does not use), log-normal random effect on the asymptote, additive error.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = path.join(path.dirname(path.dirname(fileURLToPath(import.meta.url))), 'reference', 'nlme');

interface RFit { fixed: { lAsym: number; lxmid: number; lscal: number }; se: { lAsym: number; lxmid: number; lscal: number }; omega: number; sigma: number; logLik: number }
export interface OrangeRef {
  trees: { id: string; age: number[]; circumference: number[] }[];
  nlme: RFit & { ranef: Record<string, number> };
  nlmer: RFit;
}
export const orangeRef = (): OrangeRef => JSON.parse(readFileSync(path.join(DIR, 'orange.json'), 'utf8'));

export const LOGISTIC_GROWTH = {
  id: 'logistic-growth', title: 'Logistic growth curve (SSlogis)', timeUnit: 'day',
  parameters: { Asym: { value: 190, unit: 'mm' }, xmid: { value: 700, unit: 'day' }, scal: { value: 350, unit: 'day' } },
  states: { Z: { initial: 0, unit: '1' } },
  odes: { Z: '0' },
  outputs: { circumference: { expr: 'Asym / (1 + exp(-(t - xmid) / scal))', unit: 'mm' } },
};

export function orangeRequest(ref: OrangeRef) {
  const data: { time: number; observable: string; value: number; subject: string }[] = [];
  const subjects: Record<string, { doses: never[] }> = {};
  for (const s of ref.trees) {
    subjects[s.id] = { doses: [] };
    s.age.forEach((t, k) => data.push({ time: t, observable: 'circumference', value: s.circumference[k], subject: s.id }));
  }
  return {
    model: LOGISTIC_GROWTH, data, subjects,
    estimate: { Asym: { initial: 190 }, xmid: { initial: 700 }, scal: { initial: 350 }, sigma: { initial: 10 } },
    error: { model: 'additive' as const },
    solver: { rtol: 1e-8 },
    population: { method: 'focei' as const, omega: { Asym: 0.1 } },
  };
}
