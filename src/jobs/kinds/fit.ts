// Fit (Contract 4) as a job. An individual fit: the starts of a multistart fit are the chunks (a fit without
// multistart is one chunk), run anywhere; the merge picks the best start (the lowest objective, the first of
// equals, as a sequential fit does), runs it again (deterministic) and finishes the fit, so the answer is the
// library's fit() for the same request. A request with `population` is a population fit (Contract 4b): one
// chunk whose progress is counted in iterations (FOCE-I outer iterations up to population.maxIterations;
// SAEM iterations, burn + smooth).
import { z } from 'zod';
import { fitStartsChunk, mergeFitStarts, FIT_LIMITS, type FitStartsPartial } from '../../analysis/fit/index.ts';
import { fitPopulation, parsePopulationRequest, populationIterations } from '../../analysis/nlme/index.ts';
import { CancelledError, type JobKind } from '../kind.ts';

/** Starts [from, to) of an individual fit, or the iterations of a population fit. */
export type FitChunk = { from: number; to: number } | { iterations: number };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPopulation = (request: unknown) => isObject(request) && Object.hasOwn(request, 'population');

/** The starts asked for; a request the fitter will refuse counts as one start (its chunk reports why). */
function startsAsked(request: unknown): number {
  const ms = isObject(request) && Object.hasOwn(request, 'multistart') ? request.multistart : undefined;
  const count = isObject(ms) && Object.hasOwn(ms, 'count') ? ms.count : 1;
  return typeof count === 'number' && Number.isInteger(count) && count >= 1 && count <= FIT_LIMITS.multistart
    ? count
    : 1;
}

export const fitKind: JobKind<unknown, FitChunk, unknown, unknown> = {
  kind: 'fit',
  // Validated by the fitters themselves (their own zod schemas); a population request is checked before queueing.
  schema: z.unknown(),
  split(request) {
    if (isPopulation(request)) return [{ iterations: populationIterations(parsePopulationRequest(request)) }];
    const n = startsAsked(request);
    // About 16 chunks at most: a start is seconds of work, a chunk's set-up (the problem) is small.
    const per = Math.max(1, Math.ceil(n / 16));
    const chunks: FitChunk[] = [];
    for (let k = 0; k < n; k += per) chunks.push({ from: k, to: Math.min(n, k + per) });
    return chunks;
  },
  size: (c) => ('iterations' in c ? c.iterations : c.to - c.from),
  runChunk(request, chunk, ctx) {
    if (ctx.signal.aborted) throw new CancelledError();
    if ('iterations' in chunk) {
      return fitPopulation(request, undefined, (it) => {
        if (ctx.signal.aborted) throw new CancelledError();
        ctx.progress(it);
      });
    }
    return fitStartsChunk(request, chunk.from, chunk.to, (done) => {
      ctx.progress(done);
      if (ctx.signal.aborted) throw new CancelledError();
    });
  },
  merge: (request, partials) =>
    isPopulation(request) ? partials[0] : mergeFitStarts(request, partials as FitStartsPartial[]),
};
