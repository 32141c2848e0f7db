// The embedded backend: a job's chunks run on this process's thread pool as `job` work (after cheap and
// synchronous requests, never on every thread).
import type { ChunkBackend } from './manager.ts';
import { JobFailure } from './manager.ts';
import type { WorkerPool } from './pool.ts';
import type { Reply } from './tasks.ts';

export function embeddedBackend(pool: WorkerPool): ChunkBackend {
  return {
    name: 'embedded',
    async runChunks(job, hooks) {
      const stop = new AbortController();
      const onAbort = () => stop.abort();
      hooks.signal.addEventListener('abort', onAbort, { once: true });
      try {
        return await Promise.all(
          job.chunks.map(async (chunk, i) => {
            let thread = -1;
            const reply: Reply = await pool.run(
              { type: 'chunk', kind: job.kind.kind, request: job.request, chunk },
              {
                cls: 'job',
                signal: stop.signal,
                onStart: (t) => {
                  thread = t;
                  hooks.onProgress(i, 0);
                },
                onProgress: (done) => hooks.onProgress(i, done),
              },
            );
            if (!reply.ok) {
              stop.abort(); // the other chunks are of no use now
              throw new JobFailure(reply.error);
            }
            hooks.onChunk(i, `thread-${thread}`);
            return reply.value;
          }),
        );
      } finally {
        hooks.signal.removeEventListener('abort', onAbort);
      }
    },
    async close() {},
  };
}
