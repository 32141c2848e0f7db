// Non-compartmental analysis (src/analysis/nca.ts, `immunopd nca`, POST /api/nca) against closed forms of
// one- and two-compartment models. Tolerances: exact (1e-10) where the linear-up/log-down rule is exact (a
// monoexponential decline); otherwise as stated per case (the trapezoid error of the sampling design).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ncaProfile, ncaRequest, parseNcaCsv, ncaSubject } from '../src/analysis/nca.ts';
import { InputError } from '../src/errors.ts';
import { main } from '../src/cli/main.ts';
import { startServer, type RunningServer } from '../server/app.ts';

const rel = (a: number, b: number) => Math.abs(a / b - 1);

describe('one-compartment IV bolus: C = D/V e^{-kt} (log-down rule exact)', () => {
  const D = 100,
    V = 10,
    k = 0.1;
  const t = [0.5, 1, 2, 4, 6, 8, 12, 24, 36, 48];
  const c = t.map((x) => (D / V) * Math.exp(-k * x));
  const r = ncaProfile(t, c, { dose: D, route: 'iv-bolus', tau: 24 });
  it('λz, t½, AUC0–∞, AUMC0–∞, MRT, CL, Vz to 1e-10', () => {
    expect(rel(r.lambdaZ!.lambdaZ, k)).toBeLessThan(1e-10);
    expect(r.lambdaZ!.points).toBe(9); // every point after Cmax: ties in adjusted R² go to the most points
    expect(rel(r.halfLife!, Math.LN2 / k)).toBeLessThan(1e-10);
    expect(rel(r.AUCinf!, D / (V * k))).toBeLessThan(1e-10); // C0 back-extrapolated from the first two points
    expect(rel(r.AUMCinf!, D / (V * k * k))).toBeLessThan(1e-10);
    expect(rel(r.MRT!, 1 / k)).toBeLessThan(1e-10);
    expect(rel(r.Cmax, (D / V) * Math.exp(-0.05))).toBeLessThan(1e-14);
  });
  it('with tau = 24: Ctrough = C(24), AUCτ, CL = dose/AUCτ, accumulation 1/(1 − e^{−kτ})', () => {
    expect(rel(r.Ctrough!, (D / V) * Math.exp(-2.4))).toBeLessThan(1e-14);
    expect(rel(r.AUCtau!, (D / (V * k)) * (1 - Math.exp(-2.4)))).toBeLessThan(1e-10);
    expect(rel(r.CL!, D / r.AUCtau!)).toBeLessThan(1e-14);
    expect(rel(r.accumulationRatio!, 1 / (1 - Math.exp(-2.4)))).toBeLessThan(1e-10);
  });
  it('single dose (no tau): CL = V k, Vz = V', () => {
    const s = ncaProfile(t, c, { dose: D, route: 'iv-bolus' });
    expect(rel(s.CL!, V * k)).toBeLessThan(1e-10);
    expect(rel(s.Vz!, V)).toBeLessThan(1e-10);
  });
});

describe('one-compartment first-order absorption (Bateman), dense sampling every 0.05 h', () => {
  const ka = 1,
    k = 0.1,
    FDV = 10;
  const f = (x: number) => ((FDV * ka) / (ka - k)) * (Math.exp(-k * x) - Math.exp(-ka * x));
  const tmax = Math.log(ka / k) / (ka - k);
  const t = [...Array.from({ length: 960 }, (_, i) => 0.05 * (i + 1)), tmax].sort((a, b) => a - b);
  const r = ncaProfile(t, t.map(f), { dose: 100 });
  it('Tmax = ln(ka/k)/(ka−k), Cmax exact; AUC0–∞ = FD/(Vk) to 1e-4; MRT = 1/k + 1/ka to 1e-3; λz = k to 5e-3', () => {
    expect(r.Tmax).toBe(tmax);
    expect(r.Cmax).toBe(f(tmax));
    expect(rel(r.AUCinf!, FDV / k)).toBeLessThan(1e-4);
    expect(rel(r.MRT!, 1 / k + 1 / ka)).toBeLessThan(1e-3);
    // PKNCA's tie-break (most points within 1e-4 of the best adjusted R²) reaches into the absorption tail.
    expect(rel(r.lambdaZ!.lambdaZ, k)).toBeLessThan(5e-3);
  });
});

describe('two-compartment IV bolus: C = A e^{-αt} + B e^{-βt}', () => {
  const A = 8,
    B = 2,
    al = 1,
    be = 0.03,
    D = 100;
  const conc = (x: number) => A * Math.exp(-al * x) + B * Math.exp(-be * x);
  const auc = A / al + B / be;
  const aumc = A / al ** 2 + B / be ** 2;
  it('clinical sampling (0.25–168 h): λz = β to 2e-4 from the 8 points from 8 h; AUC0–∞ to 1 %', () => {
    const t = [0.25, 0.5, 1, 2, 4, 8, 12, 24, 48, 72, 96, 120, 168];
    const r = ncaProfile(t, t.map(conc), { dose: D, route: 'iv-bolus' });
    expect(r.lambdaZ!.points).toBe(8);
    expect(r.lambdaZ!.firstTime).toBe(8);
    expect(rel(r.lambdaZ!.lambdaZ, be)).toBeLessThan(2e-4);
    expect(rel(r.AUCinf!, auc)).toBeLessThan(1e-2);
    expect(rel(r.Vz!, D / (r.AUCinf! * r.lambdaZ!.lambdaZ))).toBeLessThan(1e-12);
  });
  it('dense sampling (every 0.1 h to 168 h): AUC0–∞ to 2e-5, AUMC0–∞ to 2e-4, MRT to 2e-4', () => {
    const t = Array.from({ length: 1680 }, (_, i) => 0.1 * (i + 1));
    const r = ncaProfile(t, t.map(conc), { dose: D, route: 'iv-bolus' });
    expect(rel(r.AUCinf!, auc)).toBeLessThan(2e-5);
    expect(rel(r.AUMCinf!, aumc)).toBeLessThan(2e-4);
    expect(rel(r.MRT!, aumc / auc)).toBeLessThan(2e-4);
  });
});

describe('λz point selection (PKNCA rules)', () => {
  it('Cmax is excluded and at least 3 points are needed: regression through the 3 points after Tmax', () => {
    const t = [0.5, 1, 2, 4, 8];
    const c = [1, 5, 4, 2, 1];
    const r = ncaProfile(t, c);
    // Least squares of ln c on t over (2, ln 4), (4, ln 2), (8, 0), by hand.
    const xs = [2, 4, 8],
      ys = [Math.log(4), Math.log(2), 0];
    const mx = 14 / 3,
      my = ys.reduce((a, b) => a + b) / 3;
    const slope = xs.reduce((s, x, i) => s + (x - mx) * (ys[i] - my), 0) / xs.reduce((s, x) => s + (x - mx) ** 2, 0);
    expect(rel(r.lambdaZ!.lambdaZ, -slope)).toBeLessThan(1e-12);
    expect(r.lambdaZ!.points).toBe(3);
    const few = ncaProfile([1, 2, 3], [5, 3, 1]);
    expect(few.lambdaZ).toBeUndefined();
    expect(few.AUCinf).toBeUndefined();
    expect(few.notes[0]).toMatch(/fewer than 3 positive concentrations after Tmax/);
  });
  it('a window with a better adjusted R² wins over more points outside the tolerance', () => {
    // Exponential from t = 2 on, but the point at t = 2 sits 30 % high: the last 4 points fit exactly.
    const t = [1, 2, 4, 6, 8, 10];
    const c = t.map((x) => 10 * Math.exp(-0.2 * x));
    c[0] = 20; // Cmax
    c[1] *= 1.3;
    const r = ncaProfile(t, c);
    expect(r.lambdaZ!.points).toBe(4);
    expect(rel(r.lambdaZ!.lambdaZ, 0.2)).toBeLessThan(1e-12);
  });
});

describe('input checks', () => {
  it('names the observation and the reason', () => {
    expect(() => ncaProfile([0, 2, 1], [1, 2, 3])).toThrow(/times must be strictly increasing/);
    try {
      ncaRequest({
        observations: [
          { time: 0, conc: 1 },
          { time: 1, conc: -2 },
        ],
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).issues[0].path).toEqual(['observations', 1, 'conc']);
    }
    expect(() => parseNcaCsv('time,conc\n0,1\n1,abc\n')).toThrow(/line 3.*conc 'abc' is not a number/);
    expect(() => parseNcaCsv('t,c\n0,1\n')).toThrow(/columns time and conc/);
  });
  it('groups subjects in order of appearance', () => {
    const obs = parseNcaCsv('time,conc,subject\n1,10,a\n2,5,a\n4,2.5,a\n8,1.25,a\n1,8,b\n2,4,b\n3,2,b\n4,1,b\n');
    const r = ncaRequest({ observations: obs, route: 'iv-bolus' });
    expect(r.subjects.map((s) => s.subject)).toEqual(['a', 'b']);
    expect(rel(r.subjects[1].lambdaZ!.lambdaZ, Math.LN2)).toBeLessThan(1e-12);
  });
  it('a NONMEM-style subject (src/data/types.ts): observations after the first dose, dose amount from the record', () => {
    const obs = [1, 2, 4, 8].map((t, k) => ({ line: k + 3, time: t, observable: 'C', value: 10 * 2 ** -t, order: 0 }));
    const r = ncaSubject(
      {
        id: '7',
        doses: [{ target: 'A', amount: 50, start: 0 }],
        covariates: {},
        covariateChanges: [],
        observations: obs,
        resets: [],
      },
      'C',
      { route: 'iv-bolus' },
    );
    expect(r.subject).toBe('7');
    expect(rel(r.AUCinf!, 10 / Math.LN2)).toBeLessThan(1e-10);
    expect(rel(r.CL!, 50 / (10 / Math.LN2))).toBeLessThan(1e-10);
  });
});

describe('immunopd nca', () => {
  async function cli(args: string[]) {
    let out = '';
    let err = '';
    const code = await main(args, { out: (s) => (out += s), err: (s) => (err += s) });
    return { code, out, err };
  }
  it('on a CSV file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nca-'));
    const f = path.join(dir, 'd.csv');
    writeFileSync(
      f,
      'time,conc\n' + [0.5, 1, 2, 4, 8, 12].map((t) => `${t},${10 * Math.exp(-0.1 * t)}`).join('\n') + '\n',
    );
    const r = await cli(['nca', f, '--route', 'iv-bolus', '--dose', '100']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(rel(j.subjects[0].CL, 1)).toBeLessThan(1e-10);
    const bad = await cli(['nca', f, '--route', 'oral']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/route/);
  });
  it('on a simulated series: pembrolizumab 200 mg bolus, λz = the terminal eigenvalue β of its two-compartment model', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nca-'));
    const f = path.join(dir, 's.json');
    writeFileSync(
      f,
      JSON.stringify({
        model: 'immunotherapy',
        times: [0.5, 1, 2, 4, 7, 14, 21, 42, 63, 84, 105, 126],
        doses: [{ target: 'PEMc', amount: 200 }],
        solver: { rtol: 1e-10, atol: 1e-12 },
      }),
    );
    const r = await cli(['nca', f]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out).subjects[0];
    // k10 = CL/V1, k12 = Q/V1, k21 = Q/V2 (models/immunotherapy.json); β = smaller root of s² + (k10+k12+k21)s + k10 k21.
    const k10 = 0.22 / 3.48,
      k12 = 0.795 / 3.48,
      k21 = 0.795 / 4.06;
    const sum = k10 + k12 + k21;
    const beta = (sum - Math.sqrt(sum * sum - 4 * k10 * k21)) / 2;
    expect(rel(s.lambdaZ.lambdaZ, beta)).toBeLessThan(1e-3);
    expect(rel(s.CL, 0.22)).toBeLessThan(5e-3); // dose / AUC0–∞ of a bolus = CL
  });
});

describe('POST /api/nca', () => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await startServer(0, '127.0.0.1', { workers: 1 });
  });
  afterAll(async () => {
    await srv?.close();
  });
  const post = async (body: unknown) => {
    const res = await fetch(srv.url + '/api/nca', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  };
  it('JSON observations and CSV text give the same closed-form answer; bad input is a 400 naming the field', async () => {
    const t = [0.5, 1, 2, 4, 8, 12];
    const a = await post({
      route: 'iv-bolus',
      dose: 100,
      observations: t.map((x) => ({ time: x, conc: 10 * Math.exp(-0.1 * x) })),
    });
    expect(a.status).toBe(200);
    expect(rel(a.json.subjects[0].AUCinf, 100)).toBeLessThan(1e-10);
    const b = await post({
      route: 'iv-bolus',
      dose: 100,
      csv: 'time,conc\n' + t.map((x) => `${x},${10 * Math.exp(-0.1 * x)}`).join('\n'),
    });
    expect(b.json.subjects[0].AUCinf).toBe(a.json.subjects[0].AUCinf);
    const bad = await post({ observations: [{ time: 0, conc: 'x' }] });
    expect(bad.status).toBe(400);
    expect(bad.json.error.issues[0].path).toEqual(['observations', 0, 'conc']);
    const doc = await (await fetch(srv.url + '/api/openapi.json')).json();
    expect(doc.paths['/api/nca'].post).toBeDefined();
    expect(doc.components.schemas.NcaRequest).toBeDefined();
  });
});
