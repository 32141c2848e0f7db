// Compile stage 2: every expression of the model file parsed against the whitelist (expression.ts), each
// parse error recorded with its JSON path.
import type { ModelSpec } from '../schema.ts';
import { parseExpression, type ParsedExpression } from '../expression.ts';
import { InputError, type Issue } from '../../errors.ts';
import { ownValue } from '../../keys.ts';
import type { SymbolTable } from './declarations.ts';

export type Path = (string | number)[];
/** Parse one expression; on error record it at `path` and return null. */
export type ParseAt = (path: Path, source: string) => ParsedExpression | null;

export interface ParsedEvent {
  when: ParsedExpression;
  set: { target: string; parsed: ParsedExpression | null; value: number }[];
}

/** The model's parsed expressions (dose modifiers are parsed with their own stage). */
export interface ParsedModel {
  assignments: ParsedExpression[];
  odes: ParsedExpression[];
  outputs: ParsedExpression[];
  /** Null where the initial value is a number. */
  initial: (ParsedExpression | null)[];
  events: ParsedEvent[];
}

export function parserInto(issues: Issue[]): ParseAt {
  return (path, source) => {
    try {
      return parseExpression(source);
    } catch (e) {
      issues.push({ path, message: (e as Error).message });
      return null;
    }
  };
}

/** Parse every expression; throws InputError naming each one that does not parse. */
export function parseModelExpressions(spec: ModelSpec, table: SymbolTable): ParsedModel {
  const issues: Issue[] = [];
  const parseAt = parserInto(issues);
  const assignments = table.assignNames.map((n) => parseAt(['assignments', n], spec.assignments[n]));
  const odes = table.stateNames.map((n) => parseAt(['odes', n], ownValue(spec.odes, n) ?? '0'));
  const outputSource = (n: string) => {
    const o = spec.outputs[n];
    return typeof o === 'string' ? o : o.expr;
  };
  const outputs = table.outputNames.map((n) => parseAt(['outputs', n], outputSource(n)));
  const initial = table.stateNames.map((n) => {
    const v = spec.states[n].initial;
    return typeof v === 'string' ? parseAt(['states', n, 'initial'], v) : null;
  });
  const events = spec.events.map((ev, k) => ({
    when: parseAt(['events', k, 'when'], ev.when),
    set: Object.entries(ev.set).map(([target, v]) => ({
      target,
      parsed: typeof v === 'string' ? parseAt(['events', k, 'set', target], v) : null,
      value: typeof v === 'number' ? v : NaN,
    })),
  }));
  if (issues.length) throw new InputError(issues);
  // No issue: every expression parsed.
  return {
    assignments: assignments as ParsedExpression[],
    odes: odes as ParsedExpression[],
    outputs: outputs as ParsedExpression[],
    initial,
    events: events as ParsedEvent[],
  };
}
