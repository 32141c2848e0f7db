// Starting a worker thread on one of the package's modules, the same way everywhere (see
// docs/architecture.md, "Workers"): the thread runs src/workers/bootstrap.mjs, which imports `module`. Pass
// the module as `new URL('./x.ts', import.meta.url)`: from the compiled output the URL is rewritten to the
// .js sibling here, so the same call works from src/ (tsx, vitest) and from dist/.
import { Worker, type WorkerOptions } from 'node:worker_threads';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT, RUNNING_FROM_SOURCE } from '../package-info.ts';

const BOOTSTRAP = pathToFileURL(path.join(PACKAGE_ROOT, 'src', 'workers', 'bootstrap.mjs'));

/** The URL of a module to run in a worker: `.ts` from source, the compiled `.js` when running from dist/. */
export function workerModule(url: URL): string {
  const href = url.href;
  return !RUNNING_FROM_SOURCE && href.endsWith('.ts') ? `${href.slice(0, -3)}.js` : href;
}

/**
 * A worker thread running `module`; `data` arrives in the module as `workerData.data`. Other options
 * (resourceLimits, stdout, ...) are passed to the Worker as given.
 */
export function startWorker(module: URL, data?: unknown, options: Omit<WorkerOptions, 'workerData'> = {}): Worker {
  return new Worker(BOOTSTRAP, { ...options, workerData: { module: workerModule(module), data } });
}
