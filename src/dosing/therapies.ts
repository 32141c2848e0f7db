// Therapy presets (approved regimens) expanded into doses for a model. Owned by the therapy-presets work;
// this first version knows no presets and rejects every name with its path.
import type { CompiledModel } from '../model/compile.ts';
import { InputError } from '../model/errors.ts';
import type { Dose } from '../scenario/schema.ts';

export interface TherapyPreset {
  id: string;
  title: string;
  source: string;
  doses: Dose[];
}

export const THERAPIES: TherapyPreset[] = [];

export function expandTherapies(names: string[], model: CompiledModel, _weight: number): Dose[] {
  void model;
  const out: Dose[] = [];
  names.forEach((name, i) => {
    const preset = THERAPIES.find((t) => t.id === name);
    if (!preset) throw new InputError(`unknown therapy '${name}'`, ['therapies', i]);
    out.push(...preset.doses);
  });
  return out;
}
