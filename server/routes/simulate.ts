// POST /api/simulate (one scenario) and POST /api/compare (arms solved side by side): validated here,
// solved on the pool within the request budget, answered as JSON or CSV.
import type { Express } from 'express';
import { withDatasetTimes } from '../../src/simulate-dataset.ts';
import { Scenario, LIMITS } from '../../src/scenario/schema.ts';
import {
  CompareRequest,
  compareArmScenario,
  compareIssues,
  compareCsv,
  compareJson,
} from '../../src/analysis/compare.ts';
import type { WorkerPool } from '../../src/jobs/pool.ts';
import type { Reply, Task } from '../../src/jobs/tasks.ts';
import { SERVER_LIMITS } from '../schemas.ts';
import { badRequest, zodIssues, jobError, type ZodIssueLike } from '../http-errors.ts';
import { wantedFormat, wantedEncoding, sendBytes, clientGone, budgetLeft, runAll as runOnPool } from './request.ts';

export function registerSimulateRoutes(app: Express, pool: WorkerPool, budgetMs: number): void {
  const runAll = (jobs: Task[], deadline: number, signal?: AbortSignal): Promise<Reply[]> =>
    runOnPool(pool, jobs, deadline, signal);

  app.post('/api/simulate', async (req, res) => {
    const deadline = Date.now() + budgetMs;
    const format = wantedFormat(req);
    const parsed = Scenario.safeParse(withDatasetTimes(req.body));
    if (!parsed.success) throw badRequest(zodIssues(parsed.error.issues as unknown as ZodIssueLike[]));
    // A copy: the parsed solver object may be the schema's shared default.
    const scenario = {
      ...parsed.data,
      solver: { ...parsed.data.solver, timeBudgetMs: budgetLeft(parsed.data.solver.timeBudgetMs, deadline) },
    };
    // The thread answers with the body's bytes, already gzip-compressed when the client accepts gzip: the
    // main thread only writes them (the compression middleware leaves an encoded body alone).
    const encoding = wantedEncoding(req);
    const [reply] = await runAll(
      [{ type: 'simulate', scenario, format, maxValues: SERVER_LIMITS.outputValues, encoding }],
      deadline,
      clientGone(req, res),
    );
    if (!reply.ok) throw jobError(reply.error);
    sendBytes(res, format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8', reply);
  });

  app.post('/api/compare', async (req, res) => {
    const deadline = Date.now() + budgetMs;
    const format = wantedFormat(req);
    const parsed = CompareRequest.safeParse(req.body);
    if (!parsed.success) throw badRequest(zodIssues(parsed.error.issues as unknown as ZodIssueLike[]));
    const c = parsed.data;
    const solverBudget = c.solver?.timeBudgetMs ?? LIMITS.timeBudgetMs;
    const maxValues = Math.floor(SERVER_LIMITS.outputValues / c.arms.length);
    const replies = await runAll(
      c.arms.map((arm, i) => {
        const scenario = compareArmScenario(c, i, {
          ...(c.solver ?? {}),
          timeBudgetMs: budgetLeft(solverBudget, deadline),
        } as CompareRequest['solver']);
        return { type: 'simulate' as const, scenario, format, arm: arm.name, maxValues };
      }),
      deadline,
      clientGone(req, res),
    );
    const issues = compareIssues(
      c,
      replies.map((r) => (!r.ok && r.error.type === 'input' ? r.error.issues : [])),
    );
    if (issues.length) throw badRequest(issues);
    const failed = replies.findIndex((r) => !r.ok);
    if (failed >= 0)
      throw jobError((replies[failed] as Extract<Reply, { ok: false }>).error, {
        name: c.arms[failed].name,
        index: failed,
      });
    const ok = replies as Extract<Reply, { ok: true }>[];
    if (format === 'csv') res.type('text/csv; charset=utf-8').send(compareCsv(ok.map((r) => r.body)));
    else res.type('application/json').send(compareJson(c, ok[0].model, ok));
  });
}
