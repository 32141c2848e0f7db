// The one pool of worker threads (sized to the cores) that runs every solve of the process: the synchronous
// routes' solves, job chunks and merges. Three queues, served in this order: cheap (a simulate, an arm of a
// comparison), sync-heavy (chunks of a synchronous analysis) and job (chunks of queued jobs). Heavy work
// never takes every thread (at most size - 1 when size > 1), so cheap requests always have one; a cheap
// request whose expected wait exceeds its budget is refused at once (PoolBusyError → 503 + Retry-After).
// A task still running after its deadline plus a grace period, or cancelled and not stopping by itself, is
// stopped by terminating its thread (a fresh one replaces it). Threads have a heap limit: one that runs out
// of memory dies alone and its task gets a `resources` error.
// Simulates and job chunks are pipelined: a thread running one is already sent the next queued one of the same
// kind, so it starts it without waiting for the main thread to receive its answer and send more (on a loaded
// machine the main thread's turn can take milliseconds, as long as a solve; a population job's chunks
// waited 10–20 ms each). Only those (synchronous from start to answer on the thread) are sent ahead; a task
// sent ahead counts as queued, not running. A job's request goes to a thread once: later chunks with the same
// request key name it (Slot.requestKeys), so a 10,000-row request is not copied into every chunk.
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../workers/start.ts';
import { setMaxListeners } from 'node:events';
import type { Task, Reply } from './tasks.ts';

export interface PoolOptions {
  size: number;
  /** Cheap tasks allowed to wait. */
  queueLength: number;
  /** After a task's deadline (or its cancellation), how long before its thread is terminated. */
  killGraceMs: number;
  /** Heap limit of each thread, MB. */
  heapMb?: number;
  /** Threads heavy work may hold at once (default size - 1, at least 1). */
  heavySlots?: number;
  /** Sync-heavy tasks allowed to wait before new synchronous analyses get 503. */
  heavyQueueLength?: number;
  /** Synchronous analyses admitted at once (each with all its chunks); default 8 per heavy thread. */
  analysisLimit?: number;
  /** Accept the 'spin' test task. */
  allowTestJobs?: boolean;
}

export type TaskClass = 'cheap' | 'sync-heavy' | 'job';

export interface RunOptions {
  /** Wall-clock deadline (ms since epoch); none for job chunks. */
  deadline?: number;
  signal?: AbortSignal;
  onProgress?: (done: number) => void;
  /** Default 'cheap'. */
  cls?: TaskClass;
  /** Called when a thread takes the task, with the thread's index. */
  onStart?: (thread: number) => void;
  /** A chunk of a synchronous analysis already admitted as a whole (admitAnalysis): no per-chunk queue check. */
  admitted?: boolean;
  /**
   * Buffers moved to the thread with the task instead of copied (a merge's partial columns: the caller never
   * reads them again). Only for tasks that are never sent ahead, so never sent twice.
   */
  transfer?: ArrayBuffer[];
}

/**
 * A pool thread's V8 heap: the old generation bounded (`heapMb`, default 1 GiB, so a runaway task fails alone)
 * and a 64 MB young generation: a simulate's result arrays and strings are short-lived, and with V8's default
 * young generation the scavenges' helper threads took 1.1–1.2 ms of CPU a request beside 4.3–4.7 ms of
 * solving (`npm run load` on 2 cores, "other server threads", 3 runs), 0.97–1.02 ms with 64 MB.
 * bench/load.ts measures its in-process rate on a thread with these same limits.
 */
export function poolThreadLimits(heapMb?: number) {
  return { maxOldGenerationSizeMb: heapMb ?? 1024, maxYoungGenerationSizeMb: 64 };
}

export class PoolBusyError extends Error {}

interface Pending {
  task: Task;
  opts: RunOptions;
  resolve: (r: Reply) => void;
  done: boolean;
  unlisten?: () => void;
}

interface Slot {
  worker: Worker;
  index: number;
  cancel: Int32Array;
  /** The thread has loaded the library (tasks are only given to ready threads: a start-up is not a solve). */
  ready: boolean;
  current?: Running;
  /** A simulate (or job chunk) sent ahead while `current` (the same) runs: the thread starts it when it answers. */
  next?: Running;
  /**
   * Request keys whose request this thread holds (oldest first, at most THREAD_REQUESTS): the pool decides what
   * the thread forgets, in the same message, so both sides always agree.
   */
  requestKeys: string[];
}

/** Job requests a thread keeps by key (thread.ts). */
const THREAD_REQUESTS = 4;

/** A chunk's request key: the `key` field a kind may set on its chunks (the population's content hash). */
export function chunkKey(chunk: unknown): string | undefined {
  const key = (chunk as { key?: unknown } | null | undefined)?.key;
  return typeof key === 'string' ? key : undefined;
}

/** The request key of a job chunk or merge, if it has one. */
function requestKey(task: Task): string | undefined {
  return task.type === 'merge' ? task.key : task.type === 'chunk' ? chunkKey(task.chunk) : undefined;
}

/** Tasks that may be sent ahead to a thread running one of the same class and type (see the header). */
function pipelined(p: Pending): boolean {
  return (p.task.type === 'simulate' && p.opts.cls === 'cheap') || (p.task.type === 'chunk' && p.opts.cls === 'job');
}

interface Running {
  id: number;
  p: Pending;
  timer?: NodeJS.Timeout;
  started: number;
}

// The thread module, started through the package's one worker bootstrap (src/workers/start.ts): the compiled
// thread.js under dist/, or thread.ts through tsx when running from the sources.
const WORKER_URL = new URL('./thread.ts', import.meta.url);
const busyReply = (message: string): Reply => ({ ok: false, error: { type: 'busy', message } });
const cancelledReply: Reply = { ok: false, error: { type: 'cancelled', message: 'the request was cancelled' } };

export class WorkerPool {
  private slots: Slot[] = [];
  private queues: Record<TaskClass, Pending[]> = { cheap: [], 'sync-heavy': [], job: [] };
  private nextId = 1;
  private closed = false;
  /** Running mean of a cheap task's duration, ms (for the wait estimate). */
  private cheapMs = 50;
  readonly heavySlots: number;

  constructor(private opts: PoolOptions) {
    this.heavySlots = Math.max(1, Math.min(opts.heavySlots ?? opts.size - 1, opts.size));
    for (let i = 0; i < opts.size; i++) this.slots.push(this.spawn(i));
  }

  get size() {
    return this.slots.length;
  }

  private spawn(index: number): Slot {
    // [0]: the id of the running task to stop; [1]: of the task sent ahead.
    const cancel = new SharedArrayBuffer(8);
    const worker = startWorker(
      WORKER_URL,
      { cancel },
      {
        resourceLimits: poolThreadLimits(this.opts.heapMb),
        stdout: false,
        stderr: false,
      },
    );
    worker.unref();
    const slot: Slot = { worker, index, cancel: new Int32Array(cancel), ready: false, requestKeys: [] };
    worker.on('message', (msg: { id?: number; reply?: Reply; progress?: number; ready?: boolean }) => {
      if (msg.ready) {
        slot.ready = true;
        for (const w of this.readyWaiters.splice(0)) w();
        this.pump();
        return;
      }
      const cur = slot.current;
      if (!cur || msg.id !== cur.id) return;
      if (msg.progress !== undefined) {
        if (!cur.p.done) cur.p.opts.onProgress?.(msg.progress);
        return;
      }
      if (!msg.reply) return;
      clearTimeout(cur.timer);
      // The task sent ahead starts now on the thread.
      slot.current = slot.next;
      slot.next = undefined;
      if (slot.current) slot.current.started = Date.now();
      this.finish(cur.p, msg.reply);
      this.pump();
    });
    const died = (why: string) => {
      const cur = slot.current;
      slot.current = undefined;
      if (cur) {
        clearTimeout(cur.timer);
        this.finish(cur.p, { ok: false, error: { type: 'resources', message: why } });
      }
      this.replace(slot);
    };
    worker.on('error', (e: Error & { code?: string }) => {
      died(
        e.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? 'the solve ran out of memory (worker heap limit)'
          : 'the solver worker failed',
      );
    });
    worker.on('exit', () => {
      if (this.slots.includes(slot)) died('the solver worker stopped');
    });
    return slot;
  }

  private finish(p: Pending, reply: Reply) {
    if (p.done) return;
    p.done = true;
    p.unlisten?.();
    p.resolve(reply);
  }

  private replace(slot: Slot) {
    // A task sent ahead never started: it goes back to the front of its queue (or fails with the pool closed).
    const ahead = slot.next;
    slot.next = undefined;
    if (ahead) {
      clearTimeout(ahead.timer);
      if (!ahead.p.done) this.queues[ahead.p.opts.cls ?? 'cheap'].unshift(ahead.p);
    }
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    slot.worker.removeAllListeners('exit');
    void slot.worker.terminate();
    if (this.closed) this.slots.splice(i, 1);
    else {
      this.slots[i] = this.spawn(slot.index);
      this.pump();
    }
  }

  private readyWaiters: (() => void)[] = [];

  /** Resolves true when every thread has started, false after `timeoutMs` (a server starts listening then). */
  async ready(timeoutMs = 60_000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (this.slots.some((s) => !s.ready) && !this.closed) {
      const left = end - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        t.unref();
        this.readyWaiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return true;
  }

  private heavyBusy() {
    return this.slots.filter((s) => s.current && s.current.p.opts.cls !== undefined && s.current.p.opts.cls !== 'cheap')
      .length;
  }

  /** Expected wait of `n` more cheap tasks, ms: the queue ahead spread over the threads cheap work can use. */
  private cheapWaitMs(n: number): number {
    const idle = this.slots.filter((s) => s.ready && !s.current).length;
    const ahead = this.queues.cheap.length + this.slots.filter((s) => s.next).length + n - idle;
    if (ahead <= 0) return 0;
    const threads = Math.max(1, this.slots.length - this.heavyBusy());
    return Math.ceil(ahead / threads) * this.cheapMs;
  }

  /**
   * Run tasks (the arms of one request) together: all are queued or, when they cannot all start within
   * their deadline, none is (PoolBusyError). Resolves with the replies, in order; never rejects otherwise.
   */
  runAll(tasks: Task[], deadline: number, signal?: AbortSignal): Promise<Reply[]> {
    if (this.queues.cheap.length + tasks.length > this.opts.queueLength)
      return Promise.reject(new PoolBusyError('the server is busy: too many solves are waiting; try again shortly'));
    if (this.cheapWaitMs(tasks.length) > deadline - Date.now())
      return Promise.reject(
        new PoolBusyError('the server is busy: the solve could not start within its time budget; try again shortly'),
      );
    return Promise.all(tasks.map((task) => this.run(task, { deadline, signal, cls: 'cheap' })));
  }

  private analyses = 0;
  /** Simulates and job chunks sent to a thread ahead, while it ran the one before (stats). */
  private sentAhead = 0;
  /** Job chunks sent naming a request their thread already held, instead of carrying it (stats). */
  private requestsByKey = 0;

  /**
   * Admit one synchronous analysis (all its chunks) or refuse it at once (PoolBusyError) when
   * `analysisLimit` (default 8 per heavy thread) are already admitted: analyses are counted as requests, not
   * as chunks, so one large population does not turn every other analysis away. Returns the release.
   */
  admitAnalysis(): () => void {
    if (this.closed) throw new PoolBusyError('the server is shutting down');
    if (this.analyses >= (this.opts.analysisLimit ?? 8 * this.heavySlots))
      throw new PoolBusyError('the server is busy: too many analyses are waiting; try again shortly');
    this.analyses++;
    let released = false;
    return () => {
      if (!released) this.analyses--;
      released = true;
    };
  }

  /** Run one task. Sync-heavy tasks are refused (PoolBusyError) when too many already wait. */
  run(task: Task, opts: RunOptions = {}): Promise<Reply> {
    const cls = opts.cls ?? 'cheap';
    if (task.type === 'spin' && !this.opts.allowTestJobs)
      return Promise.resolve<Reply>({ ok: false, error: { type: 'internal', message: 'test jobs disabled' } });
    if (this.closed) return Promise.resolve(busyReply('the server is shutting down'));
    if (
      cls === 'sync-heavy' &&
      !opts.admitted &&
      this.queues['sync-heavy'].length >= (this.opts.heavyQueueLength ?? 64 * this.heavySlots)
    ) {
      return Promise.reject(new PoolBusyError('the server is busy: too many analyses are waiting; try again shortly'));
    }
    return new Promise<Reply>((resolve) => {
      const p: Pending = { task, opts: { ...opts, cls }, resolve, done: false };
      if (opts.signal?.aborted) return resolve(cancelledReply);
      const signal = opts.signal;
      if (signal) {
        // One signal may cover many tasks (the chunks of a job).
        setMaxListeners(0, signal);
        const onAbort = () => this.cancel(p);
        signal.addEventListener('abort', onAbort, { once: true });
        p.unlisten = () => signal.removeEventListener('abort', onAbort);
      }
      this.queues[cls].push(p);
      this.pump();
    });
  }

  /** Cancel a pending or running task: its caller gets `cancelled` now; a running thread is asked to stop, then stopped. */
  private cancel(p: Pending) {
    if (p.done) return;
    for (const q of Object.values(this.queues)) {
      const i = q.indexOf(p);
      if (i >= 0) q.splice(i, 1);
    }
    this.finish(p, cancelledReply);
    // Sent ahead and not started: the thread starts it, sees it cancelled at once (a chunk) or runs it (a
    // simulate, a few ms), and its answer is dropped.
    const ahead = this.slots.find((s) => s.next?.p === p);
    if (ahead) Atomics.store(ahead.cancel, 1, ahead.next!.id);
    const slot = this.slots.find((s) => s.current?.p === p);
    if (!slot) return;
    const id = slot.current!.id;
    Atomics.store(slot.cancel, 0, id);
    clearTimeout(slot.current!.timer);
    slot.current!.timer = setTimeout(
      () => {
        if (slot.current?.id === id) {
          slot.current = undefined;
          this.replace(slot);
        }
      },
      Math.max(this.opts.killGraceMs, 100),
    );
    slot.current!.timer.unref();
  }

  private next(): Pending | undefined {
    if (this.queues.cheap.length) return this.queues.cheap.shift();
    if (this.heavyBusy() >= this.heavySlots) return undefined;
    return this.queues['sync-heavy'].shift() ?? this.queues.job.shift();
  }

  private pump() {
    for (;;) {
      let slot = this.slots.find((s) => s.ready && !s.current);
      let ahead: Pending[] | undefined;
      if (!slot) {
        // Cheap work first; a job chunk only goes ahead when no cheap or synchronous analysis task waits.
        const q = this.queues.cheap.length || this.queues['sync-heavy'].length ? this.queues.cheap : this.queues.job;
        if (q.length && pipelined(q[0])) {
          const head = q[0];
          slot = this.slots.find(
            (s) =>
              s.ready &&
              s.current &&
              !s.next &&
              s.current.p.task.type === head.task.type &&
              s.current.p.opts.cls === head.opts.cls,
          );
          ahead = q;
        }
      }
      if (!slot) return;
      const target = slot;
      const p = ahead ? ahead.shift() : this.next();
      if (!p) return;
      const now = Date.now();
      const { deadline } = p.opts;
      if (deadline !== undefined && deadline <= now) {
        this.finish(
          p,
          busyReply('the server is busy: the time budget ran out before a solver was free; try again shortly'),
        );
        continue;
      }
      const id = this.nextId++;
      const started = now;
      let timer: NodeJS.Timeout | undefined;
      if (deadline !== undefined) {
        timer = setTimeout(
          () => {
            const timeBudget: Reply = {
              ok: false,
              error: {
                type: 'solve',
                message: 'the time budget was exceeded; the solve was stopped',
                reason: 'time-budget',
                timeReached: null,
              },
            };
            // Sent ahead and still waiting behind the running task: it fails alone (the thread runs it later,
            // stopping at once on its spent budget, and that answer is dropped).
            if (target.next?.id === id) {
              const waiting = target.next;
              target.next = undefined;
              this.finish(waiting.p, timeBudget);
              return;
            }
            // The task ignored its deadline: stop it the hard way.
            if (target.current?.id !== id) return;
            const cur = target.current;
            target.current = undefined;
            this.finish(cur.p, timeBudget);
            this.replace(target);
          },
          deadline - now + this.opts.killGraceMs,
        );
        timer.unref();
      }
      const run: Running = { id, p, timer, started };
      if (p.opts.cls === 'cheap') {
        const resolve = p.resolve;
        p.resolve = (r) => {
          // From the start on the thread (a task sent ahead starts when the one before it answers).
          this.cheapMs = 0.8 * this.cheapMs + 0.2 * (Date.now() - run.started);
          resolve(r);
        };
      }
      if (ahead) {
        target.next = run;
        this.sentAhead++;
      } else target.current = run;
      p.opts.onStart?.(target.index);
      target.worker.postMessage({ id, ...this.wire(target, p.task) }, p.opts.transfer ?? []);
    }
  }

  /**
   * The message for a task: a job chunk whose request the thread already holds names it by key instead of
   * carrying it; otherwise the thread is told to keep it (and which key to forget to make room).
   */
  private wire(slot: Slot, task: Task): { task: Task; requestKey?: string; forget?: string } {
    const key = requestKey(task);
    if (key === undefined || (task.type !== 'chunk' && task.type !== 'merge')) return { task };
    const keys = slot.requestKeys;
    const at = keys.indexOf(key);
    if (at >= 0) {
      keys.splice(at, 1);
      keys.push(key);
      this.requestsByKey++;
      return { task: { ...task, request: undefined }, requestKey: key };
    }
    keys.push(key);
    const forget = keys.length > THREAD_REQUESTS ? keys.shift() : undefined;
    return { task, requestKey: key, ...(forget !== undefined ? { forget } : {}) };
  }

  stats() {
    return {
      size: this.slots.length,
      ready: this.slots.filter((s) => s.ready).length,
      busy: this.slots.filter((s) => s.current).length,
      heavyBusy: this.heavyBusy(),
      heavySlots: this.heavySlots,
      queued: this.queues.cheap.length + this.queues['sync-heavy'].length + this.queues.job.length,
      queuedCheap: this.queues.cheap.length,
      queuedJob: this.queues.job.length,
      sentAhead: this.sentAhead,
      requestsByKey: this.requestsByKey,
    };
  }

  /** Resolves when no task runs or waits (for graceful shutdown), or after `ms`. */
  async idle(ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (this.stats().busy === 0 && this.stats().queued === 0) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    return false;
  }

  async close() {
    this.closed = true;
    for (const q of Object.values(this.queues))
      for (const p of q.splice(0))
        this.finish(p, { ok: false, error: { type: 'internal', message: 'server is shutting down' } });
    await Promise.all(
      this.slots.splice(0).map((s) => {
        s.worker.removeAllListeners('exit');
        if (s.next) {
          clearTimeout(s.next.timer);
          this.finish(s.next.p, { ok: false, error: { type: 'internal', message: 'server is shutting down' } });
        }
        if (s.current) {
          clearTimeout(s.current.timer);
          this.finish(s.current.p, { ok: false, error: { type: 'internal', message: 'server is shutting down' } });
        }
        return s.worker.terminate();
      }),
    );
  }
}
