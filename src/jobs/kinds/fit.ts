// Fit (Contract 4) as a job: one chunk (multistart starts run in order inside it). A request with
// `population` is a population fit (Contract 4b): its chunk reports progress in iterations (FOCE-I outer
// iterations, up to population.maxIterations; SAEM iterations, burn + smooth).
import { z } from 'zod';
import { fit } from '../../analysis/fit/index.ts';
import { fitPopulation, parsePopulationRequest, populationIterations } from '../../analysis/nlme/index.ts';
import { CancelledError, type JobKind } from '../kind.ts';

const isPopulation = (request: unknown) => typeof request === 'object' && request !== null && !Array.isArray(request) && Object.hasOwn(request, 'population');

export const fitKind: JobKind<unknown, { iterations: number }, unknown, unknown> = {
  kind: 'fit',
  // Validated by the library (its own zod schema); a population request is checked before queueing (split).
  schema: z.unknown(),
  split: (request) => [{ iterations: isPopulation(request) ? populationIterations(parsePopulationRequest(request)) : 1 }],
  size: (chunk) => chunk.iterations,
  runChunk: (request, _chunk, ctx) => {
    if (!isPopulation(request)) return fit(request);
    return fitPopulation(request, undefined, (it) => {
      if (ctx.signal.aborted) throw new CancelledError();
      ctx.progress(it);
    });
  },
  merge: (_request, partials) => partials[0],
};
