// `immunopd compare FILE`: the body of POST /api/compare (its zod schema, server/schemas.ts) answered in this
// process, with the API's answer: JSON { model, arms: [{ name, result }], metrics: { columns, rows } } or
// CSV (an `arm` column, then every arm's rows under one header). The arm scenarios are built as the server
// builds them (shared fields, the arm's own parameters / initial values / preset / doses / therapies).
import { CompareRequest } from '../../server/schemas.ts';
import { simulate } from '../simulate.ts';
import { resultToCsv, resultToJson } from '../results/csv.ts';
import { InputError, fromZodIssues } from '../errors.ts';
import { parse, readJsonFile, writeOutput, UsageError, type CliIo } from './main.ts';

/** The scenario of arm i of a comparison (as POST /api/compare builds it). */
export function compareArmScenario(c: CompareRequest, i: number) {
  const arm = c.arms[i];
  return {
    model: c.model,
    parameters: { ...(c.parameters ?? {}), ...(arm.parameters ?? {}) },
    initial: { ...(c.initial ?? {}), ...(arm.initial ?? {}) },
    ...((arm.preset ?? c.preset) !== undefined ? { preset: arm.preset ?? c.preset } : {}),
    times: c.times,
    doses: arm.doses ?? [],
    therapies: arm.therapies ?? [],
    ...(c.weight !== undefined ? { weight: c.weight } : {}),
    ...(c.solver !== undefined ? { solver: c.solver } : {}),
    ...(c.metrics !== undefined ? { metrics: c.metrics } : {}),
    ...(c.select !== undefined ? { select: c.select } : {}),
  };
}

/** An arm's metrics as one table row: scalars as they are, `drugs.<drug>.<metric>` for drugs (as the API). */
function metricsRow(metrics: Record<string, unknown>): Record<string, number | string | boolean | null> {
  const row: Record<string, number | string | boolean | null> = {};
  const put = (k: string, v: unknown) => {
    if (typeof v === 'number') row[k] = Number.isFinite(v) ? v : null;
    else if (typeof v === 'string' || typeof v === 'boolean') row[k] = v;
  };
  for (const [k, v] of Object.entries(metrics)) {
    if (k === 'drugs' && v && typeof v === 'object') {
      for (const [drug, m] of Object.entries(v as Record<string, Record<string, unknown>>)) {
        for (const [mk, mv] of Object.entries(m ?? {})) if (mk !== 'output' && mk !== 'unit') put(`drugs.${drug}.${mk}`, mv);
      }
    } else put(k, v);
  }
  return row;
}

export function compareCommand(args: string[], io: CliIo): number {
  const { values, positionals } = parse(args, { format: { type: 'string', default: 'json' }, out: { type: 'string' } }, { min: 1, max: 1, usage: 'immunopd compare COMPARE.json [--format json|csv] [--out FILE]' });
  const fmt = values.format as string;
  if (fmt !== 'json' && fmt !== 'csv') throw new UsageError(`--format must be json or csv (got '${fmt}')`);
  const parsed = CompareRequest.safeParse(readJsonFile(positionals[0]));
  if (!parsed.success) throw new InputError(fromZodIssues(parsed.error.issues));
  const c = parsed.data;
  const results = c.arms.map((arm, i) => {
    try {
      return simulate(compareArmScenario(c, i));
    } catch (e) {
      // an arm's own fields are reported under arms[i]
      if (e instanceof InputError) {
        throw new InputError(e.issues.map((is) => ({ path: ['doses', 'therapies', 'preset'].includes(String(is.path[0])) ? ['arms', i, ...is.path] : is.path, message: is.message })));
      }
      throw e;
    }
  });
  let text: string;
  if (fmt === 'csv') {
    text = results.map((r, i) => {
      const body = resultToCsv(r, [{ name: 'arm', value: c.arms[i].name }]);
      return i === 0 ? body : body.slice(body.indexOf('\n') + 1);
    }).join('');
  } else {
    const rows = results.map((r, i) => ({ arm: c.arms[i].name, ...metricsRow(r.metrics) }));
    const columns = ['arm'];
    for (const row of rows) for (const k of Object.keys(row)) if (!columns.includes(k)) columns.push(k);
    text = `{"model":${JSON.stringify(results[0].model)},"arms":[${results.map((r, i) => `{"name":${JSON.stringify(c.arms[i].name)},"result":${resultToJson(r)}}`).join(',')}],"metrics":${JSON.stringify({ columns, rows })}}\n`;
  }
  writeOutput(text, values.out as string | undefined, io);
  return 0;
}
