// The population job (POST /api/jobs {kind: "population"} and the synchronous POST /api/population): chunks
// of subjects. Subject i's random effects depend only on (seed, i) (its own seeded stream), so a chunk can
// run anywhere and the merged summary does not depend on how the subjects were split or where they ran.
// Quantiles are exact: every subject's value at every output time is kept until the merge, which sorts each
// time's column (8 bytes a value; the limits below bound that memory). The mean is summed in subject order,
// so it is bit-identical too.
//
// Adapter note: this solves subjects with the library's prepareScenario/solvePrepared directly; when
// src/analysis/population.ts offers simulatePopulationChunk/mergePopulationChunks, point runChunk/merge there.
import { z } from 'zod';
import { PopulationRequest, POPULATION_LIMITS, type PopulationResponse } from '../../analysis/population-request.ts';
import { prepareScenario, solvePrepared, parameterVector, initialState, outputGrid } from '../../simulate.ts';
import { InputError } from '../../errors.ts';
import { mulberry32, normalSampler } from '../../numerics/random.ts';
import { CancelledError, type Backend, type JobKind } from '../kind.ts';

/** Limits of a population run as a job, by backend (the synchronous route keeps POPULATION_LIMITS). */
export const POPULATION_JOB_LIMITS = {
  embedded: { subjects: 200_000, values: 25_000_000 },
  redis: { subjects: 1_000_000, values: 50_000_000 },
  /** Failures listed one by one in the result (all are counted). */
  listedFailures: 1_000,
} as const;

const populationField = PopulationRequest.shape.population;
// The fields of the synchronous request without its refinement (which caps n × arms at the synchronous
// limit; zod refuses .extend over a refined object), with the job's own limit on n. The scenario fields are
// validated again when a chunk prepares the scenario.
export const PopulationJobRequest = z.strictObject({
  ...PopulationRequest.shape,
  population: populationField.extend({
    n: z.number().int().min(1).max(POPULATION_JOB_LIMITS.redis.subjects, `at most ${POPULATION_JOB_LIMITS.redis.subjects} subjects`),
  }),
});
export type PopulationJobRequest = z.infer<typeof PopulationJobRequest>;

export interface PopulationChunk { start: number; count: number }
export interface PopulationPartial {
  start: number;
  count: number;
  model: string;
  times: number[];
  series: string[];
  /** Per series: subject j (of this chunk) at time k at [j * nT + k]; NaN where the subject failed. */
  data: Float64Array[];
  failures: { index: number; message: string }[];
  steps: number;
  rhsEvaluations: number;
  ms: number;
}

/** A 32-bit seed for subject i's own stream, mixed from (seed, i) (murmur3 finalizer). */
export function subjectSeed(seed: number, i: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Subjects per chunk: about 64 chunks, each between 50 and 2,000 subjects. */
export function chunkSize(n: number): number {
  return Math.min(2_000, Math.max(50, Math.ceil(n / 64)));
}

function seriesOf(request: PopulationJobRequest, model: { outputNames: string[]; stateNames: string[] }): string[] {
  return request.population.series ?? (model.outputNames.includes('tumor') ? ['tumor'] : model.stateNames);
}

function runChunk(request: PopulationJobRequest, chunk: PopulationChunk, ctx: Parameters<JobKind['runChunk']>[2]): PopulationPartial {
  const started = performance.now();
  const { population, ...scenario } = request;
  const prep = prepareScenario(scenario);
  const model = prep.model;
  const sc = prep.scenario;
  // Diagonal SDs only here (block and SD + correlation forms: the synchronous route, until this kind uses the population module).
  const om = population.omega as Record<string, unknown>;
  if (Array.isArray(om.block) || (typeof om.sd === 'object' && om.sd !== null)) throw new InputError('as a job, omega takes diagonal SDs by parameter (block and correlation forms: POST /api/population)', ['population', 'omega']);
  const sds = om as Record<string, number>;
  const names = Object.keys(sds);
  const omegas = names.map((k) => sds[k]);
  const typical = names.map((name) => {
    const j = model.paramIndex.get(name);
    if (j === undefined) throw new InputError(`'${name}' is not a parameter of model '${model.id}'`, ['population', 'omega', name]);
    return prep.params[j];
  });
  const series = seriesOf(request, model);
  const where = series.map((s, j) => {
    const i = model.stateIndex.get(s);
    if (i !== undefined) return { output: false, index: i };
    const o = model.outputNames.indexOf(s);
    if (o >= 0) return { output: true, index: o };
    throw new InputError(`'${s}' is neither a state nor an output of model '${model.id}'`, ['population', 'series', j]);
  });
  const nT = prep.times.length;
  const n = model.stateNames.length;
  const data = series.map(() => new Float64Array(chunk.count * nT));
  const outs = where.some((w) => w.output) ? new Float64Array(model.outputNames.length) : null;
  const row = new Float64Array(n);
  const failures: PopulationPartial['failures'] = [];
  let steps = 0;
  let rhsEvaluations = 0;
  for (let j = 0; j < chunk.count; j++) {
    if (ctx.signal.aborted) throw new CancelledError();
    const index = chunk.start + j;
    try {
      const z = normalSampler(mulberry32(subjectSeed(population.seed, index)));
      const values: Record<string, number> = { ...sc.parameters };
      names.forEach((k, m) => (values[k] = typical[m] * Math.exp(omegas[m] * z())));
      const p = parameterVector(model, values, sc.preset, ['subjects', index]);
      const y0 = initialState(model, p, sc.initial, sc.preset, ['subjects', index]);
      const sol = solvePrepared(prep, p, y0);
      steps += sol.counters.steps;
      rhsEvaluations += sol.counters.rhsEvaluations;
      for (let k = 0; k < nT; k++) {
        if (outs) {
          for (let i = 0; i < n; i++) row[i] = sol.y[k * n + i];
          model.outputs(prep.times[k], row, p, outs);
        }
        for (let q = 0; q < where.length; q++) data[q][j * nT + k] = where[q].output ? outs![where[q].index] : sol.y[k * n + where[q].index];
      }
    } catch (e) {
      failures.push({ index, message: e instanceof Error ? e.message : String(e) });
      for (const col of data) col.fill(NaN, j * nT, (j + 1) * nT);
    }
    if ((j & 63) === 63) ctx.progress(j + 1);
  }
  return { start: chunk.start, count: chunk.count, model: model.id, times: Array.from(prep.times), series, data, failures, steps, rhsEvaluations, ms: performance.now() - started };
}

function quantileSorted(sorted: Float64Array, m: number, q: number): number {
  if (m === 0) return NaN;
  const pos = (m - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, m - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export type PopulationJobResult = Omit<PopulationResponse, 'arms'> & { stats: PopulationResponse['stats'] & { failed: number } };

function merge(request: PopulationJobRequest, partials: PopulationPartial[]): PopulationJobResult {
  const first = partials[0];
  const nT = first.times.length;
  const N = partials.reduce((s, p) => s + p.count, 0);
  const qs = request.population.quantiles;
  const col = new Float64Array(N);
  const summary: PopulationResponse['summary'] = {};
  first.series.forEach((name, q) => {
    const per = qs.map(() => new Array<number>(nT));
    const mean = new Array<number>(nT);
    for (let k = 0; k < nT; k++) {
      let m = 0;
      let sum = 0;
      for (const p of partials) {
        const d = p.data[q];
        for (let j = 0; j < p.count; j++) {
          const v = d[j * nT + k];
          if (!Number.isNaN(v)) {
            col[m++] = v;
            sum += v;
          }
        }
      }
      const sorted = col.subarray(0, m).sort();
      qs.forEach((qq, r) => (per[r][k] = quantileSorted(sorted, m, qq)));
      mean[k] = m ? sum / m : NaN;
    }
    const entry: Record<string, number[]> = {};
    qs.forEach((qq, r) => (entry[`q${qq}`] = per[r]));
    entry.mean = mean;
    summary[name] = entry;
  });
  const failures = partials.flatMap((p) => p.failures);
  return {
    model: first.model,
    times: first.times,
    quantiles: qs,
    summary,
    failures: failures.slice(0, POPULATION_JOB_LIMITS.listedFailures),
    stats: {
      subjects: N, solved: N - failures.length, failed: failures.length,
      ms: partials.reduce((s, p) => s + p.ms, 0),
      steps: partials.reduce((s, p) => s + p.steps, 0),
      rhsEvaluations: partials.reduce((s, p) => s + p.rhsEvaluations, 0),
    },
  };
}

function split(request: PopulationJobRequest, backend: Backend): PopulationChunk[] {
  const n = request.population.n;
  const lim = backend === 'sync' ? { subjects: POPULATION_LIMITS.subjects, values: Infinity } : POPULATION_JOB_LIMITS[backend];
  if (n > lim.subjects) {
    const more = backend === 'sync' ? ' (run it as a job: POST /api/jobs)' : backend === 'embedded' ? ` (up to ${POPULATION_JOB_LIMITS.redis.subjects} with REDIS_URL and immunopd workers)` : '';
    throw new InputError(`at most ${lim.subjects} subjects here${more}`, ['population', 'n']);
  }
  const nT = outputGrid(request.times, ['times']).times.length;
  const series = request.population.series?.length ?? 1;
  if (n * nT * series > lim.values) {
    throw new InputError(`${n} subjects x ${nT} times x ${series} series = ${n * nT * series} values to summarise exactly (at most ${lim.values}): use fewer output times or series`, ['population', 'n']);
  }
  const size = chunkSize(n);
  const chunks: PopulationChunk[] = [];
  for (let s = 0; s < n; s += size) chunks.push({ start: s, count: Math.min(size, n - s) });
  return chunks;
}

export const populationKind: JobKind<PopulationJobRequest, PopulationChunk, PopulationPartial, PopulationJobResult> = {
  kind: 'population',
  schema: PopulationJobRequest,
  split,
  size: (c) => c.count,
  runChunk,
  merge,
};
