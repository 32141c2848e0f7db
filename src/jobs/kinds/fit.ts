// Fit (Contract 4) as a job: the starts of a multistart fit are the chunks (a fit without multistart is one
// chunk), run anywhere; the merge picks the best start (the lowest objective, the first of equals, as a
// sequential fit does), runs it again (deterministic) and finishes the fit, so the answer is the library's
// fit() for the same request. How many starts is read from the request as received (the chunk validates it).
import { z } from 'zod';
import { fitStartsChunk, mergeFitStarts, FIT_LIMITS, type FitResult, type FitStartsPartial } from '../../analysis/fit/index.ts';
import { CancelledError, type JobKind } from '../kind.ts';

export interface FitChunk { from: number; to: number }

/** The starts asked for; a request the fitter will refuse counts as one start (its chunk reports why). */
function startsAsked(request: unknown): number {
  const ms = request && typeof request === 'object' && !Array.isArray(request) && Object.hasOwn(request, 'multistart') ? (request as { multistart?: unknown }).multistart : undefined;
  const count = ms && typeof ms === 'object' && Object.hasOwn(ms, 'count') ? (ms as { count?: unknown }).count : 1;
  return typeof count === 'number' && Number.isInteger(count) && count >= 1 && count <= FIT_LIMITS.multistart ? count : 1;
}

export const fitKind: JobKind<unknown, FitChunk, FitStartsPartial, FitResult> = {
  kind: 'fit',
  // Validated by the fitter itself (its own zod schema), in the thread that runs a chunk.
  schema: z.unknown(),
  split(request) {
    const n = startsAsked(request);
    // About 16 chunks at most: a start is seconds of work, a chunk's set-up (the problem) is small.
    const per = Math.max(1, Math.ceil(n / 16));
    const chunks: FitChunk[] = [];
    for (let k = 0; k < n; k += per) chunks.push({ from: k, to: Math.min(n, k + per) });
    return chunks;
  },
  size: (c) => c.to - c.from,
  runChunk(request, chunk, ctx) {
    if (ctx.signal.aborted) throw new CancelledError();
    return fitStartsChunk(request, chunk.from, chunk.to, (done) => {
      ctx.progress(done);
      if (ctx.signal.aborted) throw new CancelledError();
    });
  },
  merge: (request, partials) => mergeFitStarts(request, partials),
};
