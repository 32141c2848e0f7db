// `immunopd optimize OPT.json [--out FILE]`: search a dosing schedule (see src/analysis/optimize); a progress
// bar over the candidate evaluations on a terminal.
import {
  optimizeSchedule,
  optimizePopulationSchedule,
  isPopulationOptimizeRequest,
} from '../analysis/optimize/index.ts';
import { parse, readJsonFile, writeOutput, type CliIo } from './main.ts';
import { progressBar } from './progress.ts';

export function optimizeCommand(args: string[], io: CliIo): number {
  const { values, positionals } = parse(
    args,
    { out: { type: 'string' }, summary: { type: 'boolean' } },
    { min: 1, max: 1, usage: 'immunopd optimize OPT.json [--out FILE] [--summary]' },
  );
  const input = readJsonFile(positionals[0]);
  if (isPopulationOptimizeRequest(input)) {
    // a schedule for a virtual population (population-objective.ts): the API's JSON
    writeOutput(
      JSON.stringify(optimizePopulationSchedule(input), null, 1) + '\n',
      values.out as string | undefined,
      io,
    );
    return 0;
  }
  const bar = progressBar('optimize');
  let result: ReturnType<typeof optimizeSchedule>;
  try {
    result = optimizeSchedule(input, (done, total) => bar.update(done, total));
  } finally {
    bar.stop();
  }
  writeOutput(JSON.stringify(result, null, 1) + '\n', values.out as string | undefined, io);
  if (values.summary || values.out) {
    const b = result.best;
    const lines = [
      `best of ${result.candidates} candidates (${result.evaluations} simulations, ${result.ms.toFixed(0)} ms): objective ${b.objective.toPrecision(6)}${b.feasible ? '' : ' (INFEASIBLE)'}`,
    ];
    for (const s of b.schedule)
      lines.push(
        `  ${s.drug}: ${s.amount}${s.perKg ? '/kg' : ''} x ${s.count}${s.interval !== undefined ? ` every ${s.interval}` : ''} from day ${s.start}`,
      );
    for (const bl of result.baselines)
      lines.push(
        `  baseline ${bl.therapy}: objective ${bl.objective.toPrecision(6)}${bl.feasible ? '' : ' (violates ' + Object.keys(bl.violations).join(', ') + ')'}`,
      );
    io.err(lines.join('\n') + '\n');
  }
  return 0;
}
