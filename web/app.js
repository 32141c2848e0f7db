// The immunopd web client: pick a model, edit parameters, build therapy arms, run them through
// POST /api/compare and plot them. The whole view lives in the URL hash, so a link reproduces it.
import {
  api,
  ApiError,
  readResponse,
  fmt,
  numText,
  formatPath,
  download,
  readHash,
  writeHash,
  h,
  debounce,
} from './util.js';
import { drawPlots, clearPlots, metricsTable, seriesCatalog, defaultExtra, ARM_COLORS } from './plots.js';
import { validateView, markInvalid } from './validate.js';
import { setupAnalysis } from './analysis.js';
import { isAbort } from './jobs.js';

/**
 * @typedef {import('./types').ModelFile} ModelFile
 * @typedef {import('./types').ViewState} ViewState
 * @typedef {import('./types').ArmState} ArmState
 * @typedef {import('./types').HandDose} HandDose
 * @typedef {import('./types').CompareBody} CompareBody
 * @typedef {import('./types').CompareResponse} CompareResponse
 * @typedef {import('./types').Therapy} Therapy
 * @typedef {import('./types').Problem} Problem
 */

/**
 * An element of the page by id. Typed as an input because the ids looked up are form controls (inputs,
 * selects, textareas, buttons) or containers, whose shared properties (value, checked, disabled) are used.
 * @type {(id: string) => HTMLInputElement}
 */
const $ = (id) => /** @type {HTMLInputElement} */ (document.getElementById(id));
const MAX_ARMS = 12;
/** @type {Record<string, number>} */
const DEFAULT_END = {
  day: 365,
  days: 365,
  week: 52,
  weeks: 52,
  h: 24 * 28,
  hour: 24 * 28,
  hours: 24 * 28,
  month: 24,
  year: 5,
};
/** Runs taking longer than this show a progress bar with a Cancel button. */
const PROGRESS_AFTER_MS = 300;

/** @type {ViewState} the view: everything here goes into the URL hash */
const state = {
  model: '',
  preset: '',
  params: {},
  end: 365,
  step: 1,
  weight: 70,
  tumorScale: 'log',
  drugScale: 'log',
  arms: [],
  /** Names plotted under "other series"; null = the model's default choice. */
  extra: null,
};

/** @type {import('./types').ModelListEntry[]} */
let models = [];
/** @type {Therapy[]} */
let therapies = [];
/** @type {ModelFile | null} the current model file */
let spec = null;
/** @type {CompareResponse | null} the last /api/compare response */
let last = null;
/** @type {CompareBody | null} */
let lastBody = null;
/** @type {AbortController | null} */
let inflight = null;
let runSeq = 0;

/**
 * The current model file, for code that runs only once one is loaded (rendering, the controls' handlers:
 * loadModel sets it before it renders anything).
 * @returns {ModelFile}
 */
function loaded() {
  if (!spec) throw new Error('no model is loaded');
  return spec;
}

// ---------------------------------------------------------------- state ↔ URL

/** The rows of the parameter table (one per model parameter, data-name = the parameter's name). */
function paramRows() {
  return /** @type {HTMLCollectionOf<HTMLElement>} */ ($('params').children);
}

function saveHash() {
  writeHash({
    model: state.model,
    ...(state.preset ? { preset: state.preset } : {}),
    ...(Object.keys(state.params).length ? { params: state.params } : {}),
    end: state.end,
    step: state.step,
    ...(state.weight !== 70 ? { weight: state.weight } : {}),
    ...(state.tumorScale !== 'log' ? { tumorScale: state.tumorScale } : {}),
    ...(state.drugScale !== 'log' ? { drugScale: state.drugScale } : {}),
    arms: state.arms.map((a) => ({
      name: a.name,
      ...(a.autoName ? { auto: 1 } : {}),
      ...(a.therapies.length ? { therapies: a.therapies } : {}),
      ...(a.doses.length ? { doses: a.doses } : {}),
    })),
    ...(state.extra ? { extra: state.extra } : {}),
  });
}

/** A saved number: null (NaN in JSON) stays NaN, anything else not a number is the default. */
const num = (/** @type {unknown} */ v, /** @type {number} */ d) => (typeof v === 'number' ? v : v === null ? NaN : d);

/**
 * The view from a link's saved state (any JSON: every field is checked).
 * @param {any} saved the parsed URL hash (unchecked JSON, read field by field)
 */
function restore(saved) {
  state.preset = typeof saved.preset === 'string' ? saved.preset : '';
  state.params = {};
  if (saved.params && typeof saved.params === 'object')
    for (const [k, v] of Object.entries(saved.params)) state.params[k] = num(v, NaN);
  state.end = num(saved.end, state.end);
  state.step = num(saved.step, state.step);
  state.weight = num(saved.weight, 70);
  state.tumorScale = saved.tumorScale === 'linear' ? 'linear' : 'log';
  state.drugScale = saved.drugScale === 'linear' ? 'linear' : 'log';
  if (Array.isArray(saved.arms) && saved.arms.length) {
    state.arms = saved.arms.slice(0, MAX_ARMS).map((/** @type {any} */ a, /** @type {number} */ i) => ({
      name: typeof a.name === 'string' ? a.name : `Arm ${i + 1}`,
      autoName: Boolean(a.auto),
      therapies: Array.isArray(a.therapies)
        ? a.therapies.filter((/** @type {unknown} */ t) => typeof t === 'string')
        : [],
      doses: Array.isArray(a.doses)
        ? a.doses
            .filter((/** @type {unknown} */ d) => d && typeof d === 'object')
            .map((/** @type {HandDose} */ d) => ({ ...d }))
        : [],
      stash: { therapies: [], doses: [] },
    }));
  }
  state.extra = Array.isArray(saved.extra)
    ? saved.extra.filter((/** @type {unknown} */ s) => typeof s === 'string')
    : null;
}

// ---------------------------------------------------------------- model

/** A round output step giving about 400 points up to `end`. @param {number} end */
function niceStep(end) {
  const raw = end / 400;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return raw;
}

/**
 * The first comparison of a plain visit (no link), asked for before the model file arrives: its request
 * is what the default view will send (checked by equality before use), so the first plot waits for one
 * round trip instead of three.
 */
/** @type {{ key: string, promise: Promise<CompareResponse> } | null} */
let speculative = null;
function speculate() {
  // The inline script of index.html may have sent it already, while the page was parsed.
  const early = window.__immunopdBoot;
  const boot = early?.compare;
  if (early && boot) {
    early.compare = null;
    speculative = {
      key: boot.key,
      promise: boot.response.then(readResponse, () => api('api/compare', { body: JSON.parse(boot.key) })),
    };
    speculative.promise.catch(() => undefined);
    return;
  }
  const body = {
    model: 'immunotherapy',
    times: { start: 0, end: 365, step: 1 },
    weight: 70,
    arms: [{ name: 'Untreated' }],
  };
  speculative = { key: JSON.stringify(body), promise: api('api/compare', { body }) };
  speculative.promise.catch(() => undefined);
}
/** @param {CompareBody} body */
function takeSpeculative(body) {
  const s = speculative;
  speculative = null;
  return s && s.key === JSON.stringify(body) ? s.promise : null;
}

/** @type {{ refresh: () => void } | null} the population and sensitivity views (web/analysis.js) */
let analysis = null;

/** @type {Promise<ModelFile | null> | null} the model file fetched with the first page load (see init), used once */
let prefetched = null;

/**
 * Load model `id` and render the view for it: a saved view (a link) over the defaults, or the current
 * arms carried over to another model.
 * @param {string} id
 * @param {unknown} [saved] the parsed URL hash
 */
async function loadModel(id, saved) {
  setStatus('Loading model…');
  const early = prefetched ? await prefetched : null;
  prefetched = null;
  /** @type {ModelFile} */
  const model = early?.id === id ? early : await api(`api/models/${encodeURIComponent(id)}`);
  spec = model;
  const switching = state.model && state.model !== id;
  state.model = id;
  const unit = model.timeUnit ?? 'day';
  if (saved || !switching) {
    // Defaults first; a saved view (a link, possibly partial) goes over them.
    state.preset = '';
    state.params = {};
    state.end = DEFAULT_END[unit] ?? 100;
    state.step = niceStep(state.end);
    state.weight = 70;
    state.tumorScale = 'log';
    state.extra = null;
    state.arms = [newArm()];
    if (saved) restore(saved);
  } else {
    // Another model: its own parameters and time scale; the arms stay (what the model can take of them).
    state.preset = '';
    state.params = {};
    state.end = DEFAULT_END[unit] ?? 100;
    state.step = niceStep(state.end);
    state.extra = null;
    if (!state.arms.length) state.arms = [newArm()];
  }
  // The therapies and doses this model can take are used; the others wait in the arm's stash, so that
  // switching back to a model that takes them brings them back.
  const states = new Set(Object.keys(model.states));
  const usable = new Set(usableTherapies().map((u) => u.id));
  for (const a of state.arms) {
    a.stash ??= { therapies: [], doses: [] };
    const allT = [...new Set([...a.therapies, ...a.stash.therapies])];
    const allD = [...a.doses, ...a.stash.doses];
    a.therapies = allT.filter((t) => usable.has(t));
    a.stash.therapies = allT.filter((t) => !usable.has(t));
    a.doses = allD.filter((d) => states.has(d.target));
    a.stash.doses = allD.filter((d) => !states.has(d.target));
    if (a.autoName) a.name = autoName(a, state.arms.indexOf(a));
  }
  if (model.presets?.[state.preset] === undefined) state.preset = '';
  renderAll();
}

function usableTherapies() {
  const states = new Set(Object.keys(spec?.states ?? {}));
  return therapies.filter((t) => t.targets.every((s) => states.has(s)));
}

/** @returns {ArmState} */
function newArm() {
  return { name: 'Untreated', autoName: true, therapies: [], doses: [], stash: { therapies: [], doses: [] } };
}

/**
 * An arm's name from what it gives: its drugs, then the states dosed by hand; empty = untreated.
 * @param {ArmState} arm
 * @param {number} index
 */
function autoName(arm, index) {
  const parts = [...new Set(arm.therapies.map((id) => therapies.find((t) => t.id === id)?.drug ?? id))];
  const targets = [...new Set(arm.doses.map((d) => d.target))];
  if (targets.length) parts.push(`${targets.join(', ')} by hand`);
  if (parts.length) return parts.join(' + ');
  return index === 0 || !state.arms.slice(0, index).some((a) => !a.therapies.length && !a.doses.length)
    ? 'Untreated'
    : `Arm ${index + 1}`;
}

/**
 * After a change of what an arm gives: its automatic name follows (in place, keeping the focus).
 * @param {ArmState} arm
 */
function refreshName(arm) {
  if (!arm.autoName) return;
  const i = state.arms.indexOf(arm);
  arm.name = autoName(arm, i);
  const input = /** @type {HTMLInputElement | null} */ (document.querySelector(`.arm[data-arm="${i}"] .arm-name`));
  if (input) input.value = arm.name;
}

// ---------------------------------------------------------------- rendering

function renderAll() {
  const spec = loaded();
  $('model').value = state.model;
  $('model-title').textContent = spec.title ?? '';
  $('model-title').title = [spec.description, ...[spec.reference ?? []].flat()].filter(Boolean).join('\n\n');
  for (const el of document.querySelectorAll('[data-time-unit]')) el.textContent = `(${spec.timeUnit ?? 'day'})`;
  $('end').value = String(state.end);
  $('step').value = String(state.step);
  $('weight').value = String(state.weight);
  $('tumor-scale').value = state.tumorScale;
  $('drug-scale').value = state.drugScale;
  const presets = Object.entries(spec.presets ?? {});
  $('preset-row').hidden = !presets.length;
  $('preset').replaceChildren(
    h('option', { value: '' }, 'model defaults'),
    ...presets.map(([k, p]) => h('option', { value: k, title: p.description ?? '' }, k)),
  );
  $('preset').value = state.preset;
  renderParams();
  renderArms();
  renderSeriesPicker();
  analysis?.refresh();
}

/**
 * A parameter's value before the user changes it: the preset's, else the model file's.
 * @param {string} name
 */
function paramDefault(name) {
  const spec = loaded();
  const p = spec.presets?.[state.preset]?.parameters?.[name];
  return p ?? (spec.parameters ?? {})[name].value;
}

/** @param {string} name */
function paramValue(name) {
  return name in state.params ? state.params[name] : paramDefault(name);
}

/**
 * Slider geometry: log10 for log-scale or rate-like parameters, linear otherwise.
 * @param {import('./types').ModelParameter} p
 */
function sliderSpec(p) {
  const v = p.value;
  const rateLike = /^1\s*\/|\/\s*(day|d|h|hour|min|week|s)$/i.test(p.unit ?? '');
  const log = (p.scale === 'log' || (p.scale === undefined && rateLike)) && v > 0;
  if (log) {
    const lo = p.min !== undefined && p.min > 0 ? p.min : v / 100;
    const hi = p.max !== undefined && p.max > lo ? p.max : v * 100;
    return { log, lo: Math.log10(lo), hi: Math.log10(hi) };
  }
  const lo = p.min ?? (v < 0 ? 2 * v : 0);
  const hi = p.max !== undefined && p.max > lo ? p.max : v > 0 ? 2 * v : v < 0 ? 0 : lo + 1;
  return { log, lo, hi };
}

function renderParams() {
  const list = $('params');
  const filter = $('param-filter').value.trim().toLowerCase();
  const rows = Object.entries(loaded().parameters ?? {}).map(([name, p]) => {
    const sl = sliderSpec(p);
    const toSlider = (/** @type {number} */ v) => (sl.log ? Math.log10(Math.max(v, 10 ** sl.lo)) : v);
    const fromSlider = (/** @type {number} */ s) => Number((sl.log ? 10 ** s : s).toPrecision(4));
    const value = paramValue(name);
    const numberInput = h('input', {
      type: 'number',
      step: 'any',
      value: numText(value),
      'aria-label': `${name} value`,
      'data-param': name,
    });
    const slider = h('input', {
      type: 'range',
      min: String(sl.lo),
      max: String(sl.hi),
      step: String((sl.hi - sl.lo) / 500),
      value: String(toSlider(value)),
      'aria-label': `${name} slider${sl.log ? ' (log scale)' : ''}`,
      tabindex: '-1',
    });
    const reset = h(
      'button',
      {
        type: 'button',
        class: 'reset',
        title: `Reset to ${fmt(paramDefault(name), 4)}`,
        'aria-label': `Reset ${name}`,
      },
      '↺',
    );
    const row = h(
      'div',
      { class: `param${name in state.params ? ' changed' : ''}`, 'data-name': name },
      h(
        'div',
        { class: 'pname', title: [p.description, p.source ? `Source: ${p.source}` : ''].filter(Boolean).join('\n') },
        h('span', { class: 'name' }, name),
        ' ',
        h('span', { class: 'unit' }, p.unit && p.unit !== '1' ? p.unit : ''),
        sl.log ? h('span', { class: 'tag', title: 'slider on a log scale' }, 'log') : null,
        h('span', { class: 'desc' }, p.description ?? ''),
        reset,
      ),
      h('div', { class: 'pctl' }, slider, numberInput),
    );
    /** @type {(v: number, from: 'slider' | 'number' | 'reset') => void} */
    const set = (v, from) => {
      if (Number.isFinite(v) && v === paramDefault(name)) delete state.params[name];
      else state.params[name] = v;
      row.classList.toggle('changed', name in state.params);
      countParams();
      if (from !== 'number') numberInput.value = numText(v);
      if (from !== 'slider' && Number.isFinite(v)) slider.value = String(toSlider(v));
      changed();
    };
    slider.addEventListener('input', () => set(fromSlider(Number(slider.value)), 'slider'));
    numberInput.addEventListener('input', () =>
      set(numberInput.value.trim() === '' ? NaN : Number(numberInput.value), 'number'),
    );
    reset.addEventListener('click', () => set(paramDefault(name), 'reset'));
    const text = `${name} ${p.unit ?? ''} ${p.description ?? ''}`.toLowerCase();
    row.hidden = Boolean(filter) && !text.includes(filter);
    return row;
  });
  list.replaceChildren(...rows);
  countParams();
}

function countParams() {
  const n = Object.keys(loaded().parameters ?? {}).length;
  const c = Object.keys(state.params).length;
  $('param-count').textContent = `(${n}${c ? `, ${c} changed` : ''})`;
}

/**
 * The editor of one hand dose of an arm.
 * @param {ArmState} arm
 * @param {HandDose} dose
 */
function doseRow(arm, dose) {
  const spec = loaded();
  const stateNames = Object.keys(spec.states);
  /** @type {(key: 'amount' | 'start' | 'every' | 'count' | 'duration', label: string, attrs?: { placeholder?: string, short?: string }) => HTMLElement} */
  const field = (key, label, attrs = {}) => {
    const input = h('input', {
      type: 'number',
      step: 'any',
      value: dose[key] ?? '',
      placeholder: attrs.placeholder ?? '',
      'aria-label': label,
      title: label,
      class: `d-${key}`,
    });
    input.addEventListener('input', () => {
      const v = input.value.trim();
      if (v === '') delete dose[key];
      else dose[key] = Number(v);
      changed();
    });
    return h('label', { class: 'dfield' }, h('span', {}, attrs.short ?? label), input);
  };
  const target = h(
    'select',
    { 'aria-label': 'dose target state', class: 'd-target' },
    ...stateNames.map((s) => h('option', { value: s, title: spec.states[s].description ?? '' }, s)),
  );
  target.value = dose.target;
  target.addEventListener('change', () => {
    dose.target = target.value;
    refreshName(arm);
    renderArms();
    changed();
  });
  const unit = spec.states[dose.target]?.unit ?? '';
  const tu = spec.timeUnit ?? 'day';
  const remove = h(
    'button',
    { type: 'button', class: 'icon', title: 'Remove this dose', 'aria-label': 'Remove dose' },
    '×',
  );
  remove.addEventListener('click', () => {
    arm.doses.splice(arm.doses.indexOf(dose), 1);
    refreshName(arm);
    renderArms();
    changed();
  });
  return h(
    'div',
    { class: 'dose' },
    h('label', { class: 'dfield' }, h('span', {}, 'into'), target),
    field('amount', `amount (${unit || 'model units'})`, {
      short: `amount${unit && unit !== '1' ? ` (${unit})` : ''}`,
    }),
    field('start', `first dose time (${tu})`, { short: `start (${tu})` }),
    field('every', `interval between doses (${tu})`, { short: `every (${tu})` }),
    field('count', 'number of doses', { short: 'count', placeholder: '1' }),
    field('duration', `infusion duration (${tu}; empty = bolus)`, { short: `infusion (${tu})`, placeholder: 'bolus' }),
    remove,
  );
}

function renderArms() {
  const spec = loaded();
  const usable = usableTherapies();
  /** @type {Map<string, Therapy[]>} */
  const byDrug = new Map();
  for (const t of usable) byDrug.set(t.drug, [...(byDrug.get(t.drug) ?? []), t]);
  const cards = state.arms.map((arm, i) => {
    const color = ARM_COLORS[i % ARM_COLORS.length];
    const name = h('input', {
      type: 'text',
      value: arm.name,
      class: 'arm-name',
      'aria-label': `Arm ${i + 1} name`,
      maxlength: '100',
    });
    name.addEventListener('input', () => {
      arm.name = name.value;
      arm.autoName = false;
      changed();
    });
    const remove = h(
      'button',
      {
        type: 'button',
        class: 'icon',
        title: 'Remove this arm',
        'aria-label': `Remove arm ${arm.name}`,
        disabled: state.arms.length === 1,
      },
      '×',
    );
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
      return h(
        'span',
        { class: 'chip', title: t ? `${t.title}\n\n${t.source}${t.notes ? `\n\n${t.notes}` : ''}` : id },
        id,
        x,
      );
    });
    const add = h(
      'select',
      { class: 'add-therapy', 'aria-label': `Add a therapy preset to ${arm.name}`, disabled: !usable.length },
      h('option', { value: '' }, usable.length ? '+ therapy preset…' : 'no therapy presets for this model'),
      ...[...byDrug].map(([drug, list]) =>
        h(
          'optgroup',
          { label: `${drug}${list[0].class ? ` (${list[0].class})` : ''}` },
          ...list.map((t) =>
            h('option', { value: t.id, disabled: arm.therapies.includes(t.id), title: t.source }, t.title),
          ),
        ),
      ),
    );
    add.addEventListener('change', () => {
      if (!add.value) return;
      arm.therapies.push(add.value);
      if (arm.autoName) arm.name = autoName(arm, i);
      renderArms();
      // The picker was rebuilt: keep the keyboard where it was.
      /** @type {HTMLElement | null} */ ($('arms').querySelector(`.arm[data-arm="${i}"] .add-therapy`))?.focus();
      changed();
    });
    const addDose = h('button', { type: 'button', class: 'link' }, '+ dose by hand');
    addDose.addEventListener('click', () => {
      const names = Object.keys(spec.states);
      // The model's declared dose targets first (roles), else a central-compartment-looking state.
      const declared = Object.values(spec.roles?.drugs ?? {})
        .flatMap((r) => (typeof r.doseTarget === 'string' ? [r.doseTarget] : []))
        .find((t) => names.includes(t));
      const target =
        declared ??
        names.find((s) => /c$/.test(s)) ??
        names.find((s) => /^(Cd|Cp|A|IL|IL2|VAC|D)$/.test(s)) ??
        names[0];
      arm.doses.push({ target, amount: 1, start: 0 });
      refreshName(arm);
      renderArms();
      changed();
    });
    return h(
      'div',
      { class: 'arm', style: `border-left-color:${color}`, 'data-arm': String(i) },
      h('div', { class: 'arm-head' }, h('span', { class: 'swatch', style: `background:${color}` }), name, remove),
      chips.length ? h('div', { class: 'chips' }, chips) : null,
      h('div', { class: 'arm-add' }, add, addDose),
      arm.doses.length
        ? h(
            'div',
            { class: 'doses' },
            arm.doses.map((d) => doseRow(arm, d)),
          )
        : null,
    );
  });
  $('arms').replaceChildren(...cards);
  $('add-arm').disabled = state.arms.length >= MAX_ARMS;
  analysis?.refresh();
}

function renderSeriesPicker() {
  const spec = loaded();
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
    return h(
      'label',
      { class: 'series', title: s.label },
      box,
      h('span', { class: 'mono' }, s.name),
      h(
        'span',
        { class: 'muted' },
        ` ${s.label !== s.name ? s.label : ''}${s.unit && s.unit !== '1' ? ` (${s.unit})` : ''}`,
      ),
    );
  });
  $('series-pick').replaceChildren(...boxes);
}

// ---------------------------------------------------------------- running

/**
 * The /api/compare request of the view.
 * @returns {CompareBody}
 */
function requestBody() {
  /** @type {(d: HandDose) => HandDose} the dose's fields that are set, in a fixed order */
  const dose = (d) => {
    /** @type {HandDose} */
    const out = { target: d.target };
    for (const k of /** @type {const} */ (['amount', 'start', 'every', 'count', 'duration']))
      if (d[k] !== undefined) out[k] = d[k];
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

/** @param {string} text */
function setStatus(text) {
  $('status').textContent = text;
}

/**
 * The problems found before a run, each a link to its field.
 * @param {Problem[]} problems
 */
function showProblems(problems) {
  const box = $('error');
  const item = (/** @type {Problem} */ p) => {
    const go = h('button', { type: 'button', class: 'link' }, p.label);
    go.addEventListener('click', () => {
      const el = /** @type {HTMLElement | null} */ (document.querySelector(p.selector));
      if (!el) return;
      const details = el.closest('details');
      if (details) details.open = true;
      const row = /** @type {HTMLElement | null} */ (el.closest('.param'));
      if (row?.hidden) {
        $('param-filter').value = '';
        for (const r of paramRows()) r.hidden = false;
      }
      el.focus();
    });
    return h('li', {}, go, ': ', p.message);
  };
  box.replaceChildren(
    h('strong', {}, `Check ${problems.length === 1 ? 'this field' : `these ${problems.length} fields`} (not run):`),
    h('ul', {}, problems.slice(0, 12).map(item)),
    ...(problems.length > 12 ? [h('p', {}, `… and ${problems.length - 12} more`)] : []),
  );
  box.hidden = false;
}

/**
 * Downloads export the last successful run: off while the view shows an error or a newer, unrun state.
 * @param {boolean} ok
 * @param {string} [why] the buttons' tooltip while off
 */
function setDownloads(ok, why = '') {
  for (const id of ['dl-csv', 'dl-json']) {
    $(id).disabled = !ok;
    $(id).title = ok ? '' : why;
  }
}

/** @param {unknown} e an ApiError (its issues are listed), another error, or null to clear the box */
function showError(e) {
  const box = $('error');
  if (!e) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const kind =
    e instanceof ApiError
      ? e.status === 422
        ? 'Could not solve'
        : e.status === 413
          ? 'Request too large'
          : e.status >= 500
            ? 'Server error'
            : e.status === 0
              ? 'No connection'
              : 'Invalid input'
      : 'Error';
  // With issues that name fields, list them (path and message); otherwise the message alone.
  const issues = e instanceof ApiError ? e.issues.filter((i) => i.path?.length) : [];
  const status = e instanceof ApiError ? e.status : 0;
  box.replaceChildren(
    h('strong', {}, `${kind}${status ? ` (${status})` : ''}${issues.length ? '' : ':'} `),
    issues.length
      ? h(
          'ul',
          {},
          issues.map((i) => h('li', {}, h('code', {}, formatPath(i.path)), ' ', i.message)),
        )
      : h('span', { class: 'error-message' }, e instanceof Error ? e.message : String(e)),
  );
  box.hidden = false;
}

/** The progress bar with elapsed time and Cancel (shown once a run takes longer than PROGRESS_AFTER_MS). */
/** @type {ReturnType<typeof setInterval> | undefined} */
let progressTimer;
/** @param {number} t0 when the run started (performance.now()) */
function showProgress(t0) {
  clearInterval(progressTimer);
  const tick = () => {
    const ms = performance.now() - t0;
    if (ms < PROGRESS_AFTER_MS) return;
    $('progress').hidden = false;
    $('elapsed').textContent = `${(ms / 1000).toFixed(1)} s`;
  };
  progressTimer = setInterval(tick, 100);
}
function hideProgress() {
  clearInterval(progressTimer);
  $('progress').hidden = true;
}

function cancel() {
  if (!inflight) return;
  inflight.abort();
  inflight = null;
  runSeq++;
  hideProgress();
  document.body.classList.remove('busy');
  document.body.dataset.state = 'cancelled';
  setStatus(last ? 'Cancelled: the plots show the previous run' : 'Cancelled');
  $('plots').classList.add('stale');
  setDownloads(Boolean(last), 'Nothing was run');
}

async function run() {
  if (!spec) return;
  saveHash();
  const problems = validateView(spec, state, paramValue);
  markInvalid(problems);
  if (problems.length) {
    inflight?.abort();
    inflight = null;
    runSeq++;
    hideProgress();
    showProblems(problems);
    setStatus('');
    $('plots').classList.add('stale');
    setDownloads(false, 'The view has invalid fields: downloads would export an older run');
    document.body.classList.remove('busy');
    document.body.dataset.state = 'invalid';
    return;
  }
  inflight?.abort();
  const ctl = new AbortController();
  inflight = ctl;
  const seq = ++runSeq;
  const body = requestBody();
  const t0 = performance.now();
  setStatus('Running…');
  showProgress(t0);
  document.body.classList.add('busy');
  document.body.dataset.state = 'running';
  try {
    const early = takeSpeculative(body);
    /** @type {CompareResponse} */
    const res = await (early ?? api('api/compare', { body, signal: ctl.signal }));
    if (seq !== runSeq) return;
    performance.mark('compare-data');
    last = res;
    lastBody = body;
    showError(null);
    setDownloads(true);
    await redraw();
    if (seq !== runSeq) return;
    const solverMs = res.arms.reduce((s, a) => s + a.result.solver.ms, 0);
    setStatus(
      `${res.arms.length} arm${res.arms.length > 1 ? 's' : ''} · ${res.arms[0].result.times.length} points · solver ${fmt(solverMs, 2)} ms · total ${Math.round(performance.now() - t0)} ms`,
    );
    $('plots').classList.remove('stale');
    document.body.dataset.runs = String(Number(document.body.dataset.runs ?? 0) + 1);
    document.body.dataset.state = 'ok';
  } catch (e) {
    if (isAbort(e) || seq !== runSeq) return;
    showError(e);
    setStatus('');
    $('plots').classList.add('stale');
    setDownloads(false, 'The last run failed: downloads would export an older run');
    document.body.dataset.state = 'error';
  } finally {
    if (seq === runSeq) {
      document.body.classList.remove('busy');
      hideProgress();
      if (inflight === ctl) inflight = null;
    }
  }
}

const runSoon = debounce(run, 250);

function changed() {
  saveHash();
  runSoon();
}

/**
 * plotly loads async (in parallel with the first API calls): resolves once it is there.
 * @returns {Promise<void>}
 */
function plotlyReady() {
  if (window.Plotly) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => resolve();
    document.querySelector('script[src*="plotly"]')?.addEventListener('load', done, { once: true });
    window.addEventListener('load', done, { once: true });
  });
}

/** Draw the last results (the metrics table at once, the panels as plotly arrives, the tumor panel first). */
async function redraw() {
  if (!last || !spec || last.model !== spec.id) return;
  const tumorOut = spec.outputs?.tumor;
  const tumorUnit =
    typeof tumorOut === 'object' ? (tumorOut.unit ?? '') : String(last.metrics.rows[0]?.tumorUnit ?? '');
  $('metrics').innerHTML = metricsTable(last.metrics, spec.timeUnit ?? 'day', tumorUnit);
  await plotlyReady();
  performance.mark('plotly-ready');
  if (!last || last.model !== spec.id) return;
  await drawPlots($('plots'), spec, last, {
    tumorScale: state.tumorScale,
    drugScale: state.drugScale,
    extra: state.extra ?? defaultExtra(spec),
  });
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
  $('cancel').addEventListener('click', cancel);
  /** @type {(id: string, key: 'end' | 'step' | 'weight') => void} */
  const numberField = (id, key) =>
    $(id).addEventListener('input', () => {
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
  $('drug-scale').addEventListener('change', () => {
    state.drugScale = $('drug-scale').value;
    saveHash();
    redraw();
  });
  $('param-filter').addEventListener('input', () => {
    const f = $('param-filter').value.trim().toLowerCase();
    const parameters = loaded().parameters ?? {};
    for (const row of paramRows()) {
      const p = parameters[row.dataset.name ?? ''];
      row.hidden =
        Boolean(f) && !`${row.dataset.name} ${p.unit ?? ''} ${p.description ?? ''}`.toLowerCase().includes(f);
    }
  });
  $('reset-all').addEventListener('click', () => {
    state.params = {};
    renderParams();
    changed();
  });
  $('add-arm').addEventListener('click', () => {
    if (state.arms.length >= MAX_ARMS) return;
    const arm = newArm();
    state.arms.push(arm);
    arm.name = autoName(arm, state.arms.length - 1);
    renderArms();
    changed();
    /** @type {HTMLElement | null | undefined} */ ($('arms').lastElementChild?.querySelector('.add-therapy'))?.focus();
  });
  $('dl-csv').addEventListener('click', async () => {
    if (!lastBody || $('dl-csv').disabled) return showError(new Error('run a simulation first'));
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
      await loadModel(
        saved.model && models.some((m) => m.id === saved.model) ? saved.model : state.model || models[0].id,
        saved,
      );
      run();
    } catch (e) {
      showError(e);
    }
  });
}

async function init() {
  performance.mark('app-start');
  try {
    // The model file is asked for with the list (one round trip less): the linked one, else the usual default.
    const saved = readHash();
    if (!saved) speculate();
    const guess =
      typeof saved?.model === 'string' && /^[a-z0-9][a-z0-9._-]{0,99}$/.test(saved.model)
        ? saved.model
        : 'immunotherapy';
    const early = api(`api/models/${encodeURIComponent(guess)}`).catch(() => null);
    const [m, t] = await Promise.all([api('api/models'), api('api/therapies')]);
    models = m.models;
    therapies = t.therapies;
    $('model').replaceChildren(...models.map((x) => h('option', { value: x.id, title: x.title }, x.id)));
    /** @type {string} */
    const id = saved && models.some((x) => x.id === saved.model) ? saved.model : m.default;
    if (id === guess) prefetched = early;
    bind();
    analysis = setupAnalysis({
      spec: () => spec,
      body: requestBody,
      valid: () => !validateView(loaded(), state, paramValue).length,
    });
    // Phones: the parameters start folded, so that Run and the plots come first.
    if (window.matchMedia('(max-width: 700px)').matches)
      /** @type {HTMLDetailsElement} */ (document.getElementById('params-card')).open = false;
    await loadModel(id, saved);
    performance.mark('model-ready');
    await run();
  } catch (e) {
    showError(e);
  }
}

init();
