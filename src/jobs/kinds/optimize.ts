// Dosing-schedule optimization as a job: one chunk (a request with `population` optimizes over a virtual population).
import {
  optimizeSchedule,
  optimizePopulationSchedule,
  isPopulationOptimizeRequest,
} from '../../analysis/optimize/index.ts';
import { singleChunkKind } from './single.ts';

export const optimizeKind = singleChunkKind('optimize', (request: unknown) =>
  isPopulationOptimizeRequest(request) ? optimizePopulationSchedule(request) : optimizeSchedule(request),
);
