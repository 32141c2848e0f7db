// The HTTP API (Contract 5, docs/architecture.md) and the web client's static files. Routes are thin: zod validates the
// request here, the library does the work on the one thread pool (src/jobs/pool.ts), errors become
// 400 {error: {message, issues}} / 422 (could not solve) / 413 (too large), never a 500 for user input.
import express, { type Request, type Response, type NextFunction } from 'express';
import { withDatasetTimes } from '../src/simulate-dataset.ts';
import helmet from 'helmet';
import compression from 'compression';
import { constants as zlibConstants } from 'node:zlib';
import { availableParallelism } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Scenario, LIMITS } from '../src/scenario/schema.ts';
import { fromZodIssues, formatPath, MAX_ISSUES, type Issue } from '../src/errors.ts';
import { findReservedKeys } from '../src/keys.ts';
import { listModels, modelJson } from '../src/model/library.ts';
import { THERAPIES, DRUG_CLASSES } from '../src/dosing/therapies.ts';
import { SERVER_LIMITS, openApiDocument } from './schemas.ts';
import { CompareRequest, compareArmScenario, compareIssues, compareCsv, compareJson } from '../src/analysis/compare.ts';
import { registerNcaRoute } from './routes/nca.ts';
import { WorkerPool, PoolBusyError } from '../src/jobs/pool.ts';
import type { Reply, JobError, Task } from '../src/jobs/tasks.ts';
import { JobManager, MemoryStore, runSync } from '../src/jobs/manager.ts';
import { embeddedBackend } from '../src/jobs/embedded.ts';
import { redisBackend, redisStore } from '../src/jobs/redis.ts';
import { registerJobRoutes } from './routes/jobs.ts';
import { warmPool } from './warmup.ts';
import { mountStatic } from './static.ts';

import { VERSION } from '../src/package-info.ts';
export const DEFAULT_MODEL = 'immunotherapy';

export interface AppOptions {
  /** Solver worker threads (default: cores, at most 4; IMMUNOPD_WORKERS overrides). */
  workers?: number;
  /** Warm each solver thread with one small solve before listening (server/warmup.ts; `immunopd serve` does). */
  warm?: boolean;
  /** Wall-clock budget per request, ms. */
  budgetMs?: number;
  /** Wall-clock budget of a fit or schedule optimization, ms. */
  analysisBudgetMs?: number;
  killGraceMs?: number;
  /** Solves allowed to wait for a worker. */
  queueLength?: number;
  /** Log one line per request to stdout. */
  log?: boolean;
  allowTestJobs?: boolean;
  /** Redis URL of the job queue (default: REDIS_URL; none = embedded jobs on this process's pool). */
  redisUrl?: string;
  /** SIGTERM / close(): how long in-flight requests may finish, ms (default IMMUNOPD_SHUTDOWN_GRACE_MS or 10 s). */
  shutdownGraceMs?: number;
}

export interface App extends express.Express {
  locals: { pool: WorkerPool; jobs: JobManager; inFlight: () => number } & Record<string, unknown>;
}

export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly issues: Issue[] = [], readonly extra: Record<string, unknown> = {}) {
    super(message);
  }
}

function sendError(res: Response, status: number, message: string, issues: Issue[] = [], extra: Record<string, unknown> = {}) {
  res.status(status).type('application/json').send(JSON.stringify({ error: { message, issues, ...extra } }));
}

/** 400 with the first MAX_ISSUES issues (and `total` when there were more): error bodies stay small. */
export function badRequest(all: Issue[], total = all.length): HttpError {
  const issues = all.slice(0, MAX_ISSUES);
  const count = Math.max(total, all.length);
  if (count > issues.length) return new HttpError(400, `${count} problems in the request (the first ${issues.length} are listed): ${issues.slice(0, 5).map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}; ...`, issues, { total: count });
  const message = issues.length === 1 ? `${formatPath(issues[0].path)}: ${issues[0].message}` : `${issues.length} problems in the request: ${issues.slice(0, 5).map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}${issues.length > 5 ? '; ...' : ''}`;
  return new HttpError(400, message, issues);
}

type ZodIssueLike = { code?: string; path: PropertyKey[]; message: string; errors?: ZodIssueLike[][]; keys?: string[] };

/**
 * zod issues → ours. A union that failed ("Invalid input") is replaced by the issues of the branch whose
 * type matched the value (e.g. `times` given as an array: the array branch's "at most N output times").
 */
export function zodIssues(issues: readonly ZodIssueLike[], prefix: PropertyKey[] = []): Issue[] {
  const out: Issue[] = [];
  for (const i of issues) {
    const path = [...prefix, ...i.path];
    if (i.code === 'invalid_union' && i.errors?.length) {
      const typed = i.errors.filter((branch) => !branch.some((b) => b.code === 'invalid_type' && b.path.length === 0));
      if (typed.length === 1) {
        out.push(...zodIssues(typed[0], path));
        continue;
      }
    }
    out.push(...fromZodIssues([{ path, message: i.message, code: i.code, keys: i.keys }]));
  }
  return out;
}

/** Deepest nesting of a parsed JSON value (iterative: a hostile body cannot overflow the stack here). */
function depthExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d >= max) return true;
    for (const c of Array.isArray(v) ? v : Object.values(v)) if (c !== null && typeof c === 'object') stack.push([c, d + 1]);
  }
  return false;
}

/** `?format=csv` or `Accept: text/csv` → csv; json otherwise. */
function wantedFormat(req: Request): 'json' | 'csv' {
  const q = req.query.format;
  if (q !== undefined) {
    if (q === 'csv' || q === 'json') return q;
    throw badRequest([{ path: ['query', 'format'], message: "format must be 'json' or 'csv'" }]);
  }
  return req.accepts(['application/json', 'text/csv']) === 'text/csv' ? 'csv' : 'json';
}

/** A worker's error → HttpError (400 for input, 422 for solve/resources, 500 for a bug). */
function jobError(e: JobError, arm?: { name: string; index: number }): HttpError {
  const where = arm ? `arm '${arm.name}': ` : '';
  switch (e.type) {
    case 'input':
      return badRequest(e.issues, e.total);
    case 'solve': {
      const at = e.timeReached === null || /at t = /.test(e.message) ? '' : ` (reached t = ${e.timeReached})`;
      return new HttpError(422, `${where}could not solve: ${e.message}${at}`, arm ? [{ path: ['arms', arm.index], message: e.message }] : [], {
        reason: e.reason, timeReached: e.timeReached, ...(arm ? { arm: arm.name } : {}),
      });
    }
    case 'busy':
      return new HttpError(503, e.message);
    case 'cancelled':
      return new HttpError(503, e.message);
    case 'resources':
      return new HttpError(422, `${where}could not solve: ${e.message}`, [], { reason: 'resources', timeReached: null, ...(arm ? { arm: arm.name } : {}) });
    default:
      return new HttpError(500, 'internal error');
  }
}

export function createApp(options: AppOptions = {}): App {
  const envWorkers = Number(process.env.IMMUNOPD_WORKERS);
  const size = options.workers ?? (Number.isInteger(envWorkers) && envWorkers > 0 ? envWorkers : Math.max(1, Math.min(4, availableParallelism())));
  const budgetMs = options.budgetMs ?? SERVER_LIMITS.requestBudgetMs;
  const analysisBudgetMs = options.analysisBudgetMs ?? SERVER_LIMITS.analysisBudgetMs;
  const pool = new WorkerPool({ size, queueLength: options.queueLength ?? SERVER_LIMITS.queueLength, killGraceMs: options.killGraceMs ?? SERVER_LIMITS.killGraceMs, allowTestJobs: options.allowTestJobs });
  const app = express() as unknown as App;
  app.locals.pool = pool;
  const redisUrl = options.redisUrl ?? process.env.REDIS_URL;
  app.locals.jobs = new JobManager({ pool, backend: redisUrl ? redisBackend(redisUrl) : embeddedBackend(pool), store: redisUrl ? redisStore(redisUrl) : new MemoryStore() });
  // Requests being answered (graceful shutdown waits for them).
  let inFlight = 0;
  app.locals.inFlight = () => inFlight;
  app.use((_req, res, next) => {
    inFlight++;
    res.once('close', () => inFlight--);
    next();
  });
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use(helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        upgradeInsecureRequests: null,
      },
    },
    crossOriginEmbedderPolicy: false,
    strictTransportSecurity: false,
  }));

  // gzip / brotli for API responses and static files (the plotly bundle comes precompressed: server/static.ts).
  // Server-sent events (GET /api/jobs/:id/events) are never compressed: the middleware would buffer them.
  // Fastest levels (gzip 1, brotli 1): API bodies are made per request on the main thread, where every
  // millisecond of compression is a millisecond no other request is served; the ratio barely changes for
  // JSON of numbers (the plotly bundle is precompressed at the highest levels once, in static.ts).
  app.use(compression({
    threshold: 1024,
    level: 1,
    brotli: { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 1 } },
    filter: (req, res) => !String(res.getHeader('Content-Type') ?? '').startsWith('text/event-stream') && compression.filter(req, res),
  }));

  if (options.log) {
    app.use((req, res, next) => {
      const t0 = performance.now();
      res.on('finish', () => console.log(`${new Date().toISOString()} ${req.method} ${req.originalUrl.slice(0, 200)} ${res.statusCode} ${(performance.now() - t0).toFixed(0)}ms`));
      next();
    });
  }

  // Bodies: JSON only, size-limited, not too deeply nested.
  app.use('/api', (req, _res, next) => {
    if (req.method !== 'POST') return next();
    if (!req.is('application/json')) {
      const type = req.headers['content-type'];
      return next(new HttpError(400, type ? `the request body must be JSON (Content-Type: application/json), not ${String(type).slice(0, 100)}` : 'the request needs a JSON body (Content-Type: application/json)', [{ path: [], message: 'expected a JSON body' }]));
    }
    next();
  });
  app.use('/api', express.json({ limit: SERVER_LIMITS.bodyBytes, strict: true, type: 'application/json' }));
  app.use('/api', (req, _res, next) => {
    if (req.method === 'POST' && depthExceeds(req.body, SERVER_LIMITS.bodyDepth)) {
      return next(new HttpError(400, `the request body is nested more than ${SERVER_LIMITS.bodyDepth} levels deep`, [{ path: [], message: 'nested too deeply' }]));
    }
    // Names such as __proto__ or constructor, anywhere: refused with their path (src/keys.ts).
    const reserved = req.method === 'POST' ? findReservedKeys(req.body) : [];
    if (reserved.length) return next(badRequest(reserved));
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', version: VERSION, models: listModels().length, workers: pool.size, ready: pool.stats().ready });
  });

  app.get('/api/models', (_req, res) => {
    const models = listModels().map((m) => ({ id: m.id, title: m.title, ...(m.reference !== undefined ? { reference: m.reference } : {}) }));
    const def = models.some((m) => m.id === DEFAULT_MODEL) ? DEFAULT_MODEL : models[0]?.id ?? '';
    res.json({ default: def, models });
  });

  app.get('/api/models/:id', (req, res) => {
    const id = String(req.params.id);
    const json = /^[a-z0-9][a-z0-9._-]{0,99}$/.test(id) ? modelJson(id) : undefined;
    if (!json) {
      throw new HttpError(404, `unknown model '${id.slice(0, 100)}' (available: ${listModels().map((m) => m.id).join(', ')})`, [{ path: ['id'], message: 'unknown model' }]);
    }
    res.json(json);
  });

  app.get('/api/therapies', (_req, res) => {
    res.json({
      model: DEFAULT_MODEL,
      therapies: THERAPIES.map((t) => ({
        id: t.id, title: t.title, drug: t.drug, ...(Object.hasOwn(DRUG_CLASSES, t.drug) ? { class: DRUG_CLASSES[t.drug] } : {}), source: t.source, ...(t.notes ? { notes: t.notes } : {}),
        targets: [...new Set(t.doses.map((d) => d.target))],
        doses: t.doses,
      })),
    });
  });

  let openapi: string | undefined;
  app.get('/api/openapi.json', (_req, res) => {
    openapi ??= JSON.stringify(openApiDocument(VERSION), null, 2);
    res.type('application/json').send(openapi);
  });

  /** Aborted when the client goes away before its answer is sent: its queued or running solves are cancelled. */
  const clientGone = (req: Request, res: Response): AbortSignal => {
    const ac = new AbortController();
    res.once('close', () => {
      if (res.writableFinished) return;
      ac.abort();
      console.log(`${new Date().toISOString()} ${req.method} ${req.originalUrl.slice(0, 200)} aborted by the client: its work was cancelled`);
    });
    return ac.signal;
  };

  const runAll = async (jobs: Task[], deadline: number, signal?: AbortSignal): Promise<Reply[]> => {
    try {
      return await pool.runAll(jobs, deadline, signal);
    } catch (e) {
      if (e instanceof PoolBusyError) throw new HttpError(503, e.message);
      throw e;
    }
  };

  /** The budget left before `deadline`, for the solver's own stop. */
  const budgetLeft = (requested: number, deadline: number) => Math.max(1, Math.min(requested, Math.floor(deadline - Date.now())));

  app.post('/api/simulate', async (req, res) => {
    const deadline = Date.now() + budgetMs;
    const format = wantedFormat(req);
    const parsed = Scenario.safeParse(withDatasetTimes(req.body));
    if (!parsed.success) throw badRequest(zodIssues(parsed.error.issues as unknown as ZodIssueLike[]));
    // A copy: the parsed solver object may be the schema's shared default.
    const scenario = { ...parsed.data, solver: { ...parsed.data.solver, timeBudgetMs: budgetLeft(parsed.data.solver.timeBudgetMs, deadline) } };
    const [reply] = await runAll([{ type: 'simulate', scenario, format, maxValues: SERVER_LIMITS.outputValues }], deadline, clientGone(req, res));
    if (!reply.ok) throw jobError(reply.error);
    res.type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json').send(reply.body);
  });

  app.post('/api/compare', async (req, res) => {
    const deadline = Date.now() + budgetMs;
    const format = wantedFormat(req);
    const parsed = CompareRequest.safeParse(req.body);
    if (!parsed.success) throw badRequest(zodIssues(parsed.error.issues as unknown as ZodIssueLike[]));
    const c = parsed.data;
    const solverBudget = c.solver?.timeBudgetMs ?? LIMITS.timeBudgetMs;
    const maxValues = Math.floor(SERVER_LIMITS.outputValues / c.arms.length);
    const replies = await runAll(c.arms.map((arm, i) => {
      const scenario = compareArmScenario(c, i, { ...(c.solver ?? {}), timeBudgetMs: budgetLeft(solverBudget, deadline) } as CompareRequest['solver']);
      return { type: 'simulate' as const, scenario, format, arm: arm.name, maxValues };
    }), deadline, clientGone(req, res));
    const issues = compareIssues(c, replies.map((r) => (!r.ok && r.error.type === 'input' ? r.error.issues : [])));
    if (issues.length) throw badRequest(issues);
    const failed = replies.findIndex((r) => !r.ok);
    if (failed >= 0) throw jobError((replies[failed] as Extract<Reply, { ok: false }>).error, { name: c.arms[failed].name, index: failed });
    const ok = replies as Extract<Reply, { ok: true }>[];
    if (format === 'csv') res.type('text/csv; charset=utf-8').send(compareCsv(ok.map((r) => r.body)));
    else res.type('application/json').send(compareJson(c, ok[0].model, ok));
  });

  // Fits, schedule searches, virtual populations and sensitivities: the job kinds (src/jobs/kinds), run
  // synchronously with the small limits: chunks on the pool as heavy work (never every thread), merged there.
  for (const kind of ['fit', 'optimize', 'population', 'sensitivity', 'vpc'] as const) {
    app.post(`/api/${kind}`, async (req, res) => {
      const deadline = Date.now() + analysisBudgetMs;
      let reply: Reply;
      try {
        reply = await runSync(pool, kind, req.body, deadline, clientGone(req, res));
      } catch (e) {
        if (e instanceof PoolBusyError) throw new HttpError(503, e.message);
        throw e;
      }
      if (!reply.ok) throw jobError(reply.error);
      res.type('application/json').send(reply.body);
    });
  }

  registerNcaRoute(app);
  registerJobRoutes(app, app.locals.jobs, pool);
  app.use('/api', (req, _res, next) => next(new HttpError(404, `no route ${req.method} ${(req.baseUrl + req.path).slice(0, 200)} (see GET /api/openapi.json)`)));

  // The web client and plotly (from node_modules: no CDN).
  mountStatic(app);
  app.use((req, _res, next) => next(new HttpError(404, `not found: ${req.method} ${req.path.slice(0, 200)}`)));

  // Errors: body-parser's (bad JSON, too large, bad encoding), ours, and anything else as a bare 500.
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    if (err instanceof HttpError) {
      if (err.status === 503) res.set('Retry-After', '1');
      return sendError(res, err.status, err.message, err.issues, err.extra);
    }
    const e = err as { type?: string; status?: number; statusCode?: number; message?: string };
    switch (e.type) {
      case 'entity.parse.failed':
        return sendError(res, 400, `the request body is not valid JSON: ${String(e.message ?? '').slice(0, 200)}`, [{ path: [], message: 'invalid JSON' }]);
      case 'entity.too.large':
        return sendError(res, 413, `the request body is larger than ${SERVER_LIMITS.bodyBytes} bytes`, [{ path: [], message: 'body too large' }]);
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return sendError(res, 400, 'the request body must be UTF-8 JSON', [{ path: [], message: String(e.message ?? '').slice(0, 200) }]);
      case 'request.aborted':
      case 'request.size.invalid':
      case 'stream.encoding.set':
        return sendError(res, 400, 'the request body could not be read', [{ path: [], message: String(e.message ?? '').slice(0, 200) }]);
    }
    const status = e.status ?? e.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) return sendError(res, status, String(e.message ?? 'bad request').slice(0, 200));
    console.error('immunopd server: internal error:', err);
    sendError(res, 500, 'internal error');
  });

  return app;
}

export interface RunningServer {
  server: Server;
  app: App;
  url: string;
  port: number;
  /** Stop at once: open connections are closed, running work is dropped. */
  close: () => Promise<void>;
  /**
   * Graceful stop (SIGTERM): stop accepting connections, let in-flight requests finish within `graceMs`
   * (default: the app's shutdownGraceMs), then close what is left. Resolves true when nothing was cut off.
   */
  shutdown: (graceMs?: number) => Promise<boolean>;
}

export const SHUTDOWN_GRACE_MS = 10_000;

/** Create the app and listen (port 0 = ephemeral). */
export async function startServer(port: number, host = '127.0.0.1', options: AppOptions = {}): Promise<RunningServer> {
  const app = createApp(options);
  // Listen once the solver threads have loaded the library (a few seconds at most; a request arriving
  // earlier would spend its budget waiting for a thread's start-up).
  await app.locals.pool.ready(30_000);
  if (options.warm) await warmPool(app.locals.pool, DEFAULT_MODEL);
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (err?: Error) => {
      if (err) return reject(err);
      const addr = server.address() as AddressInfo;
      const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
      resolve({
        server, app, port: addr.port, url: `http://${shownHost}:${addr.port}`,
        close: async () => {
          const closed = new Promise<void>((r) => server.close(() => r()));
          server.closeAllConnections();
          await closed;
          await app.locals.jobs.close();
          await app.locals.pool.close();
        },
        shutdown: async (graceMs = options.shutdownGraceMs ?? (Number(process.env.IMMUNOPD_SHUTDOWN_GRACE_MS) || SHUTDOWN_GRACE_MS)) => {
          const closed = new Promise<void>((r) => server.close(() => r()));
          server.closeIdleConnections();
          const end = Date.now() + graceMs;
          while (app.locals.inFlight() > 0 && Date.now() < end) {
            await new Promise((r) => setTimeout(r, 25));
            server.closeIdleConnections();
          }
          const clean = app.locals.inFlight() === 0;
          server.closeAllConnections();
          await closed;
          await app.locals.jobs.close();
          await app.locals.pool.close();
          return clean;
        },
      });
    });
    server.on('error', reject);
    server.requestTimeout = 30_000;
    server.headersTimeout = 20_000;
    // Idle keep-alive connections live longer than a busy server's answers take: a client reusing one just
    // as the server drops it sees "other side closed" (seen under load with 5 s, Node's default).
    server.keepAliveTimeout = 65_000;
  });
}
