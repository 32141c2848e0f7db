// Population fits (FOCE-I, src/analysis/nlme) against R's nlme on Theoph (tests/reference/nlme/theoph.R:
// one-compartment first-order absorption, ML, random effects on ka and Cl, diagonal and block Ω), the
// gradient of the objective against central differences, recovery on a simulated design, diagnostics,
// and the errors a bad request gets.
import { describe, it, expect } from 'vitest';
import { fitPopulation } from '../src/analysis/nlme/index.ts';
import { parsePopulationRequest, buildPopulationProblem } from '../src/analysis/nlme/problem.ts';
import { populationM2ll, populationGradient } from '../src/analysis/nlme/optimize.ts';
import { xFromResult } from '../src/analysis/nlme/vpc.ts';
import { newtonDecrement } from '../src/analysis/nlme/focei.ts';
import { InputError, SolveError } from '../src/errors.ts';
import { theophRef, theophRequest } from './helpers/nlme-theoph.ts';
import { simulateStudy, simulateTgi, STUDY_TRUTH, TGI_TRUTH } from './helpers/nlme-study.ts';
import { simulate } from '../src/simulate.ts';
import type { SubjectData } from '../src/data/types.ts';

const ref = theophRef();
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
const T = 120_000;

// One FOCE-I fit of Theoph, compared with nlme and with nlmer below.
const theoph = fitPopulation(theophRequest(ref));

describe('FOCE-I on Theoph against nlme (ML, Lindstrom-Bates)', () => {
  const r = theoph;
  const nl = ref.diag2;
  it(
    'θ within 2 %, Ω within 15 %, σ within 2 %',
    () => {
      expect(r.converged).toBe(true);
      expect(rel(r.theta.ka.value, Math.exp(nl.fixed.lKa))).toBeLessThan(0.02);
      expect(rel(r.theta.ke.value, Math.exp(nl.fixed.lKe))).toBeLessThan(0.02);
      expect(rel(r.theta.Cl.value, Math.exp(nl.fixed.lCl))).toBeLessThan(0.02);
      expect(rel(r.omega.matrix[0][0], nl.omega[0][0])).toBeLessThan(0.15);
      expect(rel(r.omega.matrix[1][1], nl.omega[1][1])).toBeLessThan(0.15);
      expect(r.omega.matrix[0][1]).toBe(0);
      expect(rel(r.sigma.sigma!.value, nl.sigma)).toBeLessThan(0.02);
    },
    T,
  );
  it(
    "SE of log θ (our RSE) within 15 % of nlme's SE of lKa, lKe, lCl (R matrix vs nlme's linearised GLS)",
    () => {
      expect(rel(r.theta.ka.rse!, nl.se.lKa)).toBeLessThan(0.15);
      expect(rel(r.theta.ke.rse!, nl.se.lKe)).toBeLessThan(0.15);
      expect(rel(r.theta.Cl.rse!, nl.se.lCl)).toBeLessThan(0.15);
      expect(r.covariance?.method).toBe('R');
      expect(r.omega.se[0][0]).toBeGreaterThan(0);
    },
    T,
  );
  it(
    "−2 log L within 0.2 of nlme's (Laplace vs Lindstrom-Bates), OFV = −2LL − N log 2π, AIC/BIC",
    () => {
      expect(Math.abs(r.minus2LogLikelihood - -2 * nl.logLik)).toBeLessThan(0.2);
      expect(r.ofv).toBeCloseTo(r.minus2LogLikelihood - 132 * Math.log(2 * Math.PI), 8);
      expect(r.aic).toBeCloseTo(r.minus2LogLikelihood + 12, 8);
      expect(r.observations).toBe(132);
      expect(r.parameters).toBe(6);
    },
    T,
  );
  it(
    "EBEs track nlme's random effects (correlation > 0.99)",
    () => {
      for (const [mine, theirs] of [
        ['ka', 'lKa'],
        ['Cl', 'lCl'],
      ] as const) {
        const a = r.ebe.map((e) => e.eta[mine]);
        const b = r.ebe.map((e) => nl.ranef[String(nl.ranefIds.indexOf(e.subject) + 1)][theirs]);
        const ma = a.reduce((s, v) => s + v, 0) / a.length;
        const mb = b.reduce((s, v) => s + v, 0) / b.length;
        const cov = a.reduce((s, v, i) => s + (v - ma) * (b[i] - mb), 0);
        const corr =
          cov / Math.sqrt(a.reduce((s, v) => s + (v - ma) ** 2, 0) * b.reduce((s, v) => s + (v - mb) ** 2, 0));
        expect(corr).toBeGreaterThan(0.99);
      }
      const s1 = r.ebe.find((e) => e.subject === '1')!;
      expect(s1.parameters.Cl).toBeCloseTo(r.theta.Cl.value * Math.exp(s1.eta.Cl), 10);
    },
    T,
  );
  it(
    'per-record diagnostics: IPRED fits better than PRED, CWRES roughly N(0,1), shrinkage small',
    () => {
      expect(r.records).toHaveLength(132);
      const ss = (k: 'PRED' | 'IPRED') => r.records.reduce((s, x) => s + (x.DV - x[k]) ** 2, 0);
      expect(ss('IPRED')).toBeLessThan(0.5 * ss('PRED'));
      const cw = r.records.map((x) => x.CWRES as number);
      expect(r.records.every((x) => x.CWRES !== null && Number.isFinite(x.CWRES))).toBe(true);
      const m = cw.reduce((a, b) => a + b, 0) / cw.length;
      const sd = Math.sqrt(cw.reduce((a, b) => a + (b - m) ** 2, 0) / (cw.length - 1));
      expect(Math.abs(m)).toBeLessThan(0.3);
      expect(sd).toBeGreaterThan(0.7);
      expect(sd).toBeLessThan(1.3);
      expect(r.omega.shrinkage.every((s) => s < 0.3)).toBe(true);
      expect(r.warnings.filter((w) => w.includes('shrinkage'))).toEqual([]);
    },
    T,
  );
});

describe('FOCE-I on Theoph against lme4::nlmer (Laplace, the same approximation)', () => {
  it(
    'θ within 0.5 %, ω² within 2 %, σ within 0.5 %, SE within 5 %, −2 log L within 0.02',
    () => {
      const r = theoph;
      const nm = ref.nlmer;
      expect(rel(r.theta.ka.value, Math.exp(nm.fixed.lKa))).toBeLessThan(0.005);
      expect(rel(r.theta.ke.value, Math.exp(nm.fixed.lKe))).toBeLessThan(0.005);
      expect(rel(r.theta.Cl.value, Math.exp(nm.fixed.lCl))).toBeLessThan(0.005);
      expect(rel(r.omega.matrix[0][0], nm.omega.lKa)).toBeLessThan(0.02);
      expect(rel(r.omega.matrix[1][1], nm.omega.lCl)).toBeLessThan(0.02);
      expect(rel(r.sigma.sigma!.value, nm.sigma)).toBeLessThan(0.005);
      expect(rel(r.theta.ka.rse!, nm.se.lKa)).toBeLessThan(0.05);
      expect(rel(r.theta.ke.rse!, nm.se.lKe)).toBeLessThan(0.05);
      expect(rel(r.theta.Cl.rse!, nm.se.lCl)).toBeLessThan(0.05);
      expect(Math.abs(r.minus2LogLikelihood - -2 * nm.logLik)).toBeLessThan(0.02);
    },
    T,
  );
});

describe('FOCE-I with a block Ω on Theoph against nlme (pdSymm)', () => {
  it(
    'variances within 15 %, the (near-zero) covariance within 0.02',
    () => {
      const r = fitPopulation(
        theophRequest(
          ref,
          {
            block: [
              ['ka', 'Cl'],
              [
                [0.2, 0.01],
                [0.01, 0.1],
              ],
            ],
          },
          { covariance: 'none' },
        ),
      );
      const nl = ref.block2;
      expect(rel(r.omega.matrix[0][0], nl.omega[0][0])).toBeLessThan(0.15);
      expect(rel(r.omega.matrix[1][1], nl.omega[1][1])).toBeLessThan(0.15);
      expect(Math.abs(r.omega.matrix[0][1] - nl.omega[0][1])).toBeLessThan(0.02);
      expect(r.omega.matrix[0][1]).toBe(r.omega.matrix[1][0]);
      expect(rel(r.theta.Cl.value, Math.exp(nl.fixed.lCl))).toBeLessThan(0.02);
      expect(r.covariance).toBeNull();
    },
    T,
  );
});

describe('gradient of the FOCE-I objective', () => {
  it(
    'agrees with central differences (block Ω, covariate effect, combined error)',
    () => {
      const req = {
        ...theophRequest(
          ref,
          {
            block: [
              ['ka', 'Cl'],
              [
                [0.3, 0.01],
                [0.01, 0.05],
              ],
            ],
          },
          { covariates: { Cl: { covariate: 'WT', center: 70, initial: 0.3 } } },
        ),
        error: { model: 'combined' as const },
        solver: { rtol: 1e-10, atol: 1e-14 },
      };
      req.estimate = { ...req.estimate, sigmaProp: { initial: 0.1 } } as typeof req.estimate;
      const pb = buildPopulationProblem(parsePopulationRequest(req));
      const zeros = () => pb.subjects.map(() => new Float64Array(2));
      const o = populationM2ll(pb, pb.x0, zeros())!;
      const g = populationGradient(pb, pb.x0, o)!;
      pb.x0.forEach((_, k) => {
        const h = 1e-4;
        const up = Float64Array.from(pb.x0);
        up[k] += h;
        const dn = Float64Array.from(pb.x0);
        dn[k] -= h;
        const fd = (populationM2ll(pb, up, zeros())!.value - populationM2ll(pb, dn, zeros())!.value) / (2 * h);
        expect(Math.abs(g[k] - fd), pb.xNames[k]).toBeLessThan(1e-3 * Math.max(1, Math.abs(fd)));
      });
    },
    T,
  );
});

describe('recovery on a simulated design (30 subjects × 6 samples, proportional error)', () => {
  it(
    'recovers CL, V and σ within 10 % and covers them with the 95 % intervals',
    () => {
      const r = fitPopulation({
        ...simulateStudy(7),
        population: { method: 'focei', omega: { CL: 0.2, V: 0.2 }, npde: { replicates: 300, seed: 3 } },
      });
      expect(r.converged).toBe(true);
      for (const n of ['CL', 'V'] as const) {
        expect(rel(r.theta[n].value, STUDY_TRUTH[n])).toBeLessThan(0.1);
        expect(r.theta[n].ci95[0]!).toBeLessThan(STUDY_TRUTH[n]);
        expect(r.theta[n].ci95[1]!).toBeGreaterThan(STUDY_TRUTH[n]);
      }
      expect(rel(r.sigma.sigmaProp!.value, STUDY_TRUTH.sigmaProp)).toBeLessThan(0.1);
      expect(rel(r.omega.matrix[0][0], STUDY_TRUTH.omega_CL)).toBeLessThan(0.5);
      // NPDE under the right model: mean ≈ 0, variance ≈ 1 (Comets et al. 2008's tests, loosely).
      const np = r.records.map((x) => x.NPDE!);
      const m = np.reduce((a, b) => a + b, 0) / np.length;
      const v = np.reduce((a, b) => a + (b - m) ** 2, 0) / (np.length - 1);
      expect(Math.abs(m)).toBeLessThan(0.25);
      expect(v).toBeGreaterThan(0.7);
      expect(v).toBeLessThan(1.4);
    },
    T,
  );
});

describe('the Newton decrement that decides convergence when the line search stalls', () => {
  it(
    'is below 1e-3 at a converged fit; 1 SE away it promises the rise of −2 log L back (within 30 %)',
    () => {
      const req = simulateStudy(1, 60);
      const fit = fitPopulation(req);
      expect(fit.converged).toBe(true);
      const pb = buildPopulationProblem(parsePopulationRequest(req));
      const cov = Float64Array.from(fit.covariance!.matrix.flat(), (v) => v!);
      const x = xFromResult(pb, fit);
      const at = populationM2ll(
        pb,
        x,
        pb.subjects.map(() => new Float64Array(2)),
      )!;
      expect(Math.abs(at.value - fit.minus2LogLikelihood)).toBeLessThan(1e-4); // the same point (η̂ re-found from 0)
      const dec = newtonDecrement(pb, x, at, cov)!;
      expect(dec).toBeGreaterThanOrEqual(0);
      expect(dec).toBeLessThan(1e-3);
      // Moved 1 SE in log CL: −2 log L rises by ½δᵀHδ ≥ 1 (H ≥ 2/SE² in that direction), and the decrement
      // ½gᵀH⁻¹g with g ≈ Hδ promises that decrease back.
      const y = Float64Array.from(x);
      y[0] += Math.sqrt(cov[0]);
      const off = populationM2ll(
        pb,
        y,
        at.fits.map((f) => Float64Array.from(f.eta)),
      )!;
      const decOff = newtonDecrement(pb, y, off, cov)!;
      expect(off.value - at.value).toBeGreaterThan(0.9);
      expect(decOff).toBeGreaterThan(0.3);
      expect(Math.abs(decOff - (off.value - at.value))).toBeLessThan(0.3 * (off.value - at.value));
    },
    T,
  );
});

describe('population fit: bad requests', () => {
  const base = theophRequest(ref);
  const issue = (req: unknown) => {
    try {
      fitPopulation(req);
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      return (e as InputError).issues[0];
    }
    throw new Error('expected an InputError');
  };
  it('names the field', () => {
    expect(issue({ ...base, population: { omega: { V: 0.1 } } }).path).toEqual(['population', 'omega', 'V']);
    expect(issue({ ...base, population: { omega: { ka: -1 } } }).path).toEqual(['population', 'omega', 'ka']);
    expect(issue({ ...base, population: { omega: { ka: 0.1 }, covariates: { Cl: 'WT*2' } } }).message).toMatch(
      /\(COV\/center\)\^exponent/,
    );
    expect(issue({ ...base, population: { omega: { ka: 0.1 }, covariates: { Cl: '(AGE/40)^0.5' } } }).message).toMatch(
      /AGE.*missing/,
    );
    expect(
      issue({
        ...base,
        population: {
          omega: {
            block: [
              ['ka', 'Cl'],
              [
                [0.1, 0.2],
                [0.2, 0.1],
              ],
            ],
          },
        },
      }).message,
    ).toMatch(/positive definite/);
    expect(
      issue({ ...base, data: base.data.filter((d) => d.subject === '1'), subjects: { 1: base.subjects['1'] } }).message,
    ).toMatch(/at least 2 subjects/);
  });
  it('a model the error model cannot take at the start is a SolveError (422), not a crash', () => {
    // Theoph has concentrations at t = 0, where the model predicts 0: a proportional error has variance 0 there.
    const { sigma: _sigma, ...estimate } = base.estimate;
    expect(() => fitPopulation({ ...base, error: { model: 'proportional' }, estimate })).toThrow(SolveError);
  });
});

describe('tumour-growth-inhibition trial (30 sparse subjects of tgi-logistic, 4 sizes each)', () => {
  it(
    'recovers the growth rate r and the kill rate kKill it was simulated with (within 15 %, truth in the 95 % interval)',
    () => {
      const r = fitPopulation(simulateTgi(3, simulate as never));
      expect(r.converged).toBe(true);
      for (const n of ['r', 'kKill'] as const) {
        expect(rel(r.theta[n].value, TGI_TRUTH[n])).toBeLessThan(0.15);
        expect(r.theta[n].ci95[0]!).toBeLessThan(TGI_TRUTH[n]);
        expect(r.theta[n].ci95[1]!).toBeGreaterThan(TGI_TRUTH[n]);
        expect(r.theta[n].rse!).toBeLessThan(0.25);
      }
      expect(rel(r.sigma.sigma!.value, TGI_TRUTH.sigma)).toBeLessThan(0.2);
      // Every subject's kill rate is a positive individual value (no collapse to 0, unlike per-subject fits).
      expect(Math.min(...r.ebe.map((e) => e.parameters.kKill))).toBeGreaterThan(0.005);
    },
    T,
  );
});

describe('dataset input (Contract 6 SubjectData)', () => {
  it(
    'gives the same fit as the Contract 4 rows it was built from',
    () => {
      const req = {
        ...simulateStudy(5, 8),
        population: { method: 'focei' as const, omega: { CL: 0.2, V: 0.2 }, covariance: 'none' as const },
      };
      const dataset: SubjectData[] = Object.entries(req.subjects).map(([id, s]) => ({
        id,
        doses: s.doses,
        covariates: { WT: 70 },
        covariateChanges: [],
        resets: [],
        observations: req.data
          .filter((d) => d.subject === id)
          .map((d, k) => ({ line: k + 2, time: d.time, observable: d.observable, value: d.value, order: 0 })),
      }));
      const a = fitPopulation(req);
      const b = fitPopulation({ ...req, data: [], subjects: {} }, dataset);
      expect(b.theta.CL.value).toBeCloseTo(a.theta.CL.value, 10);
      expect(b.minus2LogLikelihood).toBeCloseTo(a.minus2LogLikelihood, 8);
      expect(b.records[0].line).toBe(2);
    },
    T,
  );
});

describe('identifiability warnings', () => {
  it(
    'warns when only a product of two parameters is determined (V = V1·V2)',
    () => {
      const base = simulateStudy(4, 10);
      const model = {
        ...base.model,
        id: 'iv-1cmt-split',
        parameters: { CL: { value: 5 }, V1: { value: 5 }, V2: { value: 10 } },
        odes: { A: '-CL / (V1 * V2) * A' },
        outputs: { conc: { expr: 'A / (V1 * V2)' } },
      };
      const r = fitPopulation({
        ...base,
        model,
        estimate: { CL: { initial: 6 }, V1: { initial: 4 }, V2: { initial: 12 }, sigmaProp: { initial: 0.2 } },
        population: { omega: { CL: 0.2 } },
      });
      expect(r.warnings.some((w) => /not identifiable/.test(w))).toBe(true);
      // What the data do determine: V1·V2 (truth 50).
      expect(rel(r.theta.V1.value * r.theta.V2.value, 50)).toBeLessThan(0.1);
    },
    T,
  );
});
