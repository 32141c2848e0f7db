// The command line: simulate (JSON and CSV), models, validate, and one-line errors with exit code 2.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCli, writeIn } from './helpers/cli.ts';
import { onecpt } from './helpers/models.ts';

const run = runCli;

let dir: string;
const file = (name: string, content: unknown) => writeIn(dir, name, content);

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'immunopd-cli-'));
});

describe('immunopd CLI', () => {
  it('simulates a scenario with an inline model, as JSON and as CSV', async () => {
    const f = file('s.json', {
      model: onecpt,
      times: [0, 1, 2],
      doses: [{ target: 'A', amount: 100 }],
      solver: { rtol: 1e-10, atol: 1e-12 },
    });
    const j = await run(['simulate', f]);
    expect(j.code).toBe(0);
    const r = JSON.parse(j.out);
    expect(r.states.A[2]).toBeCloseTo(100 * Math.exp(-0.6), 8);
    expect(r.solver.rhsEvaluations).toBeGreaterThan(0);
    const c = await run(['simulate', f, '--format', 'csv']);
    const lines = c.out.trim().split('\n');
    expect(lines[0]).toBe('time,A,C');
    expect(lines).toHaveLength(4);
    const [t, a, conc] = lines[2].split(',').map(Number);
    expect(t).toBe(1);
    expect(a).toBeCloseTo(100 * Math.exp(-0.3), 8);
    expect(conc).toBeCloseTo(a / 5, 12);
    const o = path.join(dir, 'out.csv');
    expect((await run(['simulate', f, '--format', 'csv', '--out', o])).code).toBe(0);
    expect(readFileSync(o, 'utf8')).toBe(c.out);
  });

  it('lists the model library with titles', async () => {
    const r = await run(['models']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^kirschner-panetta-1998\s+\S/m);
    expect(r.out).toMatch(/^kuznetsov-1994\s+\S/m);
  });

  it('validates a model file', async () => {
    const ok = await run(['validate', file('m.json', onecpt)]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/ok: onecpt: 1 states/);
    const bad = await run(['validate', file('b.json', { ...onecpt, odes: { A: '-k*A + constructor' } })]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^error: odes\.A: unknown name 'constructor'/);
    expect(bad.err.trim().split('\n')).toHaveLength(1);
  });

  it('bad input: one line naming the field, exit code 2, no stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['simulate', file('x1.json', { model: onecpt, times: { start: 0, end: -1 } })],
        /times\.end: end must be greater than start/,
      ],
      [
        ['simulate', file('x2.json', { model: 'no-such-model', times: [0, 1] })],
        /model: unknown model 'no-such-model'/,
      ],
      [
        ['simulate', file('x3.json', { model: onecpt, times: [0, 1], parameters: { kk: 1 } })],
        /parameters\.kk: 'kk' is not a parameter/,
      ],
      [['simulate', file('x4.json', '{not json')], /is not valid JSON/],
      [['simulate', path.join(dir, 'missing.json')], /cannot read/],
      [
        ['simulate', file('x5.json', { model: onecpt, times: [0, 1] }), '--format', 'xml'],
        /--format must be json or csv/,
      ],
      [
        ['simulate', file('x6.json', { model: onecpt, times: { start: 0, end: 1, step: 1e-12 } })],
        /times\.step: too many output points/,
      ],
      [
        ['simulate', file('x7.json', { model: onecpt, times: [0, 2, 1] })],
        /times\[2\]: output times must be strictly increasing/,
      ],
      [['simulate'], /usage: immunopd simulate/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ];
    for (const [args, msg] of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(msg);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });

  it('a solve that fails exits with 3 and says how far it got', async () => {
    const blowup = { id: 'b', states: { y: { initial: 1 } }, odes: { y: 'y^2' } };
    const r = await run(['simulate', file('f.json', { model: blowup, times: [0, 2] })]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/could not solve: .*(at|reached) t = (0\.99|1\.0)/);
  });

  it('runs as the installed `immunopd` bin (node_modules/.bin, what npx finds after npm ci)', () => {
    const r = spawnSync(path.resolve('node_modules/.bin/immunopd'), ['validate', file('m2.json', onecpt)], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/ok: onecpt/);
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(pkg.bin.immunopd).toBe('src/cli/bin.mjs');
  });
});

describe('immunopd therapies', () => {
  it('lists every preset with its source', async () => {
    const r = await run(['therapies']);
    expect(r.code).toBe(0);
    for (const id of [
      'pembrolizumab-200mg-q3w',
      'nivolumab-480mg-q4w',
      'ipilimumab-3mgkg-q3w-x4',
      'atezolizumab-1200mg-q3w',
    ]) {
      expect(r.out).toMatch(new RegExp(`^${id}\\s`, 'm'));
    }
    expect(r.out).toMatch(/source: /);
    const j = await run(['therapies', '--json']);
    expect(JSON.parse(j.out).length).toBeGreaterThanOrEqual(11);
  });
});
