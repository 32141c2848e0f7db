// A scenario (Contract 2, docs/architecture.md) and a result (Contract 3) as zod schemas: what the CLI reads, what
// POST /api/simulate validates, and what the OpenAPI document describes. Limits are explicit here.
import { z } from 'zod';

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
  /** Largest |time| accepted. */
  maxTime: 1e15,
};

const num = (what: string) =>
  z.number({ error: `${what} must be a number` }).refine(Number.isFinite, { message: `${what} must be finite` });
const time = (what: string) => num(what).refine((v) => Math.abs(v) <= LIMITS.maxTime, { message: `${what} is out of range (|t| <= ${LIMITS.maxTime})` });

export const Dose = z.strictObject({
  target: z.string().min(1).max(64),
  amount: num('amount').refine((v) => v >= 0, 'amount must be >= 0').optional(),
  /** Amount per kg of body weight; multiplied by the scenario's `weight`. */
  amountPerKg: num('amountPerKg').refine((v) => v >= 0, 'amountPerKg must be >= 0').optional(),
  start: time('start').default(0),
  every: num('every').refine((v) => v > 0, 'every must be > 0').optional(),
  count: z.number().int('count must be an integer').min(1, 'count must be >= 1').max(LIMITS.doseEvents).default(1),
  /** Zero-order infusion of `amount` over `duration`; absent = bolus (an instantaneous jump). */
  duration: num('duration').refine((v) => v > 0, 'duration must be > 0').optional(),
  label: z.string().max(200).optional(),
}).superRefine((d, ctx) => {
  if ((d.amount === undefined) === (d.amountPerKg === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['amount'], message: 'give exactly one of amount or amountPerKg' });
  }
  if (d.count > 1 && d.every === undefined) {
    ctx.addIssue({ code: 'custom', path: ['every'], message: 'count > 1 needs an interval (every)' });
  }
});

export const TimeGrid = z.union([
  z.strictObject({
    start: time('times.start').default(0),
    end: time('times.end'),
    step: num('times.step').refine((v) => v > 0, 'step must be > 0').optional(),
    /** Number of points instead of a step. */
    points: z.number().int().min(2).max(LIMITS.outputPoints).optional(),
  }),
  z.array(time('time')).min(1, 'times is empty').max(LIMITS.outputPoints, `at most ${LIMITS.outputPoints} output times`),
]);

export const SolverOptions = z.strictObject({
  method: z.enum(['auto', 'nonstiff', 'stiff', 'odex', 'dopri5', 'rodas']).default('auto'),
  rtol: num('rtol').refine((v) => v >= 1e-14 && v <= 0.1, 'rtol must be in [1e-14, 0.1]').default(1e-6),
  /**
   * One value for all states, or per state name. Absent: each state's `atol` from the model file, else
   * 1e-9. A number overrides the model file's values; states missing from a per-state object keep them.
   */
  atol: z.union([
    num('atol').refine((v) => v > 0 && v <= 1e6, 'atol must be in (0, 1e6]'),
    z.record(z.string(), num('atol').refine((v) => v > 0 && v <= 1e6, 'atol must be in (0, 1e6]')),
  ]).optional(),
  maxSteps: z.number().int().min(1).max(LIMITS.maxSteps).default(500_000),
  maxStep: num('maxStep').refine((v) => v > 0, 'maxStep must be > 0').optional(),
  timeBudgetMs: z.number().int().min(1).max(LIMITS.timeBudgetMs).default(LIMITS.timeBudgetMs),
});

/** The model field: an id from models/ or an inline model (validated by the model compiler). */
export const ModelRef = z.union([z.string().min(1).max(100), z.record(z.string(), z.unknown())]);

export const ParameterValues = z.record(z.string(), num('parameter value'));

export const Scenario = z.strictObject({
  model: ModelRef,
  parameters: ParameterValues.default({}),
  initial: z.record(z.string(), num('initial value')).default({}),
  /** A named parameter preset of the model (e.g. "hot-tumor"). */
  preset: z.string().max(100).optional(),
  times: TimeGrid,
  doses: z.array(Dose).max(LIMITS.doses, `at most ${LIMITS.doses} dose entries`).default([]),
  /** Names of therapy presets (approved regimens), expanded into doses; they add to `doses`. */
  therapies: z.array(z.string().max(100)).max(50).default([]),
  /** Body weight in kg, for amountPerKg doses. */
  weight: num('weight').refine((v) => v > 0 && v <= 1000, 'weight must be in (0, 1000] kg').default(70),
  solver: SolverOptions.default({ method: 'auto', rtol: 1e-6, maxSteps: 500_000, timeBudgetMs: LIMITS.timeBudgetMs }),
  /** Compute response metrics (default true). */
  metrics: z.boolean().default(true),
  /** Report only these states and outputs (default: all). */
  select: z.array(z.string().max(64)).max(500).optional(),
});

export type Dose = z.infer<typeof Dose>;
export type DoseInput = z.input<typeof Dose>;
export type TimeGrid = z.infer<typeof TimeGrid>;
export type SolverOptions = z.infer<typeof SolverOptions>;
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

export const EventRecord = z.object({ name: z.string(), time: z.number(), kind: z.enum(['event', 'dose']).default('event') });

export const SimulationResult = z.object({
  model: z.string(),
  times: z.array(z.number()),
  states: z.record(z.string(), z.array(z.number())),
  outputs: z.record(z.string(), z.array(z.number())),
  metrics: z.record(z.string(), z.unknown()),
  events: z.array(EventRecord),
  doses: z.array(z.object({ target: z.string(), time: z.number(), amount: z.number(), duration: z.number().optional(), label: z.string().optional() })),
  solver: SolverStats,
});
export type SimulationResult = z.infer<typeof SimulationResult>;
export type SolverStats = z.infer<typeof SolverStats>;
