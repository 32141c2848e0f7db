// The `immunopd` command as installed (src/cli/bin.mjs runs the compiled copy of this file): the CLI of
// src/cli/main.ts plus the commands that need the server (serve), registered from here because src/
// never imports server/ (docs/architecture.md, layers). From source: node src/cli/run-ts.mjs server/cli.ts ARGS.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { main as cliMain, type CliIo, type Command } from '../src/cli/main.ts';
import { serveCommand } from './serve-command.ts';

const serverCommands: Record<string, Command> = { serve: serveCommand };

export function main(argv: string[], io?: CliIo): Promise<number> {
  return cliMain(argv, io, serverCommands);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
