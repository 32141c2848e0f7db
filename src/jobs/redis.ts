// The Redis backend (REDIS_URL): a job's chunks go to one BullMQ queue; `immunopd worker` processes on any
// number of machines take them (each runs them on its own thread pool) and return the partial results,
// which the server that queued the job collects and merges. Finished job records are kept in Redis with an
// expiry, so every server of a deployment can answer GET /api/jobs/:id. A worker that dies holding a chunk
// loses its lock; after `lockMs` another worker's stalled-job check puts the chunk back in the queue, so the
// job still completes with every chunk, and the same numbers (chunks do not depend on who runs them).
// Not a home-made scheduler: BullMQ does the queueing, locking, stalled-job recovery and events.
import { hostname } from 'node:os';
import { Queue, QueueEvents, Worker, Job, UnrecoverableError } from 'bullmq';
import { Redis } from 'ioredis';
import { encode, decode } from './codec.ts';
import { JobFailure, type ChunkBackend, type JobRecord, type ResultStore } from './manager.ts';
import { WorkerPool } from './pool.ts';
import type { JobError } from './tasks.ts';

export const QUEUE = 'immunopd-chunks';

/** Lock of a chunk being run, ms (a worker that dies frees its chunks after this) — IMMUNOPD_LOCK_MS. */
const lockMs = () => Number(process.env.IMMUNOPD_LOCK_MS) || 30_000;

interface ChunkData {
  job: string;
  kind: string;
  request: unknown;
  index: number;
  chunk: unknown;
}

const connection = (url: string) => ({ url, maxRetriesPerRequest: null });

export function redisBackend(url: string): ChunkBackend {
  const queue = new Queue(QUEUE, { connection: connection(url) });
  const events = new QueueEvents(QUEUE, { connection: connection(url) });
  const pending = new Map<
    string,
    {
      index: number;
      onDone: (worker: string, partial: unknown) => void;
      onFail: (e: JobError) => void;
      onProgress: (d: number) => void;
    }
  >();
  const ready = events.waitUntilReady();

  const collect = async (jobId: string) => {
    const p = pending.get(jobId);
    if (!p) return;
    const job = await Job.fromId(queue, jobId);
    if (!job || !pending.has(jobId)) return;
    if (job.returnvalue == null) return; // not finished yet
    pending.delete(jobId);
    const { worker, partial } = decode(job.returnvalue as string) as { worker: string; partial: unknown };
    await job.remove().catch(() => {});
    p.onDone(worker, partial);
  };
  const failed = async (jobId: string, reason: string) => {
    const p = pending.get(jobId);
    if (!p) return;
    pending.delete(jobId);
    let error: JobError;
    try {
      error = JSON.parse(reason) as JobError;
    } catch {
      error = { type: 'resources', message: `a chunk failed on a worker: ${reason.slice(0, 200)}` };
    }
    p.onFail(error);
  };
  events.on('completed', ({ jobId }) => void collect(jobId).catch(() => {}));
  events.on('failed', ({ jobId, failedReason }) => void failed(jobId, failedReason));
  events.on('progress', ({ jobId, data }) => {
    if (typeof data === 'number') pending.get(jobId)?.onProgress(data);
  });
  // A safety net for missed events: look at every pending chunk now and then.
  const poll = setInterval(() => {
    for (const id of pending.keys()) {
      void Job.fromId(queue, id)
        .then((job) => {
          if (!job) return;
          if (job.returnvalue != null) return collect(id);
          if (job.finishedOn && job.failedReason) return failed(id, job.failedReason);
        })
        .catch(() => {});
    }
  }, 2_000);
  poll.unref();

  return {
    name: 'redis',
    async runChunks(job, hooks) {
      await ready;
      const ids = job.chunks.map((_c, i) => `${job.id}_${i}`);
      const partials: unknown[] = new Array(job.chunks.length);
      const result = new Promise<unknown[]>((resolve, reject) => {
        let left = job.chunks.length;
        ids.forEach((id, index) =>
          pending.set(id, {
            index,
            onDone: (worker, partial) => {
              partials[index] = partial;
              hooks.onChunk(index, worker);
              if (--left === 0) resolve(partials);
            },
            onFail: (e) => reject(new JobFailure(e)),
            onProgress: (d) => hooks.onProgress(index, d),
          }),
        );
        hooks.signal.addEventListener(
          'abort',
          () => reject(new JobFailure({ type: 'cancelled', message: 'the job was cancelled' })),
          { once: true },
        );
      });
      await queue.addBulk(
        job.chunks.map((chunk, index) => ({
          name: job.kind.kind,
          data: { job: job.id, kind: job.kind.kind, request: job.request, index, chunk } satisfies ChunkData,
          opts: { jobId: ids[index], attempts: 1, removeOnFail: { age: 3600 } },
        })),
      );
      try {
        return await result;
      } finally {
        // Whatever is still queued (a failure or a cancellation) is of no use now; running chunks finish alone.
        for (const id of ids) {
          if (!pending.delete(id)) continue;
          void Job.fromId(queue, id)
            .then((j) => j?.remove())
            .catch(() => {});
        }
      }
    },
    async close() {
      clearInterval(poll);
      await events.close();
      await queue.close();
    },
  };
}

/** Finished job records in Redis, expiring after the store's TTL. */
export function redisStore(url: string): ResultStore {
  const redis = new Redis(url, { maxRetriesPerRequest: 2, lazyConnect: false });
  const key = (id: string) => `immunopd:job:${id}`;
  return {
    async save(record: JobRecord, ttlMs: number) {
      await redis.set(key(record.id), JSON.stringify(record), 'PX', ttlMs);
    },
    async load(id: string) {
      if (!/^[0-9a-f-]{36}$/.test(id)) return undefined;
      const s = await redis.get(key(id));
      return s ? (JSON.parse(s) as JobRecord) : undefined;
    },
    async close() {
      redis.disconnect();
    },
  };
}

export interface RedisWorker {
  name: string;
  close(): Promise<void>;
}

/**
 * An `immunopd worker`: takes chunks from the queue, runs them on `threads` pool threads (the event loop
 * stays free, so BullMQ keeps renewing the locks), returns each partial with this worker's name.
 */
export async function startRedisWorker(
  url: string,
  threads: number,
  log: (s: string) => void = () => {},
): Promise<RedisWorker> {
  const name = `${hostname()}:${process.pid}`;
  const pool = new WorkerPool({ size: threads, heavySlots: threads, queueLength: 1_000_000, killGraceMs: 2_000 });
  await pool.ready(); // take chunks only once the threads can run them
  const worker = new Worker<ChunkData, string>(
    QUEUE,
    async (job) => {
      const d = job.data;
      let last = 0;
      const reply = await pool.run(
        { type: 'chunk', kind: d.kind, request: d.request, chunk: d.chunk },
        {
          cls: 'job',
          onProgress: (done) => {
            const now = Date.now();
            if (now - last > 250) {
              last = now;
              void job.updateProgress(done).catch(() => {});
            }
          },
        },
      );
      if (!reply.ok) throw new UnrecoverableError(JSON.stringify(reply.error));
      log(`chunk ${d.index} of job ${d.job} (${d.kind}) done`);
      return encode({ worker: name, partial: reply.value });
    },
    {
      connection: connection(url),
      concurrency: threads,
      lockDuration: lockMs(),
      stalledInterval: Math.max(500, Math.floor(lockMs() / 2)),
      maxStalledCount: 5,
    },
  );
  await worker.waitUntilReady();
  return {
    name,
    async close() {
      await worker.close();
      await pool.close();
    },
  };
}
