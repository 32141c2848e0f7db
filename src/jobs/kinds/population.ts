// The population job (POST /api/jobs {kind: "population"}, `immunopd population`, and the synchronous POST
// /api/population): chunks of subjects through the population module's own chunk API
// (simulatePopulationChunk / mergePopulationChunks, src/analysis/population-request.ts), so every feature
// (block Ω, distributions, covariates, residual error, trial arms, response probabilities, per-subject
// output) gives the same numbers here, in the synchronous route and in runPopulation for the same seed.
// Subject i's draws depend only on (seed, i) and the merge works in subject order, so the summary does not
// depend on how the subjects were split or where they ran. The limits by backend are POPULATION_LIMITS.
import {
  PopulationRequest,
  checkPopulationSize,
  simulatePopulationChunk,
  mergePopulationChunks,
  type PopulationPartial,
  type PopulationResponse,
  type MergePart,
} from '../../analysis/population-request.ts';
import { CancelledError, type Backend, type ChunkContext, type JobKind } from '../kind.ts';
import { createHash } from 'node:crypto';

export interface PopulationChunk {
  start: number;
  count: number;
  /** Whose limits apply (the chunk checks the values kept, which needs the model). */
  backend: Backend;
  /**
   * SHA-256 of the request's JSON, computed once by split: a thread that already resolved this request (parsed,
   * model compiled, Ω factored: ~25 ms with 10,000 rows of stored etas) reuses it for the job's next chunks.
   */
  key?: string;
}

/** Subjects per chunk: about 64 chunks, each between 50 and 2,000 subjects. */
export function chunkSize(n: number): number {
  return Math.min(2_000, Math.max(50, Math.ceil(n / 64)));
}

function split(request: PopulationRequest, backend: Backend): PopulationChunk[] {
  checkPopulationSize(request, backend);
  const n = request.population.n;
  const size = chunkSize(n);
  const key = createHash('sha256').update(JSON.stringify(request)).digest('base64');
  const chunks: PopulationChunk[] = [];
  for (let s = 0; s < n; s += size) chunks.push({ start: s, count: Math.min(size, n - s), backend, key });
  return chunks;
}

/** The series as Float64Arrays (null → NaN): 8 bytes a value in the pool's messages and, base64, in Redis. */
function compact(p: PopulationPartial): PopulationPartial {
  return {
    ...p,
    arms: p.arms.map((a) => ({
      ...a,
      series: a.series.map((s) => (s instanceof Float64Array ? s : Float64Array.from(s, (v) => v ?? NaN))),
    })),
  };
}

function runChunk(request: PopulationRequest, chunk: PopulationChunk, ctx: ChunkContext): PopulationPartial {
  const started = performance.now();
  if (ctx.signal.aborted) throw new CancelledError();
  const partial = simulatePopulationChunk(request, chunk.start, chunk.count, {
    backend: chunk.backend,
    key: chunk.key,
    progress: (done) => {
      if (ctx.signal.aborted) throw new CancelledError();
      ctx.progress(done);
    },
  });
  return { ...compact(partial), ms: performance.now() - started } as PopulationPartial;
}

/** Partials carry their chunk's wall time (ms, summed into stats.ms: the work, not the elapsed time). */
function merge(
  request: PopulationRequest,
  partials: PopulationPartial[],
  key?: string,
  part?: MergePart,
): PopulationResponse {
  const ms = partials.reduce((s, p) => s + ((p as { ms?: number }).ms ?? 0), 0);
  // The chunks already checked the backend's limits: merge under the largest.
  return mergePopulationChunks(request, partials, { backend: 'redis', ms, key, part });
}

/** Values (subjects × series × output times) below which a merge stays on one thread. */
const SPLIT_MERGE_VALUES = 2_000_000;

/**
 * The merge split by series over threads (the quantiles of each series at each output time are independent):
 * contiguous groups of series, so the joined summary lists them in order; the first piece also makes the
 * response summaries. Not split: one series, per-subject output, or a small population.
 */
function splitMerge(request: PopulationRequest, partials: PopulationPartial[], threads: number) {
  const first = partials[0]?.arms[0];
  const S = first?.series.length ?? 0;
  const nT = first && partials[0].count > 0 ? first.series[0].length / partials[0].count : 0;
  if (threads < 2 || S < 2 || request.population.perSubject !== false) return [];
  if (request.population.n * S * nT < SPLIT_MERGE_VALUES) return [];
  const k = Math.min(threads, S);
  return Array.from({ length: k }, (_, i) => {
    const series = Array.from({ length: S }, (_, q) => q).filter((q) => Math.floor((q * k) / S) === i);
    const part: MergePart = { series, rest: i === 0 };
    const pieces = partials.map((p) => ({
      ...p,
      arms: p.arms.map(({ response, ...a }) => ({
        ...a,
        ...(i === 0 && response ? { response } : {}),
        series: a.series.map((col, q) => (series.includes(q) ? col : [])),
      })),
    }));
    return { part, partials: pieces };
  });
}

/** The pieces' summaries joined into the first piece's result (series in order: the groups are contiguous). */
function joinMerge(_request: PopulationRequest, results: PopulationResponse[]): PopulationResponse {
  const out = results[0];
  out.arms = out.arms.map((arm, a) => ({
    ...arm,
    summary: Object.assign({}, ...results.map((r) => r.arms[a].summary)),
  }));
  out.summary = out.arms[0].summary;
  return out;
}

export const populationKind: JobKind<PopulationRequest, PopulationChunk, PopulationPartial, PopulationResponse> = {
  kind: 'population',
  schema: PopulationRequest,
  split,
  size: (c) => c.count,
  runChunk,
  merge,
  splitMerge,
  joinMerge,
};
