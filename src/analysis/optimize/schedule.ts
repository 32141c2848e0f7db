// The pieces of a dosing schedule search shared by the single-subject optimizer (optimize.ts) and the
// population one (population-objective.ts): the searched variables and a schedule's doses.
import type { Dose } from '../../scenario/schema.ts';

export type Field = 'amount' | 'interval' | 'count' | 'start';

/** One searched quantity: a field of a drug's schedule. */
export interface Variable {
  drug: number;
  field: Field;
  /** Discrete allowed values, or null for a continuous range [min, max]. */
  values: number[] | null;
  min: number;
  max: number;
}

export interface ScheduleEntry {
  drug: string;
  target: string;
  amount: number;
  perKg: boolean;
  interval?: number;
  count: number;
  start: number;
  duration?: number;
}

/** A schedule's doses, as a scenario takes them (labelled by drug). */
export function dosesOf(sch: ScheduleEntry[]): Dose[] {
  return sch.map(
    (s) =>
      ({
        target: s.target,
        ...(s.perKg ? { amountPerKg: s.amount } : { amount: s.amount }),
        start: s.start,
        count: s.count,
        ...(s.count > 1 ? { every: s.interval } : {}),
        ...(s.duration !== undefined ? { duration: s.duration } : {}),
        label: s.drug,
      }) as Dose,
  );
}
