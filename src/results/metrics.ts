// Response metrics of a simulation result: tumor burden (baseline, nadir, best change, AUC, elimination),
// RECIST 1.1 response from the sum of diameters, arm-comparison metrics (time back to baseline, depth x
// duration of response), per-drug exposure (Cmax, Ctrough, AUC, occupancy, time above a threshold) and
// plausibility warnings. Metrics that do not apply to a result are omitted, never NaN. docs/metrics.md
// states every definition with its source; METRIC_DEFINITIONS below is the same text, returned in results.
//
// Conventions (stated here because a simulation is not a trial):
// - What a series means comes from the model's `roles` (Contract 1), never from its name. A model without
//   `roles.tumor` gets no tumor metrics; drugs are the entries of `roles.drugs`.
// - Clinical windows (RECIST's 6-week first assessment and 4-week confirmation) are in days and converted
//   to the model's `timeUnit`; reported times are in the model's time unit.
// - Diameter: the `roles.tumor.diameter` series (mm, a sum of longest diameters) if declared; else the
//   diameter of a sphere of the tumor volume, d = (6 V / pi)^(1/3) mm, with V the series in mm3 or, for a
//   series in cells, V = cells / cellsPerMm3 (default 1e6: 1e9 cells per cm3); a series in mm is a diameter.
// - RECIST 1.1 (Eisenhauer et al., Eur J Cancer 2009;45:228-247) is applied at every metrics time
//   (continuous assessment, not scheduled scans). The baseline must be measurable (diameter >= 10 mm);
//   otherwise the response is NE (not evaluable) with the reason. Against the baseline for response and the
//   smallest diameter so far (baseline included) for progression:
//     CR  diameter below CR_DIAMETER_MM (the lesion has disappeared: eliminated or below imaging resolution);
//     PR  diameter at least 30 % below baseline;
//     PD  diameter at least 20 % above the smallest so far AND at least 5 mm above it;
//     SD  otherwise.
//   Best overall response (BOR) is the best of CR > PR > SD before progression; SD counts only if it
//   lasted at least SD_MIN_DAYS (first assessment at 6 weeks), otherwise BOR is PD. The confirmed BOR also
//   requires CR/PR to hold continuously for CONFIRM_DAYS (4 weeks).
// - Exposure: AUC, mean occupancy and time above a threshold are integrated on the solver's dense output
//   (exposure.ts) when the simulation provides them, so they do not depend on the output grid; Cmax and
//   troughs are read on the metrics grid, which contains every dose time and the instant before it.
import type { CompiledModel } from '../model/compile.ts';
import type { SimulationResult } from '../scenario/schema.ts';
import { DAYS_PER_TIME_UNIT, type RolesSpec } from '../model/schema.ts';
import { parseExpression } from '../model/expression.ts';
import type { ExposureIntegrals } from './exposure.ts';

export const CR_DIAMETER_MM = 1;
export const MEASURABLE_MM = 10;
export const PR_FRACTION = 0.3;
export const PD_FRACTION = 0.2;
export const PD_ABSOLUTE_MM = 5;
export const SD_MIN_DAYS = 42;
export const CONFIRM_DAYS = 28;
export const CELLS_PER_MM3 = 1e6;
/** Plausibility limits: the body's whole T-cell pool is a few 1e11-1e12 cells; 1e13 tumor cells is ~10 kg. */
export const PLAUSIBLE = { effectorCells: 1e12, tumorCells: 1e13, labelCmaxFactor: 10 };

export const METRIC_DEFINITIONS: Record<string, string> = {
  bestOverallResponse:
    'RECIST 1.1 best overall response (CR > PR > SD > PD; NE when the baseline is not measurable, >= 10 mm)',
  timeToProgression:
    'RECIST 1.1: time from baseline to the first assessment with the diameter >= 20 % and >= 5 mm above the smallest so far (its own nadir)',
  timeToBaseline:
    'time from baseline until the tumor series is back at its baseline value after having been below it (0 if it never shrank; absent, with belowBaselineAtEnd, if it has not regrown by the end)',
  depthOfResponse: 'largest fractional shrinkage of the tumor series, 1 - nadir / baseline (0 if it never shrank)',
  responseArea:
    'depth x duration of response: integral over time of max(0, 1 - tumor(t) / baseline), in model time units (a tumor that is 50 % smaller for 10 days scores 5)',
};

export type RecistCategory = 'CR' | 'PR' | 'SD' | 'PD' | 'NE';
type ResultLike = Omit<SimulationResult, 'metrics'>;

const finite = (xs: readonly number[]) => xs.every((v) => typeof v === 'number' && Number.isFinite(v));

/** Days per time unit of a model. */
export function daysPerUnit(model: CompiledModel): number {
  return DAYS_PER_TIME_UNIT[model.spec.timeUnit] ?? 1;
}
/** Trapezoid integral of y over t. */
export function trapezoid(t: readonly number[], y: readonly number[]): number {
  let s = 0;
  for (let k = 1; k < t.length; k++) s += 0.5 * (y[k] + y[k - 1]) * (t[k] - t[k - 1]);
  return s;
}

/** Linear interpolation of (t, y) at time x (clamped to the ends). */
export function interpolate(t: readonly number[], y: readonly number[], x: number): number {
  if (x <= t[0]) return y[0];
  const n = t.length;
  if (x >= t[n - 1]) return y[n - 1];
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (t[mid] <= x) lo = mid;
    else hi = mid;
  }
  const w = (x - t[lo]) / (t[hi] - t[lo]);
  return y[lo] + w * (y[hi] - y[lo]);
}

/** Sphere diameter (mm) of a volume in mm3. */
export function sphereDiameter(volumeMm3: number): number {
  return Math.cbrt((6 * Math.max(volumeMm3, 0)) / Math.PI);
}

interface Series {
  name: string;
  unit: 'cells' | 'mm3' | 'mm';
  values: number[];
}

function seriesValues(result: ResultLike, name: string): number[] | undefined {
  if (Object.hasOwn(result.outputs, name)) return result.outputs[name];
  if (Object.hasOwn(result.states, name)) return result.states[name];
  return undefined;
}

/** The tumor series of a result, from the model's roles, or undefined. */
export function tumorSeries(result: ResultLike, model: CompiledModel): Series | undefined {
  const role = model.spec.roles?.tumor;
  if (!role) return undefined;
  const v = seriesValues(result, role.series);
  return v ? { name: role.series, unit: role.unit, values: v } : undefined;
}

/** Diameters (mm) for RECIST, or undefined when the result has no tumor series. */
export function diameterSeries(
  result: ResultLike,
  model: CompiledModel,
  tumor: Series | undefined,
): number[] | undefined {
  const role = model.spec.roles?.tumor;
  if (role?.diameter) {
    const d = seriesValues(result, role.diameter);
    if (d) return d;
  }
  if (!tumor) return undefined;
  if (tumor.unit === 'mm') return tumor.values;
  if (tumor.unit === 'mm3') return tumor.values.map(sphereDiameter);
  const density = role?.cellsPerMm3 ?? CELLS_PER_MM3;
  return tumor.values.map((c) => sphereDiameter(c / density));
}

export interface RecistMetrics {
  baselineDiameter_mm: number;
  nadirDiameter_mm?: number;
  bestPercentChangeDiameter?: number;
  bestOverallResponse: RecistCategory;
  confirmedBestOverallResponse: RecistCategory;
  /** Why the response is NE. */
  recistNotEvaluable?: string;
  progressed?: boolean;
  timeToProgression?: number;
  timeToResponse?: number;
  durationOfResponse?: number;
}

/**
 * RECIST 1.1 from a diameter series (see the conventions at the top of this file). `daysPerUnit` converts
 * model time to days for the clinical windows (1 for a model in days, 7 in weeks, 1/24 in hours).
 */
export function recist(times: readonly number[], d: readonly number[], daysPerUnit = 1): RecistMetrics | undefined {
  const n = times.length;
  if (n === 0 || !finite(d as number[])) return undefined;
  const base = d[0];
  if (!(base >= MEASURABLE_MM)) {
    return {
      baselineDiameter_mm: base,
      bestOverallResponse: 'NE',
      confirmedBestOverallResponse: 'NE',
      recistNotEvaluable: `baseline diameter ${base.toPrecision(3)} mm is below the RECIST 1.1 measurability limit of ${MEASURABLE_MM} mm`,
    };
  }
  const sdMin = SD_MIN_DAYS / daysPerUnit;
  const confirmWindow = CONFIRM_DAYS / daysPerUnit;
  const t0 = times[0];
  let smallest = base;
  let nadir = base;
  let tpd: number | undefined;
  const cats: RecistCategory[] = [];
  for (let k = 1; k < n; k++) {
    const dk = d[k];
    let c: RecistCategory;
    if (dk >= smallest * (1 + PD_FRACTION) && dk - smallest >= PD_ABSOLUTE_MM) c = 'PD';
    else if (dk < CR_DIAMETER_MM) c = 'CR';
    else if (dk <= base * (1 - PR_FRACTION)) c = 'PR';
    else c = 'SD';
    cats.push(c);
    if (c === 'PD') {
      tpd = times[k];
      break;
    }
    smallest = Math.min(smallest, dk);
    nadir = Math.min(nadir, dk);
  }
  // Assessments before progression: indices 1..m in the series (cats[j] is time index j+1).
  const pre = tpd === undefined ? cats : cats.slice(0, -1);
  const rank: Record<RecistCategory, number> = { CR: 3, PR: 2, SD: 1, PD: 0, NE: -1 };
  const sdOk = tpd === undefined || tpd - t0 >= sdMin;
  const best = (confirmed: boolean): RecistCategory => {
    const b: RecistCategory = pre.length > 0 && sdOk ? 'SD' : tpd === undefined ? 'SD' : 'PD';
    for (const target of ['CR', 'PR'] as const) {
      // A CR is also a PR (diameter below 1 mm is far below 70 % of baseline).
      const meets = (c: RecistCategory) => rank[c] >= rank[target];
      for (let j = 0; j < pre.length; j++) {
        if (!meets(pre[j])) continue;
        if (!confirmed) return rank[target] > rank[b] ? target : b;
        // Confirmed: the category holds from times[j+1] for at least the confirmation window.
        const start = times[j + 1];
        let k = j;
        while (k < pre.length && meets(pre[k])) k++;
        const lastHeld = times[k];
        if (lastHeld - start >= confirmWindow) return rank[target] > rank[b] ? target : b;
        j = k;
      }
    }
    return b;
  };
  const out: RecistMetrics = {
    baselineDiameter_mm: base,
    nadirDiameter_mm: nadir,
    bestOverallResponse: best(false),
    confirmedBestOverallResponse: best(true),
    progressed: tpd !== undefined,
  };
  if (n > 1) {
    let m = Infinity;
    for (let k = 1; k < n; k++) m = Math.min(m, d[k]);
    out.bestPercentChangeDiameter = (100 * (m - base)) / base;
  }
  if (tpd !== undefined) out.timeToProgression = tpd - t0;
  const jr = pre.findIndex((c) => c === 'PR' || c === 'CR');
  if (jr >= 0) {
    out.timeToResponse = times[jr + 1] - t0;
    if (tpd !== undefined) out.durationOfResponse = tpd - times[jr + 1];
  }
  return out;
}

export interface ArmMetrics {
  timeToBaseline?: number;
  belowBaselineAtEnd?: boolean;
  depthOfResponse: number;
  responseArea: number;
}

/**
 * Arm-comparison metrics of a tumor series (definitions in METRIC_DEFINITIONS): unlike RECIST TTP, which is
 * measured from each arm's own nadir, these order arms consistently: a tumor that is smaller at every time
 * returns to baseline later and has a larger depth and response area. Crossings are located by linear
 * interpolation between metrics times.
 */
export function armMetrics(times: readonly number[], y: readonly number[], returnFraction = 1): ArmMetrics | undefined {
  const n = times.length;
  if (n < 2 || !finite(y as number[]) || !(y[0] > 0)) return undefined;
  const base = y[0];
  const level = returnFraction * base;
  let nadir = base;
  let area = 0;
  const rel = (v: number) => Math.max(0, 1 - v / base);
  for (let k = 1; k < n; k++) {
    nadir = Math.min(nadir, y[k]);
    const a = rel(y[k - 1]);
    const b = rel(y[k]);
    const h = times[k] - times[k - 1];
    if (a > 0 === b > 0 || a === b) area += 0.5 * (a + b) * h;
    else {
      // One end is at or above baseline: integrate only the triangle below it (exact for the linear interpolant).
      const pos = Math.max(a, b);
      const u = 1 - y[k - 1] / base;
      const v = 1 - y[k] / base;
      area += (0.5 * pos * (h * pos)) / Math.abs(v - u);
    }
  }
  const out: ArmMetrics = { depthOfResponse: 1 - nadir / base, responseArea: area };
  const firstBelow = y.findIndex((v) => v < level);
  if (firstBelow < 0) out.timeToBaseline = 0;
  else {
    let back: number | undefined;
    for (let k = firstBelow + 1; k < n; k++) {
      if (y[k] >= level) {
        const w = (level - y[k - 1]) / (y[k] - y[k - 1]);
        back = times[k - 1] + w * (times[k] - times[k - 1]);
        break;
      }
    }
    if (back === undefined) out.belowBaselineAtEnd = true;
    else out.timeToBaseline = back - times[0];
  }
  return out;
}

/** States an expression depends on, through assignments. */
function stateDependencies(model: CompiledModel, expr: string): Set<string> {
  const out = new Set<string>();
  const seen = new Set<string>();
  const visit = (source: string) => {
    let syms: Set<string>;
    try {
      syms = parseExpression(source).symbols;
    } catch {
      return;
    }
    for (const s of syms) {
      if (seen.has(s)) continue;
      seen.add(s);
      if (model.stateIndex.has(s)) out.add(s);
      else if (Object.hasOwn(model.spec.assignments, s)) visit(model.spec.assignments[s]);
    }
  };
  visit(expr);
  return out;
}

export interface DrugMetrics {
  series: string;
  unit: string;
  /** The states its doses go into (roles.drugs.<drug>.doseTarget, else those its concentration depends on). */
  doseTargets: string[];
  doses: number;
  Cmax: number;
  tmax: number;
  AUC: number;
  /** How AUC and the occupancy metrics were computed: on the solver's dense output, or trapezoids on the metrics grid. */
  integration: 'dense-output' | 'trapezoid';
  Ctrough?: number;
  CtroughCycle1?: number;
  meanOccupancy?: number;
  timeOccupancyAbove90?: number;
  threshold?: number;
  timeAboveThreshold?: number;
}

type DrugRole = NonNullable<RolesSpec['drugs']>[string];

/** The states a drug's doses go into: its declared doseTarget, else the states its concentration depends on. */
export function doseTargets(model: CompiledModel, role: DrugRole): Set<string> {
  if (role.doseTarget !== undefined)
    return new Set(Array.isArray(role.doseTarget) ? role.doseTarget : [role.doseTarget]);
  const name = role.concentration;
  if (Object.hasOwn(model.spec.states, name)) return new Set([name]);
  const spec = model.spec.outputs[name];
  return stateDependencies(model, typeof spec === 'string' ? spec : spec.expr);
}

/** Time spent at or above `level` by the linear interpolant of (t, y). */
function timeAbove(t: readonly number[], y: readonly number[], level: number): number {
  let s = 0;
  for (let k = 1; k < t.length; k++) {
    const a = y[k - 1] - level;
    const b = y[k] - level;
    const h = t[k] - t[k - 1];
    if (a >= 0 && b >= 0) s += h;
    else if (a >= 0 || b >= 0) s += (h * Math.max(a, b)) / Math.abs(b - a);
  }
  return s;
}

export function drugMetrics(
  result: ResultLike,
  model: CompiledModel,
  exposure?: ExposureIntegrals,
): Record<string, DrugMetrics> {
  const out: Record<string, DrugMetrics> = {};
  const t = result.times;
  for (const [drug, role] of Object.entries(model.spec.roles?.drugs ?? {})) {
    const c = seriesValues(result, role.concentration);
    if (!c || !finite(c)) continue;
    let imax = 0;
    for (let k = 1; k < c.length; k++) if (c[k] > c[imax]) imax = k;
    if (!(c[imax] > 0)) continue;
    const targets = doseTargets(model, role);
    const doses = result.doses.filter((d) => targets.has(d.target) && d.amount > 0).sort((a, b) => a.time - b.time);
    const times = [...new Set(doses.map((d) => d.time))];
    const ex = exposure?.drugs[drug];
    const m: DrugMetrics = {
      series: role.concentration,
      unit: role.unit ?? '',
      doseTargets: [...targets],
      doses: doses.length,
      Cmax: c[imax],
      tmax: t[imax],
      AUC: ex ? ex.auc : trapezoid(t, c),
      integration: ex ? 'dense-output' : 'trapezoid',
    };
    const before = (td: number): number | undefined => {
      const isInfusion =
        doses.some((d) => d.time === td && d.duration !== undefined) &&
        !doses.some((d) => d.time === td && d.duration === undefined);
      if (isInfusion) return interpolate(t, c, td);
      let k = -1;
      for (let j = 0; j < t.length && t[j] < td; j++) k = j;
      return k >= 0 ? c[k] : undefined;
    };
    if (times.length >= 2) {
      const last = before(times[times.length - 1]);
      const second = before(times[1]);
      if (last !== undefined) m.Ctrough = last;
      if (second !== undefined) m.CtroughCycle1 = second;
    }
    if (role.threshold !== undefined) {
      m.threshold = role.threshold;
      m.timeAboveThreshold = ex?.timeAboveThreshold ?? timeAbove(t, c, role.threshold);
    }
    const ro = role.occupancy !== undefined ? seriesValues(result, role.occupancy) : undefined;
    if (ex?.occupancySpan !== undefined && ex.occupancySpan > 0) {
      m.meanOccupancy = ex.occupancyIntegral! / ex.occupancySpan;
      m.timeOccupancyAbove90 = ex.timeOccupancyAbove90;
    } else if (ro && finite(ro)) {
      const from = times.length ? times[0] : t[0];
      const tt: number[] = [];
      const yy: number[] = [];
      if (from > t[0] && from < t[t.length - 1]) {
        tt.push(from);
        yy.push(interpolate(t, ro, from));
      }
      for (let k = 0; k < t.length; k++) {
        if (t[k] >= from && !(tt.length && t[k] === tt[tt.length - 1])) {
          tt.push(t[k]);
          yy.push(ro[k]);
        }
      }
      const span = tt.length > 1 ? tt[tt.length - 1] - tt[0] : 0;
      if (span > 0) {
        m.meanOccupancy = trapezoid(tt, yy) / span;
        m.timeOccupancyAbove90 = timeAbove(tt, yy, 0.9);
      }
    }
    out[drug] = m;
  }
  return out;
}

/** Plausibility warnings: values a body cannot hold (see PLAUSIBLE), reported instead of silent numbers. */
export function plausibilityWarnings(
  result: ResultLike,
  model: CompiledModel,
  tumor: Series | undefined,
  drugs: Record<string, DrugMetrics>,
): string[] {
  const out: string[] = [];
  const maxOf = (v: readonly number[]) => v.reduce((m, x) => (x > m ? x : m), -Infinity);
  const when = (v: readonly number[], m: number) => result.times[v.indexOf(m)];
  for (const name of model.spec.roles?.effectors ?? []) {
    const v = seriesValues(result, name);
    if (!v) continue;
    const m = maxOf(v);
    if (m > PLAUSIBLE.effectorCells)
      out.push(
        `'${name}' reaches ${m.toPrecision(3)} cells at t = ${when(v, m)}, above the body's whole T-cell pool (~${PLAUSIBLE.effectorCells.toExponential(0)} cells)`,
      );
  }
  if (tumor) {
    const density = model.spec.roles?.tumor?.cellsPerMm3 ?? CELLS_PER_MM3;
    const m = maxOf(tumor.values);
    const cells = tumor.unit === 'cells' ? m : tumor.unit === 'mm3' ? m * density : (Math.PI / 6) * m ** 3 * density;
    if (cells > PLAUSIBLE.tumorCells)
      out.push(
        `tumor '${tumor.name}' reaches ${cells.toPrecision(3)} cells at t = ${when(tumor.values, m)} (about ${(cells / 1e12).toPrecision(2)} kg), above ${PLAUSIBLE.tumorCells.toExponential(0)} cells`,
      );
  }
  for (const [drug, d] of Object.entries(drugs)) {
    const label = model.spec.roles?.drugs?.[drug]?.labelCmax;
    if (label !== undefined && d.Cmax > PLAUSIBLE.labelCmaxFactor * label) {
      out.push(
        `${drug}: Cmax ${d.Cmax.toPrecision(3)} ${d.unit} is more than ${PLAUSIBLE.labelCmaxFactor}x the label Cmax (${label} ${d.unit})`,
      );
    }
  }
  return out;
}

export function computeMetrics(
  result: ResultLike,
  model: CompiledModel,
  exposure?: ExposureIntegrals,
): Record<string, unknown> {
  const metrics: Record<string, unknown> = {};
  const t = result.times;
  if (!t.length) return metrics;
  const tumor = tumorSeries(result, model);
  metrics.timeUnit = model.spec.timeUnit;
  if (tumor && finite(tumor.values)) {
    const y = tumor.values;
    metrics.tumorSeries = tumor.name;
    metrics.tumorUnit = tumor.unit;
    const baseline = y[0];
    let inadir = 0;
    for (let k = 1; k < y.length; k++) if (y[k] < y[inadir]) inadir = k;
    metrics.baseline = baseline;
    metrics.nadir = y[inadir];
    metrics.timeOfNadir = t[inadir];
    metrics.final = y[y.length - 1];
    if (baseline > 0 && y.length > 1) {
      let best = Infinity;
      for (let k = 1; k < y.length; k++) best = Math.min(best, y[k]);
      metrics.bestPercentChange = (100 * (best - baseline)) / baseline;
      metrics.finalPercentChange = (100 * (y[y.length - 1] - baseline)) / baseline;
    }
    if (t.length > 1) metrics.tumorAUC = trapezoid(t, y);
    const izero = y.findIndex((v) => v === 0);
    if (izero >= 0 && baseline > 0) {
      metrics.tumorEliminated = y[y.length - 1] === 0;
      const evs = result.events.filter((e) => e.kind !== 'dose' && e.time <= t[izero]);
      metrics.timeOfElimination = evs.length ? evs[evs.length - 1].time : t[izero];
    }
    if (result.events.length) {
      const ev = result.events.filter((e) => e.kind !== 'dose');
      if (ev.length) metrics.events = ev.map((e) => ({ name: e.name, time: e.time }));
    }
    const arm = armMetrics(t, y);
    if (arm) Object.assign(metrics, arm);
  }
  const d = diameterSeries(result, model, tumor);
  if (d) {
    const r = recist(t, d, daysPerUnit(model));
    if (r) Object.assign(metrics, r);
  }
  const alf = result.outputs.antigenLowFraction;
  if (alf && finite(alf) && alf.length) {
    metrics.antigenLowFractionBaseline = alf[0];
    metrics.antigenLowFractionFinal = alf[alf.length - 1];
  }
  const drugs = drugMetrics(result, model, exposure);
  if (Object.keys(drugs).length) metrics.drugs = drugs;
  const warn = plausibilityWarnings(result, model, tumor && finite(tumor.values) ? tumor : undefined, drugs);
  if (warn.length) metrics.plausibility = warn;
  return metrics;
}
