// Compile stage: a model file's `dosing` (bioavailability, lag, rate, duration per dosed state) → functions
// of the parameter-and-covariate vector p.
import type { ModelSpec } from '../schema.ts';
import type { DoseModifiers } from './types.ts';
import type { ParseAt } from './parse.ts';
import { makeFunction, type EmitAt, type SymbolResolver } from './resolve.ts';

const MODIFIER_KEYS = ['bioavailability', 'lag', 'rate', 'duration'] as const;

/** Per dosed state index, its modifiers; unknown states are skipped (reported with the other cross-references). */
export function compileDoseModifiers(
  spec: ModelSpec,
  stateIndex: Map<string, number>,
  parseAt: ParseAt,
  emitAt: EmitAt,
  resolver: SymbolResolver,
): Map<number, DoseModifiers> {
  const out = new Map<number, DoseModifiers>();
  for (const [state, mods] of Object.entries(spec.dosing)) {
    const i = stateIndex.get(state);
    if (i === undefined) continue;
    const m: DoseModifiers = {};
    for (const key of MODIFIER_KEYS) {
      const v = mods[key];
      if (v === undefined) continue;
      if (typeof v === 'number') {
        m[key] = () => v;
        continue;
      }
      const pe = parseAt(['dosing', state, key], v);
      if (!pe) continue;
      const js = emitAt(['dosing', state, key], pe, resolver.paramsOnly);
      m[key] = makeFunction<(p: Float64Array) => number>(['p'], `return ${js};`);
    }
    out.set(i, m);
  }
  return out;
}
