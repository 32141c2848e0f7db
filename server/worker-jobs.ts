// The solver worker: one job at a time from the pool (server/pool.ts). A job is a validated scenario; the
// reply is the serialized body (JSON or CSV, so the main thread never holds the numbers) and the metrics,
// or the error as plain data: InputError issues (400), SolveError reason and time reached (422).
import { parentPort } from 'node:worker_threads';
import { prepareScenario, simulate } from '../src/simulate.ts';
import { InputError, SolveError } from '../src/errors.ts';
import { resultToCsv, resultToJson } from '../src/results/csv.ts';
import { getModel, listModels } from '../src/model/library.ts';
import { fit } from '../src/analysis/fit/index.ts';
import { optimizeSchedule } from '../src/analysis/optimize/index.ts';
import { runPopulation } from '../src/analysis/population-request.ts';
import { sensitivity } from '../src/analysis/sensitivity.ts';

export interface SimulateJob {
  kind: 'simulate';
  scenario: unknown;
  format: 'json' | 'csv';
  /** CSV: the arm name, written as a first column. */
  arm?: string;
  /** Largest times x (states + outputs) accepted. */
  maxValues: number;
}
/** A fit (Contract 4), a schedule optimization or a virtual population: the request as received, validated in the worker. */
export interface AnalysisJob {
  kind: 'fit' | 'optimize' | 'population' | 'sensitivity';
  request: unknown;
}
/** Test hook (pool option allowTestJobs): busy-wait, ignoring every deadline. */
export interface SpinJob { kind: 'spin'; ms: number }
export type Job = SimulateJob | AnalysisJob | SpinJob;

export type JobError =
  | { type: 'input'; message: string; issues: { path: (string | number)[]; message: string }[]; total?: number }
  | { type: 'solve'; message: string; reason: string; timeReached: number | null }
  | { type: 'resources'; message: string }
  | { type: 'busy'; message: string }
  | { type: 'internal'; message: string };

export type Reply =
  | { ok: true; body: string; metrics: Record<string, unknown>; model: string }
  | { ok: false; error: JobError };

async function run(job: Job): Promise<Reply> {
  if (job.kind === 'spin') {
    const end = Date.now() + job.ms;
    while (Date.now() < end);
    return { ok: true, body: '{}', metrics: {}, model: '' };
  }
  if (job.kind !== 'simulate') {
    const result = job.kind === 'fit' ? fit(job.request)
      : job.kind === 'optimize' ? optimizeSchedule(job.request)
      : job.kind === 'sensitivity' ? sensitivity(job.request)
      : await runPopulation(job.request);
    return { ok: true, body: JSON.stringify(result), metrics: {}, model: '' };
  }
  // Check the size of the answer before solving (preparing is cheap: compiled models are cached), then
  // solve exactly as the library's simulate() does.
  const prep = prepareScenario(job.scenario);
  const select = prep.scenario.select;
  const series = select ? select.length : prep.model.stateNames.length + prep.model.outputNames.length;
  const values = prep.times.length * (series + 1);
  if (values > job.maxValues) {
    throw new InputError(`output too large: ${prep.times.length} times x ${series + 1} columns = ${values} numbers (at most ${job.maxValues} in this response): use a larger step, fewer points or 'select'`, ['times']);
  }
  const result = simulate(job.scenario);
  const body = job.format === 'csv'
    ? resultToCsv(result, job.arm !== undefined ? [{ name: 'arm', value: job.arm }] : [])
    : resultToJson(result);
  return { ok: true, body, metrics: result.metrics, model: result.model };
}

async function handle(job: Job): Promise<Reply> {
  try {
    return await run(job);
  } catch (e) {
    if (e instanceof InputError) return { ok: false, error: { type: 'input', message: e.message, issues: e.issues, total: e.total } };
    if (e instanceof SolveError) {
      return { ok: false, error: { type: 'solve', message: e.message, reason: e.reason, timeReached: Number.isFinite(e.timeReached) ? e.timeReached : null } };
    }
    if (e instanceof RangeError) return { ok: false, error: { type: 'resources', message: `the request exceeded the server's resources (${e.message})` } };
    console.error('immunopd worker: internal error:', e);
    return { ok: false, error: { type: 'internal', message: 'internal error' } };
  }
}

// Warm up: the library index and the default model compile before the first request.
try {
  const ids = listModels().map((m) => m.id);
  if (ids.includes('immunotherapy')) getModel('immunotherapy');
} catch {
  /* a broken model file shows up in the request that uses it */
}

parentPort!.on('message', async (msg: { id: number; job: Job }) => {
  parentPort!.postMessage({ id: msg.id, reply: await handle(msg.job) });
});
parentPort!.postMessage({ ready: true });
