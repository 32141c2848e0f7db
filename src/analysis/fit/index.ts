// Public API of the fitter: the request schema (for the HTTP route and the OpenAPI document) and fit().
export { FitRequest, FIT_LIMITS, ERROR_PARAMETERS, type FitRequestInput, type FitResult, type FitEstimate, type FitResidual } from './schema.ts';
export { fit, parseFitRequest } from './fit.ts';
export { latinHypercube } from '../../numerics/sampling.ts';
export { parseCsv, validateRows } from './data.ts';
export { levenbergMarquardt, type LmOptions, type LmResult, type StopReason } from '../../numerics/lm.ts';
