// Population (nonlinear mixed-effects) fits, Contract 4b in docs/architecture.md: `fitPopulation(request, dataset?)`.
import type { SubjectData } from '../../data/types.ts';
import { buildPopulationProblem, parsePopulationRequest } from './problem.ts';
import { fitFocei, type PopulationFitResult } from './focei.ts';
import { fitSaem } from './saem.ts';
import { runVpc, xFromResult, type VpcResult } from './vpc.ts';
import type { PopulationFitRequest } from './schema.ts';

export { PopulationFitRequest, PopulationSpec, NLME_LIMITS } from './schema.ts';
export type { PopulationFitResult } from './focei.ts';
export type { PopulationRecord } from './diagnostics.ts';
export { VpcOptions, type VpcResult, type VpcBin } from './vpc.ts';
export { VpcRequest, vpcFromRequest, PopulationEstimates } from './vpc-request.ts';
export { parsePopulationRequest } from './problem.ts';

/**
 * A population fit. `input` is a fit request with `population` (validated here); `dataset` the subjects of
 * a NONMEM-style dataset (Contract 6) already read — without it the request's `dataset` (CSV text or rows, read
 * with the fit's model) or its `data` rows with `subject` and its
 * `subjects` give the design (Contract 4 form).
 */
export function fitPopulation(
  input: unknown,
  dataset?: SubjectData[],
  onProgress?: (it: number, ofv: number) => void,
): PopulationFitResult {
  const req = parsePopulationRequest(input);
  const pb = buildPopulationProblem(req, dataset);
  return req.population.method === 'saem'
    ? fitSaem(pb, onProgress && ((it) => onProgress(it, NaN)))
    : fitFocei(pb, onProgress);
}

/** Iterations a fit reports progress in (FOCE-I: at most maxIterations outer iterations; SAEM: burn + smooth). */
export function populationIterations(req: PopulationFitRequest): number {
  const p = req.population;
  return p.method === 'saem' ? p.saem.burn + p.saem.smooth : p.maxIterations;
}

/** VPC of a fitted population: the request (and dataset) of the fit, its result, and the VPC options. */
export function vpcPopulation(
  input: unknown,
  result: PopulationFitResult,
  options: unknown = {},
  dataset?: SubjectData[],
): VpcResult {
  const pb = buildPopulationProblem(parsePopulationRequest(input), dataset);
  return runVpc(pb, xFromResult(pb, result), options);
}
