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

/** gzip when the client accepts it (Accept-Encoding, with q-values), else the body as it is. */
export function wantedEncoding(req: Request): 'gzip' | 'identity' {
  return req.headers['accept-encoding'] && req.acceptsEncodings('gzip', 'identity') === 'gzip' ? 'gzip' : 'identity';
}

/** Write a thread's encoded body (reply.bytes, made by run-task.ts encodeBody) with its length and encoding. */
export function sendBytes(res: Response, type: string, reply: Extract<Reply, { ok: true }>): void {
  const bytes = reply.bytes ?? new TextEncoder().encode(reply.body);
  res.type(type);
  res.vary('Accept-Encoding');
  if (reply.encoding === 'gzip') res.set('Content-Encoding', 'gzip');
  res.send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** Aborted when the client goes away before its answer is sent: its queued or running solves are cancelled. */
export const clientGone = (req: Request, res: Response): AbortSignal => {
  const ac = new AbortController();
  res.once('close', () => {
    if (res.writableFinished) return;
    ac.abort();
    console.log(
      `${new Date().toISOString()} ${req.method} ${req.originalUrl.slice(0, 200)} aborted by the client: its work was cancelled`,
    );
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
export const budgetLeft = (requested: number, deadline: number) =>
  Math.max(1, Math.min(requested, Math.floor(deadline - Date.now())));
