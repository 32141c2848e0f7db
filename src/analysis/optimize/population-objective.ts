// Schedules for a population, not one patient: the schedule search of optimize.ts's request (drugs with
// fixed / ranged / set choices of amount, interval, count and start) scored on a virtual population
// (population-request.ts) by a population objective — the probability of objective response, the expected
// log tumor ratio ln(final / baseline), or a percentile of the tumor ratio — under constraints stated on
// population percentiles of exposure (e.g. the 95th percentile of Cmax below a limit).
//
// Common random numbers: every candidate is simulated on the same virtual subjects (subject i's η and
// covariates depend only on (seed, i)), so a difference between two candidates is a difference of
// schedules, not of sampled patients.
import { z } from 'zod';
import { OptimizeRequest } from './schema.ts';
import { InputError, fromZodIssues, type Issue } from '../../errors.ts';
import { mulberry32 } from '../../numerics/random.ts';
import { latinHypercube } from '../../numerics/sampling.ts';
import { nelderMead } from '../../numerics/nelder-mead.ts';
import { dosesOf, type Field, type ScheduleEntry, type Variable } from './schedule.ts';
import { resolveModel } from '../../model/library.ts';
import { PopulationRequest, parsePopulationRequest } from '../population-request.ts';
import { resolvePopulation, populationChunk, quantileSorted } from '../population.ts';

export const POPULATION_OPTIMIZE_LIMITS = { solves: 50_000 };

const percentileLimit = z.strictObject({
  /** Percentile of the population (0–100), e.g. 95. */
  percentile: z.number().min(0).max(100),
  max: z.number().min(0).refine(Number.isFinite, 'max must be finite'),
});

const base = OptimizeRequest.pick({
  model: true,
  parameters: true,
  initial: true,
  preset: true,
  weight: true,
  solver: true,
  horizon: true,
  step: true,
  doses: true,
  therapies: true,
  drugs: true,
});

export const PopulationOptimizeRequest = base.extend({
  /** The virtual population every candidate is simulated on (the same subjects for all candidates). */
  population: PopulationRequest.shape.population.pick({
    n: true,
    seed: true,
    omega: true,
    distributions: true,
    covariates: true,
  }),
  objective: z.discriminatedUnion('kind', [
    /** Maximize P(confirmed CR or PR by RECIST 1.1). */
    z.strictObject({ kind: z.literal('responseProbability'), confirmed: z.boolean().default(true) }),
    /** Minimize E[ln(final / baseline)] of the tumor series. */
    z.strictObject({ kind: z.literal('meanLogTumorRatio') }),
    /** Minimize a percentile (0–100) of final / baseline (e.g. 90: the worst-off tenth of patients). */
    z.strictObject({ kind: z.literal('tumorPercentile'), percentile: z.number().min(0).max(100).default(90) }),
  ]),
  constraints: z
    .strictObject({
      /** Per drug (a key of the model's roles.drugs): a percentile of Cmax over the population at most `max`. */
      cmax: z.record(z.string().max(64), percentileLimit).default({}),
      /** Per drug (a key of the model's roles.drugs): a percentile of AUC over the population at most `max`. */
      auc: z.record(z.string().max(64), percentileLimit).default({}),
    })
    .default({ cmax: {}, auc: {} }),
  search: z
    .strictObject({
      seed: z.number().int().default(1),
      candidates: z.number().int().min(1).max(500).default(16),
      /** Nelder–Mead evaluations refining the best candidate's continuous choices. */
      refineEvaluations: z.number().int().min(0).max(200).default(0),
    })
    .default({ seed: 1, candidates: 16, refineEvaluations: 0 }),
  table: z.number().int().min(1).max(500).default(20),
});
export type PopulationOptimizeRequest = z.infer<typeof PopulationOptimizeRequest>;

export interface PopulationCandidate {
  schedule: ScheduleEntry[];
  /** Minimized: −P(response) for responseProbability. */
  objective: number;
  /** The population quantity itself (a probability, a mean log ratio or a percentile) and its Monte Carlo SE where defined. */
  value: number;
  se: number | null;
  feasible: boolean;
  /** Relative excess over each violated percentile limit. */
  violations: Record<string, number>;
  /** The constrained percentiles. */
  exposure: Record<string, number>;
  solved: number;
}

function variables(req: PopulationOptimizeRequest, issues: Issue[]) {
  const fixed: Partial<Record<Field, number>>[] = req.drugs.map(() => ({}));
  const vars: Variable[] = [];
  req.drugs.forEach((d, i) => {
    for (const f of ['amount', 'interval', 'count', 'start'] as Field[]) {
      const c = d[f];
      if (c === undefined) continue;
      if (typeof c === 'number') fixed[i][f] = c;
      else if ('values' in c)
        vars.push({
          drug: i,
          field: f,
          values: [...new Set(c.values)].sort((a, b) => a - b),
          min: Math.min(...c.values),
          max: Math.max(...c.values),
        });
      else if (!(c.max >= c.min)) issues.push({ path: ['drugs', i, f, 'max'], message: 'max must be >= min' });
      else if (c.step !== undefined || f === 'count') {
        const step = c.step ?? 1;
        const first = f === 'count' ? Math.max(1, Math.ceil(c.min)) : c.min;
        const n = Math.floor((c.max - first) / step + 1e-9) + 1;
        if (n > 500) issues.push({ path: ['drugs', i, f], message: `too many allowed values (${n}; at most 500)` });
        else
          vars.push({
            drug: i,
            field: f,
            values: Array.from({ length: n }, (_, k) => +(first + k * step).toPrecision(12)),
            min: first,
            max: first + (n - 1) * step,
          });
      } else vars.push({ drug: i, field: f, values: null, min: c.min, max: c.max });
    }
  });
  return { fixed, vars };
}

/**
 * The global phase: every discrete combination when there are few enough and no continuous choice, else a
 * seeded sample of the discrete choices with the continuous ones on a Latin hypercube.
 */
function candidatePoints(vars: Variable[], search: { seed: number; candidates: number }): number[][] {
  const discrete = vars.map((v, k) => (v.values ? k : -1)).filter((k) => k >= 0);
  const continuous = vars.map((v, k) => (v.values ? -1 : k)).filter((k) => k >= 0);
  const product = discrete.reduce((p, k) => p * vars[k].values!.length, 1);
  const points: number[][] = [];
  if (product <= search.candidates && continuous.length === 0) {
    const idx = new Array(discrete.length).fill(0);
    for (let c = 0; c < product; c++) {
      points.push(vars.map((v, k) => v.values![idx[discrete.indexOf(k)]]));
      for (let q = 0; q < idx.length; q++) {
        if (++idx[q] < vars[discrete[q]].values!.length) break;
        idx[q] = 0;
      }
    }
    return points;
  }
  const rnd = mulberry32(search.seed);
  const lhs = latinHypercube(search.candidates, Math.max(1, continuous.length), search.seed);
  for (let c = 0; c < search.candidates; c++) {
    const vals = vars.map((v) => (v.values ? v.values[Math.floor(rnd() * v.values.length)] : 0));
    continuous.forEach((k, q) => (vals[k] = vars[k].min + lhs[c][q] * (vars[k].max - vars[k].min)));
    points.push(vals);
  }
  return points;
}

/**
 * A candidate schedule's score from its subjects' metrics: the objective (response probability with its
 * binomial SE, mean log tumor ratio with its SE, or a tumor-ratio percentile) and the population percentiles
 * of Cmax/AUC against their limits.
 */
function scoreCandidate(
  req: PopulationOptimizeRequest,
  schedule: PopulationCandidate['schedule'],
  metrics: Record<string, unknown>[],
): PopulationCandidate {
  const { objective, constraints } = req;
  const n = metrics.length;
  let value = NaN;
  let se: number | null = null;
  if (objective.kind === 'responseProbability') {
    // Subjects whose baseline is not measurable (RECIST NE) are not evaluable: left out of the denominator.
    const key = objective.confirmed ? 'confirmedBestOverallResponse' : 'bestOverallResponse';
    const ev = metrics.filter((m) => typeof m[key] === 'string' && m[key] !== 'NE');
    if (!ev.length && n)
      throw new InputError(
        'no subject is evaluable by RECIST 1.1 (every baseline diameter is below 10 mm, or not finite)',
        ['objective'],
      );
    value = ev.filter((m) => m[key] === 'CR' || m[key] === 'PR').length / ev.length;
    se = Math.sqrt((value * (1 - value)) / ev.length);
  } else {
    const ratios = metrics
      .map((m) =>
        typeof m.final === 'number' && typeof m.baseline === 'number' && m.baseline > 0
          ? Math.max(m.final, 1e-12 * m.baseline) / m.baseline
          : NaN,
      )
      .filter(Number.isFinite);
    if (!ratios.length && n)
      throw new InputError('no subject has a positive, finite tumor baseline (roles.tumor series at time 0)', [
        'objective',
      ]);
    if (objective.kind === 'meanLogTumorRatio') {
      const logs = ratios.map(Math.log);
      value = logs.reduce((a, b) => a + b, 0) / logs.length;
      se =
        logs.length > 1
          ? Math.sqrt(logs.reduce((a, b) => a + (b - value) ** 2, 0) / (logs.length - 1) / logs.length)
          : null;
    } else
      value = quantileSorted(
        ratios.sort((a, b) => a - b),
        objective.percentile / 100,
      );
  }
  const violations: Record<string, number> = {};
  const exposure: Record<string, number> = {};
  for (const kind of ['cmax', 'auc'] as const) {
    for (const [drug, lim] of Object.entries(constraints[kind])) {
      const field = kind === 'cmax' ? 'Cmax' : 'AUC';
      // The drug is declared (checked above); metrics leave it out of a subject whose concentration never
      // rose above 0 (e.g. a zero amount), whose Cmax and AUC are therefore 0.
      const xs = metrics
        .map((m) => (m.drugs as Record<string, Record<string, number>> | undefined)?.[drug]?.[field] ?? 0)
        .sort((a, b) => a - b);
      const v = quantileSorted(xs, lim.percentile / 100);
      exposure[`${kind}.${drug}.p${lim.percentile}`] = v;
      if (v > lim.max * (1 + 1e-9) + 1e-12) violations[`${kind}.${drug}`] = lim.max > 0 ? v / lim.max - 1 : Infinity;
    }
  }
  return {
    schedule,
    objective: n ? (objective.kind === 'responseProbability' ? -value : value) : Infinity,
    value,
    se,
    feasible: Object.keys(violations).length === 0 && n > 0,
    violations,
    exposure,
    solved: n,
  };
}

/**
 * The search variables of a request, after the checks that need no solve: the number of solves, and the
 * model's roles that the objective and constraints read (Contract 1). Throws an InputError naming each field.
 */
function checkRequest(req: PopulationOptimizeRequest) {
  const issues: Issue[] = [];
  const { fixed, vars } = variables(req, issues);
  const maxCandidates = req.search.candidates + req.search.refineEvaluations + 1;
  if (req.population.n * maxCandidates > POPULATION_OPTIMIZE_LIMITS.solves) {
    issues.push({
      path: ['population', 'n'],
      message: `${req.population.n} subjects × up to ${maxCandidates} candidates = ${req.population.n * maxCandidates} solves (at most ${POPULATION_OPTIMIZE_LIMITS.solves})`,
    });
  }
  // What the objective and constraints read comes from the model's roles (Contract 1), checked before any solve.
  const model = resolveModel(req.model as string | Record<string, unknown>, ['model']);
  const roles = model.spec.roles;
  if (!roles?.tumor) {
    issues.push({
      path: ['objective'],
      message: `the objective needs the model's tumor series, and model '${model.id}' declares none (roles.tumor)`,
    });
  }
  const declared = Object.keys(roles?.drugs ?? {});
  for (const kind of ['cmax', 'auc'] as const) {
    for (const drug of Object.keys(req.constraints[kind])) {
      if (!declared.includes(drug)) {
        issues.push({
          path: ['constraints', kind, drug],
          message: `no exposure metrics for drug '${drug}': model '${model.id}' declares ${declared.length ? `roles.drugs ${declared.join(', ')}` : 'no roles.drugs'}`,
        });
      }
    }
  }
  if (issues.length) throw new InputError(issues);
  return { fixed, vars };
}

/** Search points → schedules (one entry per drug: fixed values, else the point's); schedule.ts dosesOf gives their doses. */
function scheduleBuilder(
  req: PopulationOptimizeRequest,
  fixed: ReturnType<typeof variables>['fixed'],
  vars: Variable[],
) {
  const H = req.horizon;
  const names = req.drugs.map((d) => d.name ?? d.target);
  const scheduleOf = (vals: number[]) =>
    req.drugs.map((d, i) => {
      const get = (f: Field) => {
        const k = vars.findIndex((v) => v.drug === i && v.field === f);
        return k >= 0 ? vals[k] : fixed[i][f];
      };
      const start = get('start') ?? 0;
      const interval = get('interval');
      let count = get('count') ?? (interval !== undefined ? Math.floor((H - start) / interval + 1e-9) + 1 : 1);
      count = Math.max(1, Math.round(count));
      return {
        drug: names[i],
        target: d.target,
        amount: get('amount') ?? 0,
        perKg: d.perKg,
        ...(interval !== undefined ? { interval } : {}),
        count,
        start,
      };
    });
  return scheduleOf;
}

export function optimizePopulationSchedule(input: unknown) {
  const started = performance.now();
  const parsed = PopulationOptimizeRequest.safeParse(input);
  if (!parsed.success) throw new InputError(fromZodIssues(parsed.error.issues));
  const req = parsed.data;
  const H = req.horizon;
  const { fixed, vars } = checkRequest(req);
  const scheduleOf = scheduleBuilder(req, fixed, vars);

  const { population } = req;
  const scenario = {
    model: req.model,
    parameters: req.parameters,
    initial: req.initial,
    ...(req.preset !== undefined ? { preset: req.preset } : {}),
    weight: req.weight,
    solver: req.solver,
    times: { start: 0, end: H, step: req.step ?? H / 100 },
  };
  let solves = 0;
  const cache = new Map<string, PopulationCandidate>();
  const evaluate = (vals: number[]): PopulationCandidate => {
    const schedule = scheduleOf(vals);
    const key = JSON.stringify(schedule);
    const hit = cache.get(key);
    if (hit) return hit;
    const request = parsePopulationRequest({
      ...scenario,
      doses: [...req.doses, ...dosesOf(schedule)],
      therapies: req.therapies,
      population: { ...population, response: {} },
    });
    const part = populationChunk(resolvePopulation(request), 0, population.n);
    solves += population.n;
    const metrics = part.subjects.map((s) => s.arms[0].metrics).filter((m): m is Record<string, unknown> => !!m);
    const ev = scoreCandidate(req, schedule, metrics);
    cache.set(key, ev);
    return ev;
  };
  const violation = (c: PopulationCandidate) => Object.values(c.violations).reduce((a, b) => a + b, 0);
  const better = (a: PopulationCandidate, b: PopulationCandidate) =>
    a.feasible !== b.feasible ? a.feasible : a.feasible ? a.objective < b.objective : violation(a) < violation(b);

  const points = candidatePoints(vars, req.search);
  const continuous = vars.map((v, k) => (v.values ? -1 : k)).filter((k) => k >= 0);
  if (!points.length) points.push([]);
  const evaluated = new Map<PopulationCandidate, number[]>();
  for (const p of points) {
    const c = evaluate(p);
    if (!evaluated.has(c)) evaluated.set(c, p);
  }
  const rank = () => [...evaluated.keys()].sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
  if (continuous.length && req.search.refineEvaluations > 0) {
    const p = evaluated.get(rank()[0])!;
    const toVals = (u: number[]) => {
      const vals = [...p];
      continuous.forEach(
        (k, q) => (vals[k] = vars[k].min + Math.min(1, Math.max(0, u[q])) * (vars[k].max - vars[k].min)),
      );
      return vals;
    };
    nelderMead(
      (u) => {
        const c = evaluate(toVals(u));
        if (!evaluated.has(c)) evaluated.set(c, toVals(u));
        const pen = u.reduce((s, v) => s + Math.max(0, -v, v - 1), 0);
        return Number.isFinite(c.objective) ? c.objective + 1e3 * violation(c) + 1e3 * pen : 1e300;
      },
      continuous.map((k) => (p[k] - vars[k].min) / (vars[k].max - vars[k].min || 1)),
      req.search.refineEvaluations,
    );
  }
  const all = rank();
  return {
    best: { ...all[0], doses: dosesOf(all[0].schedule) },
    table: all.slice(0, req.table).map((c, i) => ({ rank: i + 1, ...c })),
    candidates: all.length,
    subjects: population.n,
    solves,
    seed: population.seed,
    ms: performance.now() - started,
  };
}

/** A schedule request with `population` is optimized on the virtual population, else for one patient. */
export function isPopulationOptimizeRequest(input: unknown): boolean {
  return typeof input === 'object' && input !== null && Object.hasOwn(input, 'population');
}
