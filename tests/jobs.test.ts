// The job API on the embedded backend (POST/GET/DELETE /api/jobs, server-sent events), the population kind's
// chunking (the merged summary does not depend on the chunks: identical to one chunk in this thread), and
// the pool's rules for mixed load: heavy work never takes every thread, a cheap request that cannot start
// in its budget gets 503 at once, a client that goes away frees its thread.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startServer, type RunningServer } from '../server/app.ts';
import { runLocal } from '../src/jobs/local.ts';
import { populationKind, chunkSize } from '../src/jobs/kinds/population.ts';
import { subjectSeed } from '../src/analysis/population-sampling.ts';
import { runPopulation } from '../src/analysis/population-request.ts';
import { encode, decode } from '../src/jobs/codec.ts';
import { JOB_KIND_NAMES } from '../src/jobs/kinds/index.ts';
import { fit } from '../src/analysis/fit/index.ts';

const request = {
  model: 'tgi-gompertz',
  times: { start: 0, end: 60, step: 10 },
  population: { n: 3000, seed: 11, omega: { r: 0.3 }, quantiles: [0.05, 0.5, 0.95] },
};

let s: RunningServer;
beforeAll(async () => {
  s = await startServer(0, '127.0.0.1', { workers: 2 });
});
afterAll(async () => {
  await s?.close();
});

const api = async (method: string, path: string, body?: unknown) => {
  const r = await fetch(`${s.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text, headers: r.headers };
};

async function waitFor(id: string) {
  for (;;) {
    const r = await api('GET', `/api/jobs/${id}`);
    if (r.json.status !== 'queued' && r.json.status !== 'running') return r.json;
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe('population chunks', () => {
  it('subject seeds depend on (seed, i) only and differ between subjects and seeds', () => {
    expect(subjectSeed(1, 5)).toBe(subjectSeed(1, 5));
    const seeds = new Set(Array.from({ length: 10_000 }, (_, i) => subjectSeed(1, i)));
    expect(seeds.size).toBe(10_000);
    expect(subjectSeed(2, 5)).not.toBe(subjectSeed(1, 5));
  });
  it('splits into chunks covering every subject once', () => {
    const req = populationKind.schema.parse({ ...request, population: { ...request.population, n: 20_001 } });
    const chunks = populationKind.split(req, 'embedded');
    // key: the request's content hash (SHA-256, base64), the same for every chunk of the job.
    expect(chunks[0]).toEqual({
      start: 0,
      count: chunkSize(20_001),
      backend: 'embedded',
      key: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/),
    });
    expect(new Set(chunks.map((c) => c.key)).size).toBe(1);
    expect(chunks.reduce((a, c) => a + c.count, 0)).toBe(20_001);
    chunks.forEach((c, i) => i > 0 && expect(c.start).toBe(chunks[i - 1].start + chunks[i - 1].count));
  });
  it('the merged summary is bit-identical however the subjects are chunked', async () => {
    const req = populationKind.schema.parse({ ...request, population: { ...request.population, n: 500 } });
    const ctx = { progress() {}, signal: { aborted: false } };
    const one = populationKind.merge(req, [
      populationKind.runChunk(req, { start: 0, count: 500, backend: 'embedded' }, ctx) as any,
    ]);
    const parts = [
      [0, 7],
      [7, 200],
      [207, 293],
    ].map(([start, count]) => populationKind.runChunk(req, { start, count, backend: 'embedded' }, ctx) as any);
    // Through the Redis codec too: the bits survive.
    const many = populationKind.merge(
      req,
      parts.map((p) => decode(encode(p)) as any),
    );
    expect(many.summary).toEqual(one.summary);
    expect(many.stats.rhsEvaluations).toBe(one.stats.rhsEvaluations);
    // Quantiles against a direct sort of every value at the last time.
    // The population module's own run (the synchronous route's and the CLI's): the same numbers.
    const inProcess = runPopulation(req);
    expect(inProcess.summary).toEqual(one.summary);
    expect(inProcess.stats.rhsEvaluations).toBe(one.stats.rhsEvaluations);
    // Time-major partials: time 6's values are one run per chunk.
    const at6 = (p: any) => Array.from((p.arms[0].series[0] as Float64Array).slice(6 * p.count, 7 * p.count));
    const last = parts.flatMap(at6).sort((a, b) => a - b);
    const pos = (last.length - 1) * 0.5;
    expect(one.summary.tumor ?? one.summary[Object.keys(one.summary)[0]]).toBeDefined();
    const series = Object.values(one.summary)[0];
    expect(series['q0.5'][6]).toBe(
      last[Math.floor(pos)] + (last[Math.ceil(pos)] - last[Math.floor(pos)]) * (pos - Math.floor(pos)),
    );
  });
});

describe('POST /api/jobs (embedded)', () => {
  it('runs a population job: 202, progress, the result identical to the in-process run', async () => {
    const post = await api('POST', '/api/jobs', { kind: 'population', request });
    expect(post.status, post.text).toBe(202);
    expect(post.json.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(post.headers.get('location')).toBe(`/api/jobs/${post.json.id}`);
    const done = await waitFor(post.json.id);
    expect(done.status).toBe('succeeded');
    expect(done.progress.done).toBe(3000);
    expect(done.progress.total).toBe(3000);
    expect(done.progress.chunksDone).toBe(done.progress.chunks);
    expect(Object.values(done.workers as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(done.progress.chunks);
    const local = (await runLocal('population', request)) as any;
    expect(done.result.summary).toEqual(local.summary);
    expect(done.result.stats.subjects).toBe(3000);
    // Per-subject rows, streamed as CSV: recomputed, the very values the summary was made of.
    const rows = await fetch(`${s.url}/api/jobs/${post.json.id}/subjects`);
    expect(rows.headers.get('content-type')).toMatch(/text\/csv/);
    const lines = (await rows.text()).trim().split('\n');
    expect(lines[0]).toBe(`subject,time,${Object.keys(local.summary).join(',')}`);
    expect(lines.length).toBe(1 + 3000 * done.result.times.length);
    expect(lines[1]).toMatch(/^0,0,/);
    expect(lines.at(-1)).toMatch(/^2999,60,/);
    const atEnd = lines
      .slice(1)
      .map((l) => l.split(','))
      .filter((c) => c[1] === '60')
      .map((c) => Number(c[2]))
      .sort((a, b) => a - b);
    expect(atEnd.length).toBe(3000);
    const last = done.result.times.length - 1;
    const series = Object.keys(local.summary)[0];
    expect(atEnd[1499] + (atEnd[1500] - atEnd[1499]) * 0.5).toBe(done.result.summary[series]['q0.5'][last]);
    // The synchronous route gives the same numbers.
    const sync = await api('POST', '/api/population', request);
    expect(sync.status).toBe(200);
    expect(sync.json.summary).toEqual(local.summary);
  });
  it('streams progress as server-sent events, ending with the final status', async () => {
    const post = await api('POST', '/api/jobs', {
      kind: 'population',
      request: { ...request, population: { ...request.population, seed: 12 } },
    });
    const r = await fetch(`${s.url}/api/jobs/${post.json.id}/events`);
    expect(r.headers.get('content-type')).toMatch(/text\/event-stream/);
    const text = await r.text();
    const events = [...text.matchAll(/event: (\w+)\ndata: (.*)\n\n/g)].map((m) => ({
      event: m[1],
      data: JSON.parse(m[2]),
    }));
    expect(events.at(-1)!.event).toBe('end');
    expect(events.at(-1)!.data.status).toBe('succeeded');
    const dones = events.map((e) => e.data.progress.done);
    expect([...dones].sort((a, b) => a - b)).toEqual(dones);
    expect(dones.at(-1)).toBe(3000);
  });
  it('DELETE cancels a running job', async () => {
    const post = await api('POST', '/api/jobs', {
      kind: 'population',
      request: {
        ...request,
        model: 'immunotherapy',
        times: { start: 0, end: 180, step: 30 },
        population: { n: 100_000, seed: 1, omega: { r: 0.3 } },
      },
    });
    expect(post.status, post.text).toBe(202);
    const del = await api('DELETE', `/api/jobs/${post.json.id}`);
    expect(del.status).toBe(202);
    const done = await waitFor(post.json.id);
    expect(done.status).toBe('cancelled');
    expect(done.progress.done).toBeLessThan(100_000);
    expect((await api('DELETE', `/api/jobs/${post.json.id}`)).status).toBe(409);
    // The pool is free again: a cheap request is answered.
    expect((await api('POST', '/api/simulate', { model: 'immunotherapy', times: { end: 10 } })).status).toBe(200);
  });
  it('bad requests: 400 naming the field; unknown job 404', async () => {
    const a = await api('POST', '/api/jobs', { kind: 'nope', request: {} });
    expect(a.status).toBe(400);
    expect(a.json.error.issues[0].path).toEqual(['kind']);
    const b = await api('POST', '/api/jobs', {
      kind: 'population',
      request: { ...request, population: { ...request.population, n: 2_000_000 } },
    });
    expect(b.status).toBe(400);
    expect(b.json.error.issues[0].path).toEqual(['request', 'population', 'n']);
    // Over the embedded backend's limit: the message says how to go further.
    const c = await api('POST', '/api/jobs', {
      kind: 'population',
      request: { ...request, population: { ...request.population, n: 500_000 } },
    });
    expect(c.status).toBe(400);
    expect(c.json.error.message).toMatch(/REDIS_URL/);
    const d = await api('POST', '/api/jobs', {
      kind: 'population',
      request: { ...request, population: { ...request.population, omega: { nope: 0.3 } } },
    });
    expect(d.status).toBe(202);
    const failed = await waitFor(d.json.id);
    expect(failed.status).toBe('failed');
    expect(failed.error.issues[0].path).toEqual(['request', 'population', 'omega', 'nope']);
    const e = await api('POST', '/api/jobs', { kind: 'population', request, extra: 1 });
    expect(e.status).toBe(400);
    expect(e.json.error.issues[0].path).toEqual(['extra']);
    expect((await api('GET', '/api/jobs/00000000-0000-0000-0000-000000000000')).status).toBe(404);
    expect((await api('GET', '/api/jobs/constructor')).status).toBe(404);
  });
  it('every population feature gives the same numbers as a job, on the synchronous route and in process; rows per arm', async () => {
    // Block Ω, a normal parameter, resampled covariate rows, residual error, two arms, response
    // probabilities and per-subject output with series, all at once.
    const trial = {
      model: 'tgi-gompertz',
      times: { start: 0, end: 60, step: 10 },
      parameters: { kKill: 0.02 },
      population: {
        n: 300,
        seed: 3,
        omega: {
          block: [
            ['r', 'K', 'kKill'],
            [
              [0.09, 0.03, 0],
              [0.03, 0.16, 0],
              [0, 0, 1e-6],
            ],
          ],
        },
        distributions: { kKill: 'normal' },
        covariates: { table: { columns: ['V0'], rows: [[5e5], [1e6], [2e6]] } },
        residual: { tumor: { proportional: 0.1 } },
        series: ['tumor', 'Cd'],
        perSubject: { series: true },
        response: { progressionBy: [30] },
      },
      arms: [
        { name: 'control', parameters: { kKill: 0 } },
        { name: 'drug', doses: [{ target: 'Cd', amount: 5, every: 7, count: 8 }] },
      ],
    };
    const noMs = (x: unknown) => JSON.parse(JSON.stringify(x), (k, v) => (k === 'ms' ? 0 : v));
    const post = await api('POST', '/api/jobs', { kind: 'population', request: trial });
    expect(post.status, post.text).toBe(202);
    const done = await waitFor(post.json.id);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    const sync = await api('POST', '/api/population', trial);
    expect(sync.status, sync.text.slice(0, 300)).toBe(200);
    expect(noMs(done.result)).toEqual(noMs(sync.json));
    expect(noMs(done.result)).toEqual(noMs(runPopulation(trial)));
    expect(done.result.arms.map((a: any) => a.name)).toEqual(['control', 'drug']);
    expect(done.result.subjects).toHaveLength(300);
    // the drug shrinks the median tumor
    expect(done.result.arms[1].summary.tumor['q0.5'][6]).toBeLessThan(done.result.arms[0].summary.tumor['q0.5'][6]);
    // Rows: subject, arm, time, series; the values (residual error included) of the per-subject output.
    const rows = (await (await fetch(`${s.url}/api/jobs/${post.json.id}/subjects`)).text()).trim().split('\n');
    expect(rows[0]).toBe('subject,arm,time,tumor,Cd');
    expect(rows).toHaveLength(1 + 300 * 2 * 7);
    const five = rows
      .slice(1)
      .map((l) => l.split(','))
      .filter((c) => c[0] === '5' && c[1] === 'drug');
    expect(five.map((c) => Number(c[3]))).toEqual(done.result.subjects[5].arms[1].series.tumor);
  });
  it('population limits by backend: the synchronous route points to jobs; per-subject output only up to its limit', async () => {
    const big = await api('POST', '/api/population', { ...request, population: { ...request.population, n: 20_001 } });
    expect(big.status).toBe(400);
    expect(big.json.error.issues[0].path).toEqual(['population', 'n']);
    expect(big.json.error.message).toMatch(/POST \/api\/jobs/);
    const per = await api('POST', '/api/jobs', {
      kind: 'population',
      request: { ...request, population: { ...request.population, n: 20_001, perSubject: true } },
    });
    expect(per.status).toBe(400);
    expect(per.json.error.issues[0].path).toEqual(['request', 'population', 'perSubject']);
    const rowsTooSoon = await api('POST', '/api/jobs', {
      kind: 'population',
      request: { ...request, population: { ...request.population, seed: 99 } },
    });
    const early = await api('GET', `/api/jobs/${rowsTooSoon.json.id}/subjects`);
    // 409 while it runs (or 200 if it already finished on a fast machine)
    expect([409, 200]).toContain(early.status);
    await waitFor(rowsTooSoon.json.id);
  });
  it('the OpenAPI document describes the job routes, with one request schema per job kind', async () => {
    const doc = (await api('GET', '/api/openapi.json')).json;
    for (const p of ['/api/jobs', '/api/jobs/{id}', '/api/jobs/{id}/events', '/api/jobs/{id}/subjects'])
      expect(doc.paths).toHaveProperty([p]);
    expect(doc.paths['/api/jobs'].post.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/JobSubmit',
    );
    expect(doc.paths['/api/jobs/{id}'].get.responses['200'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/JobState',
    );
    const kinds = doc.components.schemas.JobSubmit.oneOf.map((o: any) => o.properties.kind.const).sort();
    expect(kinds).toEqual([...JOB_KIND_NAMES].sort());
    const population = doc.components.schemas.JobSubmit.oneOf.find(
      (o: any) => o.properties.kind.const === 'population',
    );
    expect(population.properties.request.$ref).toBe('#/components/schemas/PopulationRequest');
  });
  it('a fit runs as a job too, multistart starts as chunks, with the synchronous answer', async () => {
    // Gompertz data without noise: r = 0.1 is recovered.
    const fitReq = {
      model: 'tgi-gompertz',
      data: [0, 10, 20, 30].map((t) => ({
        time: t,
        observable: 'V',
        value: 1e6 * Math.exp(Math.log(1e9 / 1e6) * (1 - Math.exp(-0.1 * t))),
      })),
      estimate: { r: { initial: 0.05, lower: 0.001, upper: 1 } },
    };
    const sync = await api('POST', '/api/fit', fitReq);
    expect(sync.status, sync.text.slice(0, 300)).toBe(200);
    const post = await api('POST', '/api/jobs', { kind: 'fit', request: fitReq });
    const done = await waitFor(post.json.id);
    expect(done.status).toBe('succeeded');
    expect(done.progress).toMatchObject({ done: 1, total: 1 });
    expect(done.result.estimates.r.value).toBeCloseTo(0.1, 6);
    expect(done.result.estimates.r.value).toBe(sync.json.estimates.r.value);
    // Multistart: one chunk per start, the best merged: the library's sequential fit, number for number.
    const multi = {
      ...fitReq,
      estimate: { r: { initial: 0.5, lower: 0.001, upper: 1 } },
      multistart: { count: 5, seed: 4 },
    };
    const mpost = await api('POST', '/api/jobs', { kind: 'fit', request: multi });
    const mdone = await waitFor(mpost.json.id);
    expect(mdone.status, JSON.stringify(mdone.error)).toBe('succeeded');
    expect(mdone.progress).toMatchObject({ done: 5, total: 5, chunks: 5 });
    const noMs = (x: unknown) => JSON.parse(JSON.stringify(x), (k, v) => (k === 'ms' ? 0 : v));
    expect(noMs(mdone.result)).toEqual(noMs(fit(multi)));
    expect(mdone.result.multistart.starts).toHaveLength(5);
    expect(noMs((await api('POST', '/api/fit', multi)).json)).toEqual(noMs(mdone.result));
    const bad = await waitFor(
      (await api('POST', '/api/jobs', { kind: 'fit', request: { ...fitReq, estimate: { nope: { initial: 1 } } } })).json
        .id,
    );
    expect(bad.status).toBe('failed');
    expect(bad.error.issues[0].path.slice(0, 2)).toEqual(['request', 'estimate']);
  });
});
