// `immunopd therapies`: the therapy presets (approved regimens) with their doses and sources.
import { THERAPIES } from '../dosing/therapies.ts';
import { parse, type CliIo } from './main.ts';

export function therapiesCommand(args: string[], io: CliIo): number {
  const { values } = parse(
    args,
    { json: { type: 'boolean', default: false } },
    { min: 0, max: 0, usage: 'immunopd therapies [--json]' },
  );
  if (values.json) {
    io.out(JSON.stringify(THERAPIES, null, 2) + '\n');
    return 0;
  }
  const w = Math.max(...THERAPIES.map((t) => t.id.length));
  for (const t of THERAPIES) {
    io.out(`${t.id.padEnd(w)}  ${t.title}\n${' '.repeat(w)}  source: ${t.source}\n`);
  }
  return 0;
}
