// Population fits from NONMEM-style datasets: `immunopd fit --dataset` on the worked
// example (docs/examples/pop-trial.csv, simulated by tests/reference/nlme/pop_trial.py) recovers the truth
// and agrees with R nlme (pop_trial.R → pop-trial-nlme.json); covariate columns and refusals; `immunopd vpc`
// and POST /api/vpc give identical numbers for the same seed; POST /api/fit and the fit job route a request
// with `population` to the population fit, the job reporting progress in iterations.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../src/cli/main.ts';
import { fitPopulation } from '../src/analysis/nlme/index.ts';
import { InputError } from '../src/errors.ts';
import { startServer, type RunningServer } from '../server/app.ts';
import { buildPopulationProblem, parsePopulationRequest, individualParams } from '../src/analysis/nlme/problem.ts';
import { predictSubject } from '../src/analysis/nlme/predict.ts';

const EX = path.join(__dirname, '..', 'docs', 'examples');
const REF = path.join(__dirname, 'reference', 'nlme');
const truth = JSON.parse(readFileSync(path.join(REF, 'pop-trial-truth.json'), 'utf8')).truth;
const nlme = JSON.parse(readFileSync(path.join(REF, 'pop-trial-nlme.json'), 'utf8'));
const model = JSON.parse(readFileSync(path.join(EX, 'pop-oral-1cpt.json'), 'utf8'));
const csv = readFileSync(path.join(EX, 'pop-trial.csv'), 'utf8');
const fitReq = { ...JSON.parse(readFileSync(path.join(EX, 'pop-fit.json'), 'utf8')), model };
const io = () => {
  const o = { out: '', err: '' };
  return { o, io: { out: (s: string) => (o.out += s), err: (s: string) => (o.err += s) } };
};
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
const T = 300_000;

describe('immunopd fit --dataset (the worked example)', () => {
  it(
    'recovers the truth: θ within 15 % and inside the 95 % CI; agrees with R nlme (θ 2 %, ω² 15 %)',
    async () => {
      const { o, io: cio } = io();
      expect(
        await main(['fit', path.join(EX, 'pop-fit.json'), '--dataset', path.join(EX, 'pop-trial.csv')], cio),
        o.err,
      ).toBe(0);
      const r = JSON.parse(o.out);
      expect(r.subjects).toBe(24);
      expect(r.observations).toBe(192);
      for (const k of ['ka', 'CL', 'V'] as const) {
        expect(rel(r.theta[k].value, truth[k]), k).toBeLessThan(0.15);
        expect(r.theta[k].ci95[0]).toBeLessThan(truth[k]);
        expect(r.theta[k].ci95[1]).toBeGreaterThan(truth[k]);
        expect(rel(r.theta[k].value, nlme[k]), `${k} vs nlme`).toBeLessThan(0.02);
      }
      const beta = r.beta['CL~WT'];
      expect(beta.ci95[0]).toBeLessThan(truth.beta_WT);
      expect(beta.ci95[1]).toBeGreaterThan(truth.beta_WT);
      expect(Math.abs(beta.value - nlme.beta)).toBeLessThan(0.02);
      r.omega.names.forEach((n: string, i: number) =>
        expect(rel(r.omega.matrix[i][i], nlme[`omega_${n}`]), n).toBeLessThan(0.15),
      );
      expect(rel(r.sigma.sigmaProp.value, nlme.sigmaProp)).toBeLessThan(0.02);
    },
    T,
  );
});

describe('dataset covariates and refusals', () => {
  const small =
    csv
      .split('\n')
      .filter((l, i) => i === 0 || /^[1-8],/.test(l))
      .join('\n') + '\n';
  const base = { ...fitReq, population: { ...fitReq.population, covariance: 'none', maxIterations: 3 } };
  it('a column not in the dataset nor the model is refused naming population.covariates', () => {
    const req = { ...base, dataset: small, population: { ...base.population, covariates: { CL: '(AGE/40)^beta' } } };
    try {
      fitPopulation(req);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).issues[0].path).toEqual(['population', 'covariates', 'CL']);
      expect((e as InputError).issues[0].message).toMatch(/AGE.*missing for subject 1/);
    }
  });
  it('a time-varying covariate in a covariate effect is refused naming the subject', () => {
    const lines = small.split('\n');
    lines[5] = lines[5].replace(/,83\.3$/, ',90');
    try {
      fitPopulation({ ...base, dataset: lines.join('\n') });
      expect.unreachable();
    } catch (e) {
      expect((e as InputError).issues[0].path).toEqual(['population', 'covariates', 'CL']);
      expect((e as InputError).issues[0].message).toMatch(/WT' changes over time for subject 1/);
    }
  });
  it('doses with a dataset are refused; a bad record names its line and column', () => {
    expect(() => fitPopulation({ ...base, dataset: small, doses: [{ target: 'depot', amount: 1, start: 0 }] })).toThrow(
      /leave doses and subjects out/,
    );
    try {
      fitPopulation({ ...base, dataset: small.replace('1,0.5,.,CP', '1,0.5,.,XX') });
      expect.unreachable();
    } catch (e) {
      expect((e as InputError).issues[0].path).toEqual(['dataset', 'line 3', 'CMT']);
    }
  });
  it('finite-difference derivatives (epoch-runner subjects) agree with the forward sensitivities to 1e-5', () => {
    const pb = buildPopulationProblem(parsePopulationRequest({ ...base, dataset: small }));
    const s = pb.subjects[2];
    expect(s.fd).toBe(false);
    const p = individualParams(pb, pb.x0, s, Float64Array.from([0.2, -0.1, 0.1]));
    const sens = predictSubject(pb, s, p, true);
    const fd = predictSubject(pb, { ...s, fd: true }, p, true);
    for (let k = 0; k < sens.f.length; k++) expect(Math.abs(fd.f[k] - sens.f[k]) / sens.f[k]).toBeLessThan(1e-7); // states alone vs with sensitivities: other steps
    const scale = Math.max(...sens.G!.map(Math.abs));
    sens.G!.forEach((g, k) => expect(Math.abs(fd.G![k] - g) / scale).toBeLessThan(1e-5));
  });
  it('BLQ records are left out and said so; resets (EVID 4) go through finite differences', () => {
    const blq = small
      .replace('ID,TIME,AMT,CMT,EVID,DV,MDV,WT', 'ID,TIME,AMT,CMT,EVID,DV,MDV,WT,BLQ')
      .split('\n')
      .map((l, i) => (i === 0 || !l ? l : `${l},${i === 9 ? 1 : 0}`))
      .join('\n');
    const r = fitPopulation({ ...base, dataset: blq });
    expect(r.observations).toBe(63);
    expect(r.warnings.join(' ')).toMatch(/1 observation record\(s\) below the limit of quantification/);
    // Subject 1 dosed again at 30 h after a reset: the same data as a new period.
    const again = small
      .split('\n')
      .filter((l) => /^1,/.test(l))
      .map((l) => l.replace(/^1,([0-9.]+),/, (_m, t) => `1,${Number(t) + 30},`))
      .map((l, k) => (k === 0 ? l.replace(',1,.,1,', ',4,.,1,') : l));
    const lines = small.split('\n');
    lines.splice(10, 0, ...again);
    const rr = fitPopulation({ ...base, dataset: lines.join('\n') });
    expect(rr.observations).toBe(72);
    expect(Number.isFinite(rr.ofv)).toBe(true);
  }, 60_000);
});

describe('VPC and population fits over the API and as jobs', () => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await startServer(0, '127.0.0.1', { workers: 1 });
  });
  afterAll(async () => {
    await srv?.close();
  });
  const post = async (p: string, body: unknown) => {
    const res = await fetch(srv.url + p, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  };
  const estimates = {
    theta: { ka: nlme.ka, CL: nlme.CL, V: nlme.V },
    beta: { 'CL~WT': nlme.beta },
    omega: [
      [nlme.omega_ka, 0, 0],
      [0, nlme.omega_CL, 0],
      [0, 0, nlme.omega_V],
    ],
    sigmaProp: nlme.sigmaProp,
  };

  it(
    'immunopd vpc and POST /api/vpc give identical numbers for the same seed',
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'immunopd-vpc-'));
      const f = path.join(dir, 'vpc.json');
      writeFileSync(
        f,
        JSON.stringify({ ...fitReq, estimates, vpc: { replicates: 500, seed: 7, predictionCorrected: true } }),
      );
      const { o, io: cio } = io();
      expect(await main(['vpc', f, '--dataset', path.join(EX, 'pop-trial.csv')], cio), o.err).toBe(0);
      const cli = JSON.parse(o.out);
      const api = await post('/api/vpc', {
        ...fitReq,
        dataset: csv,
        estimates,
        vpc: { replicates: 500, seed: 7, predictionCorrected: true },
      });
      expect(api.status, JSON.stringify(api.json).slice(0, 300)).toBe(200);
      expect(api.json).toEqual(cli);
      expect(cli.bins.length).toBeGreaterThanOrEqual(6);
      expect(cli.bins.reduce((a: number, b: { n: number }) => a + b.n, 0)).toBe(192);
      // Under the estimates of the data, the observed medians sit in their bands (≥ all but one bin).
      const inside = cli.bins.filter(
        (b: any) => b.observed.p50 >= b.simulated.p50.lo && b.observed.p50 <= b.simulated.p50.hi,
      ).length;
      expect(inside).toBeGreaterThanOrEqual(cli.bins.length - 1);
      const bad = await post('/api/vpc', {
        ...fitReq,
        dataset: csv,
        estimates: { ...estimates, theta: { ka: 1, CL: 4 } },
      });
      expect(bad.status).toBe(400);
      expect(bad.json.error.issues[0].path).toEqual(['estimates', 'theta', 'V']);
      const few = await post('/api/vpc', { ...fitReq, dataset: csv, estimates, vpc: { replicates: 100 } });
      expect(few.status).toBe(400);
      expect(few.json.error.issues[0].path).toEqual(['vpc', 'replicates']);
    },
    T,
  );

  it(
    'POST /api/fit with population is a population fit; the fit job reports iterations; the vpc job runs',
    async () => {
      const small =
        csv
          .split('\n')
          .filter((l, i) => i === 0 || /^[1-8],/.test(l))
          .join('\n') + '\n';
      const req = {
        ...fitReq,
        dataset: small,
        population: { ...fitReq.population, covariance: 'none', maxIterations: 5 },
      };
      const sync = await post('/api/fit', req);
      expect(sync.status, JSON.stringify(sync.json).slice(0, 300)).toBe(200);
      expect(sync.json.method).toBe('focei');
      expect(sync.json.subjects).toBe(8);
      const sub = await post('/api/jobs', { kind: 'fit', request: req });
      expect(sub.status).toBe(202);
      expect(sub.json.progress.total).toBe(5);
      let rec: any;
      for (let k = 0; k < 600; k++) {
        rec = await (await fetch(`${srv.url}/api/jobs/${sub.json.id}`)).json();
        if (rec.status !== 'queued' && rec.status !== 'running') break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(rec.status).toBe('succeeded');
      expect(rec.result.theta.CL.value).toBeCloseTo(sync.json.theta.CL.value, 10);
      const bad = await post('/api/jobs', {
        kind: 'fit',
        request: { ...req, population: { omega: { ka: 0.1 }, method: 'x' } },
      });
      expect(bad.status).toBe(400);
      expect(bad.json.error.issues[0].path).toEqual(['request', 'population', 'method']);
      const v = await post('/api/jobs', {
        kind: 'vpc',
        request: { ...req, result: sync.json, vpc: { replicates: 500, seed: 3 } },
      });
      expect(v.status).toBe(202);
      expect(v.json.progress.total).toBe(500);
      for (let k = 0; k < 600; k++) {
        rec = await (await fetch(`${srv.url}/api/jobs/${v.json.id}`)).json();
        if (rec.status !== 'queued' && rec.status !== 'running') break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(rec.status, JSON.stringify(rec.error)).toBe('succeeded');
      expect(rec.result.replicates).toBe(500);
    },
    T,
  );
});
