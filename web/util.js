// Small helpers: number formatting, the API client (errors carry the API's issues), the URL hash state.

/**
 * A number for people: 3 significant digits, exponent form for very large or small values.
 * @param {unknown} x a number (anything else is shown as text; null, undefined and non-finite as a dash)
 * @param {number} [digits]
 */
export function fmt(x, digits = 3) {
  if (x === null || x === undefined) return '–';
  if (typeof x !== 'number') return String(x);
  if (!Number.isFinite(x)) return '–';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e5 || a < 1e-3) return x.toExponential(digits - 1).replace('e+', 'e');
  return String(Number(x.toPrecision(digits)));
}

/**
 * A number for an input field: exact, in exponent form when long (1e12, 5e-4).
 * @param {unknown} v
 */
export function numText(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '';
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e6 || a < 1e-4) ? v.toExponential().replace('e+', 'e') : String(v);
}

/**
 * "arms[1].doses[0].amount" from ["arms", 1, "doses", 0, "amount"].
 * @param {readonly (string | number)[] | undefined} path
 */
export function formatPath(path) {
  let s = '';
  for (const p of path ?? []) {
    if (typeof p === 'number') s += `[${p}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(p)) s += s ? `.${p}` : p;
    else s += `[${JSON.stringify(p)}]`;
  }
  return s || '(request)';
}

/** @typedef {import('./types').Issue} Issue */
/** The API's error body (Contract 5): {error: {message, issues, reason?, timeReached?}}. */
/** @typedef {{ error?: { message?: string, issues?: Issue[], reason?: string, timeReached?: number | null } }} ErrorBody */

export class ApiError extends Error {
  /**
   * @param {number} status the HTTP status (0: the server could not be reached)
   * @param {ErrorBody | null | undefined} body
   */
  constructor(status, body) {
    const e = body?.error ?? {};
    super(e.message ?? `HTTP ${status}`);
    this.status = status;
    this.issues = Array.isArray(e.issues) ? e.issues : [];
    this.reason = e.reason;
    this.timeReached = e.timeReached;
  }
}

/**
 * fetch JSON (or text) from the API; non-2xx → ApiError with the API's message and issues.
 * @param {string} path
 * @param {{ body?: unknown, signal?: AbortSignal, accept?: string }} [options] a body makes it a POST (as JSON)
 * @returns {Promise<any>} the API's payload (parsed JSON, or text for other types)
 */
export async function api(path, { body, signal, accept = 'application/json' } = {}) {
  // A GET the page's inline script already sent (the first load's model list, therapies, model file): used once.
  const boot = window.__immunopdBoot;
  const early = body === undefined && accept === 'application/json' ? boot?.get?.[path] : undefined;
  if (boot && early) {
    delete boot.get[path];
    try {
      return await readResponse(await early);
    } catch (e) {
      if (e instanceof ApiError) throw e;
      // the early request failed on the network: ask again below
    }
  }
  let res;
  try {
    res = await fetch(path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { Accept: accept, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, {
      error: { message: `cannot reach the server (${e instanceof Error ? e.message : String(e)})` },
    });
  }
  return readResponse(res);
}

/**
 * A fetch Response as the API's payload (JSON or text); non-2xx → ApiError with the API's message and issues.
 * @param {Response} res
 * @returns {Promise<any>} parsed JSON (its shape is the route's: callers name it) or text
 */
export async function readResponse(res) {
  const isJson = (res.headers.get('content-type') ?? '').includes('json');
  const payload = isJson ? await res.json().catch(() => null) : await res.text();
  if (!res.ok) throw new ApiError(res.status, isJson ? payload : { error: { message: `HTTP ${res.status}` } });
  return payload;
}

/**
 * Save text as a file.
 * @param {string} name
 * @param {string} text
 * @param {string} type a MIME type
 */
export function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function readHash() {
  const h = location.hash.replace(/^#/, '');
  if (!h.startsWith('s=')) return null;
  try {
    return JSON.parse(decodeURIComponent(h.slice(2)));
  } catch {
    return null;
  }
}

/** @param {unknown} obj the view's state, kept in the URL */
export function writeHash(obj) {
  const h = `#s=${encodeURIComponent(JSON.stringify(obj))}`;
  if (location.hash !== h) history.replaceState(null, '', h);
}

/** A child of h(): a node, text or a number; null, undefined and false are skipped; arrays are flattened. */
/** @typedef {Node | string | number | null | undefined | false | Child[]} Child */

/**
 * Element builder: h('div', {class: 'x', onclick: f}, child, 'text'). Attributes named on... are listeners;
 * `class` is the class name; a non-string value of an element property (hidden, value, checked) is set as
 * the property; anything else as an attribute (true: present and empty).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, unknown>} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), /** @type {EventListener} */ (v));
    else if (k === 'class') el.className = String(v);
    else if (k in el && typeof v !== 'string') Reflect.set(el, k, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat())
    if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/**
 * `fn` called once `ms` after the last of a burst of calls.
 * @template {unknown[]} A
 * @param {(...args: A) => void} fn
 * @param {number} ms
 * @returns {(...args: A) => void}
 */
export function debounce(fn, ms) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let t;
  return (...a) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...a), ms);
  };
}
