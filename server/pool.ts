// A small pool of solver worker threads. Solves never run on the HTTP thread, so a slow or hostile request
// cannot stall the others, and a job still running after its deadline plus a grace period is stopped by
// terminating its worker (a fresh one replaces it). Workers also have a heap limit: one that runs out of
// memory dies alone and its request gets 422.
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../src/workers/start.ts';
import type { Job, Reply } from './worker-jobs.ts';

export interface PoolOptions {
  size: number;
  /** Jobs allowed to wait for a worker. */
  queueLength: number;
  /** After a job's deadline, how long before its worker is terminated. */
  killGraceMs: number;
  /** Heap limit of each worker, MB. */
  heapMb?: number;
  /** Accept the 'spin' test job. */
  allowTestJobs?: boolean;
}

export class PoolBusyError extends Error {}

interface Pending {
  job: Job;
  deadline: number;
  resolve: (r: Reply) => void;
}

interface Slot {
  worker: Worker;
  current?: { id: number; resolve: (r: Reply) => void; timer: NodeJS.Timeout };
}

const WORKER_MODULE = new URL('./worker-jobs.ts', import.meta.url);

export class WorkerPool {
  private slots: Slot[] = [];
  private queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private opts: PoolOptions) {
    for (let i = 0; i < opts.size; i++) this.slots.push(this.spawn());
  }

  get size() {
    return this.slots.length;
  }

  private spawn(): Slot {
    const worker = startWorker(WORKER_MODULE, undefined, {
      resourceLimits: { maxOldGenerationSizeMb: this.opts.heapMb ?? 1024 },
      stdout: false,
      stderr: false,
    });
    worker.unref();
    const slot: Slot = { worker };
    worker.on('message', (msg: { id?: number; reply?: Reply }) => {
      const cur = slot.current;
      if (!cur || msg.id !== cur.id || !msg.reply) return;
      clearTimeout(cur.timer);
      slot.current = undefined;
      cur.resolve(msg.reply);
      this.pump();
    });
    const died = (why: string) => {
      const cur = slot.current;
      slot.current = undefined;
      if (cur) {
        clearTimeout(cur.timer);
        cur.resolve({ ok: false, error: { type: 'resources', message: why } });
      }
      this.replace(slot);
    };
    worker.on('error', (e: Error & { code?: string }) => {
      died(e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'the solve ran out of memory (worker heap limit)' : 'the solver worker failed');
    });
    worker.on('exit', () => {
      if (this.slots.includes(slot)) died('the solver worker stopped');
    });
    return slot;
  }

  private replace(slot: Slot) {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots.splice(i, 1);
    slot.worker.removeAllListeners('exit');
    void slot.worker.terminate();
    if (!this.closed) {
      this.slots.push(this.spawn());
      this.pump();
    }
  }

  /**
   * Run jobs (the arms of one request) together: all are queued or, when the queue cannot take them all,
   * none is (PoolBusyError). Resolves with the workers' replies, in order; never rejects otherwise.
   */
  runAll(jobs: Job[], deadline: number): Promise<Reply[]> {
    if (this.queue.length + jobs.length > this.opts.queueLength) return Promise.reject(new PoolBusyError('the server is busy: too many solves are waiting; try again shortly'));
    return Promise.all(jobs.map((job) => {
      if (job.kind === 'spin' && !this.opts.allowTestJobs) return Promise.resolve<Reply>({ ok: false, error: { type: 'internal', message: 'test jobs disabled' } });
      return new Promise<Reply>((resolve) => {
        this.queue.push({ job, deadline, resolve });
        this.pump();
      });
    }));
  }

  async run(job: Job, deadline: number): Promise<Reply> {
    return (await this.runAll([job], deadline))[0];
  }

  private pump() {
    while (this.queue.length) {
      const slot = this.slots.find((s) => !s.current);
      if (!slot) return;
      const p = this.queue.shift()!;
      const now = Date.now();
      if (p.deadline <= now) {
        p.resolve({ ok: false, error: { type: 'busy', message: 'the server is busy: the time budget ran out before a solver was free; try again shortly' } });
        continue;
      }
      const id = this.nextId++;
      const timer = setTimeout(() => {
        // The job ignored its deadline: stop it the hard way.
        if (slot.current?.id !== id) return;
        const cur = slot.current;
        slot.current = undefined;
        cur.resolve({ ok: false, error: { type: 'solve', message: 'the time budget was exceeded; the solve was stopped', reason: 'time-budget', timeReached: null } });
        this.replace(slot);
      }, p.deadline - now + this.opts.killGraceMs);
      timer.unref();
      slot.current = { id, resolve: p.resolve, timer };
      slot.worker.postMessage({ id, job: p.job });
    }
  }

  stats() {
    return { size: this.slots.length, busy: this.slots.filter((s) => s.current).length, queued: this.queue.length };
  }

  async close() {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.resolve({ ok: false, error: { type: 'internal', message: 'server is shutting down' } });
    await Promise.all(this.slots.splice(0).map((s) => {
      s.worker.removeAllListeners('exit');
      if (s.current) {
        clearTimeout(s.current.timer);
        s.current.resolve({ ok: false, error: { type: 'internal', message: 'server is shutting down' } });
      }
      return s.worker.terminate();
    }));
  }
}
