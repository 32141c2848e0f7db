// Per-request helpers shared by the solving routes: the client's wanted format, cancellation when the
// client goes away, the solver budget left before the deadline, and the pool's busy error as a 503.
import type { Request, Response } from 'express';
import { PoolBusyError, type WorkerPool } from '../../src/jobs/pool.ts';
import type { Reply, Task } from '../../src/jobs/tasks.ts';
import { HttpError, badRequest } from '../http-errors.ts';

/** `?format=csv` or `Accept: text/csv` → csv; json otherwise. */
export function wantedFormat(req: Request): 'json' | 'csv' {
  const q = req.query.format;
  if (q !== undefined) {
    if (q === 'csv' || q === 'json') return q;
    throw badRequest([{ path: ['query', 'format'], message: "format must be 'json' or 'csv'" }]);
  }
  return req.accepts(['application/json', 'text/csv']) === 'text/csv' ? 'csv' : 'json';
}

/** Aborted when the client goes away before its answer is sent: its queued or running solves are cancelled. */
export const clientGone = (req: Request, res: Response): AbortSignal => {
  const ac = new AbortController();
  res.once('close', () => {
    if (res.writableFinished) return;
    ac.abort();
    console.log(`${new Date().toISOString()} ${req.method} ${req.originalUrl.slice(0, 200)} aborted by the client: its work was cancelled`);
  });
  return ac.signal;
};

export async function runAll(pool: WorkerPool, jobs: Task[], deadline: number, signal?: AbortSignal): Promise<Reply[]> {
  try {
    return await pool.runAll(jobs, deadline, signal);
  } catch (e) {
    if (e instanceof PoolBusyError) throw new HttpError(503, e.message);
    throw e;
  }
}

/** The budget left before `deadline`, for the solver's own stop. */
export const budgetLeft = (requested: number, deadline: number) => Math.max(1, Math.min(requested, Math.floor(deadline - Date.now())));
