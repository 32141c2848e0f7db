// Name resolution for generated code: a model symbol → the JavaScript that reads it (y[i], p[j], a{k}, t,
// Math constants, dose clocks), and the emitter that records what cannot be emitted with its JSON path.
import type { MathNode } from 'mathjs';
import {
  emit,
  ExpressionError,
  parseClockSymbol,
  RUNTIME_HELPER_NAMES,
  RUNTIME_HELPER_VALUES,
  type ParsedExpression,
} from '../expression.ts';
import type { Issue } from '../../errors.ts';
import type { SymbolTable } from './declarations.ts';
import type { DoseClock } from './types.ts';
import type { Path } from './parse.ts';

export type Resolve = (name: string) => string | undefined;

export const CONSTANTS: Record<string, string> = { pi: 'Math.PI', e: 'Math.E' };

export const isConstant = (name: string) => Object.prototype.hasOwnProperty.call(CONSTANTS, name);

/** A function from generated source. The body is generated from whitelisted syntax trees only (see expression.ts). */
export function makeFunction<T>(args: string[], body: string): T {
  const factory = new Function(
    ...RUNTIME_HELPER_NAMES,
    `"use strict"; return function (${args.join(', ')}) {\n${body}\n};`,
  );
  return factory(...RUNTIME_HELPER_VALUES) as T;
}

/**
 * The resolvers of one model, sharing the dose clocks (tfd(X), tld(X)) they hand out: hidden slots after the
 * parameters and covariates, numbered in the order the expressions first use them, `Infinity` until X's dose.
 */
export class SymbolResolver {
  readonly clockSlots = new Map<string, DoseClock>();
  /** States, parameters, covariates, assignments, t, dose clocks and constants. */
  readonly full: Resolve;
  /** Parameters, covariates and constants only (initial values, dose modifiers). */
  readonly paramsOnly: Resolve;

  constructor(private readonly table: SymbolTable) {
    this.full = this.resolveWith(true, true, true);
    this.paramsOnly = this.resolveWith(false, false, false);
  }

  private clockJs(name: string): string | undefined {
    const { stateIndex, paramNames, covariateNames } = this.table;
    const c = parseClockSymbol(name);
    if (!c || !stateIndex.has(c[1])) return undefined;
    let slot = this.clockSlots.get(name);
    if (!slot) {
      slot = {
        kind: c[0],
        state: stateIndex.get(c[1])!,
        slot: paramNames.length + covariateNames.length + this.clockSlots.size,
      };
      this.clockSlots.set(name, slot);
    }
    return `(t > p[${slot.slot}] ? t - p[${slot.slot}] : 0)`;
  }

  private resolveWith(allowStates: boolean, allowAssign: boolean, allowT: boolean): Resolve {
    const { stateIndex, pIndex, assignIndex } = this.table;
    return (name) => {
      if (allowT && name.includes('$')) return this.clockJs(name);
      if (allowStates && stateIndex.has(name)) return `y[${stateIndex.get(name)}]`;
      if (pIndex.has(name)) return `p[${pIndex.get(name)}]`;
      if (allowAssign && assignIndex.has(name)) return `a${assignIndex.get(name)}`;
      if (allowT && name === 't') return 't';
      if (isConstant(name)) return CONSTANTS[name];
      return undefined;
    };
  }
}

/** Emit a parsed expression (or a node of it) as JavaScript; on error record it at `path` and emit '0'. */
export type EmitAt = (path: Path, pe: ParsedExpression, resolve?: Resolve) => string;

export function emitterInto(issues: Issue[], resolver: SymbolResolver): EmitAt {
  return (path, pe, resolve = resolver.full) => {
    try {
      return emit(pe.node, resolve, pe.source);
    } catch (e) {
      const what = e instanceof ExpressionError ? e.message : String(e);
      const hint =
        resolve === resolver.full
          ? ''
          : path[0] === 'dosing'
            ? ' (dose modifiers may use parameters and covariates only)'
            : ' (initial values may use parameters only)';
      issues.push({ path, message: what + hint });
      return '0';
    }
  };
}

/** The node of a parenthesised expression without its parentheses. */
export function unwrapParentheses(node: MathNode): MathNode {
  return node.type === 'ParenthesisNode' ? (node as unknown as { content: MathNode }).content : node;
}
