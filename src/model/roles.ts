// Cross-checks of a model's `roles` (Contract 1): every series a role names must be a state or an output,
// every dose target a state. The shapes are in schema.ts; this runs after parsing, with the other name checks.
import type { Issue } from '../errors.ts';
import type { ModelSpec } from './schema.ts';

export function roleIssues(spec: ModelSpec): Issue[] {
  const r = spec.roles;
  if (!r) return [];
  const issues: Issue[] = [];
  const isSeries = (n: string) => Object.hasOwn(spec.states, n) || Object.hasOwn(spec.outputs, n);
  const series = (path: (string | number)[], n: string | undefined) => {
    if (n !== undefined && !isSeries(n))
      issues.push({ path: ['roles', ...path], message: `'${n}' is neither a state nor an output` });
  };
  if (r.tumor) {
    series(['tumor', 'series'], r.tumor.series);
    series(['tumor', 'diameter'], r.tumor.diameter);
  }
  (r.effectors ?? []).forEach((n, k) => series(['effectors', k], n));
  for (const [drug, d] of Object.entries(r.drugs ?? {})) {
    series(['drugs', drug, 'concentration'], d.concentration);
    series(['drugs', drug, 'occupancy'], d.occupancy);
    const targets = d.doseTarget === undefined ? [] : Array.isArray(d.doseTarget) ? d.doseTarget : [d.doseTarget];
    targets.forEach((n, k) => {
      if (!Object.hasOwn(spec.states, n))
        issues.push({
          path: ['roles', 'drugs', drug, 'doseTarget', ...(Array.isArray(d.doseTarget) ? [k] : [])],
          message: `'${n}' is not a state`,
        });
    });
  }
  return issues;
}
