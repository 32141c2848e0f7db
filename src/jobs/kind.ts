// What a job kind is (Contract 5 "jobs", docs/architecture.md): a request schema, a split into independent chunks, the work
// of one chunk (in a worker thread or an `immunopd worker` process, anywhere), and a merge of the chunks'
// partial results into the answer. Chunks must not depend on each other or on where they run, so the merged
// result is the same whichever backend (embedded threads or BullMQ workers) ran them and in whatever order.
import type { z } from 'zod';

/** Who runs the chunks: a synchronous route (small limits), a job on the embedded threads or on BullMQ workers. */
export type Backend = 'sync' | 'embedded' | 'redis';

export interface ChunkContext {
  /** Report progress within the chunk: `done` of the chunk's own `size`. */
  progress(done: number): void;
  /** Set when the job was cancelled: a long chunk checks it now and then and stops (throw CancelledError). */
  signal: { readonly aborted: boolean };
}

export interface JobKind<Request = unknown, Chunk = unknown, Partial = unknown, Result = unknown> {
  kind: string;
  /** The request as received (validated in the server before anything is queued). */
  schema: z.ZodType<Request>;
  /** The chunks of a validated request; may refuse a request too large for this backend (InputError). */
  split(request: Request, backend: Backend): Chunk[];
  /** Units of work in a chunk (subjects, starts...): progress is reported in these units. */
  size(chunk: Chunk): number;
  runChunk(request: Request, chunk: Chunk, ctx: ChunkContext): Partial | Promise<Partial>;
  /**
   * Partials in chunk order. `key`: the chunks' request key (a chunk's `key` field, when the kind sets one):
   * the thread that merges may hold the request resolved under it.
   */
  merge(request: Request, partials: Partial[], key?: string, part?: unknown): Result;
  /**
   * Optional: the merge as up to `threads` independent pieces, each with the partials its thread needs and the
   * `part` its merge gets; joinMerge makes them the result merge would give. Fewer than 2 pieces: one merge.
   */
  splitMerge?(request: Request, partials: Partial[], threads: number): { part: unknown; partials: Partial[] }[];
  /** The pieces' results, in order, as one result. */
  joinMerge?(request: Request, results: Result[]): Result;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJobKind = JobKind<any, any, any, any>;

export class CancelledError extends Error {
  constructor() {
    super('the job was cancelled');
    this.name = 'CancelledError';
  }
}
