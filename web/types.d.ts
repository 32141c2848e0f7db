// Types of the browser client, for the JSDoc of web/*.js (`import('./types').X`): the API's requests and
// answers are the server's own types (zod-inferred or declared beside the code that builds them), imported
// type-only, so nothing of the server reaches the browser; the view's own state is declared below.
import type { z } from 'zod';
import type { ModelSpecInput, ParameterSpec } from '../src/model/schema.ts';
import type { SimulationResult } from '../src/scenario/schema.ts';
import type {
  CompareResponse as CompareResponseSchema,
  MetricsTable as MetricsTableSchema,
} from '../src/analysis/compare.ts';
import type { TherapyPreset } from '../src/dosing/therapies.ts';
import type { ResponseSummary } from '../src/analysis/trial.ts';
import type { FitResult, FitEstimate, FitResidual } from '../src/analysis/fit/schema.ts';

export type { Issue, Path } from '../src/errors.ts';
export type { SimulationResult, ResponseSummary, FitResult, FitEstimate, FitResidual };

/** A model file as GET /api/models/:id sends it (the file as written: defaults not filled in). */
export type ModelFile = ModelSpecInput;
/** One parameter of a model file. */
export type ModelParameter = z.input<typeof ParameterSpec>;
/** POST /api/compare's answer: one result per arm and the metrics table. */
export type CompareResponse = z.infer<typeof CompareResponseSchema>;
export type MetricsTable = z.infer<typeof MetricsTableSchema>;
/** GET /api/therapies: a preset with its drug class and the states it doses. */
export type Therapy = Omit<TherapyPreset, 'doses'> & { class?: string; targets: string[]; doses: unknown[] };
/** GET /api/models: one entry of the library. */
export interface ModelListEntry {
  id: string;
  title: string;
  description?: string;
}

// The answers of the population and sensitivity routes, as the client reads them. They are the parts of
// PopulationResponse (src/analysis/population.ts) and SensitivityResult / GlobalSensitivityResult
// (src/analysis/sensitivity.ts) that the client uses: importing those modules would type-check the solver
// and the model library (Node modules) under the browser's settings.

/** One arm of POST /api/population's answer. */
export interface PopulationArm {
  name: string;
  /** series → { "q0.05": [...], ..., mean: [...] } over the output times. */
  summary: Record<string, Record<string, (number | null)[]>>;
  response?: ResponseSummary;
  solved: number;
  failures?: { id: number; message: string }[];
}
export interface PopulationAnswer {
  model: string;
  times: number[];
  arms: PopulationArm[];
}
/** POST /api/sensitivity (local): parameters ranked by |normalized|. */
export interface LocalSensitivityAnswer {
  value: number;
  parameters: { name: string; normalized: number | null }[];
  solves: number;
  ms: number;
}
export type SobolIndex = { S1: number; ST: number; S1ci: [number, number] | null; STci: [number, number] | null };
export type MorrisIndex = { mu: number; muStar: number; sigma: number };
/** A global sensitivity job's result: Sobol or Morris indices per parameter. */
export interface GlobalSensitivityAnswer<I = SobolIndex | MorrisIndex> {
  indices: Record<string, I>;
  solves?: number;
  dropped?: number;
}

/** POST /api/optimize's answer (OptimizeResult in src/analysis/optimize/optimize.ts), the parts the fit page reads. */
export interface ScheduleEntry {
  drug: string;
  amount: number;
  perKg: boolean;
  interval?: number;
  count: number;
  start: number;
}
export interface EvaluatedSchedule {
  schedule: ScheduleEntry[];
  objective: number;
  feasible: boolean;
  violations: Record<string, number>;
  therapy?: string;
  summary?: { final?: number; timeToProgression?: number | null; bestOverallResponse?: string };
}
export interface OptimizeAnswer {
  best: EvaluatedSchedule;
  curves: SimulationResult;
  baselines: (EvaluatedSchedule & { therapy: string })[];
  table: (EvaluatedSchedule & { rank: number })[];
  evaluations: number;
  candidates: number;
  ms: number;
}

/**
 * A population fit's answer (PopulationFitResult in src/analysis/nlme/focei.ts, records as PopulationRecord
 * in src/analysis/nlme/diagnostics.ts): the parts the population-fit tab reads.
 */
export interface PopEstimate {
  value: number;
  se: number | null;
  rse: number | null;
  ci95: [number | null, number | null];
}
export interface PopRecord {
  subject: string;
  time: number;
  observable: string;
  DV: number;
  PRED: number;
  IPRED: number;
  CWRES: number | null;
}
export interface PopFitAnswer {
  method: 'focei' | 'saem';
  theta: Record<string, PopEstimate & { atBound: boolean }>;
  beta?: Record<string, PopEstimate>;
  omega: {
    names: string[];
    matrix: number[][];
    se?: (number | null)[][];
    cv: number[];
    shrinkage: number[];
    ci95?: [number | null, number | null][];
  };
  sigma: { sigma?: PopEstimate; sigmaProp?: PopEstimate; transform: string; epsilonShrinkage: number };
  ofv: number;
  minus2LogLikelihood: number;
  aic: number;
  bic: number;
  parameters: number;
  observations: number;
  subjects: number;
  covariance: { method: 'R' | 'none' } | null;
  ebe: { subject: string; parameters: Record<string, number> }[];
  records: PopRecord[];
  warnings?: string[];
  converged: boolean;
  reason: string;
  iterations: number;
  odeSolves: number;
  ms: number;
}
/** POST /api/vpc's answer: observed and simulated percentiles per time bin. */
export interface VpcAnswer {
  bins: {
    observable: string;
    time: number;
    observed: Record<string, number | null>;
    simulated: Record<string, { lo: number; median: number; hi: number }>;
  }[];
  level: number;
  predictionCorrected: boolean;
  replicates: number;
  seed: number;
  binning: { method: string };
  failedSimulations?: number;
}

// ------------------------------------------------------------------ plots (web/plots.js)

/** A plottable series of a model: a state or an output, with its unit and label from the model file. */
export interface Series {
  name: string;
  kind: 'state' | 'output';
  unit: string;
  label: string;
  drug?: string;
}
/** One plot panel: the series it overlays and how its axis is drawn. */
export interface Panel {
  id: string;
  title: string;
  series: Series[];
  tumor?: boolean;
  log?: boolean;
  drugs?: boolean;
  range?: number[];
  seriesLabel?: (s: Series) => string;
}
export interface PlotOptions {
  tumorScale: string;
  drugScale: string;
  extra: string[];
}
/** What a trace says about itself (read back by the tests and by the twin-curve check). */
export interface TraceMeta {
  arm?: string;
  series?: string;
  sameAs?: string;
  doses?: boolean;
  legendOnly?: boolean;
  [key: string]: unknown;
}
/** A plotly trace: the fields the client reads back; the rest is plotly's schema. */
export interface Trace {
  x: (number | null)[];
  y: (number | null)[];
  name?: string;
  showlegend?: boolean;
  meta?: TraceMeta;
  [key: string]: unknown;
}

// ------------------------------------------------------------------ the view (web/app.js)

/** A dose entered by hand in an arm (fields left empty are absent). */
export interface HandDose {
  target: string;
  amount?: number;
  start?: number;
  every?: number;
  count?: number;
  duration?: number;
}
/** An arm of the view: therapy presets and hand doses; what the current model cannot take waits in `stash`. */
export interface ArmState {
  name: string;
  autoName: boolean;
  therapies: string[];
  doses: HandDose[];
  stash: { therapies: string[]; doses: HandDose[] };
}
/** The view: everything here goes into the URL hash. */
export interface ViewState {
  model: string;
  preset: string;
  params: Record<string, number>;
  end: number;
  step: number;
  weight: number;
  tumorScale: string;
  drugScale: string;
  arms: ArmState[];
  /** Names plotted under "other series"; null = the model's default choice. */
  extra: string[] | null;
}
/** A field of the view that fails a check before a run: `selector` finds the input to highlight. */
export interface Problem {
  selector: string;
  label: string;
  message: string;
}
/** The /api/compare request the view sends (web/app.js requestBody). */
export interface CompareBody {
  model: string;
  times: { start: number; end: number; step: number };
  parameters?: Record<string, number>;
  preset?: string;
  weight: number;
  arms: { name: string; therapies?: string[]; doses?: HandDose[] }[];
}
