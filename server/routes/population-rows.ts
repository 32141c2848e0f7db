// GET /api/jobs/:id/subjects: a population job's per-subject values as CSV (`subject,time,<series...>`, or
// `subject,arm,time,...` with trial arms; a failed subject's values empty), streamed. The rows are not
// stored: the job's chunks are solved again on this server's pool, a few at a time (as job work, after
// cheap requests), and written in subject order as they come back, so memory stays at a few chunks whatever
// the population size. The values are those the summary was computed from (each
// subject's draws depend only on (seed, subject)). A client that goes away stops the recomputation.
import type { Request, Response } from 'express';
import { populationKind } from '../../src/jobs/kinds/population.ts';
import type { PopulationRequest, PopulationPartial } from '../../src/analysis/population-request.ts';
import type { WorkerPool } from '../../src/jobs/pool.ts';
import type { Reply } from '../../src/jobs/tasks.ts';

const num = (v: number | null) => (v === null || Number.isNaN(v) ? '' : String(v));
const csvText = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** `result`: the job's summary (its output times, series and arm names head the rows). */
export async function streamPopulationRows(
  pool: WorkerPool,
  request: unknown,
  result: { times: number[]; summary: Record<string, unknown>; arms: { name: string }[] },
  req: Request,
  res: Response,
) {
  const r = request as PopulationRequest;
  const times = result.times;
  const series = Object.keys(result.summary);
  const arms = r.arms?.length ? result.arms.map((a) => a.name) : null;
  const chunks = populationKind.split(r, 'redis');
  const ac = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) ac.abort();
  });
  const ahead = Math.max(1, pool.heavySlots);
  const pending: Promise<Reply>[] = [];
  let next = 0;
  const launch = () => {
    while (next < chunks.length && pending.length < ahead + 1) {
      pending.push(
        pool.run(
          { type: 'chunk', kind: 'population', request: r, chunk: chunks[next++] },
          { cls: 'job', signal: ac.signal },
        ),
      );
    }
  };
  launch();
  let headerSent = false;
  while (pending.length && !ac.signal.aborted) {
    const reply = await pending.shift()!;
    launch();
    if (!reply.ok) {
      if (!headerSent) {
        res.status(reply.error.type === 'input' ? 400 : 422).json({
          error: { message: reply.error.message, issues: reply.error.type === 'input' ? reply.error.issues : [] },
        });
      } else res.destroy(); // a truncated CSV must not look complete
      ac.abort();
      return;
    }
    const p = reply.value as PopulationPartial;
    if (!headerSent) {
      res.status(200).type('text/csv; charset=utf-8');
      res.write(`subject,${arms ? 'arm,' : ''}time,${series.join(',')}\n`);
      headerSent = true;
    }
    const nT = times.length;
    let out = '';
    for (let j = 0; j < p.count; j++) {
      p.arms.forEach((arm, a) => {
        for (let k = 0; k < nT; k++) {
          out += `${p.start + j},${arms ? `${csvText(arms[a])},` : ''}${times[k]}`;
          for (const d of arm.series) out += `,${num(d[k * p.count + j])}`;
          out += '\n';
        }
      });
    }
    if (!res.write(out)) {
      await new Promise<void>((ok) => {
        res.once('drain', ok);
        res.once('close', ok);
      });
    }
  }
  if (!ac.signal.aborted) res.end();
  void req;
}
