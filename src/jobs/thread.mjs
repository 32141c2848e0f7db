// Worker-thread entry of the pool (src/jobs/pool.ts): registers tsx, then loads the one module that runs tasks.
import { register } from 'tsx/esm/api';
register();
await import('./thread.ts');
