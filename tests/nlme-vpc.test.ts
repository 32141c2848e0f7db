// Visual predictive check (src/analysis/nlme/vpc.ts): under the fitted model the observed percentiles
// sit inside the simulated bands; with Ω shrunk tenfold (a misspecified variability) the observed 5th
// and 95th percentiles leave them; binning and options; quantiles as R's type 7.
import { describe, it, expect } from 'vitest';
import { fitPopulation, vpcPopulation } from '../src/analysis/nlme/index.ts';
import { quantileSorted } from '../src/analysis/nlme/vpc.ts';
import { InputError } from '../src/errors.ts';
import { simulateStudy } from './helpers/nlme-study.ts';

const req = {
  ...simulateStudy(11),
  population: { method: 'focei' as const, omega: { CL: 0.2, V: 0.2 }, covariance: 'none' as const },
};
const fit = fitPopulation(req);

describe('VPC', () => {
  it('observed percentiles inside the simulated 95 % bands under the fitted model (≥ 5 of 6 bins each)', () => {
    const v = vpcPopulation(req, fit, { replicates: 500, seed: 2 });
    expect(v.binning.method).toBe('quantiles');
    expect(v.bins).toHaveLength(6);
    expect(v.bins.reduce((a, b) => a + b.n, 0)).toBe(180);
    for (const p of ['p5', 'p50', 'p95']) {
      const inside = v.bins.filter(
        (b) => b.observed[p] >= b.simulated[p].lo && b.observed[p] <= b.simulated[p].hi,
      ).length;
      expect(inside, p).toBeGreaterThanOrEqual(5);
    }
    expect(v.failedSimulations).toBe(0);
  }, 120_000);
  it('flags too little variability: Ω / 10 puts the observed 5th and 95th percentiles outside the bands', () => {
    const shrunk = { ...fit, omega: { ...fit.omega, matrix: fit.omega.matrix.map((r) => r.map((v) => v / 10)) } };
    const v = vpcPopulation(req, shrunk, {
      replicates: 500,
      seed: 2,
      bins: [0, 1.5, 5, 12],
      predictionCorrected: true,
    });
    expect(v.binning.method).toBe('edges');
    expect(v.predictionCorrected).toBe(true);
    const outside = v.bins.filter(
      (b) => b.observed.p5 < b.simulated.p5.lo || b.observed.p95 > b.simulated.p95.hi,
    ).length;
    expect(outside).toBeGreaterThanOrEqual(2);
  }, 120_000);
  it('quantiles as R type 7; bad options are refused with their field', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4, 10], 0.95)).toBeCloseTo(8.8, 12); // R: quantile(c(1,2,3,4,10), 0.95) = 8.8
    expect(() => vpcPopulation(req, fit, { replicates: 100 })).toThrow(InputError);
    try {
      vpcPopulation(req, fit, { bins: [0, 5, 2] });
    } catch (e) {
      expect((e as InputError).issues[0].path).toEqual(['vpc', 'bins', 2]);
    }
  });
});
