// vitest global setup: compile dist/ before the tests, so tests that run the `immunopd` command or start
// worker threads from the compiled output exercise the current sources, never a stale build.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const script = fileURLToPath(new URL('../scripts/build.mjs', import.meta.url));
  const r = spawnSync(process.execPath, [script], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed: fix the type errors above');
}
