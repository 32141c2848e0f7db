// Fit (Contract 4) as a job: one chunk (multistart starts run in order inside it).
import { fit } from '../../analysis/fit/index.ts';
import { singleChunkKind } from './single.ts';

export const fitKind = singleChunkKind('fit', fit);
