// A checked subject (types.ts) → what a scenario needs: doses in scenario form, and the output times with,
// for each, whether its value is taken before the doses at that time (file order, as NONMEM).
import type { DoseInput } from '../scenario/schema.ts';
import type { SubjectData } from './types.ts';

/** The subject's doses as scenario dose entries (without the dataset bookkeeping). */
export function subjectDoses(s: SubjectData): DoseInput[] {
  return s.doses.map((d) => {
    const { line: _line, order: _order, ...dose } = d;
    return dose as DoseInput;
  });
}

export interface OutputPlan {
  /** Output times, non-decreasing; at equal times the pre-dose one first. */
  times: number[];
  pre: Uint8Array;
  /** For each observation of the subject, its row in `times`. */
  row: number[];
  /** Distinct times, for a scenario's `times` (strictly increasing). */
  unique: number[];
}

/** Output rows of a subject's observation records (a subject without any gets its last record time). */
export function outputPlan(s: SubjectData): OutputPlan {
  const isPre = (time: number, order: number) =>
    s.doses.some((d) => d.start === time && (d.order ?? 0) > order) ||
    s.resets.some((t, k) => t === time && (s.resetOrders?.[k] ?? 0) > order);
  const keys = new Map<string, { time: number; pre: number }>();
  const keyOf = s.observations.map((o) => {
    const pre = isPre(o.time, o.order) ? 1 : 0;
    const k = `${o.time}|${pre}`;
    if (!keys.has(k)) keys.set(k, { time: o.time, pre });
    return k;
  });
  if (!keys.size) {
    const last = Math.max(0, ...s.doses.map((d) => d.start ?? 0), ...s.resets);
    keys.set('end', { time: last, pre: 0 });
  }
  const sorted = [...keys.entries()].sort((a, b) => a[1].time - b[1].time || b[1].pre - a[1].pre);
  const index = new Map(sorted.map(([k], i) => [k, i]));
  return {
    times: sorted.map(([, v]) => v.time),
    pre: Uint8Array.from(sorted.map(([, v]) => v.pre)),
    row: keyOf.map((k) => index.get(k)!),
    unique: [...new Set(sorted.map(([, v]) => v.time))],
  };
}
