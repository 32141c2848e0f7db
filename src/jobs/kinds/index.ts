// The job kinds, by name. Adding a kind: write src/jobs/kinds/<kind>.ts exporting a JobKind and add it here.
import type { AnyJobKind } from '../kind.ts';
import { populationKind } from './population.ts';
import { fitKind } from './fit.ts';
import { optimizeKind } from './optimize.ts';
import { sensitivityKind } from './sensitivity.ts';
import { vpcKind } from './vpc.ts';

const KINDS: AnyJobKind[] = [populationKind, fitKind, optimizeKind, sensitivityKind, vpcKind];

export const JOB_KINDS: ReadonlyMap<string, AnyJobKind> = new Map(KINDS.map((k) => [k.kind, k]));
export const JOB_KIND_NAMES = KINDS.map((k) => k.kind);

export function jobKind(name: string): AnyJobKind | undefined {
  return JOB_KINDS.get(name);
}
