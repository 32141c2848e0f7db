// A result as CSV (Contract 3): header `time,<state...>,<output...>`, one row per output time, numbers in
// shortest round-trip form (String(x) in JavaScript), non-finite values as empty fields.
import type { SimulationResult } from '../scenario/schema.ts';

function cell(v: number): string {
  return Number.isFinite(v) ? String(v) : '';
}

function quote(name: string): string {
  return /[",\n\r]/.test(name) ? `"${name.replace(/"/g, '""')}"` : name;
}

export function resultToCsv(
  r: Pick<SimulationResult, 'times' | 'states' | 'outputs'>,
  extra: { name: string; value: string }[] = [],
): string {
  const stateNames = Object.keys(r.states);
  const outNames = Object.keys(r.outputs);
  const cols = [...stateNames.map((k) => r.states[k]), ...outNames.map((k) => r.outputs[k])];
  const lines: string[] = [
    [...extra.map((e) => quote(e.name)), 'time', ...stateNames.map(quote), ...outNames.map(quote)].join(','),
  ];
  const prefix = extra.map((e) => quote(e.value));
  for (let k = 0; k < r.times.length; k++) {
    const row = [...prefix, cell(r.times[k])];
    for (const c of cols) row.push(cell(c[k]));
    lines.push(row.join(','));
  }
  return lines.join('\n') + '\n';
}

/** JSON with non-finite numbers as null (JSON.stringify does that) and nothing else changed. */
export function resultToJson(r: unknown, pretty = false): string {
  return JSON.stringify(r, null, pretty ? 2 : undefined);
}
