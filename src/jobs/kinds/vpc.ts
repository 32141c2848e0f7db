// Visual predictive check of a population fit as a job (POST /api/jobs {kind: "vpc"} and the synchronous
// POST /api/vpc): one chunk (the replicates share one seeded stream, so they run in order), progress in
// replicates.
import { z } from 'zod';
import { vpcFromRequest, VpcRequest } from '../../analysis/nlme/index.ts';
import { InputError, fromZodIssues } from '../../errors.ts';
import { CancelledError, type JobKind } from '../kind.ts';

export const vpcKind: JobKind<unknown, { replicates: number }, unknown, unknown> = {
  kind: 'vpc',
  // Validated in full by vpcFromRequest in the thread that runs it; the options are read here for the progress total.
  schema: z.unknown(),
  split: (request) => {
    const r = VpcRequest.safeParse(request);
    if (!r.success) throw new InputError(fromZodIssues(r.error.issues));
    return [{ replicates: r.data.vpc.replicates }];
  },
  size: (chunk) => chunk.replicates,
  runChunk: (request, _chunk, ctx) =>
    vpcFromRequest(request, (r) => {
      if (ctx.signal.aborted) throw new CancelledError();
      if ((r & 15) === 0) ctx.progress(r);
    }),
  merge: (_request, partials) => partials[0],
};
