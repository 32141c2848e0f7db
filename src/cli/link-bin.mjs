#!/usr/bin/env node
// Run by `npm ci` / `npm install` (the "prepare" script): links node_modules/.bin/immunopd to the CLI so that
// `npx immunopd ...` works inside a checkout (npm links the bins of dependencies, not the project's own).
import { mkdirSync, rmSync, symlinkSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const binDir = path.join(root, 'node_modules', '.bin');
const target = path.join(root, 'src', 'cli', 'bin.mjs');
try {
  mkdirSync(binDir, { recursive: true });
  const link = path.join(binDir, 'immunopd');
  rmSync(link, { force: true });
  symlinkSync(path.relative(binDir, target), link);
  chmodSync(target, 0o755);
} catch (e) {
  console.warn(`immunopd: could not link node_modules/.bin/immunopd (${e.message}); use node src/cli/bin.mjs`);
}
