// Doses → a timeline of discontinuities: a bolus is a jump of its target state; an infusion is a rate
// switched on at its start and off at its end. Repeats (`every`, `count`) are expanded here; doses at the
// same time add up.
import type { Dose } from '../scenario/schema.ts';
import { LIMITS } from '../scenario/schema.ts';
import { InputError, type Issue } from '../errors.ts';
import type { Discontinuity } from '../solve/solve_ivp.ts';

export interface DoseRecord {
  target: string;
  index: number;
  time: number;
  amount: number;
  duration?: number;
  label?: string;
}

/**
 * Expand dose entries into one record per administration. `pathOf(i)` gives the JSON path of entry i
 * (they may come from `doses` or from expanded `therapies`).
 */
export function expandDoses(
  doses: Dose[], stateIndex: Map<string, number>, weight: number, pathOf: (i: number) => (string | number)[],
): DoseRecord[] {
  const issues: Issue[] = [];
  const out: DoseRecord[] = [];
  doses.forEach((d, i) => {
    const index = stateIndex.get(d.target);
    if (index === undefined) {
      issues.push({ path: [...pathOf(i), 'target'], message: `'${d.target}' is not a state of the model (states: ${[...stateIndex.keys()].join(', ')})` });
      return;
    }
    const amount = d.amount ?? (d.amountPerKg ?? 0) * weight;
    if (out.length + d.count > LIMITS.doseEvents) {
      issues.push({ path: [...pathOf(i), 'count'], message: `too many administrations in total (at most ${LIMITS.doseEvents})` });
      return;
    }
    if (!Number.isFinite(amount)) {
      issues.push({ path: [...pathOf(i), 'amountPerKg'], message: `amountPerKg x weight is not a finite amount` });
      return;
    }
    if (d.duration !== undefined && !Number.isFinite(amount / d.duration)) {
      issues.push({ path: [...pathOf(i), 'duration'], message: 'amount / duration is not a finite infusion rate' });
      return;
    }
    // Every administration (and infusion end) within |t| <= LIMITS.maxTime, like the output times.
    const last = d.start + (d.count - 1) * (d.every ?? 0) + (d.duration ?? 0);
    if (!(Math.abs(last) <= LIMITS.maxTime)) {
      issues.push({ path: [...pathOf(i), d.count > 1 ? 'every' : 'duration'], message: `the last administration ends at t = ${last}, out of range (|t| <= ${LIMITS.maxTime})` });
      return;
    }
    for (let k = 0; k < d.count; k++) {
      const time = d.start + k * (d.every ?? 0);
      out.push({ target: d.target, index, time, amount, duration: d.duration, label: d.label });
    }
  });
  if (issues.length) throw new InputError(issues);
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
    if (r.duration === undefined) {
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
