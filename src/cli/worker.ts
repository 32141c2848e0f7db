// `immunopd worker [--redis URL] [--threads N]`: a job worker for the Redis backend. Takes chunks of jobs
// (populations, fits...) from the BullMQ queue at REDIS_URL and runs them on N threads (default: the cores).
// Start any number of them, on any machines that reach the Redis server; SIGTERM/SIGINT finish the chunks
// in hand and stop.
import { availableParallelism } from 'node:os';
import { parse, UsageError, type CliIo } from './main.ts';

export async function workerCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(
    args,
    { redis: { type: 'string' }, threads: { type: 'string' }, quiet: { type: 'boolean' } },
    { min: 0, max: 0, usage: 'immunopd worker [--redis URL] [--threads N] [--quiet]' },
  );
  const url = (values.redis as string | undefined) ?? process.env.REDIS_URL;
  if (!url) throw new UsageError('immunopd worker needs a Redis server: --redis redis://HOST:PORT or REDIS_URL');
  if (!/^rediss?:\/\//.test(url))
    throw new UsageError(`--redis must be a redis:// or rediss:// URL (got '${url.slice(0, 100)}')`);
  const raw = (values.threads as string | undefined) ?? process.env.IMMUNOPD_WORKERS ?? String(availableParallelism());
  const threads = Number(raw);
  if (!/^\d+$/.test(raw) || threads < 1 || threads > 256)
    throw new UsageError(`--threads must be an integer in 1..256 (got '${raw}')`);
  const { startRedisWorker } = await import('../jobs/redis.ts');
  const log = values.quiet ? () => {} : (s: string) => io.out(`${new Date().toISOString()} ${s}\n`);
  const w = await startRedisWorker(url, threads, log);
  io.out(
    `immunopd worker ${w.name}: ready, ${threads} thread${threads > 1 ? 's' : ''}, queue at ${url.replace(/\/\/[^@/]*@/, '//***@')}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      io.out(`immunopd worker ${w.name}: ${signal}: finishing the chunks in hand\n`);
      void w.close().then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}
