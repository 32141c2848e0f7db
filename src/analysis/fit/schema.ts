// A fit request (Contract 4, docs/architecture.md) as a zod schema: what `immunopd fit` reads and `POST /api/fit`
// validates. The scenario fields (model, parameters, initial, doses, therapies, weight, preset, solver)
// mean what they mean in Contract 2; `data` replaces the output times.
import { z } from 'zod';
import { userRecord, userKey } from '../../keys.ts';
import {
  Dose,
  ModelSelectionFields,
  ParameterValues,
  SolverOptions,
  LIMITS,
  CovariateValues,
  DatasetRow,
} from '../../scenario/schema.ts';
import { finiteNumber as num } from '../../zod-fields.ts';

export const FIT_LIMITS = {
  dataRows: 20_000,
  estimated: 40,
  subjects: 500,
  multistart: 200,
  maxIterations: 2_000,
  fittedPoints: 5_000,
};

/** Names of the error-model parameters (usable in `estimate`). */
export const ERROR_PARAMETERS = ['sigma', 'sigmaProp'] as const;

export const EstimateSpec = z.strictObject({
  /** Starting value (natural scale); default: the parameter's current value. */
  initial: num('initial').optional(),
  lower: num('lower').optional(),
  upper: num('upper').optional(),
  /** Scale on which the optimizer works: log (default for positive values) or linear. */
  scale: z.enum(['log', 'linear']).optional(),
  /** One value per subject instead of one shared by all. */
  perSubject: z.boolean().default(false),
});

export const DataRow = z.strictObject({
  time: num('time')
    .refine((v) => v >= 0, 'time must be >= 0')
    .refine((v) => v <= LIMITS.maxTime, `time must be <= ${LIMITS.maxTime}`),
  observable: z.string({ error: 'observable must be a name' }).min(1, 'observable is empty').max(64).pipe(userKey),
  value: num('value'),
  subject: z.union([z.string().min(1).max(100).pipe(userKey), z.number().transform(String)]).optional(),
  /** Weight of the observation: its variance is divided by it (default 1). */
  weight: num('weight')
    .refine((v) => v > 0, 'weight must be > 0')
    .optional(),
});

export const SubjectSpec = z.strictObject({
  parameters: ParameterValues.optional(),
  initial: userRecord(num('initial value')).optional(),
  /** The subject's doses; when given they replace the request's `doses`. */
  doses: z.array(Dose).max(LIMITS.doses).optional(),
  therapies: z.array(z.string().max(100)).max(50).optional(),
  weight: num('weight')
    .refine((v) => v > 0 && v <= 1000, 'weight must be in (0, 1000] kg')
    .optional(),
  preset: userKey.max(100).optional(),
  /** Covariate values (the model's `covariates`) and their changes over time (last observation carried forward). */
  covariates: CovariateValues.optional(),
  covariateChanges: z
    .array(z.strictObject({ time: num('time'), values: CovariateValues }))
    .max(LIMITS.doses)
    .optional(),
  /** Times at which every state is reset to its initial value (dataset EVID 3/4). */
  resets: z.array(num('reset time')).max(LIMITS.doses).optional(),
  /** Observation times whose model value is taken just before the doses at that time (dataset file order). */
  preDoseTimes: z.array(num('time')).max(FIT_LIMITS.dataRows).optional(),
});

export const ErrorModel = z.strictObject({
  model: z.enum(['additive', 'proportional', 'combined']).default('additive'),
  /** `log`: residual = log(observed) - log(model), the error model applies on the log scale. */
  transform: z.enum(['none', 'log']).default('none'),
  /** Additive standard deviation (on the transformed scale); fixed when given and not in `estimate`. */
  sigma: num('sigma')
    .refine((v) => v > 0, 'sigma must be > 0')
    .optional(),
  /** Proportional coefficient (sd = sigmaProp × prediction); fixed when given and not in `estimate`. */
  sigmaProp: num('sigmaProp')
    .refine((v) => v > 0, 'sigmaProp must be > 0')
    .optional(),
});

/** The fields of a fit request, without the cross-field check (extended by the population fit's schema). */
export const FitRequestFields = z.strictObject({
  ...ModelSelectionFields,
  doses: z.array(Dose).max(LIMITS.doses).default([]),
  therapies: z.array(z.string().max(100)).max(50).default([]),
  weight: num('weight')
    .refine((v) => v > 0 && v <= 1000, 'weight must be in (0, 1000] kg')
    .default(70),
  /** Observations: rows, or CSV text with a header `time,observable,value[,subject][,weight]`. */
  data: z
    .union([
      z.array(z.unknown()).max(FIT_LIMITS.dataRows, `at most ${FIT_LIMITS.dataRows} data rows`),
      z.string().max(5_000_000),
    ])
    .optional(),
  /** A NONMEM-style dataset (docs/datasets.md) instead of `data`: subjects from ID, observations, doses and covariates from its records. */
  dataset: z.union([z.string().max(20_000_000), z.array(DatasetRow).max(200_000)]).optional(),
  /** What an observation record measures when its CMT names a state (an output, or per CMT). */
  observe: z.union([z.string().max(64), userRecord(z.string().max(64))]).optional(),
  /** Covariate values shared by every subject (a subject's own values win). */
  covariates: CovariateValues.default({}),
  subjects: userRecord(SubjectSpec).default({}),
  estimate: userRecord(EstimateSpec),
  error: ErrorModel.default({ model: 'additive', transform: 'none' }),
  solver: SolverOptions.default({ method: 'auto', rtol: 1e-8, maxSteps: 500_000, timeBudgetMs: LIMITS.timeBudgetMs }),
  /** Jacobian of the residuals: forward sensitivity equations (default) or finite differences of solutions. */
  sensitivities: z.enum(['forward', 'finite-difference']).default('forward'),
  maxIterations: z.number().int().min(1).max(FIT_LIMITS.maxIterations).default(200),
  tolerances: z
    .strictObject({
      ftol: num('ftol')
        .refine((v) => v >= 0 && v < 1, 'ftol must be in [0, 1)')
        .default(1e-10),
      xtol: num('xtol')
        .refine((v) => v >= 0 && v < 1, 'xtol must be in [0, 1)')
        .default(1e-10),
      gtol: num('gtol')
        .refine((v) => v >= 0 && v < 1, 'gtol must be in [0, 1)')
        .default(1e-10),
    })
    .default({ ftol: 1e-10, xtol: 1e-10, gtol: 1e-10 }),
  /** Parameters (names from `estimate`) whose 95 % interval is also computed by profile likelihood. */
  profile: z.array(userKey).max(FIT_LIMITS.estimated).default([]),
  /** Extra starts from a seeded Latin hypercube over the bounds (the given initial values are start 1). */
  multistart: z
    .strictObject({
      count: z.number().int().min(1).max(FIT_LIMITS.multistart).default(1),
      seed: z.number().int().default(1),
    })
    .optional(),
  /** Fitted curves: points on a uniform grid from the start to the last observation (default 201). */
  fitted: z
    .strictObject({ points: z.number().int().min(2).max(FIT_LIMITS.fittedPoints).default(201) })
    .default({ points: 201 }),
});

/** Exactly one source of observations: `data` rows (or CSV) or a NONMEM-style `dataset`. */
export function dataOrDataset(r: { data?: unknown; dataset?: unknown }, ctx: z.RefinementCtx) {
  if ((r.data === undefined) === (r.dataset === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: ['data'],
      message:
        r.data === undefined
          ? 'give the observations: data (rows or CSV) or dataset (NONMEM-style)'
          : 'give data or dataset, not both',
    });
  }
}

export const FitRequest = FitRequestFields.superRefine(dataOrDataset);

export type FitRequest = z.infer<typeof FitRequest>;
export type FitRequestInput = z.input<typeof FitRequest>;
export type DataRow = z.infer<typeof DataRow>;
export type EstimateSpec = z.infer<typeof EstimateSpec>;

export interface FitEstimate {
  value: number;
  /** Standard error on the natural scale (delta method for log-scale parameters); null if unbounded. */
  se: number | null;
  /** Relative standard error se/|value|. */
  rse: number | null;
  /** Wald interval, symmetric on the working scale (so positive for log-scale parameters). */
  ci95: [number | null, number | null];
  ciMethod: 'wald' | 'profile';
  wald95: [number | null, number | null];
  profile95?: [number | null, number | null];
  scale: 'log' | 'linear';
  initial: number;
  lower: number;
  upper: number;
  atBound: boolean;
  kind: 'model' | 'error';
  parameter: string;
  subject?: string;
}

export interface FitResidual {
  subject: string;
  time: number;
  observable: string;
  observed: number;
  predicted: number;
  /** observed − predicted on the transformed scale. */
  residual: number;
  /** residual / its standard deviation. */
  weightedResidual: number;
}

export interface FitResult {
  estimates: Record<string, FitEstimate>;
  objective: number;
  objectiveKind: 'negative log-likelihood';
  /** Weighted residual sum of squares on the transformed scale. */
  ssr: number;
  /** Residual standard deviation: estimated sqrt(ssr/(n−p)) when the additive sigma is not given. */
  sigmaResidual: number;
  aic: number;
  bic: number;
  observations: number;
  parameters: number;
  converged: boolean;
  reason: string;
  message: string;
  iterations: number;
  correlation: { names: string[]; matrix: (number | null)[][] };
  covariance: { names: string[]; scale: 'working'; matrix: (number | null)[][] };
  identifiability: { identifiable: boolean; conditionNumber: number | null; warnings: string[] };
  error: { model: string; transform: string; sigma?: number; sigmaProp?: number; profiled: boolean };
  residuals: FitResidual[];
  fitted: Record<string, { times: number[]; series: Record<string, number[]> }>;
  multistart?: {
    starts: { initial: Record<string, number>; objective: number | null; converged: boolean; iterations: number }[];
    best: number;
  };
  odeSolves: number;
  rhsEvaluations: number;
  sensitivities: 'forward' | 'finite-difference';
  ms: number;
}
