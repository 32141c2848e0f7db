// POST /api/fit, /api/optimize, /api/population and /api/sensitivity against a real listening server: the same answers as
// the library, 400 for bad input naming the field.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { startServer, type RunningServer } from '../server/app.ts';
import { fit } from '../src/analysis/fit/index.ts';
import { runLocal } from '../src/jobs/local.ts';

let srv: RunningServer;
beforeAll(async () => {
  srv = await startServer(0, '127.0.0.1', { workers: 1 });
});
afterAll(async () => {
  await srv?.close();
});

async function post(path: string, body: unknown) {
  const res = await fetch(srv.url + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text), text };
}

const cases = JSON.parse(readFileSync(new URL('./reference/fit/cases.json', import.meta.url), 'utf8')).cases;

describe('POST /api/fit', () => {
  it('fits several arms sharing parameters, as the library does', async () => {
    const r = await post('/api/fit', cases['arms-log']);
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    const local = fit(cases['arms-log']);
    expect(r.json.converged).toBe(true);
    for (const [k, e] of Object.entries(local.estimates)) {
      expect(r.json.estimates[k].value).toBeCloseTo((e as { value: number }).value, 10);
      expect(r.json.estimates[k].se).toBeCloseTo((e as { se: number }).se, 10);
    }
    expect(r.json.odeSolves).toBeGreaterThan(0);
  });

  it('bad data: 400 naming the field', async () => {
    const r = await post('/api/fit', {
      ...cases['arms-log'],
      data: [{ time: -1, observable: 'tumorVolume_mm3', value: 1 }],
    });
    expect(r.status).toBe(400);
    expect(r.json.error.issues.map((i: { path: unknown[] }) => i.path.join('.'))).toContain('data.0.time');
    const u = await post('/api/fit', { ...cases['arms-log'], model: 'no-such-model' });
    expect(u.status).toBe(400);
    expect(u.json.error.message).toMatch(/unknown model/);
    const e = await post('/api/fit', { ...cases['arms-log'], estimate: { nope: { initial: 1 } } });
    expect(e.status).toBe(400);
    expect(e.text).toMatch(/nope/);
  });
});

describe('POST /api/optimize', () => {
  it('returns the best schedule and the ranked candidates', async () => {
    const model = {
      id: 'tgi-opt',
      parameters: { k: { value: 0.05 }, kd: { value: 0.02 }, kel: { value: 0.1 }, V: { value: 5 } },
      states: { T: { initial: 1e9, unit: 'cells' }, A: { initial: 0, unit: 'mg' } },
      odes: { T: 'k*T - kd*(A/V)*T', A: '-kel*A' },
      outputs: { tumor: 'T', C_drug: 'A/V' },
      roles: {
        tumor: { series: 'tumor', unit: 'cells' },
        drugs: { drug: { concentration: 'C_drug', doseTarget: 'A' } },
      },
    };
    const r = await post('/api/optimize', {
      model,
      horizon: 60,
      step: 1,
      drugs: [
        {
          name: 'drug',
          target: 'A',
          amount: { values: [50, 100] },
          interval: { values: [7, 14] },
          count: { values: [2, 4] },
        },
      ],
      objective: { finalTumor: 1 },
      constraints: { cumulativeDose: { drug: 300 } },
      search: { seed: 1 },
    });
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    expect(r.json.best.feasible).toBe(true);
    const s = r.json.best.schedule[0];
    expect(s.amount * s.count).toBeLessThanOrEqual(300);
    expect(r.json.table.length).toBeGreaterThan(1);
  });

  it('a malformed request: 400', async () => {
    const r = await post('/api/optimize', { model: 'immunotherapy', drugs: 'x' });
    expect(r.status).toBe(400);
    expect(r.json.error.issues.length).toBeGreaterThan(0);
  });
});

describe('POST /api/population', () => {
  const request = {
    model: 'immunotherapy',
    therapies: ['pembrolizumab-200mg-q3w'],
    times: { start: 0, end: 180, step: 30 },
    population: { n: 40, seed: 7, omega: { r: 0.3, kKill: 0.3 }, quantiles: [0.1, 0.5, 0.9], series: ['tumor', 'T2'] },
  };
  it('gives ordered quantiles of outputs and states, reproducibly (seeded), as the library does', async () => {
    const r = await post('/api/population', request);
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    expect(r.json.times).toEqual([0, 30, 60, 90, 120, 150, 180]);
    expect(Object.keys(r.json.summary)).toEqual(['tumor', 'T2']);
    const t = r.json.summary.tumor;
    t['q0.5'].forEach((m: number, k: number) => {
      expect(t['q0.1'][k]).toBeLessThanOrEqual(m);
      expect(m).toBeLessThanOrEqual(t['q0.9'][k]);
    });
    // Variability in growth and kill: the spread at day 180 is wide.
    expect(t['q0.9'][6] / t['q0.1'][6]).toBeGreaterThan(2);
    expect(r.json.stats.solved).toBe(40);
    const local = (await runLocal('population', request)) as { summary: Record<string, Record<string, number[]>> };
    expect(local.summary.tumor['q0.5']).toEqual(t['q0.5']);
  });
  it('bad input: 400 naming the field', async () => {
    const a = await post('/api/population', {
      ...request,
      population: { ...request.population, omega: { nope: 0.3 } },
    });
    expect(a.status).toBe(400);
    expect(a.json.error.issues[0].path).toEqual(['population', 'omega', 'nope']);
    const b = await post('/api/population', { ...request, population: { ...request.population, n: 1e6 } });
    expect(b.status).toBe(400);
    expect(b.json.error.issues[0].path).toEqual(['population', 'n']);
    const c = await post('/api/population', { ...request, population: { ...request.population, series: ['tumour'] } });
    expect(c.status).toBe(400);
    expect(c.json.error.issues[0].path).toEqual(['population', 'series', 0]);
  });
});

describe('POST /api/sensitivity', () => {
  // One compartment, 100 mg bolus: C(T) = 100 exp(-kT) / V, so (dC/C)/(dk/k) = -kT and (dC/C)/(dV/V) = -1.
  const onecpt = {
    id: 'onecpt',
    parameters: { k: { value: 0.3 }, V: { value: 5 } },
    states: { A: { initial: 0, unit: 'mg' } },
    odes: { A: '-k*A' },
    outputs: { C: 'A/V' },
  };
  const request = {
    model: onecpt,
    times: { start: 0, end: 10, step: 1 },
    doses: [{ target: 'A', amount: 100 }],
    solver: { rtol: 1e-10, atol: 1e-12 },
    sensitivity: { response: { series: 'C', time: 10 }, step: 0.001 },
  };
  it('matches the analytic normalized sensitivities, ranked', async () => {
    const r = await post('/api/sensitivity', request);
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    expect(r.json.parameters.map((p: { name: string }) => p.name)).toEqual(['k', 'V']);
    expect(r.json.parameters[0].normalized).toBeCloseTo(-3, 5);
    expect(r.json.parameters[1].normalized).toBeCloseTo(-1, 5);
    expect(r.json.value).toBeCloseTo(20 * Math.exp(-3), 8);
    expect(r.json.solves).toBe(5);
  });
  it('a metric response on the default model, and bad input named', async () => {
    const r = await post('/api/sensitivity', {
      model: 'immunotherapy',
      therapies: ['pembrolizumab-200mg-q3w'],
      times: { start: 0, end: 180, step: 30 },
      sensitivity: { parameters: ['r', 'kKill', 'K'], response: { metric: 'tumorAUC' } },
    });
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    expect(r.json.parameters).toHaveLength(3);
    // Faster growth means more tumor; stronger kill means less.
    const by = Object.fromEntries(
      r.json.parameters.map((p: { name: string; normalized: number }) => [p.name, p.normalized]),
    );
    expect(by.r).toBeGreaterThan(0);
    expect(by.kKill).toBeLessThan(0);
    const bad = await post('/api/sensitivity', { ...request, sensitivity: { parameters: ['nope'] } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.issues[0].path).toEqual(['sensitivity', 'parameters', 0]);
    const badMetric = await post('/api/sensitivity', { ...request, sensitivity: { response: { metric: 'nope' } } });
    expect(badMetric.status).toBe(400);
    expect(badMetric.json.error.issues[0].path).toEqual(['sensitivity', 'response', 'metric']);
  });
});
