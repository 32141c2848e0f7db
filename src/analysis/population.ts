// Virtual populations, single-threaded and chunkable. A population request (population-request.ts) is
// resolved once per process (`resolvePopulation`: the model compiled, Ω factored, names checked); then any
// range of subjects [start, start + count) is simulated by `populationChunk` (one record per subject) and
// packed by `packChunk` into a partial that holds, column by column, every per-subject value the summary
// needs (compact: a million subjects fit in one merge), and `mergeChunks` turns any set of partials
// covering 0..n-1 into the summary. Subject i's draws depend only on (seed, i) and the merge works in subject order, so the summary
// is the same, bit for bit, whatever the chunking (the job system splits populations across workers).
//
// Quantiles are exact (type 7, as R's default and numpy's 'linear': linear interpolation between order
// statistics) over every solved subject's value at each output time: the partials carry all values.
//
// `simulatePopulation` (a list of given subjects, no sampling) is kept for callers that draw their own.
import type { ScenarioInput } from '../scenario/schema.ts';
import {
  prepareScenario,
  solvePrepared,
  parameterVector,
  initialState,
  metricsGrid,
  buildResult,
  type PreparedScenario,
} from '../simulate.ts';
import { InputError, SolveError, type Path } from '../errors.ts';
import { mulberry32, normalSampler } from '../numerics/random.ts';
import { quantilesSelect } from '../numerics/select.ts';
import {
  omegaMatrix,
  cholesky,
  subjectStream,
  transform,
  drawEta,
  drawCovariate,
  type Transform,
} from './population-sampling.ts';
import { armScenario, responseSummary, type ResponseSummary } from './trial.ts';
import type { PopulationRequest } from './population-request.ts';

// ---------------------------------------------------------------------------------------------------------
// Resolving a request
// ---------------------------------------------------------------------------------------------------------

interface ResolvedArm {
  name: string;
  scenario: ScenarioInput;
  prep: PreparedScenario;
  grid: Float64Array;
}

export interface ResolvedPopulation {
  request: PopulationRequest;
  arms: ResolvedArm[];
  /** Parameters with between-subject variability, in Ω order. */
  etaNames: string[];
  etaIndex: number[];
  transforms: Transform[];
  L: Float64Array;
  covariateNames: string[];
  series: string[];
  /** Metrics are needed (response probabilities or per-subject output). */
  needMetrics: boolean;
}

const P = (...p: Path): Path => ['population', ...p];

export function resolvePopulation(request: PopulationRequest): ResolvedPopulation {
  const { population, arms: armList, ...scenario } = request;
  const base = scenario as ScenarioInput;
  const armDefs = armList?.length ? armList : [undefined];
  const arms: ResolvedArm[] = armDefs.map((a, k) => {
    const sc = armScenario(base, a);
    const prep = prepareScenario(sc, a ? ['arms', k] : []);
    return {
      name: a?.name ?? 'population',
      scenario: sc,
      prep,
      grid: prep.scenario.metrics ? metricsGrid(prep.times, prep.doses) : prep.times,
    };
  });
  const model = arms[0].prep.model;
  const om = omegaMatrix(population.omega as never, P('omega'));
  const m = om.names.length;
  const etaIndex = om.names.map((name) => {
    const j = model.paramIndex.get(name);
    if (j === undefined)
      throw new InputError(
        `'${name}' is not a parameter of model '${model.id}'`,
        P('omega', ...(Object.hasOwn(population.omega, name) ? [name] : [])),
      );
    return j;
  });
  const L = cholesky(om.cov, m, om.names, P('omega'));
  const etas = population.etas;
  if (etas) {
    if (etas.length !== population.n)
      throw new InputError(
        `${etas.length} rows of stored etas for ${population.n} subjects (one row per subject)`,
        P('etas'),
      );
    etas.forEach((row, i) => {
      if (row.length !== m)
        throw new InputError(
          `row ${i} has ${row.length} etas for the ${m} parameters of omega (${om.names.join(', ')})`,
          P('etas', i),
        );
    });
  }
  const dist = population.distributions ?? {};
  for (const name of Object.keys(dist))
    if (!om.names.includes(name))
      throw new InputError(`'${name}' has no variability in omega`, P('distributions', name));
  const transforms = om.names.map((n) => (Object.hasOwn(dist, n) ? dist[n] : 'lognormal') as Transform);
  for (const arm of arms) {
    om.names.forEach((n, j) => {
      const theta = arm.prep.params[etaIndex[j]];
      if (transforms[j] === 'lognormal' && !(theta > 0))
        throw new InputError(
          `a log-normal parameter needs a typical value > 0 ('${n}' is ${theta}${arms.length > 1 ? ` in arm '${arm.name}'` : ''})`,
          P('omega'),
        );
      if (transforms[j] === 'logitnormal' && !(theta > 0 && theta < 1))
        throw new InputError(
          `a logit-normal parameter needs a typical value in (0, 1) ('${n}' is ${theta})`,
          P('distributions', n),
        );
    });
  }
  const cov = population.covariates;
  const covariateNames = cov ? ('table' in cov ? cov.table.columns : Object.keys(cov.distributions)) : [];
  covariateNames.forEach((c) => {
    const path =
      cov && 'table' in cov
        ? P('covariates', 'table', 'columns', covariateNames.indexOf(c))
        : P('covariates', 'distributions', c);
    if (c !== 'weight' && !model.paramIndex.has(c))
      throw new InputError(`covariate '${c}' is neither 'weight' nor a parameter of model '${model.id}'`, path);
    if (om.names.includes(c)) throw new InputError(`'${c}' is both a covariate and in omega`, path);
  });
  // Default: the tumor series the model declares (roles.tumor), else every state; never guessed from names.
  const tumorRole = model.spec.roles?.tumor;
  const series = population.series ?? (tumorRole ? [tumorRole.series] : model.stateNames);
  series.forEach((s, j) => {
    if (!model.stateIndex.has(s) && !model.outputNames.includes(s))
      throw new InputError(`'${s}' is neither a state nor an output of model '${model.id}'`, P('series', j));
  });
  for (const s of Object.keys(population.residual ?? {})) {
    if (!series.includes(s))
      throw new InputError(`residual error on '${s}', which is not in population.series`, P('residual', s));
  }
  if (population.response)
    for (const a of arms)
      if (!a.prep.scenario.metrics) throw new InputError('response probabilities need metrics: true', ['metrics']);
  const needMetrics =
    arms[0].prep.scenario.metrics && (population.response !== undefined || population.perSubject !== false);
  return { request, arms, etaNames: om.names, etaIndex, transforms, L, covariateNames, series, needMetrics };
}

// ---------------------------------------------------------------------------------------------------------
// A chunk of subjects
// ---------------------------------------------------------------------------------------------------------

export interface SubjectArmRecord {
  /** Solver failure (the subject is left out of this arm's summaries). */
  failure?: string;
  metrics?: Record<string, unknown>;
  /** One array per `series`, over the output times (with residual error when asked). */
  series?: ArrayLike<number>[];
}

export interface SubjectRecord {
  id: number;
  parameters: Record<string, number>;
  covariates: Record<string, number>;
  arms: SubjectArmRecord[];
}

/** Subjects [start, start + count) as solved, one record each (the schedule optimizer reads these directly). */
export interface SubjectChunk {
  start: number;
  count: number;
  subjects: SubjectRecord[];
  steps: number;
  rhsEvaluations: number;
}

function drawSubject(R: ResolvedPopulation, id: number) {
  const pop = R.request.population;
  const s = subjectStream(pop.seed, id);
  const m = R.etaNames.length;
  // Stored η replace the draws (the stream still serves covariates and residuals, as for drawn subjects).
  const stored = pop.etas;
  const eta = stored ? Float64Array.from(stored[id]) : drawEta(R.L, m, s.normal, new Float64Array(m));
  const covariates: Record<string, number> = {};
  const cov = pop.covariates;
  if (cov && 'table' in cov) {
    const row = cov.table.rows[Math.floor(s.uniform() * cov.table.rows.length)];
    cov.table.columns.forEach((c, j) => (covariates[c] = row[j]));
  } else if (cov) {
    for (const c of R.covariateNames)
      covariates[c] = drawCovariate(cov.distributions[c], s, P('covariates', 'distributions', c));
  }
  // Residual errors for every arm, series and time, drawn before any solve so that a failed solve does
  // not shift the stream of the next arm.
  const nT = R.arms[0].prep.times.length;
  const residual = R.arms.map(() =>
    R.series.map((name) => {
      const r = pop.residual && Object.hasOwn(pop.residual, name) ? pop.residual[name] : undefined;
      if (!r) return undefined;
      const e = new Float64Array(2 * nT);
      for (let k = 0; k < 2 * nT; k++) e[k] = s.normal();
      return { ...r, e };
    }),
  );
  return { eta, covariates, residual };
}

interface ArmSolve {
  series: Float64Array[];
  metrics?: Record<string, unknown>;
  steps: number;
  rhsEvaluations: number;
}

function simulateArm(
  R: ResolvedPopulation,
  arm: ResolvedArm,
  eta: Float64Array,
  covariates: Record<string, number>,
  id: number,
  parameters: Record<string, number> | null,
): ArmSolve {
  let prep = arm.prep;
  let grid = arm.grid;
  if (Object.hasOwn(covariates, 'weight')) {
    prep = prepareScenario({ ...arm.scenario, weight: covariates.weight });
    grid = prep.scenario.metrics ? metricsGrid(prep.times, prep.doses) : prep.times;
  }
  const model = prep.model;
  const sc = prep.scenario;
  const values: Record<string, number> = { ...sc.parameters };
  for (const c of R.covariateNames) if (c !== 'weight') values[c] = covariates[c];
  let p = parameterVector(model, values, sc.preset, ['subjects', id]);
  p = Float64Array.from(p);
  R.etaNames.forEach((n, j) => {
    const k = R.etaIndex[j];
    p[k] = transform(R.transforms[j], p[k], eta[j]);
    if (parameters) parameters[n] = p[k];
  });
  const y0 = initialState(model, p, sc.initial, sc.preset, ['subjects', id]);
  // Metrics (on their fine grid) only when something reads them (response, per-subject output); else the
  // series alone, solved on the output times as simulate() does with metrics off (several times faster).
  if (!R.needMetrics) grid = prep.times;
  const sol = solvePrepared(prep, p, y0, grid);
  const counts = { steps: sol.counters.steps, rhsEvaluations: sol.counters.rhsEvaluations };
  // Without metrics the series are read straight from the solution rows (no result object per subject).
  const direct = R.needMetrics ? null : seriesFromRows(R.series, prep, sol.y, p);
  if (direct) return { series: direct, ...counts };
  const result = buildResult(R.needMetrics ? prep : { ...prep, scenario: { ...sc, metrics: false } }, sol, 0, p, grid);
  const series = R.series.map((name) =>
    Float64Array.from(Object.hasOwn(result.outputs, name) ? result.outputs[name] : result.states[name]),
  );
  return { series, metrics: R.needMetrics ? result.metrics : undefined, ...counts };
}

/**
 * The series over the output times from the solution rows y (row-major, times × states): states copied,
 * outputs evaluated at each time as buildResult does. null when an output reads a dose clock (tfd/tld): those
 * go through buildResult, which sets the clocks.
 */
function seriesFromRows(
  names: string[],
  prep: PreparedScenario,
  y: Float64Array,
  p: Float64Array,
): Float64Array[] | null {
  const model = prep.model;
  const times = prep.times;
  const nT = times.length;
  const n = model.stateNames.length;
  const outIdx = names.map((name) => model.outputNames.indexOf(name));
  const anyOutput = outIdx.some((j) => j >= 0);
  if (anyOutput && model.doseClocks.length) return null;
  const cols = names.map(() => new Float64Array(nT));
  names.forEach((name, q) => {
    if (outIdx[q] >= 0) return;
    const i = model.stateIndex.get(name)!;
    const col = cols[q];
    for (let k = 0; k < nT; k++) col[k] = y[k * n + i];
  });
  if (anyOutput) {
    const o = new Float64Array(model.outputNames.length);
    for (let k = 0; k < nT; k++) {
      model.outputs(times[k], y.subarray(k * n, (k + 1) * n), p, o);
      for (let q = 0; q < names.length; q++) if (outIdx[q] >= 0) cols[q][k] = o[outIdx[q]];
    }
  }
  return cols;
}

/** Metrics kept per subject: everything numeric, boolean or categorical at the top level, plus drugs. */
function keptMetrics(metrics: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metrics))
    if (k !== 'events' && k !== 'tumorSeries' && k !== 'tumorUnit') out[k] = v;
  return out;
}

export function populationChunk(R: ResolvedPopulation, start: number, count: number): SubjectChunk {
  const n = R.request.population.n;
  if (!(Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 0 && start + count <= n)) {
    throw new InputError(`chunk [${start}, ${start + count}) is not within the population's ${n} subjects`, ['start']);
  }
  const subjects: SubjectRecord[] = [];
  let steps = 0;
  let rhsEvaluations = 0;
  for (let id = start; id < start + count; id++) {
    const { eta, covariates, residual } = drawSubject(R, id);
    const parameters: Record<string, number> = {};
    const arms = R.arms.map((arm, a): SubjectArmRecord => {
      try {
        const r = simulateArm(R, arm, eta, covariates, id, a === 0 ? parameters : null);
        steps += r.steps;
        rhsEvaluations += r.rhsEvaluations;
        const series = r.series.map((col, q) => {
          const e = residual[a][q];
          if (!e) return col;
          const nT = col.length;
          return col.map((v, k) => v * (1 + (e.proportional ?? 0) * e.e[k]) + (e.additive ?? 0) * e.e[nT + k]);
        });
        return { ...(r.metrics ? { metrics: keptMetrics(r.metrics) } : {}), series };
      } catch (e) {
        if (e instanceof SolveError || e instanceof InputError) return { failure: e.message };
        throw e;
      }
    });
    subjects.push({ id, parameters, covariates, arms });
  }
  return { start, count, subjects, steps, rhsEvaluations };
}

// ---------------------------------------------------------------------------------------------------------
// Partials: what crosses queues, and merging
// ---------------------------------------------------------------------------------------------------------

/** Type-7 quantile of sorted values (linear interpolation between order statistics). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const m = sorted.length;
  if (m === 0) return NaN;
  const pos = (m - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, m - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export { quantilesSelect };

/** The metrics the response summary reads (trial.ts responseSummary): the only metrics a summary keeps. */
export const RESPONSE_FIELDS = [
  'bestOverallResponse',
  'confirmedBestOverallResponse',
  'progressed',
  'timeToProgression',
  'baseline',
  'final',
] as const;
type Cell = string | number | boolean | null;

/** One arm of a partial, column by column (compact: a million subjects fit in a job's merge). */
export interface PartialArm {
  /**
   * Per series: subject j of the chunk at output time k at [k·count + j] (time-major: the merge reads each output
   * time's values as one contiguous run per chunk); null (or NaN) where the subject failed or the value is not finite.
   */
  series: ((number | null)[] | Float64Array)[];
  /** With population.response: per RESPONSE_FIELDS name, one value per subject of the chunk (null when missing or failed). */
  response?: Record<string, Cell[]>;
  failures: { id: number; message: string }[];
}

/** A partial population: plain JSON data (the job system may swap the series for Float64Arrays in transit). */
export interface PopulationPartial {
  start: number;
  count: number;
  arms: PartialArm[];
  /** With population.perSubject: the per-subject output, in subject order. */
  subjects?: Record<string, unknown>[];
  steps: number;
  rhsEvaluations: number;
}

const finiteOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The per-subject output of one subject (population.perSubject). */
function subjectOutput(R: ResolvedPopulation, s: SubjectRecord): Record<string, unknown> {
  const per = R.request.population.perSubject;
  const withSeries = typeof per === 'object' && per.series;
  const armOut = (x: SubjectArmRecord) => ({
    ...(x.failure ? { failure: x.failure } : {}),
    metrics: x.metrics ?? null,
    ...(withSeries
      ? { series: Object.fromEntries(R.series.map((nm, q) => [nm, x.series ? Array.from(x.series[q]) : null])) }
      : {}),
  });
  const single = !R.request.arms?.length;
  return {
    id: s.id,
    parameters: s.parameters,
    covariates: s.covariates,
    ...(single ? armOut(s.arms[0]) : { arms: s.arms.map((x, a) => ({ arm: R.arms[a].name, ...armOut(x) })) }),
  };
}

/** A chunk's records as a partial: only what the summary (and per-subject output, when asked) needs. */
export function packChunk(R: ResolvedPopulation, chunk: SubjectChunk): PopulationPartial {
  const nT = R.arms[0].prep.times.length;
  const pop = R.request.population;
  const arms = R.arms.map((_, a): PartialArm => {
    // NaN where a subject failed or a value is not finite (8 bytes a value; the merge skips non-finite values).
    const series = R.series.map(() => new Float64Array(chunk.count * nT).fill(NaN));
    const response = pop.response
      ? Object.fromEntries(RESPONSE_FIELDS.map((f) => [f, new Array<Cell>(chunk.count).fill(null)]))
      : undefined;
    const failures: PartialArm['failures'] = [];
    chunk.subjects.forEach((s, j) => {
      const x = s.arms[a];
      if (x.failure) {
        failures.push({ id: s.id, message: x.failure });
        return;
      }
      x.series!.forEach((col, q) => {
        const d = series[q];
        for (let k = 0; k < nT; k++) {
          const v = col[k];
          if (Number.isFinite(v)) d[k * chunk.count + j] = v;
        }
      });
      if (response && x.metrics) {
        for (const f of RESPONSE_FIELDS) {
          const v = x.metrics[f];
          response[f][j] = typeof v === 'string' || typeof v === 'boolean' ? v : finiteOrNull(v);
        }
      }
    });
    return { series, ...(response ? { response } : {}), failures };
  });
  return {
    start: chunk.start,
    count: chunk.count,
    arms,
    ...(pop.perSubject ? { subjects: chunk.subjects.map((s) => subjectOutput(R, s)) } : {}),
    steps: chunk.steps,
    rhsEvaluations: chunk.rhsEvaluations,
  };
}

/**
 * Subjects [start, start + count) solved straight into a partial, the same numbers as
 * packChunk(R, populationChunk(R, start, count)) when the partial holds only series and failures (no
 * population.perSubject, no response): no record is kept per subject, so a chunk's memory is its partial
 * (a worker thread's old generation, and its GC, stay small). `progress(done)` after every `every` subjects
 * and at the end; it may throw to stop.
 */
export function packDirect(
  R: ResolvedPopulation,
  start: number,
  count: number,
  progress?: (done: number) => void,
  every = 50,
): PopulationPartial {
  const n = R.request.population.n;
  if (!(Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 0 && start + count <= n)) {
    throw new InputError(`chunk [${start}, ${start + count}) is not within the population's ${n} subjects`, ['start']);
  }
  const nT = R.arms[0].prep.times.length;
  const arms = R.arms.map((): PartialArm & { series: Float64Array[] } => ({
    series: R.series.map(() => new Float64Array(count * nT).fill(NaN)),
    failures: [],
  }));
  let steps = 0;
  let rhsEvaluations = 0;
  for (let j = 0; j < count; j++) {
    const id = start + j;
    const { eta, covariates, residual } = drawSubject(R, id);
    for (let a = 0; a < R.arms.length; a++) {
      let r: ArmSolve;
      try {
        r = simulateArm(R, R.arms[a], eta, covariates, id, null);
      } catch (e) {
        if (e instanceof SolveError || e instanceof InputError) {
          arms[a].failures.push({ id, message: e.message });
          continue;
        }
        throw e;
      }
      steps += r.steps;
      rhsEvaluations += r.rhsEvaluations;
      r.series.forEach((col, q) => {
        const d = arms[a].series[q];
        const e = residual[a][q];
        for (let k = 0; k < nT; k++) {
          const v = e ? col[k] * (1 + (e.proportional ?? 0) * e.e[k]) + (e.additive ?? 0) * e.e[nT + k] : col[k];
          if (Number.isFinite(v)) d[k * count + j] = v;
        }
      });
    }
    if (progress && ((j + 1) % every === 0 || j + 1 === count)) progress(j + 1);
  }
  return { start, count, arms, steps, rhsEvaluations };
}

/** Failures listed one by one, per arm and overall (all are counted: stats.failed, ArmSummary.failed). */
export const LISTED_FAILURES = 1_000;

export interface ArmSummary {
  name: string;
  /** series → { "q0.05": [...], ..., mean: [...] } over the output times (null where no subject has a value). */
  summary: Record<string, Record<string, (number | null)[]>>;
  response?: ResponseSummary;
  solved: number;
  failed: number;
  /** The first LISTED_FAILURES failures. */
  failures: { id: number; message: string }[];
}

export interface PopulationResponse {
  model: string;
  times: number[];
  quantiles: number[];
  arms: ArmSummary[];
  /** The first (or only) arm's summary and response, for single-arm requests. */
  summary: ArmSummary['summary'];
  response?: ResponseSummary;
  /** Subjects with a failure in any arm (the first LISTED_FAILURES, in subject order; the first failing arm's message). */
  failures: { index: number; message: string }[];
  subjects?: Record<string, unknown>[];
  stats: { subjects: number; solved: number; failed: number; steps: number; rhsEvaluations: number; ms: number };
}

/**
 * The finite values of output time k of a partial's series d (its `count` subjects, one contiguous run: the
 * layout is time-major) appended to col from m; returns the new m, their sum added to sums[0]. Subject order,
 * so the mean adds in the same order however the population was chunked. A small function of its own, so
 * that the JIT optimizes it after a few calls (the merge runs once per job, cold).
 */
function gatherTime(
  d: ArrayLike<number | null>,
  count: number,
  k: number,
  col: Float64Array,
  m: number,
  sums: Float64Array,
): number {
  let s = sums[0];
  for (let j = k * count, end = j + count; j < end; j++) {
    const v = d[j] as number; // null (JSON partials) and NaN are skipped alike
    if (Number.isFinite(v)) {
      col[m++] = v;
      s += v;
    }
  }
  sums[0] = s;
  return m;
}

/**
 * A piece of a merge split by series over threads (src/jobs/kinds/population.ts splitMerge): the series (indices
 * into R.series) it summarises, and whether it also makes the response summaries and per-subject output.
 */
export interface MergePart {
  series: number[];
  rest: boolean;
}

function summariseArm(R: ResolvedPopulation, parts: PopulationPartial[], a: number, only?: MergePart): ArmSummary {
  const pop = R.request.population;
  const nT = R.arms[0].prep.times.length;
  const summary: ArmSummary['summary'] = {};
  // Per output time: every solved subject's value (the quantiles' input, reordered by selection).
  const col = new Float64Array(pop.n);
  const sums = new Float64Array(1);
  const qv: (number | null)[] = pop.quantiles.map(() => null);
  R.series.forEach((name, q) => {
    if (only && !only.series.includes(q)) return;
    const entry: Record<string, (number | null)[]> = {};
    const per = pop.quantiles.map(() => new Array<number | null>(nT));
    const mean = new Array<number | null>(nT);
    for (let k = 0; k < nT; k++) {
      let m = 0;
      sums[0] = 0;
      for (const p of parts) m = gatherTime(p.arms[a].series[q], p.count, k, col, m, sums);
      quantilesSelect(col, m, pop.quantiles, qv);
      for (let r = 0; r < qv.length; r++) per[r][k] = qv[r];
      mean[k] = m ? sums[0] / m : null;
    }
    pop.quantiles.forEach((qq, r) => (entry[`q${qq}`] = per[r]));
    entry.mean = mean;
    summary[name] = entry;
  });
  const arm = R.arms[a];
  const times = arm.prep.times;
  let response: ResponseSummary | undefined;
  if (pop.response && (!only || only.rest)) {
    const metrics: Record<string, unknown>[] = [];
    for (const p of parts) {
      const cols = p.arms[a].response!;
      for (let j = 0; j < p.count; j++) {
        const m: Record<string, unknown> = {};
        for (const f of RESPONSE_FIELDS) m[f] = cols[f][j];
        metrics.push(m);
      }
    }
    response = responseSummary(metrics, times[times.length - 1] - times[0], pop.response, pop.seed);
  }
  const failed = parts.reduce((s, p) => s + p.arms[a].failures.length, 0);
  const failures: ArmSummary['failures'] = [];
  for (const p of parts) for (const f of p.arms[a].failures) if (failures.length < LISTED_FAILURES) failures.push(f);
  return { name: arm.name, summary, ...(response ? { response } : {}), solved: pop.n - failed, failed, failures };
}

/** The summary of partials covering every subject once; `only`: one piece of a merge split by series. */
export function mergeChunks(
  R: ResolvedPopulation,
  partials: PopulationPartial[],
  ms = 0,
  only?: MergePart,
): PopulationResponse {
  const pop = R.request.population;
  const parts = [...partials].sort((x, y) => x.start - y.start);
  let next = 0;
  for (const p of parts) {
    if (p.start !== next || p.arms.length !== R.arms.length)
      throw new InputError(
        `the chunks do not cover subjects 0..${pop.n - 1} exactly once (at subject ${Math.min(next, p.start)})`,
        ['partials'],
      );
    next += p.count;
  }
  if (next !== pop.n) throw new InputError(`the chunks hold ${next} subjects, the population ${pop.n}`, ['partials']);
  const arms = R.arms.map((_, a) => summariseArm(R, parts, a, only));
  // A subject fails overall when it fails in any arm: the first failing arm's message.
  const firstFailure = new Map<number, string>();
  for (let a = 0; a < R.arms.length; a++)
    for (const p of parts)
      for (const f of p.arms[a].failures) if (!firstFailure.has(f.id)) firstFailure.set(f.id, f.message);
  const failures = [...firstFailure]
    .sort((x, y) => x[0] - y[0])
    .slice(0, LISTED_FAILURES)
    .map(([index, message]) => ({ index, message }));
  const subjects = pop.perSubject && (!only || only.rest) ? parts.flatMap((p) => p.subjects ?? []) : undefined;
  return {
    model: R.arms[0].prep.model.id,
    times: Array.from(R.arms[0].prep.times),
    quantiles: pop.quantiles,
    arms,
    summary: arms[0].summary,
    ...(arms[0].response ? { response: arms[0].response } : {}),
    failures,
    ...(subjects ? { subjects } : {}),
    stats: {
      subjects: pop.n,
      solved: pop.n - firstFailure.size,
      failed: firstFailure.size,
      steps: parts.reduce((s, p) => s + p.steps, 0),
      rhsEvaluations: parts.reduce((s, p) => s + p.rhsEvaluations, 0),
      ms,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Given subjects (no sampling): trajectories of each, for callers that draw their own parameters
// ---------------------------------------------------------------------------------------------------------

export interface PopulationSubject {
  parameters?: Record<string, number>;
  initial?: Record<string, number>;
}

export interface GivenPopulationResult {
  times: number[];
  states: string[];
  subjects: { index: number; states: Record<string, Float64Array> }[];
  failures: { index: number; message: string }[];
  stats: { subjects: number; solved: number; ms: number; solveMs: number; steps: number; rhsEvaluations: number };
}

/** Solve given subjects of one scenario in this thread; failures are reported, not thrown. */
export function simulatePopulation(opts: {
  scenario: ScenarioInput;
  subjects: PopulationSubject[];
  states?: string[];
  keepSubjects?: number;
}): GivenPopulationResult {
  const started = performance.now();
  const prep = prepareScenario(opts.scenario);
  const model = prep.model;
  const names = opts.states ?? model.stateNames;
  names.forEach((s, j) => {
    if (!model.stateIndex.has(s) && !model.outputNames.includes(s))
      throw new InputError(`'${s}' is neither a state nor an output of model '${model.id}'`, ['states', j]);
  });
  const sc = prep.scenario;
  const out: GivenPopulationResult['subjects'] = [];
  const failures: GivenPopulationResult['failures'] = [];
  let steps = 0;
  let rhs = 0;
  const keep = opts.keepSubjects ?? opts.subjects.length;
  const nT = prep.times.length;
  const n = model.stateNames.length;
  const o = new Float64Array(model.outputNames.length);
  opts.subjects.forEach((s, index) => {
    try {
      const p = s.parameters
        ? parameterVector(model, { ...sc.parameters, ...s.parameters }, sc.preset, ['subjects', index])
        : prep.params;
      const y0 =
        s.initial || s.parameters
          ? initialState(model, p, { ...sc.initial, ...(s.initial ?? {}) }, sc.preset, ['subjects', index])
          : prep.y0;
      const sol = solvePrepared(prep, p, y0);
      steps += sol.counters.steps;
      rhs += sol.counters.rhsEvaluations;
      if (index >= keep) return;
      const states: Record<string, Float64Array> = {};
      for (const name of names) states[name] = new Float64Array(nT);
      for (let k = 0; k < nT; k++) {
        const row = sol.y.subarray(k * n, (k + 1) * n);
        if (o.length) model.outputs(prep.times[k], row, p, o);
        for (const name of names) {
          const i = model.stateIndex.get(name);
          states[name][k] = i !== undefined ? row[i] : o[model.outputNames.indexOf(name)];
        }
      }
      out.push({ index, states });
    } catch (e) {
      failures.push({ index, message: e instanceof Error ? e.message : String(e) });
    }
  });
  const ms = performance.now() - started;
  return {
    times: Array.from(prep.times),
    states: names,
    subjects: out,
    failures,
    stats: {
      subjects: opts.subjects.length,
      solved: opts.subjects.length - failures.length,
      ms,
      solveMs: ms,
      steps,
      rhsEvaluations: rhs,
    },
  };
}

/** Independent log-normal subjects p = θ·exp(η), η ~ N(0, ω²), from one seeded stream (for given-subject callers). */
export function lognormalSubjects(
  n: number,
  typical: Record<string, number>,
  omega: Record<string, number>,
  seed = 1,
): PopulationSubject[] {
  const z = normalSampler(mulberry32(seed));
  const names = Object.keys(omega);
  for (const k of names)
    if (!Object.hasOwn(typical, k)) throw new InputError(`no typical value for '${k}'`, ['omega', k]);
  return Array.from({ length: n }, () => ({
    parameters: Object.fromEntries(names.map((k) => [k, typical[k] * Math.exp(omega[k] * z())])),
  }));
}
