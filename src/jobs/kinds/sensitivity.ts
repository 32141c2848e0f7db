// Local sensitivity analysis as a job: one chunk.
import { sensitivity } from '../../analysis/sensitivity.ts';
import { singleChunkKind } from './single.ts';

export const sensitivityKind = singleChunkKind('sensitivity', sensitivity);
