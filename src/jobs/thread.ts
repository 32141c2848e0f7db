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
    signal: { get aborted() { return Atomics.load(cancel, 0) === msg.id; } },
  });
  const transfer: ArrayBuffer[] = [];
  if (reply.ok && reply.value !== undefined) collectBuffers(reply.value, transfer, 0);
  // A simulate body as bytes (run-task.ts encodeBody: always its own whole buffer): moved, not copied.
  if (reply.ok && reply.bytes) transfer.push(reply.bytes.buffer as ArrayBuffer);
  parentPort!.postMessage({ id: msg.id, reply }, transfer);
});
parentPort!.postMessage({ ready: true });

/** Float64Array buffers in a partial result (moved, not copied, to the main thread). */
function collectBuffers(v: unknown, out: ArrayBuffer[], depth: number) {
  if (depth > 4 || v === null || typeof v !== 'object') return;
  if (v instanceof Float64Array) {
    if (v.byteOffset === 0 && v.byteLength === v.buffer.byteLength && !out.includes(v.buffer as ArrayBuffer)) out.push(v.buffer as ArrayBuffer);
    return;
  }
  for (const c of Array.isArray(v) ? v : Object.values(v)) collectBuffers(c, out, depth + 1);
}
