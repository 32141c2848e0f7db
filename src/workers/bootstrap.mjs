// The one entry file of every worker thread (server pool, population, job workers). It imports the module
// named in workerData.module: a compiled .js module under dist/ in normal use; a .ts source (development and
// tests, when the parent itself runs from source) gets tsx's loader registered in this thread first, since
// Node 20 does not apply --import loaders inside worker threads. Start workers through startWorker()
// (src/workers/start.ts), never by pointing a Worker at a module directly.
import { workerData } from 'node:worker_threads';

const url = workerData?.module;
if (typeof url !== 'string') throw new Error('immunopd worker bootstrap: workerData.module is missing');
if (url.endsWith('.ts')) (await import('tsx/esm/api')).register();
await import(url);
