// A virtual population as one request (POST /api/population): a scenario, the between-subject variability
// of some parameters (log-normal: p_i = p · exp(η), η ~ N(0, ω²), seeded), and the quantiles of chosen
// states or outputs over time. The zod schema is the request's single definition (validation and OpenAPI).
import { z } from 'zod';
import { userRecord, userKey, assertNoReservedKeys } from '../keys.ts';
import { Scenario } from '../scenario/schema.ts';
import { InputError, fromZodIssues } from '../errors.ts';
import { prepareScenario } from '../simulate.ts';
import { simulatePopulation, lognormalSubjects } from './population.ts';
import { checkBudget, gridPoints, modelColumns, populationCost } from '../limits.ts';

export const POPULATION_LIMITS = { subjects: 5_000, series: 20 };

export const PopulationRequest = Scenario.extend({
  population: z.strictObject({
    n: z.number().int().min(1).max(POPULATION_LIMITS.subjects, `at most ${POPULATION_LIMITS.subjects} subjects`),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
    /** ω per parameter: the standard deviation of η in p · exp(η). */
    omega: userRecord(z.number().min(0, 'omega must be >= 0').max(5, 'omega must be <= 5')),
    quantiles: z.array(z.number().gt(0).lt(1)).min(1).max(9).default([0.05, 0.5, 0.95]),
    /** States or outputs to summarise (default: `tumor` when the model has it, else every state). */
    series: z.array(userKey.max(64)).min(1).max(POPULATION_LIMITS.series).optional(),
  }),
});
export type PopulationRequest = z.infer<typeof PopulationRequest>;

export interface PopulationResponse {
  model: string;
  times: number[];
  quantiles: number[];
  /** series → { "q0.05": [...], ..., mean: [...] } over the output times. */
  summary: Record<string, Record<string, number[]>>;
  failures: { index: number; message: string }[];
  stats: { subjects: number; solved: number; ms: number; steps: number; rhsEvaluations: number };
}

/**
 * The output and memory budget of a population (src/limits.ts), from the request alone: subjects x series
 * x output times of kept trajectories, series x (quantiles + mean) x times reported.
 */
export function checkPopulationBudget(req: PopulationRequest): void {
  const p = req.population;
  const series = p.series?.length ?? modelColumns(req.model);
  checkBudget(populationCost(p.n, gridPoints(req.times), series, p.quantiles.length), ['population'], 'use fewer subjects, series, quantiles or output times');
}

/** Run a population request in this thread (the server already runs it in a solver worker). */
export async function runPopulation(input: unknown, workers = 0): Promise<PopulationResponse> {
  assertNoReservedKeys(input);
  const parsed = PopulationRequest.safeParse(input);
  if (!parsed.success) throw new InputError(fromZodIssues(parsed.error.issues));
  const { population, ...scenario } = parsed.data;
  checkPopulationBudget(parsed.data);
  const prep = prepareScenario(scenario);
  const typical: Record<string, number> = {};
  for (const name of Object.keys(population.omega)) {
    const j = prep.model.paramIndex.get(name);
    if (j === undefined) throw new InputError(`'${name}' is not a parameter of model '${prep.model.id}'`, ['population', 'omega', name]);
    typical[name] = prep.params[j];
  }
  const series = population.series ?? (prep.model.outputNames.includes('tumor') ? ['tumor'] : prep.model.stateNames);
  const r = await simulatePopulation({
    scenario,
    subjects: lognormalSubjects(population.n, typical, population.omega, population.seed),
    states: series,
    keepSubjects: false,
    quantiles: population.quantiles,
    workers,
  }).catch((e: unknown) => {
    // Names in `series` are checked by the population module under ['states', j].
    if (e instanceof InputError) throw new InputError(e.issues.map((i) => ({ path: i.path[0] === 'states' ? ['population', 'series', ...i.path.slice(1)] : i.path, message: i.message })));
    throw e;
  });
  const summary: PopulationResponse['summary'] = {};
  for (const name of r.states) {
    const entry: Record<string, number[]> = {};
    population.quantiles.forEach((q, k) => (entry[`q${q}`] = Array.from(r.summary!.values[name][k])));
    entry.mean = Array.from(r.summary!.mean[name]);
    summary[name] = entry;
  }
  return {
    model: prep.model.id,
    times: r.times,
    quantiles: population.quantiles,
    summary,
    failures: r.failures,
    stats: { subjects: r.stats.subjects, solved: r.stats.solved, ms: r.stats.ms, steps: r.stats.steps, rhsEvaluations: r.stats.rhsEvaluations },
  };
}
