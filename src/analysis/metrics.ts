// Response metrics of a simulation result. Owned by the metrics work; this first version reports none.
import type { CompiledModel } from '../model/compile.ts';
import type { SimulationResult } from '../scenario/schema.ts';

export function computeMetrics(result: Omit<SimulationResult, 'metrics'>, model: CompiledModel): Record<string, unknown> {
  void result; void model;
  return {};
}
