// A trial simulated with `immunopd simulate --dataset --format nonmem` and read back by
// `immunopd fit --dataset` recovers the parameters it was simulated with; the scenario and the fit name
// their model by a file path (CLI only).
import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, writeIn } from './helpers/cli.ts';
import { oral1 } from './helpers/linear-pk.ts';

const run = runCli;

let dir: string;
const file = (name: string, content: unknown) => writeIn(dir, name, content);
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'immunopd-dataset-'));
});

/** Six subjects of different weights: 100 mg orally q12h x3 (ADDL 2), concentrations over 36 h, DV empty. */
function design(): string {
  const lines = ['ID,TIME,EVID,AMT,CMT,II,ADDL,DV,MDV,WT'];
  [52, 61, 70, 78, 86, 95].forEach((wt, i) => {
    const id = i + 1;
    lines.push(`${id},0,1,100,depot,12,2,.,1,${wt}`);
    for (const t of [0.5, 1, 2, 4, 8, 11.5, 13, 18, 24.5, 30, 36]) lines.push(`${id},${t},0,.,CP,.,.,.,0,${wt}`);
  });
  return lines.join('\n') + '\n';
}

describe('simulate a trial, write it as NONMEM data, fit it back', () => {
  it('recovers ka, CL and V from starts 2x off', async () => {
    file('pk.json', oral1);
    file('design.csv', design());
    const scn = file('scenario.json', { model: './pk.json', solver: { rtol: 1e-10, atol: 1e-12 } });
    const sim = await run([
      'simulate',
      scn,
      '--dataset',
      path.join(dir, 'design.csv'),
      '--format',
      'nonmem',
      '--out',
      path.join(dir, 'trial.csv'),
    ]);
    expect(sim.err).toBe('');
    expect(sim.code).toBe(0);
    const trial = readFileSync(path.join(dir, 'trial.csv'), 'utf8');
    expect(trial.split('\n')[0]).toBe('ID,TIME,EVID,AMT,CMT,II,ADDL,DV,MDV,WT');
    expect(trial).not.toMatch(/,\.,0,\d+\n/); // every observation got a value
    const fitFile = file('fit.json', {
      model: './pk.json',
      estimate: {
        ka: { initial: 2.4, scale: 'log' },
        CL: { initial: 8, scale: 'log' },
        V: { initial: 15, scale: 'log' },
      },
      error: { model: 'additive', sigma: 0.01 },
      solver: { rtol: 1e-10, atol: 1e-12 },
    });
    const fit = await run(['fit', fitFile, '--dataset', path.join(dir, 'trial.csv')]);
    expect(fit.err).toBe('');
    const res = JSON.parse(fit.out);
    expect(res.converged).toBe(true);
    expect(res.residuals.length).toBe(66);
    for (const [k, truth] of [
      ['ka', 1.2],
      ['CL', 4],
      ['V', 30],
    ] as const) {
      expect(Math.abs(res.estimates[k].value - truth) / truth, k).toBeLessThan(1e-5);
    }
  }, 60_000);

  it('a model file that does not exist is named', async () => {
    const scn = file('bad.json', { model: './missing.json' });
    const r = await run(['simulate', scn, '--dataset', path.join(dir, 'design.csv')]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/model file \.\/missing\.json not found/);
  });
});
