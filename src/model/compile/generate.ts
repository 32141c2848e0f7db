// Compile stage 5: the model's functions from the emitted JavaScript: right-hand side (plain and with a
// parameter vector bound), outputs, initial state and events, each computing only the assignments it needs.
import type { MathNode } from 'mathjs';
import type { ModelSpec } from '../schema.ts';
import { emit, readsOnly } from '../expression.ts';
import type { SymbolTable } from './declarations.ts';
import type { ParsedModel } from './parse.ts';
import type { AssignmentOrder } from './order.ts';
import type { ModelJs } from './emit.ts';
import { isConstant, makeFunction, type SymbolResolver } from './resolve.ts';
import type { BoundRhsFn, CompiledEvent, OutputFn, RhsFn } from './types.ts';
import { rodasStagesBody, RODAS_STAGE_PARAMS, type RodasStages } from '../../solve/rodas-stages.ts';
import {
  dopri5StagesBody,
  DOPRI5_STAGE_PARAMS,
  type Dopri5Stages,
  type RhsStatements,
} from '../../solve/dopri5-stages.ts';

export interface GeneratedFunctions {
  rhs: RhsFn;
  rhsSrc: string;
  bindRhs: (p: Float64Array) => BoundRhsFn;
  bindSrc: string;
  outputs: OutputFn;
  outSrc: string;
  initial: (p: Float64Array) => Float64Array;
  events: CompiledEvent[];
  /** The right-hand side reads neither t nor a dose clock. */
  autonomous: boolean;
}

export function generateFunctions(
  spec: ModelSpec,
  table: SymbolTable,
  parsed: ParsedModel,
  js: ModelJs,
  order: AssignmentOrder,
  resolver: SymbolResolver,
): GeneratedFunctions {
  const prelude = (ks: number[]) => ks.map((k) => `const a${k} = ${js.assignments[k]};`).join('\n');
  const allOdeSymbols = parsed.odes.flatMap((pe) => [...pe.symbols]);
  const odeAssignments = order.needed(allOdeSymbols);
  const rhsSrc = `${prelude(odeAssignments)}\n${js.odes.map((e, i) => `dydt[${i}] = ${e};`).join('\n')}`;
  const outSrc = `${prelude(order.needed(parsed.outputs.flatMap((pe) => [...pe.symbols])))}\n${js.outputs.map((e, k) => `out[${k}] = ${e};`).join('\n')}`;
  const rhs = makeFunction<RhsFn>(['t', 'y', 'p', 'dydt'], rhsSrc);
  const { bindSrc, stagesSrc } = boundRhsSource(table, parsed, odeAssignments, resolver);
  const bindPlain = makeFunction<(p: Float64Array) => BoundRhsFn>(['p'], bindSrc);
  // DOPRI5's and Rodas5P's stages fused with f, generated on the first binding (most compiled models never solve).
  let fused:
    | { dopri5: ((p: Float64Array) => Dopri5Stages) | null; rodas: ((p: Float64Array) => RodasStages) | null }
    | undefined;
  const bindRhs = (p: Float64Array): BoundRhsFn => {
    const f = bindPlain(p);
    if (fused === undefined) {
      const src = stagesSrc();
      fused = {
        dopri5: src.dopri5 === null ? null : makeFunction<(p: Float64Array) => Dopri5Stages>(['p'], src.dopri5),
        rodas: src.rodas === null ? null : makeFunction<(p: Float64Array) => RodasStages>(['p'], src.rodas),
      };
    }
    if (fused.dopri5 !== null) f.dopri5Stages = fused.dopri5(p);
    if (fused.rodas !== null) f.rodasStages = fused.rodas(p);
    return f;
  };
  const outputs = makeFunction<OutputFn>(['t', 'y', 'p', 'out'], outSrc);
  const initialFn = makeFunction<(p: Float64Array, y: Float64Array) => void>(
    ['p', 'y'],
    js.initial.map((e, i) => `y[${i}] = ${e};`).join('\n'),
  );
  const nStates = table.stateNames.length;
  const readsTime = (s: string) => s === 't' || s.includes('$');
  return {
    rhs,
    rhsSrc,
    bindRhs,
    bindSrc,
    outputs,
    outSrc,
    initial: (p) => {
      const y = new Float64Array(nStates);
      initialFn(p, y);
      return y;
    },
    events: generateEvents(spec, parsed, js, order, prelude),
    autonomous:
      !odeAssignments.some((k) => [...parsed.assignments[k].symbols].some(readsTime)) && !allOdeSymbols.some(readsTime),
  };
}

/**
 * The right-hand side's body closed over a parameter vector, with every subexpression that reads parameters
 * only (CL/V1, an assignment of constants, ...) computed once at binding rather than at every call, as
 * ModelingToolkit does: one call level less and fewer divisions in the solver's hot loop. All closures made
 * by one factory share their optimized code.
 */
function boundRhsSource(
  table: SymbolTable,
  parsed: ParsedModel,
  odeAssignments: number[],
  resolver: SymbolResolver,
): { bindSrc: string; stagesSrc: () => { dopri5: string | null; rodas: string | null } } {
  const { pIndex, stateIndex, assignIndex } = table;
  const full = resolver.full;
  const hoisted = new Map<string, string>();
  const paramOnly = (name: string) =>
    pIndex.has(name) || (isConstant(name) && !stateIndex.has(name) && !assignIndex.has(name));
  const hook = (node: MathNode): string | undefined => {
    if (node.type === 'ConstantNode' || node.type === 'SymbolNode') return undefined;
    if (!readsOnly(node, paramOnly)) return undefined;
    const js = emit(node, full);
    let name = hoisted.get(js);
    if (!name) {
      name = `q${hoisted.size}`;
      hoisted.set(js, name);
    }
    return name;
  };
  const assignJsBound = parsed.assignments.map((pe) => emit(pe.node, full, '', hook));
  const odeJsBound = parsed.odes.map((pe) => emit(pe.node, full, '', hook));
  const boundPrelude = odeAssignments.map((k) => `const a${k} = ${assignJsBound[k]};`).join('\n');
  const hoistedSrc = [...hoisted].map(([js, name]) => `const ${name} = ${js};`).join('\n');
  // The same statements with the state read from locals (every parameter-only subexpression is hoisted
  // already: the hook finds each in `hoisted`), for DOPRI5's fused stages.
  const statements: RhsStatements = (arg, out) => {
    const resolve = (name: string) => (stateIndex.has(name) ? arg(stateIndex.get(name)!) : full(name));
    const a = odeAssignments.map((k) => `const a${k} = ${emit(parsed.assignments[k].node, resolve, '', hook)};`);
    const d = parsed.odes.map((pe, i) => `${out(i)} = ${emit(pe.node, resolve, '', hook)};`);
    return [...a, ...d].join('\n');
  };
  const factory = (params: readonly string[], body: string | null) =>
    body === null ? null : `${hoistedSrc}\nreturn function (${params.join(', ')}) {\n${body}\n};`;
  const n = table.stateNames.length;
  const stagesSrc = () => ({
    dopri5: factory(DOPRI5_STAGE_PARAMS, dopri5StagesBody(n, statements)),
    rodas: factory(RODAS_STAGE_PARAMS, rodasStagesBody(n, statements)),
  });
  return {
    bindSrc: `${hoistedSrc}\nreturn function (t, y, dydt) {\n${boundPrelude}\n${odeJsBound.map((js, i) => `dydt[${i}] = ${js};`).join('\n')}\n};`,
    stagesSrc,
  };
}

function generateEvents(
  spec: ModelSpec,
  parsed: ParsedModel,
  js: ModelJs,
  order: AssignmentOrder,
  prelude: (ks: number[]) => string,
): CompiledEvent[] {
  return spec.events.map((ev, k) => {
    const ep = parsed.events[k];
    const syms = [...ep.when.symbols, ...ep.set.flatMap((s) => (s.parsed ? [...s.parsed.symbols] : []))];
    const pre = prelude(order.needed(syms));
    const { g, sets } = js.events[k];
    return {
      name: ev.name ?? `event${k + 1}`,
      when: ev.when,
      g: makeFunction(['t', 'y', 'p'], `${pre}\nreturn ${g};`),
      targets: sets.map((s) => s.index),
      values: makeFunction(['t', 'y', 'p', 'out'], `${pre}\n${sets.map((s, j) => `out[${j}] = ${s.js};`).join('\n')}`),
    };
  });
}
