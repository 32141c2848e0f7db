// Pipelined simulates (src/jobs/pool.ts): a thread running a simulate is sent the next queued one ahead.
// Every answer still goes to its own request, a task sent ahead can be cancelled or run out of budget alone,
// and when its thread is stopped it goes back to the queue and is answered by the fresh thread.
import { describe, it, expect } from 'vitest';
import { WorkerPool } from '../src/jobs/pool.ts';
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
