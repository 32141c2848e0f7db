// Field schemas shared by the model, scenario and analysis request schemas (below every layer, like
// errors.ts and keys.ts): one wording for the messages a user sees, whichever request carries the field.
import { z } from 'zod';

/** A finite number; messages name the field (`${what} must be a number`, `${what} must be finite`). */
export const finiteNumber = (what: string) =>
  z.number({ error: `${what} must be a number` }).refine(Number.isFinite, { message: `${what} must be finite` });

/** A random seed: an integer in [0, 2³¹ − 1] (mulberry32 takes 32 bits), default 1. */
export const seedField = () =>
  z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(1);
