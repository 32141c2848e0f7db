// The expression compiler is a security boundary: hostile text must be rejected with its position, and
// model files with inconsistent names must be reported with JSON paths.
import { describe, it, expect } from 'vitest';
import { compileModel } from '../src/model/compile.ts';
import { InputError, formatPath } from '../src/errors.ts';

function issuesOf(model: unknown): { path: string; message: string }[] {
  try {
    compileModel(model);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as InputError).issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
  }
  throw new Error('model was accepted');
}

const withOde = (ode: string) => ({
  id: 'x',
  parameters: { k: { value: 1 } },
  states: { T: { initial: 1 } },
  odes: { T: ode },
});

describe('hostile expressions are rejected, never executed', () => {
  const hostile: [string, RegExp][] = [
    ['constructor', /unknown name 'constructor'/],
    ['__proto__', /unknown name '__proto__'/],
    ['T.constructor', /property and index access/],
    ['T["constructor"]', /property and index access|strings/],
    ['k.__proto__.polluted', /property and index access/],
    ['f(x) = x', /function definitions/],
    ['k = 3', /assignments/],
    ['import("fs")', /unknown function 'import'/],
    ['evaluate("1+1")', /unknown function 'evaluate'/],
    ['parse("1")', /unknown function 'parse'/],
    ['"abc"', /strings are not allowed/],
    ['[1, 2, 3]', /arrays/],
    ['{a: 1}', /arrays, matrices, objects/],
    ['1:10', /ranges|arrays/],
    ['T; k', /multiple statements/],
    ['process', /unknown name 'process'/],
    ['globalThis', /unknown name 'globalThis'/],
    ['this', /unknown name 'this'|syntax/],
    ['Function("return 1")()', /unknown function|only calls of named functions|syntax error/],
    ['Function("return 1")', /unknown function 'Function'/],
    ['T.constructor.constructor("return process")()', /property and index access|syntax error/],
    ['(() => 1)()', /syntax error/],
    ['T`x`', /syntax error/],
    ['5 cm', /unknown name 'cm'/],
    ['T!', /operator 'factorial' is not allowed/],
    ["T'", /operator 'ctranspose' is not allowed|syntax/],
    ['1 < T < 3', /chained comparisons/],
    ['true', /only numbers/],
    ['exp(1, 2)', /takes 1 argument/],
    ['unknownFn(T)', /unknown function 'unknownFn'/],
    ['typeof T', /syntax error|unknown name/],
  ];
  for (const [text, why] of hostile) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      const issues = issuesOf(withOde(text));
      expect(issues[0].path).toBe('odes.T');
      expect(issues[0].message).toMatch(why);
    });
  }

  it('deeply nested or very long expressions are refused, not a stack overflow', () => {
    for (const text of [
      '('.repeat(1999) + 'T' + ')'.repeat(1999),
      '-'.repeat(3999) + 'T',
      'T' + '+T'.repeat(1999),
      'exp('.repeat(700) + 'T' + ')'.repeat(700),
    ]) {
      const [issue] = issuesOf(withOde(text));
      expect(issue.path).toBe('odes.T');
      expect(issue.message).toMatch(/nested too deeply|longer than|syntax error/);
    }
  });

  it('reports the position of the offending text', () => {
    const [issue] = issuesOf(withOde('k*T + T.constructor'));
    expect(issue.message).toMatch(/at character 7/);
  });

  it('generated source contains only numbers, fixed tokens and array indices', () => {
    const m = compileModel({
      id: 'y',
      parameters: { k: { value: 2 } },
      states: { T: { initial: 1 }, U: { initial: 2 } },
      assignments: { z: 'k > 1 ? exp(-T) : max(T, U, 3)' },
      odes: { T: '-k*T + z', U: 'T^2 - sqrt(abs(U)) + step(T - 1) + log(U, 10) + pi' },
    });
    const src = m.source.rhs;
    const words = new Set(src.match(/[A-Za-z_$][A-Za-z0-9_$]*/g));
    for (const w of words)
      expect([
        'const',
        'a0',
        'y',
        'p',
        'dydt',
        'Math',
        'exp',
        'max',
        'pow',
        'sqrt',
        'abs',
        'PI',
        '$step',
        '$log',
        't',
      ]).toContain(w);
  });
});

describe('model validation names the field', () => {
  it('unknown name in an expression', () => {
    expect(issuesOf(withOde('-kk*T'))).toEqual([
      { path: 'odes.T', message: expect.stringMatching(/unknown name 'kk'/) },
    ]);
  });
  it('a state without an ODE and an ODE for an unknown state', () => {
    const issues = issuesOf({ id: 'x', states: { A: { initial: 1 }, B: { initial: 0 } }, odes: { A: '-A', C: '1' } });
    expect(issues).toContainEqual({ path: 'odes', message: "state 'B' has no ODE" });
    expect(issues).toContainEqual({ path: 'odes.C', message: "ODE for unknown state 'C'" });
  });
  it('cyclic and out-of-order assignments', () => {
    const cyc = issuesOf({
      id: 'x',
      states: { A: { initial: 1 } },
      assignments: { u: 'v + 1', v: 'u * 2' },
      odes: { A: 'u' },
    });
    expect(cyc[0]).toMatchObject({ path: 'assignments.u', message: expect.stringMatching(/cyclic/) });
    const self = issuesOf({ id: 'x', states: { A: { initial: 1 } }, assignments: { u: 'u + 1' }, odes: { A: 'u' } });
    expect(self[0].message).toMatch(/refers to itself/);
    const order = issuesOf({
      id: 'x',
      states: { A: { initial: 1 } },
      assignments: { u: 'v + 1', v: 'A * 2' },
      odes: { A: 'u' },
    });
    expect(order[0]).toMatchObject({ path: 'assignments.u', message: expect.stringMatching(/assigned later/) });
  });
  it('duplicate names across kinds, reserved and malformed names', () => {
    const dup = issuesOf({
      id: 'x',
      parameters: { A: { value: 1 } },
      states: { A: { initial: 1 } },
      odes: { A: '-A' },
    });
    expect(dup[0]).toMatchObject({ path: 'parameters.A', message: expect.stringMatching(/duplicate name 'A'/) });
    const res = issuesOf({
      id: 'x',
      parameters: { exp: { value: 1 } },
      states: { A: { initial: 1 } },
      odes: { A: '-A' },
    });
    expect(res[0].message).toMatch(/reserved/);
    const bad = issuesOf({
      id: 'x',
      parameters: { '1a': { value: 1 } },
      states: { A: { initial: 1 } },
      odes: { A: '-A' },
    });
    expect(bad[0].message).toMatch(/not a valid name/);
  });
  it('non-finite values and wrong types', () => {
    const nan = issuesOf({
      id: 'x',
      parameters: { k: { value: NaN } },
      states: { A: { initial: 1 } },
      odes: { A: '-k*A' },
    });
    expect(nan[0]).toMatchObject({ path: 'parameters.k.value' });
    const inf = issuesOf({ id: 'x', states: { A: { initial: Infinity } }, odes: { A: '-A' } });
    expect(inf[0].path).toBe('states.A.initial');
    const str = issuesOf({
      id: 'x',
      parameters: { k: { value: '1' } },
      states: { A: { initial: 1 } },
      odes: { A: '-k*A' },
    });
    expect(str[0].path).toBe('parameters.k.value');
    const extra = issuesOf({ id: 'x', states: { A: { initial: 1 } }, odes: { A: '-A' }, oops: 1 });
    expect(extra[0].message).toMatch(/oops|Unrecognized/i);
  });
  it('initial values may use parameters only', () => {
    const issues = issuesOf({
      id: 'x',
      parameters: { k: { value: 1 } },
      states: { A: { initial: 'k*B' }, B: { initial: 1 } },
      odes: { A: '-A', B: '-B' },
    });
    expect(issues[0]).toMatchObject({
      path: 'states.A.initial',
      message: expect.stringMatching(/unknown name 'B'.*parameters only/),
    });
  });
  it('events must be one comparison and set states', () => {
    const issues = issuesOf({
      id: 'x',
      states: { A: { initial: 1 } },
      odes: { A: '-A' },
      events: [{ when: 'A + 1', set: { B: 0 } }],
    });
    expect(issues.map((i) => i.path)).toEqual(['events[0].when', 'events[0].set.B']);
  });
});

describe('bound right-hand side', () => {
  it('hoists parameter-only subexpressions and gives the same derivatives as the plain one', () => {
    const m = compileModel({
      id: 'h',
      parameters: { CL: { value: 0.22 }, V1: { value: 3.48 }, Q: { value: 0.8 }, k: { value: 2 } },
      states: { A: { initial: 100 }, P: { initial: 3 } },
      assignments: { ke: 'CL/V1', c: 'A/V1', s: 'k > 1 ? sqrt(k) : exp(-k)' },
      odes: { A: '-ke*A - Q/V1*A + s*P + pi*t', P: 'Q/V1*A - (Q/V1 + CL/(V1*k))*P' },
    });
    expect(m.source.boundRhs).toMatch(/const q0 = /);
    const p = m.defaultParams;
    const f = m.bindRhs(p);
    const y = Float64Array.of(12.5, 7.25);
    const a = new Float64Array(2),
      b = new Float64Array(2);
    for (const t of [0, 1.5, 10]) {
      f(t, y, a);
      m.rhs(t, y, p, b);
      expect(Array.from(a)).toEqual(Array.from(b));
    }
  });
});

describe('symbolic Jacobian', () => {
  it('matches central finite differences through assignments', () => {
    const m = compileModel({
      id: 'j',
      parameters: { a: { value: 1.3 }, b: { value: 0.7 } },
      states: { x: { initial: 0.5 }, y: { initial: 1.5 }, z: { initial: 2 } },
      assignments: { u: 'a*x*y/(b + y)', w: 'u^2 + exp(-z)*x' },
      odes: { x: '-u + z', y: 'w - b*y^1.5', z: 'sin(x)*tanh(y) - sqrt(z)*u' },
    });
    expect(m.jacobian).not.toBeNull();
    const p = m.defaultParams;
    const y = Float64Array.from([0.5, 1.5, 2]);
    const J = new Float64Array(9);
    m.jacobian!(0, y, p, J);
    const f1 = new Float64Array(3),
      f2 = new Float64Array(3);
    for (let j = 0; j < 3; j++) {
      const h = 1e-6 * Math.max(1, Math.abs(y[j]));
      const yp = Float64Array.from(y);
      yp[j] += h;
      const ym = Float64Array.from(y);
      ym[j] -= h;
      m.rhs(0, yp, p, f1);
      m.rhs(0, ym, p, f2);
      for (let i = 0; i < 3; i++) expect(J[i * 3 + j]).toBeCloseTo((f1[i] - f2[i]) / (2 * h), 6);
    }
    const Jp = new Float64Array(6);
    m.paramJacobian!(0, y, p, Jp);
    for (let j = 0; j < 2; j++) {
      const h = 1e-6;
      const pp = Float64Array.from(p);
      pp[j] += h;
      const pm = Float64Array.from(p);
      pm[j] -= h;
      m.rhs(0, y, pp, f1);
      m.rhs(0, y, pm, f2);
      for (let i = 0; i < 3; i++) expect(Jp[i * 2 + j]).toBeCloseTo((f1[i] - f2[i]) / (2 * h), 6);
    }
  });
  it('is null (finite differences later) when an expression cannot be differentiated', () => {
    const m = compileModel({ id: 'j', states: { x: { initial: 1 } }, odes: { x: 'x > 1 ? -x : max(x, 0.5)' } });
    expect(m.jacobian).toBeNull();
  });
});
