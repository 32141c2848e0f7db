// A large population through the Redis job backend: a redis-server on a free loopback port, two
// local `immunopd worker` processes (one thread each), the API server with REDIS_URL, and a 100,000-subject
// population submitted to POST /api/jobs and followed to its end. Beside it, in the same run, the same
// request's first subjects solved in this process on one thread: the ratio says what the two workers,
// the queue and the merge make of two cores. Run by `npm run bench` (unless --no-redis), or alone:
//
//   node src/cli/run-ts.mjs bench/jobs-redis.ts [--subjects 100000] [--reference-subjects 2000]
//
// Skipped with a note when redis-server is not installed (Debian: apt-get install redis-server).
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import os from 'node:os';
import { startServer } from '../server/app.ts';
import { simulatePopulationChunk } from '../src/analysis/population-request.ts';
import { freePort, startUntil } from './processes.ts';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
};
const SUBJECTS = Number(opt('--subjects', '100000'));
const REFERENCE = Number(opt('--reference-subjects', '2000'));
const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const BIN = path.join(ROOT, 'src', 'cli', 'bin.mjs');

const request = {
  model: 'immunotherapy',
  therapies: ['pembrolizumab-200mg-q3w'],
  times: { start: 0, end: 364, step: 28 },
  population: { n: SUBJECTS, seed: 1, omega: { r: 0.3, kKill: 0.3 }, quantiles: [0.05, 0.5, 0.95], series: ['tumor'] },
};

/** CPU seconds a process has used (user + system, Linux /proc; NaN elsewhere): separates the work from the wait on a shared machine. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const ticks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
    return (Number(fields[11]) + Number(fields[12])) / ticks;
  } catch {
    return NaN;
  }
}

async function main() {
  const redisBinary = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (!redisBinary) {
    console.log('Redis job row skipped: redis-server is not installed (apt-get install redis-server).');
    return;
  }
  // The reference: the same request's first subjects, in this process on one thread (after a warm-up).
  simulatePopulationChunk({ ...request, population: { ...request.population, n: 50 } }, 0, 50);
  const ref = { ...request, population: { ...request.population, n: REFERENCE } };
  const r0 = performance.now();
  const c0 = process.cpuUsage();
  simulatePopulationChunk(ref, 0, REFERENCE);
  const refMsPerSubject = (performance.now() - r0) / REFERENCE;
  const cpu = process.cpuUsage(c0);
  const refCpuPerSubject = (cpu.user + cpu.system) / 1000 / REFERENCE;

  const children: ChildProcess[] = [];
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    children.push(
      await startUntil(
        redisBinary,
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {},
        /Ready to accept connections/,
      ),
    );
    children.push(
      ...(await Promise.all(
        [0, 1].map(() =>
          startUntil(
            process.execPath,
            [BIN, 'worker', '--threads', '1', '--quiet'],
            { REDIS_URL: url },
            /ready, 1 thread/,
          ),
        ),
      )),
    );
    server = await startServer(0, '127.0.0.1', { workers: 1, redisUrl: url });
    const t0 = performance.now();
    const post = await fetch(`${server.url}/api/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ kind: 'population', request }),
    });
    if (post.status !== 202) throw new Error(`POST /api/jobs: ${post.status} ${(await post.text()).slice(0, 300)}`);
    const { id } = (await post.json()) as { id: string };
    let job: {
      status: string;
      workers: Record<string, number>;
      progress: { chunks: number };
      error?: unknown;
      result?: { stats: { solved: number; failed: number } };
    };
    for (;;) {
      job = await (await fetch(`${server.url}/api/jobs/${id}`)).json();
      if (job.status !== 'queued' && job.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const wallMs = performance.now() - t0;
    const workerCpuMs = children.slice(1).reduce((a, c) => a + cpuSeconds(c.pid) * 1000, 0);
    if (job.status !== 'succeeded') throw new Error(`the job ${job.status}: ${JSON.stringify(job.error)}`);
    const perSubject = wallMs / SUBJECTS;
    console.log(
      '| case | subjects | wall s | wall ms / subject | ratio to 1 thread in process | CPU ms / subject | chunks per worker |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    console.log(
      `| in process, 1 thread (reference) | ${REFERENCE} | ${((refMsPerSubject * REFERENCE) / 1000).toFixed(1)} | ${refMsPerSubject.toFixed(3)} | 1.00 | ${refCpuPerSubject.toFixed(3)} | |`,
    );
    console.log(
      `| POST /api/jobs on Redis, 2 immunopd workers × 1 thread | ${SUBJECTS} | ${(wallMs / 1000).toFixed(1)} | ${perSubject.toFixed(3)} | ${(perSubject / refMsPerSubject).toFixed(2)} | ${(workerCpuMs / SUBJECTS).toFixed(3)} (both workers, start-up included) | ${Object.values(job.workers).join(' + ')} of ${job.progress.chunks} |`,
    );
    console.log(
      `\n${job.result!.stats.solved} solved, ${job.result!.stats.failed} failed. Ratio < 1: the two workers beat one thread (0.5 would be two cores fully used, queue and merge free). CPU ms / subject near the reference's while the wall ratio is high: the machine was busy with other work (load average ${os
        .loadavg()
        .map((v) => v.toFixed(1))
        .join(' ')}).`,
    );
  } finally {
    await server?.close();
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  }
}

await main();
