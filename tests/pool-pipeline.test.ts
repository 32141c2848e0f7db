// Pipelined simulates and job chunks (src/jobs/pool.ts): a thread running one is sent the next queued one ahead.
// Every answer still goes to its own request, a task sent ahead can be cancelled or run out of budget alone,
// and when its thread is stopped it goes back to the queue and is answered by the fresh thread. A job's
// request goes to each thread once (later chunks name it by key), with the thread keeping four. A merge
// split by series over the threads gives the whole merge's result.
import { describe, it, expect, vi } from 'vitest';
import { WorkerPool } from '../src/jobs/pool.ts';
import { JobManager, MemoryStore } from '../src/jobs/manager.ts';
import { embeddedBackend } from '../src/jobs/embedded.ts';
import { runLocal } from '../src/jobs/local.ts';
import { populationKind } from '../src/jobs/kinds/population.ts';
import type { PopulationPartial } from '../src/analysis/population-request.ts';
import type { Reply, Task } from '../src/jobs/tasks.ts';

const sim = (end: number, step = 1): Task => ({
  type: 'simulate',
  scenario: { model: 'immunotherapy', times: { start: 0, end, step } },
  format: 'json',
  maxValues: 2_000_000,
});
const lastTime = (r: Reply) => {
  if (!r.ok) throw new Error(r.error.message);
  const times = (JSON.parse(r.body) as { times: number[] }).times;
  return times[times.length - 1];
};

describe('simulates sent ahead to a busy thread', () => {
  it('each answer goes to its own request, in any number, on one thread', async () => {
    const pool = new WorkerPool({ size: 1, queueLength: 100, killGraceMs: 1000 });
    try {
      await pool.ready();
      const ends = Array.from({ length: 24 }, (_, i) => 10 + i);
      const replies = await Promise.all(ends.map((end) => pool.run(sim(end), { deadline: Date.now() + 60_000 })));
      expect(replies.map(lastTime)).toEqual(ends);
      expect(pool.stats().sentAhead).toBeGreaterThan(10);
      expect(pool.stats().busy).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('a task sent ahead and cancelled answers cancelled; the ones around it are unaffected', async () => {
    const pool = new WorkerPool({ size: 1, queueLength: 100, killGraceMs: 1000 });
    try {
      await pool.ready();
      const ac = new AbortController();
      const first = pool.run(sim(3000, 0.5), { deadline: Date.now() + 60_000 });
      const second = pool.run(sim(20), { deadline: Date.now() + 60_000, signal: ac.signal });
      const third = pool.run(sim(30), { deadline: Date.now() + 60_000 });
      expect(pool.stats().sentAhead).toBe(1);
      ac.abort();
      const r2 = await second;
      expect(r2.ok ? 'ok' : r2.error.type).toBe('cancelled');
      expect(lastTime(await first)).toBe(3000);
      expect(lastTime(await third)).toBe(30);
    } finally {
      await pool.close();
    }
  });

  it('when the thread running the task before it is stopped, the task sent ahead is queued again and answered', async () => {
    const pool = new WorkerPool({ size: 1, queueLength: 100, killGraceMs: 0 });
    try {
      await pool.ready();
      const ac = new AbortController();
      // A long simulate (a simulate does not poll for cancellation: its thread is stopped after 100 ms).
      const slow = pool.run(sim(40_000, 1), { deadline: Date.now() + 60_000, signal: ac.signal });
      const ahead = pool.run(sim(25), { deadline: Date.now() + 60_000 });
      expect(pool.stats().sentAhead).toBe(1);
      await new Promise((r) => setTimeout(r, 20));
      ac.abort();
      const r1 = await slow;
      expect(r1.ok ? 'ok' : r1.error.type).toBe('cancelled');
      expect(lastTime(await ahead)).toBe(25);
      expect(pool.stats().sentAhead).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('a task sent ahead whose budget runs out behind a long one fails alone; the thread carries on', async () => {
    const pool = new WorkerPool({ size: 1, queueLength: 100, killGraceMs: 0 });
    try {
      await pool.ready();
      const long = pool.run(sim(40_000, 1), { deadline: Date.now() + 60_000 });
      const short = pool.run(sim(20), { deadline: Date.now() + 50 });
      expect(pool.stats().sentAhead).toBe(1);
      const r = await short;
      expect(r.ok ? 'ok' : r.error.type).toBe('solve');
      expect(lastTime(await long)).toBe(40_000);
      expect(lastTime(await pool.run(sim(15), { deadline: Date.now() + 60_000 }))).toBe(15);
    } finally {
      await pool.close();
    }
  });
});

describe('job chunks sent ahead; a job request sent to each thread once', () => {
  const population = (n: number, seed: number) => ({
    model: 'tgi-gompertz',
    times: { start: 0, end: 60, step: 10 },
    population: { n, seed, omega: { r: 0.3 }, quantiles: [0.05, 0.5, 0.95] },
  });
  const onOneThread = async (f: (jobs: JobManager, pool: WorkerPool) => Promise<void>) => {
    const pool = new WorkerPool({ size: 1, heavySlots: 1, queueLength: 10, killGraceMs: 1000 });
    const jobs = new JobManager({ pool, backend: embeddedBackend(pool), store: new MemoryStore() });
    try {
      await pool.ready();
      await f(jobs, pool);
    } finally {
      await jobs.close();
      await pool.close();
    }
  };

  it('a population job on one thread: its chunks go ahead, the request once; the result is the local run', async () => {
    await onOneThread(async (jobs, pool) => {
      const request = population(2_000, 3);
      const done = await jobs.wait(jobs.submit('population', request).id);
      expect(done.status).toBe('succeeded');
      const chunks = done.progress.chunks;
      expect(chunks).toBeGreaterThan(20);
      const result = JSON.parse(done.resultJson!);
      const local = (await runLocal('population', request)) as typeof result;
      expect(result.summary).toEqual(local.summary);
      expect(result.stats.rhsEvaluations).toBe(local.stats.rhsEvaluations);
      // Every chunk after the first, and the merge, named the request the thread kept; most chunks went ahead.
      expect(pool.stats().requestsByKey).toBe(chunks);
      expect(pool.stats().sentAhead).toBeGreaterThan(chunks / 2);
    });
  });

  it('a thread keeps four requests: after five other jobs the first one is sent whole again, and right', async () => {
    await onOneThread(async (jobs, pool) => {
      // Six jobs of 2 chunks each, queued in order: A B C D E A (the sixth is A's request again: same key).
      const requests = [1, 2, 3, 4, 5, 1].map((seed) => population(100, seed));
      const ids = requests.map((r) => jobs.submit('population', r).id);
      const done = await Promise.all(ids.map((id) => jobs.wait(id)));
      expect(done.map((d) => d.status)).toEqual(Array(6).fill('succeeded'));
      expect(done.map((d) => d.progress.chunks)).toEqual(Array(6).fill(2));
      // Each job's second chunk and its merge named its request (12); A's second run found it forgotten (E made
      // room) and sent it whole: a thread that still held it would make 13.
      expect(pool.stats().requestsByKey).toBe(12);
      for (const [i, d] of done.entries()) {
        const local = (await runLocal('population', requests[i])) as { summary: unknown };
        expect(JSON.parse(d.resultJson!).summary).toEqual(local.summary);
      }
    });
  });

  it('cancelling a job whose next chunk was sent ahead: cancelled, and the thread is free again', async () => {
    await onOneThread(async (jobs, pool) => {
      const rec = jobs.submit('population', { ...population(20_000, 9), times: { start: 0, end: 60, step: 1 } });
      while (((await jobs.get(rec.id))?.progress.done ?? 0) === 0) await new Promise((r) => setTimeout(r, 10));
      expect(pool.stats().sentAhead).toBeGreaterThan(0);
      jobs.cancel(rec.id);
      expect((await jobs.wait(rec.id)).status).toBe('cancelled');
      expect(await pool.idle(5_000)).toBe(true);
      // The thread answers the next request.
      expect(lastTime(await pool.run(sim(15), { deadline: Date.now() + 60_000 }))).toBe(15);
    });
  });
});

describe('a merge split by series over the threads', () => {
  // 3 series × 1,001 output times × 800 subjects: large enough to split (SPLIT_MERGE_VALUES).
  const request = {
    model: 'kirschner-panetta-1998',
    times: { start: 0, end: 250, step: 0.25 },
    population: { n: 800, seed: 5, omega: { c: 0.3, r2: 0.2 }, series: ['E', 'T', 'IL'], quantiles: [0.1, 0.5, 0.9] },
  };

  it('the pieces joined are the whole merge, key for key (kind level)', async () => {
    const req = populationKind.schema.parse(request);
    const ctx = { progress() {}, signal: { aborted: false } };
    const partials = populationKind
      .split(req, 'embedded')
      .map((c) => populationKind.runChunk(req, c, ctx) as PopulationPartial);
    const whole = JSON.stringify(populationKind.merge(req, partials));
    const pieces = populationKind.splitMerge!(req, partials, 2);
    expect(pieces.map((p) => (p.part as { series: number[] }).series)).toEqual([[0, 1], [2]]);
    const joined = populationKind.joinMerge!(
      req,
      pieces.map((p) => populationKind.merge(req, p.partials, undefined, p.part)),
    );
    expect(JSON.stringify(joined)).toBe(whole);
    // One series, or one thread: not split.
    expect(populationKind.splitMerge!(req, partials, 1)).toEqual([]);
  });

  it('a job on a 2-thread pool merges in two pieces and answers the local run, byte for byte', async () => {
    const pool = new WorkerPool({ size: 2, heavySlots: 2, queueLength: 10, killGraceMs: 1000 });
    const jobs = new JobManager({ pool, backend: embeddedBackend(pool), store: new MemoryStore() });
    const join = vi.spyOn(populationKind, 'joinMerge');
    try {
      await pool.ready();
      const done = await jobs.wait(jobs.submit('population', request).id);
      expect(done.status).toBe('succeeded');
      expect(join).toHaveBeenCalledTimes(1);
      const local = await runLocal('population', request);
      const { ms: _a, ...stats } = JSON.parse(done.resultJson!).stats;
      const { ms: _b, ...localStats } = (local as { stats: { ms: number } }).stats;
      expect(stats).toEqual(localStats);
      const noMs = (text: string) => text.replace(/"ms":[0-9.e+-]+/, '"ms":0');
      expect(noMs(done.resultJson!)).toBe(noMs(JSON.stringify(local)));
    } finally {
      join.mockRestore();
      await jobs.close();
      await pool.close();
    }
  });
});
