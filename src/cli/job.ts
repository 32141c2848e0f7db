// Running a job kind from the command line (`immunopd population`...): on this machine's worker threads
// (the embedded backend), or on the `immunopd worker` processes of the Redis queue when REDIS_URL is set,
// with the job system's limits; a progress bar on a terminal. Errors as the library's (paths without the
// job's ['request'] prefix: the CLI's file is the request itself).
import { availableParallelism } from 'node:os';
import { InputError, SolveError } from '../errors.ts';
import { UsageError } from './main.ts';
import { progressBar } from './progress.ts';

export function threadCount(raw: string | undefined): number {
  const text = raw ?? String(availableParallelism());
  const threads = Number(text);
  if (!/^\d+$/.test(text) || threads < 1 || threads > 256)
    throw new UsageError(`--threads must be an integer in 1..256 (got '${text}')`);
  return threads;
}

/** Job errors are under ['request', ...]; the CLI's file is the request itself. */
function unprefixed(e: InputError): InputError {
  return new InputError(
    e.issues.map((i) => ({ path: i.path[0] === 'request' ? i.path.slice(1) : i.path, message: i.message })),
  );
}

/** Run a job of `kind` to its end; its result as JSON text. */
export async function runJob(kind: string, request: unknown, threads: number): Promise<string> {
  const { WorkerPool } = await import('../jobs/pool.ts');
  const { JobManager, MemoryStore } = await import('../jobs/manager.ts');
  const url = process.env.REDIS_URL;
  const pool = new WorkerPool({ size: threads, heavySlots: threads, queueLength: 1, killGraceMs: 2_000 });
  const backend = url
    ? (await import('../jobs/redis.ts')).redisBackend(url)
    : (await import('../jobs/embedded.ts')).embeddedBackend(pool);
  const jobs = new JobManager({ pool, backend, store: new MemoryStore() });
  const bar = progressBar(kind);
  try {
    let record;
    try {
      record = jobs.submit(kind, request);
    } catch (e) {
      throw e instanceof InputError ? unprefixed(e) : e;
    }
    const done = await new Promise<typeof record>((resolve) =>
      jobs.subscribe(record.id, (r) => bar.update(r.progress.done, r.progress.total), resolve),
    );
    bar.stop();
    if (done.status !== 'succeeded') {
      const err = done.error!;
      if (err.type === 'input') throw unprefixed(new InputError(err.issues));
      if (err.type === 'solve')
        throw new SolveError(err.message, err.reason as SolveError['reason'], err.timeReached ?? NaN, err.timeStated);
      throw new Error(err.message);
    }
    return done.resultJson!;
  } finally {
    bar.stop();
    await jobs.close();
    await pool.close();
  }
}
