// Jobs (Contract 5, docs/architecture.md): submit a request of a kind, follow its progress (done/total units), cancel it,
// read its result until it expires. The chunks run on a backend — the embedded thread pool, or BullMQ
// workers on Redis (src/jobs/redis.ts) — and are merged on this process's pool. Records live in memory
// while a job runs; finished ones stay in the result store (memory, or Redis with an expiry so any server
// of the deployment can answer) for `ttlMs`.
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { InputError, fromZodIssues } from '../errors.ts';
import { jobKind } from './kinds/index.ts';
import type { AnyJobKind, Backend } from './kind.ts';
import { chunkKey, type RunOptions, type WorkerPool } from './pool.ts';
import type { JobError, Reply, Task } from './tasks.ts';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobRecord {
  id: string;
  kind: string;
  status: JobStatus;
  progress: { done: number; total: number; chunks: number; chunksDone: number };
  created: string;
  finished?: string;
  /** Chunks done per worker ("thread-0", "host:pid"...). */
  workers: Record<string, number>;
  error?: JobError;
  /** The result, as JSON text (kept serialized: it is only ever sent). */
  resultJson?: string;
  /** The validated request (not sent back; per-subject rows of a population are recomputed from it). */
  request?: unknown;
}

/** What runs the chunks of a job. */
export interface ChunkBackend {
  readonly name: Backend;
  /** Run every chunk; partials in chunk order. Rejects with a JobError-carrying error on the first failed chunk. */
  runChunks(
    job: { id: string; kind: AnyJobKind; request: unknown; chunks: unknown[] },
    hooks: {
      signal: AbortSignal;
      onChunk: (index: number, worker: string) => void;
      onProgress: (index: number, done: number) => void;
    },
  ): Promise<unknown[]>;
  close(): Promise<void>;
}

/** The result store: finished records, with an expiry. */
export interface ResultStore {
  save(record: JobRecord, ttlMs: number): Promise<void>;
  load(id: string): Promise<JobRecord | undefined>;
  close(): Promise<void>;
}

export class MemoryStore implements ResultStore {
  private map = new Map<string, { record: JobRecord; expires: number }>();
  async save(record: JobRecord, ttlMs: number) {
    const now = Date.now();
    for (const [id, e] of this.map) if (e.expires <= now) this.map.delete(id);
    this.map.set(record.id, { record, expires: now + ttlMs });
  }
  async load(id: string) {
    const e = this.map.get(id);
    if (!e) return undefined;
    if (e.expires <= Date.now()) {
      this.map.delete(id);
      return undefined;
    }
    return e.record;
  }
  async close() {}
}

export class JobFailure extends Error {
  constructor(readonly error: JobError) {
    super(error.message);
  }
}

export const JOB_LIMITS = {
  /** Jobs queued or running at once on one server (more → 503). */
  active: 64,
  /** How long a finished job's record and result are kept, ms (IMMUNOPD_JOB_TTL_MS overrides). */
  ttlMs: 3_600_000,
};

interface Live {
  record: JobRecord;
  abort: AbortController;
  events: EventEmitter;
  perChunk: number[];
}

export interface JobManagerOptions {
  pool: WorkerPool;
  backend: ChunkBackend;
  store?: ResultStore;
  ttlMs?: number;
  maxActive?: number;
}

/** Validate a request of a kind: the kind, then the request under ['request', ...]. */
export function parseJob(kindName: unknown, request: unknown): { kind: AnyJobKind; request: unknown } {
  const kind = typeof kindName === 'string' ? jobKind(kindName) : undefined;
  if (!kind) throw new InputError(`unknown job kind ${JSON.stringify(String(kindName)).slice(0, 80)}`, ['kind']);
  const parsed = kind.schema.safeParse(request);
  if (!parsed.success) throw new InputError(fromZodIssues(parsed.error.issues, ['request']));
  return { kind, request: parsed.data };
}

export class JobManager {
  private live = new Map<string, Live>();
  readonly ttlMs: number;

  constructor(private opts: JobManagerOptions) {
    this.ttlMs = opts.ttlMs ?? (Number(process.env.IMMUNOPD_JOB_TTL_MS) || JOB_LIMITS.ttlMs);
  }

  get backend(): Backend {
    return this.opts.backend.name;
  }

  activeCount() {
    return this.live.size;
  }

  /** Queue a job; InputError for a bad request (paths under ['kind'] / ['request']). */
  submit(kindName: unknown, rawRequest: unknown): JobRecord {
    const { kind, request } = parseJob(kindName, rawRequest);
    let chunks: unknown[];
    try {
      chunks = kind.split(request, this.opts.backend.name);
    } catch (e) {
      throw e instanceof InputError ? e.prefixed(['request']) : e;
    }
    if (this.live.size >= (this.opts.maxActive ?? JOB_LIMITS.active))
      throw new JobFailure({
        type: 'busy',
        message: `the server is busy: ${this.live.size} jobs are queued or running; try again later`,
      });
    const total = chunks.reduce((s: number, c) => s + kind.size(c), 0);
    const record: JobRecord = {
      id: randomUUID(),
      kind: kind.kind,
      status: 'queued',
      created: new Date().toISOString(),
      workers: {},
      request,
      progress: { done: 0, total, chunks: chunks.length, chunksDone: 0 },
    };
    const live: Live = {
      record,
      abort: new AbortController(),
      events: new EventEmitter(),
      perChunk: chunks.map(() => 0),
    };
    live.events.setMaxListeners(0);
    this.live.set(record.id, live);
    void this.execute(live, kind, request, chunks);
    return record;
  }

  private emit(live: Live) {
    live.events.emit('update', live.record);
  }

  private async execute(live: Live, kind: AnyJobKind, request: unknown, chunks: unknown[]) {
    const { record } = live;
    const sizes = chunks.map((c) => kind.size(c));
    let lastEmit = 0;
    const progressed = () => {
      record.progress.done = live.perChunk.reduce((s, v) => s + v, 0);
      const now = Date.now();
      if (now - lastEmit >= 100 || record.progress.chunksDone === chunks.length) {
        lastEmit = now;
        this.emit(live);
      }
    };
    try {
      const partials = await this.opts.backend.runChunks(
        { id: record.id, kind, request, chunks },
        {
          signal: live.abort.signal,
          onChunk: (i, worker) => {
            live.perChunk[i] = sizes[i];
            record.progress.chunksDone++;
            record.workers[worker] = (record.workers[worker] ?? 0) + 1;
            progressed();
          },
          onProgress: (i, done) => {
            if (record.status === 'queued') record.status = 'running';
            live.perChunk[i] = Math.min(done, sizes[i]);
            progressed();
          },
        },
      );
      if (live.abort.signal.aborted) throw new JobFailure({ type: 'cancelled', message: 'the job was cancelled' });
      const merged = await mergeOnPool(this.opts.pool, kind, request, partials, chunkKey(chunks[0]), {
        cls: 'sync-heavy',
        signal: live.abort.signal,
      });
      if (!merged.ok) throw new JobFailure(merged.error);
      record.resultJson = merged.body;
      record.status = 'succeeded';
    } catch (e) {
      let error: JobError = e instanceof JobFailure ? e.error : { type: 'internal', message: 'internal error' };
      // The request's fields are under 'request' in POST /api/jobs.
      if (error.type === 'input')
        error = { ...error, issues: error.issues.map((i) => ({ path: ['request', ...i.path], message: i.message })) };
      if (!(e instanceof JobFailure)) console.error('immunopd jobs: internal error:', e);
      record.status = live.abort.signal.aborted || error.type === 'cancelled' ? 'cancelled' : 'failed';
      record.error = record.status === 'cancelled' ? { type: 'cancelled', message: 'the job was cancelled' } : error;
    }
    record.finished = new Date().toISOString();
    try {
      await this.opts.store?.save(record, this.ttlMs);
    } catch (e) {
      console.error('immunopd jobs: could not store the result:', (e as Error).message);
    }
    this.live.delete(record.id);
    this.finishedLocal.set(record.id, { record, expires: Date.now() + this.ttlMs });
    this.emit(live);
    live.events.emit('end', record);
  }

  /** Finished here: kept so GET works even without a shared store. */
  private finishedLocal = new Map<string, { record: JobRecord; expires: number }>();

  async get(id: string): Promise<JobRecord | undefined> {
    const l = this.live.get(id);
    if (l) return l.record;
    const now = Date.now();
    for (const [k, e] of this.finishedLocal) if (e.expires <= now) this.finishedLocal.delete(k);
    return this.finishedLocal.get(id)?.record ?? (await this.opts.store?.load(id));
  }

  /** Follow a job: `update` on progress, `end` once. Returns an unsubscribe function, or undefined when not running here. */
  subscribe(id: string, onUpdate: (r: JobRecord) => void, onEnd: (r: JobRecord) => void): (() => void) | undefined {
    const l = this.live.get(id);
    if (!l) return undefined;
    l.events.on('update', onUpdate);
    l.events.once('end', onEnd);
    return () => {
      l.events.off('update', onUpdate);
      l.events.off('end', onEnd);
    };
  }

  /** Cancel a running job (true), or false when it is not running here. */
  cancel(id: string): boolean {
    const l = this.live.get(id);
    if (!l) return false;
    l.abort.abort();
    return true;
  }

  /** Wait for a job to end (tests, the CLI). */
  wait(id: string): Promise<JobRecord> {
    const l = this.live.get(id);
    if (!l) return this.get(id).then((r) => r ?? Promise.reject(new Error(`no job ${id}`)));
    return new Promise((resolve) => l.events.once('end', resolve));
  }

  async close() {
    for (const l of this.live.values()) l.abort.abort();
    await this.opts.backend.close();
    await this.opts.store?.close();
  }
}

/**
 * The whole buffers under the typed arrays in partials (a population's series columns), to move to the merging
 * thread instead of copying them (176 MB for 10,000 subjects × 6 series × 366 times). Views of a shared or
 * partly used buffer are left to be copied.
 */
export function columnBuffers(partials: unknown[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const visit = (x: unknown, depth: number): void => {
    if (depth > 4 || x === null || typeof x !== 'object') return;
    if (ArrayBuffer.isView(x)) {
      const b = x.buffer;
      if (b instanceof ArrayBuffer && x.byteOffset === 0 && x.byteLength === b.byteLength) out.add(b);
      return;
    }
    for (const v of Array.isArray(x) ? x : Object.values(x)) visit(v, depth + 1);
  };
  for (const p of partials) visit(p, 0);
  return [...out];
}

/**
 * A job's merge on the pool: in pieces on as many threads as heavy work may hold when the kind splits its
 * merge (JobKind.splitMerge: a population's series), joined here; else one task. Partials' column buffers
 * are moved to the merging threads.
 */
async function mergeOnPool(
  pool: WorkerPool,
  kind: AnyJobKind,
  request: unknown,
  partials: unknown[],
  key: string | undefined,
  opts: RunOptions,
): Promise<Reply> {
  const task = (ps: unknown[], part?: unknown): Task => ({
    type: 'merge',
    kind: kind.kind,
    request,
    partials: ps,
    ...(key !== undefined ? { key } : {}),
    ...(part !== undefined ? { part } : {}),
  });
  const pieces = kind.joinMerge ? (kind.splitMerge?.(request, partials, pool.heavySlots) ?? []) : [];
  if (pieces.length < 2) return pool.run(task(partials), { ...opts, transfer: columnBuffers(partials) });
  const replies = await Promise.all(
    pieces.map((p) => pool.run(task(p.partials, p.part), { ...opts, transfer: columnBuffers(p.partials) })),
  );
  const failed = replies.find((r) => !r.ok);
  if (failed) return failed;
  const results = replies.map((r) => JSON.parse((r as Extract<Reply, { ok: true }>).body) as unknown);
  return { ok: true, body: JSON.stringify(kind.joinMerge!(request, results)), metrics: {}, model: '' };
}

/**
 * A synchronous analysis (POST /api/population...): the same kind, split with the synchronous limits, its
 * chunks on the pool as sync-heavy work (never every thread), merged there. Rejects PoolBusyError when too
 * many analyses already wait; `signal` cancels (the client went away).
 */
export async function runSync(
  pool: WorkerPool,
  kindName: string,
  rawRequest: unknown,
  deadline: number,
  signal?: AbortSignal,
): Promise<Reply> {
  let kind: AnyJobKind;
  let request: unknown;
  let chunks: unknown[];
  try {
    const k = jobKind(kindName)!;
    const parsed = k.schema.safeParse(rawRequest);
    if (!parsed.success) throw new InputError(fromZodIssues(parsed.error.issues));
    kind = k;
    request = parsed.data;
    chunks = kind.split(request, 'sync');
  } catch (e) {
    if (e instanceof InputError)
      return { ok: false, error: { type: 'input', message: e.message, issues: e.issues, total: e.total } };
    throw e;
  }
  const release = pool.admitAnalysis();
  try {
    const opts = { cls: 'sync-heavy' as const, deadline, signal, admitted: true };
    const replies = await Promise.all(
      chunks.map((chunk) => pool.run({ type: 'chunk', kind: kind.kind, request, chunk }, opts)),
    );
    const failed = replies.find((r) => !r.ok);
    if (failed) return failed;
    const partials = replies.map((r) => (r as Extract<Reply, { ok: true }>).value);
    return await mergeOnPool(pool, kind, request, partials, chunkKey(chunks[0]), opts);
  } finally {
    release();
  }
}
