// Warms the solver threads before the server listens: one small solve per thread (the page's default view,
// the immunotherapy model over a year with a checkpoint inhibitor), so that the first visitor's first solve
// does not pay for V8 compiling the solver and the model's generated code (~0.3 s of a loaded core, measured
// with bench/web-load.ts). Bounded: after `maxMs` the server listens anyway; a failure is only a slower start.
import type { WorkerPool } from '../src/jobs/pool.ts';

export async function warmPool(pool: WorkerPool, model: string, maxMs = 3_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  const scenario = {
    model,
    times: { start: 0, end: 365, step: 1 },
    therapies: ['pembrolizumab-200mg-q3w'],
    weight: 70,
    solver: { timeBudgetMs: maxMs },
  };
  const tasks = Array.from({ length: pool.size }, () => ({
    type: 'simulate' as const,
    scenario,
    format: 'json' as const,
    maxValues: 1_000_000,
  }));
  const timeout = new Promise<void>((r) => setTimeout(r, maxMs).unref());
  await Promise.race([
    pool.runAll(tasks, deadline).then(
      () => undefined,
      () => undefined,
    ),
    timeout,
  ]);
}
