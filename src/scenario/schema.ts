// A scenario (Contract 2, docs/architecture.md) and a result (Contract 3) as zod schemas: what the CLI reads, what
// POST /api/simulate validates, and what the OpenAPI document describes. Limits are explicit here.
import { z } from 'zod';
import { userRecord, userKey } from '../keys.ts';
import { finiteNumber as num } from '../zod-fields.ts';

export const LIMITS = {
  /** Output rows per simulation (and per arm). */
  outputPoints: 100_000,
  /** Dose records after expanding repeats. */
  doseEvents: 20_000,
  /** Dose entries in a request (before expansion). */
  doses: 2_000,
  /** Accepted steps per simulation before it is stopped (422). */
  maxSteps: 2_000_000,
  /** Wall-clock budget per simulation, milliseconds (422 when exceeded). */
  timeBudgetMs: 20_000,
  /** Arms in one comparison. */
  arms: 12,
  /**
   * Largest |time| accepted: 1e11 covers the longest standard stiff benchmark (Robertson's problem to
   * t = 1e11 in the Test Set for IVP Solvers, Mazzia & Magherini) and any pharmacological span, while a
   * double near 1e11 still resolves 1.5e-5, so dose and output times remain distinct instants. Near 1e15
   * the spacing of doubles is 0.125: a time grid or a dose schedule would silently collapse.
   */
  maxTime: 1e11,
};

const time = (what: string) =>
  num(what).refine((v) => Math.abs(v) <= LIMITS.maxTime, {
    message: `${what} is out of range (|t| <= ${LIMITS.maxTime})`,
  });

export const Dose = z
  .strictObject({
    target: z.string().min(1).max(64),
    amount: num('amount')
      .refine((v) => v >= 0, 'amount must be >= 0')
      .optional(),
    /** Amount per kg of body weight; multiplied by the scenario's `weight`. */
    amountPerKg: num('amountPerKg')
      .refine((v) => v >= 0, 'amountPerKg must be >= 0')
      .optional(),
    start: time('start').default(0),
    every: num('every')
      .refine((v) => v > 0, 'every must be > 0')
      .optional(),
    count: z.number().int('count must be an integer').min(1, 'count must be >= 1').max(LIMITS.doseEvents).default(1),
    /** Zero-order infusion of `amount` over `duration`; absent = bolus (an instantaneous jump). "model": the model's `dosing` duration (NONMEM RATE = -2). */
    duration: z.union([num('duration').refine((v) => v > 0, 'duration must be > 0'), z.literal('model')]).optional(),
    /** Zero-order infusion at this rate (amount per time unit), instead of `duration`. "model": the model's `dosing` rate (NONMEM RATE = -1). */
    rate: z.union([num('rate').refine((v) => v > 0, 'rate must be > 0'), z.literal('model')]).optional(),
    /** Absorption lag: the dose is given `lag` after its time (replaces the model's `dosing` lag for this dose). */
    lag: num('lag')
      .refine((v) => v >= 0, 'lag must be >= 0')
      .optional(),
    /** Fraction of the amount that reaches the target (replaces the model's `dosing` bioavailability). */
    bioavailability: num('bioavailability')
      .refine((v) => v >= 0, 'bioavailability must be >= 0')
      .optional(),
    /** Amount per m² of body surface area (from the scenario's `height` and `weight`, formula `bsaFormula`). */
    amountPerM2: num('amountPerM2')
      .refine((v) => v >= 0, 'amountPerM2 must be >= 0')
      .optional(),
    /**
     * The first administration is at steady state: the system is put in the periodic steady state of this
     * dose repeated every `every` (solved for, see docs/datasets.md) before it. true or 1: the state is
     * replaced (NONMEM SS=1); 2: the steady-state amounts are added to the current state (SS=2).
     * With amount 0 and a `rate`: a constant infusion at steady state that keeps running.
     */
    steadyState: z.union([z.boolean(), z.literal(1), z.literal(2)]).optional(),
    label: z.string().max(200).optional(),
  })
  .superRefine((d, ctx) => {
    const given = [d.amount, d.amountPerKg, d.amountPerM2].filter((v) => v !== undefined).length;
    if (given !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['amount'],
        message: 'give exactly one of amount, amountPerKg or amountPerM2',
      });
    }
    if (d.rate !== undefined && d.duration !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['rate'], message: 'give rate or duration, not both' });
    }
    if (d.steadyState && d.every === undefined && !(d.amount === 0 && d.rate !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['every'], message: 'steadyState needs the dosing interval (every)' });
    }
    if (d.count > 1 && d.every === undefined) {
      ctx.addIssue({ code: 'custom', path: ['every'], message: 'count > 1 needs an interval (every)' });
    }
  });
export type Dose = z.infer<typeof Dose>;
export type DoseInput = z.input<typeof Dose>;

export const TimeGrid = z.union([
  z.strictObject({
    start: time('times.start').default(0),
    end: time('times.end'),
    step: num('times.step')
      .refine((v) => v > 0, 'step must be > 0')
      .optional(),
    /** Number of points instead of a step. */
    points: z.number().int().min(2).max(LIMITS.outputPoints).optional(),
  }),
  z
    .array(time('time'))
    .min(1, 'times is empty')
    .max(LIMITS.outputPoints, `at most ${LIMITS.outputPoints} output times`),
]);
export type TimeGrid = z.infer<typeof TimeGrid>;

export const SolverOptions = z.strictObject({
  method: z.enum(['auto', 'nonstiff', 'stiff', 'odex', 'dopri5', 'rodas']).default('auto'),
  rtol: num('rtol')
    .refine((v) => v >= 1e-14 && v <= 0.1, 'rtol must be in [1e-14, 0.1]')
    .default(1e-6),
  /**
   * One value for all states, or per state name. Absent: each state's `atol` from the model file, else
   * 1e-9. A number overrides the model file's values; states missing from a per-state object keep them.
   */
  atol: z
    .union([
      num('atol').refine((v) => v > 0 && v <= 1e6, 'atol must be in (0, 1e6]'),
      userRecord(num('atol').refine((v) => v > 0 && v <= 1e6, 'atol must be in (0, 1e6]')),
    ])
    .optional(),
  maxSteps: z.number().int().min(1).max(LIMITS.maxSteps).default(500_000),
  maxStep: num('maxStep')
    .refine((v) => v > 0, 'maxStep must be > 0')
    .optional(),
  timeBudgetMs: z.number().int().min(1).max(LIMITS.timeBudgetMs).default(LIMITS.timeBudgetMs),
});
export type SolverOptions = z.infer<typeof SolverOptions>;

/** The model field: an id from models/ or an inline model (validated by the model compiler). */
export const ModelRef = z.union([z.string().min(1).max(100), z.record(z.string(), z.unknown())]);

export const ParameterValues = userRecord(num('parameter value'));

/** Covariate values by name (the model's `covariates`). */
export const CovariateValues = z.record(z.string(), num('covariate value'));

/**
 * A dosing rule, decided at each scheduled administration from the state just before it: `when` is an
 * expression of states, outputs, parameters, covariates and t, true when nonzero. skip: this one is not
 * given; stop: this and every later one is not given (until a `resume`); reduce: the amount is multiplied
 * by `factor`; resume: dosing restarts. Rules apply in order; `targets`/`labels` restrict which doses.
 */
export const DoseRule = z
  .strictObject({
    when: z.string().min(1).max(2000),
    action: z.enum(['skip', 'stop', 'reduce', 'resume']),
    factor: num('factor')
      .refine((v) => v >= 0, 'factor must be >= 0')
      .optional(),
    targets: z.array(z.string().max(64)).max(200).optional(),
    labels: z.array(z.string().max(200)).max(200).optional(),
  })
  .superRefine((r, ctx) => {
    if (r.action === 'reduce' && r.factor === undefined)
      ctx.addIssue({ code: 'custom', path: ['factor'], message: "a 'reduce' rule needs a factor (e.g. 0.5)" });
  });

/** A dataset row given as JSON: column → number, or a string ('.' for missing, a CMT name). */
export const DatasetRow = z.record(z.string(), z.union([z.number(), z.string().max(200), z.null()]));

/** The model and its values, first fields of a scenario and of every analysis request built on one. */
export const ModelSelectionFields = {
  model: ModelRef,
  parameters: ParameterValues.default({}),
  initial: userRecord(num('initial value')).default({}),
  /** A named parameter preset of the model (e.g. "hot-tumor"). */
  preset: userKey.max(100).optional(),
};

export const Scenario = z.strictObject({
  ...ModelSelectionFields,
  times: TimeGrid,
  doses: z.array(Dose).max(LIMITS.doses, `at most ${LIMITS.doses} dose entries`).default([]),
  /** Names of therapy presets (approved regimens), expanded into doses; they add to `doses`. */
  therapies: z.array(z.string().max(100)).max(50).default([]),
  /** Body weight in kg, for amountPerKg doses. */
  weight: num('weight')
    .refine((v) => v > 0 && v <= 1000, 'weight must be in (0, 1000] kg')
    .default(70),
  solver: SolverOptions.default({ method: 'auto', rtol: 1e-6, maxSteps: 500_000, timeBudgetMs: LIMITS.timeBudgetMs }),
  /** Height in cm, for body surface area (amountPerM2 doses and the BSA covariate). */
  height: num('height')
    .refine((v) => v > 0 && v <= 300, 'height must be in (0, 300] cm')
    .optional(),
  /** Body surface area formula: DuBois & DuBois 1916 or Mosteller 1987 (default). */
  bsaFormula: z.enum(['mosteller', 'dubois']).default('mosteller'),
  /** Covariate values (the model's `covariates`); absent ones keep the model's defaults. */
  covariates: CovariateValues.default({}),
  /** Time-varying covariates: new values from `time` on (last observation carried forward). */
  covariateChanges: z
    .array(z.strictObject({ time: time('time'), values: CovariateValues }))
    .max(LIMITS.doses)
    .default([]),
  /** State-dependent dosing decisions at scheduled administrations, reported in the result's `doses`. */
  rules: z.array(DoseRule).max(50).default([]),
  /** A NONMEM-style dataset (CSV text or rows; docs/datasets.md) whose records drive the simulation subject by subject. */
  dataset: z.union([z.string().max(20_000_000), z.array(DatasetRow).max(200_000)]).optional(),
  /** What an observation record measures when its CMT names a state: an output name, or per CMT. */
  observe: z.union([z.string().max(64), z.record(z.string(), z.string().max(64))]).optional(),
  /** Compute response metrics (default true). */
  metrics: z.boolean().default(true),
  /** Report only these states and outputs (default: all). */
  select: z.array(userKey.max(64)).max(500).optional(),
});
export type Scenario = z.infer<typeof Scenario>;
export type ScenarioInput = z.input<typeof Scenario>;

export const SolverStats = z.object({
  method: z.string(),
  /** Methods used, in order, with the time each took over (auto switching). */
  switches: z.array(z.object({ t: z.number(), method: z.string() })),
  steps: z.number(),
  rejected: z.number(),
  rhsEvaluations: z.number(),
  jacobianEvaluations: z.number(),
  luDecompositions: z.number(),
  segments: z.number(),
  ms: z.number(),
  rtol: z.number(),
});

export const EventRecord = z.object({
  name: z.string(),
  time: z.number(),
  kind: z.enum(['event', 'dose']).default('event'),
});

export const SimulationResult = z.object({
  model: z.string(),
  times: z.array(z.number()),
  states: z.record(z.string(), z.array(z.number())),
  outputs: z.record(z.string(), z.array(z.number())),
  metrics: z.record(z.string(), z.unknown()),
  events: z.array(EventRecord),
  doses: z.array(
    z.object({
      target: z.string(),
      time: z.number(),
      amount: z.number(),
      duration: z.number().optional(),
      label: z.string().optional(),
      /** What a dosing rule did: given (reduced), skipped or stopped (then amount is what was scheduled). */
      status: z.enum(['given', 'reduced', 'skipped', 'stopped']).optional(),
      steadyState: z.number().optional(),
    }),
  ),
  solver: SolverStats,
});
export type SimulationResult = z.infer<typeof SimulationResult>;
export type SolverStats = z.infer<typeof SolverStats>;
