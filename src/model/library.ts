// The model library: the JSON files in models/, compiled on first use and kept. Inline models (over the
// API) are compiled through a small cache keyed by their text, so a client that re-sends the same model
// does not pay for compilation each time.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { compileModel, type CompiledModel } from './compile.ts';
import { InputError, type Path } from '../errors.ts';
import { PACKAGE_ROOT } from '../package-info.ts';

export const MODELS_DIR = path.join(PACKAGE_ROOT, 'models');

export interface LibraryEntry {
  id: string;
  title: string;
  reference?: string | string[];
  file: string;
}

let index: Map<string, LibraryEntry> | null = null;
const compiled = new Map<string, CompiledModel>();

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

/** Model files in models/ (every *.json with an `id` and `odes`). */
export function listModels(): LibraryEntry[] {
  if (!index) {
    index = new Map();
    for (const f of readdirSync(MODELS_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort()) {
      const file = path.join(MODELS_DIR, f);
      const j = readJson(file);
      if (typeof j.id !== 'string' || typeof j.odes !== 'object') continue;
      index.set(j.id, {
        id: j.id,
        title: String(j.title ?? ''),
        reference: j.reference as string | string[] | undefined,
        file,
      });
    }
  }
  return [...index.values()];
}

export function modelJson(id: string): Record<string, unknown> | undefined {
  listModels();
  const e = index!.get(id);
  return e ? readJson(e.file) : undefined;
}

/** A library model by id, compiled once. */
export function getModel(id: string, path: Path = ['model']): CompiledModel {
  const hit = compiled.get(id);
  if (hit) return hit;
  const json = modelJson(id);
  if (!json) {
    throw new InputError(
      `unknown model '${id}' (available: ${listModels()
        .map((m) => m.id)
        .join(', ')})`,
      path,
    );
  }
  const m = compileModel(json);
  compiled.set(id, m);
  return m;
}

/**
 * Inline models compiled recently, bounded by estimated bytes rather than count: one 900 KB inline model
 * holds ~40 MB (its text, parsed expressions kept for lazy Jacobians, generated code), the library's
 * immunotherapy model ~0.25 MB. The estimate, 32 bytes per character of model text plus generated source,
 * was measured (heap growth per compiled model: 29 bytes/char for a 1,000-assignment model, 7 for the
 * immunotherapy model), so it errs on the large side. Least recently used entries go first.
 */
export const INLINE_CACHE_BYTES = 64 * 1024 * 1024;
const BYTES_PER_CHAR = 32;
const inlineCache = new Map<string, { model: CompiledModel; bytes: number }>();
let inlineCacheBytes = 0;

/** Estimated bytes a compiled inline model holds (see INLINE_CACHE_BYTES). */
export function compiledModelBytes(key: string, m: CompiledModel): number {
  return BYTES_PER_CHAR * (key.length + m.source.rhs.length + m.source.boundRhs.length + m.source.outputs.length);
}

/** Entries and estimated bytes of the inline-model cache (tests, diagnostics). */
export function inlineCacheStats(): { entries: number; bytes: number } {
  return { entries: inlineCache.size, bytes: inlineCacheBytes };
}

/** An id or an inline model object → compiled model; errors carry paths under `path`. */
export function resolveModel(ref: string | Record<string, unknown>, path: Path = ['model']): CompiledModel {
  if (typeof ref === 'string') return getModel(ref, path);
  const key = JSON.stringify(ref);
  const hit = inlineCache.get(key);
  if (hit) {
    inlineCache.delete(key); // most recently used last
    inlineCache.set(key, hit);
    return hit.model;
  }
  let m: CompiledModel;
  try {
    m = compileModel(ref);
  } catch (e) {
    if (e instanceof InputError) throw e.prefixed(path);
    throw e;
  }
  const bytes = compiledModelBytes(key, m);
  if (bytes > INLINE_CACHE_BYTES) return m; // larger than the whole cache: compiled for this request only
  while (inlineCacheBytes + bytes > INLINE_CACHE_BYTES) {
    const [oldKey, old] = inlineCache.entries().next().value!;
    inlineCache.delete(oldKey);
    inlineCacheBytes -= old.bytes;
  }
  inlineCache.set(key, { model: m, bytes });
  inlineCacheBytes += bytes;
  return m;
}
