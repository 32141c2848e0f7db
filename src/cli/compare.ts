// `immunopd compare FILE`: the body of POST /api/compare (its zod schema and arm scenarios from
// src/analysis/compare.ts, one implementation for both) answered in this process, with the API's answer:
// JSON { model, arms: [{ name, result }], metrics: { columns, rows } } or CSV (an `arm` column, then every
// arm's rows under one header). A progress bar (arms solved) on a terminal, quiet when piped.
import { CompareRequest, compareArmScenario, compareIssues, compareCsv, compareJson } from '../analysis/compare.ts';
import { simulate } from '../simulate.ts';
import type { SimulationResult } from '../scenario/schema.ts';
import { resultToCsv, resultToJson } from '../results/csv.ts';
import { InputError, fromZodIssues, type Issue } from '../errors.ts';
import { parse, readJsonFile, writeOutput, UsageError, type CliIo } from './main.ts';
import { progressBar } from './progress.ts';

export function compareCommand(args: string[], io: CliIo): number {
  const { values, positionals } = parse(
    args,
    { format: { type: 'string', default: 'json' }, out: { type: 'string' } },
    { min: 1, max: 1, usage: 'immunopd compare COMPARE.json [--format json|csv] [--out FILE]' },
  );
  const fmt = values.format as string;
  if (fmt !== 'json' && fmt !== 'csv') throw new UsageError(`--format must be json or csv (got '${fmt}')`);
  const parsed = CompareRequest.safeParse(readJsonFile(positionals[0]));
  if (!parsed.success) throw new InputError(fromZodIssues(parsed.error.issues));
  const c = parsed.data;
  const bar = progressBar('compare');
  const results: (SimulationResult | null)[] = [];
  const byArm: Issue[][] = [];
  try {
    c.arms.forEach((_, i) => {
      try {
        results.push(simulate(compareArmScenario(c, i)));
        byArm.push([]);
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        results.push(null);
        byArm.push(e.issues);
      }
      bar.update(i + 1, c.arms.length);
    });
  } finally {
    bar.stop();
  }
  // Every arm's input problems at once, under the field they came from (as the API).
  const issues = compareIssues(c, byArm);
  if (issues.length) throw new InputError(issues);
  const ok = results as SimulationResult[];
  const text =
    fmt === 'csv'
      ? compareCsv(ok.map((r, i) => resultToCsv(r, [{ name: 'arm', value: c.arms[i].name }])))
      : compareJson(
          c,
          ok[0].model,
          ok.map((r) => ({ body: resultToJson(r), metrics: r.metrics })),
        ) + '\n';
  writeOutput(text, values.out as string | undefined, io);
  return 0;
}
