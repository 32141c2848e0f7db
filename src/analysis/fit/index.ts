// Public API of the fitter: the request schema (for the HTTP route and the OpenAPI document) and fit().
export {
  FitRequest,
  FIT_LIMITS,
  ERROR_PARAMETERS,
  type FitRequestInput,
  type FitResult,
  type FitEstimate,
  type FitResidual,
} from './schema.ts';
export { parseFitRequest } from './fit.ts';
import {
  fit as fitRows,
  fitStartCount as startCount,
  fitStartsChunk as startsChunk,
  mergeFitStarts as mergeStarts,
  type FitStartsPartial,
} from './fit.ts';
import { fitRequestFromDataset } from './data.ts';
import type { FitResult } from './schema.ts';

/** Fit (Contract 4): a request with a NONMEM-style `dataset` is first converted to per-subject rows and doses. */
export function fit(input: unknown, progress?: (done: number, total: number) => void): FitResult {
  return fitRows(fitRequestFromDataset(input), progress);
}
/** Multistart fits in chunks of starts (the job system): how many starts, starts [from, to), the merge. */
export function fitStartCount(input: unknown): number {
  return startCount(fitRequestFromDataset(input));
}
export function fitStartsChunk(
  input: unknown,
  from: number,
  to: number,
  progress?: (done: number) => void,
): FitStartsPartial {
  return startsChunk(fitRequestFromDataset(input), from, to, progress);
}
export function mergeFitStarts(input: unknown, partials: FitStartsPartial[]): FitResult {
  return mergeStarts(fitRequestFromDataset(input), partials);
}
export type { FitStartsPartial };
export { latinHypercube } from '../../numerics/sampling.ts';
export { parseCsv, validateRows, fitRequestFromDataset } from './data.ts';
export { levenbergMarquardt, type LmOptions, type LmResult, type StopReason } from '../../numerics/lm.ts';
