// The model file (Contract 1, docs/architecture.md) as a zod schema: the one source of truth for its TypeScript type,
// its validation messages and its OpenAPI description. Cross-references between names (an ODE for
// an unknown state, an unknown name in an expression, ...) are checked in `validate.ts` after parsing.
import { z } from 'zod';

/** Names usable in expressions: identifiers, not reserved words of the expression language. */
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

const finite = (what: string) =>
  z.number({ error: `${what} must be a number` }).refine(Number.isFinite, { message: `${what} must be finite` });

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

/** Units meaning "a count or an amount": such states are non-negative unless said otherwise. */
export const NON_NEGATIVE_UNITS = /^(cells?|mg|ug|µg|ng|g|mol|mmol|umol|nmol|iu|miu|mg\/l|ug\/ml|µg\/ml|ng\/ml|units?|copies|mm3|mm\^3|ml|l|count|molecules|pg\/ml|1e\d+ cells|fraction)$/i;

export const StateSpec = z.strictObject({
  initial: z.union([finite('initial value'), expression]).default(0),
  unit: z.string().max(100).default('1'),
  description: text.optional(),
  /** Never reported below zero; on by default for counts and amounts (see NON_NEGATIVE_UNITS). */
  nonNegative: z.boolean().optional(),
  /** Absolute tolerance for this state (overrides the scenario's scalar atol). */
  atol: z.number().positive().finite().optional(),
});

export const OutputSpec = z.union([
  expression,
  z.strictObject({ expr: expression, unit: z.string().max(100).optional(), description: text.optional() }),
]);

export const EventSpec = z.strictObject({
  name: z.string().max(100).optional(),
  /** A comparison, e.g. "T < 1": the event fires when it turns true. */
  when: expression,
  /** New values for states (numbers or expressions evaluated just before the change). */
  set: z.record(z.string(), z.union([finite('event value'), expression])),
  description: text.optional(),
});

export const ModelSpec = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, 'id must be lower-case letters, digits, . _ - (at most 100)'),
  title: z.string().max(300).default(''),
  description: text.optional(),
  reference: z.union([text, z.array(text).max(50)]).optional(),
  timeUnit: z.string().max(50).default('day'),
  parameters: z.record(z.string(), ParameterSpec).default({}),
  states: z.record(z.string(), StateSpec),
  assignments: z.record(z.string(), expression).default({}),
  odes: z.record(z.string(), expression),
  outputs: z.record(z.string(), OutputSpec).default({}),
  events: z.array(EventSpec).max(MODEL_LIMITS.events).default([]),
  /** Free-form notes: assumptions, encoding issues, what the model leaves out and why. */
  notes: z.union([text, z.array(text).max(100)]).optional(),
  /** Named sets of parameter values (e.g. "hot", "cold" tumor). */
  presets: z.record(z.string(), z.strictObject({
    description: text.optional(),
    parameters: z.record(z.string(), finite('preset value')).default({}),
    initial: z.record(z.string(), finite('preset initial value')).default({}),
  })).optional(),
});

export type ModelSpecInput = z.input<typeof ModelSpec>;
export type ModelSpec = z.infer<typeof ModelSpec>;
export type ParameterSpec = z.infer<typeof ParameterSpec>;
export type StateSpec = z.infer<typeof StateSpec>;
export type EventSpec = z.infer<typeof EventSpec>;
