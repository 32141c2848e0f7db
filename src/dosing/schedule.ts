// Doses → administrations → a timeline of discontinuities. An administration is one dose as the model
// receives it: bioavailability applied to the amount, the lag added to the time, the infusion duration
// fixed (from `duration`, from `rate`, or from the model's `dosing` when the dose says "model"). A bolus is
// a jump of its target state; an infusion is a rate switched on at its start and off at its end. Repeats
// (`every`, `count`) are expanded here; doses at the same time add up.
import type { Dose } from '../scenario/schema.ts';
import { LIMITS } from '../scenario/schema.ts';
import { InputError, type Issue } from '../errors.ts';
import type { Discontinuity } from '../solve/solve_ivp.ts';
import type { CompiledModel } from '../model/compile.ts';

export interface DoseRecord {
  target: string;
  index: number;
  /** When the target receives it (the scheduled time plus the lag). */
  time: number;
  /** The scheduled time (dose record time), at which dosing rules decide. */
  scheduled: number;
  /** Amount reaching the target (bioavailability applied). */
  amount: number;
  duration?: number;
  /** Infusion rate when fixed by the dose (a constant steady-state infusion has no end within the run). */
  rate?: number;
  label?: string;
  /** Steady state before this administration (1: replace the state, 2: add), with its interval. */
  steadyState?: 1 | 2;
  interval?: number;
  /** Entry in the dose list it came from. */
  entry: number;
}

/** What an expansion needs besides the doses: body size, and the parameter-and-covariate vector in force at a time. */
export interface DoseContext {
  weight: number;
  /** Body surface area in m² (absent when height is not given). */
  bsa?: number;
  /** p (parameters then covariates) at a time: dose modifiers are evaluated with the dose record's values. */
  paramsAt: (t: number) => Float64Array;
}

/** One administration of entry d at scheduled time `at` (issues pushed under `path`). */
function administration(
  d: Dose,
  k: number,
  at: number,
  index: number,
  entry: number,
  model: CompiledModel,
  ctx: DoseContext,
  path: (string | number)[],
  issues: Issue[],
): DoseRecord | null {
  const p = ctx.paramsAt(at);
  const mods = model.doseModifiers.get(index);
  let base: number;
  if (d.amount !== undefined) base = d.amount;
  else if (d.amountPerKg !== undefined) base = d.amountPerKg * ctx.weight;
  else {
    if (ctx.bsa === undefined) {
      issues.push({
        path: [...path, 'amountPerM2'],
        message: "amountPerM2 needs the body surface area: give the scenario's height (cm) and weight (kg)",
      });
      return null;
    }
    base = (d.amountPerM2 ?? 0) * ctx.bsa;
  }
  const F = d.bioavailability ?? mods?.bioavailability?.(p) ?? 1;
  const lag = d.lag ?? mods?.lag?.(p) ?? 0;
  if (!(Number.isFinite(F) && F >= 0))
    issues.push({
      path: [...path, 'bioavailability'],
      message: `bioavailability is ${F} at t = ${at} (must be finite and >= 0)`,
    });
  if (!(Number.isFinite(lag) && lag >= 0))
    issues.push({ path: [...path, 'lag'], message: `lag is ${lag} at t = ${at} (must be finite and >= 0)` });
  const amount = base * F;
  if (!Number.isFinite(amount)) {
    issues.push({
      path: [...path, d.amount !== undefined ? 'amount' : d.amountPerKg !== undefined ? 'amountPerKg' : 'amountPerM2'],
      message: `the amount given is not finite (${amount})`,
    });
    return null;
  }
  const rec: DoseRecord = {
    target: d.target,
    index,
    time: at + lag,
    scheduled: at,
    amount,
    entry,
    ...(d.label ? { label: d.label } : {}),
  };
  const fromModel = (what: 'rate' | 'duration') => {
    const f = mods?.[what];
    if (!f) {
      issues.push({
        path: [...path, what],
        message: `${what} "model" (NONMEM RATE = ${what === 'rate' ? -1 : -2}) needs a ${what} for '${d.target}' in the model's dosing`,
      });
      return NaN;
    }
    const v = f(p);
    if (!(Number.isFinite(v) && v > 0))
      issues.push({
        path: [...path, what],
        message: `the model's ${what} for '${d.target}' is ${v} at t = ${at} (must be > 0)`,
      });
    return v;
  };
  // As NONMEM: a given rate is kept and F changes the duration; a given duration is kept and F changes the rate.
  if (d.duration !== undefined) rec.duration = d.duration === 'model' ? fromModel('duration') : d.duration;
  else if (d.rate !== undefined) {
    const R = d.rate === 'model' ? fromModel('rate') : d.rate;
    if (base === 0 && d.steadyState)
      rec.rate = R * F; // constant infusion at steady state
    else rec.duration = amount / R;
  }
  if (rec.duration !== undefined && !Number.isFinite(amount / rec.duration)) {
    issues.push({
      path: [...path, d.rate !== undefined ? 'rate' : 'duration'],
      message: 'amount / duration is not a finite infusion rate',
    });
    return null;
  }
  if (k === 0 && d.steadyState) {
    rec.steadyState = d.steadyState === 2 ? 2 : 1;
    if (d.every !== undefined) rec.interval = d.every;
    if (lag > 0)
      issues.push({
        path: [...path, 'lag'],
        message: 'a steady-state dose with a lag is not supported: put the lag into the dose time',
      });
  }
  return rec;
}

/**
 * Expand dose entries into one record per administration. `pathOf(i)` gives the JSON path of entry i
 * (they may come from `doses` or from expanded `therapies`).
 */
export function expandDoses(
  doses: Dose[],
  model: CompiledModel,
  ctx: DoseContext,
  pathOf: (i: number) => (string | number)[],
): DoseRecord[] {
  const issues: Issue[] = [];
  const out: DoseRecord[] = [];
  doses.forEach((d, i) => {
    const index = model.stateIndex.get(d.target);
    if (index === undefined) {
      issues.push({
        path: [...pathOf(i), 'target'],
        message: `'${d.target}' is not a state of the model (states: ${model.stateNames.join(', ')})`,
      });
      return;
    }
    if (out.length + d.count > LIMITS.doseEvents) {
      issues.push({
        path: [...pathOf(i), 'count'],
        message: `too many administrations in total (at most ${LIMITS.doseEvents})`,
      });
      return;
    }
    // Every administration (and infusion end) within |t| <= LIMITS.maxTime, like the output times.
    const last = d.start + (d.count - 1) * (d.every ?? 0) + (typeof d.duration === 'number' ? d.duration : 0);
    if (!(Math.abs(last) <= LIMITS.maxTime)) {
      issues.push({
        path: [...pathOf(i), d.count > 1 ? 'every' : 'duration'],
        message: `the last administration ends at t = ${last}, out of range (|t| <= ${LIMITS.maxTime})`,
      });
      return;
    }
    for (let k = 0; k < d.count; k++) {
      const r = administration(d, k, d.start + k * (d.every ?? 0), index, i, model, ctx, pathOf(i), issues);
      if (issues.length) break;
      if (r) out.push(r);
    }
  });
  if (issues.length) throw new InputError(issues.slice(0, 20));
  out.sort((a, b) => a.time - b.time || a.index - b.index);
  return out;
}

/** The discontinuities of a dose list, merged by time and sorted. */
export function doseTimeline(records: DoseRecord[]): Discontinuity[] {
  const byTime = new Map<number, Discontinuity>();
  const at = (t: number) => {
    let d = byTime.get(t);
    if (!d) {
      d = { t, jumps: [], rateChanges: [] };
      byTime.set(t, d);
    }
    return d;
  };
  for (const r of records) {
    if (r.rate !== undefined) {
      if (r.rate === 0) continue;
      at(r.time).rateChanges.push({ index: r.index, delta: r.rate });
      if (r.duration !== undefined) at(r.time + r.duration).rateChanges.push({ index: r.index, delta: -r.rate });
    } else if (r.duration === undefined) {
      if (r.amount !== 0) at(r.time).jumps.push({ index: r.index, amount: r.amount });
    } else {
      const rate = r.amount / r.duration;
      if (rate === 0) continue;
      at(r.time).rateChanges.push({ index: r.index, delta: rate });
      at(r.time + r.duration).rateChanges.push({ index: r.index, delta: -rate });
    }
  }
  return [...byTime.values()].sort((a, b) => a.t - b.t);
}
