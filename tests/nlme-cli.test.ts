// `immunopd fit FIT.json DATA.csv` routes a request with `population` to the population fit (Contract 4b).
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../src/cli/main.ts';
import { simulateStudy } from './helpers/nlme-study.ts';

describe('immunopd fit with population', () => {
  it('fits the population from a CSV data file; a bad Ω is a one-line error naming the field (exit 2)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'immunopd-nlme-cli-'));
    const req = { ...simulateStudy(9, 8), population: { omega: { CL: 0.2, V: 0.2 }, covariance: 'none' } };
    const csv =
      'time,observable,value,subject\n' +
      req.data.map((d) => `${d.time},${d.observable},${d.value},${d.subject}`).join('\n') +
      '\n';
    const f = path.join(dir, 'fit.json');
    const d = path.join(dir, 'data.csv');
    writeFileSync(f, JSON.stringify({ ...req, data: [] }));
    writeFileSync(d, csv);
    let out = '';
    let err = '';
    const io = { out: (s: string) => (out += s), err: (s: string) => (err += s) };
    expect(await main(['fit', f, d], io), err).toBe(0);
    const res = JSON.parse(out);
    expect(res.method).toBe('focei');
    expect(res.subjects).toBe(8);
    expect(res.theta.CL.value).toBeGreaterThan(3);
    writeFileSync(f, JSON.stringify({ ...req, data: [], population: { omega: { Q: 0.1 } } }));
    err = '';
    expect(await main(['fit', f, d], io)).toBe(2);
    expect(err).toMatch(/population\.omega\.Q/);
  }, 120_000);
});
