// The HTTP API (Contract 5, docs/architecture.md) against a real listening server on an ephemeral port: every route, CSV,
// each error class (400 malformed, 413 too large, 422 unsolvable, 404 unknown route/model), the limits,
// hostile requests, and the server still answering afterwards.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServer, type RunningServer } from '../server/app.ts';
import { SERVER_LIMITS } from '../server/schemas.ts';
import { simulate } from '../src/simulate.ts';
import { LIMITS } from '../src/scenario/schema.ts';
import { MODEL_LIMITS, MAX_EXPRESSION_LENGTH } from '../src/model/schema.ts';

let srv: RunningServer;
let base: string;

beforeAll(async () => {
  srv = await startServer(0, '127.0.0.1', { workers: 2 });
  base = srv.url;
});
afterAll(async () => {
  await srv?.close();
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  const json = (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : undefined;
  return { status: res.status, headers: res.headers, text, json };
}

/** A 400/404/413/422 body: {error: {message, issues: [{path, message}]}}, no stack trace. */
function expectError(r: { status: number; json: any; text: string }, status: number) {
  expect(r.status, r.text.slice(0, 500)).toBe(status);
  expect(typeof r.json.error.message).toBe('string');
  expect(Array.isArray(r.json.error.issues)).toBe(true);
  for (const i of r.json.error.issues) {
    expect(Array.isArray(i.path)).toBe(true);
    expect(typeof i.message).toBe('string');
  }
  expect(r.text).not.toMatch(/\bat .*\.(ts|js|mjs):\d+|node_modules|stack/);
  return r.json.error as {
    message: string;
    issues: { path: (string | number)[]; message: string }[];
    reason?: string;
    timeReached?: number | null;
    arm?: string;
  };
}

const paths = (e: { issues: { path: (string | number)[] }[] }) => e.issues.map((i) => i.path.join('.'));

const year = { start: 0, end: 365, step: 7 };

describe('GET routes', () => {
  it('GET /healthz', async () => {
    const r = await fetch(`${base}/healthz`);
    expect(r.status).toBe(200);
    const j = await r.json();
    expect(j.status).toBe('ok');
    expect(j.models).toBeGreaterThan(0);
    expect(j.workers).toBe(2);
  });

  it('GET /api/models lists the library with the default model', async () => {
    const j = await (await fetch(`${base}/api/models`)).json();
    expect(j.default).toBe('immunotherapy');
    const ids = j.models.map((m: { id: string }) => m.id);
    expect(ids).toContain('immunotherapy');
    expect(ids).toContain('kirschner-panetta-1998');
    for (const m of j.models) {
      expect(typeof m.title).toBe('string');
      expect(m).not.toHaveProperty('file'); // no server paths
    }
  });

  it('GET /api/models/:id returns the model file, and 404 for an unknown id', async () => {
    const r = await fetch(`${base}/api/models/immunotherapy`);
    expect(r.status).toBe(200);
    const m = await r.json();
    expect(m.id).toBe('immunotherapy');
    expect(m.parameters.r.unit).toBe('1/day');
    expect(m.states.T1).toBeDefined();
    for (const id of ['nope', '..%2Fpackage', '__proto__', 'constructor']) {
      const bad = await fetch(`${base}/api/models/${id}`);
      expectError({ status: bad.status, text: await bad.clone().text(), json: await bad.json() }, 404);
    }
  });

  it('GET /api/therapies lists the presets with their targets', async () => {
    const j = await (await fetch(`${base}/api/therapies`)).json();
    expect(j.model).toBe('immunotherapy');
    const pem = j.therapies.find((t: { id: string }) => t.id === 'pembrolizumab-200mg-q3w');
    expect(pem.targets).toEqual(['PEMc']);
    expect(pem.doses[0].amount).toBe(200);
    expect(pem.source).toMatch(/KEYTRUDA/);
  });

  it('GET /api/openapi.json is generated from the schemas, documents the limits, and its refs resolve', async () => {
    const doc = await (await fetch(`${base}/api/openapi.json`)).json();
    expect(doc.openapi).toBe('3.1.0');
    for (const p of [
      '/healthz',
      '/api/models',
      '/api/models/{id}',
      '/api/therapies',
      '/api/simulate',
      '/api/compare',
      '/api/openapi.json',
    ])
      expect(doc.paths).toHaveProperty(p);
    for (const s of [
      'Scenario',
      'SimulationResult',
      'CompareRequest',
      'CompareResponse',
      'Error',
      'Model',
      'TherapyList',
    ])
      expect(doc.components.schemas).toHaveProperty(s);
    expect(doc.components.schemas.CompareRequest.properties.arms.maxItems).toBe(LIMITS.arms);
    expect(doc.components.schemas.Scenario.properties.doses.maxItems).toBe(LIMITS.doses);
    const d = doc.info.description as string;
    for (const n of [
      SERVER_LIMITS.bodyBytes,
      LIMITS.outputPoints,
      SERVER_LIMITS.outputValues,
      LIMITS.arms,
      LIMITS.doses,
      SERVER_LIMITS.requestBudgetMs,
    ])
      expect(d).toContain(String(n));
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(5);
    for (const ref of refs) {
      const id = ref.slice(8, -1).replace('#/components/schemas/', '');
      expect(doc.components.schemas, ref).toHaveProperty(id);
    }
  });

  it('serves the web client and plotly from node_modules, with security headers', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('app.js');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-powered-by')).toBeNull();
    const plotly = await fetch(`${base}/vendor/plotly.min.js`);
    expect(plotly.status).toBe(200);
    expect(plotly.headers.get('content-type')).toMatch(/javascript/);
    expect((await plotly.text()).length).toBeGreaterThan(1e6);
    for (const f of ['app.js', 'plots.js', 'util.js', 'style.css'])
      expect((await fetch(`${base}/${f}`)).status).toBe(200);
  });

  it('unknown API routes are JSON 404s', async () => {
    const r = await fetch(`${base}/api/nope`);
    expectError({ status: r.status, text: await r.clone().text(), json: await r.json() }, 404);
    const g = await fetch(`${base}/api/simulate`);
    expect(g.status).toBe(404);
  });
});

describe('POST /api/simulate', () => {
  const scenario = { model: 'immunotherapy', times: year, therapies: ['pembrolizumab-200mg-q3w'] };

  it('returns the library result (Contract 3) with metrics', async () => {
    const r = await post('/api/simulate', scenario);
    expect(r.status).toBe(200);
    const j = r.json;
    const ref = simulate(scenario);
    expect(j.model).toBe('immunotherapy');
    expect(j.times).toEqual(ref.times);
    expect(j.states.T1).toEqual(ref.states.T1);
    expect(j.outputs.tumor).toEqual(ref.outputs.tumor);
    expect(j.metrics.bestOverallResponse).toBe(ref.metrics.bestOverallResponse);
    expect(j.solver.steps).toBeGreaterThan(0);
    expect(j.doses.length).toBeGreaterThan(0);
  });

  it('CSV with ?format=csv and with Accept: text/csv', async () => {
    const a = await post('/api/simulate?format=csv', scenario);
    const b = await post('/api/simulate', scenario, { Accept: 'text/csv' });
    expect(a.status).toBe(200);
    expect(a.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(b.text).toBe(a.text);
    const lines = a.text.trim().split('\n');
    expect(lines[0].startsWith('time,T1,T2,E,X')).toBe(true);
    expect(lines[0]).toContain(',tumor,');
    expect(lines).toHaveLength(1 + 54); // 0, 7, ..., 364, 365
    expect(Number(lines[1].split(',')[0])).toBe(0);
    const j = await post('/api/simulate?format=json', scenario, { Accept: 'text/csv' });
    expect(j.json.model).toBe('immunotherapy');
    expectError(await post('/api/simulate?format=xml', scenario), 400);
  });

  it('an inline model works', async () => {
    const model = {
      id: 'decay',
      parameters: { k: { value: 0.5 } },
      states: { A: { initial: 10 } },
      odes: { A: '-k*A' },
    };
    const r = await post('/api/simulate', { model, times: [0, 1, 2], solver: { rtol: 1e-10, atol: 1e-12 } });
    expect(r.status).toBe(200);
    expect(r.json.states.A[2]).toBeCloseTo(10 * Math.exp(-1), 7);
  });
});

describe('POST /api/compare', () => {
  const body = {
    model: 'immunotherapy',
    times: year,
    arms: [
      { name: 'untreated' },
      { name: 'anti-PD-1', therapies: ['pembrolizumab-200mg-q3w'] },
      { name: 'anti-PD-1 + anti-CTLA-4', therapies: ['pembrolizumab-200mg-q3w', 'ipilimumab-3mgkg-q3w-x4'] },
    ],
  };

  it('returns one result per arm and a metrics table', async () => {
    const r = await post('/api/compare', body);
    expect(r.status).toBe(200);
    const j = r.json;
    expect(j.model).toBe('immunotherapy');
    expect(j.arms.map((a: { name: string }) => a.name)).toEqual(body.arms.map((a) => a.name));
    const ref = simulate({ model: 'immunotherapy', times: year, therapies: body.arms[2].therapies });
    expect(j.arms[2].result.outputs.tumor).toEqual(ref.outputs.tumor);
    expect(j.metrics.columns[0]).toBe('arm');
    expect(j.metrics.columns).toContain('bestOverallResponse');
    expect(j.metrics.columns).toContain('timeToProgression');
    expect(j.metrics.columns).toContain('drugs.pembrolizumab.meanOccupancy');
    expect(j.metrics.rows).toHaveLength(3);
    expect(j.metrics.rows[0].arm).toBe('untreated');
    expect(j.metrics.rows[2].bestOverallResponse).toBe(ref.metrics.bestOverallResponse);
    // Treatment shrinks the tumor below the untreated arm.
    expect(j.metrics.rows[1].nadir).toBeLessThan(j.metrics.rows[0].nadir);
  });

  it('shared parameters apply to every arm; an arm overrides them', async () => {
    const r = await post('/api/compare', {
      model: 'immunotherapy',
      times: { end: 28, step: 7 },
      parameters: { r: 0.05 },
      arms: [{ name: 'a' }, { name: 'b', parameters: { r: 0.01 } }],
    });
    expect(r.status).toBe(200);
    const a = simulate({ model: 'immunotherapy', times: { end: 28, step: 7 }, parameters: { r: 0.05 } });
    const b = simulate({ model: 'immunotherapy', times: { end: 28, step: 7 }, parameters: { r: 0.01 } });
    expect(r.json.arms[0].result.outputs.tumor).toEqual(a.outputs.tumor);
    expect(r.json.arms[1].result.outputs.tumor).toEqual(b.outputs.tumor);
  });

  it('select reports only the named series in every arm', async () => {
    const r = await post('/api/compare', { ...body, select: ['tumor', 'E'] });
    expect(r.status).toBe(200);
    for (const a of r.json.arms) {
      expect(Object.keys(a.result.states)).toEqual(['E']);
      expect(Object.keys(a.result.outputs)).toEqual(['tumor']);
    }
    const csv = await post('/api/compare?format=csv', { ...body, select: ['tumor'] });
    expect(csv.text.split('\n')[0]).toBe('arm,time,tumor');
    const bad = expectError(await post('/api/compare', { ...body, select: ['nope'] }), 400);
    expect(paths(bad)).toEqual(['select.0']);
  });

  it('CSV has an arm column first and one header', async () => {
    const r = await post('/api/compare?format=csv', body);
    expect(r.status).toBe(200);
    const lines = r.text.trim().split('\n');
    expect(lines[0].startsWith('arm,time,T1,')).toBe(true);
    expect(lines.filter((l) => l.startsWith('arm,'))).toHaveLength(1);
    expect(lines).toHaveLength(1 + 3 * 54);
    expect(lines[1].startsWith('untreated,0,')).toBe(true);
    expect(lines[lines.length - 1].startsWith('anti-PD-1 + anti-CTLA-4,365,')).toBe(true);
    const viaAccept = await post('/api/compare', body, { Accept: 'text/csv' });
    expect(viaAccept.text).toBe(r.text);
  });

  it('input errors name the arm they come from; shared fields once', async () => {
    const e = expectError(
      await post('/api/compare', {
        model: 'immunotherapy',
        times: year,
        parameters: { r: 0.03 },
        arms: [
          { name: 'a', parameters: { yy: 2 } },
          { name: 'b', therapies: ['no-such-therapy'] },
          { name: 'c', doses: [{ target: 'NOPE', amount: 1 }] },
          { name: 'd' },
        ],
      }),
      400,
    );
    expect(paths(e)).toEqual(['arms.0.parameters.yy', 'arms.1.therapies.0', 'arms.2.doses.0.target']);
    const shared = expectError(
      await post('/api/compare', {
        model: 'immunotherapy',
        times: year,
        parameters: { zz: 1 },
        arms: [{ name: 'a' }, { name: 'b' }],
      }),
      400,
    );
    expect(paths(shared)).toEqual(['parameters.zz']);
    const model = expectError(
      await post('/api/compare', { model: 'nope', times: year, arms: [{ name: 'a' }, { name: 'b' }] }),
      400,
    );
    expect(paths(model)).toEqual(['model']);
    const dup = expectError(
      await post('/api/compare', { model: 'immunotherapy', times: year, arms: [{ name: 'x' }, { name: 'x' }] }),
      400,
    );
    expect(paths(dup)).toEqual(['arms.1.name']);
    const none = expectError(await post('/api/compare', { model: 'immunotherapy', times: year, arms: [] }), 400);
    expect(paths(none)).toEqual(['arms']);
  });

  it(`at most ${LIMITS.arms} arms, and at most ${SERVER_LIMITS.outputValues} numbers per response`, async () => {
    const arms = Array.from({ length: LIMITS.arms + 1 }, (_, i) => ({ name: `arm ${i}` }));
    const e = expectError(await post('/api/compare', { model: 'immunotherapy', times: year, arms }), 400);
    expect(paths(e)).toEqual(['arms']);
    const big = expectError(
      await post('/api/compare', {
        model: 'immunotherapy',
        times: { end: 1000, points: LIMITS.outputPoints },
        arms: arms.slice(0, LIMITS.arms),
      }),
      400,
    );
    expect(big.issues[0].path).toEqual(['times']);
    expect(big.message).toMatch(/output too large/);
  });

  it('422 names the arm that could not be solved', async () => {
    const model = {
      id: 'blowup',
      parameters: { k: { value: 1 } },
      states: { A: { initial: 1 } },
      odes: { A: 'k*A^2' },
    };
    const e = expectError(
      await post('/api/compare', {
        model,
        times: { end: 10 },
        arms: [{ name: 'mild', parameters: { k: 0.01 } }, { name: 'wild' }],
      }),
      422,
    );
    expect(e.arm).toBe('wild');
    expect(e.message).toMatch(/^arm 'wild': could not solve/);
    expect(e.timeReached).toBeGreaterThan(0.5);
    expect(e.timeReached).toBeLessThan(10);
  });
});

describe('errors and limits', () => {
  const ok = { model: 'immunotherapy', times: { end: 10 } };

  it('400: bad JSON, wrong content type, no body, a body that is not an object', async () => {
    expect(expectError(await post('/api/simulate', '{"model": '), 400).message).toMatch(/not valid JSON/);
    expect(expectError(await post('/api/simulate', '{bad json}'), 400).message).toMatch(/not valid JSON/);
    expect(
      expectError(await post('/api/simulate', JSON.stringify(ok), { 'Content-Type': 'text/plain' }), 400).message,
    ).toMatch(/must be JSON/);
    expect(
      expectError(await post('/api/simulate', 'model=x', { 'Content-Type': 'application/x-www-form-urlencoded' }), 400)
        .message,
    ).toMatch(/must be JSON/);
    const none = await fetch(`${base}/api/simulate`, { method: 'POST' });
    expectError({ status: none.status, text: await none.clone().text(), json: await none.json() }, 400);
    expectError(await post('/api/simulate', '[1,2,3]'), 400);
    expectError(await post('/api/simulate', '"just a string"'), 400);
    expectError(await post('/api/simulate', 'null'), 400);
  });

  it('400: schema violations name the field', async () => {
    expect(paths(expectError(await post('/api/simulate', { model: 'immunotherapy' }), 400))).toEqual(['times']);
    expect(paths(expectError(await post('/api/simulate', { ...ok, extra: 1 }), 400))).toEqual(['extra']); // an unknown field is named
    expect(
      paths(expectError(await post('/api/simulate', { ...ok, doses: [{ target: 'PEMc', amount: -1 }] }), 400)),
    ).toEqual(['doses.0.amount']);
    expect(paths(expectError(await post('/api/simulate', { ...ok, parameters: { r: 'fast' } }), 400))).toEqual([
      'parameters.r',
    ]);
    expect(paths(expectError(await post('/api/simulate', { ...ok, parameters: { nope: 1 } }), 400))).toEqual([
      'parameters.nope',
    ]);
    expect(paths(expectError(await post('/api/simulate', { ...ok, therapies: ['nope'] }), 400))).toEqual([
      'therapies.0',
    ]);
    expect(
      paths(
        expectError(await post('/api/simulate', { ...ok, solver: { timeBudgetMs: LIMITS.timeBudgetMs + 1 } }), 400),
      ),
    ).toEqual(['solver.timeBudgetMs']);
  });

  it('400: unknown model', async () => {
    const e = expectError(await post('/api/simulate', { model: 'no-such-model', times: { end: 10 } }), 400);
    expect(paths(e)).toEqual(['model']);
    expect(e.message).toMatch(/unknown model 'no-such-model'/);
  });

  it('400: hostile expressions in an inline model', async () => {
    const inline = (rhs: string) => ({
      model: { id: 'h', parameters: { k: { value: 1 } }, states: { x: { initial: 1 } }, odes: { x: rhs } },
      times: { end: 1 },
    });
    for (const rhs of [
      'constructor',
      'x.__proto__',
      'x["constructor"]',
      '__proto__',
      'eval("1")',
      'import("fs")',
      'k = 2',
      'f(x) = x',
      'process.exit(1)',
      'this',
      '"str"',
      '[1,2]',
      'x; k',
      ')(',
      'toString(x)',
      'k'.repeat(5000),
    ]) {
      const e = expectError(await post('/api/simulate', inline(rhs)), 400);
      expect(e.issues[0].path.slice(0, 1)).toEqual(['model']);
    }
    // A hostile name as a parameter key.
    const e = expectError(
      await post('/api/simulate', {
        model: {
          id: 'h',
          parameters: { constructor: { value: 1 } },
          states: { x: { initial: 1 } },
          odes: { x: '-constructor*x' },
        },
        times: { end: 1 },
      }),
      400,
    );
    expect(e.issues[0].path[0]).toBe('model');
  });

  it('400: models over the size limits', async () => {
    const states = Object.fromEntries(
      Array.from({ length: MODEL_LIMITS.states + 1 }, (_, i) => [`s${i}`, { initial: 1 }]),
    );
    const odes = Object.fromEntries(Object.keys(states).map((k) => [k, `-${k}`]));
    const e = expectError(await post('/api/simulate', { model: { id: 'big', states, odes }, times: { end: 1 } }), 400);
    expect(e.issues[0].path[0]).toBe('model');
    expect(e.message).toContain(String(MODEL_LIMITS.states));
    const long = expectError(
      await post('/api/simulate', {
        model: { id: 'long', states: { x: { initial: 1 } }, odes: { x: `-x${'+0'.repeat(MAX_EXPRESSION_LENGTH)}` } },
        times: { end: 1 },
      }),
      400,
    );
    expect(paths(long)).toEqual(['model.odes.x']);
  });

  it('400: negative, NaN and reversed times; a 1e-12 step; too many output times', async () => {
    expect(
      paths(expectError(await post('/api/simulate', { model: 'immunotherapy', times: { start: 10, end: -5 } }), 400)),
    ).toEqual(['times.end']);
    expect(
      paths(expectError(await post('/api/simulate', { model: 'immunotherapy', times: { end: 10, step: -1 } }), 400)),
    ).toEqual(['times.step']);
    expect(
      paths(expectError(await post('/api/simulate', { model: 'immunotherapy', times: { end: 10, step: null } }), 400)),
    ).toEqual(['times.step']);
    expectError(await post('/api/simulate', '{"model":"immunotherapy","times":{"end":NaN}}'), 400);
    expect(
      paths(expectError(await post('/api/simulate', { model: 'immunotherapy', times: { end: 10, step: 1e-12 } }), 400)),
    ).toEqual(['times.step']);
    expect(paths(expectError(await post('/api/simulate', { model: 'immunotherapy', times: [0, 5, 3] }), 400))).toEqual([
      'times.2',
    ]);
    expect(
      paths(expectError(await post('/api/simulate', { model: 'immunotherapy', times: { end: 1e300 } }), 400)),
    ).toEqual(['times.end']);
    const many = Array.from({ length: LIMITS.outputPoints + 1 }, (_, i) => i);
    const e = expectError(await post('/api/simulate', { model: 'immunotherapy', times: many }), 400);
    expect(paths(e)).toEqual(['times']);
    expect(e.message).toContain(String(LIMITS.outputPoints));
  });

  it('400: deeply nested bodies; huge dose lists', async () => {
    expectError(await post('/api/simulate', '['.repeat(5000) + ']'.repeat(5000)), 400);
    const doses = Array.from({ length: LIMITS.doses + 1 }, () => ({ target: 'PEMc', amount: 1 }));
    expect(paths(expectError(await post('/api/simulate', { ...ok, doses }), 400))).toEqual(['doses']);
    expect(
      paths(
        expectError(
          await post('/api/simulate', {
            ...ok,
            doses: [{ target: 'PEMc', amount: 1, every: 1e-3, count: LIMITS.doseEvents + 1 }],
          }),
          400,
        ),
      ),
    ).toEqual(['doses.0.count']);
    const twice = { target: 'PEMc', amount: 1, every: 1e-3, count: LIMITS.doseEvents };
    expectError(await post('/api/simulate', { ...ok, doses: [twice, twice] }), 400);
  });

  it('413: bodies over the limit (10 MB, a 1e6-element array)', async () => {
    const tenMb = JSON.stringify({ model: 'immunotherapy', times: { end: 1 }, pad: 'x'.repeat(10 * 1024 * 1024) });
    const e = expectError(await post('/api/simulate', tenMb), 413);
    expect(e.message).toContain(String(SERVER_LIMITS.bodyBytes));
    const million = `{"model":"immunotherapy","times":[${Array.from({ length: 1e6 }, (_, i) => i).join(',')}]}`;
    expectError(await post('/api/simulate', million), 413);
  });

  it('422: a valid request that cannot be solved says how far it got and why', async () => {
    const model = { id: 'blowup', states: { A: { initial: 1 } }, odes: { A: 'A^2' } };
    const e = expectError(await post('/api/simulate', { model, times: { end: 10 } }), 422);
    expect(['step-size', 'non-finite', 'max-steps']).toContain(e.reason);
    expect(e.timeReached).toBeGreaterThan(0.5);
    expect(e.timeReached).toBeLessThan(1.5);
    expect(e.message).toMatch(/could not solve/);
    expect(e.message).toMatch(/t = /);
  });

  it('422: the solver stops at the time budget (here 1 ms)', async () => {
    const e = expectError(
      await post('/api/simulate', {
        model: 'kirschner-panetta-1998',
        times: { end: 100000, step: 100 },
        solver: { rtol: 1e-12, atol: 1e-14, timeBudgetMs: 1 },
      }),
      422,
    );
    expect(e.reason).toBe('time-budget');
    expect(e.timeReached).toBeLessThan(100000);
  });

  it('the server is still up and correct after all of the above', async () => {
    const h = await fetch(`${base}/healthz`);
    expect(h.status).toBe(200);
    const r = await post('/api/simulate', { model: 'immunotherapy', times: year });
    expect(r.status).toBe(200);
    expect(r.json.times).toHaveLength(54);
  });
});

describe('the worker pool enforces the budget', () => {
  it('a job that ignores its deadline is stopped and its worker replaced', async () => {
    const s = await startServer(0, '127.0.0.1', { workers: 1, killGraceMs: 50, allowTestJobs: true });
    try {
      const pool = s.app.locals.pool;
      const reply = await pool.run({ type: 'spin', ms: 120_000 }, { deadline: Date.now() + 50 });
      expect(reply.ok).toBe(false);
      if (!reply.ok) {
        expect(reply.error.type).toBe('solve');
        expect(reply.error.type === 'solve' && reply.error.reason).toBe('time-budget');
      }
      expect(pool.stats().size).toBe(1);
      const r = await fetch(`${s.url}/api/simulate`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: 'immunotherapy', times: { end: 10 } }),
      });
      expect(r.status).toBe(200);
    } finally {
      await s.close();
    }
  });
});

describe('overload', () => {
  it('503 with Retry-After when the solves cannot all wait; the request is refused whole', async () => {
    const s = await startServer(0, '127.0.0.1', { workers: 1, queueLength: 1, killGraceMs: 0, allowTestJobs: true });
    try {
      const pool = s.app.locals.pool;
      // Occupy the only worker until it is stopped.
      const busy = pool.run({ type: 'spin', ms: 120_000 }, { deadline: Date.now() + 3_000 });
      const r = await fetch(`${s.url}/api/compare`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: 'immunotherapy', times: { end: 10 }, arms: [{ name: 'a' }, { name: 'b' }] }),
      });
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('1');
      expect((await r.json()).error.message).toMatch(/busy/);
      expect(pool.stats().queued).toBe(0);
      await busy;
      const ok = await fetch(`${s.url}/api/simulate`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: 'immunotherapy', times: { end: 10 } }),
      });
      expect(ok.status).toBe(200);
    } finally {
      await s.close();
    }
  });
});

describe('immunopd serve', () => {
  it('starts the server on the given port and prints its URL', async () => {
    const bin = fileURLToPath(new URL('../src/cli/bin.mjs', import.meta.url));
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], {
      env: { ...process.env, HOST: '127.0.0.1', IMMUNOPD_WORKERS: '1', IMMUNOPD_LOG: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          const m = /(http:\/\/[^\s/]+)\//.exec(out);
          if (m) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
      });
      const j = await (await fetch(`${url}/healthz`)).json();
      expect(j.status).toBe('ok');
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('rejects a bad port', async () => {
    const { main } = await import('../src/cli/main.ts');
    let err = '';
    const code = await main(['serve', '--port', 'abc'], { out: () => {}, err: (s) => (err += s) });
    expect(code).toBe(2);
    expect(err).toMatch(/--port/);
  });
});
