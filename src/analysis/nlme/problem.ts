// A population problem: the request (Contract 4b) resolved into subjects (one prepared scenario each, its
// observation records on the error model's scale, its covariates), the fixed effects θ, covariate
// effects β, the Cholesky factor of Ω and the residual error σ, all laid out in one working vector x
// (log scale for positive quantities) that the outer optimisation moves.
//
// Individual parameters: P_ik = θ_k · Π_c g_c(COV_ic; β_c) · exp(η_ik), η_i ~ N(0, Ω) (μ-referenced on the
// log scale: log P = log θ + Σ log g + η). Parameters of `estimate` without η are θ_k · Π g only.
// Data come either as SubjectData[] (the NONMEM-style dataset of Contract 6: given, or read from the request's
// `dataset` by dataset.ts) or in the Contract 4 form (rows with `subject` and
// `subjects: {id: {doses, parameters, weight}}`), converted here to SubjectData.
import { cholesky } from '../../numerics/linalg.ts';
import { prepareScenario, type PreparedScenario } from '../../simulate.ts';
import { InputError, fromZodIssues, type Issue } from '../../errors.ts';
import type { CompiledModel } from '../../model/compile.ts';
import type { SubjectData } from '../../data/types.ts';
import { validateRows } from '../fit/data.ts';
import { subjectsFromDataset } from './dataset.ts';
import { outputPlan, subjectDoses } from '../../data/subjects.ts';
import { preparedNeedsEpochs } from '../../simulate.ts';
import { resolveModel } from '../../model/library.ts';
import { ERROR_PARAMETERS } from '../fit/schema.ts';
import { PopulationFitRequest, NLME_LIMITS, CovariateEffect } from './schema.ts';

export interface ObsRecord {
  /** Index into the subject's unique times. */
  k: number;
  state: number;
  output: number;
  time: number;
  observable: string;
  /** Observed value as given, and on the error model's scale (log when transform = log). */
  raw: number;
  y: number;
  line?: number;
}

export interface PopSubject {
  id: string;
  prep: PreparedScenario;
  /** Output times (prep.times itself: at equal times a pre-dose row comes first, as the dataset's file order). */
  times: Float64Array;
  obs: ObsRecord[];
  /** Covariate values for the covariate effects (constant per subject). */
  covariates: Record<string, number>;
  /** Covariates whose value changes over the subject's records. */
  varying: string[];
  /** Derivatives by finite differences (the solve goes through the epoch runner: resets, covariate changes, pre-dose outputs, steady states, rules, parameter-dependent dose modifiers). */
  fd: boolean;
}

export interface FixedEffect {
  name: string;
  /** Model parameter index. */
  index: number;
  log: boolean;
  initial: number;
  lower: number;
  upper: number;
  /** Index of its η, −1 if none. */
  eta: number;
}

export interface CovariateTerm extends CovariateEffect {
  /** Fixed effect it modifies. */
  fe: number;
  parameter: string;
  /** Position of β in x (−1 when fixed). */
  x: number;
}

export interface PopProblem {
  request: PopulationFitRequest;
  model: CompiledModel;
  subjects: PopSubject[];
  fixed: FixedEffect[];
  covariates: CovariateTerm[];
  /** η names (parameters), block first. */
  etaNames: string[];
  /** Fixed effect of each η. */
  etaFe: number[];
  /** Estimated entries of the Cholesky factor L (row i ≥ column j), in x from `xOmega`. */
  cholesky: [number, number][];
  xOmega: number;
  /** x positions of σ (additive) and σp (proportional); −1 = not in the model; fixed values otherwise. */
  xSigma: number;
  xSigmaProp: number;
  sigmaFixed: number;
  sigmaPropFixed: number;
  errorModel: 'additive' | 'proportional' | 'combined';
  logTransform: boolean;
  x0: Float64Array;
  lower: Float64Array;
  upper: Float64Array;
  /** Names of the x entries (θ names, `beta(CL,WT)`, `L(i,j)`, sigma, sigmaProp). */
  xNames: string[];
  nObs: number;
  counters: { odeSolves: number };
  /** What was done with the data that the user should know (BLQ records left out...): added to the result's warnings. */
  notes: string[];
}

export function parsePopulationRequest(input: unknown): PopulationFitRequest {
  const r = PopulationFitRequest.safeParse(input);
  if (!r.success) throw new InputError(fromZodIssues(r.error.issues));
  return r.data;
}

/** Contract 4 rows + `subjects` → SubjectData (a subject's `weight` becomes the covariate WT). */
export function subjectsFromRows(req: PopulationFitRequest): SubjectData[] {
  if (req.data === undefined)
    throw new InputError('a population fit needs data rows here (a dataset is read by the caller)', ['data']);
  const rows = validateRows(req.data);
  const byId = new Map<string, SubjectData>();
  rows.forEach((r, i) => {
    const id = r.subject ?? 'default';
    let s = byId.get(id);
    if (!s) {
      const spec = Object.hasOwn(req.subjects, id) ? req.subjects[id] : undefined;
      const covariates: Record<string, number> = Object.create(null);
      const wt = spec?.weight ?? req.weight;
      covariates.WT = wt;
      s = { id, doses: spec?.doses ?? req.doses, covariates, covariateChanges: [], observations: [], resets: [] };
      byId.set(id, s);
    }
    s.observations.push({
      line: i,
      time: r.time,
      observable: r.observable,
      value: r.value,
      order: s.observations.length,
    });
  });
  return [...byId.values()];
}

/** `"(WT/70)^0.75"` → a power effect with a fixed exponent; `"(WT/70)^beta"` → an estimated one. */
function parseCovariateString(text: string, path: (string | number)[]): CovariateEffect {
  const m =
    /^\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\/\s*([0-9.eE+-]+)\s*\)\s*\^\s*([0-9.eE+-]+|[A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(
      text,
    );
  if (!m || !(Number(m[2]) > 0))
    throw new InputError([
      {
        path,
        message: `covariate effect '${text}' is not of the form (COV/center)^exponent, e.g. (WT/70)^0.75 or (WT/70)^beta`,
      },
    ]);
  const num = Number(m[3]);
  const fixed = Number.isFinite(num);
  return { covariate: m[1], form: 'power', center: Number(m[2]), initial: fixed ? num : 0.75, fixed };
}

interface OmegaLayout {
  names: string[];
  init: Float64Array;
  blockSize: number;
}

function omegaLayout(req: PopulationFitRequest, issues: Issue[]): OmegaLayout {
  const spec = req.population.omega;
  const names: string[] = [];
  const path = ['population', 'omega'];
  let blockSize = 0;
  let blockM: number[][] = [];
  let diag: Record<string, number> = {};
  if ('block' in spec && Array.isArray(spec.block)) {
    const [bn, bm] = spec.block as [string[], number[][]];
    names.push(...bn);
    blockSize = bn.length;
    blockM = bm;
    if (bm.length !== bn.length || bm.some((r) => r.length !== bn.length))
      issues.push({ path: [...path, 'block', 1], message: `the block matrix must be ${bn.length}×${bn.length}` });
    else {
      for (let i = 0; i < bn.length; i++)
        for (let j = 0; j < i; j++)
          if (Math.abs(bm[i][j] - bm[j][i]) > 1e-12 * Math.max(1, Math.abs(bm[i][j])))
            issues.push({ path: [...path, 'block', 1, i, j], message: 'the block matrix must be symmetric' });
    }
    diag = (spec as { diagonal?: Record<string, number> }).diagonal ?? {};
  } else diag = spec as Record<string, number>;
  for (const k of Object.keys(diag)) names.push(k);
  const q = names.length;
  if (!q) issues.push({ path, message: 'name at least one parameter with a random effect' });
  if (q > NLME_LIMITS.randomEffects)
    issues.push({ path, message: `at most ${NLME_LIMITS.randomEffects} random effects (got ${q})` });
  if (new Set(names).size !== q) issues.push({ path, message: 'a parameter appears twice in Ω' });
  const init = new Float64Array(q * q);
  if (!issues.length) {
    for (let i = 0; i < blockSize; i++) for (let j = 0; j < blockSize; j++) init[i * q + j] = blockM[i][j];
    for (let i = blockSize; i < q; i++) init[i * q + i] = diag[names[i]];
  }
  return { names, init, blockSize };
}

/** The lower Cholesky factor (shared numerics), re-exported for the population-fit modules. */
export { cholesky };

/** The part of a covariate record the model declares (the rest serves covariate effects only). */
function modelPart(model: CompiledModel, values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).filter(([k]) => model.covariateIndex.has(k)));
}

function prepareSubject(
  req: PopulationFitRequest,
  model: CompiledModel,
  s: SubjectData,
  fromDataset: boolean,
  logT: boolean,
  issues: Issue[],
): PopSubject | null {
  const plan = outputPlan(s);
  const keep = s.observations.map((o) => o.value !== null && !o.blq);
  if (!keep.some(Boolean)) return null;
  const spec = Object.hasOwn(req.subjects, s.id) ? req.subjects[s.id] : undefined;
  const wt =
    Object.hasOwn(s.covariates, 'WT') && s.covariates.WT > 0 && s.covariates.WT <= 1000
      ? s.covariates.WT
      : (spec?.weight ?? req.weight);
  // A dataset's subject: the model covariates of its records (and of the request for all subjects), its
  // covariate changes and resets, outputs before the doses at their time (file order) — as `simulate --dataset`.
  const path = fromDataset ? ['dataset', `ID ${s.id}`] : ['subjects', s.id];
  const prep = prepareScenario(
    {
      model: req.model,
      parameters: { ...req.parameters, ...(spec?.parameters ?? {}) },
      initial: { ...req.initial, ...(spec?.initial ?? {}) },
      preset: req.preset,
      doses: subjectDoses(s),
      therapies: spec?.therapies ?? req.therapies,
      weight: wt,
      solver: req.solver,
      times: plan.unique,
      metrics: false,
      covariates: { ...req.covariates, ...modelPart(model, s.covariates) },
      covariateChanges: s.covariateChanges
        .map((c) => ({ time: c.time, values: modelPart(model, c.values) }))
        .filter((c) => Object.keys(c.values).length),
    },
    path,
    { resets: s.resets },
  );
  prep.times = Float64Array.from(plan.times);
  prep.preDose = plan.pre;
  const records: ObsRecord[] = [];
  s.observations.forEach((o, q) => {
    if (!keep[q]) return;
    const state = prep.model.stateIndex.get(o.observable) ?? -1;
    const output = state >= 0 ? -1 : prep.model.outputNames.indexOf(o.observable);
    const where = fromDataset ? ['dataset', `line ${o.line}`] : ['data', o.line];
    if (state < 0 && output < 0)
      issues.push({
        path: [...where, 'observable'],
        message: `'${o.observable}' is neither a state nor an output of model '${prep.model.id}'`,
      });
    if (o.time < 0)
      issues.push({
        path: [...where, fromDataset ? 'TIME' : 'time'],
        message: `population fits take observations at time >= 0 (got ${o.time})`,
      });
    const v = o.value as number;
    if (logT && !(v > 0))
      issues.push({
        path: [...where, fromDataset ? 'DV' : 'value'],
        message: `log-transformed residuals need positive observations (subject ${s.id}, t = ${o.time}, value ${v})`,
      });
    records.push({
      k: plan.row[q],
      state,
      output,
      time: o.time,
      observable: o.observable,
      raw: v,
      y: logT ? Math.log(v) : v,
      line: o.line,
    });
  });
  // Covariates for the effects: the model's covariate values in force (its defaults, the request's, the
  // subject's first record), then any other dataset column read for an effect (dataset.ts).
  const covariates: Record<string, number> = Object.create(null);
  prep.model.covariateNames.forEach((n) => (covariates[n] = prep.params[prep.model.covariateIndex.get(n)!]));
  Object.assign(covariates, s.covariates);
  if (!fromDataset) covariates.WT = wt;
  const varying = [...new Set(s.covariateChanges.flatMap((c) => Object.keys(c.values)))];
  return {
    id: s.id,
    prep,
    times: prep.times,
    obs: records,
    covariates,
    varying,
    fd: prep.model.doseModifiers.size > 0 || preparedNeedsEpochs(prep),
  };
}

/** The request (and dataset) resolved into a PopProblem: subjects, θ, η, β, error model and the working vector x0; InputError naming the field otherwise. */
export function buildPopulationProblem(req: PopulationFitRequest, data?: SubjectData[]): PopProblem {
  const logT = req.error.transform === 'log';
  const fromDataset = data !== undefined || req.dataset !== undefined;
  const { subjects, notes } = populationSubjects(req, data, fromDataset, logT);
  const model = subjects[0].prep.model;
  const issues: Issue[] = [];
  const fixed = fixedEffects(req, model, subjects, issues);
  const om = omegaLayout(req, issues);
  const etaFe = linkEtas(om, fixed, issues);
  const covariates = covariateTerms(req, model, subjects, fixed, fromDataset, issues);
  // Error model.
  const errorModel = req.error.model;
  const useA = errorModel !== 'proportional';
  const useB = errorModel !== 'additive';
  for (const n of ['sigma', 'sigmaProp'] as const) {
    if (Object.hasOwn(req.estimate, n) && !model.paramIndex.has(n) && !(n === 'sigma' ? useA : useB))
      issues.push({ path: ['estimate', n], message: `'${n}' is not part of the ${errorModel} error model` });
  }
  if (issues.length) throw new InputError(issues.slice(0, 20));
  const w = workingVector(req, subjects, fixed, covariates, om, useA, useB, logT);
  const nObs = subjects.reduce((a, s) => a + s.obs.length, 0);
  if (nObs <= w.x0.length)
    throw new InputError([
      {
        path: [fromDataset ? 'dataset' : 'data'],
        message: `${nObs} observations for ${w.x0.length} population parameters`,
      },
    ]);
  return {
    request: req,
    model,
    subjects,
    fixed,
    covariates,
    etaNames: om.names,
    etaFe,
    cholesky: w.chol,
    xOmega: w.xOmega,
    xSigma: w.xSigma,
    xSigmaProp: w.xSigmaProp,
    sigmaFixed: w.sigmaFixed,
    sigmaPropFixed: w.sigmaPropFixed,
    errorModel,
    logTransform: logT,
    x0: Float64Array.from(w.x0),
    lower: Float64Array.from(w.lo),
    upper: Float64Array.from(w.hi),
    xNames: w.names,
    nObs,
    counters: { odeSolves: 0 },
    notes,
  };
}

/** The subjects (given, read from the request's dataset, or from its rows), each prepared; BLQ records counted in `notes`. */
function populationSubjects(
  req: PopulationFitRequest,
  data: SubjectData[] | undefined,
  fromDataset: boolean,
  logT: boolean,
): { subjects: PopSubject[]; notes: string[] } {
  const issues: Issue[] = [];
  const model0 = resolveModel(req.model as string | Record<string, unknown>, ['model']);
  const notes: string[] = [];
  const subjectData = data ?? (req.dataset !== undefined ? subjectsFromDataset(req) : subjectsFromRows(req));
  if (subjectData.length > NLME_LIMITS.subjects)
    throw new InputError([
      {
        path: [fromDataset ? 'dataset' : 'data'],
        message: `at most ${NLME_LIMITS.subjects} subjects (got ${subjectData.length})`,
      },
    ]);
  const subjects: PopSubject[] = [];
  let blq = 0;
  for (const s of subjectData) {
    blq += s.observations.filter((o) => o.blq && o.value !== null).length;
    const ps = prepareSubject(req, model0, s, fromDataset, logT, issues);
    if (ps) subjects.push(ps);
    if (issues.length >= 20) break;
  }
  if (blq)
    notes.push(
      `${blq} observation record(s) below the limit of quantification (BLQ = 1) left out of the likelihood (Beal's M1)`,
    );
  if (issues.length) throw new InputError(issues.slice(0, 20));
  if (subjects.length < 2)
    throw new InputError([
      {
        path: [fromDataset ? 'dataset' : 'data'],
        message: `a population fit needs at least 2 subjects with observations (got ${subjects.length})`,
      },
    ]);
  return { subjects, notes };
}

/** Fixed effects θ: the model parameters of `estimate` (error parameters skipped), with scale, bounds and initial value. */
function fixedEffects(
  req: PopulationFitRequest,
  model: CompiledModel,
  subjects: PopSubject[],
  issues: Issue[],
): FixedEffect[] {
  const fixed: FixedEffect[] = [];
  for (const [name, spec] of Object.entries(req.estimate)) {
    const path = ['estimate', name];
    if ((ERROR_PARAMETERS as readonly string[]).includes(name) && !model.paramIndex.has(name)) continue;
    const index = model.paramIndex.get(name);
    if (index === undefined) {
      issues.push({
        path,
        message: `'${name}' is not a parameter of model '${model.id}' (nor ${ERROR_PARAMETERS.join(', ')})`,
      });
      continue;
    }
    if (spec.perSubject)
      issues.push({
        path: [...path, 'perSubject'],
        message:
          'a population fit has no per-subject parameters: give the parameter a random effect in population.omega',
      });
    const initial = spec.initial ?? subjects[0].prep.params[index];
    const log = (spec.scale ?? (initial > 0 ? 'log' : 'linear')) === 'log';
    const lower = spec.lower ?? (log ? 0 : -Infinity);
    const upper = spec.upper ?? Infinity;
    if (log && !(initial > 0))
      issues.push({ path: [...path, 'initial'], message: `log scale needs a positive initial value (got ${initial})` });
    if (!(lower < upper)) issues.push({ path: [...path, 'upper'], message: 'upper must be greater than lower' });
    if (initial < lower || initial > upper)
      issues.push({ path: [...path, 'initial'], message: `initial value ${initial} is outside [${lower}, ${upper}]` });
    fixed.push({ name, index, log, initial, lower, upper, eta: -1 });
  }
  return fixed;
}

/** The fixed effect of each η (which must be estimated on the log scale); marks `fixed[fe].eta`. */
function linkEtas(om: OmegaLayout, fixed: FixedEffect[], issues: Issue[]): number[] {
  const etaFe: number[] = [];
  om.names.forEach((n, k) => {
    const fe = fixed.findIndex((f) => f.name === n);
    if (fe < 0)
      issues.push({ path: ['population', 'omega', n], message: `'${n}' has a random effect but is not in estimate` });
    else if (!fixed[fe].log)
      issues.push({
        path: ['estimate', n, 'scale'],
        message: `'${n}' has a random effect θ·exp(η), which needs the log scale`,
      });
    else fixed[fe].eta = k;
    etaFe.push(fe);
  });
  return etaFe;
}

/** Covariate effects β on log-scale fixed effects, checked against every subject's (time-constant) covariates. */
function covariateTerms(
  req: PopulationFitRequest,
  model: CompiledModel,
  subjects: PopSubject[],
  fixed: FixedEffect[],
  fromDataset: boolean,
  issues: Issue[],
): CovariateTerm[] {
  const covariates: CovariateTerm[] = [];
  for (const [param, spec] of Object.entries(req.population.covariates)) {
    const path = ['population', 'covariates', param];
    const fe = fixed.findIndex((f) => f.name === param);
    if (fe < 0) {
      issues.push({ path, message: `'${param}' is not an estimated parameter` });
      continue;
    }
    if (!fixed[fe].log)
      issues.push({ path, message: `covariate effects multiply θ and need '${param}' on the log scale` });
    const list = typeof spec === 'string' ? [spec] : Array.isArray(spec) ? spec : [spec];
    list.forEach((e, j) => {
      let eff: CovariateEffect;
      try {
        eff = typeof e === 'string' ? parseCovariateString(e, path) : e;
      } catch (err) {
        if (err instanceof InputError) issues.push(...err.issues);
        return;
      }
      const missing = subjects.find(
        (s) => !Object.hasOwn(s.covariates, eff.covariate) || !Number.isFinite(s.covariates[eff.covariate]),
      );
      const changing = subjects.find((s) => s.varying.includes(eff.covariate));
      if (missing)
        issues.push({
          path: Array.isArray(spec) ? [...path, j] : path,
          message: `covariate '${eff.covariate}' is missing for subject ${missing.id}${fromDataset ? ` (not a column of the dataset nor a covariate of model '${model.id}')` : ''}`,
        });
      else if (changing)
        issues.push({
          path: Array.isArray(spec) ? [...path, j] : path,
          message: `covariate '${eff.covariate}' changes over time for subject ${changing.id}: a covariate effect on θ takes one value per subject (use a baseline column, e.g. ${eff.covariate}BL, or let the model file use ${eff.covariate} in its equations)`,
        });
      else if (eff.form === 'power' && subjects.some((s) => !(s.covariates[eff.covariate] > 0)))
        issues.push({ path, message: `a power effect needs ${eff.covariate} > 0 for every subject` });
      covariates.push({ ...eff, fe, parameter: param, x: -1 });
    });
  }
  return covariates;
}

/** The working vector x: θ (log or linear), estimated β, the Cholesky entries of Ω, then σ and σp (log). */
function workingVector(
  req: PopulationFitRequest,
  subjects: PopSubject[],
  fixed: FixedEffect[],
  covariates: CovariateTerm[],
  om: OmegaLayout,
  useA: boolean,
  useB: boolean,
  logT: boolean,
) {
  const q = om.names.length;
  const x0: number[] = [];
  const lo: number[] = [];
  const hi: number[] = [];
  const names: string[] = [];
  for (const f of fixed) {
    names.push(f.name);
    x0.push(f.log ? Math.log(f.initial) : f.initial);
    lo.push(f.log ? (f.lower > 0 ? Math.log(f.lower) : -Infinity) : f.lower);
    hi.push(f.log ? Math.log(f.upper) : f.upper);
  }
  for (const c of covariates) {
    if (c.fixed) continue;
    c.x = x0.length;
    names.push(`beta(${c.parameter},${c.covariate})`);
    x0.push(c.initial);
    lo.push(-Infinity);
    hi.push(Infinity);
  }
  const L0 = cholesky(om.init, q);
  if (!L0) throw new InputError([{ path: ['population', 'omega'], message: 'the initial Ω is not positive definite' }]);
  const chol: [number, number][] = [];
  const xOmega = x0.length;
  for (let i = 0; i < q; i++) {
    for (let j = 0; j <= i; j++) {
      if (i !== j && !(i < om.blockSize && j < om.blockSize)) continue;
      chol.push([i, j]);
      names.push(`L(${om.names[i]},${om.names[j]})`);
      x0.push(i === j ? Math.log(L0[i * q + i]) : L0[i * q + j]);
      lo.push(-Infinity);
      hi.push(Infinity);
    }
  }
  const errStart = (n: 'sigma' | 'sigmaProp') => req.estimate[n]?.initial ?? req.error[n];
  const addErr = (n: 'sigma' | 'sigmaProp', use: boolean, dflt: number): [number, number] => {
    if (!use) return [-1, NaN];
    const given = n === 'sigma' ? req.error.sigma : req.error.sigmaProp;
    if (given !== undefined && !Object.hasOwn(req.estimate, n)) return [-1, given];
    names.push(n);
    x0.push(Math.log(errStart(n) ?? dflt));
    lo.push(-Infinity);
    hi.push(Infinity);
    return [x0.length - 1, NaN];
  };
  const allY = subjects.flatMap((s) => s.obs.map((o) => Math.abs(o.y))).sort((a, b) => a - b);
  const medY = allY[allY.length >> 1] || 1;
  const [xSigma, sigmaFixed] = addErr('sigma', useA, logT ? 0.2 : 0.1 * medY);
  const [xSigmaProp, sigmaPropFixed] = addErr('sigmaProp', useB, 0.1);
  return { x0, lo, hi, names, chol, xOmega, xSigma, sigmaFixed, xSigmaProp, sigmaPropFixed };
}

/** Ω = L Lᵀ from x. */
export function omegaOf(pb: PopProblem, x: Float64Array): Float64Array {
  const q = pb.etaNames.length;
  const L = new Float64Array(q * q);
  pb.cholesky.forEach(([i, j], k) => (L[i * q + j] = i === j ? Math.exp(x[pb.xOmega + k]) : x[pb.xOmega + k]));
  const O = new Float64Array(q * q);
  for (let i = 0; i < q; i++)
    for (let j = 0; j < q; j++) {
      let s = 0;
      for (let k = 0; k < q; k++) s += L[i * q + k] * L[j * q + k];
      O[i * q + j] = s;
    }
  return O;
}

export function sigmasOf(pb: PopProblem, x: Float64Array): { a: number; b: number } {
  const a = pb.xSigma >= 0 ? Math.exp(x[pb.xSigma]) : pb.errorModel === 'proportional' ? 0 : pb.sigmaFixed;
  const b = pb.xSigmaProp >= 0 ? Math.exp(x[pb.xSigmaProp]) : pb.errorModel === 'additive' ? 0 : pb.sigmaPropFixed;
  return { a, b };
}

/** Typical (η = 0) log value of each fixed effect for a subject (log-scale ones), or its value (linear). */
export function typicalWorking(pb: PopProblem, x: Float64Array, s: PopSubject): Float64Array {
  const w = Float64Array.from(pb.fixed, (_, k) => x[k]);
  for (const c of pb.covariates) {
    const beta = c.x >= 0 ? x[c.x] : c.initial;
    const v = s.covariates[c.covariate];
    const g =
      c.form === 'power'
        ? beta * Math.log(v / c.center)
        : c.form === 'exponential'
          ? beta * (v - c.center)
          : Math.log(Math.max(1 + beta * (v - c.center), 1e-300));
    w[c.fe] += g;
  }
  return w;
}

/** Model parameter vector of a subject at x and η. */
export function individualParams(pb: PopProblem, x: Float64Array, s: PopSubject, eta: Float64Array): Float64Array {
  const p = Float64Array.from(s.prep.params);
  const w = typicalWorking(pb, x, s);
  pb.fixed.forEach((f, k) => (p[f.index] = f.log ? Math.exp(w[k] + (f.eta >= 0 ? eta[f.eta] : 0)) : w[k]));
  return p;
}
