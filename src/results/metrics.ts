// Response metrics of a simulation result: tumor burden (baseline, nadir, best change, AUC, elimination),
// RECIST 1.1 response from the sum of diameters, and per-drug exposure (Cmax, Ctrough, AUC, occupancy).
// Metrics that do not apply to a result are omitted, never NaN.
//
// Conventions (stated here because a simulation is not a trial):
// - Tumor series: output `tumor`, else output `tumorVolume_mm3`, else a state named `T` or `tumor`.
// - Diameter: an output `sumOfDiameters_mm` if the model has one; else the diameter of a sphere of the
//   tumor volume, d = (6 V / pi)^(1/3) mm, with V from the output `tumorVolume_mm3` or, for a series in
//   cells, V = cells / 1e6 mm3 (1e9 cells per cm3). d is proportional to V^(1/3).
// - RECIST 1.1 is applied at every output time (continuous assessment, not scheduled scans), against the
//   baseline (first output time) for response and against the smallest diameter so far (baseline
//   included) for progression:
//     CR  diameter below CR_DIAMETER_MM (the lesion has disappeared: eliminated or below imaging
//         resolution);
//     PR  diameter at least 30 % below baseline;
//     PD  diameter at least 20 % above the smallest so far AND at least 5 mm above it in absolute terms
//         (both conditions, as RECIST 1.1 requires: a 20 % rise of a 10 mm lesion is not progression);
//     SD  otherwise.
//   Time to progression is the first output time after baseline meeting PD. Best overall response
//   (BOR) is the best of CR > PR > SD among assessments before progression; SD counts only if it lasted
//   at least SD_MIN_DAYS (a first scan at about 6 weeks) or no progression occurred, otherwise BOR is PD.
//   The confirmed BOR additionally requires CR/PR to hold continuously for CONFIRM_DAYS (4 weeks).
// - Best percent change is the minimum over the times after baseline (the waterfall-plot convention), so
//   a tumor that only grows has a positive best change; the nadir includes the baseline.
// - Drugs: every output `C_<drug>` (a concentration) with a nonzero value. Its doses are those whose
//   target state the output depends on. Cmax and its time, AUC (trapezoid, concentration x time),
//   Ctrough = concentration just before the last administration (needs two or more in the window),
//   CtroughCycle1 = just before the second; mean occupancy = time average of `RO_<drug>` from the first
//   administration to the end. "Just before" an infusion is its value at the start time; before a bolus,
//   the last output time before it. All of these are read on the output grid: for short-lived drugs
//   (aldesleukin t1/2 85 min, interferon 1.7 h) use a fine grid (e.g. step 0.01 day) to see their peaks.
import type { CompiledModel } from '../model/compile.ts';
import type { SimulationResult } from '../scenario/schema.ts';
import { parseExpression } from '../model/expression.ts';

export const CR_DIAMETER_MM = 1;
export const PR_FRACTION = 0.3;
export const PD_FRACTION = 0.2;
export const PD_ABSOLUTE_MM = 5;
export const SD_MIN_DAYS = 42;
export const CONFIRM_DAYS = 28;
export const CELLS_PER_MM3 = 1e6;

export type RecistCategory = 'CR' | 'PR' | 'SD' | 'PD';
type ResultLike = Omit<SimulationResult, 'metrics'>;

const finite = (xs: readonly number[]) => xs.every((v) => typeof v === 'number' && Number.isFinite(v));

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
  kind: 'output' | 'state';
  unit: string;
  values: number[];
}

function unitOf(model: CompiledModel, name: string, kind: 'output' | 'state'): string {
  if (kind === 'state') return model.spec.states[name]?.unit ?? '';
  const o = model.spec.outputs[name];
  if (o && typeof o === 'object') return o.unit ?? '';
  return name === 'tumorVolume_mm3' ? 'mm3' : name === 'tumor' ? 'cells' : '';
}

/** The tumor series of a result (see the conventions above), or undefined. */
export function tumorSeries(result: ResultLike, model: CompiledModel): Series | undefined {
  for (const name of ['tumor', 'tumorVolume_mm3']) {
    const v = result.outputs[name];
    if (v) return { name, kind: 'output', unit: unitOf(model, name, 'output'), values: v };
  }
  for (const name of ['T', 'tumor']) {
    const v = result.states[name];
    if (v) return { name, kind: 'state', unit: unitOf(model, name, 'state'), values: v };
  }
  return undefined;
}

/** Diameters (mm) for RECIST, or undefined when the result has no size in a known unit. */
export function diameterSeries(result: ResultLike, model: CompiledModel, tumor: Series | undefined): number[] | undefined {
  const sld = result.outputs.sumOfDiameters_mm;
  if (sld) return sld;
  const vol = result.outputs.tumorVolume_mm3;
  if (vol) return vol.map(sphereDiameter);
  if (!tumor) return undefined;
  const u = tumor.unit.trim().toLowerCase();
  if (u === 'cells' || u === 'cell') return tumor.values.map((c) => sphereDiameter(c / CELLS_PER_MM3));
  if (u === 'mm3' || u === 'mm^3') return tumor.values.map(sphereDiameter);
  return undefined;
}

export interface RecistMetrics {
  baselineDiameter_mm: number;
  nadirDiameter_mm: number;
  bestPercentChangeDiameter?: number;
  bestOverallResponse: RecistCategory;
  confirmedBestOverallResponse: RecistCategory;
  progressed: boolean;
  timeToProgression?: number;
  timeToResponse?: number;
  durationOfResponse?: number;
}

/** RECIST 1.1 from a diameter series (see the conventions at the top of this file). */
export function recist(times: readonly number[], d: readonly number[]): RecistMetrics | undefined {
  const n = times.length;
  if (n === 0 || !finite(d as number[]) || !(d[0] > 0)) return undefined;
  const base = d[0];
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
  const rank: Record<RecistCategory, number> = { CR: 3, PR: 2, SD: 1, PD: 0 };
  const sdOk = tpd === undefined || tpd - t0 >= SD_MIN_DAYS;
  const best = (confirmed: boolean): RecistCategory => {
    const b: RecistCategory = pre.length > 0 && sdOk ? 'SD' : tpd === undefined ? 'SD' : 'PD';
    for (const target of ['CR', 'PR'] as const) {
      // A CR is also a PR (diameter below 1 mm is far below 70 % of baseline).
      const meets = (c: RecistCategory) => rank[c] >= rank[target];
      for (let j = 0; j < pre.length; j++) {
        if (!meets(pre[j])) continue;
        if (!confirmed) return rank[target] > rank[b] ? target : b;
        // Confirmed: the category holds from times[j+1] for at least CONFIRM_DAYS, within the series.
        const start = times[j + 1];
        let k = j;
        while (k < pre.length && meets(pre[k])) k++;
        const lastHeld = times[k]; // time index k is the last one that met it (pre[k-1] ↔ times[k])
        if (lastHeld - start >= CONFIRM_DAYS) return rank[target] > rank[b] ? target : b;
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
      else if (s in model.spec.assignments) visit(model.spec.assignments[s]);
    }
  };
  visit(expr);
  return out;
}

export interface DrugMetrics {
  output: string;
  unit: string;
  doses: number;
  Cmax: number;
  tmax: number;
  AUC: number;
  Ctrough?: number;
  CtroughCycle1?: number;
  meanOccupancy?: number;
}

export function drugMetrics(result: ResultLike, model: CompiledModel): Record<string, DrugMetrics> {
  const out: Record<string, DrugMetrics> = {};
  const t = result.times;
  for (const [name, c] of Object.entries(result.outputs)) {
    if (!name.startsWith('C_') || !finite(c)) continue;
    const drug = name.slice(2);
    let imax = 0;
    for (let k = 1; k < c.length; k++) if (c[k] > c[imax]) imax = k;
    if (!(c[imax] > 0)) continue;
    const spec = model.spec.outputs[name];
    const expr = typeof spec === 'string' ? spec : spec?.expr;
    const states = expr ? stateDependencies(model, expr) : new Set<string>();
    const doses = result.doses.filter((d) => states.has(d.target) && d.amount > 0).sort((a, b) => a.time - b.time);
    const times = [...new Set(doses.map((d) => d.time))];
    const m: DrugMetrics = {
      output: name,
      unit: (typeof spec === 'object' ? spec.unit : undefined) ?? '',
      doses: doses.length,
      Cmax: c[imax],
      tmax: t[imax],
      AUC: trapezoid(t, c),
    };
    const before = (td: number): number | undefined => {
      const isInfusion = doses.some((d) => d.time === td && d.duration !== undefined) && !doses.some((d) => d.time === td && d.duration === undefined);
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
    const ro = result.outputs[`RO_${drug}`];
    if (ro && finite(ro)) {
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
      if (span > 0) m.meanOccupancy = trapezoid(tt, yy) / span;
    }
    out[drug] = m;
  }
  return out;
}

export function computeMetrics(result: ResultLike, model: CompiledModel): Record<string, unknown> {
  const metrics: Record<string, unknown> = {};
  const t = result.times;
  if (!t.length) return metrics;
  const tumor = tumorSeries(result, model);
  if (tumor && finite(tumor.values)) {
    const y = tumor.values;
    metrics.tumorSeries = tumor.name;
    if (tumor.unit) metrics.tumorUnit = tumor.unit;
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
  }
  const d = diameterSeries(result, model, tumor);
  if (d) {
    const r = recist(t, d);
    if (r) Object.assign(metrics, r);
  }
  const alf = result.outputs.antigenLowFraction;
  if (alf && finite(alf) && alf.length) {
    metrics.antigenLowFractionBaseline = alf[0];
    metrics.antigenLowFractionFinal = alf[alf.length - 1];
  }
  const drugs = drugMetrics(result, model);
  if (Object.keys(drugs).length) metrics.drugs = drugs;
  return metrics;
}
