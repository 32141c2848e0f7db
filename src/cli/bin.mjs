#!/usr/bin/env node
// Entry point of the `immunopd` command: runs the compiled CLI in dist/ (built by `npm run build`, which
// `npm ci` / `npm install` run through the "prepare" script). No TypeScript is compiled at run time.
// It starts from server/cli.ts, which adds the server's command (serve) to the CLI of src/cli/main.ts:
// this file is the composition root above every layer, not part of src/cli's layer.
import { existsSync } from 'node:fs';
const main_js = new URL('../../dist/server/cli.js', import.meta.url);
if (!existsSync(main_js)) {
  console.error('immunopd: the compiled output (dist/) is missing; run `npm run build` in the package directory');
  process.exit(2);
}
// `immunopd ... | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const { main } = await import(main_js.href);
process.exitCode = await main(process.argv.slice(2));
