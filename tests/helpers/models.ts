// Small inline models shared by the engine tests.
export const onecpt = {
  id: 'onecpt',
  title: 'One-compartment PK',
  parameters: { k: { value: 0.3, unit: '1/day' }, V: { value: 5, unit: 'L' } },
  states: { A: { initial: 0, unit: 'mg' } },
  odes: { A: '-k*A' },
  outputs: { C: 'A/V' },
};

export const logistic = {
  id: 'logistic',
  parameters: { r: { value: 0.1 }, K: { value: 1e9 } },
  states: { V: { initial: 1e6, unit: 'cells' } },
  odes: { V: 'r*V*(1 - V/K)' },
};

export const gompertz = {
  id: 'gompertz',
  parameters: { r: { value: 0.1 }, K: { value: 1e9 } },
  states: { V: { initial: 1e6, unit: 'cells' } },
  odes: { V: 'r*V*log(K/V)' },
};

export const kirschnerPanetta = {
  id: 'kp-inline',
  parameters: {
    c: { value: 0.02 },
    mu2: { value: 0.03 },
    p1: { value: 0.1245 },
    g1: { value: 2e7 },
    s1: { value: 0 },
    r2: { value: 0.18 },
    b: { value: 1e-9 },
    a: { value: 1 },
    g2: { value: 1e5 },
    p2: { value: 5 },
    g3: { value: 1e3 },
    mu3: { value: 10 },
    s2: { value: 0 },
  },
  states: { E: { initial: 1, unit: 'cells' }, T: { initial: 1e5, unit: 'cells' }, IL: { initial: 1, unit: 'cells' } },
  odes: {
    E: 'c*T - mu2*E + p1*E*IL/(g1+IL) + s1',
    T: 'r2*T*(1-b*T) - a*E*T/(g2+T)',
    IL: 'p2*E*T/(g3+T) - mu3*IL + s2',
  },
};
