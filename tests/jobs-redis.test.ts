// The Redis backend for real: a redis-server on a free loopback port, two `immunopd worker` processes, a
// 20,000-subject population through POST /api/jobs. Both workers take chunks; one is killed (SIGKILL) in the
// middle; BullMQ's stalled-chunk recovery hands its chunk to the other, and the job completes with every
// subject and a summary identical (bit for bit) to the embedded, in-process run. Skipped only when the
// redis-server binary is absent outside CI (.ci/run installs Debian's redis-server).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServer, type RunningServer } from '../server/app.ts';
import { runLocal } from '../src/jobs/local.ts';
import { freePort, startUntil } from '../bench/processes.ts';

const redisBinary = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
const BIN = fileURLToPath(new URL('../src/cli/bin.mjs', import.meta.url));
if (!redisBinary && process.env.CI)
  throw new Error('CI: redis-server is required for the Redis job test (.ci/run installs it)');

const request = {
  model: 'immunotherapy',
  times: { start: 0, end: 30, step: 5 },
  population: {
    n: 20_000,
    seed: 2024,
    omega: { r: 0.3, kKill: 0.3 },
    quantiles: [0.05, 0.25, 0.5, 0.75, 0.95],
    series: ['tumor', 'T2'],
  },
};

describe.skipIf(!redisBinary)('POST /api/jobs on Redis with two immunopd workers', () => {
  let redis: ChildProcess | undefined;
  const workers: ChildProcess[] = [];
  let s: RunningServer | undefined;
  let url = '';

  beforeAll(async () => {
    const port = await freePort();
    url = `redis://127.0.0.1:${port}`;
    redis = await startUntil(
      redisBinary,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {},
      /Ready to accept connections/,
    );
    // A short lock: a killed worker's chunk goes back to the queue within ~2 s.
    const env = { REDIS_URL: url, IMMUNOPD_LOCK_MS: '2000' };
    workers.push(
      ...(await Promise.all(
        [0, 1].map(() => startUntil(process.execPath, [BIN, 'worker', '--threads', '1'], env, /ready, 1 thread/)),
      )),
    );
    s = await startServer(0, '127.0.0.1', { workers: 1, redisUrl: url });
  }, 120_000); // a few seconds on a quiet machine (each worker loads the library in a process and a thread)

  afterAll(async () => {
    await s?.close();
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    redis?.kill('SIGKILL');
  });

  it('both workers take chunks; one killed mid-way; the complete result, identical to the embedded run', async () => {
    const post = await fetch(`${s!.url}/api/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ kind: 'population', request }),
    });
    expect(post.status).toBe(202);
    const { id, backend } = await post.json();
    expect(backend).toBe('redis');
    let killed = '';
    let job: any;
    for (;;) {
      job = await (await fetch(`${s!.url}/api/jobs/${id}`)).json();
      if (job.status !== 'queued' && job.status !== 'running') break;
      const names = Object.keys(job.workers);
      // Kill the first worker once both have finished chunks and less than half the job is done.
      if (!killed && names.length === 2 && job.progress.chunksDone < job.progress.chunks / 2) {
        const victim = workers.find((w) => names.some((n) => n.endsWith(`:${w.pid}`)))!;
        killed = names.find((n) => n.endsWith(`:${victim.pid}`))!;
        victim.kill('SIGKILL');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    expect(killed).not.toBe('');
    expect(Object.keys(job.workers)).toHaveLength(2);
    for (const n of Object.values(job.workers as Record<string, number>)) expect(n).toBeGreaterThan(0);
    // The survivor finished the job, including the chunk the killed worker held.
    const survivor = Object.keys(job.workers).find((n) => n !== killed)!;
    expect(job.workers[survivor]).toBeGreaterThan(job.workers[killed]);
    expect(job.progress.chunksDone).toBe(job.progress.chunks);
    expect(job.result.stats.subjects).toBe(20_000);
    expect(job.result.stats.solved + job.result.stats.failed).toBe(20_000);
    const local = (await runLocal('population', request, 'redis')) as any;
    expect(job.result.summary).toEqual(local.summary);
    expect(job.result.stats.rhsEvaluations).toBe(local.stats.rhsEvaluations);
    // The finished record is in the Redis result store (any server of the deployment can answer).
    const { Redis } = await import('ioredis');
    const r = new Redis(url);
    const stored = JSON.parse((await r.get(`immunopd:job:${id}`))!);
    expect(stored.status).toBe('succeeded');
    expect(await r.pttl(`immunopd:job:${id}`)).toBeGreaterThan(0);
    r.disconnect();
  }, 150_000); // ~15 s on a quiet 2-core machine; generous for a loaded one
});
