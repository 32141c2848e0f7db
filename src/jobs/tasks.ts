// The tasks a pool thread runs and its replies, as plain data (they cross the thread boundary).
export interface SimulateTask {
  type: 'simulate';
  scenario: unknown;
  format: 'json' | 'csv';
  /** CSV: the arm name, written as a first column. */
  arm?: string;
  /** Largest times x (states + outputs) accepted. */
  maxValues: number;
  /**
   * Answer with the body as bytes (reply.bytes, moved to the main thread, not copied): UTF-8 ('identity') or
   * gzip-compressed ('gzip', when the HTTP client accepts it), so the main thread only writes them out.
   * Without it the reply's body is a string (compare's arms, which the main thread assembles).
   */
  encoding?: 'identity' | 'gzip';
}
/** One chunk of a job kind (src/jobs/kinds). */
export interface ChunkTask {
  type: 'chunk';
  kind: string;
  request: unknown;
  chunk: unknown;
}
/** The merge of a job's partial results; the reply's body is the result as JSON. */
export interface MergeTask {
  type: 'merge';
  kind: string;
  request: unknown;
  partials: unknown[];
  /** The chunks' request key (JobKind.merge), when they had one. */
  key?: string;
  /** One piece of a merge split over threads (JobKind.splitMerge). */
  part?: unknown;
}
/** Test hook (pool option allowTestJobs): busy-wait, ignoring every deadline. */
export interface SpinTask {
  type: 'spin';
  ms: number;
}
export type Task = SimulateTask | ChunkTask | MergeTask | SpinTask;

export type JobError =
  | { type: 'input'; message: string; issues: { path: (string | number)[]; message: string }[]; total?: number }
  | { type: 'solve'; message: string; reason: string; timeReached: number | null; timeStated?: boolean }
  | { type: 'resources'; message: string }
  | { type: 'busy'; message: string }
  | { type: 'cancelled'; message: string }
  | { type: 'internal'; message: string };

export type Reply =
  | {
      ok: true;
      body: string;
      metrics: Record<string, unknown>;
      model: string;
      value?: unknown;
      bytes?: Uint8Array;
      encoding?: 'identity' | 'gzip';
    }
  | { ok: false; error: JobError };
