// Solver worker thread entry: TypeScript through tsx (no build step), then the job loop in worker-jobs.ts.
import { register } from 'tsx/esm/api';
register();
await import('./worker-jobs.ts');
