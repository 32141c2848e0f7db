// Local sensitivity of a scenario (POST /api/sensitivity): for each parameter, the normalized sensitivity
// S = (∂M/M) / (∂p/p) of a response M, by central differences p·(1 ± h), ranked by |S|. The response is a
// response metric of the result (e.g. tumorAUC, nadir, final) or a series (state or output) at a time.
import { z } from 'zod';
import { userKey, ownValue, assertNoReservedKeys } from '../keys.ts';
import { Scenario } from '../scenario/schema.ts';
import { InputError, fromZodIssues } from '../errors.ts';
import { prepareScenario, simulate, checkSimulationBudget } from '../simulate.ts';

export const SENSITIVITY_LIMITS = { parameters: 100 };

export const SensitivityRequest = Scenario.extend({
  sensitivity: z.strictObject({
    /** Parameters to perturb (default: every parameter with a non-zero value, at most 100). */
    parameters: z.array(userKey.max(64)).min(1).max(SENSITIVITY_LIMITS.parameters).optional(),
    /** The response: a numeric response metric, or a series at a time (default: the last output time). */
    response: z.union([
      z.strictObject({ metric: userKey.max(64) }),
      z.strictObject({ series: userKey.max(64), time: z.number().refine(Number.isFinite, 'time must be finite').optional() }),
    ]).default({ metric: 'tumorAUC' }),
    /** Relative perturbation h. */
    step: z.number().gt(0).lt(0.5).default(0.01),
  }).default({ response: { metric: 'tumorAUC' }, step: 0.01 }),
});
export type SensitivityRequest = z.infer<typeof SensitivityRequest>;

export interface SensitivityResult {
  model: string;
  response: string;
  /** The response at the nominal parameters. */
  value: number;
  /** Ranked by |normalized|. */
  parameters: { name: string; value: number; normalized: number | null; derivative: number; low: number; high: number }[];
  solves: number;
  ms: number;
}

export function sensitivity(input: unknown): SensitivityResult {
  const started = performance.now();
  assertNoReservedKeys(input);
  const parsed = SensitivityRequest.safeParse(input);
  if (!parsed.success) throw new InputError(fromZodIssues(parsed.error.issues));
  const { sensitivity: opts, ...scenario } = parsed.data;
  const prep = prepareScenario(scenario);
  checkSimulationBudget(prep);
  const model = prep.model;
  const names = opts.parameters ?? model.paramNames.filter((n) => prep.params[model.paramIndex.get(n)!] !== 0).slice(0, SENSITIVITY_LIMITS.parameters);
  names.forEach((n, k) => {
    if (!model.paramIndex.has(n)) throw new InputError(`'${n}' is not a parameter of model '${model.id}'`, ['sensitivity', 'parameters', k]);
    if (prep.params[model.paramIndex.get(n)!] === 0) throw new InputError(`'${n}' is 0: a relative perturbation does not move it`, ['sensitivity', 'parameters', k]);
  });
  const r = opts.response;
  const label = 'metric' in r ? r.metric : `${r.series} at t = ${r.time ?? prep.times[prep.times.length - 1]}`;
  const responseOf = (result: ReturnType<typeof simulate>): number => {
    if ('metric' in r) {
      const v = ownValue(result.metrics, r.metric);
      if (typeof v !== 'number') throw new InputError(`'${r.metric}' is not a numeric response metric of this result (have: ${Object.keys(result.metrics).filter((k) => typeof result.metrics[k] === 'number').join(', ')})`, ['sensitivity', 'response', 'metric']);
      return v;
    }
    const col = ownValue(result.outputs, r.series) ?? ownValue(result.states, r.series);
    if (!col) throw new InputError(`'${r.series}' is neither a state nor an output`, ['sensitivity', 'response', 'series']);
    const t = r.time ?? result.times[result.times.length - 1];
    const k = result.times.indexOf(t);
    if (k < 0) throw new InputError(`time ${t} is not an output time of the scenario`, ['sensitivity', 'response', 'time']);
    return col[k];
  };
  const base = simulate(scenario);
  const value = responseOf(base);
  const out: SensitivityResult['parameters'] = [];
  for (const name of names) {
    const p0 = prep.params[model.paramIndex.get(name)!];
    const run = (f: number) => responseOf(simulate({ ...scenario, parameters: { ...scenario.parameters, [name]: p0 * f } }));
    const low = run(1 - opts.step);
    const high = run(1 + opts.step);
    const derivative = (high - low) / (2 * opts.step * p0);
    // Undefined when the response is 0 at the nominal parameters (reported as null).
    const normalized = value !== 0 ? (high - low) / (2 * opts.step) / value : null;
    out.push({ name, value: p0, normalized, derivative, low, high });
  }
  out.sort((a, b) => Math.abs(b.normalized ?? 0) - Math.abs(a.normalized ?? 0));
  return { model: model.id, response: label, value, parameters: out, solves: 1 + 2 * names.length, ms: performance.now() - started };
}
