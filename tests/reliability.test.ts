// Hold up under hostile input: every reproducer as a regression test, and a walk of every
// user-keyed field of every request kind with names of built-in object members (src/keys.ts), over HTTP
// and through the library (what the CLI calls).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { startServer, type RunningServer } from '../server/app.ts';
import { simulate } from '../src/simulate.ts';
import { fit } from '../src/analysis/fit/index.ts';
import { optimizeSchedule } from '../src/analysis/optimize/index.ts';
import { runPopulation } from '../src/analysis/population-request.ts';
import { sensitivity } from '../src/analysis/sensitivity.ts';
import { compileModel, stronglyConnected } from '../src/model/compile.ts';
import { resolveModel, inlineCacheStats, INLINE_CACHE_BYTES } from '../src/model/library.ts';
import { InputError, MAX_ISSUES } from '../src/errors.ts';
import { RESERVED_KEYS } from '../src/keys.ts';
import { LIMITS } from '../src/scenario/schema.ts';
import { BUDGET } from '../src/limits.ts';
import { chainModel } from './helpers/hostile.ts';

let srv: RunningServer;
beforeAll(async () => {
  srv = await startServer(0, '127.0.0.1', { workers: 1 });
});
afterAll(async () => {
  await srv?.close();
});

type Json = { error: { message: string; issues: { path: (string | number)[]; message: string }[]; total?: number } };
async function post(path: string, body: string | unknown) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const t0 = performance.now();
  const res = await fetch(srv.url + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Connection: 'close' },
    body: text,
  });
  const out = await res.text();
  return {
    status: res.status,
    text: out,
    json: JSON.parse(out) as Json,
    ms: performance.now() - t0,
    bytes: out.length,
  };
}
const paths = (j: Json) => j.error.issues.map((i) => i.path.join('.'));

const MODEL = {
  id: 'tiny',
  parameters: { k: { value: 0.1 }, V: { value: 5 } },
  states: { x: { initial: 1, unit: 'mg' }, T: { initial: 1e6, unit: 'cells' } },
  assignments: { C: 'x / V' },
  odes: { x: '-k * x', T: '0.01 * T - 0.001 * C * T' },
  outputs: { tumor: 'T', conc: 'C' },
  // What the series mean (the optimizer's tumor objective and the drug's exposure constraints read them).
  roles: { tumor: { series: 'tumor', unit: 'cells' }, drugs: { drug: { concentration: 'conc', doseTarget: 'x' } } },
  presets: { slow: { parameters: { k: 0.01 }, initial: { x: 2 } } },
  events: [{ when: 'x < 0.5', set: { x: 1 } }],
};
const BASES = {
  simulate: {
    model: MODEL,
    times: { end: 5 },
    parameters: { k: 0.2 },
    initial: { x: 1 },
    solver: { atol: { x: 1e-9 } },
    select: ['x'],
    preset: 'slow',
  },
  compare: {
    model: MODEL,
    times: { end: 5 },
    parameters: { k: 0.2 },
    initial: { x: 1 },
    preset: 'slow',
    arms: [{ name: 'a', parameters: { k: 0.1 }, initial: { x: 1 }, preset: 'slow' }],
  },
  population: {
    model: MODEL,
    times: { end: 5 },
    parameters: { k: 0.2 },
    preset: 'slow',
    population: { n: 3, omega: { k: 0.1 }, series: ['tumor'] },
  },
  sensitivity: {
    model: MODEL,
    times: { end: 5 },
    parameters: { k: 0.2 },
    initial: { x: 1 },
    preset: 'slow',
    sensitivity: { parameters: ['k'], response: { series: 'tumor' } },
  },
  fit: {
    model: MODEL,
    preset: 'slow',
    initial: { x: 1 },
    data: [
      { time: 1, observable: 'x', value: 0.9, subject: 's1' },
      { time: 2, observable: 'x', value: 0.8, subject: 's1' },
    ],
    subjects: { s1: { parameters: { V: 5 }, initial: { x: 1 }, preset: 'slow' } },
    estimate: { k: { initial: 0.1 } },
    profile: ['k'],
  },
  optimize: {
    model: MODEL,
    horizon: 10,
    preset: 'slow',
    initial: { x: 1 },
    drugs: [{ name: 'drug', target: 'x', amount: 1, exposure: 'drug' }],
    constraints: { cumulativeDose: { drug: 5 }, cmax: { drug: 5 }, auc: { drug: 5 }, maxDoses: { drug: 5 } },
  },
} as const;
type Kind = keyof typeof BASES;

/** Records keyed by user-chosen names, per request kind (the model's own records for every kind). */
const MODEL_RECORDS = [
  'model.parameters',
  'model.states',
  'model.assignments',
  'model.odes',
  'model.outputs',
  'model.presets',
  'model.presets.slow.parameters',
  'model.presets.slow.initial',
  'model.events.0.set',
];
const RECORDS: Record<Kind, string[]> = {
  simulate: [...MODEL_RECORDS, 'parameters', 'initial', 'solver.atol'],
  compare: ['parameters', 'initial', 'arms.0.parameters', 'arms.0.initial', 'model.states'],
  population: ['population.omega', 'parameters', 'model.odes'],
  sensitivity: ['parameters', 'initial', 'model.outputs'],
  fit: ['subjects', 'estimate', 'subjects.s1.parameters', 'subjects.s1.initial', 'initial', 'model.parameters'],
  optimize: [
    'constraints.cumulativeDose',
    'constraints.cmax',
    'constraints.auc',
    'constraints.maxDoses',
    'initial',
    'model.states',
  ],
};
/** Names given as values and looked up: presets, series, subjects, observables, drugs. */
const VALUES: Record<Kind, string[]> = {
  simulate: ['preset', 'select.0'],
  compare: ['preset', 'arms.0.preset'],
  population: ['preset', 'population.series.0'],
  sensitivity: ['preset', 'sensitivity.parameters.0', 'sensitivity.response.series'],
  fit: ['preset', 'data.0.subject', 'data.0.observable', 'profile.0', 'subjects.s1.preset'],
  optimize: ['preset', 'drugs.0.name', 'drugs.0.exposure'],
};
const LIBRARY: Partial<Record<Kind, (input: unknown) => unknown>> = {
  simulate,
  fit,
  optimize: optimizeSchedule,
  population: runPopulation,
  sensitivity,
};

function at(obj: unknown, path: string): Record<string, unknown> {
  let o = obj as Record<string, unknown>;
  if (!path) return o;
  for (const k of path.split('.')) o = o[k] as Record<string, unknown>;
  return o;
}
/** The request as JSON text with `name` added as a key of the record at `path` (so `__proto__` stays an own key). */
function withKey(kind: Kind, path: string, name: string): string {
  const body = structuredClone(BASES[kind]) as unknown;
  const rec = at(body, path);
  const sample = Object.values(rec)[0];
  rec.__marker__ = sample === undefined ? 1 : structuredClone(sample);
  return JSON.stringify(body).replace('"__marker__"', JSON.stringify(name));
}
function withValue(kind: Kind, path: string, name: string): string {
  const body = structuredClone(BASES[kind]) as unknown;
  const parts = path.split('.');
  at(body, parts.slice(0, -1).join('.'))[parts[parts.length - 1]] = name;
  return JSON.stringify(body);
}

const NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty'];

describe('reserved names: every user-keyed field, every request kind', () => {
  it('refuses every member of Object.prototype and `prototype`', () => {
    for (const n of [...Object.getOwnPropertyNames(Object.prototype), 'prototype'])
      expect(RESERVED_KEYS.has(n), n).toBe(true);
    expect(RESERVED_KEYS.has('k')).toBe(false);
  });

  it('the valid bases are accepted (so the refusals below are about the name)', async () => {
    for (const kind of Object.keys(BASES) as Kind[]) {
      const r = await post(`/api/${kind}`, BASES[kind]);
      expect(r.status, `${kind}: ${r.text.slice(0, 300)}`).toBe(200);
    }
  });

  for (const kind of Object.keys(BASES) as Kind[]) {
    it(`${kind}: a reserved name as a key of any record, or as a name given as a value: 400 naming the field (HTTP and library)`, async () => {
      const cases: { text: string; field: string }[] = [];
      for (const name of NAMES) {
        for (const p of RECORDS[kind]) cases.push({ text: withKey(kind, p, name), field: `${p}.${name}` });
        for (const p of VALUES[kind]) cases.push({ text: withValue(kind, p, name), field: p });
      }
      for (const c of cases) {
        const r = await post(`/api/${kind}`, c.text);
        expect(r.status, `${c.field}: ${r.text.slice(0, 300)}`).toBe(400);
        expect(paths(r.json), c.text.slice(0, 200)).toContain(c.field);
        const lib = LIBRARY[kind];
        if (lib) {
          let err: unknown;
          try {
            await lib(JSON.parse(c.text));
          } catch (e) {
            err = e;
          }
          expect(err, `library ${kind} ${c.field}`).toBeInstanceOf(InputError);
          expect(
            (err as InputError).issues.map((i) => i.path.join('.')),
            c.field,
          ).toContain(c.field);
        }
      }
    });
  }
});

describe('hostile-input reproducers', () => {
  it('reserved names: preset naming a built-in property → 400 naming preset (simulate, compare, population, sensitivity)', async () => {
    for (const preset of ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty']) {
      for (const [route, extra] of [
        ['simulate', {}],
        ['population', { population: { n: 2, omega: {} } }],
        ['sensitivity', {}],
      ] as const) {
        const r = await post(`/api/${route}`, { model: 'immunotherapy', preset, times: { end: 10 }, ...extra });
        expect(r.status, `${route} ${preset}: ${r.text.slice(0, 200)}`).toBe(400);
        expect(paths(r.json)).toContain('preset');
      }
      const c = await post('/api/compare', {
        model: 'immunotherapy',
        preset,
        times: { end: 10 },
        arms: [{ name: 'a' }],
      });
      expect(c.status).toBe(400);
      expect(paths(c.json)).toContain('preset');
    }
  });

  it('reserved names: sensitivity.response.series "constructor" → 400, not 200 with derivative null', async () => {
    const r = await post('/api/sensitivity', {
      model: 'immunotherapy',
      times: { end: 10 },
      sensitivity: { response: { series: 'constructor' } },
    });
    expect(r.status).toBe(400);
    expect(paths(r.json)).toContain('sensitivity.response.series');
  });

  it('reserved names: a fit data row with subject "constructor" does not pass the unknown-subject check', async () => {
    const r = await post('/api/fit', {
      ...BASES.fit,
      data: [{ time: 1, observable: 'x', value: 1, subject: 'constructor' }],
    });
    expect(r.status).toBe(400);
    expect(paths(r.json)).toContain('data.0.subject');
  });

  it('reserved names: a state named toString without an ODE → 400 naming it (no mathjs internals)', async () => {
    const model = { id: 'm', states: { x: { initial: 1 }, toString: { initial: 1 } }, odes: { x: '-x' } };
    const r = await post('/api/simulate', { model, times: { end: 1 } });
    expect(r.status).toBe(400);
    expect(paths(r.json)).toContain('model.states.toString');
    expect(r.text).not.toMatch(/mathjs|TypeError|is not a function/);
  });

  it('reserved names: an ODE under the key __proto__ is refused, not ignored', async () => {
    const text =
      '{"model":{"id":"m","states":{"x":{"initial":1}},"odes":{"x":"-x","__proto__":"1"}},"times":{"end":1}}';
    const r = await post('/api/simulate', text);
    expect(r.status).toBe(400);
    expect(paths(r.json)).toContain('model.odes.__proto__');
    expect(() => compileModel(JSON.parse(text).model)).toThrow(InputError);
  });

  it('assignment order: 1,000 assignments each naming the next 140 → 400 (not a 22 s search and a 422), capped error body', async () => {
    const model = chainModel(1000, 140);
    const text = JSON.stringify({ model, times: { end: 1 } });
    expect(text.length).toBeGreaterThan(600_000);
    expect(text.length).toBeLessThan(1_048_576);
    const r = await post('/api/simulate', text);
    expect(r.status, r.text.slice(0, 300)).toBe(400);
    expect(r.json.error.issues.length).toBe(MAX_ISSUES);
    expect(r.json.error.total).toBe(1000 * 140 - (140 * 141) / 2);
    expect(r.bytes).toBeLessThan(20_000);
    expect(r.json.error.issues[0].message).toMatch(/assigned later/);
  });

  it('assignment order: the valid mirror (each naming the previous 140) compiles; cycles are named as such', () => {
    expect(compileModel(chainModel(1000, 140, false)).stateNames).toEqual(['x']);
    const cyc = { id: 'c', states: { x: {} }, odes: { x: 'a0' }, assignments: { a0: 'a2', a1: '1', a2: 'a0 + a1' } };
    try {
      compileModel(cyc);
      expect.unreachable();
    } catch (e) {
      expect((e as InputError).issues).toEqual([
        { path: ['assignments', 'a0'], message: "cyclic assignments: 'a0' and 'a2' depend on each other" },
      ]);
    }
    const fwd = { id: 'f', states: { x: {} }, odes: { x: 'a0' }, assignments: { a0: 'a1', a1: '1' } };
    expect(() => compileModel(fwd)).toThrow(/assigned later/);
    // Components: 0↔1 a cycle, 2 alone, 3↔4↔5 a cycle (a long chain must not overflow the stack).
    const c = stronglyConnected([[1], [0, 2], [], [4], [5], [3]]);
    expect(c[0]).toBe(c[1]);
    expect(c[2]).not.toBe(c[0]);
    expect(c[3]).toBe(c[4]);
    expect(c[4]).toBe(c[5]);
    const chain = stronglyConnected(Array.from({ length: 200_000 }, (_, i) => (i + 1 < 200_000 ? [i + 1] : [0])));
    expect(chain.every((v) => v === chain[0])).toBe(true);
  });

  it('output and memory budget: a population of 20 series x 10 columns x 100,000 points is refused before solving (400 naming population)', async () => {
    const r = await post('/api/population', {
      model: 'immunotherapy',
      times: { end: 100, points: 100000 },
      population: {
        n: 10,
        omega: { r: 0.1 },
        series: Array(20).fill('tumor'),
        quantiles: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
      },
    });
    expect(r.status, r.text.slice(0, 300)).toBe(400);
    expect(paths(r.json)).toContain('population');
    expect(r.json.error.message).toMatch(/output too large/);
  });

  it('output and memory budget: n 5,000 with 100,000 points is refused by the memory budget (typed arrays counted)', async () => {
    const r = await post('/api/population', {
      model: 'immunotherapy',
      times: { end: 100, points: 100000 },
      population: { n: 5000, omega: {}, series: ['tumor'] },
    });
    expect(r.status, r.text.slice(0, 300)).toBe(400);
    expect(paths(r.json)).toContain('population');
    expect(r.json.error.message).toMatch(/memory/);
  });

  it('output and memory budget: fit, optimize and the CLI entry (simulate) check the same budget', async () => {
    const rows = Array.from({ length: 450 }, (_, i) => [
      { time: 1, observable: 'x', value: 1, subject: `s${i}` },
      { time: 1, observable: 'tumor', value: 1e6, subject: `s${i}` },
    ]).flat();
    const f = await post('/api/fit', { model: MODEL, data: rows, estimate: { k: {} }, fitted: { points: 5000 } });
    expect(f.status, f.text.slice(0, 300)).toBe(400);
    expect(paths(f.json)).toContain('fitted.points');
    const o = await post('/api/optimize', {
      model: MODEL,
      horizon: 3650,
      step: 0.0005,
      drugs: [{ target: 'x', amount: 1 }],
    });
    expect(o.status, o.text.slice(0, 300)).toBe(400);
    expect(paths(o.json)).toContain('step');
    const wide = {
      id: 'w',
      states: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`s${i}`, {}])),
      odes: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`s${i}`, '0'])),
    };
    expect(() => simulate({ model: wide, times: { end: 1, points: 100000 } })).toThrow(/output too large/);
    expect(BUDGET.outputValues).toBe(4_000_000);
  });

  it('limits: |t| is limited to LIMITS.maxTime = 1e11, the value the docs state; expanded dose times too', async () => {
    expect(LIMITS.maxTime).toBe(1e11);
    expect(readFileSync(new URL('../docs/api.md', import.meta.url), 'utf8')).toMatch(/\|t\\?\| ≤ 1e11/);
    for (const end of [1e12, 1e15]) {
      const r = await post('/api/simulate', { model: 'immunotherapy', times: { end } });
      expect(r.status).toBe(400);
      expect(paths(r.json)).toContain('times.end');
    }
    const d = await post('/api/simulate', {
      model: MODEL,
      times: { end: 1 },
      doses: [{ target: 'x', amount: 1, every: 1e300, count: 3 }],
    });
    expect(d.status).toBe(400);
    expect(paths(d.json)).toContain('doses.0.every');
  });

  it('limits: the compiled-model cache is bounded by bytes, not count', () => {
    for (let i = 0; i < 4; i++) resolveModel({ ...chainModel(1000, 40, false), id: `c${i}` });
    const s = inlineCacheStats();
    expect(s.bytes).toBeLessThanOrEqual(INLINE_CACHE_BYTES);
    expect(s.entries).toBeLessThan(4);
    for (let i = 0; i < 100; i++) resolveModel({ ...MODEL, id: `small${i}` });
    expect(inlineCacheStats().bytes).toBeLessThanOrEqual(INLINE_CACHE_BYTES);
  });
});
