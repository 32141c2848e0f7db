// Fitting: agreement with independent SciPy (least_squares / minimize + solve_ivp) and R (minpack.lm::nls.lm
// + deSolve) fits of the same synthetic data (recorded under tests/reference/fit/), recovery of known
// parameters, the Kirschner-Panetta non-identifiability (bench/fit.ts, W5), profile likelihood,
// multistart, finite-difference Jacobians, and bad data.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { fit, FitRequest, latinHypercube, parseCsv } from '../src/analysis/fit/index.ts';
import { simulate } from '../src/simulate.ts';
import { InputError, SolveError } from '../src/errors.ts';
import { mulberry32, normalSampler } from '../src/numerics/random.ts';

const ref = (f: string) => JSON.parse(readFileSync(new URL(`./reference/fit/${f}`, import.meta.url), 'utf8'));
const cases = ref('cases.json');
const scipy = ref('scipy.json');
const nlslm = ref('nlslm.json');

const relErr = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('fit: agreement with SciPy and R on the same data (starting values 2x off)', () => {
  for (const name of Object.keys(cases.cases)) {
    it(name, () => {
      const req = cases.cases[name];
      const r = fit(req);
      expect(r.converged).toBe(true);
      const peers = [scipy.cases[name], nlslm.cases[name]].filter(Boolean);
      expect(peers.length).toBeGreaterThan(0);
      for (const peer of peers) {
        for (const [k, e] of Object.entries<{ value: number; se: number }>(peer.estimates)) {
          expect(relErr(r.estimates[k].value, e.value), `${name} ${k} estimate`).toBeLessThan(1e-3);
          expect(relErr(r.estimates[k].se!, e.se), `${name} ${k} standard error`).toBeLessThan(0.05);
        }
        if (peer.ssr !== undefined) expect(relErr(r.ssr, peer.ssr)).toBeLessThan(1e-6);
      }
      // The truth lies within 3 standard errors (coverage of the 95 % intervals is tested over seeds below).
      for (const [k, e] of Object.entries(r.estimates)) {
        if (e.kind !== 'model') continue;
        expect(Math.abs(cases.truth[k] - e.value), k).toBeLessThan(3 * e.se!);
      }
      // Contract 4 fields.
      expect(r.residuals).toHaveLength(req.data.length);
      expect(Number.isFinite(r.aic) && Number.isFinite(r.bic)).toBe(true);
      expect(r.odeSolves).toBeGreaterThan(0);
      for (const s of Object.values(r.fitted)) expect(s.times).toHaveLength(201);
    });
  }

  it('the arms case by finite differences of solutions reaches the same estimates', () => {
    const r = fit({ ...cases.cases['arms-log'], sensitivities: 'finite-difference' });
    expect(r.converged).toBe(true);
    for (const [k, e] of Object.entries<{ value: number; se: number }>(scipy.cases['arms-log'].estimates)) {
      expect(relErr(r.estimates[k].value, e.value)).toBeLessThan(1e-3);
      expect(relErr(r.estimates[k].se!, e.se)).toBeLessThan(0.05);
    }
  });

  it('reports the objective, residuals and sigma consistently (profiled additive error)', () => {
    const req = cases.cases['one-subject-additive'];
    const r = fit(req);
    const n = req.data.length;
    expect(r.error.profiled).toBe(true);
    expect(r.sigmaResidual).toBeCloseTo(Math.sqrt(r.ssr / (n - 3)), 10);
    const ssr = r.residuals.reduce((s, q) => s + q.residual ** 2, 0);
    expect(relErr(ssr, r.ssr)).toBeLessThan(1e-12);
    expect(r.objective).toBeCloseTo(0.5 * n * Math.log((2 * Math.PI * r.ssr) / n) + 0.5 * n, 8);
    expect(r.aic).toBeCloseTo(2 * r.objective + 2 * 4, 8);
    expect(r.bic).toBeCloseTo(2 * r.objective + 4 * Math.log(n), 8);
    for (const q of r.residuals) expect(q.weightedResidual).toBeCloseTo(q.residual / r.sigmaResidual, 10);
  });
});

// Synthetic control/treated TGI data from the project itself, seeded.
function armsData(seed: number, sd = 0.1) {
  const TREATED = [{ target: 'Cd', amount: 10, start: 10, every: 7, count: 5 }];
  const truth = { r: 0.1, K: 1e9, V0: 5e7, kKill: 0.02, kel: 0.2 };
  const times = Array.from({ length: 15 }, (_, k) => 5 * k);
  const z = normalSampler(mulberry32(seed));
  const data: object[] = [];
  for (const arm of ['control', 'treated']) {
    const s = simulate({
      model: 'tgi-logistic',
      parameters: truth,
      times,
      doses: arm === 'treated' ? TREATED : [],
      solver: { rtol: 1e-10, atol: 1e-10 },
      metrics: false,
    });
    s.states.V.forEach((v, k) =>
      data.push({ time: times[k], observable: 'V', value: v * Math.exp(sd * z()), subject: arm }),
    );
  }
  return {
    truth,
    req: {
      model: 'tgi-logistic',
      parameters: { kel: 0.2, V0: 5e7 },
      subjects: { control: {}, treated: { doses: TREATED } },
      data,
      estimate: { r: { initial: 0.2 }, K: { initial: 2e9 }, kKill: { initial: 0.04 } },
      error: { model: 'additive' as const, transform: 'log' as const },
    },
  };
}

describe('fit: recovery of known parameters', () => {
  it('recovers r, K, kKill within their 95 % intervals on most of 6 seeds', () => {
    let covered = 0;
    let total = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const { truth, req } = armsData(seed);
      const r = fit(req);
      expect(r.converged).toBe(true);
      for (const k of ['r', 'K', 'kKill'] as const) {
        const e = r.estimates[k];
        total++;
        if (truth[k] >= e.ci95[0]! && truth[k] <= e.ci95[1]!) covered++;
        expect(relErr(e.value, truth[k])).toBeLessThan(0.25);
      }
      expect(r.identifiability.identifiable).toBe(true);
    }
    expect(covered / total).toBeGreaterThanOrEqual(0.8);
  });

  it('estimates the error model with the parameters (sigma by maximum likelihood)', () => {
    const { req } = armsData(11);
    const r = fit({ ...req, estimate: { ...req.estimate, sigma: { initial: 0.5 } } });
    expect(r.converged).toBe(true);
    expect(r.error.profiled).toBe(false);
    // ML sigma = sqrt(SSR/n) at the least-squares optimum.
    const ls = fit(req);
    expect(relErr(r.estimates.sigma.value, Math.sqrt(ls.ssr / req.data.length))).toBeLessThan(1e-4);
    expect(relErr(r.estimates.kKill.value, ls.estimates.kKill.value)).toBeLessThan(1e-5);
    expect(r.parameters).toBe(4);
  });

  it('profile-likelihood intervals bracket the estimate and agree with Wald for a well-determined parameter', () => {
    const { req } = armsData(2);
    const r = fit({ ...req, profile: ['kKill', 'r'] });
    for (const k of ['kKill', 'r']) {
      const e = r.estimates[k];
      expect(e.ciMethod).toBe('profile');
      expect(e.profile95![0]).toBeLessThan(e.value);
      expect(e.profile95![1]).toBeGreaterThan(e.value);
      for (let s = 0; s < 2; s++) expect(relErr(e.profile95![s]!, e.wald95[s]!)).toBeLessThan(0.05);
    }
  });

  it('multistart from a seeded Latin hypercube is reproducible and keeps the best start', () => {
    const a = latinHypercube(5, 3, 42);
    expect(latinHypercube(5, 3, 42)).toEqual(a);
    for (let d = 0; d < 3; d++) expect(a.map((p) => Math.floor(p[d] * 5)).sort()).toEqual([0, 1, 2, 3, 4]);
    const { req } = armsData(3);
    const bounded = {
      ...req,
      estimate: {
        r: { initial: 0.2, lower: 0.01, upper: 1 },
        K: { initial: 2e9, lower: 1e8, upper: 1e11 },
        kKill: { initial: 0.04, lower: 1e-4, upper: 1 },
      },
    };
    const r = fit({ ...bounded, multistart: { count: 4, seed: 7 } });
    expect(r.multistart!.starts).toHaveLength(4);
    const objs = r.multistart!.starts.map((s) => s.objective ?? Infinity);
    expect(r.objective).toBeLessThanOrEqual(Math.min(...objs.map((o) => o)) + 1e-6 || Infinity);
    const single = fit(bounded);
    expect(relErr(r.estimates.kKill.value, single.estimates.kKill.value)).toBeLessThan(1e-4);
    for (const s of r.multistart!.starts)
      for (const [k, v] of Object.entries(s.initial)) {
        const e = bounded.estimate[k as 'r'];
        expect(v).toBeGreaterThanOrEqual(e.lower);
        expect(v).toBeLessThanOrEqual(e.upper);
      }
  });

  it('combined error model: sigma and sigmaProp estimated with the parameters', () => {
    const { req } = armsData(8);
    // From the given start the additive term heads to 0 (a local optimum on the boundary, reported);
    // multistart finds the better optimum with both terms.
    const single = fit({ ...req, error: { model: 'combined', transform: 'none' } });
    expect(single.identifiability.warnings.some((w) => /'sigma' tends to 0/.test(w))).toBe(true);
    const r = fit({ ...req, error: { model: 'combined', transform: 'none' }, multistart: { count: 6, seed: 2 } });
    expect(r.converged).toBe(true);
    expect(r.objective).toBeLessThan(single.objective - 0.5);
    expect(r.estimates.sigma.value).toBeGreaterThan(1e5);
    expect(Object.keys(r.estimates).sort()).toEqual(['K', 'kKill', 'r', 'sigma', 'sigmaProp']);
    // The data have 10 % log-normal noise: the proportional part carries it.
    expect(r.estimates.sigmaProp.value).toBeGreaterThan(0.05);
    expect(r.estimates.sigmaProp.value).toBeLessThan(0.2);
    expect(relErr(r.estimates.kKill.value, 0.02)).toBeLessThan(0.2);
  });

  it('row weights: uniform weights change neither estimates nor standard errors (least squares)', () => {
    const { req } = armsData(9);
    const a = fit(req);
    const b = fit({ ...req, data: (req.data as object[]).map((d) => ({ ...d, weight: 4 })) });
    for (const k of ['r', 'K', 'kKill']) {
      expect(relErr(b.estimates[k].value, a.estimates[k].value)).toBeLessThan(1e-6);
      expect(relErr(b.estimates[k].se!, a.estimates[k].se!)).toBeLessThan(1e-4);
    }
    expect(b.sigmaResidual).toBeCloseTo(2 * a.sigmaResidual, 8);
  });

  it('holds a parameter at its bound and says so', () => {
    const { req } = armsData(4);
    const r = fit({ ...req, estimate: { ...req.estimate, kKill: { initial: 0.01, lower: 0.005, upper: 0.015 } } });
    expect(r.estimates.kKill.value).toBeCloseTo(0.015, 12);
    expect(r.estimates.kKill.atBound).toBe(true);
    expect(r.identifiability.warnings.some((w) => /kKill.*bound/.test(w))).toBe(true);
  });

  it('fits per-subject parameters', () => {
    const { req } = armsData(5);
    const r = fit({ ...req, estimate: { ...req.estimate, r: { initial: 0.2, perSubject: true } } });
    expect(Object.keys(r.estimates).sort()).toEqual(['K', 'kKill', 'r[control]', 'r[treated]']);
    expect(relErr(r.estimates['r[control]'].value, 0.1)).toBeLessThan(0.2);
  });
});

describe('fit: Kirschner-Panetta from tumor counts alone (bench/fit.ts, W5 note)', () => {
  it('reports c and a as not identifiable: huge standard errors and correlation near -1', () => {
    const times = Array.from({ length: 21 }, (_, k) => k * 5);
    const z = normalSampler(mulberry32(3));
    const s = simulate({
      model: 'kirschner-panetta-1998',
      times,
      solver: { rtol: 1e-10, atol: 1e-10 },
      metrics: false,
    });
    const data = s.states.T.map((v, k) => ({ time: times[k], observable: 'T', value: v * Math.exp(0.05 * z()) }));
    const r = fit({
      model: 'kirschner-panetta-1998',
      data,
      estimate: { c: { initial: 0.05 }, r2: { initial: 0.25 }, a: { initial: 0.75 } },
      error: { model: 'additive', transform: 'log' },
      solver: { rtol: 1e-8, atol: 1e-14 },
    });
    expect(r.identifiability.identifiable).toBe(false);
    const ic = r.correlation.names.indexOf('c');
    const ia = r.correlation.names.indexOf('a');
    expect(Math.abs(r.correlation.matrix[ic][ia]!)).toBeGreaterThan(0.999);
    expect(r.estimates.c.rse!).toBeGreaterThan(0.5);
    expect(r.estimates.a.rse!).toBeGreaterThan(0.5);
    // What the data do determine: the product c*a (truth 0.035 * 1).
    expect(relErr(r.estimates.c.value * r.estimates.a.value, 0.035)).toBeLessThan(0.05);
    expect(r.identifiability.warnings.some((w) => /'c' and 'a' are almost perfectly correlated/.test(w))).toBe(true);
  });
});

describe('fit: bad requests and data are InputErrors naming the field', () => {
  const base = () => armsData(1).req;
  const issue = (req: unknown): { path: (string | number)[]; message: string }[] => {
    try {
      fit(req);
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      return (e as InputError).issues;
    }
    throw new Error('no error');
  };
  it('empty data', () => {
    expect(issue({ ...base(), data: [] })[0]).toMatchObject({
      path: ['data'],
      message: expect.stringMatching(/empty/),
    });
    expect(issue({ ...base(), data: '' })[0].message).toMatch(/empty/);
    expect(issue({ ...base(), data: 'time,observable,value\n' })[0].message).toMatch(/empty/);
  });
  it('non-numeric values (JSON and CSV)', () => {
    const r = base();
    const rows = [...(r.data as object[])];
    rows[3] = { ...rows[3], value: 'abc' };
    expect(issue({ ...r, data: rows })[0]).toMatchObject({ path: ['data', 3, 'value'] });
    const csv = 'time,observable,value,subject\n0,V,5e7,control\n5,V,x,control\n';
    expect(issue({ ...r, data: csv })[0]).toMatchObject({
      path: ['data', 'line 3', 'value'],
      message: "'x' is not a number",
    });
  });
  it('negative times', () => {
    const r = base();
    const rows = [...(r.data as object[])];
    rows[2] = { ...rows[2], time: -1 };
    expect(issue({ ...r, data: rows })[0]).toMatchObject({
      path: ['data', 2, 'time'],
      message: expect.stringMatching(/>= 0/),
    });
  });
  it('unknown observable and unknown subject', () => {
    const r = base();
    const rows = [...(r.data as object[])];
    rows[1] = { ...rows[1], observable: 'Q' };
    expect(issue({ ...r, data: rows })[0]).toMatchObject({
      path: ['data', 1, 'observable'],
      message: expect.stringMatching(/'Q' is neither a state nor an output/),
    });
    const rows2 = [...(r.data as object[])];
    rows2[0] = { ...rows2[0], subject: 'arm9' };
    expect(issue({ ...r, data: rows2 })[0]).toMatchObject({
      path: ['data', 0, 'subject'],
      message: expect.stringMatching(/unknown subject 'arm9'/),
    });
  });
  it('fewer observations than parameters', () => {
    const r = base();
    expect(issue({ ...r, data: (r.data as object[]).slice(0, 3) })[0]).toMatchObject({
      path: ['data'],
      message: expect.stringMatching(/need more observations than parameters/),
    });
  });
  it('unknown parameters, bad bounds, log transform of non-positive data', () => {
    const r = base();
    expect(issue({ ...r, estimate: { zz: {} } })[0]).toMatchObject({ path: ['estimate', 'zz'] });
    expect(issue({ ...r, estimate: { r: { initial: 0.1, lower: 0.2 } } })[0]).toMatchObject({
      path: ['estimate', 'r', 'initial'],
    });
    const rows = [...(r.data as object[])];
    rows[4] = { ...rows[4], value: 0 };
    expect(issue({ ...r, data: rows })[0]).toMatchObject({
      path: ['data', 4, 'value'],
      message: expect.stringMatching(/positive/),
    });
    expect(issue({ ...r, profile: ['kel'] })[0]).toMatchObject({ path: ['profile', 0] });
  });
  it('CSV header problems name the line', () => {
    expect(() => parseCsv('t,observable,value\n1,V,2\n')).toThrow(/needs a 'time' column/);
    expect(parseCsv('time,observable,value,arm\n1,V,2,a\n')).toEqual([
      { time: 1, observable: 'V', value: 2, subject: 'a' },
    ]);
  });
  it('the request schema is exported for the API', () => {
    expect(FitRequest.safeParse({ model: 'tgi-logistic', data: [], estimate: {} }).success).toBe(true);
    expect(FitRequest.safeParse({ model: 'tgi-logistic', estimate: {} }).success).toBe(false);
  });
  it('a fit whose model cannot be evaluated is a SolveError (422), not a crash', () => {
    const r = base();
    // Log-transformed residuals of a state that is zero: no positive prediction exists.
    expect(() =>
      fit({
        ...r,
        data: (r.data as { time: number; value: number; subject: string }[]).map((d) => ({
          ...d,
          observable: 'Cd',
          subject: 'control',
        })),
      }),
    ).toThrow(SolveError);
  });
});

describe('fit: the default model (infusions, events, an output as observable)', () => {
  it('recovers r, kKill and sPD from two arms; forward sensitivities and finite differences agree', () => {
    const times = Array.from({ length: 13 }, (_, k) => 14 * k + 14);
    const z = normalSampler(mulberry32(5));
    const data: object[] = [];
    for (const arm of ['control', 'pembro']) {
      const s = simulate({
        model: 'immunotherapy',
        times,
        therapies: arm === 'pembro' ? ['pembrolizumab-200mg-q3w'] : [],
        metrics: false,
      });
      s.outputs.tumorVolume_mm3.forEach((v, k) =>
        data.push({ time: times[k], observable: 'tumorVolume_mm3', value: v * Math.exp(0.1 * z()), subject: arm }),
      );
    }
    const req = {
      model: 'immunotherapy',
      data,
      subjects: { control: {}, pembro: { therapies: ['pembrolizumab-200mg-q3w'] } },
      estimate: { r: { initial: 0.03 }, kKill: { initial: 0.3 }, sPD: { initial: 0.5, lower: 0.01, upper: 1 } },
      error: { model: 'additive' as const, transform: 'log' as const },
    };
    const fwd = fit(req);
    const fd = fit({ ...req, sensitivities: 'finite-difference' });
    expect(fwd.converged && fd.converged).toBe(true);
    const truth: Record<string, number> = { r: 0.02, kKill: 0.5, sPD: 0.6 };
    for (const k of Object.keys(truth)) {
      expect(Math.abs(fwd.estimates[k].value - truth[k])).toBeLessThan(4 * fwd.estimates[k].se!);
      expect(relErr(fd.estimates[k].value, fwd.estimates[k].value)).toBeLessThan(1e-4);
      expect(relErr(fd.estimates[k].se!, fwd.estimates[k].se!)).toBeLessThan(1e-3);
    }
    // One solve (states + sensitivities) per subject and iteration, against 1 + 3 per subject by differences.
    expect(fwd.odeSolves).toBeLessThan(fd.odeSolves);
  });
});
