// The immunopd web client: pick a model, edit parameters, build therapy arms, run them through
// POST /api/compare and plot them. The whole view lives in the URL hash, so a link reproduces it.
import { api, ApiError, fmt, numText, formatPath, download, readHash, writeHash, h, debounce } from './util.js';
import { drawPlots, clearPlots, metricsTable, seriesCatalog, defaultExtra, ARM_COLORS } from './plots.js';

const $ = (id) => document.getElementById(id);
const MAX_ARMS = 12;
const DEFAULT_END = { day: 365, days: 365, week: 52, weeks: 52, h: 24 * 28, hour: 24 * 28, hours: 24 * 28, month: 24, year: 5 };
const DRUG_CLASS = {
  pembrolizumab: 'anti-PD-1', nivolumab: 'anti-PD-1', atezolizumab: 'anti-PD-L1', ipilimumab: 'anti-CTLA-4',
  aldesleukin: 'IL-2', 'interferon alfa-2b': 'IFN-α', 'CAR-T cells': 'CAR-T', 'peptide vaccine': 'vaccine',
};

/** The view: everything here goes into the URL hash. */
const state = {
  model: '',
  preset: '',
  params: {},
  end: 365,
  step: 1,
  weight: 70,
  tumorScale: 'log',
  arms: [],
  /** Names plotted under "other series"; null = the model's default choice. */
  extra: null,
};

let models = [];
let therapies = [];
let spec = null; // the current model file
let last = null; // last /api/compare response
let lastBody = null;
let inflight = null;
let runSeq = 0;

// ---------------------------------------------------------------- state ↔ URL

function saveHash() {
  writeHash({
    model: state.model,
    ...(state.preset ? { preset: state.preset } : {}),
    ...(Object.keys(state.params).length ? { params: state.params } : {}),
    end: state.end, step: state.step,
    ...(state.weight !== 70 ? { weight: state.weight } : {}),
    ...(state.tumorScale !== 'log' ? { tumorScale: state.tumorScale } : {}),
    arms: state.arms.map((a) => ({ name: a.name, ...(a.autoName ? { auto: 1 } : {}), ...(a.therapies.length ? { therapies: a.therapies } : {}), ...(a.doses.length ? { doses: a.doses } : {}) })),
    ...(state.extra ? { extra: state.extra } : {}),
  });
}

const num = (v, d) => (typeof v === 'number' ? v : v === null ? NaN : d);

function restore(saved) {
  state.preset = typeof saved.preset === 'string' ? saved.preset : '';
  state.params = {};
  if (saved.params && typeof saved.params === 'object') for (const [k, v] of Object.entries(saved.params)) state.params[k] = num(v, NaN);
  state.end = num(saved.end, state.end);
  state.step = num(saved.step, state.step);
  state.weight = num(saved.weight, 70);
  state.tumorScale = saved.tumorScale === 'linear' ? 'linear' : 'log';
  if (Array.isArray(saved.arms) && saved.arms.length) {
    state.arms = saved.arms.slice(0, MAX_ARMS).map((a, i) => ({
      name: typeof a.name === 'string' ? a.name : `Arm ${i + 1}`,
      autoName: Boolean(a.auto),
      therapies: Array.isArray(a.therapies) ? a.therapies.filter((t) => typeof t === 'string') : [],
      doses: Array.isArray(a.doses) ? a.doses.filter((d) => d && typeof d === 'object').map((d) => ({ ...d })) : [],
    }));
  }
  state.extra = Array.isArray(saved.extra) ? saved.extra.filter((s) => typeof s === 'string') : null;
}

// ---------------------------------------------------------------- model

function niceStep(end) {
  const raw = end / 400;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return raw;
}

async function loadModel(id, saved) {
  setStatus('Loading model…');
  spec = await api(`api/models/${encodeURIComponent(id)}`);
  const switching = state.model && state.model !== id;
  state.model = id;
  const unit = spec.timeUnit ?? 'day';
  if (saved || !switching) {
    // Defaults first; a saved view (a link, possibly partial) goes over them.
    state.preset = '';
    state.params = {};
    state.end = DEFAULT_END[unit] ?? 100;
    state.step = niceStep(state.end);
    state.weight = 70;
    state.tumorScale = 'log';
    state.extra = null;
    state.arms = [{ name: 'Untreated', autoName: true, therapies: [], doses: [] }];
    if (saved) restore(saved);
  } else {
    // Another model: its own parameters and time scale; the arms stay (what the model can take of them).
    state.preset = '';
    state.params = {};
    state.end = DEFAULT_END[unit] ?? 100;
    state.step = niceStep(state.end);
    state.extra = null;
    if (!state.arms.length) state.arms = [{ name: 'Untreated', autoName: true, therapies: [], doses: [] }];
  }
  // Keep only the therapies and doses this model can take.
  const states = new Set(Object.keys(spec.states));
  for (const a of state.arms) {
    a.therapies = a.therapies.filter((t) => usableTherapies().some((u) => u.id === t));
    a.doses = a.doses.filter((d) => states.has(d.target));
    if (a.autoName) a.name = autoName(a, state.arms.indexOf(a));
  }
  if (spec.presets?.[state.preset] === undefined) state.preset = '';
  renderAll();
}

function usableTherapies() {
  const states = new Set(Object.keys(spec?.states ?? {}));
  return therapies.filter((t) => t.targets.every((s) => states.has(s)));
}

function autoName(arm, index) {
  if (!arm.therapies.length && !arm.doses.length) return index === 0 ? 'Untreated' : `Arm ${index + 1}`;
  if (!arm.therapies.length) return `Arm ${index + 1}`;
  const drugs = [...new Set(arm.therapies.map((id) => therapies.find((t) => t.id === id)?.drug ?? id))];
  return drugs.join(' + ');
}

// ---------------------------------------------------------------- rendering

function renderAll() {
  $('model').value = state.model;
  $('model-title').textContent = spec.title ?? '';
  $('model-title').title = [spec.description, ...[spec.reference ?? []].flat()].filter(Boolean).join('\n\n');
  for (const el of document.querySelectorAll('[data-time-unit]')) el.textContent = `(${spec.timeUnit ?? 'day'})`;
  $('end').value = state.end;
  $('step').value = state.step;
  $('weight').value = state.weight;
  $('tumor-scale').value = state.tumorScale;
  const presets = Object.entries(spec.presets ?? {});
  $('preset-row').hidden = !presets.length;
  $('preset').replaceChildren(h('option', { value: '' }, 'model defaults'), ...presets.map(([k, p]) => h('option', { value: k, title: p.description ?? '' }, k)));
  $('preset').value = state.preset;
  renderParams();
  renderArms();
  renderSeriesPicker();
}

function paramDefault(name) {
  const p = spec.presets?.[state.preset]?.parameters?.[name];
  return p ?? spec.parameters[name].value;
}

function paramValue(name) {
  return name in state.params ? state.params[name] : paramDefault(name);
}

/** Slider geometry: log10 for log-scale or rate-like parameters, linear otherwise. */
function sliderSpec(p) {
  const v = p.value;
  const rateLike = /^1\s*\/|\/\s*(day|d|h|hour|min|week|s)$/i.test(p.unit ?? '');
  const log = (p.scale === 'log' || (p.scale === undefined && rateLike)) && v > 0;
  let lo = p.min;
  let hi = p.max;
  if (log) {
    if (!(lo > 0)) lo = v / 100;
    if (!(hi > lo)) hi = v * 100;
    return { log, lo: Math.log10(lo), hi: Math.log10(hi) };
  }
  if (lo === undefined) lo = v < 0 ? 2 * v : 0;
  if (hi === undefined || !(hi > lo)) hi = v > 0 ? 2 * v : v < 0 ? 0 : lo + 1;
  return { log, lo, hi };
}

function renderParams() {
  const list = $('params');
  const filter = $('param-filter').value.trim().toLowerCase();
  const rows = Object.entries(spec.parameters).map(([name, p]) => {
    const sl = sliderSpec(p);
    const toSlider = (v) => (sl.log ? Math.log10(Math.max(v, 10 ** sl.lo)) : v);
    const fromSlider = (s) => Number((sl.log ? 10 ** s : s).toPrecision(4));
    const value = paramValue(name);
    const numberInput = h('input', { type: 'number', step: 'any', value: numText(value), 'aria-label': `${name} value`, 'data-param': name });
    const slider = h('input', {
      type: 'range', min: String(sl.lo), max: String(sl.hi), step: String((sl.hi - sl.lo) / 500),
      value: String(toSlider(value)), 'aria-label': `${name} slider${sl.log ? ' (log scale)' : ''}`, tabindex: '-1',
    });
    const reset = h('button', { type: 'button', class: 'reset', title: `Reset to ${fmt(paramDefault(name), 4)}`, 'aria-label': `Reset ${name}` }, '↺');
    const row = h('div', { class: `param${name in state.params ? ' changed' : ''}`, 'data-name': name },
      h('div', { class: 'pname', title: [p.description, p.source ? `Source: ${p.source}` : ''].filter(Boolean).join('\n') },
        h('span', { class: 'name' }, name), ' ', h('span', { class: 'unit' }, p.unit && p.unit !== '1' ? p.unit : ''),
        sl.log ? h('span', { class: 'tag', title: 'slider on a log scale' }, 'log') : null,
        h('span', { class: 'desc' }, p.description ?? ''), reset),
      h('div', { class: 'pctl' }, slider, numberInput));
    const set = (v, from) => {
      if (Number.isFinite(v) && v === paramDefault(name)) delete state.params[name];
      else state.params[name] = v;
      row.classList.toggle('changed', name in state.params);
      if (from !== 'number') numberInput.value = numText(v);
      if (from !== 'slider' && Number.isFinite(v)) slider.value = String(toSlider(v));
      changed();
    };
    slider.addEventListener('input', () => set(fromSlider(Number(slider.value)), 'slider'));
    numberInput.addEventListener('input', () => set(numberInput.value.trim() === '' ? NaN : Number(numberInput.value), 'number'));
    reset.addEventListener('click', () => set(paramDefault(name), 'reset'));
    const text = `${name} ${p.unit ?? ''} ${p.description ?? ''}`.toLowerCase();
    row.hidden = Boolean(filter) && !text.includes(filter);
    return row;
  });
  list.replaceChildren(...rows);
}

function doseRow(arm, dose) {
  const stateNames = Object.keys(spec.states);
  const field = (key, label, attrs = {}) => {
    const input = h('input', { type: 'number', step: 'any', value: dose[key] ?? '', placeholder: attrs.placeholder ?? '', 'aria-label': label, title: label, class: `d-${key}` });
    input.addEventListener('input', () => {
      const v = input.value.trim();
      if (v === '') delete dose[key];
      else dose[key] = Number(v);
      changed();
    });
    return h('label', { class: 'dfield' }, h('span', {}, attrs.short ?? label), input);
  };
  const target = h('select', { 'aria-label': 'dose target state', class: 'd-target' }, ...stateNames.map((s) => h('option', { value: s, title: spec.states[s].description ?? '' }, s)));
  target.value = dose.target;
  target.addEventListener('change', () => {
    dose.target = target.value;
    renderArms();
    changed();
  });
  const unit = spec.states[dose.target]?.unit ?? '';
  const tu = spec.timeUnit ?? 'day';
  const remove = h('button', { type: 'button', class: 'icon', title: 'Remove this dose', 'aria-label': 'Remove dose' }, '×');
  remove.addEventListener('click', () => {
    arm.doses.splice(arm.doses.indexOf(dose), 1);
    renderArms();
    changed();
  });
  return h('div', { class: 'dose' },
    h('label', { class: 'dfield' }, h('span', {}, 'into'), target),
    field('amount', `amount (${unit || 'model units'})`, { short: `amount${unit && unit !== '1' ? ` (${unit})` : ''}` }),
    field('start', `first dose time (${tu})`, { short: `start (${tu})` }),
    field('every', `interval between doses (${tu})`, { short: `every (${tu})` }),
    field('count', 'number of doses', { short: 'count', placeholder: '1' }),
    field('duration', `infusion duration (${tu}; empty = bolus)`, { short: `infusion (${tu})`, placeholder: 'bolus' }),
    remove);
}

function renderArms() {
  const usable = usableTherapies();
  const byDrug = new Map();
  for (const t of usable) byDrug.set(t.drug, [...(byDrug.get(t.drug) ?? []), t]);
  const cards = state.arms.map((arm, i) => {
    const color = ARM_COLORS[i % ARM_COLORS.length];
    const name = h('input', { type: 'text', value: arm.name, class: 'arm-name', 'aria-label': `Arm ${i + 1} name`, maxlength: '100' });
    name.addEventListener('input', () => {
      arm.name = name.value;
      arm.autoName = false;
      changed();
    });
    const remove = h('button', { type: 'button', class: 'icon', title: 'Remove this arm', 'aria-label': `Remove arm ${arm.name}`, disabled: state.arms.length === 1 }, '×');
    remove.addEventListener('click', () => {
      state.arms.splice(i, 1);
      renderArms();
      changed();
    });
    const chips = arm.therapies.map((id) => {
      const t = therapies.find((x) => x.id === id);
      const x = h('button', { type: 'button', class: 'chip-x', 'aria-label': `Remove ${id}`, title: 'Remove' }, '×');
      x.addEventListener('click', () => {
        arm.therapies = arm.therapies.filter((k) => k !== id);
        if (arm.autoName) arm.name = autoName(arm, i);
        renderArms();
        changed();
      });
      return h('span', { class: 'chip', title: t ? `${t.title}\n\n${t.source}${t.notes ? `\n\n${t.notes}` : ''}` : id }, id, x);
    });
    const add = h('select', { class: 'add-therapy', 'aria-label': `Add a therapy preset to ${arm.name}`, disabled: !usable.length },
      h('option', { value: '' }, usable.length ? '+ therapy preset…' : 'no therapy presets for this model'),
      ...[...byDrug].map(([drug, list]) => h('optgroup', { label: `${drug}${DRUG_CLASS[drug] ? ` (${DRUG_CLASS[drug]})` : ''}` },
        ...list.map((t) => h('option', { value: t.id, disabled: arm.therapies.includes(t.id), title: t.source }, t.title)))));
    add.addEventListener('change', () => {
      if (!add.value) return;
      arm.therapies.push(add.value);
      if (arm.autoName) arm.name = autoName(arm, i);
      renderArms();
      changed();
    });
    const addDose = h('button', { type: 'button', class: 'link' }, '+ dose by hand');
    addDose.addEventListener('click', () => {
      const names = Object.keys(spec.states);
      const target = names.find((s) => /c$/.test(s)) ?? names.find((s) => /^(Cd|Cp|A|IL|IL2|VAC|D)$/.test(s)) ?? names[0];
      arm.doses.push({ target, amount: 1, start: 0 });
      renderArms();
      changed();
    });
    return h('div', { class: 'arm', style: `border-left-color:${color}`, 'data-arm': String(i) },
      h('div', { class: 'arm-head' }, h('span', { class: 'swatch', style: `background:${color}` }), name, remove),
      chips.length ? h('div', { class: 'chips' }, chips) : null,
      h('div', { class: 'arm-add' }, add, addDose),
      arm.doses.length ? h('div', { class: 'doses' }, arm.doses.map((d) => doseRow(arm, d))) : null);
  });
  $('arms').replaceChildren(...cards);
  $('add-arm').disabled = state.arms.length >= MAX_ARMS;
}

function renderSeriesPicker() {
  const chosen = new Set(state.extra ?? defaultExtra(spec));
  const boxes = seriesCatalog(spec).map((s) => {
    const box = h('input', { type: 'checkbox', checked: chosen.has(s.name), value: s.name });
    box.addEventListener('change', () => {
      const now = new Set(state.extra ?? defaultExtra(spec));
      if (box.checked) now.add(s.name);
      else now.delete(s.name);
      state.extra = [...now];
      saveHash();
      redraw();
    });
    return h('label', { class: 'series', title: s.label }, box, h('span', { class: 'mono' }, s.name), h('span', { class: 'muted' }, ` ${s.label !== s.name ? s.label : ''}${s.unit && s.unit !== '1' ? ` (${s.unit})` : ''}`));
  });
  $('series-pick').replaceChildren(...boxes);
}

// ---------------------------------------------------------------- running

function requestBody() {
  const dose = (d) => {
    const out = { target: d.target };
    for (const k of ['amount', 'start', 'every', 'count', 'duration']) if (d[k] !== undefined) out[k] = d[k];
    return out;
  };
  return {
    model: state.model,
    times: { start: 0, end: state.end, step: state.step },
    ...(Object.keys(state.params).length ? { parameters: { ...state.params } } : {}),
    ...(state.preset ? { preset: state.preset } : {}),
    weight: state.weight,
    arms: state.arms.map((a) => ({
      name: a.name,
      ...(a.therapies.length ? { therapies: a.therapies } : {}),
      ...(a.doses.length ? { doses: a.doses.map(dose) } : {}),
    })),
  };
}

function setStatus(text) {
  $('status').textContent = text;
}

function showError(e) {
  const box = $('error');
  if (!e) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const kind = e instanceof ApiError
    ? e.status === 422 ? 'Could not solve' : e.status === 413 ? 'Request too large' : e.status >= 500 ? 'Server error' : e.status === 0 ? 'No connection' : 'Invalid input'
    : 'Error';
  // With issues that name fields, list them (path and message); otherwise the message alone.
  const issues = e instanceof ApiError ? e.issues.filter((i) => i.path?.length) : [];
  box.replaceChildren(...[
    h('strong', {}, `${kind}${e.status ? ` (${e.status})` : ''}${issues.length ? '' : ':'} `),
    issues.length ? null : h('span', { class: 'error-message' }, e.message),
    issues.length ? h('ul', {}, issues.map((i) => h('li', {}, h('code', {}, formatPath(i.path)), ' ', i.message))) : null,
  ].filter(Boolean));
  box.hidden = false;
}

async function run() {
  if (!spec) return;
  saveHash();
  inflight?.abort();
  const ctl = new AbortController();
  inflight = ctl;
  const seq = ++runSeq;
  const body = requestBody();
  const t0 = performance.now();
  setStatus('Running…');
  document.body.classList.add('busy');
  document.body.dataset.state = 'running';
  try {
    const res = await api('api/compare', { body, signal: ctl.signal });
    if (seq !== runSeq) return;
    last = res;
    lastBody = body;
    showError(null);
    redraw();
    const solverMs = res.arms.reduce((s, a) => s + a.result.solver.ms, 0);
    setStatus(`${res.arms.length} arm${res.arms.length > 1 ? 's' : ''} · ${res.arms[0].result.times.length} points · solver ${fmt(solverMs, 2)} ms · total ${Math.round(performance.now() - t0)} ms`);
    $('plots').classList.remove('stale');
    document.body.dataset.runs = String(Number(document.body.dataset.runs ?? 0) + 1);
    document.body.dataset.state = 'ok';
  } catch (e) {
    if (e.name === 'AbortError' || seq !== runSeq) return;
    showError(e);
    setStatus('');
    $('plots').classList.add('stale');
    document.body.dataset.state = 'error';
  } finally {
    if (seq === runSeq) document.body.classList.remove('busy');
  }
}

const runSoon = debounce(run, 250);

function changed() {
  saveHash();
  runSoon();
}

function redraw() {
  if (!last || !spec || last.model !== spec.id) return;
  if (!window.Plotly) {
    window.addEventListener('load', redraw, { once: true });
    return;
  }
  drawPlots($('plots'), spec, last, { tumorScale: state.tumorScale, extra: state.extra ?? defaultExtra(spec) });
  const tumorOut = spec.outputs?.tumor;
  const tumorUnit = typeof tumorOut === 'object' ? tumorOut.unit : (last.metrics.rows[0]?.tumorUnit ?? '');
  $('metrics').innerHTML = metricsTable(last.metrics, spec.timeUnit ?? 'day', tumorUnit);
}

// ---------------------------------------------------------------- wiring

function bind() {
  $('model').addEventListener('change', async () => {
    try {
      last = null;
      clearPlots($('plots'));
      await loadModel($('model').value);
      run();
    } catch (e) {
      showError(e);
    }
  });
  $('run').addEventListener('click', run);
  const numberField = (id, key) => $(id).addEventListener('input', () => {
    const v = $(id).value.trim();
    state[key] = v === '' ? NaN : Number(v);
    changed();
  });
  numberField('end', 'end');
  numberField('step', 'step');
  numberField('weight', 'weight');
  $('preset').addEventListener('change', () => {
    state.preset = $('preset').value;
    renderParams();
    changed();
  });
  $('tumor-scale').addEventListener('change', () => {
    state.tumorScale = $('tumor-scale').value;
    saveHash();
    redraw();
  });
  $('param-filter').addEventListener('input', () => {
    const f = $('param-filter').value.trim().toLowerCase();
    for (const row of $('params').children) {
      const p = spec.parameters[row.dataset.name];
      row.hidden = Boolean(f) && !`${row.dataset.name} ${p.unit ?? ''} ${p.description ?? ''}`.toLowerCase().includes(f);
    }
  });
  $('reset-all').addEventListener('click', () => {
    state.params = {};
    renderParams();
    changed();
  });
  $('add-arm').addEventListener('click', () => {
    if (state.arms.length >= MAX_ARMS) return;
    const arm = { name: '', autoName: true, therapies: [], doses: [] };
    state.arms.push(arm);
    arm.name = autoName(arm, state.arms.length - 1);
    renderArms();
    changed();
    $('arms').lastElementChild?.querySelector('.add-therapy')?.focus();
  });
  $('dl-csv').addEventListener('click', async () => {
    if (!lastBody) return showError(new Error('run a simulation first'));
    try {
      const csv = await api('api/compare?format=csv', { body: lastBody, accept: 'text/csv' });
      download(`immunopd-${state.model}.csv`, csv, 'text/csv');
    } catch (e) {
      showError(e);
    }
  });
  $('dl-json').addEventListener('click', () => {
    if (!last) return showError(new Error('run a simulation first'));
    download(`immunopd-${state.model}.json`, JSON.stringify({ request: lastBody, response: last }), 'application/json');
  });
  $('copy-link').addEventListener('click', async () => {
    saveHash();
    try {
      await navigator.clipboard.writeText(location.href);
      setStatus('Link copied: it reproduces this view');
    } catch {
      window.prompt('Copy this link:', location.href);
    }
  });
  window.addEventListener('hashchange', async () => {
    const saved = readHash();
    if (!saved) return;
    try {
      if (saved.model && saved.model !== state.model) state.model = '';
      await loadModel(saved.model && models.some((m) => m.id === saved.model) ? saved.model : state.model || models[0].id, saved);
      run();
    } catch (e) {
      showError(e);
    }
  });
}

async function init() {
  try {
    const [m, t] = await Promise.all([api('api/models'), api('api/therapies')]);
    models = m.models;
    therapies = t.therapies;
    $('model').replaceChildren(...models.map((x) => h('option', { value: x.id, title: x.title }, x.id)));
    const saved = readHash();
    const id = saved && models.some((x) => x.id === saved.model) ? saved.model : m.default;
    bind();
    await loadModel(id, saved);
    await run();
  } catch (e) {
    showError(e);
  }
}

init();
