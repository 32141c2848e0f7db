// POST /api/fit, /api/optimize, /api/population, /api/sensitivity, /api/vpc: the job kinds
// (src/jobs/kinds) run synchronously within the analysis budget.
import type { Express } from 'express';
import { PoolBusyError, type WorkerPool } from '../../src/jobs/pool.ts';
import type { Reply } from '../../src/jobs/tasks.ts';
import { runSync } from '../../src/jobs/manager.ts';
import { HttpError, jobError } from '../http-errors.ts';
import { clientGone } from './request.ts';

export function registerAnalysisRoutes(app: Express, pool: WorkerPool, analysisBudgetMs: number): void {
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
}
