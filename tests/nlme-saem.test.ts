// SAEM (src/analysis/nlme/saem.ts) against FOCE-I on a well-posed simulated design (30 subjects × 6
// samples, log-normal CL and V, proportional error): the two methods agree on θ within 3 %, Ω within
// 15 %, σ within 5 %; the importance-sampling −2 log L is within 2 of FOCE-I's Laplace value; the same
// seed gives the same numbers; a fixed effect without η is refused.
import { describe, it, expect } from 'vitest';
import { fitPopulation } from '../src/analysis/nlme/index.ts';
import { InputError } from '../src/errors.ts';
import { simulateStudy } from './helpers/nlme-study.ts';
import { theophRef, theophRequest } from './helpers/nlme-theoph.ts';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
const base = simulateStudy(7);
const saemReq = {
  ...base,
  population: {
    method: 'saem' as const,
    omega: { CL: 0.2, V: 0.2 },
    covariance: 'none' as const,
    saem: { burn: 80, smooth: 60, importanceSamples: 400, seed: 5 },
  },
};

describe('SAEM', () => {
  it('agrees with FOCE-I on a well-posed problem and is reproducible with its seed', () => {
    const f = fitPopulation({
      ...base,
      population: { method: 'focei', omega: { CL: 0.2, V: 0.2 }, covariance: 'none' },
    });
    const s = fitPopulation(saemReq);
    expect(s.method).toBe('saem');
    expect(rel(s.theta.CL.value, f.theta.CL.value)).toBeLessThan(0.03);
    expect(rel(s.theta.V.value, f.theta.V.value)).toBeLessThan(0.03);
    expect(rel(s.omega.matrix[0][0], f.omega.matrix[0][0])).toBeLessThan(0.15);
    expect(rel(s.omega.matrix[1][1], f.omega.matrix[1][1])).toBeLessThan(0.15);
    expect(rel(s.sigma.sigmaProp!.value, f.sigma.sigmaProp!.value)).toBeLessThan(0.05);
    expect(Math.abs(s.minus2LogLikelihood - f.minus2LogLikelihood)).toBeLessThan(2);
    const again = fitPopulation(saemReq);
    expect(again.theta.CL.value).toBe(s.theta.CL.value);
    expect(again.minus2LogLikelihood).toBe(s.minus2LogLikelihood);
  }, 300_000);
  it('refuses a fixed effect without a random effect, naming the field', () => {
    const req = theophRequest(theophRef(), { ka: 0.2, Cl: 0.1 }, { method: 'saem' });
    try {
      fitPopulation(req);
      throw new Error('expected an InputError');
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).issues[0].path).toEqual(['population', 'method']);
      expect((e as InputError).issues[0].message).toMatch(/ke/);
    }
  });
});
