// Field schemas shared by the model, scenario and analysis request schemas (below every layer, like
// errors.ts and keys.ts): one wording for the messages a user sees, whichever request carries the field.
import { z } from 'zod';

/** A finite number; messages name the field (`${what} must be a number`, `${what} must be finite`). */
export const finiteNumber = (what: string) =>
  z.number({ error: `${what} must be a number` }).refine(Number.isFinite, { message: `${what} must be finite` });
