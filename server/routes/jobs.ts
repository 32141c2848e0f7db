// The job routes (Contract 5, docs/architecture.md): POST /api/jobs {kind, request} → 202 {id}; GET /api/jobs/:id → status,
// progress (done/total) and the result once finished; GET /api/jobs/:id/events → progress as server-sent
// events until the job ends; DELETE /api/jobs/:id cancels. The work runs on the job backend (src/jobs).
import type { Express, Request, Response } from 'express';
import { InputError } from '../../src/errors.ts';
import { JobFailure, type JobManager, type JobRecord } from '../../src/jobs/manager.ts';
import { JOB_KIND_NAMES } from '../../src/jobs/kinds/index.ts';
import { HttpError, badRequest } from '../app.ts';
import { streamPopulationRows } from './population-rows.ts';
import type { WorkerPool } from '../../src/jobs/pool.ts';

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A record as JSON text; the result is already JSON and is spliced in, not parsed again. */
export function recordJson(r: JobRecord): string {
  const { resultJson, request: _request, ...rest } = r;
  const head = JSON.stringify(rest);
  return resultJson === undefined ? head : `${head.slice(0, -1)},"result":${resultJson}}`;
}

async function find(jobs: JobManager, req: Request): Promise<JobRecord> {
  const id = String(req.params.id);
  const r = ID.test(id) ? await jobs.get(id) : undefined;
  if (!r)
    throw new HttpError(404, `no job '${id.slice(0, 60)}' (unknown, or its result expired)`, [
      { path: ['id'], message: 'unknown job' },
    ]);
  return r;
}

export function registerJobRoutes(app: Express, jobs: JobManager, pool: WorkerPool) {
  app.post('/api/jobs', (req, res) => {
    const body = req.body as { kind?: unknown; request?: unknown } | null;
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw badRequest([
        {
          path: [],
          message: `expected {"kind": ${JOB_KIND_NAMES.map((k) => `"${k}"`).join(' | ')}, "request": {...}}`,
        },
      ]);
    for (const k of Object.keys(body))
      if (k !== 'kind' && k !== 'request')
        throw badRequest([{ path: [k], message: 'unknown field (expected kind and request)' }]);
    if (!Object.hasOwn(body, 'kind'))
      throw badRequest([{ path: ['kind'], message: `required: one of ${JOB_KIND_NAMES.join(', ')}` }]);
    let record: JobRecord;
    try {
      record = jobs.submit(body.kind, body.request);
    } catch (e) {
      if (e instanceof InputError) throw badRequest(e.issues);
      if (e instanceof JobFailure) throw new HttpError(503, e.message);
      throw e;
    }
    res.status(202).location(`/api/jobs/${record.id}`).json({
      id: record.id,
      kind: record.kind,
      status: record.status,
      progress: record.progress,
      backend: jobs.backend,
    });
  });

  app.get('/api/jobs/:id', async (req, res) => {
    res.type('application/json').send(recordJson(await find(jobs, req)));
  });

  app.get('/api/jobs/:id/events', async (req: Request, res: Response) => {
    const first = await find(jobs, req);
    res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.flushHeaders();
    const send = (event: string, r: JobRecord) =>
      res.write(
        `event: ${event}\ndata: ${JSON.stringify({ id: r.id, status: r.status, progress: r.progress, ...(r.error ? { error: r.error } : {}) })}\n\n`,
      );
    send('progress', first);
    const end = (r: JobRecord) => {
      send('end', r);
      res.end();
    };
    const unsubscribe = jobs.subscribe(first.id, (r) => send('progress', r), end);
    if (!unsubscribe) return end(first);
    res.on('close', unsubscribe);
  });

  // Per-subject rows of a population job, as CSV, recomputed chunk by chunk and streamed (never all in memory).
  app.get('/api/jobs/:id/subjects', async (req, res) => {
    const r = await find(jobs, req);
    if (r.kind !== 'population' || r.request === undefined)
      throw new HttpError(404, `job '${r.id}' has no per-subject rows (population jobs only)`, [
        { path: ['id'], message: 'not a population job' },
      ]);
    if (r.status !== 'succeeded' || r.resultJson === undefined)
      throw new HttpError(409, `job '${r.id}' is ${r.status}: its rows are available once it has succeeded`, [
        { path: ['id'], message: r.status },
      ]);
    await streamPopulationRows(pool, r.request, JSON.parse(r.resultJson), req, res);
  });

  app.delete('/api/jobs/:id', async (req, res) => {
    const r = await find(jobs, req);
    if (!jobs.cancel(r.id)) {
      if (r.status === 'queued' || r.status === 'running')
        throw new HttpError(409, `job '${r.id}' runs on another server of this deployment: cancel it there`);
      throw new HttpError(409, `job '${r.id}' already ${r.status}`, [{ path: ['id'], message: `already ${r.status}` }]);
    }
    res.status(202).json({ id: r.id, status: 'cancelling' });
  });
}
