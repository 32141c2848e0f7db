// `immunopd population`, `sensitivity` and `compare` give the API's numbers for the same request and seed
// (one schema, two entry points), as JSON and CSV; bad input is one line naming the field, exit 2.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, type RunningServer } from '../server/app.ts';
import { main } from '../src/cli/main.ts';

let srv: RunningServer;
let dir: string;
beforeAll(async () => {
  srv = await startServer(0, '127.0.0.1', { workers: 1 });
  dir = mkdtempSync(path.join(tmpdir(), 'immunopd-cli-analysis-'));
});
afterAll(async () => {
  await srv?.close();
});

async function post(route: string, body: unknown) {
  const res = await fetch(srv.url + route, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}
async function cli(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}
const file = (name: string, content: unknown) => {
  const f = path.join(dir, name);
  writeFileSync(f, JSON.stringify(content));
  return f;
};
/** Wall times differ between runs; everything else must be identical. */
const noMs = (x: unknown): unknown => JSON.parse(JSON.stringify(x), (k, v) => (k === 'ms' ? 0 : v));

const trial = {
  model: 'immunotherapy',
  times: { start: 0, end: 180, step: 30 },
  population: {
    n: 16,
    seed: 9,
    omega: {
      sd: { r: 0.3, kKill: 0.4 },
      correlation: [
        [1, -0.4],
        [-0.4, 1],
      ],
    },
    series: ['tumor'],
    perSubject: true,
    response: { progressionBy: [90] },
  },
  arms: [
    { name: 'untreated', therapies: [] },
    { name: 'pembrolizumab', therapies: ['pembrolizumab-200mg-q3w'] },
  ],
};

describe('CLI = API', () => {
  it('population (a trial with two arms): identical JSON for the same seed; CSV bands', async () => {
    const api = await post('/api/population', trial);
    expect(api.status, api.text.slice(0, 300)).toBe(200);
    const f = file('trial.json', trial);
    const c = await cli(['population', f]);
    expect(c.code, c.err).toBe(0);
    expect(noMs(JSON.parse(c.out))).toEqual(noMs(JSON.parse(api.text)));
    const body = JSON.parse(c.out);
    expect(body.arms.map((a: { name: string }) => a.name)).toEqual(['untreated', 'pembrolizumab']);
    expect(body.arms[1].response.objectiveResponse.n).toBe(16);
    const csv = await cli(['population', f, '--format', 'csv']);
    const lines = csv.out.trim().split('\n');
    expect(lines[0]).toBe('arm,series,time,q0.05,q0.5,q0.95,mean');
    expect(lines).toHaveLength(1 + 2 * 7);
    expect(Number(lines[7].split(',')[4])).toBe(body.arms[0].summary.tumor['q0.5'][6]);
  }, 120_000);

  it('sensitivity (Sobol): identical numbers', async () => {
    const req = {
      model: 'immunotherapy',
      therapies: ['pembrolizumab-200mg-q3w'],
      times: { start: 0, end: 120, step: 30 },
      sensitivity: {
        method: 'sobol',
        ranges: { r: { lower: 0.05, upper: 0.2, distribution: 'loguniform' }, kKill: { lower: 0.5, upper: 2 } },
        samples: 32,
        seed: 4,
        bootstrap: 50,
        response: { metric: 'tumorAUC' },
      },
    };
    const api = await post('/api/sensitivity', req);
    expect(api.status, api.text.slice(0, 300)).toBe(200);
    const f = file('sobol.json', req);
    const c = await cli(['sensitivity', f]);
    expect(c.code, c.err).toBe(0);
    expect(noMs(JSON.parse(c.out))).toEqual(noMs(JSON.parse(api.text)));
    const csv = await cli(['sensitivity', f, '--format', 'csv']);
    expect(csv.out.split('\n')[0]).toBe('parameter,S1,S1_lower,S1_upper,ST,ST_lower,ST_upper');
    expect(Number(csv.out.split('\n')[1].split(',')[4])).toBe(JSON.parse(api.text).indices.r.ST);
  }, 120_000);

  it('compare: the API body, JSON and CSV', async () => {
    const req = {
      model: 'immunotherapy',
      times: { start: 0, end: 90, step: 30 },
      arms: [{ name: 'none' }, { name: 'pembro', therapies: ['pembrolizumab-200mg-q3w'] }],
    };
    const f = file('compare.json', req);
    for (const format of ['json', 'csv']) {
      const api = await post(`/api/compare${format === 'csv' ? '?format=csv' : ''}`, req);
      expect(api.status).toBe(200);
      const c = await cli(['compare', f, '--format', format]);
      expect(c.code, c.err).toBe(0);
      if (format === 'csv') expect(c.out).toBe(api.text);
      else expect(noMs(JSON.parse(c.out))).toEqual(noMs(JSON.parse(api.text)));
    }
  }, 120_000);

  it('optimize with a virtual population: the same best schedule and numbers', async () => {
    const model = {
      id: 'pk-kill',
      title: 'bolus drug, Emax kill',
      timeUnit: 'day',
      parameters: {
        V: { value: 5 },
        ke: { value: 0.1 },
        g: { value: 0.01 },
        kmax: { value: 0.08 },
        EC50: { value: 10 },
      },
      states: { A: { initial: 0 }, D: { initial: 50 } },
      odes: { A: '-ke*A', D: '(g - kmax*(A/V)/(EC50 + A/V))*D' },
      outputs: { C_drug: 'A/V', sumOfDiameters_mm: 'D', tumor: 'D' },
      roles: {
        tumor: { series: 'tumor', unit: 'mm', diameter: 'sumOfDiameters_mm' },
        drugs: { drug: { concentration: 'C_drug', doseTarget: 'A' } },
      },
    };
    const req = {
      model,
      horizon: 60,
      step: 2,
      drugs: [{ name: 'drug', target: 'A', amount: { values: [10, 100] }, interval: 14, count: 3 }],
      population: { n: 10, seed: 2, omega: { V: 0.3 } },
      objective: { kind: 'tumorPercentile', percentile: 90 },
      constraints: { cmax: { drug: { percentile: 95, max: 1000 } } },
    };
    const api = await post('/api/optimize', req);
    expect(api.status, api.text.slice(0, 300)).toBe(200);
    const c = await cli(['optimize', file('popopt.json', req)]);
    expect(c.code, c.err).toBe(0);
    expect(noMs(JSON.parse(c.out))).toEqual(noMs(JSON.parse(api.text)));
    expect(JSON.parse(c.out).best.schedule[0].amount).toBe(100);
  }, 60_000);

  it('bad input: one line naming the field, exit 2', async () => {
    const c = await cli([
      'population',
      file('bad.json', {
        ...trial,
        population: {
          ...trial.population,
          omega: {
            block: [
              ['r', 'kKill'],
              [
                [0.1, 0.5],
                [0.5, 0.1],
              ],
            ],
          },
        },
      }),
    ]);
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/^error: population\.omega.*not positive definite/);
    const s = await cli([
      'sensitivity',
      file('bad2.json', {
        model: 'immunotherapy',
        times: { start: 0, end: 10, step: 5 },
        sensitivity: { method: 'morris', response: { metric: 'tumorAUC' } },
      }),
    ]);
    expect(s.code).toBe(2);
    expect(s.err).toMatch(/sensitivity\.ranges/);
    const k = await cli([
      'compare',
      file('bad3.json', {
        model: 'immunotherapy',
        times: { start: 0, end: 10, step: 5 },
        arms: [{ name: 'a', therapies: ['nope'] }],
      }),
    ]);
    expect(k.code).toBe(2);
    expect(k.err).toMatch(/arms\[0\]|arms\.0/);
  });
});
