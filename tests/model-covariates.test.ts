// Model `covariates` and `dosing`, scenario `covariates` and `rules`: bad input is named by its path.
import { describe, expect, it } from 'vitest';
import { compileModel } from '../src/model/compile.ts';
import { simulate } from '../src/simulate.ts';
import { InputError } from '../src/errors.ts';
import { oral1 } from './helpers/linear-pk.ts';

function issues(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as InputError).issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  }
  throw new Error('no error');
}

describe('covariates and dose modifiers in a model file', () => {
  it('covariates are visible in expressions and follow the parameters in p', () => {
    const m = compileModel(oral1);
    expect(m.covariateNames).toEqual(['WT']);
    expect(m.covariateIndex.get('WT')).toBe(m.paramNames.length);
    expect(m.defaultParams[m.paramNames.length]).toBe(70);
    expect(m.doseModifiers.get(0)!.bioavailability!(m.defaultParams)).toBe(0.7);
  });
  it('refuses modifiers of unknown states, modifiers reading states, and covariates clashing with other names', () => {
    expect(issues(() => compileModel({ ...oral1, dosing: { gut: { lag: '1' } } }))[0]).toEqual({
      path: 'dosing.gut',
      message: "dose modifiers for unknown state 'gut' (states: depot, central)",
    });
    const st = issues(() => compileModel({ ...oral1, dosing: { depot: { bioavailability: 'central/100' } } }))[0];
    expect(st.path).toBe('dosing.depot.bioavailability');
    expect(st.message).toMatch(/parameters and covariates only/);
    expect(issues(() => compileModel({ ...oral1, covariates: { V: { value: 1 } } }))[0].message).toMatch(
      /duplicate name 'V'/,
    );
  });
  it('a scenario naming an unknown covariate or a rule with an unknown name is refused with the path', () => {
    expect(issues(() => simulate({ model: oral1, times: [0, 1], covariates: { HT: 170 } }))[0].path).toBe(
      'covariates.HT',
    );
    expect(
      issues(() => simulate({ model: oral1, times: [0, 1], covariateChanges: [{ time: 1, values: { BMI: 2 } }] }))[0]
        .path,
    ).toBe('covariateChanges.0.values.BMI');
    expect(
      issues(() => simulate({ model: oral1, times: [0, 1], rules: [{ when: 'tumour > 1', action: 'skip' }] }))[0].path,
    ).toBe('rules.0.when');
    expect(
      issues(() => simulate({ model: oral1, times: [0, 1], rules: [{ when: 'CP > 1', action: 'reduce' }] }))[0].path,
    ).toBe('rules.0.factor');
    expect(
      issues(() =>
        simulate({ model: oral1, times: [0, 1], doses: [{ target: 'depot', amount: 1, rate: 'model' }] }),
      )[0],
    ).toEqual({
      path: 'doses.0.rate',
      message: "rate \"model\" (NONMEM RATE = -1) needs a rate for 'depot' in the model's dosing",
    });
    expect(
      issues(() =>
        simulate({ model: oral1, times: [0, 1], doses: [{ target: 'central', amount: 1, steadyState: true }] }),
      )[0].path,
    ).toBe('doses.0.every');
    expect(
      issues(() =>
        simulate({ model: oral1, times: [0, 1], doses: [{ target: 'central', amount: 1, rate: 2, duration: 1 }] }),
      )[0].path,
    ).toBe('doses.0.rate');
  });
  it('bundled models, with no covariates given, simulate as before', () => {
    const r = simulate({ model: 'kirschner-panetta-1998', times: [0, 10], metrics: false });
    expect(r.states.T[1]).toBeGreaterThan(0);
  });
});
