// A virtual population (or a trial: arms × virtual population) as one request: POST /api/population and
// `immunopd population`. The zod schema is the request's single definition (validation, OpenAPI, CLI).
// Entry points for the job system: simulatePopulationChunk(request, start, count) → a JSON partial, and
// mergePopulationChunks(request, partials) → the summary; runPopulation(request) is one chunk + merge.
// Limits by backend (synchronous / embedded job / Redis job): POPULATION_LIMITS, checked before any solve.
import { z } from 'zod';
import { seedField } from '../zod-fields.ts';
import { userKey, assertNoReservedKeys } from '../keys.ts';
import { checkBudget, populationCost } from '../limits.ts';
import { Scenario } from '../scenario/schema.ts';
import { InputError, fromZodIssues } from '../errors.ts';
import {
  resolvePopulation,
  populationChunk,
  packChunk,
  packDirect,
  mergeChunks,
  type SubjectChunk,
  type MergePart,
  type PopulationPartial,
  type PopulationResponse,
} from './population.ts';
import { TrialArm, ResponseOptions, TRIAL_LIMITS } from './trial.ts';

/** Who runs a population: the synchronous route / runPopulation, or a job on the embedded threads or on Redis workers. */
export type PopulationBackend = 'sync' | 'embedded' | 'redis';

/**
 * The limits of a population request, the one place they are stated. The top-level numbers are those of a
 * synchronous run (POST /api/population, runPopulation); a job (POST /api/jobs, `immunopd population`)
 * may be larger by backend, summary only above the synchronous `subjects` (no per-subject output in the
 * result; GET /api/jobs/:id/subjects streams every subject's series instead).
 */
export const POPULATION_LIMITS = {
  subjects: 20_000,
  series: 20,
  /** subjects × arms: the solves of one request. */
  solves: 20_000,
  /** subjects × arms × series × output times kept for exact quantiles and per-subject series. */
  values: 5_000_000,
  /** rows of a covariate table. */
  tableRows: 100_000,
  /** rows of stored η (population.etas): one per subject. */
  etaRows: 100_000,
  jobs: {
    embedded: { subjects: 200_000, solves: 200_000, values: 25_000_000 },
    redis: { subjects: 1_000_000, solves: 1_000_000, values: 50_000_000 },
  },
} as const;

/** The size limits of a backend. */
export function populationLimits(backend: PopulationBackend): { subjects: number; solves: number; values: number } {
  return backend === 'sync' ? POPULATION_LIMITS : POPULATION_LIMITS.jobs[backend];
}

const MAX_SUBJECTS = POPULATION_LIMITS.jobs.redis.subjects;

const finite = (what: string) => z.number().refine(Number.isFinite, `${what} must be finite`);
const name = userKey.min(1).max(64);
const matrix = z.array(z.array(finite('matrix entries')).max(50)).max(50);

export const Omega = z.union([
  z.strictObject({
    /** NONMEM $OMEGA BLOCK: parameter names and the variance–covariance matrix of their η. */
    block: z.tuple([z.array(name).min(1).max(50), matrix]),
  }),
  z.strictObject({
    /** Standard deviations of η by parameter, and their correlation matrix (in the order of `sd`). */
    sd: z.record(name, z.number().min(0).max(5)),
    correlation: matrix,
  }),
  /** Diagonal: the standard deviation ω of η per parameter. */
  z.record(name, z.number().min(0, 'omega must be >= 0').max(5, 'omega must be <= 5')),
]);

const Bound = { lower: finite('lower').optional(), upper: finite('upper').optional() };
export const CovariateDistribution = z.discriminatedUnion('distribution', [
  z.strictObject({
    distribution: z.literal('normal'),
    mean: finite('mean'),
    sd: z.number().min(0).refine(Number.isFinite),
    ...Bound,
  }),
  z.strictObject({
    distribution: z.literal('lognormal'),
    median: z.number().gt(0).refine(Number.isFinite),
    omega: z.number().min(0).max(5),
    ...Bound,
  }),
  z
    .strictObject({ distribution: z.literal('uniform'), lower: finite('lower'), upper: finite('upper') })
    .refine((d) => d.upper >= d.lower, { message: 'upper must be >= lower', path: ['upper'] }),
]);

export const Covariates = z.union([
  /** Independent draws per covariate. */
  z.strictObject({ distributions: z.record(name, CovariateDistribution) }),
  /** Whole rows resampled (with replacement) from a table, keeping the covariates' joint distribution. */
  z.strictObject({
    table: z
      .strictObject({
        columns: z.array(name).min(1).max(50),
        rows: z
          .array(z.array(finite('table values')))
          .min(1)
          .max(POPULATION_LIMITS.tableRows),
      })
      .superRefine((t, ctx) => {
        t.rows.forEach((r, i) => {
          if (r.length !== t.columns.length)
            ctx.addIssue({
              code: 'custom',
              path: ['rows', i],
              message: `row has ${r.length} values for ${t.columns.length} columns`,
            });
        });
      }),
  }),
]);

export const PopulationRequest = Scenario.extend({
  population: z.strictObject({
    /** Subjects: see POPULATION_LIMITS (checked by backend before any work: checkPopulationSize). */
    n: z.number().int().min(1).max(MAX_SUBJECTS, `at most ${MAX_SUBJECTS} subjects (as a job with Redis workers)`),
    seed: seedField(),
    /** Between-subject variability Ω: diagonal SDs, a block, or SDs plus a correlation matrix. */
    omega: Omega,
    /** How η enters each parameter (default log-normal): θ·exp(η), θ + η, or expit(logit θ + η). */
    distributions: z.record(name, z.enum(['lognormal', 'normal', 'logitnormal'])).optional(),
    /**
     * Stored η instead of draws (NONMEM's simulation from given ETAs, mrgsolve's idata): row i is subject i's
     * η, in the order of omega's parameters, transformed as drawn ones; exactly n rows. Every tool then solves
     * the same subjects (the bench's W3 population). At most POPULATION_LIMITS.etaRows rows.
     */
    etas: z
      .array(z.array(finite('etas values')).max(50))
      .min(1)
      .max(POPULATION_LIMITS.etaRows, `at most ${POPULATION_LIMITS.etaRows} rows of stored etas`)
      .optional(),
    /** Covariates: 'weight' (the dosing weight, kg) or model parameters, per subject. */
    covariates: Covariates.optional(),
    /** Residual error on reported series: y·(1 + proportional·ε₁) + additive·ε₂, ε ~ N(0, 1). */
    residual: z
      .record(
        name,
        z.strictObject({ additive: z.number().min(0).optional(), proportional: z.number().min(0).max(10).optional() }),
      )
      .optional(),
    quantiles: z.array(z.number().gt(0).lt(1)).min(1).max(9).default([0.05, 0.5, 0.95]),
    /** States or outputs to summarise (default: the model's tumor series, roles.tumor, when declared, else every state). */
    series: z.array(name).min(1).max(POPULATION_LIMITS.series).optional(),
    /** Per-subject output: drawn parameters, covariates and metrics; `{ series: true }` adds the series. */
    perSubject: z.union([z.boolean(), z.strictObject({ series: z.boolean() })]).default(false),
    /** Response probabilities per arm (RECIST 1.1), with Monte Carlo standard errors. */
    response: ResponseOptions.optional(),
  }),
  /** Trial arms over the same virtual subjects (each replaces doses/therapies and adds parameters). */
  arms: z.array(TrialArm).min(1).max(TRIAL_LIMITS.arms, `at most ${TRIAL_LIMITS.arms} arms`).optional(),
}).superRefine((r, ctx) => {
  const seen = new Set<string>();
  r.arms?.forEach((a, i) => {
    if (seen.has(a.name))
      ctx.addIssue({ code: 'custom', path: ['arms', i, 'name'], message: `arm name '${a.name}' is used twice` });
    seen.add(a.name);
  });
});
export type PopulationRequest = z.infer<typeof PopulationRequest>;
export type { PopulationResponse, PopulationPartial, MergePart };

export function parsePopulationRequest(input: unknown): PopulationRequest {
  assertNoReservedKeys(input);
  const parsed = PopulationRequest.safeParse(input);
  if (!parsed.success) throw new InputError(fromZodIssues(parsed.error.issues));
  return parsed.data;
}

/**
 * The sizes known before the model is read (subjects, solves, per-subject output) against a backend's
 * limits: InputError naming population.n (or perSubject) and where a larger run is possible.
 */
export function checkPopulationSize(r: PopulationRequest, backend: PopulationBackend): void {
  const lim = populationLimits(backend);
  const n = r.population.n;
  const nArms = r.arms?.length ?? 1;
  const further =
    backend === 'sync'
      ? ` (run it as a job, POST /api/jobs or immunopd population: up to ${POPULATION_LIMITS.jobs.embedded.subjects}, ${POPULATION_LIMITS.jobs.redis.subjects} with Redis workers)`
      : backend === 'embedded'
        ? ` (up to ${POPULATION_LIMITS.jobs.redis.subjects} with REDIS_URL and immunopd workers)`
        : '';
  if (n > lim.subjects) throw new InputError(`at most ${lim.subjects} subjects here${further}`, ['population', 'n']);
  if (n * nArms > lim.solves)
    throw new InputError(`${n} subjects × ${nArms} arms = ${n * nArms} solves (at most ${lim.solves} here${further})`, [
      'population',
      'n',
    ]);
  if (r.population.perSubject !== false && n > POPULATION_LIMITS.subjects) {
    throw new InputError(
      `per-subject output for at most ${POPULATION_LIMITS.subjects} subjects (a job's rows stream from GET /api/jobs/:id/subjects instead)`,
      ['population', 'perSubject'],
    );
  }
}

function resolve(input: unknown, backend: PopulationBackend) {
  const request = parsePopulationRequest(input);
  checkPopulationSize(request, backend);
  const R = resolvePopulation(request);
  checkResolvedLimits(R, backend);
  return R;
}

/** The limits that need the model (output and memory budget, values kept), before any solve. */
function checkResolvedLimits(R: ReturnType<typeof resolvePopulation>, backend: PopulationBackend): void {
  // The output and memory budget (src/limits.ts), before any solve.
  const p = R.request.population;
  checkBudget(
    populationCost(
      p.n * R.arms.length,
      R.arms[0].prep.times.length,
      R.series.length * R.arms.length,
      p.quantiles.length,
    ),
    ['population'],
    'use fewer subjects, series, quantiles or output times',
  );
  const limit = populationLimits(backend).values;
  const values = R.request.population.n * R.arms.length * R.series.length * R.arms[0].prep.times.length;
  if (values > limit) {
    throw new InputError(
      `${values} values to keep (subjects × arms × series × output times; at most ${limit}): fewer output times, series or subjects`,
      ['population', 'n'],
    );
  }
}

/** Requests resolved in this thread (parsed, model compiled, Ω factored), by content hash (most recently used last). */
const resolvedCache = new Map<string, ReturnType<typeof resolvePopulation>>();
const RESOLVED_CACHE_ENTRIES = 4;

/** resolve(), reusing this thread's resolution of the same request (`key`): only the backend's limits are checked again. */
function resolveCached(input: unknown, backend: PopulationBackend, key: string | undefined) {
  if (key === undefined) return resolve(input, backend);
  const hit = resolvedCache.get(key);
  if (hit) {
    resolvedCache.delete(key);
    resolvedCache.set(key, hit);
    checkPopulationSize(hit.request, backend);
    checkResolvedLimits(hit, backend);
    return hit;
  }
  const R = resolve(input, backend);
  resolvedCache.set(key, R);
  if (resolvedCache.size > RESOLVED_CACHE_ENTRIES) resolvedCache.delete(resolvedCache.keys().next().value!);
  return R;
}

export interface ChunkOptions {
  /** The limits to apply (default: the synchronous ones). */
  backend?: PopulationBackend;
  /**
   * A content hash of `input` (the job kind's split computes it once): the resolved request is kept under it
   * (with the backend) in this thread, so a job's later chunks skip parsing and preparing it again.
   */
  key?: string;
  /** Called with the subjects done so far in the chunk, every `PROGRESS_CHUNK` subjects; may throw to stop. */
  progress?: (done: number) => void;
}

/** Subjects [start, start + count) of a population request: a JSON partial for mergePopulationChunks. */
export function simulatePopulationChunk(
  input: unknown,
  start: number,
  count: number,
  opts: ChunkOptions = {},
): PopulationPartial {
  const R = resolveCached(input, opts.backend ?? 'sync', opts.key);
  // Only series and failures to keep: solved straight into the partial (the same numbers, less memory).
  if (!R.request.population.perSubject && !R.request.population.response)
    return packDirect(R, start, count, opts.progress, PROGRESS_CHUNK);
  if (!opts.progress) return packChunk(R, populationChunk(R, start, count));
  const records: SubjectChunk = { start, count, subjects: [], steps: 0, rhsEvaluations: 0 };
  for (let s = start; s < start + count; s += PROGRESS_CHUNK) {
    const part = populationChunk(R, s, Math.min(PROGRESS_CHUNK, start + count - s));
    for (const x of part.subjects) records.subjects.push(x);
    records.steps += part.steps;
    records.rhsEvaluations += part.rhsEvaluations;
    opts.progress(s + part.count - start);
  }
  return packChunk(R, records);
}

/**
 * The summary from partials covering every subject exactly once (any chunking gives the same numbers).
 * `ms`: the wall time to report in stats; `key`: the request's content hash, as the chunks had it (a thread that
 * ran chunks of the request reuses their resolution); `part`: one piece of a merge split by series.
 */
export function mergePopulationChunks(
  input: unknown,
  partials: PopulationPartial[],
  opts: { backend?: PopulationBackend; ms?: number; key?: string; part?: MergePart } = {},
): PopulationResponse {
  return mergeChunks(resolveCached(input, opts.backend ?? 'sync', opts.key), partials, opts.ms ?? 0, opts.part);
}

/**
 * A whole population request in this thread (synchronous limits): every subject, merged. With `progress`,
 * subjects are simulated in chunks of `PROGRESS_CHUNK` and progress is reported after each (the same
 * numbers: the summary does not depend on the chunking).
 */
export function runPopulation(input: unknown, progress?: (done: number, total: number) => void): PopulationResponse {
  const started = performance.now();
  const R = resolve(input, 'sync');
  const n = R.request.population.n;
  const parts: PopulationPartial[] = [];
  const step = progress ? PROGRESS_CHUNK : n;
  for (let s = 0; s < n; s += step) {
    parts.push(packChunk(R, populationChunk(R, s, Math.min(step, n - s))));
    progress?.(Math.min(s + step, n), n);
  }
  return mergeChunks(R, parts, performance.now() - started);
}
const PROGRESS_CHUNK = 50;
