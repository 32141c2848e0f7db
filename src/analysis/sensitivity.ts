// Sensitivity of a scenario (POST /api/sensitivity, `immunopd sensitivity`). method 'local' (default): for
// each parameter, the normalized sensitivity S = (∂M/M) / (∂p/p) of a response M, by central differences
// p·(1 ± h), ranked by |S|. method 'sobol' / 'morris': global sensitivity over declared ranges (gsa/sobol.ts,
// gsa/morris.ts). The response is a response metric of the result (e.g. tumorAUC, nadir, final) or a series
// (state or output) at a time.
import { z } from 'zod';
import { seedField } from '../zod-fields.ts';
import { userKey, ownValue, assertNoReservedKeys } from '../keys.ts';
import { Scenario } from '../scenario/schema.ts';
import { InputError, fromZodIssues } from '../errors.ts';
import {
  prepareScenario,
  simulate,
  solvePrepared,
  initialState,
  buildResult,
  metricsGrid,
  checkSimulationBudget,
} from '../simulate.ts';
import { normalQuantile } from '../numerics/linalg.ts';
import { sobolIndices } from './gsa/sobol.ts';
import { morrisIndices } from './gsa/morris.ts';

export const SENSITIVITY_LIMITS = { parameters: 100, evaluations: 200_000, bootstrap: 2000 };

const finiteNum = (what: string) => z.number().refine(Number.isFinite, `${what} must be finite`);
export const ParameterRange = z
  .strictObject({
    lower: finiteNum('lower'),
    upper: finiteNum('upper'),
    /** uniform (default) or log-uniform on [lower, upper]; normal / lognormal with [lower, upper] as the 2.5 % and 97.5 % quantiles. */
    distribution: z.enum(['uniform', 'loguniform', 'normal', 'lognormal']).default('uniform'),
  })
  .superRefine((r, ctx) => {
    if (!(r.upper > r.lower)) ctx.addIssue({ code: 'custom', path: ['upper'], message: 'upper must be > lower' });
    if ((r.distribution === 'loguniform' || r.distribution === 'lognormal') && !(r.lower > 0))
      ctx.addIssue({ code: 'custom', path: ['lower'], message: `a ${r.distribution} range needs lower > 0` });
  });
export type ParameterRange = z.infer<typeof ParameterRange>;

/** A point of the unit interval mapped to a parameter value by its declared distribution. */
export function fromUnit(r: ParameterRange, u: number): number {
  const z975 = 1.959963984540054;
  switch (r.distribution) {
    case 'uniform':
      return r.lower + (r.upper - r.lower) * u;
    case 'loguniform':
      return Math.exp(Math.log(r.lower) + (Math.log(r.upper) - Math.log(r.lower)) * u);
    case 'normal':
      return (r.lower + r.upper) / 2 + ((r.upper - r.lower) / (2 * z975)) * normalQuantile(u);
    case 'lognormal': {
      const a = Math.log(r.lower);
      const b = Math.log(r.upper);
      return Math.exp((a + b) / 2 + ((b - a) / (2 * z975)) * normalQuantile(u));
    }
  }
}

export const SensitivityRequest = Scenario.extend({
  sensitivity: z
    .strictObject({
      /** Parameters to perturb (default: every parameter with a non-zero value, at most 100). */
      parameters: z.array(userKey.max(64)).min(1).max(SENSITIVITY_LIMITS.parameters).optional(),
      /** The response: a numeric response metric, or a series at a time (default: the last output time). */
      response: z
        .union([
          z.strictObject({ metric: userKey.max(64) }),
          z.strictObject({
            series: userKey.max(64),
            time: z.number().refine(Number.isFinite, 'time must be finite').optional(),
          }),
        ])
        .default({ metric: 'tumorAUC' }),
      /** Relative perturbation h (local). */
      step: z.number().gt(0).lt(0.5).default(0.01),
      method: z.enum(['local', 'sobol', 'morris']).default('local'),
      /** Global methods: the parameters varied and their ranges. */
      ranges: z.record(z.string().max(64), ParameterRange).optional(),
      /** Sobol: base sample size N (N·(d + 2) solves); Morris: trajectories r (r·(d + 1) solves). */
      samples: z.number().int().min(2).max(SENSITIVITY_LIMITS.evaluations).optional(),
      seed: seedField(),
      /** Sobol: bootstrap resamples for the confidence intervals, and their level. */
      bootstrap: z.number().int().min(0).max(SENSITIVITY_LIMITS.bootstrap).default(200),
      level: z.number().gt(0).lt(1).default(0.95),
      /** Sobol: quasi-random (default) or independent random base samples. */
      sampling: z.enum(['qmc', 'random']).default('qmc'),
      /** Morris: grid levels p. */
      levels: z.number().int().min(2).max(20).default(4),
    })
    .superRefine((o, ctx) => {
      if (o.method !== 'local' && !o.ranges)
        ctx.addIssue({
          code: 'custom',
          path: ['ranges'],
          message: `method '${o.method}' needs ranges: { name: { lower, upper } }`,
        });
      if (o.method !== 'local' && o.ranges && !Object.keys(o.ranges).length)
        ctx.addIssue({ code: 'custom', path: ['ranges'], message: 'give at least one range' });
      if (o.method !== 'local' && o.parameters)
        ctx.addIssue({
          code: 'custom',
          path: ['parameters'],
          message: `method '${o.method}' varies the parameters named in ranges`,
        });
      if (o.method === 'local' && o.ranges)
        ctx.addIssue({ code: 'custom', path: ['ranges'], message: "ranges are for method 'sobol' or 'morris'" });
    })
    .default({
      response: { metric: 'tumorAUC' },
      step: 0.01,
      method: 'local',
      seed: 1,
      bootstrap: 200,
      level: 0.95,
      sampling: 'qmc',
      levels: 4,
    }),
});
export type SensitivityRequest = z.infer<typeof SensitivityRequest>;

export interface SensitivityResult {
  model: string;
  response: string;
  /** The response at the nominal parameters. */
  value: number;
  /** Ranked by |normalized|. */
  parameters: {
    name: string;
    value: number;
    normalized: number | null;
    derivative: number;
    low: number;
    high: number;
  }[];
  solves: number;
  ms: number;
}

export interface GlobalSensitivityResult {
  model: string;
  method: 'sobol' | 'morris';
  response: string;
  /** Sobol: S1, ST and their bootstrap intervals; Morris: μ, μ*, σ (per unit of the range's width for uniform ranges). */
  indices: Record<
    string,
    | { S1: number; ST: number; S1ci: [number, number] | null; STci: [number, number] | null }
    | { mu: number; muStar: number; sigma: number }
  >;
  /** Sobol: mean and variance of the response over the base samples. */
  mean?: number;
  variance?: number;
  samples: number;
  solves: number;
  /** Rows (Sobol) or trajectories (Morris) left out because a solve failed or the response was not finite. */
  dropped: number;
  ms: number;
}

export function sensitivity(
  input: unknown,
  progress?: (done: number, total: number) => void,
): SensitivityResult | GlobalSensitivityResult {
  const started = performance.now();
  assertNoReservedKeys(input);
  const parsed = SensitivityRequest.safeParse(input);
  if (!parsed.success) throw new InputError(fromZodIssues(parsed.error.issues));
  if (parsed.data.sensitivity.method !== 'local') return globalSensitivity(parsed.data, started, progress);
  const { sensitivity: opts, ...scenario } = parsed.data;
  const prep = prepareScenario(scenario);
  checkSimulationBudget(prep);
  const model = prep.model;
  const names =
    opts.parameters ??
    model.paramNames.filter((n) => prep.params[model.paramIndex.get(n)!] !== 0).slice(0, SENSITIVITY_LIMITS.parameters);
  names.forEach((n, k) => {
    if (!model.paramIndex.has(n))
      throw new InputError(`'${n}' is not a parameter of model '${model.id}'`, ['sensitivity', 'parameters', k]);
    if (prep.params[model.paramIndex.get(n)!] === 0)
      throw new InputError(`'${n}' is 0: a relative perturbation does not move it`, ['sensitivity', 'parameters', k]);
  });
  const r = opts.response;
  const label = 'metric' in r ? r.metric : `${r.series} at t = ${r.time ?? prep.times[prep.times.length - 1]}`;
  const responseOf = (result: ReturnType<typeof simulate>): number => {
    if ('metric' in r) {
      const v = ownValue(result.metrics, r.metric);
      if (typeof v !== 'number')
        throw new InputError(
          `'${r.metric}' is not a numeric response metric of this result (have: ${Object.keys(result.metrics)
            .filter((k) => typeof result.metrics[k] === 'number')
            .join(', ')})`,
          ['sensitivity', 'response', 'metric'],
        );
      return v;
    }
    const col = ownValue(result.outputs, r.series) ?? ownValue(result.states, r.series);
    if (!col)
      throw new InputError(`'${r.series}' is neither a state nor an output`, ['sensitivity', 'response', 'series']);
    const t = r.time ?? result.times[result.times.length - 1];
    const k = result.times.indexOf(t);
    if (k < 0)
      throw new InputError(`time ${t} is not an output time of the scenario`, ['sensitivity', 'response', 'time']);
    return col[k];
  };
  const base = simulate(scenario);
  const value = responseOf(base);
  const out: SensitivityResult['parameters'] = [];
  for (const name of names) {
    const p0 = prep.params[model.paramIndex.get(name)!];
    const run = (f: number) =>
      responseOf(simulate({ ...scenario, parameters: { ...scenario.parameters, [name]: p0 * f } }));
    const low = run(1 - opts.step);
    const high = run(1 + opts.step);
    const derivative = (high - low) / (2 * opts.step * p0);
    // Undefined when the response is 0 at the nominal parameters (reported as null).
    const normalized = value !== 0 ? (high - low) / (2 * opts.step) / value : null;
    out.push({ name, value: p0, normalized, derivative, low, high });
  }
  out.sort((a, b) => Math.abs(b.normalized ?? 0) - Math.abs(a.normalized ?? 0));
  return {
    model: model.id,
    response: label,
    value,
    parameters: out,
    solves: 1 + 2 * names.length,
    ms: performance.now() - started,
  };
}

function globalSensitivity(
  request: SensitivityRequest,
  started: number,
  progress?: (done: number, total: number) => void,
): GlobalSensitivityResult {
  const { sensitivity: opts, ...scenario } = request;
  const method = opts.method as 'sobol' | 'morris';
  const ranges = opts.ranges!;
  const names = Object.keys(ranges);
  const d = names.length;
  const samples = opts.samples ?? (method === 'sobol' ? 1024 : 20);
  const solves = method === 'sobol' ? samples * (d + 2) : samples * (d + 1);
  if (d > SENSITIVITY_LIMITS.parameters)
    throw new InputError(`at most ${SENSITIVITY_LIMITS.parameters} ranges`, ['sensitivity', 'ranges']);
  if (solves > SENSITIVITY_LIMITS.evaluations) {
    throw new InputError(
      `${solves} solves (${method === 'sobol' ? 'samples × (parameters + 2)' : 'samples × (parameters + 1)'}; at most ${SENSITIVITY_LIMITS.evaluations})`,
      ['sensitivity', 'samples'],
    );
  }
  const prep = prepareScenario(scenario);
  const model = prep.model;
  const index = names.map((n) => {
    const j = model.paramIndex.get(n);
    if (j === undefined)
      throw new InputError(`'${n}' is not a parameter of model '${model.id}'`, ['sensitivity', 'ranges', n]);
    return j;
  });
  const r = opts.response;
  const sc = prep.scenario;
  let label: string;
  let read: (result: ReturnType<typeof buildResult>) => number;
  let grid = prep.times;
  if ('metric' in r) {
    if (!sc.metrics) throw new InputError('a metric response needs metrics: true', ['metrics']);
    label = r.metric;
    grid = metricsGrid(prep.times, prep.doses);
    // the metric must exist at the nominal parameters (a clear error rather than every sample dropped)
    const nominal = buildResult(prep, solvePrepared(prep, prep.params, prep.y0, grid), 0, prep.params, grid);
    if (typeof nominal.metrics[r.metric] !== 'number') {
      throw new InputError(
        `'${r.metric}' is not a numeric response metric of this result (have: ${Object.keys(nominal.metrics)
          .filter((k) => typeof nominal.metrics[k] === 'number')
          .join(', ')})`,
        ['sensitivity', 'response', 'metric'],
      );
    }
    read = (res) => (typeof res.metrics[r.metric] === 'number' ? (res.metrics[r.metric] as number) : NaN);
  } else {
    if (!model.stateIndex.has(r.series) && !model.outputNames.includes(r.series))
      throw new InputError(`'${r.series}' is neither a state nor an output`, ['sensitivity', 'response', 'series']);
    const t = r.time ?? prep.times[prep.times.length - 1];
    const k = Array.from(prep.times).indexOf(t);
    if (k < 0)
      throw new InputError(`time ${t} is not an output time of the scenario`, ['sensitivity', 'response', 'time']);
    label = `${r.series} at t = ${t}`;
    read = (res) => (Object.hasOwn(res.outputs, r.series) ? res.outputs[r.series] : res.states[r.series])[k];
  }
  // metrics are computed only when the response is a metric
  const solvePrep = 'metric' in r ? prep : { ...prep, scenario: { ...prep.scenario, metrics: false } };
  const f = (u: Float64Array): number => {
    const p = Float64Array.from(prep.params);
    for (let i = 0; i < d; i++) p[index[i]] = fromUnit(ranges[names[i]], u[i]);
    const y0 = initialState(model, p, sc.initial, sc.preset);
    const sol = solvePrepared(prep, p, y0, grid);
    return read(buildResult(solvePrep, sol, 0, p, grid));
  };
  const indices: GlobalSensitivityResult['indices'] = {};
  if (method === 'sobol') {
    const s = sobolIndices(
      f,
      d,
      { samples, seed: opts.seed, bootstrap: opts.bootstrap, level: opts.level, sampling: opts.sampling },
      progress,
    );
    names.forEach(
      (n, i) => (indices[n] = { S1: s.S1[i], ST: s.ST[i], S1ci: s.S1ci?.[i] ?? null, STci: s.STci?.[i] ?? null }),
    );
    return {
      model: model.id,
      method,
      response: label,
      indices,
      mean: s.mean,
      variance: s.variance,
      samples,
      solves,
      dropped: s.droppedRows,
      ms: performance.now() - started,
    };
  }
  const m = morrisIndices(f, d, { trajectories: samples, levels: opts.levels, seed: opts.seed }, progress);
  names.forEach((n, i) => (indices[n] = { mu: m.mu[i], muStar: m.muStar[i], sigma: m.sigma[i] }));
  return {
    model: model.id,
    method,
    response: label,
    indices,
    samples,
    solves,
    dropped: m.droppedTrajectories,
    ms: performance.now() - started,
  };
}
