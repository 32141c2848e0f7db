#!/usr/bin/env node
// Entry point of the `immunopd` command: loads the TypeScript CLI through tsx (no build step).
import { register } from 'tsx/esm/api';
register();
// `immunopd ... | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(0); throw e; });
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
