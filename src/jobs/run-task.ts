// Running one task where it lands (a pool thread, or an `immunopd worker` process): the library does the
// work; typed errors become plain data (InputError → input/400, SolveError → solve/422, CancelledError).
import { gzipSync } from 'node:zlib';
import { prepareScenario, simulate } from '../simulate.ts';
import { simulateDataset, formatDatasetSimulation } from '../simulate-dataset.ts';
import { InputError, SolveError } from '../errors.ts';
import { resultToCsv, resultToJson } from '../results/csv.ts';
import { jobKind } from './kinds/index.ts';
import { CancelledError, type ChunkContext } from './kind.ts';
import type { Reply, Task, JobError } from './tasks.ts';

function simulateTask(task: Extract<Task, { type: 'simulate' }>): Reply {
  // A dataset: each subject with its own records (the model must be an id or inline, never a file path).
  if ((task.scenario as { dataset?: unknown }).dataset !== undefined) {
    const sim = simulateDataset(task.scenario);
    return { ok: true, body: formatDatasetSimulation(sim, task.format), metrics: {}, model: sim.result.model };
  }
  // Check the size of the answer before solving (preparing is cheap: compiled models are cached), then
  // solve exactly as the library's simulate() does.
  const prep = prepareScenario(task.scenario);
  const select = prep.scenario.select;
  const series = select ? select.length : prep.model.stateNames.length + prep.model.outputNames.length;
  const values = prep.times.length * (series + 1);
  if (values > task.maxValues) {
    throw new InputError(
      `output too large: ${prep.times.length} times x ${series + 1} columns = ${values} numbers (at most ${task.maxValues} in this response): use a larger step, fewer points or 'select'`,
      ['times'],
    );
  }
  const result = simulate(task.scenario);
  const body =
    task.format === 'csv'
      ? resultToCsv(result, task.arm !== undefined ? [{ name: 'arm', value: task.arm }] : [])
      : resultToJson(result);
  // Bytes for an HTTP answer: nothing else of the result crosses to the main thread (it only writes them).
  if (task.encoding)
    return { ok: true, body: '', metrics: {}, model: result.model, ...encodeBody(body, task.encoding) };
  return { ok: true, body, metrics: result.metrics, model: result.model };
}

/** Bodies smaller than this are sent as they are (as the HTTP compression middleware's threshold). */
export const GZIP_THRESHOLD_BYTES = 1024;
const utf8 = new TextEncoder();

/**
 * A body as bytes with its own whole ArrayBuffer (so the thread can transfer it): UTF-8, gzip-compressed
 * at level 1 when asked and worth it (per-request bodies of numbers compress about 2.7x at level 1, barely
 * better at higher levels, which cost several times the CPU).
 */
export function encodeBody(
  body: string,
  encoding: 'identity' | 'gzip',
): { bytes: Uint8Array; encoding: 'identity' | 'gzip' } {
  const raw = utf8.encode(body);
  if (encoding === 'identity' || raw.byteLength < GZIP_THRESHOLD_BYTES) return { bytes: raw, encoding: 'identity' };
  const z = gzipSync(raw, { level: 1 });
  const whole = z.byteOffset === 0 && z.byteLength === z.buffer.byteLength;
  return { bytes: whole ? new Uint8Array(z.buffer, 0, z.byteLength) : new Uint8Array(z), encoding: 'gzip' };
}

function kindOf(name: string) {
  const k = jobKind(name);
  if (!k) throw new InputError(`unknown job kind '${name}'`, ['kind']);
  return k;
}

async function run(task: Task, ctx: ChunkContext): Promise<Reply> {
  switch (task.type) {
    case 'spin': {
      const end = Date.now() + task.ms;
      while (Date.now() < end);
      return { ok: true, body: '{}', metrics: {}, model: '' };
    }
    case 'simulate':
      return simulateTask(task);
    case 'chunk': {
      const value = await kindOf(task.kind).runChunk(task.request, task.chunk, ctx);
      return { ok: true, body: '', metrics: {}, model: '', value };
    }
    case 'merge':
      return {
        ok: true,
        body: JSON.stringify(kindOf(task.kind).merge(task.request, task.partials, task.key, task.part)),
        metrics: {},
        model: '',
      };
  }
}

export function errorReply(e: unknown): { ok: false; error: JobError } {
  if (e instanceof InputError)
    return { ok: false, error: { type: 'input', message: e.message, issues: e.issues, total: e.total } };
  if (e instanceof SolveError) {
    return {
      ok: false,
      error: {
        type: 'solve',
        message: e.message,
        reason: e.reason,
        timeReached: Number.isFinite(e.timeReached) ? e.timeReached : null,
        timeStated: e.timeStated,
      },
    };
  }
  if (e instanceof CancelledError) return { ok: false, error: { type: 'cancelled', message: e.message } };
  if (e instanceof RangeError)
    return {
      ok: false,
      error: { type: 'resources', message: `the request exceeded the server's resources (${e.message})` },
    };
  console.error('immunopd worker: internal error:', e);
  return { ok: false, error: { type: 'internal', message: 'internal error' } };
}

export async function runTask(task: Task, ctx: ChunkContext): Promise<Reply> {
  try {
    return await run(task, ctx);
  } catch (e) {
    return errorReply(e);
  }
}
