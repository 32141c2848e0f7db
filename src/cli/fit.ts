// `immunopd fit FIT.json [DATA.csv] [--out FILE]`: fit parameters to data (Contract 4). A CSV file given
// on the command line replaces the request's `data`. A progress bar over multistart starts on a terminal.
import { readFileSync } from 'node:fs';
import { fit } from '../analysis/fit/index.ts';
import { fitPopulation } from '../analysis/nlme/index.ts';
import { parse, readJsonFile, writeOutput, UsageError, type CliIo } from './main.ts';
import { inlineModelFile, readDatasetFile } from './files.ts';
import { progressBar } from './progress.ts';

export function fitCommand(args: string[], io: CliIo): number {
  const { values, positionals } = parse(
    args,
    { out: { type: 'string' }, summary: { type: 'boolean' }, dataset: { type: 'string' } },
    { min: 1, max: 2, usage: 'immunopd fit FIT.json [DATA.csv | --dataset NONMEM.csv] [--out FILE] [--summary]' },
  );
  const request = readJsonFile(positionals[0]);
  if (typeof request !== 'object' || request === null || Array.isArray(request))
    throw new UsageError(`${positionals[0]} must hold a JSON object (a fit request)`);
  const req = request as Record<string, unknown>;
  inlineModelFile(req, positionals[0]);
  if (values.dataset) {
    if (positionals[1]) throw new UsageError('give DATA.csv or --dataset, not both');
    req.dataset = readDatasetFile(values.dataset as string);
  }
  if (positionals[1]) {
    try {
      req.data = readFileSync(positionals[1], 'utf8');
    } catch (e) {
      throw new UsageError(
        `cannot read ${positionals[1]}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  }
  // A population fit (Contract 4b) when the request has `population`.
  if (Object.hasOwn(req, 'population')) {
    writeOutput(JSON.stringify(fitPopulation(req), null, 1) + '\n', values.out as string | undefined, io);
    return 0;
  }
  // A progress bar over the starts of a multistart fit (a terminal only).
  const bar = progressBar('fit');
  let result: ReturnType<typeof fit>;
  try {
    result = fit(req, (done, total) => total > 1 && bar.update(done, total));
  } finally {
    bar.stop();
  }
  writeOutput(JSON.stringify(result, null, 1) + '\n', values.out as string | undefined, io);
  if (values.summary || values.out) {
    const lines = [
      `${result.converged ? 'converged' : 'NOT converged'} (${result.reason}) after ${result.iterations} iterations, ${result.odeSolves} ODE solves, ${result.ms.toFixed(0)} ms; -logL ${result.objective.toPrecision(8)}, AIC ${result.aic.toPrecision(6)}`,
    ];
    for (const [k, e] of Object.entries(result.estimates)) {
      lines.push(
        `  ${k.padEnd(16)} ${e.value.toPrecision(6).padStart(12)}  se ${e.se === null ? 'unbounded' : e.se.toPrecision(3)}  95% CI [${e.ci95.map((v) => (v === null ? '-' : v.toPrecision(4))).join(', ')}] (${e.ciMethod})`,
      );
    }
    for (const w of result.identifiability.warnings) lines.push(`  warning: ${w}`);
    io.err(lines.join('\n') + '\n');
  }
  return 0;
}
