// `immunopd population POP.json [--out FILE] [--threads N]`: a virtual population (the POST /api/population
// request, up to the job limits) run as a job: on this machine's threads, or on the `immunopd worker`s of
// the Redis queue when REDIS_URL is set. A progress bar on a terminal (quiet when piped).
import { availableParallelism } from 'node:os';
import { InputError, SolveError } from '../errors.ts';
import { parse, readJsonFile, writeOutput, UsageError, type CliIo } from './main.ts';
import { progressBar } from './progress.ts';

export async function populationCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { out: { type: 'string' }, threads: { type: 'string' } }, { min: 1, max: 1, usage: 'immunopd population POP.json [--out FILE] [--threads N]' });
  const raw = (values.threads as string | undefined) ?? String(availableParallelism());
  const threads = Number(raw);
  if (!/^\d+$/.test(raw) || threads < 1 || threads > 256) throw new UsageError(`--threads must be an integer in 1..256 (got '${raw}')`);
  const request = readJsonFile(positionals[0]);
  const { WorkerPool } = await import('../jobs/pool.ts');
  const { JobManager, MemoryStore } = await import('../jobs/manager.ts');
  const url = process.env.REDIS_URL;
  const pool = new WorkerPool({ size: threads, heavySlots: threads, queueLength: 1, killGraceMs: 2_000 });
  const backend = url ? (await import('../jobs/redis.ts')).redisBackend(url) : (await import('../jobs/embedded.ts')).embeddedBackend(pool);
  const jobs = new JobManager({ pool, backend, store: new MemoryStore() });
  const bar = progressBar('population');
  try {
    let record;
    try {
      record = jobs.submit('population', request);
    } catch (e) {
      throw e instanceof InputError ? unprefixed(e) : e;
    }
    const end = new Promise<typeof record>((resolve) => jobs.subscribe(record.id, (r) => bar.update(r.progress.done, r.progress.total), resolve));
    const done = await end;
    bar.stop();
    if (done.status !== 'succeeded') {
      const err = done.error!;
      if (err.type === 'input') throw unprefixed(new InputError(err.issues));
      if (err.type === 'solve') throw new SolveError(err.message, err.reason as SolveError['reason'], err.timeReached ?? NaN);
      throw new Error(err.message);
    }
    writeOutput(done.resultJson! + '\n', values.out as string | undefined, io);
    return 0;
  } finally {
    bar.stop();
    await jobs.close();
    await pool.close();
  }
}

/** Job errors are under ['request', ...]; the CLI's file is the request itself. */
function unprefixed(e: InputError): InputError {
  return new InputError(e.issues.map((i) => ({ path: i.path[0] === 'request' ? i.path.slice(1) : i.path, message: i.message })));
}
