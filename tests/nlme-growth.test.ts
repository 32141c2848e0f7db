// FOCE-I on two more public data sets against R (besides Theoph in nlme.test.ts): Orange
// (tests/reference/nlme/orange.R: logistic growth of 5 trees) and Loblolly (loblolly.R: asymptotic
// regression of 14 pine seed sources), both with log-normal random effect on the asymptote, additive
// error, ML. nlme's Lindstrom–Bates linearisation and FOCE-I's Laplace approximation differ little here
// (the asymptote enters the models linearly): the tolerances asked of every data set (θ 2 %, ω² 15 %,
// SE of log θ 15 %) are met with margin, and lme4::nlmer (Laplace, the approximation FOCE-I makes)
// agrees closer still.
import { describe, it, expect } from 'vitest';
import { fitPopulation } from '../src/analysis/nlme/index.ts';
import { orangeRef, orangeRequest, loblollyRef, loblollyRequest } from './helpers/nlme-growth.ts';

const ref = orangeRef();
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
const T = 120_000;
const fit = fitPopulation(orangeRequest(ref));
const names = ['Asym', 'xmid', 'scal'] as const;

describe('FOCE-I on Orange against nlme (ML, Lindstrom-Bates)', () => {
  const nl = ref.nlme;
  it(
    'θ within 2 %, ω² within 15 %, σ within 2 %, converged without warnings',
    () => {
      expect(fit.converged).toBe(true);
      expect(fit.warnings).toEqual([]);
      for (const p of names) expect(rel(fit.theta[p].value, Math.exp(nl.fixed[`l${p}`]))).toBeLessThan(0.02);
      expect(rel(fit.omega.matrix[0][0], nl.omega)).toBeLessThan(0.15);
      expect(rel(fit.sigma.sigma!.value, nl.sigma)).toBeLessThan(0.02);
    },
    T,
  );
  it(
    "SE of log θ (our RSE, R matrix) within 15 % of nlme's",
    () => {
      for (const p of names) expect(rel(fit.theta[p].rse!, nl.se[`l${p}`])).toBeLessThan(0.15);
    },
    T,
  );
  it(
    "−2 log L within 0.05 of nlme's; EBEs within 0.005 of nlme's random effects",
    () => {
      expect(Math.abs(fit.minus2LogLikelihood - -2 * nl.logLik)).toBeLessThan(0.05);
      expect(fit.observations).toBe(35);
      for (const e of fit.ebe) expect(Math.abs(e.eta.Asym - nl.ranef[e.subject])).toBeLessThan(0.005);
    },
    T,
  );
});

describe('FOCE-I on Orange against lme4::nlmer (Laplace)', () => {
  it(
    'θ within 0.1 %, ω² within 1 %, σ within 0.1 %, SE of log θ within 5 %, −2 log L within 0.01',
    () => {
      const nm = ref.nlmer;
      for (const p of names) {
        expect(rel(fit.theta[p].value, Math.exp(nm.fixed[`l${p}`]))).toBeLessThan(0.001);
        expect(rel(fit.theta[p].rse!, nm.se[`l${p}`])).toBeLessThan(0.05);
      }
      expect(rel(fit.omega.matrix[0][0], nm.omega)).toBeLessThan(0.01);
      expect(rel(fit.sigma.sigma!.value, nm.sigma)).toBeLessThan(0.001);
      expect(Math.abs(fit.minus2LogLikelihood - -2 * nm.logLik)).toBeLessThan(0.01);
    },
    T,
  );
});

const lob = loblollyRef();
const lobFit = fitPopulation(loblollyRequest(lob));

describe('FOCE-I on Loblolly against nlme (ML) and lme4::nlmer (Laplace)', () => {
  it(
    'θ within 2 % of nlme (R0 on the linear scale), ω² within 15 %, σ within 2 %, SEs within 15 %',
    () => {
      const nl = lob.nlme;
      const r = lobFit;
      expect(r.converged).toBe(true);
      expect(r.warnings).toEqual([]);
      expect(r.theta.R0.scale).toBe('linear');
      expect(rel(r.theta.Asym.value, Math.exp(nl.fixed.lAsym))).toBeLessThan(0.02);
      expect(rel(r.theta.rc.value, Math.exp(nl.fixed.lrc))).toBeLessThan(0.02);
      expect(rel(r.theta.R0.value, nl.fixed.R0)).toBeLessThan(0.02);
      expect(rel(r.omega.matrix[0][0], nl.omega)).toBeLessThan(0.15);
      expect(rel(r.sigma.sigma!.value, nl.sigma)).toBeLessThan(0.02);
      expect(rel(r.theta.Asym.rse!, nl.se.lAsym)).toBeLessThan(0.15);
      expect(rel(r.theta.rc.rse!, nl.se.lrc)).toBeLessThan(0.15);
      expect(rel(r.theta.R0.se!, nl.se.R0)).toBeLessThan(0.15);
      expect(Math.abs(r.minus2LogLikelihood - -2 * nl.logLik)).toBeLessThan(0.05);
      for (const e of r.ebe) expect(Math.abs(e.eta.Asym - nl.ranef[e.subject])).toBeLessThan(0.001);
    },
    T,
  );
  it(
    'θ within 0.1 %, ω² within 1 %, σ within 0.1 %, −2 log L within 0.01 of nlmer',
    () => {
      const nm = lob.nlmer;
      const r = lobFit;
      expect(rel(r.theta.Asym.value, Math.exp(nm.fixed.lAsym))).toBeLessThan(0.001);
      expect(rel(r.theta.rc.value, Math.exp(nm.fixed.lrc))).toBeLessThan(0.001);
      expect(rel(r.theta.R0.value, nm.fixed.R0)).toBeLessThan(0.001);
      expect(rel(r.omega.matrix[0][0], nm.omega)).toBeLessThan(0.01);
      expect(rel(r.sigma.sigma!.value, nm.sigma)).toBeLessThan(0.001);
      expect(Math.abs(r.minus2LogLikelihood - -2 * nm.logLik)).toBeLessThan(0.01);
    },
    T,
  );
});
