// The fit and optimize commands: a request file plus a CSV data file, --out, and one-line errors (exit 2).
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, writeIn } from './helpers/cli.ts';

const run = runCli;
let dir: string;
const file = (name: string, content: unknown) => writeIn(dir, name, content);
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'immunopd-fit-cli-'));
});

const cases = JSON.parse(readFileSync(new URL('./reference/fit/cases.json', import.meta.url), 'utf8')).cases;

describe('immunopd fit', () => {
  it('fits a request with the data from a CSV file, as JSON on stdout or into --out', async () => {
    const req = cases['arms-log'];
    const csv =
      'time,observable,value,arm\n' +
      req.data
        .map(
          (d: { time: number; observable: string; value: number; subject: string }) =>
            `${d.time},${d.observable},${d.value},${d.subject}`,
        )
        .join('\n') +
      '\n';
    const f = file('fit.json', { ...req, data: [] });
    const d = file('data.csv', csv);
    const r = await run(['fit', f, d]);
    expect(r.code, r.err).toBe(0);
    const res = JSON.parse(r.out);
    expect(res.converged).toBe(true);
    const inProcess = JSON.parse(readFileSync(new URL('./reference/fit/scipy.json', import.meta.url), 'utf8')).cases[
      'arms-log'
    ].estimates;
    for (const k of ['r', 'K', 'kKill'])
      expect(Math.abs(res.estimates[k].value / inProcess[k].value - 1)).toBeLessThan(1e-3);
    const o = path.join(dir, 'out.json');
    const r2 = await run(['fit', f, d, '--out', o]);
    expect(r2.code).toBe(0);
    expect(JSON.parse(readFileSync(o, 'utf8')).estimates.kKill.value).toBeCloseTo(res.estimates.kKill.value, 10);
    expect(r2.err).toMatch(/converged \(relative-reduction|converged \(step|converged \(gradient/);
    expect(r2.err).toMatch(/kKill/);
  });

  it('bad data exit with 2 and one line naming the field', async () => {
    const f = file('fit2.json', { ...cases['arms-log'], data: [] });
    const bad = await run(['fit', f, file('bad.csv', 'time,observable,value\n1,V,abc\n')]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/data\["line 2"\]\.value: 'abc' is not a number/);
    const empty = await run(['fit', f]);
    expect(empty.code).toBe(2);
    expect(empty.err).toMatch(/data: the data are empty/);
    const neg = await run(['fit', f, file('neg.csv', 'time,observable,value\n-1,V,5\n2,V,3\n3,V,4\n5,V,6\n')]);
    expect(neg.code).toBe(2);
    expect(neg.err).toMatch(/data\[0\]\.time: time must be >= 0/);
    const obs = await run(['fit', f, file('obs.csv', 'time,observable,value\n1,W,5\n2,V,3\n3,V,4\n5,V,6\n')]);
    expect(obs.code).toBe(2);
    expect(obs.err).toMatch(/data\[0\]\.observable: 'W' is neither a state nor an output/);
    expect((await run(['fit', f, path.join(dir, 'missing.csv')])).code).toBe(2);
  });
});

describe('immunopd optimize', () => {
  it('writes the best schedule and the ranked table', async () => {
    const f = file('opt.json', {
      model: 'tgi-exponential',
      parameters: { kKill: 0.05, kel: 0.3 },
      horizon: 40,
      step: 0.5,
      drugs: [{ name: 'drug', target: 'Cd', amount: { values: [1, 2, 4] }, interval: { values: [7, 14] } }],
      objective: { finalTumor: 1 },
      constraints: { cumulativeDose: { drug: 12 } },
    });
    const r = await run(['optimize', f]);
    expect(r.code, r.err).toBe(0);
    const res = JSON.parse(r.out);
    expect(res.best.feasible).toBe(true);
    expect(res.candidates).toBe(6);
    expect(res.table[0].rank).toBe(1);
    expect(res.best.summary.exposure.drug.cumulativeDose).toBeLessThanOrEqual(12);
    const bad = await run([
      'optimize',
      file('bad.json', { horizon: 10, drugs: [{ target: 'nope', amount: 1 }], model: 'tgi-exponential' }),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/drugs\[0\]\.target: 'nope' is not a state/);
  });
});
