// The fit's error model and the log transform: a proportional (or combined) error on the log scale would scale
// the sd by log(prediction), which is not a likelihood of the data (on the logistic data it drove r to 0, K and V0
// to their bounds and σ to 1e13 with a better −log L than the right fit). The library refuses the combination,
// naming the field; additive + log (the log-normal error) still fits the same data.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { fit } from '../src/analysis/fit/index.ts';
import { InputError } from '../src/errors.ts';

const cases = JSON.parse(readFileSync(new URL('./reference/fit/cases.json', import.meta.url), 'utf8'));

describe('fit: error model on the log scale', () => {
  const base = cases.cases['one-subject-additive'];
  for (const model of ['proportional', 'combined'] as const) {
    it(`refuses ${model} + transform log with an issue at error.model`, () => {
      let err: unknown;
      try {
        fit({ ...base, error: { model, transform: 'log' } });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputError);
      const issues = (err as InputError).issues;
      expect(issues.map((i) => i.path.join('.'))).toContain('error.model');
      expect(issues.find((i) => i.path.join('.') === 'error.model')!.message).toMatch(/additive.*log/);
    });
  }
  it('additive + log on the same data recovers the truth (r within 10 %)', () => {
    const r = fit({ ...base, error: { model: 'additive', transform: 'log' } });
    expect(r.converged).toBe(true);
    expect(Math.abs(r.estimates.r.value - cases.truth.r) / cases.truth.r).toBeLessThan(0.1);
  });
});
