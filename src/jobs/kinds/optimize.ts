// Dosing-schedule optimization as a job: one chunk.
import { optimizeSchedule } from '../../analysis/optimize/index.ts';
import { singleChunkKind } from './single.ts';

export const optimizeKind = singleChunkKind('optimize', optimizeSchedule);
