// A population fit request (Contract 4b, docs/architecture.md) as a zod schema: the fit request of Contract 4 plus
// `population` (method, Ω, covariate effects, options of the estimation and of the diagnostics).
// Every parameter named in `population.omega` is θ·exp(η), η ~ N(0, Ω); the other parameters of
// `estimate` are fixed effects only; `sigma` / `sigmaProp` (Contract 4 `error`) are the residual error.
import { z } from 'zod';
import { FitRequestFields, dataOrDataset } from '../fit/schema.ts';

export const NLME_LIMITS = {
  subjects: 500,
  randomEffects: 10,
  covariateEffects: 20,
  outerIterations: 500,
  npdeReplicates: 5_000,
  vpcReplicates: 5_000,
  saemIterations: 5_000,
  importanceSamples: 20_000,
};

const positive = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .refine((v) => Number.isFinite(v) && v > 0, `${what} must be a finite number > 0`);

/** Ω: diagonal variances by parameter, or one block (names and a symmetric positive definite matrix). */
export const OmegaSpec = z.union([
  z.strictObject({
    block: z.tuple([
      z.array(z.string().min(1).max(64)).min(1).max(NLME_LIMITS.randomEffects),
      z.array(z.array(z.number().refine(Number.isFinite, 'Ω entries must be finite'))),
    ]),
    /** Diagonal entries for further parameters outside the block. */
    diagonal: z.record(z.string(), positive('variance')).optional(),
  }),
  z.record(z.string(), positive('variance')),
]);

/**
 * A covariate effect on a parameter, multiplying its typical value: `power` (COV/center)^β (the allometric
 * form; `"(WT/70)^0.75"` as a string with a fixed exponent), `exponential` exp(β (COV − center)), `linear`
 * 1 + β (COV − center). β is estimated unless `fixed`.
 */
export const CovariateEffect = z.strictObject({
  covariate: z.string().min(1).max(64),
  form: z.enum(['power', 'exponential', 'linear']).default('power'),
  center: z.number().refine(Number.isFinite, 'center must be finite').default(1),
  initial: z.number().refine(Number.isFinite, 'initial must be finite').default(0),
  fixed: z.boolean().default(false),
});

export const PopulationSpec = z.strictObject({
  method: z.enum(['focei', 'saem']).default('focei'),
  omega: OmegaSpec,
  /** Covariate effects: parameter → one effect (object or the string `(COV/center)^exponent`) or a list. */
  covariates: z
    .record(
      z.string(),
      z.union([z.string().max(200), CovariateEffect, z.array(CovariateEffect).max(NLME_LIMITS.covariateEffects)]),
    )
    .default({}),
  /** Outer iterations (FOCE-I quasi-Newton); SAEM has its own counts. */
  maxIterations: z.number().int().min(1).max(NLME_LIMITS.outerIterations).default(200),
  /** Covariance step: the R matrix (Hessian of the OFV, NONMEM's MATRIX=R), or none. */
  covariance: z.enum(['R', 'none']).default('R'),
  /** NPDE: simulations per subject (0 = not computed). */
  npde: z
    .strictObject({
      replicates: z.number().int().min(0).max(NLME_LIMITS.npdeReplicates).default(0),
      seed: z.number().int().default(1),
    })
    .default({ replicates: 0, seed: 1 }),
  saem: z
    .strictObject({
      /** Exploration (step 1) and smoothing (step 1/k) iterations. */
      burn: z.number().int().min(1).max(NLME_LIMITS.saemIterations).default(150),
      smooth: z.number().int().min(1).max(NLME_LIMITS.saemIterations).default(100),
      chains: z.number().int().min(1).max(20).default(1),
      seed: z.number().int().default(1),
      /** Importance samples per subject for the log-likelihood afterwards. */
      importanceSamples: z.number().int().min(100).max(NLME_LIMITS.importanceSamples).default(2000),
    })
    .default({ burn: 150, smooth: 100, chains: 1, seed: 1, importanceSamples: 2000 }),
});

export const PopulationFitRequest = FitRequestFields.extend({ population: PopulationSpec }).superRefine(dataOrDataset);

export type PopulationSpec = z.infer<typeof PopulationSpec>;
export type PopulationFitRequest = z.infer<typeof PopulationFitRequest>;
export type PopulationFitRequestInput = z.input<typeof PopulationFitRequest>;
export type CovariateEffect = z.infer<typeof CovariateEffect>;
