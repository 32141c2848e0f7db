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
    for (const f of readdirSync(MODELS_DIR).filter((f) => f.endsWith('.json')).sort()) {
      const file = path.join(MODELS_DIR, f);
      const j = readJson(file);
      if (typeof j.id !== 'string' || typeof j.odes !== 'object') continue;
      index.set(j.id, { id: j.id, title: String(j.title ?? ''), reference: j.reference as string | string[] | undefined, file });
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
    throw new InputError(`unknown model '${id}' (available: ${listModels().map((m) => m.id).join(', ')})`, path);
  }
  const m = compileModel(json);
  compiled.set(id, m);
  return m;
}

const inlineCache = new Map<string, CompiledModel>();
const INLINE_CACHE_SIZE = 64;

/** An id or an inline model object → compiled model; errors carry paths under `path`. */
export function resolveModel(ref: string | Record<string, unknown>, path: Path = ['model']): CompiledModel {
  if (typeof ref === 'string') return getModel(ref, path);
  const key = JSON.stringify(ref);
  const hit = inlineCache.get(key);
  if (hit) return hit;
  let m: CompiledModel;
  try {
    m = compileModel(ref);
  } catch (e) {
    if (e instanceof InputError) throw e.prefixed(path);
    throw e;
  }
  if (inlineCache.size >= INLINE_CACHE_SIZE) inlineCache.delete(inlineCache.keys().next().value as string);
  inlineCache.set(key, m);
  return m;
}
