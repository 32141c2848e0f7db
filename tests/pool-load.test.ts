// The pool's rules under mixed load: heavy analyses never take every thread; a cheap
// request that cannot start within its budget is refused at once (503 + Retry-After), not after its budget;
// a client that goes away cancels its queued and running work (logged); SIGTERM lets in-flight requests
// finish, refuses new connections and exits.
import { describe, it, expect, vi } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServer } from '../server/app.ts';
import { WorkerPool, PoolBusyError } from '../src/jobs/pool.ts';

const BIN = fileURLToPath(new URL('../src/cli/bin.mjs', import.meta.url));
const heavyPopulation = (n: number) => ({
  model: 'immunotherapy',
  therapies: ['pembrolizumab-200mg-q3w'],
  times: { start: 0, end: 180, step: 30 },
  population: { n, seed: 3, omega: { r: 0.3, kKill: 0.3 } },
});
const post = (url: string, body: unknown, signal?: AbortSignal) =>
  fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal });
const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 20));
};

describe('the pool under mixed load', () => {
  it('heavy work never holds every thread: a simulate is answered while a population runs', async () => {
    const s = await startServer(0, '127.0.0.1', { workers: 2 });
    try {
      const pool = s.app.locals.pool;
      await pool.ready();
      expect(pool.heavySlots).toBe(1);
      let populationDone = false;
      let maxHeavy = 0;
      const watch = setInterval(() => (maxHeavy = Math.max(maxHeavy, pool.stats().heavyBusy)), 5);
      const pop = post(`${s.url}/api/population`, heavyPopulation(1500)).then(
        async (r) => {
          populationDone = true;
          return r.status;
        },
        (e: Error) => e.message,
      );
      await until(() => pool.stats().heavyBusy === 1);
      const sim = await post(`${s.url}/api/simulate`, { model: 'immunotherapy', times: { end: 60 } });
      expect(sim.status).toBe(200);
      expect(populationDone).toBe(false);
      expect(pool.stats().queuedJob + pool.stats().heavyBusy).toBeGreaterThan(0);
      expect(await pop).toBe(200);
      clearInterval(watch);
      expect(maxHeavy).toBe(1);
    } finally {
      await s.close();
    }
  });

  it('a cheap task that cannot start within its budget is refused at once', async () => {
    const pool = new WorkerPool({ size: 1, queueLength: 100, killGraceMs: 0, allowTestJobs: true });
    try {
      await pool.ready();
      // Teach the pool that a cheap task takes ~1 s, then keep its only thread busy.
      for (let i = 0; i < 3; i++)
        expect((await pool.run({ type: 'spin', ms: 1000 }, { deadline: Date.now() + 60_000 })).ok).toBe(true);
      const busy = pool.run({ type: 'spin', ms: 1500 }, { deadline: Date.now() + 60_000 });
      await until(() => pool.stats().busy === 1);
      await expect(pool.runAll([{ type: 'spin', ms: 1 }], Date.now() + 200)).rejects.toBeInstanceOf(PoolBusyError);
      expect(pool.stats().queued).toBe(0);
      // With a budget longer than the expected wait it is queued and runs.
      const later = await pool.runAll([{ type: 'spin', ms: 1 }], Date.now() + 30_000);
      expect(later[0].ok).toBe(true);
      await busy;
    } finally {
      await pool.close();
    }
  });

  it('synchronous analyses are admitted as requests, not chunks: one of 100 chunks does not turn the next away', async () => {
    const pool = new WorkerPool({ size: 2, queueLength: 100, killGraceMs: 0, allowTestJobs: true, analysisLimit: 2 });
    try {
      await pool.ready();
      // One analysis of 100 chunks (more than the per-chunk queue limit of 64 per heavy thread).
      const first = pool.admitAnalysis();
      const chunks = Array.from({ length: 100 }, () =>
        pool.run({ type: 'spin', ms: 1 }, { cls: 'sync-heavy', admitted: true }),
      );
      // A second analysis is still admitted; a third (over analysisLimit) is refused at once.
      const second = pool.admitAnalysis();
      expect(() => pool.admitAnalysis()).toThrow(PoolBusyError);
      expect((await Promise.all(chunks)).every((r) => r.ok)).toBe(true);
      first();
      second();
      second(); // releasing twice counts once
      const third = pool.admitAnalysis();
      third();
    } finally {
      await pool.close();
    }
  });

  it('a client that goes away cancels its work and frees its thread (logged)', async () => {
    const s = await startServer(0, '127.0.0.1', { workers: 2 });
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const pool = s.app.locals.pool;
      await pool.ready();
      const ac = new AbortController();
      const req = post(`${s.url}/api/population`, heavyPopulation(5000), ac.signal).catch((e: Error) => e.name);
      await until(() => pool.stats().heavyBusy === 1);
      expect(pool.stats().queued).toBeGreaterThan(0); // the population's other chunks wait
      ac.abort();
      expect(await req).toBe('AbortError');
      await until(() => pool.stats().queued === 0 && pool.stats().busy === 0);
      expect(log.mock.calls.some((c) => /POST \/api\/population aborted by the client/.test(String(c[0])))).toBe(true);
      expect((await post(`${s.url}/api/simulate`, { model: 'immunotherapy', times: { end: 10 } })).status).toBe(200);
    } finally {
      log.mockRestore();
      await s.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('SIGTERM: in-flight requests finish, new connections are refused, the process exits 0', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0'], {
      env: { ...process.env, IMMUNOPD_WORKERS: '2', IMMUNOPD_SHUTDOWN_GRACE_MS: '30000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await until(() => /serving the API and web client at (http:\S+?)\//.test(out));
      const url = /at (http:\S+?)\/ /.exec(out)![1];
      // Once the threads are up (the test is about shutdown, not start-up).
      for (;;) {
        const h = await (await fetch(`${url}/healthz`)).json();
        if (h.ready === h.workers) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      // Two in-flight requests: a population (seconds) and a simulate queued with it.
      const pop = post(`${url}/api/population`, heavyPopulation(400)).then(async (r) => ({
        status: r.status,
        body: await r.json(),
      }));
      const sim = post(`${url}/api/simulate`, { model: 'immunotherapy', times: { end: 30 } }).then((r) => r.status);
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGTERM');
      await until(() => /SIGTERM: not accepting/.test(out));
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
      const p = await pop;
      expect(p.status).toBe(200);
      expect(p.body.stats.subjects).toBe(400);
      expect(await sim).toBe(200);
      expect(await exited).toBe(0);
      expect(out).toMatch(/immunopd: stopped\n/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 180_000); // a process start, its threads and a population: seconds on a quiet machine
});
