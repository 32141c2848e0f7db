// `npm run fuzz`: hostile and malformed requests against every route of a real server (a child process on
// a free loopback port), seeded. It asserts what the API promises under attack: no 5xx, every 4xx a JSON
// error with a message and issues naming the field (whole-body problems name the root), no stack trace or
// file path in any body, the server alive throughout, its RSS bounded.
//
//   npm run fuzz                          # 2,000 requests, seed 1
//   npm run fuzz -- --count 20000 --seed 7
//   npm run fuzz -- --time-limit 300      # stop sending after 300 s (default 1800)
//   npm run fuzz -- --concurrency 8 --max-rss-mb 2048 --workers 2 --heavy-every 100
//
// Exit status 1 when any assertion failed (the first failures are printed with their request).
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mulberry32 } from '../src/numerics/random.ts';
import { chainModel } from '../tests/helpers/hostile.ts';
import { rssMb } from './processes.ts';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

export interface FuzzOptions {
  count: number;
  seed: number;
  concurrency?: number;
  /** Stop sending new requests after this many seconds. */
  timeLimitS?: number;
  /** Largest RSS of the server process accepted, MB. */
  maxRssMb?: number;
  workers?: number;
  /** One valid but heavy request (long grid, many fitted points) every this many (default 100). */
  heavyEvery?: number;
  log?: (line: string) => void;
}

export interface FuzzFailure {
  kind: string;
  request: string;
  status: number;
  body: string;
}

export interface FuzzReport {
  sent: number;
  byStatus: Record<string, number>;
  byFamily: Record<string, number>;
  /** Summed answer time per family, ms (where the run's time goes). */
  msByFamily: Record<string, number>;
  failures: FuzzFailure[];
  seconds: number;
  /** Server RSS, MB: after start-up, largest seen, at the end. */
  rss: { startMb: number; peakMb: number; endMb: number };
  slowest: { ms: number; request: string };
  /** Answer times, ms: median, 99th percentile, largest. */
  latency: { p50: number; p99: number; max: number };
  /** The 20 slowest requests that took more than 2 s. */
  slow: { ms: number; status: number; request: string }[];
  alive: boolean;
}

interface Req {
  family: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** The body is valid JSON of an object: a 400 must name a field (or the root for whole-body problems). */
  structural?: boolean;
}

// ---------------------------------------------------------------------------------------------------------
// Request generators
// ---------------------------------------------------------------------------------------------------------
type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const SMALL_MODEL = {
  id: 'tiny',
  parameters: { k: { value: 0.1 }, V: { value: 5 } },
  states: { x: { initial: 1, unit: 'mg' }, T: { initial: 1e6, unit: 'cells' } },
  assignments: { C: 'x / V' },
  odes: { x: '-k * x', T: '0.01 * T - 0.001 * C * T' },
  outputs: { tumor: 'T' },
  presets: { slow: { parameters: { k: 0.01 } } },
};

const BASES: Record<string, unknown> = {
  '/api/simulate': {
    model: 'immunotherapy',
    times: { end: 28, step: 7 },
    therapies: ['pembrolizumab-200mg-q3w'],
    preset: 'hot',
  },
  '/api/compare': {
    model: SMALL_MODEL,
    times: { end: 10, step: 1 },
    arms: [{ name: 'a' }, { name: 'b', parameters: { k: 0.2 }, doses: [{ target: 'x', amount: 1, start: 1 }] }],
  },
  '/api/population': {
    model: SMALL_MODEL,
    times: { end: 10, step: 2 },
    population: { n: 4, omega: { k: 0.3 }, series: ['tumor'], quantiles: [0.1, 0.5, 0.9] },
  },
  '/api/sensitivity': {
    model: SMALL_MODEL,
    times: { end: 10, step: 1 },
    sensitivity: { parameters: ['k'], response: { series: 'tumor' } },
  },
  '/api/fit': {
    model: SMALL_MODEL,
    data: [
      { time: 1, observable: 'x', value: 0.9, subject: 's1' },
      { time: 2, observable: 'x', value: 0.82, subject: 's1' },
      { time: 4, observable: 'x', value: 0.67, subject: 's1' },
    ],
    subjects: { s1: { parameters: { V: 5 } } },
    estimate: { k: { initial: 0.2 } },
    maxIterations: 5,
    fitted: { points: 11 },
  },
  '/api/optimize': {
    model: SMALL_MODEL,
    horizon: 20,
    step: 2,
    drugs: [{ name: 'drug', target: 'x', amount: { values: [1, 2] }, interval: { values: [5, 10] }, count: 2 }],
    constraints: { cumulativeDose: { drug: 3 } },
    search: { seed: 1, candidates: 2, refine: 0 },
  },
};
// Most requests carry a small solver budget, so that a hostile model the solver fights to its step limit
// (x ^ 1e308) costs milliseconds, not the default 500,000 steps; the `heavy` family runs without it.
const SOLVER = { maxSteps: 20_000, timeBudgetMs: 2_000 };
for (const b of Object.values(BASES)) (b as Record<string, unknown>).solver = SOLVER;
const POST_ROUTES = Object.keys(BASES);
const GET_PATHS = [
  '/healthz',
  '/api/models',
  '/api/models/immunotherapy',
  '/api/models/nope',
  '/api/therapies',
  '/api/openapi.json',
  '/',
  '/index.html',
  '/vendor/plotly.min.js',
  '/api/nothing',
  '/nothing.html',
];
const TRAVERSAL = [
  '/../package.json',
  '/..%2fpackage.json',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/..%5c..%5cpackage.json',
  '/vendor/../../package.json',
  '/%2e%2e%2fserver%2fapp.ts',
  '/web/../server/app.ts',
  '/api/models/..%2f..%2fpackage.json',
  '/api/models/%2e%2e',
  '/.git/config',
  '/%00',
  '/index.html%00.json',
  '/....//....//etc/passwd',
  '//etc/passwd',
  '/static/%c0%ae%c0%ae/package.json',
  '/api/models/' + 'a'.repeat(5000),
  '/?format=' + 'x'.repeat(3000),
];
const RESERVED = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  'isPrototypeOf',
];
const HOSTILE_EXPRESSIONS = [
  'x.constructor',
  "constructor.constructor('return process')()",
  'import("fs")',
  'x[0]',
  'k = 1',
  'x ? 1 : 2',
  '[1, 2]',
  '"abc"',
  "evaluate('1')",
  "parse('x')",
  'derivative(x, x)',
  'f(x) = x',
  '5 cm',
  '1/0',
  '0/0',
  'exp(1e308)',
  'x ^ 1e308',
  'process',
  'this',
  '__proto__',
  'toString',
  'x.toString()',
  '('.repeat(2000) + 'x' + ')'.repeat(2000),
  'x +',
  '',
  'x; k',
  'x\n k',
  '\u0000',
  'sqrt(-1)',
  'log(0)',
  'e = 3',
  'pi(2)',
  'cos',
  'x!',
  'x == 1',
  'unknown_name * 2',
  'Infinity',
  'NaN',
  'a'.repeat(5000),
];
const WEIRD_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  -0,
  1e308,
  -1e308,
  5e-324,
  2 ** 53 + 1,
  'string',
  '',
  '1',
  'NaN',
  'Infinity',
  [],
  {},
  [1, 2, 3],
  { a: 1 },
  'x'.repeat(10_000),
  Array.from({ length: 3000 }, (_, i) => i),
  '\ud800',
  '../../etc/passwd',
];

/** Every path to a value inside `v` (objects and arrays), for mutation. */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (v !== null && typeof v === 'object') {
    for (const [k, c] of Object.entries(v)) {
      const p = [...prefix, Array.isArray(v) ? Number(k) : k];
      out.push(p);
      paths(c, p, out);
    }
  }
  return out;
}
function setAt(root: unknown, p: (string | number)[], value: unknown, remove = false): void {
  let o = root as Record<string | number, unknown>;
  for (const k of p.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = p[p.length - 1];
  if (remove && !Array.isArray(o)) delete o[last];
  else o[last] = value;
}
function objectsIn(v: unknown): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const walk = (x: unknown) => {
    if (x === null || typeof x !== 'object') return;
    if (!Array.isArray(x)) out.push(x as Record<string, unknown>);
    Object.values(x).forEach(walk);
  };
  walk(v);
  return out;
}
/** JSON text with a key `__proto__` kept (JSON.stringify would drop one set through assignment). */
function withRawKey(body: unknown, key: string, value: unknown, r: Rand): string {
  const objs = objectsIn(body);
  const target = pick(r, objs);
  const marker = `__fuzz_marker_${Math.floor(r() * 1e9)}__`;
  target[marker] = value;
  return JSON.stringify(body).replace(JSON.stringify(marker), JSON.stringify(key));
}
function deep(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

const json = (route: string, body: unknown, family: string, structural = false): Req => ({
  family,
  method: 'POST',
  path: route,
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
  structural,
});

function generate(r: Rand, i: number, heavyEvery = 100): Req {
  const route = pick(r, POST_ROUTES);
  const base = clone(BASES[route]) as Record<string, unknown>;
  const roll = r();
  // Rare and expensive ones on a fixed cadence, so any count gets some and none dominates the time.
  if (i % 500 === 250)
    return json('/api/simulate', { model: chainModel(1000, 140), times: { end: 1 } }, 'oversize-model');
  if (i % 500 === 100)
    return json(
      pick(r, ['/api/simulate', '/api/compare']),
      route === '/api/compare'
        ? {
            ...base,
            arms: Array.from({ length: 12 }, (_, k) => ({
              name: `a${k}`,
              doses: Array.from({ length: 2000 }, () => ({ target: 'x', amount: 1, every: 1, count: 10 })),
            })),
          }
        : {
            ...(clone(BASES['/api/simulate']) as object),
            doses: Array.from({ length: 2001 }, () => ({ target: 'x', amount: 1 })),
          },
      'oversize-doses',
    );
  // Valid but heavy: long grids, many fitted points (the solver's own budgets apply).
  if (i % heavyEvery === heavyEvery - 25)
    return json(
      route,
      {
        ...base,
        solver: undefined,
        ...pick(r, [
          { times: { end: 1e11, points: 100000 } },
          { times: { end: 3650, points: 100000 } },
          { fitted: { points: 5000 } },
          { solver: { maxSteps: 2_000_000, rtol: 1e-14 } },
        ]),
      },
      'heavy',
      true,
    );
  if (i % 250 === 50)
    return {
      family: 'oversize-body',
      method: 'POST',
      path: route,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...base, pad: 'x'.repeat(1_100_000) }),
    };
  if (roll < 0.08) {
    const p = pick(r, [...GET_PATHS, ...TRAVERSAL]);
    return { family: 'get', method: pick(r, ['GET', 'GET', 'GET', 'HEAD', 'DELETE', 'PUT', 'OPTIONS']), path: p };
  }
  if (roll < 0.16) {
    const text = JSON.stringify(base);
    const bad = pick(r, [
      text.slice(0, Math.floor(r() * text.length)),
      text + '}',
      '{"a":}',
      '{"model": NaN}',
      '{"x": Infinity}',
      "{'a': 1}",
      '\ufeff' + text,
      '',
      'null',
      '[]',
      '1',
      '"str"',
      text.replace(':', '::'),
      '{"a":"\\ud800"}',
      '{"a": 1e400}',
      text.replace(/\d+/, '1e400'),
      '\u0000',
      '{"a":1,"a":2}',
      '{' + '"k":1,'.repeat(50_000) + '"z":1}',
    ]);
    return {
      family: 'malformed-json',
      method: 'POST',
      path: route,
      headers: { 'Content-Type': 'application/json' },
      body: bad,
    };
  }
  if (roll < 0.22) {
    const type = pick(r, [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'application/xml',
      '',
      'application/jsonx',
    ]);
    return {
      family: 'content-type',
      method: 'POST',
      path: route,
      headers: type ? { 'Content-Type': type } : {},
      body: JSON.stringify(base),
    };
  }
  if (roll < 0.3)
    return {
      family: 'deep-nesting',
      method: 'POST',
      path: route,
      headers: { 'Content-Type': 'application/json' },
      body: deep(20 + Math.floor(r() * 2000)),
    };
  if (roll < 0.45) {
    // Prototype keys: as a key anywhere, or as a name given as a value.
    const name = pick(r, RESERVED);
    if (r() < 0.5)
      return {
        family: 'prototype-key',
        method: 'POST',
        path: route,
        headers: { 'Content-Type': 'application/json' },
        body: withRawKey(base, name, pick(r, [1, 'x', { value: 1 }, { initial: 1 }]), r),
        structural: true,
      };
    const strings = paths(base)
      .filter((p) => typeof p[p.length - 1] === 'string' || true)
      .filter((p) => {
        let o: unknown = base;
        for (const k of p) o = (o as Record<string | number, unknown>)[k];
        return typeof o === 'string';
      });
    if (strings.length) setAt(base, pick(r, strings), name);
    else base.preset = name;
    return json(route, base, 'prototype-value', true);
  }
  if (roll < 0.55) {
    const model = clone(SMALL_MODEL) as unknown as Record<string, Record<string, unknown>>;
    const where = pick(r, ['odes', 'assignments', 'outputs', 'initial', 'event']);
    const ex = pick(r, HOSTILE_EXPRESSIONS);
    if (where === 'odes') model.odes.x = ex;
    else if (where === 'assignments') model.assignments.C = ex;
    else if (where === 'outputs') model.outputs.tumor = ex;
    else if (where === 'initial') model.states.x = { initial: ex };
    else (model as Record<string, unknown>).events = [{ when: ex, set: { x: ex } }];
    return json(route, { ...base, model }, 'hostile-expression', true);
  }
  if (roll < 0.65) {
    // Huge grids, subjects, quantiles, points.
    const big = pick(r, [
      { times: { end: 1e11, step: 1e-6 } },
      { times: { start: -1e12, end: 1e12 } },
      { times: Array.from({ length: 100_001 }, (_, k) => k) },
      {
        population: {
          n: 5000,
          omega: { k: 0.3 },
          series: Array(20).fill('tumor'),
          quantiles: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
        },
        times: { end: 10, points: 100000 },
      },
      { population: { n: 5000, omega: { k: 0.3 } }, times: { end: 100, points: 100000 } },
      { horizon: 3650, step: 1e-4 },
      { doses: [{ target: 'x', amount: 1, every: 1e-9, count: 20000 }] },
      { doses: [{ target: 'x', amount: 1, every: 1e300, count: 3 }] },
      { doses: [{ target: 'x', amountPerKg: 1e308 }], weight: 1000 },
      { doses: [{ target: 'x', amount: 1e308, duration: 1e-300 }] },
    ]);
    return json(route, { ...base, ...big }, 'huge', true);
  }
  // Wrong types, non-finite numbers (1e400 parses as Infinity), missing and unknown fields.
  const ps = paths(base);
  const text = (() => {
    const p = pick(r, ps);
    const m = r();
    if (m < 0.15) {
      setAt(base, p, undefined, true);
      return JSON.stringify(base);
    }
    if (m < 0.3) {
      const marker = '"__fuzz_inf__"';
      setAt(base, p, '__fuzz_inf__');
      return JSON.stringify(base).replace(marker, pick(r, ['1e400', '-1e400', '1e-400']));
    }
    if (m < 0.4) {
      pick(r, objectsIn(base))[pick(r, ['extra', 'Model', 'times ', 'odes', 'n'])] = pick(r, WEIRD_VALUES);
      return JSON.stringify(base);
    }
    setAt(base, p, pick(r, WEIRD_VALUES));
    return JSON.stringify(base);
  })();
  return {
    family: 'wrong-type',
    method: 'POST',
    path: route + (r() < 0.05 ? pick(r, ['?format=csv', '?format=xml', '?format=csv&format=json']) : ''),
    headers: { 'Content-Type': 'application/json' },
    body: text,
    structural: true,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------------------
/** What must never appear in a body: stack frames, source files, absolute paths. */
const LEAK = new RegExp(
  String.raw`\n\s+at \S|\bat [\w$.<>]+ \(|\.ts:\d+|\.m?js:\d+|node_modules|file://|root:x:0|` +
    ROOT.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
);

function check(req: Req, status: number, type: string, body: string): string | null {
  if (status >= 500) return `status ${status}`;
  const isStatic = req.method !== 'POST' && !req.path.startsWith('/api') && status === 200;
  if (!isStatic && req.path !== '/vendor/plotly.min.js' && LEAK.test(body))
    return 'stack trace or file path in the body';
  if (status >= 400 && req.method !== 'HEAD') {
    if (!/application\/json/.test(type)) return `error without a JSON body (${type})`;
    let e: { error?: { message?: unknown; issues?: unknown } };
    try {
      e = JSON.parse(body);
    } catch {
      return 'error body is not JSON';
    }
    if (!e.error || typeof e.error.message !== 'string' || !e.error.message) return 'error without a message';
    if (status === 400 || status === 413) {
      const issues = e.error.issues as { path: unknown; message: unknown }[] | undefined;
      if (!Array.isArray(issues) || !issues.length) return '400 without issues';
      if (!issues.every((i) => Array.isArray(i.path) && typeof i.message === 'string')) return 'malformed issue';
      if (req.structural && status === 400 && !issues.some((i) => (i.path as unknown[]).length > 0))
        return '400 naming no field';
    }
  }
  return null;
}

function send(
  agent: http.Agent,
  port: number,
  req: Req,
  timeoutMs = 120_000,
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
    const r = http.request(
      {
        host: '127.0.0.1',
        port,
        method: req.method,
        path: req.path,
        agent,
        headers: { ...(req.headers ?? {}), ...(body ? { 'Content-Length': String(body.length) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size < 8 * 1024 * 1024) chunks.push(c);
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    r.setTimeout(timeoutMs, () => r.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    r.on('error', reject);
    if (body) r.write(body);
    r.end();
  });
}

async function startChild(workers: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'src/cli/run-ts.mjs'), path.join(ROOT, 'server/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', IMMUNOPD_LOG: '0', IMMUNOPD_WORKERS: String(workers) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out.slice(0, 500)}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/(?:127\.0\.0\.1|localhost):(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${out.slice(0, 500)}`)));
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return { child, port };
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const log = opts.log ?? (() => {});
  const concurrency = opts.concurrency ?? 8;
  const maxRssMb = opts.maxRssMb ?? 2048;
  const { child, port } = await startChild(opts.workers ?? 2);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  // Warm-up (not counted): one simulate per worker, so that start-up is not measured as a slow answer.
  await Promise.all(
    Array.from({ length: opts.workers ?? 2 }, () =>
      send(agent, port, json('/api/simulate', BASES['/api/simulate'], 'warm-up')),
    ),
  );
  const report: FuzzReport = {
    sent: 0,
    byStatus: {},
    byFamily: {},
    msByFamily: {},
    failures: [],
    seconds: 0,
    rss: { startMb: rssMb(child.pid!), peakMb: 0, endMb: 0 },
    slowest: { ms: 0, request: '' },
    latency: { p50: 0, p99: 0, max: 0 },
    slow: [],
    alive: true,
  };
  const times: number[] = [];
  const started = performance.now();
  const deadline = Date.now() + (opts.timeLimitS ?? 1800) * 1000;
  const rand = mulberry32(opts.seed);
  const fail = (kind: string, req: Req, status: number, body: string) => {
    log(
      `FAIL ${kind} [${status}] ${req.method} ${req.path.slice(0, 120)} ${String(req.body ?? '').slice(0, 300)} -> ${body.slice(0, 300)}`,
    );
    if (report.failures.length < 50)
      report.failures.push({
        kind,
        request: `${req.method} ${req.path.slice(0, 120)} ${String(req.body ?? '').slice(0, 300)}`,
        status,
        body: body.slice(0, 300),
      });
  };
  let next = 0;
  const health = async () => {
    const h = await send(agent, port, { family: 'health', method: 'GET', path: '/healthz' }, 30_000).catch(() => null);
    if (!h || h.status !== 200) report.alive = false;
    const rss = rssMb(child.pid!);
    report.rss.peakMb = Math.max(report.rss.peakMb, rss);
    if (rss > maxRssMb)
      fail('rss', { family: 'rss', method: '-', path: '-' }, 0, `RSS ${rss.toFixed(0)} MB > ${maxRssMb} MB`);
  };
  const clientLoop = async () => {
    while (next < opts.count && Date.now() < deadline && report.alive) {
      const i = next++;
      const req = generate(rand, i, opts.heavyEvery);
      report.byFamily[req.family] = (report.byFamily[req.family] ?? 0) + 1;
      const t0 = performance.now();
      try {
        const res = await send(agent, port, req);
        const ms = performance.now() - t0;
        if (ms > report.slowest.ms)
          report.slowest = {
            ms,
            request: `${req.family} ${req.method} ${req.path.slice(0, 60)} ${String(req.body ?? '').slice(0, 120)}`,
          };
        report.byStatus[res.status] = (report.byStatus[res.status] ?? 0) + 1;
        times.push(ms);
        report.msByFamily[req.family] = Math.round((report.msByFamily[req.family] ?? 0) + ms);
        if (ms > 2000) {
          report.slow.push({
            ms: Math.round(ms),
            status: res.status,
            request: `${req.family} ${req.method} ${req.path.slice(0, 60)} ${String(req.body ?? '').slice(0, 400)}`,
          });
          report.slow.sort((a, b) => b.ms - a.ms);
          report.slow.length = Math.min(report.slow.length, 20);
        }
        const problem = check(req, res.status, res.type, res.body);
        if (problem) fail(problem, req, res.status, res.body);
      } catch (e) {
        // The server may close a connection on a body it refuses (413); anything else is a failure.
        report.byStatus.neterr = (report.byStatus.neterr ?? 0) + 1;
        if (req.family !== 'oversize-body') fail(`network: ${(e as Error).message}`, req, 0, '');
      }
      report.sent++;
      if (report.sent % 200 === 0) {
        await health();
        log(
          `${report.sent} sent, ${((performance.now() - started) / 1000).toFixed(0)} s, RSS ${rssMb(child.pid!).toFixed(0)} MB, failures ${report.failures.length}`,
        );
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, clientLoop));
    await health();
  } finally {
    report.rss.endMb = rssMb(child.pid!);
    report.seconds = (performance.now() - started) / 1000;
    times.sort((a, b) => a - b);
    const q = (p: number) => Math.round(times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? 0);
    report.latency = { p50: q(0.5), p99: q(0.99), max: q(1) };
    agent.destroy();
    child.kill('SIGTERM');
    await new Promise((r) => {
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        r(null);
      }, 15_000);
      child.once('exit', () => {
        clearTimeout(t);
        r(null);
      });
    });
  }
  if (!report.alive) report.failures.push({ kind: 'server not alive', request: '', status: 0, body: '' });
  return report;
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const opts: FuzzOptions = {
    count: arg('--count', 2000),
    seed: arg('--seed', 1),
    concurrency: arg('--concurrency', 8),
    timeLimitS: arg('--time-limit', 1800),
    maxRssMb: arg('--max-rss-mb', 2048),
    workers: arg('--workers', 2),
    heavyEvery: arg('--heavy-every', 100),
    log: (l) => console.log(l),
  };
  console.log(`fuzz: ${opts.count} requests, seed ${opts.seed}, concurrency ${opts.concurrency}`);
  const rep = await runFuzz(opts);
  console.log(JSON.stringify({ ...rep, failures: rep.failures.length }, null, 2));
  for (const f of rep.failures.slice(0, 20)) console.log(`FAIL ${f.kind} [${f.status}] ${f.request}\n  -> ${f.body}`);
  process.exit(rep.failures.length ? 1 : 0);
}
