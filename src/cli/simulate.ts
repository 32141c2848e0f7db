// CLI commands over the simulation engine: simulate, models, validate.
import { simulate } from '../simulate.ts';
import { listModels } from '../model/library.ts';
import { compileModel } from '../model/compile.ts';
import { unitsFullyDeclared } from '../model/units.ts';
import { resultToCsv, resultToJson } from '../results/csv.ts';
import { parse, readJsonFile, writeOutput, UsageError, type CliIo } from './main.ts';

export function simulateCommand(args: string[], io: CliIo): number {
  const { values, positionals } = parse(args, { format: { type: 'string', default: 'json' }, out: { type: 'string' } }, { min: 1, max: 1, usage: 'immunopd simulate SCENARIO.json [--format json|csv] [--out FILE]' });
  const format = values.format as string;
  if (format !== 'json' && format !== 'csv') throw new UsageError(`--format must be json or csv (got '${format}')`);
  const result = simulate(readJsonFile(positionals[0]));
  writeOutput(format === 'csv' ? resultToCsv(result) : resultToJson(result, true) + '\n', values.out as string | undefined, io);
  return 0;
}

export function modelsCommand(args: string[], io: CliIo): number {
  parse(args, {}, { min: 0, max: 0, usage: 'immunopd models' });
  const models = listModels();
  const w = Math.max(...models.map((m) => m.id.length), 2);
  for (const m of models) io.out(`${m.id.padEnd(w)}  ${m.title}\n`);
  return 0;
}

export function validateCommand(args: string[], io: CliIo): number {
  const { positionals } = parse(args, {}, { min: 1, max: 1, usage: 'immunopd validate MODEL.json' });
  const json = readJsonFile(positionals[0]);
  const m = compileModel(json);
  const units = unitsFullyDeclared(json) ? 'units consistent' : 'units not checked (a parameter or state declares no unit)';
  io.out(`ok: ${m.id}: ${m.stateNames.length} states, ${m.paramNames.length} parameters, ${m.outputNames.length} outputs, ${m.events.length} events; Jacobian ${m.jacobian ? 'analytic' : 'by finite differences'}; ${units}\n`);
  return 0;
}
