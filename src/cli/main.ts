// The `immunopd` command line: simulate a scenario, list and validate models. Other commands (therapies,
// fit, optimize, population, ...) live in their own modules under src/cli/ and are loaded on demand; `serve`
// is the server's (server/serve-command.ts), passed in by server/cli.ts, the installed entry point.
// Bad input prints one line naming the field and exits with 2; a scenario that cannot be solved exits with 3.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError, SolveError, formatPath, reachedSuffix } from '../errors.ts';
import { VERSION } from '../package-info.ts';

export class UsageError extends Error {}

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
}
const stdio: CliIo = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

const USAGE = `usage: immunopd <command> [options]

commands:
  simulate SCENARIO.json [--format json|csv] [--out FILE]   solve a scenario (- reads standard input)
           [--dataset DATA.csv] [--format json|csv|nonmem]  ... subject by subject from a NONMEM-style dataset
  models                                                     list the model library
  validate MODEL.json                                        check a model file
  therapies                                                  list the therapy presets
  serve [--port N]                                           start the HTTP API and web client (default 3000)
  fit FIT.json [DATA.csv] [--out FILE]                       fit parameters to data
      [--dataset DATA.csv]                                   ... from a NONMEM-style dataset (a population fit when the request has population)
  vpc VPC.json [--dataset DATA.csv] [--result FIT.json]      visual predictive check of a population fit (as POST /api/vpc)
  optimize OPT.json [--out FILE]                             optimize a dosing schedule
  population POP.json [--format json|csv] [--out FILE]       virtual population / trial (as POST /api/population), as a job:
             [--threads N]                                  this machine's threads, or the workers of REDIS_URL
  sensitivity SENS.json [--format json|csv] [--out FILE]     local, Sobol or Morris sensitivity (as POST /api/sensitivity)
  compare COMPARE.json [--format json|csv] [--out FILE]      arms of one model (as POST /api/compare)
  nca DATA.csv|SCENARIO.json [--series NAME] [--tau T] ...   non-compartmental analysis
  worker [--redis URL] [--threads N]                         run job chunks from the Redis queue (REDIS_URL)
`;

/** Read a JSON file (or standard input for "-"), with errors naming the file. */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
}

export function writeOutput(text: string, outFile: string | undefined, io: CliIo) {
  if (outFile) writeFileSync(outFile, text);
  else io.out(text);
}

export type Command = (args: string[], io: CliIo) => Promise<number> | number;

// command → [module under src/cli/, exported function]; modules load on demand.
const commands: Record<string, [string, string]> = {
  simulate: ['simulate', 'simulateCommand'],
  models: ['simulate', 'modelsCommand'],
  validate: ['simulate', 'validateCommand'],
  therapies: ['therapies', 'therapiesCommand'],
  fit: ['fit', 'fitCommand'],
  vpc: ['vpc', 'vpcCommand'],
  optimize: ['optimize', 'optimizeCommand'],
  population: ['population', 'populationCommand'],
  sensitivity: ['population', 'sensitivityCommand'],
  compare: ['compare', 'compareCommand'],
  nca: ['nca', 'ncaCommand'],
  worker: ['worker', 'workerCommand'],
};

async function loadCommand(entry: [string, string] | undefined): Promise<Command> {
  if (!entry) throw new UsageError('unknown command');
  return ((await import(`./${entry[0]}.ts`)) as Record<string, Command>)[entry[1]];
}

/** Runs one command; `extra` adds commands from a higher layer (server/cli.ts passes `serve`). */
export async function main(argv: string[], io: CliIo = stdio, extra: Record<string, Command> = {}): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(USAGE);
    return name ? 0 : 2;
  }
  if (name === '--version') {
    io.out(`immunopd ${VERSION}\n`);
    return 0;
  }
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  const given = Object.hasOwn(extra, name) ? extra[name] : undefined;
  if (!entry && !given) {
    io.err(`error: unknown command '${name}'\n${USAGE}`);
    return 2;
  }
  try {
    const cmd = given ?? (await loadCommand(entry));
    return await cmd(rest, io);
  } catch (e) {
    if (e instanceof InputError) {
      io.err(`error: ${e.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}\n`);
      return 2;
    }
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`error: ${(e as Error).message}\n`);
      return 2;
    }
    if (e instanceof SolveError) {
      io.err(`error: could not solve: ${e.message}${reachedSuffix(e)}\n`);
      return 3;
    }
    io.err(`error: ${(e as Error).message ?? String(e)}\n`);
    return 1;
  }
}

export function parse(
  args: string[],
  options: NonNullable<ParseArgsConfig['options']>,
  positionals: { min: number; max: number; usage: string },
) {
  const r = parseArgs({ args, options, allowPositionals: true, strict: true });
  if (r.positionals.length < positionals.min || r.positionals.length > positionals.max)
    throw new UsageError(`usage: ${positionals.usage}`);
  return r;
}
