// `immunopd nca FILE [options]`: non-compartmental analysis (src/analysis/nca.ts) of observed data (a CSV with
// columns time,conc[,subject]) or of a simulated series (a scenario JSON and --series NAME, default: the
// concentration of the model's first drug role). For a scenario, the dose, dose time and route are taken from
// the first dose into the drug's dose target unless given.
import { readFileSync } from 'node:fs';
import { ncaRequest, parseNcaCsv } from '../analysis/nca.ts';
import { simulate } from '../simulate.ts';
import { resolveModel } from '../model/library.ts';
import { InputError } from '../errors.ts';
import { doseTargets } from '../results/metrics.ts';
import { parse, readJsonFile, writeOutput, UsageError, type CliIo } from './main.ts';

const USAGE =
  'immunopd nca DATA.csv|SCENARIO.json [--series NAME] [--dose N] [--dose-time T] [--tau T] [--route iv-bolus|infusion|extravascular] [--infusion-duration D] [--out FILE]';

export function ncaCommand(args: string[], io: CliIo): number {
  const { values: v, positionals } = parse(
    args,
    {
      series: { type: 'string' },
      dose: { type: 'string' },
      'dose-time': { type: 'string' },
      tau: { type: 'string' },
      route: { type: 'string' },
      'infusion-duration': { type: 'string' },
      out: { type: 'string' },
    },
    { min: 1, max: 1, usage: USAGE },
  );
  const file = positionals[0];
  const numberOpt = (name: string) => {
    const s = v[name] as string | undefined;
    if (s === undefined) return undefined;
    const x = Number(s);
    if (!Number.isFinite(x)) throw new UsageError(`--${name} '${s}' is not a number`);
    return x;
  };
  const opts: Record<string, unknown> = {};
  const set = (key: string, val: unknown) => {
    if (val !== undefined) opts[key] = val;
  };
  let observations: unknown[];
  if (file.toLowerCase().endsWith('.json')) {
    const scenario = readJsonFile(file) as Record<string, unknown>;
    const model = resolveModel((scenario?.model ?? 'immunotherapy') as string | Record<string, unknown>);
    const roles = Object.entries(model.spec.roles?.drugs ?? {});
    const series = (v.series as string | undefined) ?? roles[0]?.[1].concentration;
    if (!series) throw new UsageError('the model declares no drug: name the series with --series');
    const result = simulate(scenario);
    const y = Object.hasOwn(result.outputs, series)
      ? result.outputs[series]
      : Object.hasOwn(result.states, series)
        ? result.states[series]
        : undefined;
    if (!y) throw new InputError(`'${series}' is neither a state nor an output of the result`, ['series']);
    observations = result.times.map((t, k) => ({ time: t, conc: y[k] }));
    const role = roles.find(([, r]) => r.concentration === series)?.[1];
    const targets = role ? doseTargets(model, role) : new Set<string>();
    const first = result.doses.filter((d) => targets.has(d.target)).sort((a, b) => a.time - b.time)[0];
    if (first) {
      set('dose', first.amount);
      set('doseTime', first.time);
      set('route', first.duration !== undefined ? 'infusion' : 'iv-bolus');
      set('infusionDuration', first.duration);
    }
  } else {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    observations = parseNcaCsv(text);
  }
  set('dose', numberOpt('dose'));
  set('doseTime', numberOpt('dose-time'));
  set('tau', numberOpt('tau'));
  set('route', v.route);
  set('infusionDuration', numberOpt('infusion-duration'));
  const result = ncaRequest({ ...opts, observations });
  writeOutput(JSON.stringify(result, null, 1) + '\n', v.out as string | undefined, io);
  return 0;
}
