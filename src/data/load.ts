// Read and check a NONMEM-style dataset (CSV text or JSON rows) against a compiled model: the one entry
// point for simulations and fits (individual and population) that take datasets.
import type { CompiledModel } from '../model/compile.ts';
import { readCsv, readRows, type Table } from './read.ts';
import { checkDataset } from './check.ts';
import type { Dataset } from './types.ts';

export function loadDataset(
  data: string | Record<string, unknown>[],
  model: CompiledModel,
  observe?: string | Record<string, string>,
): { table: Table; dataset: Dataset } {
  const table = typeof data === 'string' ? readCsv(data) : readRows(data);
  return { table, dataset: checkDataset(table, { model, observe }) };
}
