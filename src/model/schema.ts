// The model file (Contract 1, docs/architecture.md) as a zod schema: the one source of truth for its TypeScript type,
// its validation messages and its OpenAPI description. Cross-references between names (an ODE for
// an unknown state, an unknown name in an expression, ...) are checked in `validate.ts` after parsing.
import { z } from 'zod';
import { userRecord } from '../keys.ts';
import { finiteNumber as finite } from '../zod-fields.ts';

/**
 * Names usable in expressions: identifiers, not reserved words of the expression language. Every name
 * the user chooses (records below) also refuses the names of built-in object members (src/keys.ts).
 */
export const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const MAX_NAME_LENGTH = 64;
export const MAX_EXPRESSION_LENGTH = 4000;

/** Limits on model size, so one request cannot make the compiler or solver run away. */
export const MODEL_LIMITS = {
  parameters: 500,
  states: 200,
  assignments: 1000,
  outputs: 200,
  events: 50,
};

const text = z.string().max(4000);
export const expression = z
  .string({ error: 'expression must be a string' })
  .min(1, 'expression is empty')
  .max(MAX_EXPRESSION_LENGTH, `expression is longer than ${MAX_EXPRESSION_LENGTH} characters`);

export const ParameterSpec = z.strictObject({
  value: finite('parameter value'),
  unit: z.string().max(100).default('1'),
  description: text.optional(),
  /** Where the value comes from (paper, table, label) or why it is assumed. */
  source: text.optional(),
  /** Plausible range, used by the web client's sliders and by fits as default bounds. */
  min: finite('min').optional(),
  max: finite('max').optional(),
  /** How a slider or a fit should move it: rate constants on a log scale. */
  scale: z.enum(['linear', 'log']).optional(),
});
export type ParameterSpec = z.infer<typeof ParameterSpec>;

/** Units meaning "a count or an amount": such states are non-negative unless said otherwise. */
export const NON_NEGATIVE_UNITS =
  /^(cells?|mg|ug|µg|ng|g|mol|mmol|umol|nmol|iu|miu|mg\/l|ug\/ml|µg\/ml|ng\/ml|units?|copies|mm3|mm\^3|ml|l|count|molecules|pg\/ml|1e\d+ cells|fraction)$/i;

export const StateSpec = z.strictObject({
  initial: z.union([finite('initial value'), expression]).default(0),
  unit: z.string().max(100).default('1'),
  description: text.optional(),
  /** Never reported below zero; on by default for counts and amounts (see NON_NEGATIVE_UNITS). */
  nonNegative: z.boolean().optional(),
  /** Absolute tolerance for this state (overrides the scenario's scalar atol). */
  atol: z.number().positive().finite().optional(),
});
export type StateSpec = z.infer<typeof StateSpec>;

export const OutputSpec = z.union([
  expression,
  z.strictObject({ expr: expression, unit: z.string().max(100).optional(), description: text.optional() }),
]);

export const EventSpec = z.strictObject({
  name: z.string().max(100).optional(),
  /** A comparison, e.g. "T < 1": the event fires when it turns true. */
  when: expression,
  /** New values for states (numbers or expressions evaluated just before the change). */
  set: userRecord(z.union([finite('event value'), expression])),
  description: text.optional(),
});
export type EventSpec = z.infer<typeof EventSpec>;

/** A covariate (Contract 1 `covariates`, docs/architecture.md): a subject characteristic visible in expressions. */
export const CovariateSpec = z.strictObject({
  value: finite('covariate value'),
  unit: z.string().max(100).default('1'),
  description: text.optional(),
});
export type CovariateSpec = z.infer<typeof CovariateSpec>;

/** Dose modifiers of one dosed state (NONMEM's F1/ALAG1/R1/D1, mrgsolve's F_/ALAG_/R_/D_): expressions of parameters and covariates. */
export const DoseModifierSpec = z.strictObject({
  bioavailability: z.union([finite('bioavailability'), expression]).optional(),
  lag: z.union([finite('lag'), expression]).optional(),
  rate: z.union([finite('rate'), expression]).optional(),
  duration: z.union([finite('duration'), expression]).optional(),
});
export type DoseModifierSpec = z.infer<typeof DoseModifierSpec>;

/** Time units a model may run in (Contract 1); clinical windows are converted through DAYS_PER_TIME_UNIT. */
export const TIME_UNITS = ['s', 'min', 'h', 'day', 'week', 'month', 'year'] as const;
export type TimeUnit = (typeof TIME_UNITS)[number];
/** Days per model time unit (month = year / 12, year = 365.25 days, the Julian year). */
export const DAYS_PER_TIME_UNIT: Record<TimeUnit, number> = {
  s: 1 / 86400,
  min: 1 / 1440,
  h: 1 / 24,
  day: 1,
  week: 7,
  month: 365.25 / 12,
  year: 365.25,
};

const seriesName = z.string().max(100).regex(NAME_RE, 'a series must be the name of a state or output');
/**
 * What series mean (Contract 1 `roles`), so that metrics, the optimizer and the web client never guess from
 * names. Cross-references (a series that is neither a state nor an output) are checked in roles.ts.
 */
export const RolesSpec = z.strictObject({
  tumor: z
    .strictObject({
      /** The tumor burden series (a state or an output). */
      series: seriesName,
      /** Its unit: cells, mm3 (a volume) or mm (a longest diameter or a sum of diameters). */
      unit: z.enum(['cells', 'mm3', 'mm']),
      /** An output or state holding the sum of longest diameters in mm, when the model has one (preferred by RECIST). */
      diameter: seriesName.optional(),
      /** Cells per mm3 when the series is in cells (default 1e6: 1e9 cells per cm3). */
      cellsPerMm3: z.number().positive().finite().optional(),
    })
    .optional(),
  /** Effector series checked against the plausibility limit of the body's T-cell pool. */
  effectors: z.array(seriesName).max(50).optional(),
  drugs: z
    .record(
      z.string().max(100).regex(NAME_RE, 'a drug name must be an identifier'),
      z.strictObject({
        /** Its concentration series. */
        concentration: seriesName,
        unit: z.string().max(100).optional(),
        /** Receptor occupancy series (a fraction in [0, 1]). */
        occupancy: seriesName.optional(),
        /** The state(s) its doses go into. */
        doseTarget: z.union([seriesName, z.array(seriesName).max(20)]).optional(),
        /** Labelled Cmax at the approved regimen (same unit): concentrations above 10x are flagged as implausible. */
        labelCmax: z.number().positive().finite().optional(),
        /** A concentration threshold (e.g. a target trough): time above it is reported, integrated exactly. */
        threshold: z.number().positive().finite().optional(),
      }),
    )
    .optional(),
});
export type RolesSpec = z.infer<typeof RolesSpec>;

export const ModelSpec = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, 'id must be lower-case letters, digits, . _ - (at most 100)'),
  title: z.string().max(300).default(''),
  description: text.optional(),
  reference: z.union([text, z.array(text).max(50)]).optional(),
  timeUnit: z.enum(TIME_UNITS, { error: `timeUnit must be one of ${TIME_UNITS.join(', ')}` }).default('day'),
  roles: RolesSpec.optional(),
  parameters: userRecord(ParameterSpec).default({}),
  states: userRecord(StateSpec),
  assignments: userRecord(expression).default({}),
  odes: userRecord(expression),
  outputs: userRecord(OutputSpec).default({}),
  events: z.array(EventSpec).max(MODEL_LIMITS.events).default([]),
  /** Subject covariates (e.g. WT, BSA): named, with a default and a unit; set by a scenario, an arm or a dataset row. */
  covariates: userRecord(CovariateSpec).default({}),
  /** Dose modifiers per dosed state (bioavailability, lag, rate, duration). */
  dosing: userRecord(DoseModifierSpec).default({}),
  /** Free-form notes: assumptions, encoding issues, what the model leaves out and why. */
  notes: z.union([text, z.array(text).max(100)]).optional(),
  /** Named sets of parameter values (e.g. "hot", "cold" tumor). */
  presets: userRecord(
    z.strictObject({
      description: text.optional(),
      parameters: userRecord(finite('preset value')).default({}),
      initial: userRecord(finite('preset initial value')).default({}),
    }),
  ).optional(),
});
export type ModelSpecInput = z.input<typeof ModelSpec>;
export type ModelSpec = z.infer<typeof ModelSpec>;
