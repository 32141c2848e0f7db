// Compile stage 4: every parsed expression emitted as JavaScript (names resolved to y[i], p[j], a{k}, ...),
// each name that cannot be resolved recorded with its JSON path.
import type { MathNode } from 'mathjs';
import type { ModelSpec } from '../schema.ts';
import type { Issue } from '../../errors.ts';
import type { SymbolTable } from './declarations.ts';
import type { ParsedEvent, ParsedModel } from './parse.ts';
import { unwrapParentheses, type EmitAt, type SymbolResolver } from './resolve.ts';

export interface EventJs {
  /** Root function body: > 0 once the event's condition holds. */
  g: string;
  /** State index (-1 for an unknown target, reported) and the value's JavaScript. */
  sets: { index: number; js: string }[];
}

/** One JavaScript expression per assignment, ODE, output and initial value; root and values per event. */
export interface ModelJs {
  assignments: string[];
  odes: string[];
  outputs: string[];
  initial: string[];
  events: EventJs[];
}

const COMPARISONS = ['smaller', 'larger', 'smallerEq', 'largerEq'];

export function emitModel(
  spec: ModelSpec,
  table: SymbolTable,
  parsed: ParsedModel,
  emitAt: EmitAt,
  resolver: SymbolResolver,
  issues: Issue[],
): ModelJs {
  const { assignNames, stateNames, outputNames } = table;
  const assignments = assignNames.map((n, k) => emitAt(['assignments', n], parsed.assignments[k]));
  const odes = stateNames.map((n, i) => emitAt(['odes', n], parsed.odes[i]));
  const outputs = outputNames.map((n, k) => emitAt(['outputs', n], parsed.outputs[k]));
  const initial = stateNames.map((n, i) => {
    const pe = parsed.initial[i];
    return pe ? emitAt(['states', n, 'initial'], pe, resolver.paramsOnly) : String(spec.states[n].initial);
  });
  const events = spec.events.map((ev, k) => emitEvent(ev.when, k, parsed.events[k], table, emitAt, issues));
  return { assignments, odes, outputs, initial, events };
}

/** An event's `when` must be one comparison: its root function is the difference of the two sides. */
function emitEvent(
  when: string,
  k: number,
  parsed: ParsedEvent,
  table: SymbolTable,
  emitAt: EmitAt,
  issues: Issue[],
): EventJs {
  const w = parsed.when;
  const op = unwrapParentheses(w.node) as unknown as { type: string; fn?: string; args?: MathNode[] };
  let g = '0';
  if (op.type !== 'OperatorNode' || !op.fn || !COMPARISONS.includes(op.fn)) {
    issues.push({
      path: ['events', k, 'when'],
      message: `'when' must be one comparison such as "T < 1" (got '${when}')`,
    });
  } else {
    const lhs = emitAt(['events', k, 'when'], { ...w, node: op.args![0] });
    const rhs = emitAt(['events', k, 'when'], { ...w, node: op.args![1] });
    g = op.fn.startsWith('smaller') ? `(${rhs}) - (${lhs})` : `(${lhs}) - (${rhs})`;
  }
  const sets = parsed.set.map((s) => {
    if (!table.stateIndex.has(s.target)) {
      issues.push({ path: ['events', k, 'set', s.target], message: `'${s.target}' is not a state` });
      return { index: -1, js: '0' };
    }
    return {
      index: table.stateIndex.get(s.target)!,
      js: s.parsed ? emitAt(['events', k, 'set', s.target], s.parsed) : String(s.value),
    };
  });
  return { g, sets };
}
