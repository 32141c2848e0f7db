// A pool thread: one task at a time (src/jobs/pool.ts). A simulate task answers with the serialized body
// (JSON or CSV, so the main thread never holds the numbers; as transferred bytes, gzip-compressed when the
// HTTP client accepts it, so the main thread only writes them); a chunk task with the kind's partial result; a
// merge task with the job's result as JSON. Errors become plain data (errorReply). The pool cancels the
// running task by writing its id into the shared `cancel` cells, which chunks read through ctx.signal.
import { parentPort, workerData } from 'node:worker_threads';
import { getModel, listModels } from '../model/library.ts';
import { runTask } from './run-task.ts';
import type { Task } from './tasks.ts';

const cancel = new Int32Array((workerData as { data: { cancel: SharedArrayBuffer } }).data.cancel);

/**
 * Warm-up (the library index and the default model compiled, ~0.1–0.2 s) once the thread has said it is ready
 * and stayed idle for this long: a pool that gets work at once (a job's chunks, a server's warm-up solve,
 * server/warmup.ts) starts it without waiting, and a thread left idle is warm for its first request.
 */
const WARM_UP_WHEN_IDLE_MS = 25;
let warmUp: NodeJS.Timeout | undefined = setTimeout(() => {
  warmUp = undefined;
  try {
    const ids = listModels().map((m) => m.id);
    if (ids.includes('immunotherapy')) getModel('immunotherapy');
  } catch {
    /* a broken model file shows up in the request that uses it */
  }
}, WARM_UP_WHEN_IDLE_MS);

/** Job requests by key, kept and forgotten as the pool says (WorkerPool.wire): a job's chunks after the first name theirs. */
const requests = new Map<string, unknown>();

interface Message {
  id: number;
  task: Task;
  /** The chunk's (or merge's) request key: with task.request, keep it; without, the request is the one kept. */
  requestKey?: string;
  forget?: string;
}

// One task at a time, in the order sent, even if a kind's chunk were asynchronous: the pool expects the
// answer of the running task before that of the task sent ahead.
let queue: Promise<void> = Promise.resolve();
parentPort!.on('message', (msg: Message) => {
  queue = queue.then(() => handle(msg));
});

async function handle(msg: Message): Promise<void> {
  if (warmUp) {
    clearTimeout(warmUp);
    warmUp = undefined;
  }
  let task = msg.task;
  if (msg.forget !== undefined) requests.delete(msg.forget);
  if ((task.type === 'chunk' || task.type === 'merge') && msg.requestKey !== undefined) {
    if (task.request !== undefined) requests.set(msg.requestKey, task.request);
    else if (requests.has(msg.requestKey)) task = { ...task, request: requests.get(msg.requestKey) };
    else {
      // Cannot happen while the pool and this thread agree on the kept requests (WorkerPool.wire); never a
      // misleading validation error if it did.
      const error = { type: 'internal' as const, message: 'the solver thread does not hold the job request' };
      parentPort!.postMessage({ id: msg.id, reply: { ok: false, error } });
      return;
    }
  }
  const reply = await runTask(task, {
    progress: (done) => parentPort!.postMessage({ id: msg.id, progress: done }),
    signal: {
      // The pool writes the id of a cancelled task into [0] (running) or [1] (sent ahead).
      get aborted() {
        return Atomics.load(cancel, 0) === msg.id || Atomics.load(cancel, 1) === msg.id;
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
}
parentPort!.postMessage({ ready: true });
