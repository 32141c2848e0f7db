// A comparison of arms of one model (POST /api/compare, `immunopd compare`): the request schema (shared
// fields, each arm's own parameters / initial values / preset / covariates / doses / therapies), the
// scenario of each arm, arm-level error paths, and the answer — JSON { model, arms: [{ name, result }],
// metrics: { columns, rows } } or CSV (an `arm` column, every arm's rows under one header). One
// implementation for both entry points: the route solves the arms on the server's pool, the CLI in-process.
import { z } from 'zod';
import {
  Scenario,
  SimulationResult,
  Dose,
  TimeGrid,
  SolverOptions,
  ModelRef,
  ParameterValues,
  LIMITS,
} from '../scenario/schema.ts';
import type { Issue } from '../errors.ts';
import { userRecord, userKey } from '../keys.ts';

const name = z.string().min(1, 'name is empty').max(100, 'name is longer than 100 characters');
const finiteValues = (what: string) => userRecord(z.number().refine(Number.isFinite, `${what} must be finite`));

/** One arm of a comparison: its own parameter values, initial values, doses and therapy presets. */
export const Arm = z.strictObject({
  name,
  /** Parameter values for this arm (over the comparison's `parameters`). */
  parameters: ParameterValues.optional(),
  initial: finiteValues('initial value').optional(),
  /** A named parameter preset of the model (over the comparison's `preset`). */
  preset: userKey.max(100).optional(),
  doses: z.array(Dose).max(LIMITS.doses, `at most ${LIMITS.doses} dose entries`).optional(),
  /** Covariate values of this arm (over the comparison's `covariates`). */
  covariates: finiteValues('covariate value').optional(),
  /** Therapy presets (GET /api/therapies), expanded into doses. */
  therapies: z.array(z.string().max(100)).max(50).optional(),
});

export const CompareRequest = z
  .strictObject({
    model: ModelRef,
    arms: z.array(Arm).min(1, 'give at least one arm').max(LIMITS.arms, `at most ${LIMITS.arms} arms`),
    times: TimeGrid,
    /** Parameter values shared by every arm (an arm's own values win). */
    parameters: ParameterValues.optional(),
    initial: finiteValues('initial value').optional(),
    preset: userKey.max(100).optional(),
    weight: z
      .number()
      .refine((v) => Number.isFinite(v) && v > 0 && v <= 1000, 'weight must be in (0, 1000] kg')
      .optional(),
    /** Covariate values shared by every arm (an arm's own values win). */
    covariates: finiteValues('covariate value').optional(),
    solver: SolverOptions.optional(),
    metrics: z.boolean().optional(),
    /** Report only these states and outputs in every arm (default: all). */
    select: Scenario.shape.select,
  })
  .superRefine((r, ctx) => {
    const seen = new Map<string, number>();
    r.arms.forEach((a, i) => {
      if (seen.has(a.name))
        ctx.addIssue({
          code: 'custom',
          path: ['arms', i, 'name'],
          message: `arm name '${a.name}' is used twice (also arms[${seen.get(a.name)}])`,
        });
      else seen.set(a.name, i);
    });
  });
export type CompareRequest = z.infer<typeof CompareRequest>;

export const MetricsTable = z.object({
  /** Column names: `arm`, then every scalar metric of any arm (per-drug metrics as `drugs.<drug>.<metric>`). */
  columns: z.array(z.string()),
  rows: z.array(z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()]))),
});

export const CompareResponse = z.object({
  model: z.string(),
  arms: z.array(z.object({ name: z.string(), result: SimulationResult })),
  metrics: MetricsTable,
});

/** The scenario of arm i: shared fields, the arm's own over them; `solver` replaces the request's (budgets). */
export function compareArmScenario(c: CompareRequest, i: number, solver: CompareRequest['solver'] = c.solver) {
  const arm = c.arms[i];
  return {
    model: c.model,
    parameters: { ...(c.parameters ?? {}), ...(arm.parameters ?? {}) },
    initial: { ...(c.initial ?? {}), ...(arm.initial ?? {}) },
    ...((arm.preset ?? c.preset) !== undefined ? { preset: arm.preset ?? c.preset } : {}),
    times: c.times,
    doses: arm.doses ?? [],
    therapies: arm.therapies ?? [],
    ...(c.weight !== undefined ? { weight: c.weight } : {}),
    covariates: { ...(c.covariates ?? {}), ...(arm.covariates ?? {}) },
    ...(solver !== undefined ? { solver } : {}),
    ...(c.metrics !== undefined ? { metrics: c.metrics } : {}),
    ...(c.select !== undefined ? { select: c.select } : {}),
  };
}

/**
 * Input problems of the arms' scenarios, each under the field it came from: an arm's own fields under
 * ['arms', i, ...], shared fields once. `byArm[i]`: the issues of arm i's scenario (empty when it was fine).
 */
export function compareIssues(c: CompareRequest, byArm: Issue[][]): Issue[] {
  const issues: Issue[] = [];
  const seen = new Set<string>();
  byArm.forEach((list, i) => {
    const arm = c.arms[i];
    for (const issue of list) {
      const [head, key] = issue.path;
      const fromArm =
        head === 'doses' ||
        head === 'therapies' ||
        (head === 'preset' && arm.preset !== undefined) ||
        ((head === 'parameters' || head === 'initial' || head === 'covariates') &&
          typeof key === 'string' &&
          arm[head] !== undefined &&
          Object.hasOwn(arm[head]!, key));
      const path = fromArm ? ['arms', i, ...issue.path] : issue.path;
      const k = JSON.stringify([path, issue.message]);
      if (!seen.has(k)) {
        seen.add(k);
        issues.push({ path, message: issue.message });
      }
    }
  });
  return issues;
}

/** An arm's metrics as one table row: scalars as they are, `drugs.<drug>.<metric>` for drugs. */
export function metricsRow(metrics: Record<string, unknown>): Record<string, number | string | boolean | null> {
  const row: Record<string, number | string | boolean | null> = {};
  const put = (k: string, v: unknown) => {
    if (typeof v === 'number') row[k] = Number.isFinite(v) ? v : null;
    else if (typeof v === 'string' || typeof v === 'boolean') row[k] = v;
  };
  for (const [k, v] of Object.entries(metrics)) {
    if (k === 'drugs' && v && typeof v === 'object') {
      for (const [drug, m] of Object.entries(v as Record<string, Record<string, unknown>>)) {
        for (const [mk, mv] of Object.entries(m ?? {}))
          if (mk !== 'output' && mk !== 'unit') put(`drugs.${drug}.${mk}`, mv);
      }
    } else put(k, v);
  }
  return row;
}

/** The arms' CSV bodies (each with its header and an `arm` column) under one header. */
export function compareCsv(bodies: string[]): string {
  return bodies.map((b, i) => (i === 0 ? b : b.slice(b.indexOf('\n') + 1))).join('');
}

/** The JSON answer from each arm's result as JSON text (spliced in, not parsed again) and its metrics. */
export function compareJson(
  c: CompareRequest,
  model: string,
  arms: { body: string; metrics: Record<string, unknown> }[],
): string {
  const rows = arms.map((r, i) => ({ arm: c.arms[i].name, ...metricsRow(r.metrics) }));
  const columns = ['arm'];
  for (const row of rows) for (const k of Object.keys(row)) if (!columns.includes(k)) columns.push(k);
  return `{"model":${JSON.stringify(model)},"arms":[${arms.map((r, i) => `{"name":${JSON.stringify(c.arms[i].name)},"result":${r.body}}`).join(',')}],"metrics":${JSON.stringify({ columns, rows })}}`;
}
