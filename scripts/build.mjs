#!/usr/bin/env node
// `npm run build` (and `prepare`, so `npm ci` / `npm install` build too):
//  1. tsc compiles src/ and server/ into dist/ (tsconfig.build.json: .ts imports rewritten to .js), after
//     removing the previous output so no stale module survives a rename; any type error fails the build.
//  2. esbuild re-bundles dist/src/model/mathjs-slice.js with mathjs inlined: one file instead of mathjs's
//     ~1,000 modules, which is most of a cold start. esbuild's native binary comes as an optional dependency
//     (no install script needed); when it is missing the tsc output is kept: correct, only slower to start.
//  3. esbuild bundles the pool thread (dist/src/jobs/thread.js, with everything it imports) into that one file:
//     a pool of 2 threads is ready in ~120 ms instead of ~230 (bench/run.ts's W3 job starts its pool inside
//     the timing, as `immunopd population` does). Only the thread: the main side keeps the module files.
import { rmSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// TypeScript 7 (the native compiler) is installed as @typescript/native; the `typescript` name holds 6.x,
// whose JavaScript compiler API typescript-eslint and scripts/check-functions.mjs need.
const tsc = path.join(root, 'node_modules', '@typescript', 'native', 'bin', 'tsc');
if (!existsSync(tsc)) {
  // An install without devDependencies (npm ci --omit=dev) cannot build; the command says so when run.
  console.warn('immunopd build: typescript is not installed (devDependencies omitted?); dist/ not built');
  process.exit(process.env.npm_lifecycle_event === 'prepare' ? 0 : 1);
}
rmSync(path.join(root, 'dist'), { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
  cwd: root,
});
if (r.status !== 0) process.exit(r.status ?? 1);

/**
 * `entry` and everything it imports bundled by esbuild into `outfile` (ESM for Node 20); false, with a warning
 * saying what is slower without it, when esbuild is missing or fails.
 */
async function bundle(entry, outfile, what) {
  try {
    const esbuild = await import('esbuild');
    await esbuild.build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      allowOverwrite: true,
      logLevel: 'warning',
    });
    return true;
  } catch (e) {
    console.warn(`immunopd build: ${what} (${e instanceof Error ? e.message.split('\n')[0] : e})`);
    return false;
  }
}

// 2. mathjs's slice as one file; without it the tsc output must exist (correct, slower to start).
const slice = path.join(root, 'dist', 'src', 'model', 'mathjs-slice.js');
const sliceSource = path.join(root, 'src', 'model', 'mathjs-slice.ts');
if (!(await bundle(sliceSource, slice, 'mathjs not bundled; start-up will be slower')) && !existsSync(slice))
  process.exit(1);

// 3. The pool thread as one file (see above); on failure the tsc output stays.
const thread = path.join(root, 'dist', 'src', 'jobs', 'thread.js');
await bundle(thread, thread, 'pool thread not bundled; its start will be slower');
