// The shape a NONMEM-style dataset (Contract 6, docs/architecture.md) takes once read and checked: one entry per subject
// (ID), with its dose records already in scenario form, its covariates and its observation records. The
// dataset reader (src/data/) produces it; dataset-driven simulation, individual fits and population fits
// (src/analysis/nlme/) consume it. Keep this file free of logic: it is the contract between them.
import type { ScenarioInput } from '../scenario/schema.ts';

/** One dose of a subject, as a scenario dose entry (Contract 2), remembering the dataset line it came from. */
export type SubjectDose = NonNullable<ScenarioInput['doses']>[number] & {
  line?: number;
  /** Position among the subject's records at the same time (file order: an observation before it sees the pre-dose value). */
  order?: number;
};

/** An observation record (EVID 0) of a subject. */
export interface SubjectObservation {
  /** 1-based line of the dataset (the header is line 1). */
  line: number;
  time: number;
  /** The series observed: a state or output name (from CMT, or the scenario's/fit's `observe`). */
  observable: string;
  /** DV; null when missing (`.`) or MDV = 1. */
  value: number | null;
  /** Position among the subject's records at the same time, so that file order is kept at equal times. */
  order: number;
  /** Below the limit of quantification (BLQ column), with the limit (LLOQ), when the dataset says so. */
  blq?: boolean;
  lloq?: number;
}

export interface SubjectData {
  id: string;
  doses: SubjectDose[];
  /** Covariate values at the subject's first record. */
  covariates: Record<string, number>;
  /** Later changes (time-varying covariates, last observation carried forward), in time order. */
  covariateChanges: { time: number; values: Record<string, number> }[];
  observations: SubjectObservation[];
  /** Times of EVID 3/4 resets (every state back to its initial value). */
  resets: number[];
  /** For each reset, its position among the subject's records at its time (file order, as `order` of observations). */
  resetOrders?: number[];
}

export interface Dataset {
  /** Column names as written in the header (case kept), in file order. */
  columns: string[];
  /** Columns read as covariates. */
  covariates: string[];
  subjects: SubjectData[];
}
