// One output and memory budget for every kind of request (simulate, compare, population, sensitivity,
// fit, optimize), over the API and the CLI alike. Each cost is computed from the request alone (the
// output grid, the number of series, subjects, quantiles, arms), before any solve, and a request over
// budget is an InputError naming the field to change. Why the numbers are what they are: docs/api.md,
// "Limits".
import { InputError, type Path } from './errors.ts';
import { LIMITS } from './scenario/schema.ts';
import { getModel } from './model/library.ts';

export const BUDGET = {
  /**
   * Numbers in one response. 4,000,000 = the finest grid (100,000 output times) times 40 columns, or a
   * year at 0.1-day steps for a 1,000-column model: more than a plot or a table can use. At most ~24
   * bytes per number as JSON ("-1.2345678901234567e-123,"), so a response is at most ~96 MB (typically
   * 10-12 bytes per number: ~45 MB).
   */
  outputValues: 4_000_000,
  /**
   * Estimated working memory of one request, bytes: typed arrays (solutions, per-subject trajectories)
   * plus the JS arrays and JSON text of the response. Typed arrays live outside the V8 heap, so the
   * worker's heap limit does not stop them: this estimate does. 512 MB leaves room for two requests
   * per worker (4 workers) on an 8 GB machine.
   */
  memoryBytes: 512 * 1024 * 1024,
};

/** Bytes per reported number while a response is built: a JS array slot (8) plus its JSON text (≤ 24). */
export const BYTES_PER_OUTPUT_VALUE = 32;
/** Bytes per number held in a Float64Array. */
export const BYTES_PER_TYPED_VALUE = 8;

export interface Cost {
  /** Numbers in the response. */
  values: number;
  /** Estimated bytes of working memory (typed arrays + response). */
  bytes: number;
  /** How the numbers come about, for the error message (e.g. "20 series x 10 columns x 100000 times"). */
  detail: string;
}

const mb = (b: number) => `${(b / 1048576).toFixed(0)} MB`;

/** Throw an InputError under `path` when `cost` is over budget. */
export function checkBudget(cost: Cost, path: Path, hint: string, budget = BUDGET): void {
  if (cost.values > budget.outputValues) {
    throw new InputError(
      `output too large: ${cost.detail} = ${cost.values} numbers (at most ${budget.outputValues} per response): ${hint}`,
      path,
    );
  }
  if (cost.bytes > budget.memoryBytes) {
    throw new InputError(
      `request too large: ${cost.detail} needs about ${mb(cost.bytes)} of memory (at most ${mb(budget.memoryBytes)} per request): ${hint}`,
      path,
    );
  }
}

/**
 * Output times of a time grid as given in a request (array or {start, end, step | points}), without
 * building it; the same count as simulate's outputGrid. Malformed grids count as 1 (validation reports them).
 */
export function gridPoints(times: unknown): number {
  if (Array.isArray(times)) return times.length;
  if (times === null || typeof times !== 'object') return 1;
  const g = times as { start?: unknown; end?: unknown; step?: unknown; points?: unknown };
  if (typeof g.points === 'number' && Number.isFinite(g.points)) return Math.max(1, Math.floor(g.points));
  const start = typeof g.start === 'number' ? g.start : 0;
  const end = typeof g.end === 'number' ? g.end : NaN;
  const span = end - start;
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const step = typeof g.step === 'number' && g.step > 0 ? g.step : span <= 1000 ? 1 : span / 1000;
  const n = Math.floor(span / step) + 2;
  return Number.isFinite(n) ? Math.min(n, Number.MAX_SAFE_INTEGER) : Number.MAX_SAFE_INTEGER;
}

/** States + outputs of a model reference (a library id or an inline model), from the request alone. */
export function modelColumns(ref: unknown): number {
  if (typeof ref === 'string') {
    try {
      const m = getModel(ref);
      return m.stateNames.length + m.outputNames.length;
    } catch {
      return 1; // an unknown id is reported by the request's validation
    }
  }
  if (ref === null || typeof ref !== 'object') return 1;
  const count = (v: unknown) => (v !== null && typeof v === 'object' ? Object.keys(v).length : 0);
  const r = ref as { states?: unknown; outputs?: unknown };
  return Math.max(1, count(r.states) + count(r.outputs));
}

/** One simulation: times x (time column + reported series); its solution rows are a typed array too. */
export function simulationCost(points: number, columns: number, states = columns): Cost {
  const values = points * (columns + 1);
  // Solution rows on the output grid refined for metrics (≤ points + 2,001 + dose instants), then the
  // reported series: typed rows + response.
  const bytes = (points + 2001) * states * BYTES_PER_TYPED_VALUE + values * BYTES_PER_OUTPUT_VALUE;
  return { values, bytes, detail: `${points} output times x ${columns + 1} columns` };
}

/**
 * A virtual population: every subject's trajectory of every summarised series is kept (typed arrays) to
 * take quantiles, and the response has one column per quantile plus the mean, per series.
 */
export function populationCost(subjects: number, points: number, series: number, quantiles: number): Cost {
  const values = points * series * (quantiles + 1) + points;
  const bytes = subjects * points * series * BYTES_PER_TYPED_VALUE + values * BYTES_PER_OUTPUT_VALUE;
  return {
    values,
    bytes,
    detail: `${subjects} subjects x ${series} series x ${points} output times (${quantiles} quantiles + mean)`,
  };
}

/** The largest |t| accepted anywhere (re-exported for callers that only need the budget module). */
export const MAX_TIME = LIMITS.maxTime;
