// optimizeSchedule(): search dosing schedules for the best objective under constraints. A global phase
// over the discrete choices (every combination when there are few enough, else a seeded sample, with
// continuous choices on a Latin hypercube), then Nelder-Mead refinement of the continuous choices of the
// best candidates inside their bounds (constraint violations penalized). Every simulation is a full
// simulate() of the scenario with the candidate's doses, so metrics mean what they mean elsewhere.
import { ownValue, assertNoReservedKeys } from '../../keys.ts';
import { OptimizeRequest, type Choice, type DrugChoice } from './schema.ts';
import { simulate } from '../../simulate.ts';
import { InputError, SolveError, fromZodIssues, type Issue } from '../../errors.ts';
import type { Dose, SimulationResult } from '../../scenario/schema.ts';
import { mulberry32 } from '../../numerics/random.ts';
import { latinHypercube } from '../../numerics/sampling.ts';
import { resolveModel } from '../../model/library.ts';
import { checkBudget, gridPoints, modelColumns, simulationCost } from '../../limits.ts';
import { nelderMead } from '../../numerics/nelder-mead.ts';
import { dosesOf, type Field, type ScheduleEntry, type Variable } from './schedule.ts';

export { nelderMead };

export type { ScheduleEntry };

export interface Evaluated {
  schedule: ScheduleEntry[];
  objective: number;
  terms: { finalTumor: number; tumorAUC: number; timeToProgression: number };
  feasible: boolean;
  /** Relative excess over each violated limit. */
  violations: Record<string, number>;
  violation: number;
  summary: {
    final?: number;
    baseline?: number;
    tumorAUC?: number;
    timeToProgression?: number | null;
    bestOverallResponse?: string;
    exposure: Record<string, { Cmax: number; AUC: number; cumulativeDose: number; doses: number }>;
  };
  phase: 'global' | 'refine' | 'baseline';
  error?: string;
}

export interface OptimizeResult {
  best: Evaluated & { doses: Dose[] };
  curves: SimulationResult;
  baselines: (Evaluated & { therapy: string })[];
  table: (Evaluated & { rank: number })[];
  evaluations: number;
  candidates: number;
  seed: number;
  ms: number;
}

export function parseOptimizeRequest(input: unknown): OptimizeRequest {
  assertNoReservedKeys(input);
  const r = OptimizeRequest.safeParse(input);
  if (!r.success) throw new InputError(fromZodIssues(r.error.issues));
  return r.data;
}

function variableOf(
  c: Choice | undefined,
  drug: number,
  field: Field,
  path: (string | number)[],
  issues: Issue[],
): Variable | number | undefined {
  if (c === undefined) return undefined;
  if (typeof c === 'number') return c;
  if ('values' in c) {
    const vals = [...new Set(c.values)].sort((a, b) => a - b);
    if (field === 'count' && vals.some((v) => !Number.isInteger(v) || v < 1))
      issues.push({ path, message: 'counts must be integers >= 1' });
    return vals.length === 1 ? vals[0] : { drug, field, values: vals, min: vals[0], max: vals[vals.length - 1] };
  }
  if (!(c.max >= c.min)) {
    issues.push({ path: [...path, 'max'], message: 'max must be >= min' });
    return undefined;
  }
  if (c.step !== undefined || field === 'count') {
    const step = c.step ?? 1;
    const first = field === 'count' ? Math.max(1, Math.ceil(c.min)) : c.min;
    const n = Math.floor((c.max - first) / step + 1e-9) + 1;
    if (n > 500) {
      if (field === 'count') return { drug, field, values: null, min: first, max: c.max };
      issues.push({ path: [...path, 'step'], message: `too many allowed values (${n}; at most 500)` });
      return undefined;
    }
    const vals = Array.from({ length: n }, (_, k) => +(first + k * step).toPrecision(12));
    return vals.length === 1 ? vals[0] : { drug, field, values: vals, min: vals[0], max: vals[vals.length - 1] };
  }
  return c.max === c.min ? c.min : { drug, field, values: null, min: c.min, max: c.max };
}

/** The request's drugs as search variables (or fixed values), checked against the model; throws InputError with every problem. */
interface SearchSpace {
  drugNames: string[];
  /** Per drug, the fields given as one value. */
  fixed: Partial<Record<Field, number>>[];
  vars: Variable[];
}

function searchSpace(req: OptimizeRequest): SearchSpace {
  const issues: Issue[] = [];
  const drugNames = req.drugs.map((d, i) => d.name ?? d.target ?? `drug${i + 1}`);
  if (new Set(drugNames).size !== drugNames.length)
    issues.push({ path: ['drugs'], message: 'drug names must be unique (give `name`)' });
  const fixed: Partial<Record<Field, number>>[] = req.drugs.map(() => ({}));
  const vars: Variable[] = [];
  req.drugs.forEach((d: DrugChoice, i) => {
    for (const f of ['amount', 'interval', 'count', 'start'] as Field[]) {
      const v = variableOf(d[f], i, f, ['drugs', i, f], issues);
      if (v === undefined) continue;
      if (typeof v === 'number') fixed[i][f] = v;
      else vars.push(v);
      const lo = typeof v === 'number' ? v : v.min;
      if ((f === 'amount' || f === 'start') && lo < 0)
        issues.push({ path: ['drugs', i, f], message: `${f} must be >= 0` });
      if (f === 'interval' && !(lo > 0)) issues.push({ path: ['drugs', i, f], message: 'interval must be > 0' });
    }
  });
  const model = resolveModel(req.model as string | Record<string, unknown>, ['model']);
  req.drugs.forEach((d, i) => {
    if (!model.stateIndex.has(d.target))
      issues.push({
        path: ['drugs', i, 'target'],
        message: `'${d.target}' is not a state of model '${model.id}' (states: ${model.stateNames.join(', ')})`,
      });
  });
  const known = new Set([...drugNames, 'total']);
  for (const k of ['cumulativeDose', 'maxDoses'] as const) {
    for (const d of Object.keys(req.constraints[k]))
      if (!known.has(d) || (k === 'cumulativeDose' && d === 'total'))
        issues.push({
          path: ['constraints', k, d],
          message: `'${d}' is not a scheduled drug (${drugNames.join(', ')})`,
        });
  }
  const o = req.objective;
  if (o.finalTumor + o.tumorAUC + o.timeToProgression <= 0)
    issues.push({ path: ['objective'], message: 'give at least one positive objective weight' });
  if (issues.length) throw new InputError(issues);
  for (const [i, d] of req.drugs.entries()) {
    if (d.interval === undefined && d.count !== undefined && (typeof d.count !== 'number' || d.count > 1))
      issues.push({ path: ['drugs', i, 'interval'], message: 'repeated doses need an interval' });
  }
  if (issues.length) throw new InputError(issues);
  return { drugNames, fixed, vars };
}

/** The schedule of a point of the search space (values of the variables, in order). */
function scheduleOf(req: OptimizeRequest, space: SearchSpace, vals: number[]): ScheduleEntry[] {
  const H = req.horizon;
  return req.drugs.map((d, i) => {
    const get = (f: Field): number | undefined => {
      const k = space.vars.findIndex((v) => v.drug === i && v.field === f);
      return k >= 0 ? vals[k] : space.fixed[i][f];
    };
    const start = get('start') ?? 0;
    const interval = get('interval');
    let count = get('count');
    if (count === undefined)
      count = interval !== undefined ? Math.max(1, Math.floor((H - start) / interval + 1e-9) + 1) : 1;
    count = Math.max(1, Math.round(count));
    return {
      drug: space.drugNames[i],
      target: d.target,
      amount: get('amount') ?? 0,
      perKg: d.perKg,
      ...(count > 1 || interval !== undefined ? { interval } : {}),
      count,
      start,
      ...(d.duration !== undefined ? { duration: d.duration } : {}),
    };
  });
}

type DrugMetrics = Record<string, { Cmax: number; AUC: number; doseTargets: string[] }>;

/** Simulates candidate schedules and therapies (each a full simulate()) and scores them; counts the simulations. */
class ScheduleEvaluator {
  evaluations = 0;
  private readonly base;

  constructor(
    private readonly req: OptimizeRequest,
    private readonly drugNames: string[],
  ) {
    this.base = {
      model: req.model,
      parameters: req.parameters,
      initial: req.initial,
      preset: req.preset,
      weight: req.weight,
      solver: req.solver,
      times: { start: 0, end: req.horizon, step: req.step ?? req.horizon / 500 },
    };
  }

  evaluate(
    doses: Dose[],
    therapies: string[],
    schedule: ScheduleEntry[],
    phase: Evaluated['phase'],
  ): { ev: Evaluated; result?: SimulationResult } {
    const req = this.req;
    this.evaluations++;
    let result: SimulationResult;
    try {
      result = simulate({ ...this.base, doses: [...req.doses, ...doses], therapies: [...req.therapies, ...therapies] });
    } catch (e) {
      if (e instanceof InputError) throw e;
      const msg = e instanceof SolveError ? e.message : String(e);
      return {
        ev: {
          schedule,
          objective: Infinity,
          terms: { finalTumor: NaN, tumorAUC: NaN, timeToProgression: NaN },
          feasible: false,
          violations: { solve: Infinity },
          violation: Infinity,
          summary: { exposure: {} },
          phase,
          error: msg,
        },
      };
    }
    const m = result.metrics as Record<string, unknown> & { drugs?: DrugMetrics };
    const baseline = m.baseline as number | undefined;
    const final = m.final as number | undefined;
    if (!(baseline! > 0) || final === undefined)
      throw new InputError('the model declares no tumor series to optimize (roles.tumor in the model file)', [
        'model',
        'roles',
        'tumor',
      ]);
    const terms = this.objectiveTerms(m, baseline!, final);
    const o = req.objective;
    const objective =
      o.finalTumor * terms.finalTumor + o.tumorAUC * terms.tumorAUC + o.timeToProgression * terms.timeToProgression;
    const { exposure, violations } = this.constraintViolations(result, m.drugs);
    const violation = Object.values(violations).reduce((s, v) => s + v, 0);
    return {
      ev: {
        schedule,
        objective,
        terms,
        feasible: violation === 0,
        violations,
        violation,
        summary: {
          final,
          baseline,
          tumorAUC: m.tumorAUC as number,
          timeToProgression: (m.timeToProgression as number | undefined) ?? null,
          bestOverallResponse: m.bestOverallResponse as string | undefined,
          exposure,
        },
        phase,
      },
      result,
    };
  }

  /** The objective's terms on comparable scales: log10 final/baseline, AUC over baseline × horizon, −TTP/horizon. */
  private objectiveTerms(m: Record<string, unknown>, baseline: number, final: number): Evaluated['terms'] {
    const H = this.req.horizon;
    const ttp = (m.timeToProgression as number | undefined) ?? H;
    return {
      finalTumor: Math.log10(Math.max(final, 1e-12 * baseline) / baseline),
      tumorAUC: ((m.tumorAUC as number) ?? 0) / (baseline * H),
      timeToProgression: -ttp / H,
    };
  }

  /** Per scheduled drug its exposure and doses within the horizon; the relative excess over each violated limit. */
  private constraintViolations(result: SimulationResult, drugs: DrugMetrics | undefined) {
    const req = this.req;
    const H = req.horizon;
    const exposure: Evaluated['summary']['exposure'] = {};
    const violations: Record<string, number> = {};
    let totalDoses = 0;
    req.drugs.forEach((d, i) => {
      const name = this.drugNames[i];
      const ds = result.doses.filter((x) => x.target === d.target && x.time <= H);
      const cum = ds.reduce((s, x) => s + x.amount, 0);
      totalDoses += ds.length;
      // The drug whose exposure this schedule drives: named, else the model role dosed into the same state.
      const ex =
        d.exposure !== undefined
          ? ownValue(drugs, d.exposure)
          : (Object.values(drugs ?? {}).find((x) => x.doseTargets.includes(d.target)) ?? ownValue(drugs, name));
      exposure[name] = { Cmax: ex?.Cmax ?? 0, AUC: ex?.AUC ?? 0, cumulativeDose: cum, doses: ds.length };
    });
    const over = (key: string, v: number, lim: number) => {
      if (v > lim * (1 + 1e-9) + 1e-12) violations[key] = lim > 0 ? v / lim - 1 : Infinity;
    };
    for (const [k, lim] of Object.entries(req.constraints.cumulativeDose))
      over(`cumulativeDose.${k}`, ownValue(exposure, k)!.cumulativeDose, lim);
    for (const [k, lim] of Object.entries(req.constraints.maxDoses))
      over(`maxDoses.${k}`, k === 'total' ? totalDoses : ownValue(exposure, k)!.doses, lim);
    for (const [k, lim] of Object.entries(req.constraints.cmax)) over(`cmax.${k}`, ownValue(drugs, k)?.Cmax ?? 0, lim);
    for (const [k, lim] of Object.entries(req.constraints.auc)) over(`auc.${k}`, ownValue(drugs, k)?.AUC ?? 0, lim);
    return { exposure, violations };
  }
}

/** Feasible before infeasible; then by objective (feasible) or by violation, then objective (infeasible). */
const better = (a: Evaluated, b: Evaluated) =>
  a.feasible !== b.feasible
    ? a.feasible
    : a.feasible
      ? a.objective < b.objective
      : a.violation < b.violation || (a.violation === b.violation && a.objective < b.objective);
const byRank = (a: Evaluated, b: Evaluated) => (better(a, b) ? -1 : better(b, a) ? 1 : 0);

/**
 * The global phase's points: every combination of the discrete choices when there are at most `budget`
 * (continuous ones at mid-range), then a seeded sample filling the budget (discrete values drawn, continuous
 * ones on a Latin hypercube).
 */
function globalPoints(vars: Variable[], budget: number, seed: number): number[][] {
  const discrete = vars.map((v, k) => (v.values ? k : -1)).filter((k) => k >= 0);
  const continuous = vars.map((v, k) => (v.values ? -1 : k)).filter((k) => k >= 0);
  const product = discrete.reduce((p, k) => p * vars[k].values!.length, 1);
  const rnd = mulberry32(seed);
  const points: number[][] = [];
  const mid = (k: number) => 0.5 * (vars[k].min + vars[k].max);
  if (product <= budget) {
    const idx = new Array(discrete.length).fill(0);
    for (let c = 0; c < product; c++) {
      const vals = vars.map((_, k) => mid(k));
      discrete.forEach((k, q) => (vals[k] = vars[k].values![idx[q]]));
      points.push(vals);
      for (let q = 0; q < idx.length; q++) {
        idx[q]++;
        if (idx[q] < vars[discrete[q]].values!.length) break;
        idx[q] = 0;
      }
    }
  }
  const extra = Math.max(0, budget - points.length);
  if (extra > 0 && (continuous.length > 0 || product > budget)) {
    const lhs = latinHypercube(extra, Math.max(continuous.length, 1), seed);
    for (let c = 0; c < extra; c++) {
      const vals = vars.map((v) => (v.values ? v.values[Math.floor(rnd() * v.values.length)] : 0));
      continuous.forEach((k, q) => (vals[k] = vars[k].min + lhs[c][q] * (vars[k].max - vars[k].min)));
      points.push(vals);
    }
  }
  if (!points.length) points.push(vars.map((_, k) => mid(k)));
  return points;
}

/**
 * Nelder–Mead over the continuous choices (scaled to [0, 1], penalized outside) from the best point of each
 * of the `refine` best distinct discrete combinations. New candidates are added to `pointOf`.
 */
function refineStage(
  vars: Variable[],
  search: OptimizeRequest['search'],
  pointOf: Map<Evaluated, number[]>,
  evalCandidate: (vals: number[], phase: Evaluated['phase']) => Evaluated,
): void {
  const discrete = vars.map((v, k) => (v.values ? k : -1)).filter((k) => k >= 0);
  const continuous = vars.map((v, k) => (v.values ? -1 : k)).filter((k) => k >= 0);
  if (!(continuous.length && search.refine > 0 && search.refineEvaluations > 0)) return;
  const ranked = [...pointOf.keys()].sort(byRank);
  const seenCombos = new Set<string>();
  const tops: number[][] = [];
  for (const ev of ranked) {
    const p = pointOf.get(ev)!;
    const combo = JSON.stringify(discrete.map((k) => p[k]));
    if (seenCombos.has(combo)) continue;
    seenCombos.add(combo);
    tops.push(p);
    if (tops.length >= search.refine) break;
  }
  for (const p of tops) {
    const toVals = (u: number[]) => {
      const vals = [...p];
      continuous.forEach(
        (k, q) => (vals[k] = vars[k].min + Math.min(1, Math.max(0, u[q])) * (vars[k].max - vars[k].min)),
      );
      return vals;
    };
    const score = (u: number[]) => {
      const ev = evalCandidate(toVals(u), 'refine');
      if (!pointOf.has(ev)) pointOf.set(ev, toVals(u));
      const pen = u.reduce((s, v) => s + Math.max(0, -v, v - 1), 0);
      return Number.isFinite(ev.objective) ? ev.objective + 1e3 * ev.violation + 1e3 * pen : 1e300;
    };
    const u0 = continuous.map((k) => (p[k] - vars[k].min) / (vars[k].max - vars[k].min || 1));
    nelderMead(score, u0, search.refineEvaluations, 0.25, true);
  }
}

/**
 * `progress(done, total)`: candidate evaluations so far, of the global candidates plus the refinement's
 * budget (the refinement may stop early: the last call is total/total).
 */
export function optimizeSchedule(input: unknown, progress?: (done: number, total: number) => void): OptimizeResult {
  const started = performance.now();
  const req = parseOptimizeRequest(input);
  // The best schedule's curves are reported: the budget of one simulation of the horizon (src/limits.ts).
  checkBudget(
    simulationCost(
      gridPoints({ start: 0, end: req.horizon, step: req.step ?? req.horizon / 500 }),
      modelColumns(req.model),
    ),
    ['step'],
    'use a larger step',
  );
  const space = searchSpace(req);
  const evaluator = new ScheduleEvaluator(req, space.drugNames);

  // Candidates met twice (the same schedule from different points) are simulated once.
  const cache = new Map<string, Evaluated>();
  let progressed = 0;
  let plannedEvaluations = 1;
  const evalCandidate = (vals: number[], phase: Evaluated['phase']): Evaluated => {
    if (progress) progress(Math.min(++progressed, plannedEvaluations - 1), plannedEvaluations);
    const sch = scheduleOf(req, space, vals);
    const key = JSON.stringify(sch);
    const hit = cache.get(key);
    if (hit) return hit;
    const { ev } = evaluator.evaluate(dosesOf(sch), [], sch, phase);
    cache.set(key, ev);
    return ev;
  };

  const pointOf = new Map<Evaluated, number[]>();
  const points = globalPoints(space.vars, req.search.candidates, req.search.seed);
  const hasContinuous = space.vars.some((v) => !v.values);
  const refines = hasContinuous && req.search.refine > 0 ? req.search.refine * req.search.refineEvaluations : 0;
  plannedEvaluations = points.length + refines + 1;
  for (const p of points) {
    const ev = evalCandidate(p, 'global');
    if (!pointOf.has(ev)) pointOf.set(ev, p);
  }
  refineStage(space.vars, req.search, pointOf, evalCandidate);
  progress?.(plannedEvaluations, plannedEvaluations);

  const all = [...pointOf.keys()];
  all.sort(byRank);
  const bestEv = all[0];
  const bestDoses = dosesOf(bestEv.schedule);
  const bestRun = evaluator.evaluate(bestDoses, [], bestEv.schedule, bestEv.phase);
  if (!bestRun.result)
    throw new SolveError(`no candidate schedule could be simulated: ${bestEv.error ?? bestRun.ev.error}`, 'other', 0);

  const baselines = req.compare.map((id, k) => {
    try {
      return { therapy: id, ...evaluator.evaluate([], [id], [], 'baseline').ev };
    } catch (e) {
      if (e instanceof InputError)
        throw new InputError(e.issues.map((i) => ({ path: ['compare', k], message: i.message })));
      throw e;
    }
  });

  return {
    best: { ...bestEv, doses: bestDoses },
    curves: bestRun.result,
    baselines,
    table: all.slice(0, req.table).map((ev, i) => ({ rank: i + 1, ...ev })),
    evaluations: evaluator.evaluations,
    candidates: all.length,
    seed: req.search.seed,
    ms: performance.now() - started,
  };
}
