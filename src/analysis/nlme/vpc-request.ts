// A VPC request (`immunopd vpc`, POST /api/vpc, the `vpc` job kind): the population fit request (Contract
// 4b, with its `data` or `dataset`) plus the estimates to simulate with — `result` (the answer of the fit,
// as `immunopd fit` writes it) or `estimates` (compact: θ and β by name, Ω as a matrix in the order of
// population.omega, σ) — and the VPC options `vpc` (replicates ≥ 500, seed, bins, predictionCorrected,
// percentiles, level). The same seed gives the same numbers wherever it runs.
import { z } from 'zod';
import { InputError, fromZodIssues, type Issue } from '../../errors.ts';
import { buildPopulationProblem, parsePopulationRequest } from './problem.ts';
import { runVpc, xFromResult, VpcOptions, type VpcResult } from './vpc.ts';
import { PopulationFitRequest } from './schema.ts';
import type { PopulationFitResult } from './focei.ts';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const valued = z.looseObject({ value: finite });

/** The estimates as a fit result carries them (other fields of the result are accepted and ignored). */
export const FitResultEstimates = z.looseObject({
  theta: z.record(z.string(), valued),
  beta: z.record(z.string(), valued).default({}),
  omega: z.looseObject({ matrix: z.array(z.array(finite)) }),
  sigma: z.looseObject({ sigma: valued.optional(), sigmaProp: valued.optional() }),
});

/** Compact estimates: `theta: {CL: 4.1}`, `beta: {"CL~WT": 0.75}`, `omega: [[0.09, 0], [0, 0.04]]`, `sigma`, `sigmaProp`. */
export const PopulationEstimates = z.strictObject({
  theta: z.record(z.string(), finite),
  beta: z.record(z.string(), finite).default({}),
  omega: z.array(z.array(finite)).min(1),
  sigma: finite.refine((v) => v > 0, 'sigma must be > 0').optional(),
  sigmaProp: finite.refine((v) => v > 0, 'sigmaProp must be > 0').optional(),
});

export const VpcRequest = PopulationFitRequest.extend({
  result: FitResultEstimates.optional(),
  estimates: PopulationEstimates.optional(),
  vpc: VpcOptions.default({
    replicates: 500,
    seed: 1,
    predictionCorrected: false,
    percentiles: [5, 50, 95],
    level: 0.95,
  }),
});
export type VpcRequest = z.infer<typeof VpcRequest>;

type Estimates = z.infer<typeof FitResultEstimates>;

/** Check that the estimates name every θ, β, the Ω entries and σ of the problem (errors name the field). */
function checkEstimates(pb: ReturnType<typeof buildPopulationProblem>, e: Estimates, root: string): void {
  const issues: Issue[] = [];
  for (const f of pb.fixed)
    if (!Object.hasOwn(e.theta, f.name))
      issues.push({ path: [root, 'theta', f.name], message: `the estimate of θ ${f.name} is missing` });
  for (const c of pb.covariates) {
    const key = `${c.parameter}~${c.covariate}`;
    if (c.x >= 0 && !Object.hasOwn(e.beta, key))
      issues.push({ path: [root, 'beta', key], message: `the estimate of the covariate effect ${key} is missing` });
  }
  const q = pb.etaNames.length;
  const M = e.omega.matrix;
  if (M.length !== q || M.some((r) => r.length !== q))
    issues.push({
      path: [root, 'omega'],
      message: `Ω must be ${q}×${q} (random effects ${pb.etaNames.join(', ')}, in this order)`,
    });
  if (pb.xSigma >= 0 && !(e.sigma.sigma && e.sigma.sigma.value > 0))
    issues.push({ path: [root, 'sigma'], message: 'the estimate of sigma (> 0) is missing' });
  if (pb.xSigmaProp >= 0 && !(e.sigma.sigmaProp && e.sigma.sigmaProp.value > 0))
    issues.push({ path: [root, 'sigmaProp'], message: 'the estimate of sigmaProp (> 0) is missing' });
  if (issues.length) throw new InputError(issues);
}

/** A VPC from a request: the problem of the fit, the estimates given, the options. */
export function vpcFromRequest(input: unknown, onProgress?: (replicate: number) => void): VpcResult {
  const parsed = VpcRequest.safeParse(input);
  if (!parsed.success) throw new InputError(fromZodIssues(parsed.error.issues));
  const { result, estimates, vpc, ...fitPart } = parsed.data;
  if ((result === undefined) === (estimates === undefined)) {
    throw new InputError(
      result === undefined
        ? "give the estimates to simulate with: result (the fit's answer) or estimates"
        : 'give result or estimates, not both',
      ['result'],
    );
  }
  const pb = buildPopulationProblem(parsePopulationRequest(fitPart));
  const est: Estimates = result ?? {
    theta: Object.fromEntries(Object.entries(estimates!.theta).map(([k, v]) => [k, { value: v }])),
    beta: Object.fromEntries(Object.entries(estimates!.beta).map(([k, v]) => [k, { value: v }])),
    omega: { matrix: estimates!.omega },
    sigma: {
      ...(estimates!.sigma !== undefined ? { sigma: { value: estimates!.sigma } } : {}),
      ...(estimates!.sigmaProp !== undefined ? { sigmaProp: { value: estimates!.sigmaProp } } : {}),
    },
  };
  checkEstimates(pb, est, result ? 'result' : 'estimates');
  return runVpc(pb, xFromResult(pb, est as unknown as PopulationFitResult), vpc, onProgress);
}
