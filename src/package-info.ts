// Where the immunopd package lives on disk and its version, read from package.json. The same code runs from
// the TypeScript sources (src/, under tsx or vitest) and from the compiled output (dist/src/), so data
// directories (models/, web/) and the worker bootstrap are found from the package root, never relative to a
// module's own location. Bottom layer: imports only node built-ins.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'immunopd') return dir;
    if (path.dirname(dir) === dir) throw new Error(`immunopd: package.json not found above ${start}`);
  }
}

/** Absolute path of the package root (the directory holding package.json, models/, web/). */
export const PACKAGE_ROOT: string = findRoot(path.dirname(fileURLToPath(import.meta.url)));

/** The package version, from package.json (never hard-coded). */
export const VERSION: string = (
  JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

/** Whether this module runs from the TypeScript sources (tsx, vitest) rather than the compiled dist/. */
export const RUNNING_FROM_SOURCE: boolean = import.meta.url.endsWith('.ts');
