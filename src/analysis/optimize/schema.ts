// A schedule-optimization request: per drug, which of amount, interval, number of doses and start are
// chosen (fixed, a continuous range, or an allowed set such as approved intervals or vial multiples),
// the objective (final tumor, tumor AUC, time to progression or a weighted mix) and the constraints
// (cumulative dose, Cmax and AUC ceilings, a maximum number of doses).
import { z } from 'zod';
import { userRecord, userKey } from '../../keys.ts';
import { Dose, ModelRef, ParameterValues, SolverOptions, LIMITS } from '../../scenario/schema.ts';
import { finiteNumber as num } from '../../zod-fields.ts';

/** A decision: a fixed value, a range {min, max} (optionally in steps: vial multiples), or a set {values}. */
export const Choice = z.union([
  num('value'),
  z.strictObject({ values: z.array(num('value')).min(1).max(200) }),
  z.strictObject({
    min: num('min'),
    max: num('max'),
    step: num('step')
      .refine((v) => v > 0, 'step must be > 0')
      .optional(),
  }),
]);
export type Choice = z.infer<typeof Choice>;

export const DrugChoice = z.strictObject({
  /** Name used in constraints and the result (default: the target). */
  name: z.string().min(1).max(64).pipe(userKey).optional(),
  target: z.string().min(1).max(64),
  /** mg (or the target's unit); per kg of `weight` when perKg is true. */
  amount: Choice,
  perKg: z.boolean().default(false),
  /** Days between administrations. */
  interval: Choice.optional(),
  /** Number of administrations; absent: as many as fit in the horizon. */
  count: Choice.optional(),
  start: Choice.default(0),
  /** Infusion duration (days); absent: bolus. */
  duration: num('duration')
    .refine((v) => v > 0, 'duration must be > 0')
    .optional(),
  /** Drug name of the metrics (a key of the model's roles.drugs) for Cmax/AUC constraints; default: the drug dosed into `target`. */
  exposure: userKey.max(64).optional(),
});
export type DrugChoice = z.infer<typeof DrugChoice>;

export const OptimizeRequest = z.strictObject({
  model: ModelRef.default('immunotherapy'),
  parameters: ParameterValues.default({}),
  initial: userRecord(num('initial value')).default({}),
  preset: userKey.max(100).optional(),
  weight: num('weight')
    .refine((v) => v > 0 && v <= 1000, 'weight must be in (0, 1000] kg')
    .default(70),
  solver: SolverOptions.default({ method: 'auto', rtol: 1e-6, maxSteps: 500_000, timeBudgetMs: LIMITS.timeBudgetMs }),
  /** Days simulated from 0; the objective and constraints are evaluated over [0, horizon]. */
  horizon: num('horizon').refine((v) => v > 0 && v <= 3650, 'horizon must be in (0, 3650] days'),
  /** Output step of the simulated curves (default horizon/500). */
  step: num('step')
    .refine((v) => v > 0, 'step must be > 0')
    .optional(),
  /** Background treatment given to every candidate. */
  doses: z.array(Dose).max(LIMITS.doses).default([]),
  therapies: z.array(z.string().max(100)).max(50).default([]),
  drugs: z.array(DrugChoice).min(1, 'name at least one drug to schedule').max(6),
  /**
   * Weights of the objective terms (minimized): finalTumor = log10(final / baseline), tumorAUC =
   * AUC / (baseline × horizon), timeToProgression = −TTP / horizon (no progression: TTP = horizon).
   */
  objective: z
    .strictObject({
      finalTumor: num('finalTumor').min(0).default(0),
      tumorAUC: num('tumorAUC').min(0).default(0),
      timeToProgression: num('timeToProgression').min(0).default(0),
    })
    .default({ finalTumor: 1, tumorAUC: 0, timeToProgression: 0 }),
  constraints: z
    .strictObject({
      /** Per drug name: the largest total amount over the horizon. */
      cumulativeDose: userRecord(num('cumulative dose').min(0)).default({}),
      /** Per drug (metrics name): the largest Cmax. */
      cmax: userRecord(num('Cmax').min(0)).default({}),
      /** Per drug (metrics name): the largest AUC over the horizon. */
      auc: userRecord(num('AUC').min(0)).default({}),
      /** Per drug name, or `total`: the largest number of administrations within the horizon. */
      maxDoses: userRecord(z.number().int().min(0)).default({}),
    })
    .default({ cumulativeDose: {}, cmax: {}, auc: {}, maxDoses: {} }),
  search: z
    .strictObject({
      seed: z.number().int().default(1),
      /** Candidates of the global phase (all discrete combinations when there are at most this many). */
      candidates: z.number().int().min(1).max(2000).default(64),
      /** Best candidates refined locally over their continuous choices (Nelder-Mead in the bounds). */
      refine: z.number().int().min(0).max(20).default(3),
      /** Simulations per local refinement. */
      refineEvaluations: z.number().int().min(0).max(500).default(30),
    })
    .default({ seed: 1, candidates: 64, refine: 3, refineEvaluations: 30 }),
  /** Therapy presets evaluated as baselines under the same objective and constraints. */
  compare: z.array(z.string().max(100)).max(20).default([]),
  /** Number of ranked candidates returned (all are counted). */
  table: z.number().int().min(1).max(2000).default(50),
});
export type OptimizeRequest = z.infer<typeof OptimizeRequest>;
export type OptimizeRequestInput = z.input<typeof OptimizeRequest>;
