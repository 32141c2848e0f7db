// CLI commands over the simulation engine: simulate, models, validate.
import { simulate } from '../simulate.ts';
import { listModels } from '../model/library.ts';
import { compileModel } from '../model/compile.ts';
import { unitsFullyDeclared } from '../model/units.ts';
import { resultToCsv, resultToJson } from '../results/csv.ts';
import { parse, readJsonFile, writeOutput, UsageError, type CliIo } from './main.ts';
import { inlineModelFile, readDatasetFile } from './files.ts';
import { simulateDataset, formatDatasetSimulation } from '../simulate-dataset.ts';

export function simulateCommand(args: string[], io: CliIo): number {
  const { values, positionals } = parse(
    args,
    { format: { type: 'string', default: 'json' }, out: { type: 'string' }, dataset: { type: 'string' } },
    {
      min: 1,
      max: 1,
      usage: 'immunopd simulate SCENARIO.json [--dataset DATA.csv] [--format json|csv|nonmem] [--out FILE]',
    },
  );
  const format = values.format as string;
  const request = readJsonFile(positionals[0]);
  if (typeof request !== 'object' || request === null || Array.isArray(request))
    throw new UsageError(`${positionals[0]} must hold a JSON object (a scenario)`);
  const scenario = request as Record<string, unknown>;
  inlineModelFile(scenario, positionals[0]);
  if (values.dataset) scenario.dataset = readDatasetFile(values.dataset as string);
  if (scenario.dataset !== undefined) {
    if (format !== 'json' && format !== 'csv' && format !== 'nonmem')
      throw new UsageError(`--format must be json, csv or nonmem (got '${format}')`);
    writeOutput(formatDatasetSimulation(simulateDataset(scenario), format), values.out as string | undefined, io);
    return 0;
  }
  if (format !== 'json' && format !== 'csv')
    throw new UsageError(`--format must be json or csv (got '${format}'; nonmem needs a dataset)`);
  const result = simulate(scenario);
  writeOutput(
    format === 'csv' ? resultToCsv(result) : resultToJson(result, true) + '\n',
    values.out as string | undefined,
    io,
  );
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
  const units = unitsFullyDeclared(json)
    ? 'units consistent'
    : 'units not checked (a parameter or state declares no unit)';
  io.out(
    `ok: ${m.id}: ${m.stateNames.length} states, ${m.paramNames.length} parameters, ${m.outputNames.length} outputs, ${m.events.length} events; Jacobian ${m.jacobian ? 'analytic' : 'by finite differences'}; ${units}\n`,
  );
  return 0;
}
