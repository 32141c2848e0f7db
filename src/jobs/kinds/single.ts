// A job kind whose work is one call of a library function (one chunk): schedule optimization, sensitivity.
// Their internal loops (candidate schedules, samples) are not split yet; the job
// still gets queueing, cancellation (the thread is stopped), progress 0/1 → 1/1 and the result store.
import { z } from 'zod';
import type { JobKind } from '../kind.ts';

export function singleChunkKind<R>(
  kind: string,
  run: (request: unknown) => R,
): JobKind<unknown, Record<string, never>, R, R> {
  return {
    kind,
    // Validated by the library function itself (its own zod schema), in the thread that runs it.
    schema: z.unknown(),
    split: () => [{}],
    size: () => 1,
    runChunk: (request) => run(request),
    merge: (_request, partials) => partials[0],
  };
}
