// Dosing rules (scenario `rules`): conditions compiled once from the whitelisted expression language,
// evaluated on the state just before a scheduled administration, deciding skip / stop / reduce / resume.
import {
  parseExpression,
  emit,
  ExpressionError,
  RUNTIME_HELPER_NAMES,
  RUNTIME_HELPER_VALUES,
} from '../model/expression.ts';
import type { CompiledModel } from '../model/compile.ts';
import type { DoseRecord } from '../dosing/schedule.ts';
import { InputError, type Issue } from '../errors.ts';

export interface RuleSpec {
  when: string;
  action: 'skip' | 'stop' | 'reduce' | 'resume';
  factor?: number;
  targets?: string[];
  labels?: string[];
}

export interface CompiledRule {
  spec: RuleSpec;
  /** Nonzero when the rule fires: (t, y, p, outputs) → number. */
  test: (t: number, y: Float64Array, p: Float64Array, o: Float64Array) => number;
  appliesTo: (r: DoseRecord) => boolean;
}

/** Compile rules against a model's states, outputs, parameters, covariates and t; issues under ['rules', k, ...]. */
export function compileRules(model: CompiledModel, rules: RuleSpec[]): CompiledRule[] {
  const issues: Issue[] = [];
  const out = model.outputNames;
  const resolve = (name: string): string | undefined => {
    if (model.stateIndex.has(name)) return `y[${model.stateIndex.get(name)}]`;
    if (model.paramIndex.has(name)) return `p[${model.paramIndex.get(name)}]`;
    if (model.covariateIndex.has(name)) return `p[${model.covariateIndex.get(name)}]`;
    const k = out.indexOf(name);
    if (k >= 0) return `o[${k}]`;
    if (name === 't') return 't';
    return undefined;
  };
  const compiled = rules.map((r, k) => {
    let js = '0';
    try {
      const pe = parseExpression(r.when);
      js = emit(pe.node, resolve, pe.source);
    } catch (e) {
      issues.push({ path: ['rules', k, 'when'], message: e instanceof ExpressionError ? e.message : String(e) });
    }
    (r.targets ?? []).forEach((tg, j) => {
      if (!model.stateIndex.has(tg))
        issues.push({ path: ['rules', k, 'targets', j], message: `'${tg}' is not a state of the model` });
    });
    // Generated from a whitelisted syntax tree only (see model/expression.ts).
    const factory = new Function(
      ...RUNTIME_HELPER_NAMES,
      `"use strict"; return function (t, y, p, o) { return +(${js}); };`,
    );
    const test = factory(...RUNTIME_HELPER_VALUES) as CompiledRule['test'];
    const targets = r.targets ? new Set(r.targets) : null;
    const labels = r.labels ? new Set(r.labels) : null;
    return {
      spec: r,
      test,
      appliesTo: (d: DoseRecord) =>
        (!targets || targets.has(d.target)) && (!labels || (d.label !== undefined && labels.has(d.label))),
    };
  });
  if (issues.length) throw new InputError(issues);
  return compiled;
}
