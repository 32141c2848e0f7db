// Units (src/model/units.ts): parsing over the whitelisted grammar and the dimensional check of models, which
// `immunopd validate`, the library and the API apply to every model that declares units.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseUnit, sameUnit, checkModelUnits, UnitError } from '../src/model/units.ts';
import { compileModel } from '../src/model/compile.ts';
import { ModelSpec } from '../src/model/schema.ts';
import { listModels, modelJson } from '../src/model/library.ts';
import { InputError } from '../src/errors.ts';
import { main } from '../src/cli/main.ts';
import { startServer, type RunningServer } from '../server/app.ts';

const same = (a: string, b: string) => sameUnit(parseUnit(a), parseUnit(b));

describe('parseUnit', () => {
  it('equal units in different spellings, with their factors', () => {
    expect(same('1/day', 'day^-1')).toBe(true);
    expect(same('mg/L', 'ug/mL')).toBe(true);
    expect(same('mm^3', 'mm3')).toBe(true);
    expect(same('mL', 'cm3')).toBe(true);
    expect(same('L/(mg*day)', 'L/mg/day')).toBe(true);
    expect(same('(cells/day)^2', 'cells^2/day^2')).toBe(true);
    expect(same('fraction', '1')).toBe(true);
    expect(same('MIU/kIU', '1')).toBe(false); // a factor 1000
    expect(same('mg', 'g')).toBe(false); // a factor 1e-3
    expect(same('1/week', '1/day')).toBe(false);
    expect(same('IL-2 units', 'drug units')).toBe(false); // arbitrary units are kinds of their own
    expect(same('week', 'day')).toBe(false);
    expect(same('1/(week*exposure unit)', 'exposure unit^-1/week')).toBe(true);
  });
  it.each(['bananas', 'mg/', 'mg^x', '2 mg', 'fortnight', ''])('refuses %j', (u) => {
    expect(() => parseUnit(u)).toThrow(UnitError);
  });
});

const base = {
  id: 'dim',
  timeUnit: 'h',
  parameters: {
    k: { value: 0.1, unit: '1/h' },
    V: { value: 5, unit: 'L' },
    g: { value: 2, unit: '1' },
    K50: { value: 3, unit: 'mg/L' },
  },
  states: { A: { initial: 10, unit: 'mg' } },
  odes: { A: '-k * A' },
  outputs: { C: { expr: 'A / V', unit: 'mg/L' } },
};
const issuesOf = (patch: Record<string, unknown>) => {
  try {
    compileModel({ ...base, ...patch });
    return [];
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return e.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  }
};

describe('dimensional check', () => {
  it('a consistent model passes, with a Hill function of symbolic exponent', () => {
    expect(issuesOf({ odes: { A: '-k * A * (A/V)^g / (K50^g + (A/V)^g)' } })).toEqual([]);
  });
  it("names the offending term: odes.A: term 'V' is L, expected mg/h", () => {
    expect(issuesOf({ odes: { A: '-k * A + V' } })).toContain("odes.A: term 'V' is L, expected mg/h");
  });
  it('a rate in the wrong time unit, a dimensional exp() argument, an output of the wrong unit, an unparsable unit', () => {
    expect(issuesOf({ parameters: { ...base.parameters, k: { value: 0.1, unit: '1/day' } } }).join('\n')).toMatch(
      /odes\.A: '-k \* A' is 1\/day\*mg|odes\.A: .*expected mg per h/,
    );
    expect(issuesOf({ odes: { A: '-k * A * exp(V)' } }).join('\n')).toMatch(
      /argument of exp\(\) must be dimensionless: 'V' is L/,
    );
    expect(issuesOf({ outputs: { C: { expr: 'A * V', unit: 'mg/L' } } }).join('\n')).toMatch(
      /outputs\.C: 'A \* V' is .*expected mg\/L/,
    );
    expect(issuesOf({ parameters: { ...base.parameters, V: { value: 5, unit: 'bananas' } } })).toEqual([
      expect.stringMatching(/^parameters\.V\.unit: unit 'bananas': unknown unit 'bananas'/),
    ]);
  });
  it('a bare conversion number does not make cells into mm3: conversion factors are parameters with units', () => {
    const m = {
      ...base,
      states: { T: { initial: 1e6, unit: 'cells' } },
      odes: { T: '0' },
      outputs: { v: { expr: 'T * 1e-6', unit: 'mm3' } },
    };
    expect(issuesOf(m).join('\n')).toMatch(/outputs\.v: 'T \* 1e-6' is cells, expected mm3/);
    const ok = {
      ...m,
      parameters: { ...base.parameters, d: { value: 1e6, unit: 'cells/mm3' } },
      outputs: { v: { expr: 'T / d', unit: 'mm3' } },
    };
    expect(issuesOf(ok)).toEqual([]);
  });
  it('a model that declares no unit at all is not checked (it has none)', () => {
    expect(() =>
      compileModel({
        id: 'plain',
        parameters: { k: { value: 1 } },
        states: { x: { initial: 1 } },
        odes: { x: '-k*x + 3' },
      }),
    ).not.toThrow();
  });
  it.each(listModels().map((m) => m.id))('bundled model %s passes', (id) => {
    expect(checkModelUnits(ModelSpec.parse(modelJson(id)))).toEqual([]);
  });
});

describe('refused by immunopd validate and by the API', () => {
  const bad = { ...base, odes: { A: '-k * A + V' } };
  it('immunopd validate exits 2 naming the term', async () => {
    const f = path.join(mkdtempSync(path.join(tmpdir(), 'units-')), 'm.json');
    writeFileSync(f, JSON.stringify(bad));
    let err = '';
    const code = await main(['validate', f], { out: () => {}, err: (s) => (err += s) });
    expect(code).toBe(2);
    expect(err).toContain("odes.A: term 'V' is L, expected mg/h");
  });
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await startServer(0, '127.0.0.1', { workers: 1 });
  });
  afterAll(async () => {
    await srv?.close();
  });
  it('POST /api/simulate with the inline model: 400 with the path', async () => {
    const res = await fetch(srv.url + '/api/simulate', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: bad, times: { start: 0, end: 1 } }),
    });
    expect(res.status).toBe(400);
    const j = await res.json();
    expect(
      j.error.issues.some(
        (i: { path: string[]; message: string }) =>
          i.path.join('.') === 'model.odes.A' && i.message === "term 'V' is L, expected mg/h",
      ),
    ).toBe(true);
  });
});
