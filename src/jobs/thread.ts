// A pool thread: one task at a time (src/jobs/pool.ts). A simulate task answers with the serialized body
// (JSON or CSV, so the main thread never holds the numbers; as transferred bytes, gzip-compressed when the
// HTTP client accepts it, so the main thread only writes them); a chunk task with the kind's partial result; a
// merge task with the job's result as JSON. Errors become plain data (errorReply). The pool cancels the
// running task by writing its id into the shared `cancel` cell, which chunks read through ctx.signal.
import { parentPort, workerData } from 'node:worker_threads';
import { getModel, listModels } from '../model/library.ts';
import { runTask } from './run-task.ts';
import type { Task } from './tasks.ts';

const cancel = new Int32Array((workerData as { data: { cancel: SharedArrayBuffer } }).data.cancel);

// Warm up: the library index and the default model compile before the first request.
try {
  const ids = listModels().map((m) => m.id);
  if (ids.includes('immunotherapy')) getModel('immunotherapy');
} catch {
  /* a broken model file shows up in the request that uses it */
}

parentPort!.on('message', async (msg: { id: number; task: Task; allowTestJobs?: boolean }) => {
  const reply = await runTask(msg.task, {
    progress: (done) => parentPort!.postMessage({ id: msg.id, progress: done }),
    signal: {
      get aborted() {
        return Atomics.load(cancel, 0) === msg.id;
      },
    },
  });
  // Partial results (Float64Array columns) are copied, not transferred: moving their buffers out left this
  // thread's following chunks 25–30 % slower (W3 population, one pool thread, chunks of 157 subjects:
  // 1.00–1.06 ms of CPU per subject when transferred, 0.79–0.82 copied; V8's accounting of the detached
  // buffers); a copy of a chunk's columns is a memcpy. A simulate body as bytes (run-task.ts encodeBody:
  // always its own whole buffer, made for this reply) is moved.
  const transfer: ArrayBuffer[] = [];
  if (reply.ok && reply.bytes) transfer.push(reply.bytes.buffer as ArrayBuffer);
  parentPort!.postMessage({ id: msg.id, reply }, transfer);
});
parentPort!.postMessage({ ready: true });
