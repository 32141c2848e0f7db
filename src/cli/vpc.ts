// `immunopd vpc VPC.json [--dataset DATA.csv] [--result FIT-RESULT.json] [--out FILE]`: visual predictive
// check of a population fit (as POST /api/vpc): VPC.json is the fit request plus `result` (or compact
// `estimates`) and `vpc` options; --result reads the result from the file `immunopd fit` wrote.
import { vpcFromRequest } from '../analysis/nlme/index.ts';
import { parse, readJsonFile, writeOutput, UsageError, type CliIo } from './main.ts';
import { inlineModelFile, readDatasetFile } from './files.ts';

export function vpcCommand(args: string[], io: CliIo): number {
  const usage = 'immunopd vpc VPC.json [--dataset DATA.csv] [--result FIT-RESULT.json] [--out FILE]';
  const { values, positionals } = parse(
    args,
    { out: { type: 'string' }, dataset: { type: 'string' }, result: { type: 'string' } },
    { min: 1, max: 1, usage },
  );
  const request = readJsonFile(positionals[0]);
  if (typeof request !== 'object' || request === null || Array.isArray(request))
    throw new UsageError(
      `${positionals[0]} must hold a JSON object (a population fit request with result or estimates)`,
    );
  const req = request as Record<string, unknown>;
  inlineModelFile(req, positionals[0]);
  if (values.dataset) req.dataset = readDatasetFile(values.dataset as string);
  if (values.result) {
    if (Object.hasOwn(req, 'result') || Object.hasOwn(req, 'estimates'))
      throw new UsageError(`give --result or the request's result/estimates, not both`);
    req.result = readJsonFile(values.result as string);
  }
  writeOutput(JSON.stringify(vpcFromRequest(req), null, 1) + '\n', values.out as string | undefined, io);
  return 0;
}
