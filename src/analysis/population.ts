// Virtual populations: one scenario, many subjects with their own parameter values (and optionally initial
// values). The scenario is validated and its model compiled once (per worker thread); each subject is then a
// parameter vector and a solve. Large populations run on a pool of `node:worker_threads` sized to the cores;
// the workers run this same module (started through src/workers/start.ts).
//
// Results: per-subject state trajectories (all subjects or the first k, selected states) and/or summaries
// (quantiles of chosen states over time), plus per-subject failures and solver counters.
import { type Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { availableParallelism, cpus } from 'node:os';
import type { ScenarioInput } from '../scenario/schema.ts';
import { prepareScenario, solvePrepared, parameterVector, initialState, type PreparedScenario } from '../simulate.ts';
import { InputError } from '../errors.ts';
import { mulberry32, normalSampler } from '../numerics/random.ts';
import { startWorker } from '../workers/start.ts';
import { RUNNING_FROM_SOURCE } from '../package-info.ts';

export interface PopulationSubject {
  /** Parameter values of this subject (override the scenario's `parameters`). */
  parameters?: Record<string, number>;
  /** Initial values of this subject (override the scenario's `initial`). */
  initial?: Record<string, number>;
}

export interface PopulationOptions {
  scenario: ScenarioInput;
  subjects: PopulationSubject[];
  /** States or outputs whose trajectories are kept per subject / summarised (default: all states). */
  states?: string[];
  /** Keep per-subject trajectories: true = all subjects, a number = the first k subjects, false = none (default: true when no summary is asked). */
  keepSubjects?: boolean | number;
  /** Summarise `states` by these quantiles at every output time (e.g. [0.05, 0.5, 0.95]). */
  quantiles?: number[];
  /**
   * Worker threads: 0 or 1 = solve in this thread. Default: solve the first few subjects here, estimate the
   * cost of the rest, and use a pool sized to the cores when that clearly outweighs starting the workers
   * (each loads the TypeScript sources and mathjs, a few seconds).
   */
  workers?: number;
  /** Subjects per message to a worker (default: balanced, about 8 chunks per worker). */
  chunkSize?: number;
}

export interface SubjectResult {
  index: number;
  /** state name → values at the output times. */
  states: Record<string, Float64Array>;
}

export interface PopulationSummary {
  quantiles: number[];
  /** state name → one array per quantile, each over the output times; NaN where every subject failed. */
  values: Record<string, Float64Array[]>;
  /** state name → mean over subjects, per output time. */
  mean: Record<string, Float64Array>;
}

export interface PopulationResult {
  times: number[];
  states: string[];
  subjects: SubjectResult[];
  summary?: PopulationSummary;
  failures: { index: number; message: string }[];
  /** ms: wall time of the call; solveMs: time spent in solves summed over threads (the rest is pool start-up and assembly). */
  stats: { subjects: number; solved: number; workers: number; ms: number; solveMs: number; steps: number; rhsEvaluations: number };
}

// ---------------------------------------------------------------------------------------------------------
// Solving a block of subjects (in this thread or in a worker)
// ---------------------------------------------------------------------------------------------------------

interface BlockOutput {
  /** Subject indices solved in this block, in order. */
  indices: number[];
  /** For each kept state (in `states` order): values of subject j at time k at [j*nT + k]; NaN for failures. */
  data: Float64Array[];
  failures: { index: number; message: string }[];
  steps: number;
  rhsEvaluations: number;
  /** Wall time spent solving this block, ms. */
  ms: number;
}

interface Prepared {
  prep: PreparedScenario;
  /** Each kept series: a state (index into y) or an output (index into the model's outputs). */
  series: { output: boolean; index: number }[];
  nT: number;
}

function prepare(scenario: ScenarioInput, states: string[] | undefined): Prepared {
  const prep = prepareScenario(scenario);
  const names = states ?? prep.model.stateNames;
  const series = names.map((s, j) => {
    const i = prep.model.stateIndex.get(s);
    if (i !== undefined) return { output: false, index: i };
    const o = prep.model.outputNames.indexOf(s);
    if (o >= 0) return { output: true, index: o };
    throw new InputError(`'${s}' is neither a state nor an output of model '${prep.model.id}'`, ['states', j]);
  });
  return { prep, series, nT: prep.times.length };
}

function solveBlock(P: Prepared, first: number, subjects: PopulationSubject[]): BlockOutput {
  const started = performance.now();
  const { prep, series, nT } = P;
  const model = prep.model;
  const n = model.stateNames.length;
  const data = series.map(() => new Float64Array(subjects.length * nT));
  const outs = series.some((q) => q.output) ? new Float64Array(model.outputNames.length) : null;
  const row = new Float64Array(n);
  const failures: BlockOutput['failures'] = [];
  const indices: number[] = [];
  let steps = 0;
  let rhsEvaluations = 0;
  const sc = prep.scenario;
  for (let j = 0; j < subjects.length; j++) {
    const s = subjects[j];
    const index = first + j;
    indices.push(index);
    try {
      const p = s.parameters ? parameterVector(prep.model, { ...sc.parameters, ...s.parameters }, sc.preset, ['subjects', index]) : prep.params;
      const y0 = s.initial || s.parameters ? initialState(prep.model, p, { ...sc.initial, ...(s.initial ?? {}) }, sc.preset, ['subjects', index]) : prep.y0;
      const sol = solvePrepared(prep, p, y0);
      steps += sol.counters.steps;
      rhsEvaluations += sol.counters.rhsEvaluations;
      for (let k = 0; k < nT; k++) {
        if (outs) {
          for (let i = 0; i < n; i++) row[i] = sol.y[k * n + i];
          model.outputs(prep.times[k], row, p, outs);
        }
        for (let q = 0; q < series.length; q++) {
          const { output, index } = series[q];
          data[q][j * nT + k] = output ? outs![index] : sol.y[k * n + index];
        }
      }
    } catch (e) {
      failures.push({ index, message: e instanceof Error ? e.message : String(e) });
      for (const col of data) col.fill(NaN, j * nT, (j + 1) * nT);
    }
  }
  return { indices, data, failures, steps, rhsEvaluations, ms: performance.now() - started };
}

// ---------------------------------------------------------------------------------------------------------
// Worker side: this same module, started with workerData.data.kind === WORKER_KIND
// ---------------------------------------------------------------------------------------------------------

const WORKER_KIND = 'immunopd-population';

type ToWorker = { type: 'block'; id: number; first: number; subjects: PopulationSubject[] } | { type: 'stop' };
type FromWorker =
  | { type: 'ready' }
  | { type: 'init-error'; message: string }
  | { type: 'block'; id: number; out: BlockOutput };

const WORKER_DATA = (workerData as { data?: { kind?: string; scenario: ScenarioInput; states?: string[] } } | null)?.data;
if (!isMainThread && parentPort && WORKER_DATA?.kind === WORKER_KIND) {
  const port = parentPort;
  const { scenario, states } = WORKER_DATA;
  let P: Prepared | undefined;
  try {
    P = prepare(scenario, states);
    port.postMessage({ type: 'ready' } satisfies FromWorker);
  } catch (e) {
    port.postMessage({ type: 'init-error', message: e instanceof Error ? e.message : String(e) } satisfies FromWorker);
  }
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'stop' || !P) {
      port.close();
      return;
    }
    const out = solveBlock(P, msg.first, msg.subjects);
    port.postMessage({ type: 'block', id: msg.id, out } satisfies FromWorker, out.data.map((d) => d.buffer as ArrayBuffer));
  });
}

export function defaultWorkers(): number {
  try {
    return availableParallelism();
  } catch {
    return cpus().length || 1;
  }
}

/** Rough cost of starting one worker (the compiled modules and mathjs; more from source under tsx), for the default pool decision. */
const WORKER_STARTUP_MS = RUNNING_FROM_SOURCE ? 4000 : 300;
/** Subjects solved in this thread to estimate the cost per subject. */
const PROBE_SUBJECTS = 8;

async function runPool(scenario: ScenarioInput, states: string[] | undefined, subjects: PopulationSubject[], offset: number, nWorkers: number, chunkSize: number): Promise<BlockOutput[]> {
  const blocks: { first: number; subjects: PopulationSubject[] }[] = [];
  for (let f = 0; f < subjects.length; f += chunkSize) blocks.push({ first: offset + f, subjects: subjects.slice(f, f + chunkSize) });
  const results: BlockOutput[] = new Array(blocks.length);
  let next = 0;
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let live = Math.min(nWorkers, blocks.length);
      let failed = false;
      const fail = (e: unknown) => {
        if (failed) return;
        failed = true;
        reject(e instanceof Error ? e : new Error(String(e)));
      };
      for (let w = 0; w < live; w++) {
        const worker = startWorker(new URL(import.meta.url), { kind: WORKER_KIND, scenario, states });
        workers.push(worker);
        const feed = () => {
          if (next < blocks.length) {
            const id = next++;
            worker.postMessage({ type: 'block', id, ...blocks[id] } satisfies ToWorker);
          } else {
            worker.postMessage({ type: 'stop' } satisfies ToWorker);
            if (--live === 0) resolve();
          }
        };
        worker.on('message', (msg: FromWorker) => {
          if (msg.type === 'ready') feed();
          else if (msg.type === 'init-error') fail(new InputError(msg.message));
          else {
            results[msg.id] = msg.out;
            feed();
          }
        });
        worker.on('error', fail);
        worker.on('exit', (code) => {
          if (code !== 0 && !failed && next <= blocks.length && results.some((r) => r === undefined)) fail(new Error(`population worker exited with code ${code}`));
        });
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}

// ---------------------------------------------------------------------------------------------------------
// Public entry point
// ---------------------------------------------------------------------------------------------------------

function quantileSorted(sorted: Float64Array, m: number, q: number): number {
  if (m === 0) return NaN;
  const pos = (m - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, m - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Simulate `subjects` of one scenario. The scenario is validated (InputError) and compiled once; a subject
 * that cannot be solved is reported in `failures` (its values are NaN) instead of failing the population.
 */
export async function simulatePopulation(opts: PopulationOptions): Promise<PopulationResult> {
  const started = performance.now();
  const P = prepare(opts.scenario, opts.states); // validates in this thread (clear errors), also gives times
  const names = opts.states ?? P.prep.model.stateNames;
  const N = opts.subjects.length;
  const nT = P.nT;
  const blocks: BlockOutput[] = [];
  let done = 0;
  let nWorkers: number;
  if (opts.workers !== undefined) nWorkers = Math.max(1, Math.min(Math.floor(opts.workers), N));
  else {
    const cores = defaultWorkers();
    nWorkers = 1;
    if (cores > 1 && N > PROBE_SUBJECTS) {
      const t0 = performance.now();
      blocks.push(solveBlock(P, 0, opts.subjects.slice(0, PROBE_SUBJECTS)));
      done = PROBE_SUBJECTS;
      const perSubject = (performance.now() - t0) / PROBE_SUBJECTS;
      const rest = (N - done) * perSubject;
      // worth it when the time saved by `cores` threads exceeds the startup of the pool, with margin
      if (rest - rest / cores > 2 * WORKER_STARTUP_MS) nWorkers = Math.min(cores, N - done);
    }
  }
  const remaining = opts.subjects.slice(done);
  if (remaining.length) {
    if (nWorkers > 1) {
      const chunkSize = opts.chunkSize ?? Math.max(1, Math.ceil(remaining.length / (nWorkers * 8)));
      blocks.push(...await runPool(opts.scenario, opts.states, remaining, done, nWorkers, chunkSize));
    } else blocks.push(solveBlock(P, done, remaining));
  }

  // Assemble state-major matrices [subject][time].
  const all = names.map(() => new Float64Array(N * nT));
  const failures: PopulationResult['failures'] = [];
  let steps = 0;
  let rhsEvaluations = 0;
  let solveMs = 0;
  for (const b of blocks) {
    solveMs += b.ms;
    if (!b.indices.length) continue;
    const first = b.indices[0];
    b.data.forEach((d, q) => all[q].set(d, first * nT));
    failures.push(...b.failures);
    steps += b.steps;
    rhsEvaluations += b.rhsEvaluations;
  }
  failures.sort((a, b) => a.index - b.index);

  const keep = opts.keepSubjects ?? (opts.quantiles ? false : true);
  const nKeep = keep === true ? N : keep === false ? 0 : Math.min(N, Math.max(0, Math.floor(keep)));
  const subjects: SubjectResult[] = [];
  for (let j = 0; j < nKeep; j++) {
    const states: Record<string, Float64Array> = {};
    names.forEach((s, q) => (states[s] = all[q].slice(j * nT, (j + 1) * nT)));
    subjects.push({ index: j, states });
  }

  let summary: PopulationSummary | undefined;
  if (opts.quantiles && opts.quantiles.length) {
    const qs = opts.quantiles;
    for (const q of qs) if (!(q >= 0 && q <= 1)) throw new InputError('quantiles must be in [0, 1]', ['quantiles']);
    const values: PopulationSummary['values'] = {};
    const mean: PopulationSummary['mean'] = {};
    const col = new Float64Array(N);
    names.forEach((s, q) => {
      const per = qs.map(() => new Float64Array(nT));
      const mu = new Float64Array(nT);
      const M = all[q];
      for (let k = 0; k < nT; k++) {
        let m = 0;
        let sum = 0;
        for (let j = 0; j < N; j++) {
          const v = M[j * nT + k];
          if (!Number.isNaN(v)) {
            col[m++] = v;
            sum += v;
          }
        }
        const sorted = col.subarray(0, m).sort();
        qs.forEach((qq, r) => (per[r][k] = quantileSorted(sorted, m, qq)));
        mu[k] = m ? sum / m : NaN;
      }
      values[s] = per;
      mean[s] = mu;
    });
    summary = { quantiles: qs, values, mean };
  }

  return {
    times: Array.from(P.prep.times),
    states: names,
    subjects,
    ...(summary ? { summary } : {}),
    failures,
    stats: { subjects: N, solved: N - failures.length, workers: nWorkers, ms: performance.now() - started, solveMs, steps, rhsEvaluations },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Seeded sampling of log-normal inter-individual variability
// ---------------------------------------------------------------------------------------------------------

/**
 * Subjects with parameter q_i = typical_q * exp(eta), eta ~ N(0, omega_q^2) independent, from a fixed seed.
 * `typical` gives the typical values (e.g. the model defaults merged with the scenario's parameters).
 */
export function lognormalSubjects(n: number, typical: Record<string, number>, omega: Record<string, number>, seed = 1): PopulationSubject[] {
  const z = normalSampler(mulberry32(seed));
  const names = Object.keys(omega);
  for (const k of names) if (!(k in typical)) throw new InputError(`no typical value for '${k}'`, ['omega', k]);
  const out: PopulationSubject[] = [];
  for (let i = 0; i < n; i++) {
    const parameters: Record<string, number> = {};
    for (const k of names) parameters[k] = typical[k] * Math.exp(omega[k] * z());
    out.push({ parameters });
  }
  return out;
}
