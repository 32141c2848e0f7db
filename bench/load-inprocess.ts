// The in-process side of `npm run load` (bench/load.ts): a worker thread started with the server pool's own
// heap limits (src/jobs/pool.ts poolThreadLimits) that runs the very call a pool thread makes for a request
// (run-task.ts runTask), warm, in a loop for the seconds asked, and answers how many calls it made.
import { parentPort } from 'node:worker_threads';
import { runTask } from '../src/jobs/run-task.ts';
import type { Task } from '../src/jobs/tasks.ts';

const ctx = { progress: () => {}, signal: { aborted: false } };

parentPort!.on('message', async (msg: { task: Task; warm: number; seconds: number }) => {
  try {
    for (let i = 0; i < msg.warm; i++) await runTask(msg.task, ctx);
    parentPort!.postMessage({ started: true });
    const end = performance.now() + msg.seconds * 1000;
    let n = 0;
    while (performance.now() < end) {
      const r = await runTask(msg.task, ctx);
      if (!r.ok) throw new Error(`the typical simulate failed in-process: ${r.error.message}`);
      n++;
    }
    parentPort!.postMessage({ calls: n });
  } catch (e) {
    parentPort!.postMessage({ error: (e as Error).message });
  }
});
