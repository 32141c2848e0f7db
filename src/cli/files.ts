// CLI-only file references in requests: a scenario's or fit's `model` may name a model file on disk
// (resolved against the request file's folder; never over the API), and `--dataset FILE` supplies a
// NONMEM-style dataset.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { UsageError, readJsonFile } from './main.ts';

/** Does a model reference look like a file path rather than a library id? */
export function isModelPath(ref: unknown): ref is string {
  return typeof ref === 'string' && (ref.endsWith('.json') || ref.includes('/') || ref.includes('\\'));
}

/** Replace a `model` given as a file path by the file's content (relative to the request file). */
export function inlineModelFile(request: Record<string, unknown>, requestFile: string): void {
  const ref = request.model;
  if (!isModelPath(ref)) return;
  const base = requestFile === '-' ? process.cwd() : path.dirname(path.resolve(requestFile));
  const file = path.resolve(base, ref);
  if (!existsSync(file)) throw new UsageError(`model file ${ref} not found (looked for ${file})`);
  request.model = readJsonFile(file);
}

export function readDatasetFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
