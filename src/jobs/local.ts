// Run a job kind in this thread, chunk after chunk (tests, small scripts): the same split, chunks and merge
// as the pool and the Redis workers, so the same result.
import { InputError, fromZodIssues } from '../errors.ts';
import { jobKind } from './kinds/index.ts';
import type { Backend } from './kind.ts';

export async function runLocal(
  kindName: string,
  rawRequest: unknown,
  backend: Backend = 'embedded',
  onProgress?: (done: number, total: number) => void,
): Promise<unknown> {
  const kind = jobKind(kindName);
  if (!kind) throw new InputError(`unknown job kind '${kindName}'`, ['kind']);
  const parsed = kind.schema.safeParse(rawRequest);
  if (!parsed.success) throw new InputError(fromZodIssues(parsed.error.issues));
  const request = parsed.data;
  const chunks = kind.split(request, backend);
  const total = chunks.reduce((s: number, c) => s + kind.size(c), 0);
  let done = 0;
  const partials: unknown[] = [];
  for (const chunk of chunks) {
    partials.push(
      await kind.runChunk(request, chunk, {
        progress: (d) => onProgress?.(done + d, total),
        signal: { aborted: false },
      }),
    );
    done += kind.size(chunk);
    onProgress?.(done, total);
  }
  return kind.merge(request, partials);
}
