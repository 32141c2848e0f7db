// `immunopd population FILE` and `immunopd sensitivity FILE`: the API's requests (the same zod schemas as
// POST /api/population and /api/sensitivity); JSON (the API's body) or CSV. A population runs as a job
// (src/cli/job.ts: this machine's threads, or the `immunopd worker`s of the Redis queue when REDIS_URL is
// set; the job limits); a sensitivity in this process. A progress bar on a terminal, quiet when piped.
import type { PopulationResponse } from '../analysis/population-request.ts';
import { sensitivity, type SensitivityResult, type GlobalSensitivityResult } from '../analysis/sensitivity.ts';
import { parse, readJsonFile, writeOutput, UsageError, type CliIo } from './main.ts';
import { progressBar } from './progress.ts';
import { runJob, threadCount } from './job.ts';

const csvCell = (v: unknown) =>
  v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))
    ? ''
    : typeof v === 'string' && /[",\n]/.test(v)
      ? `"${v.replace(/"/g, '""')}"`
      : String(v);
const csvLine = (cells: unknown[]) => cells.map(csvCell).join(',') + '\n';

function format(values: Record<string, unknown>): 'json' | 'csv' {
  const f = (values.format as string | undefined) ?? 'json';
  if (f !== 'json' && f !== 'csv') throw new UsageError(`--format must be json or csv (got '${f}')`);
  return f;
}

/** Quantile bands as rows: arm, series, time, one column per quantile, mean. */
export function populationCsv(r: PopulationResponse): string {
  const qs = r.quantiles.map((q) => `q${q}`);
  let out = csvLine(['arm', 'series', 'time', ...qs, 'mean']);
  for (const arm of r.arms) {
    for (const [series, bands] of Object.entries(arm.summary)) {
      r.times.forEach((t, k) => (out += csvLine([arm.name, series, t, ...qs.map((q) => bands[q][k]), bands.mean[k]])));
    }
  }
  return out;
}

export async function populationCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    args,
    { format: { type: 'string' }, out: { type: 'string' }, threads: { type: 'string' } },
    { min: 1, max: 1, usage: 'immunopd population POPULATION.json [--format json|csv] [--out FILE] [--threads N]' },
  );
  const fmt = format(values);
  const threads = threadCount(values.threads as string | undefined);
  const resultJson = await runJob('population', readJsonFile(positionals[0]), threads);
  writeOutput(
    fmt === 'csv' ? populationCsv(JSON.parse(resultJson) as PopulationResponse) : resultJson + '\n',
    values.out as string | undefined,
    io,
  );
  return 0;
}

export function sensitivityCsv(r: SensitivityResult | GlobalSensitivityResult): string {
  if (!('method' in r)) {
    return (
      csvLine(['parameter', 'value', 'normalized', 'derivative', 'low', 'high']) +
      r.parameters.map((p) => csvLine([p.name, p.value, p.normalized, p.derivative, p.low, p.high])).join('')
    );
  }
  if (r.method === 'sobol') {
    let out = csvLine(['parameter', 'S1', 'S1_lower', 'S1_upper', 'ST', 'ST_lower', 'ST_upper']);
    for (const [name, x] of Object.entries(r.indices) as [
      string,
      { S1: number; ST: number; S1ci: [number, number] | null; STci: [number, number] | null },
    ][]) {
      out += csvLine([name, x.S1, x.S1ci?.[0], x.S1ci?.[1], x.ST, x.STci?.[0], x.STci?.[1]]);
    }
    return out;
  }
  let out = csvLine(['parameter', 'mu', 'muStar', 'sigma']);
  for (const [name, x] of Object.entries(r.indices) as [string, { mu: number; muStar: number; sigma: number }][])
    out += csvLine([name, x.mu, x.muStar, x.sigma]);
  return out;
}

export function sensitivityCommand(args: string[], io: CliIo): number {
  const { values, positionals } = parse(
    args,
    { format: { type: 'string' }, out: { type: 'string' } },
    { min: 1, max: 1, usage: 'immunopd sensitivity SENSITIVITY.json [--format json|csv] [--out FILE]' },
  );
  const fmt = format(values);
  const bar = progressBar('sensitivity');
  let r: SensitivityResult | GlobalSensitivityResult;
  try {
    r = sensitivity(readJsonFile(positionals[0]), (done, total) => bar.update(done, total));
  } finally {
    bar.stop();
  }
  writeOutput(fmt === 'csv' ? sensitivityCsv(r) : JSON.stringify(r) + '\n', values.out as string | undefined, io);
  return 0;
}
