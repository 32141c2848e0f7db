// POST /api/simulate with a NONMEM-style dataset (CSV text or rows); a model file path is never read over the API.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startServer, type RunningServer } from '../server/app.ts';
import { oral1 } from './helpers/linear-pk.ts';

let srv: RunningServer;
beforeAll(async () => {
  srv = await startServer(0, '127.0.0.1', { workers: 1 });
});
afterAll(async () => {
  await srv?.close();
});

async function post(path: string, body: unknown, accept = 'application/json') {
  const res = await fetch(srv.url + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: accept },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    json: (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : undefined,
  };
}

const csv = 'ID,TIME,AMT,CMT,DV,WT\n1,0,100,central,.,70\n1,2,.,CP,.,70\n2,0,100,central,.,90\n2,2,.,CP,.,90\n';

describe('POST /api/simulate with a dataset', () => {
  it('simulates each subject at its records (CSV text and rows give the same)', async () => {
    const r = await post('/api/simulate', { model: oral1, dataset: csv, solver: { rtol: 1e-10, atol: 1e-12 } });
    expect(r.status, r.text).toBe(200);
    const k = (wt: number) => (4 * Math.pow(wt / 70, 0.75)) / 30;
    expect(r.json.subjects.map((s: any) => s.id)).toEqual(['1', '2']);
    r.json.subjects.forEach((s: any, i: number) =>
      expect(s.predictions[0].pred).toBeCloseTo((100 / 30) * Math.exp(-k([70, 90][i]) * 2), 8),
    );
    const rows = [
      { ID: 1, TIME: 0, AMT: 100, CMT: 'central', WT: 70 },
      { ID: 1, TIME: 2, CMT: 'CP', WT: 70 },
      { ID: 2, TIME: 0, AMT: 100, CMT: 'central', WT: 90 },
      { ID: 2, TIME: 2, CMT: 'CP', WT: 90 },
    ];
    const j = await post('/api/simulate', { model: oral1, dataset: rows, solver: { rtol: 1e-10, atol: 1e-12 } });
    expect(j.json.subjects.map((s: any) => s.predictions[0].pred)).toEqual(
      r.json.subjects.map((s: any) => s.predictions[0].pred),
    );
    const c = await post('/api/simulate', { model: oral1, dataset: csv }, 'text/csv');
    expect(c.text.split('\n')[0]).toBe('ID,TIME,observable,DV,PRED,line');
  });

  it('a bad record is a 400 naming its line and column', async () => {
    const r = await post('/api/simulate', { model: oral1, dataset: csv.replace('1,2,.,CP', '1,2,.,liver') });
    expect(r.status).toBe(400);
    expect(r.json.error.issues[0].path).toEqual(['dataset', 'line 3', 'CMT']);
    expect(r.json.error.issues[0].message).toMatch(/^line 3, column 4 \(CMT\): CMT 'liver'/);
  });

  it('a model given as a file path is not read over the API', async () => {
    const r = await post('/api/simulate', { model: './models/oral.json', dataset: csv });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/unknown model/);
  });
});

describe('covariates per arm', () => {
  it('POST /api/compare: each arm its own weight covariate on the allometric clearance', async () => {
    const r = await post('/api/compare', {
      model: oral1,
      times: [0, 2],
      covariates: { WT: 70 },
      solver: { rtol: 1e-10, atol: 1e-12 },
      arms: [
        { name: 'typical', doses: [{ target: 'central', amount: 100 }] },
        { name: 'heavy', covariates: { WT: 110 }, doses: [{ target: 'central', amount: 100 }] },
      ],
    });
    expect(r.status, r.text).toBe(200);
    const k = (wt: number) => (4 * Math.pow(wt / 70, 0.75)) / 30;
    expect(r.json.arms[0].result.states.central[1]).toBeCloseTo(100 * Math.exp(-k(70) * 2), 8);
    expect(r.json.arms[1].result.states.central[1]).toBeCloseTo(100 * Math.exp(-k(110) * 2), 8);
    const bad = await post('/api/compare', {
      model: oral1,
      times: [0, 2],
      arms: [{ name: 'a', covariates: { HT: 170 } }],
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.issues[0].path).toEqual(['arms', 0, 'covariates', 'HT']);
  });
});

describe('POST /api/fit with a dataset', () => {
  it('fits CL from two subjects of different weights', async () => {
    const k = (wt: number) => (4 * Math.pow(wt / 70, 0.75)) / 30;
    const lines = ['ID,TIME,EVID,AMT,CMT,DV,MDV,WT'];
    for (const [id, wt] of [
      [1, 60],
      [2, 95],
    ]) {
      lines.push(`${id},0,1,100,central,.,1,${wt}`);
      for (const t of [1, 3, 6, 12]) lines.push(`${id},${t},0,.,CP,${(100 / 30) * Math.exp(-k(wt) * t)},0,${wt}`);
    }
    const r = await post('/api/fit', {
      model: oral1,
      dataset: lines.join('\n'),
      estimate: { CL: { initial: 2 } },
      error: { model: 'additive', sigma: 0.01 },
      solver: { rtol: 1e-10, atol: 1e-12 },
    });
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    expect(r.json.estimates.CL.value).toBeCloseTo(4, 6);
    const none = await post('/api/fit', { model: oral1, estimate: { CL: { initial: 2 } } });
    expect(none.status).toBe(400);
    expect(none.json.error.issues[0].path).toEqual(['data']);
  });
});
