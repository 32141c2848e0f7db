// Small helpers: number formatting, the API client (errors carry the API's issues), the URL hash state.

/** A number for people: 3 significant digits, exponent form for very large or small values. */
export function fmt(x, digits = 3) {
  if (x === null || x === undefined) return '–';
  if (typeof x !== 'number') return String(x);
  if (!Number.isFinite(x)) return '–';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e5 || a < 1e-3) return x.toExponential(digits - 1).replace('e+', 'e');
  return String(Number(x.toPrecision(digits)));
}

/** A number for an input field: exact, in exponent form when long (1e12, 5e-4). */
export function numText(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '';
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e6 || a < 1e-4) ? v.toExponential().replace('e+', 'e') : String(v);
}

/** "arms[1].doses[0].amount" from ["arms", 1, "doses", 0, "amount"]. */
export function formatPath(path) {
  let s = '';
  for (const p of path ?? []) {
    if (typeof p === 'number') s += `[${p}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(p)) s += s ? `.${p}` : p;
    else s += `[${JSON.stringify(p)}]`;
  }
  return s || '(request)';
}

export class ApiError extends Error {
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
  const early = body === undefined && accept === 'application/json' ? window.__immunopdBoot?.get?.[path] : undefined;
  if (early) {
    delete window.__immunopdBoot.get[path];
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
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, { error: { message: `cannot reach the server (${e.message})` } });
  }
  return readResponse(res);
}

/** A fetch Response as the API's payload (JSON or text); non-2xx → ApiError with the API's message and issues. */
export async function readResponse(res) {
  const isJson = (res.headers.get('content-type') ?? '').includes('json');
  const payload = isJson ? await res.json().catch(() => null) : await res.text();
  if (!res.ok) throw new ApiError(res.status, isJson ? payload : { error: { message: `HTTP ${res.status}` } });
  return payload;
}

/** Save text as a file. */
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

export function writeHash(obj) {
  const h = `#s=${encodeURIComponent(JSON.stringify(obj))}`;
  if (location.hash !== h) history.replaceState(null, '', h);
}

/** Element builder: h('div', {class: 'x', onclick: f}, child, 'text'). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export function debounce(fn, ms) {
  let t;
  return (...a) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...a), ms);
  };
}
