// `immunopd population FILE` and `immunopd sensitivity FILE`: the API's requests (the same zod schemas as
// POST /api/population and /api/sensitivity), answered in this process; JSON (the API's body) or CSV.
import { runPopulation, type PopulationResponse } from '../analysis/population-request.ts';
import { sensitivity, type SensitivityResult, type GlobalSensitivityResult } from '../analysis/sensitivity.ts';
import { parse, readJsonFile, writeOutput, UsageError, type CliIo } from './main.ts';

const csvCell = (v: unknown) => (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v)) ? '' : typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v));
const csvLine = (cells: unknown[]) => cells.map(csvCell).join(',') + '\n';

function format(values: Record<string, unknown>): 'json' | 'csv' {
  const f = (values.format as string | undefined) ?? 'json';
  if (f !== 'json' && f !== 'csv') throw new UsageError(`--format must be json or csv (got '${f}')`);
  return f;
}

/** Progress on stderr when it is a terminal (`\r`-updated line), nothing otherwise. */
export function terminalProgress(io: CliIo, label: string): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = -1;
  return (done, total) => {
    const pct = Math.floor((100 * done) / total);
    if (pct === last) return;
    last = pct;
    io.err(`\r${label}: ${done}/${total} (${pct}%)${done >= total ? '\n' : ''}`);
  };
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

export function populationCommand(args: string[], io: CliIo): number {
  const { values, positionals } = parse(args, { format: { type: 'string' }, out: { type: 'string' } }, { min: 1, max: 1, usage: 'immunopd population POPULATION.json [--format json|csv] [--out FILE]' });
  const fmt = format(values);
  const r = runPopulation(readJsonFile(positionals[0]), terminalProgress(io, 'subjects'));
  writeOutput(fmt === 'csv' ? populationCsv(r) : JSON.stringify(r) + '\n', values.out as string | undefined, io);
  return 0;
}

export function sensitivityCsv(r: SensitivityResult | GlobalSensitivityResult): string {
  if (!('method' in r)) {
    return csvLine(['parameter', 'value', 'normalized', 'derivative', 'low', 'high']) + r.parameters.map((p) => csvLine([p.name, p.value, p.normalized, p.derivative, p.low, p.high])).join('');
  }
  if (r.method === 'sobol') {
    let out = csvLine(['parameter', 'S1', 'S1_lower', 'S1_upper', 'ST', 'ST_lower', 'ST_upper']);
    for (const [name, x] of Object.entries(r.indices) as [string, { S1: number; ST: number; S1ci: [number, number] | null; STci: [number, number] | null }][]) {
      out += csvLine([name, x.S1, x.S1ci?.[0], x.S1ci?.[1], x.ST, x.STci?.[0], x.STci?.[1]]);
    }
    return out;
  }
  let out = csvLine(['parameter', 'mu', 'muStar', 'sigma']);
  for (const [name, x] of Object.entries(r.indices) as [string, { mu: number; muStar: number; sigma: number }][]) out += csvLine([name, x.mu, x.muStar, x.sigma]);
  return out;
}

export function sensitivityCommand(args: string[], io: CliIo): number {
  const { values, positionals } = parse(args, { format: { type: 'string' }, out: { type: 'string' } }, { min: 1, max: 1, usage: 'immunopd sensitivity SENSITIVITY.json [--format json|csv] [--out FILE]' });
  const fmt = format(values);
  const r = sensitivity(readJsonFile(positionals[0]), terminalProgress(io, 'solves'));
  writeOutput(fmt === 'csv' ? sensitivityCsv(r) : JSON.stringify(r) + '\n', values.out as string | undefined, io);
  return 0;
}
