// The HTTP API (Contract 5, docs/architecture.md) and the web client's static files. Routes are thin: zod validates the
// request here, the library does the work on the one thread pool (src/jobs/pool.ts), errors become
// 400 {error: {message, issues}} / 422 (could not solve) / 413 (too large), never a 500 for user input.
import express from 'express';
import { availableParallelism } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { SERVER_LIMITS } from './schemas.ts';
import { registerNcaRoute } from './routes/nca.ts';
import { WorkerPool } from '../src/jobs/pool.ts';
import { JobManager, MemoryStore } from '../src/jobs/manager.ts';
import { embeddedBackend } from '../src/jobs/embedded.ts';
import { redisBackend, redisStore } from '../src/jobs/redis.ts';
import { registerJobRoutes } from './routes/jobs.ts';
import { registerMiddleware, registerFallbacks } from './routes/middleware.ts';
import { registerCatalogRoutes, DEFAULT_MODEL } from './routes/catalog.ts';
import { registerSimulateRoutes } from './routes/simulate.ts';
import { registerAnalysisRoutes } from './routes/analyses.ts';
import { warmPool } from './warmup.ts';

export { HttpError, badRequest, zodIssues } from './http-errors.ts';
export { DEFAULT_MODEL };

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

export function createApp(options: AppOptions = {}): App {
  const envWorkers = Number(process.env.IMMUNOPD_WORKERS);
  const size =
    options.workers ??
    (Number.isInteger(envWorkers) && envWorkers > 0 ? envWorkers : Math.max(1, Math.min(4, availableParallelism())));
  const budgetMs = options.budgetMs ?? SERVER_LIMITS.requestBudgetMs;
  const analysisBudgetMs = options.analysisBudgetMs ?? SERVER_LIMITS.analysisBudgetMs;
  const pool = new WorkerPool({
    size,
    queueLength: options.queueLength ?? SERVER_LIMITS.queueLength,
    killGraceMs: options.killGraceMs ?? SERVER_LIMITS.killGraceMs,
    allowTestJobs: options.allowTestJobs,
  });
  const app = express() as unknown as App;
  app.locals.pool = pool;
  const redisUrl = options.redisUrl ?? process.env.REDIS_URL;
  app.locals.jobs = new JobManager({
    pool,
    backend: redisUrl ? redisBackend(redisUrl) : embeddedBackend(pool),
    store: redisUrl ? redisStore(redisUrl) : new MemoryStore(),
  });
  // Requests being answered (graceful shutdown waits for them).
  app.locals.inFlight = registerMiddleware(app, options);

  registerCatalogRoutes(app, pool);
  registerSimulateRoutes(app, pool, budgetMs);
  registerAnalysisRoutes(app, pool, analysisBudgetMs);
  registerNcaRoute(app);
  registerJobRoutes(app, app.locals.jobs, pool);
  registerFallbacks(app);

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
        server,
        app,
        port: addr.port,
        url: `http://${shownHost}:${addr.port}`,
        close: async () => {
          const closed = new Promise<void>((r) => server.close(() => r()));
          server.closeAllConnections();
          await closed;
          await app.locals.jobs.close();
          await app.locals.pool.close();
        },
        shutdown: async (
          graceMs = options.shutdownGraceMs ?? (Number(process.env.IMMUNOPD_SHUTDOWN_GRACE_MS) || SHUTDOWN_GRACE_MS),
        ) => {
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
