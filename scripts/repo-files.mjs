// What the repository checks (scripts/check-*.mjs) share: the root they check and the files under a folder.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root; `--root DIR` checks another tree (the tests run the checks on small fixtures). */
export function repoRoot() {
  const i = process.argv.indexOf('--root');
  return i > 0 ? path.resolve(process.argv[i + 1]) : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
}

/** Installed, built and vendored code: never the repository's own text. */
const SKIP_DIRS = new Set(['node_modules', 'dist', 'vendor', 'build', '.git']);

/** Code files: TypeScript and JavaScript modules, not declaration files. */
export const isSource = (name) => /\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts');

/** Every file under `dir` (none when it does not exist) whose name passes `test`. */
export function walkFiles(dir, test, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name)) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walkFiles(p, test, out);
    else if (test(name)) out.push(p);
  }
  return out;
}
