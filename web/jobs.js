// Long work as a job (docs/api.md "Jobs"): POST /api/jobs {kind, request} → 202 {id}; progress from the
// server-sent events of GET /api/jobs/:id/events (polling GET /api/jobs/:id when the stream breaks); the
// result from GET /api/jobs/:id; aborting the signal cancels the job on the server (DELETE /api/jobs/:id).
import { api, ApiError, h } from './util.js';

const POLL_MS = 400;

/**
 * A job as GET /api/jobs/:id and its events report it (the fields the client reads).
 * @typedef {{ id?: string, status?: string, progress?: { done: number, total: number },
 *   result?: unknown, error?: { message?: string, issues?: import('./types').Issue[] } }} JobRecord
 */

/**
 * A failed job's error as an ApiError whose issue paths are those of the request (without "request").
 * @param {JobRecord} record
 */
function jobError(record) {
  const e = record.error ?? {};
  const issues = (Array.isArray(e.issues) ? e.issues : []).map((i) => ({
    ...i,
    path: i.path?.[0] === 'request' ? i.path.slice(1) : i.path,
  }));
  return new ApiError(422, { error: { message: e.message ?? `the job ${record.status}`, issues } });
}

/**
 * Wait for the job's end: server-sent events, or polling when EventSource is missing or its stream breaks.
 * @param {string} id
 * @param {(record: JobRecord) => void} onProgress
 * @param {AbortSignal} signal
 * @returns {Promise<JobRecord>}
 */
function waitForEnd(id, onProgress, signal) {
  return new Promise((resolve, reject) => {
    /** @type {EventSource | null} */
    let source = null;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer;
    const stop = () => {
      source?.close();
      clearTimeout(timer);
      signal.removeEventListener('abort', aborted);
    };
    const aborted = () => {
      stop();
      reject(new DOMException('cancelled', 'AbortError'));
    };
    signal.addEventListener('abort', aborted);
    const poll = async () => {
      try {
        /** @type {JobRecord} */
        const r = await api(`api/jobs/${id}`, { signal });
        onProgress(r);
        if (['succeeded', 'failed', 'cancelled'].includes(r.status ?? '')) {
          stop();
          resolve(r);
        } else timer = setTimeout(poll, POLL_MS);
      } catch (e) {
        stop();
        if (!isAbort(e)) reject(e);
      }
    };
    if (typeof EventSource !== 'function') return poll();
    const events = new EventSource(`api/jobs/${id}/events`);
    source = events;
    events.addEventListener('progress', (ev) => onProgress(JSON.parse(ev.data)));
    events.addEventListener('end', () => {
      events.close();
      source = null;
      poll(); // the final record, with the result
    });
    events.onerror = () => {
      if (!source) return;
      events.close();
      source = null;
      poll();
    };
  });
}

/**
 * Run `request` as a job of `kind`; `onProgress({status, progress: {done, total}})` as it advances.
 * Resolves to the result; rejects with ApiError (a failed job, paths as in the request) or AbortError (the
 * signal aborted: the job is cancelled on the server first). `onSubmitted(id)` hears the job's id once it is queued.
 * @param {string} kind
 * @param {unknown} request
 * @param {{ onProgress?: (record: JobRecord) => void, signal: AbortSignal, onSubmitted?: (id: string) => void }} options
 * @returns {Promise<any>} the job's result (its shape is the kind's: callers name it)
 */
export async function runJob(kind, request, { onProgress = () => {}, signal, onSubmitted = () => {} }) {
  /** @type {{ id: string } & JobRecord} */
  const started = await api('api/jobs', { body: { kind, request }, signal });
  onSubmitted(started.id);
  onProgress(started);
  let record;
  try {
    record = await waitForEnd(started.id, onProgress, signal);
  } catch (e) {
    if (isAbort(e)) await fetch(`api/jobs/${started.id}`, { method: 'DELETE' }).catch(() => {});
    throw e;
  }
  if (record.status === 'succeeded') return record.result;
  if (record.status === 'cancelled') throw new DOMException('cancelled', 'AbortError');
  throw jobError(record);
}

/**
 * Whether a rejection is a cancellation (an aborted fetch or job), not a failure.
 * @param {unknown} e
 */
export function isAbort(e) {
  return e instanceof DOMException && e.name === 'AbortError';
}

/**
 * A progress bar with a Cancel button in `host`: `update(record)` fills it from the job's progress,
 * `done()` removes it. Cancel calls `cancel()`.
 * @param {HTMLElement} host
 * @param {string} label
 * @param {() => void} cancel
 */
export function progressBar(host, label, cancel) {
  const bar = h('progress', { max: 1, value: 0, 'aria-label': `${label}: fraction done` });
  const text = h('span', { class: 'small-text' }, 'submitted');
  const button = h('button', { type: 'button', class: 'small job-cancel', onclick: cancel }, 'Cancel');
  const box = h('div', { class: 'job-progress' }, bar, text, button);
  host.replaceChildren(box);
  host.hidden = false;
  return {
    /** @param {JobRecord} r */
    update(r) {
      const p = r.progress;
      if (p && p.total > 0) {
        bar.value = p.done / p.total;
        text.textContent = `${r.status} · ${p.done} / ${p.total}`;
      } else text.textContent = r.status ?? '';
      box.dataset.status = r.status ?? '';
    },
    done() {
      host.replaceChildren();
      host.hidden = true;
    },
  };
}
