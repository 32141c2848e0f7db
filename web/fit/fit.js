// Fit and schedule-optimization panels: talk only to the public API (POST /api/fit, POST /api/optimize,
// POST /api/simulate for the baseline curve, GET /api/models). Data over fitted curves, the estimates
// table with the identifiability warnings, residuals; the optimizer's best schedule against a baseline,
// as tables with the objective explained. Errors go to a box in the results column, with their fields.
import { api, ApiError, fmt, formatPath, h, numText } from '../util.js';

/**
 * @typedef {import('../types').ModelFile} ModelFile
 * @typedef {import('../types').FitResult} FitResult
 * @typedef {import('../types').SimulationResult} SimulationResult
 * @typedef {import('../types').EvaluatedSchedule} EvaluatedSchedule
 * @typedef {import('../types').OptimizeAnswer} OptimizeAnswer
 * @typedef {import('../types').Issue} Issue
 */

/**
 * An element of the page by id. Typed as an input because the ids looked up are form controls (inputs,
 * selects, textareas, buttons) or containers, whose shared properties (value, checked, disabled) are used.
 * @type {(id: string) => HTMLInputElement}
 */
const $ = (id) => /** @type {HTMLInputElement} */ (document.getElementById(id));
/**
 * The form control a selector names (a data-* attribute of the parameter table, built by pickModel).
 * @param {string} selector
 * @returns {HTMLInputElement}
 */
const control = (selector) => {
  const el = document.querySelector(selector);
  if (!(el instanceof HTMLInputElement || el instanceof HTMLSelectElement))
    throw new Error(`no form control ${selector}`);
  return /** @type {HTMLInputElement} */ (el);
};
const status = (/** @type {string} */ s) => {
  $('status').textContent = s;
};
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563'];
// plotly 3+ takes titles as {text}: plain strings here are wrapped.
const titled = (/** @type {unknown} */ t) => (typeof t === 'string' ? { text: t } : t);
/**
 * plotly loads async: resolves to it once it is there.
 * @returns {Promise<PlotlyApi>}
 */
const plotlyReady = () =>
  new Promise((resolve, reject) => {
    const done = () =>
      window.Plotly ? resolve(window.Plotly) : reject(new Error('the plotting library (plotly) did not load'));
    if (window.Plotly) return done();
    document.querySelector('script[src*="plotly"]')?.addEventListener('load', done, { once: true });
    window.addEventListener('load', done, { once: true });
  });
/**
 * A plot with the page's style: `layout` over it; titles given as text.
 * @typedef {{ title?: string, xaxis?: PlotlyObject & { title?: string }, yaxis?: PlotlyObject & { title?: string }, legend?: PlotlyObject, [key: string]: unknown }} Layout
 * @param {HTMLElement} el
 * @param {PlotlyObject[]} data
 * @param {Layout} layout
 */
const plot = async (el, data, layout) =>
  (await plotlyReady()).react(
    el,
    data,
    {
      margin: { t: 40, r: 10, l: 70, b: 46 },
      font: { family: 'system-ui, sans-serif', size: 11, color: '#1f2937' },
      ...layout,
      title: titled(layout.title),
      legend: { orientation: 'h', y: -0.22, ...(layout.legend ?? {}) },
      xaxis: { exponentformat: 'power', ...layout.xaxis, title: titled(layout.xaxis?.title) },
      yaxis: { exponentformat: 'power', ...layout.yaxis, title: titled(layout.yaxis?.title) },
    },
    {
      responsive: true,
      displaylogo: false,
      displayModeBar: window.matchMedia('(max-width: 700px)').matches ? false : 'hover',
    },
  );

/**
 * An error in the results column: the message, and each field the API (or the request's own check) named.
 * @param {HTMLElement} box
 * @param {unknown} e an ApiError, an error with `issues`, or null to clear the box
 */
function showError(box, e) {
  if (!e) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const err = /** @type {{ message?: string, status?: number, issues?: Issue[] }} */ (
    e instanceof ApiError ? e : typeof e === 'object' ? e : { message: String(e) }
  );
  const issues = (err.issues ?? []).filter((i) => i.path?.length);
  box.replaceChildren(
    h('strong', {}, `${err.status ? `Error ${err.status}: ` : 'Error: '}`),
    issues.length
      ? h(
          'ul',
          {},
          issues.slice(0, 20).map((i) => h('li', {}, h('code', {}, formatPath(i.path)), ' ', i.message)),
        )
      : h('span', {}, err.message ?? String(e)),
  );
  box.hidden = false;
}

// ---------------------------------------------------------------------------------------------------------
// Tabs (WAI-ARIA tabs: arrows, Home and End move between them; only the selected one is in the Tab order)
// ---------------------------------------------------------------------------------------------------------
const TABS = [
  ['tab-fit', 'panel-fit'],
  ['tab-pop', 'panel-pop'],
  ['tab-opt', 'panel-opt'],
];
/**
 * Select a tab (and show its panel).
 * @param {string} which the tab's id
 * @param {boolean} [focus]
 */
function tab(which, focus = false) {
  for (const [t, p] of TABS) {
    const on = t === which;
    $(t).classList.toggle('active', on);
    $(t).setAttribute('aria-selected', String(on));
    $(t).tabIndex = on ? 0 : -1;
    $(p).hidden = !on;
  }
  if (focus) $(which).focus();
  window.dispatchEvent(new Event('resize'));
}
for (const [t] of TABS) {
  $(t).addEventListener('click', () => tab(t));
  $(t).addEventListener('keydown', (ev) => {
    const i = TABS.findIndex(([x]) => x === t);
    /** @type {Record<string, number>} */
    const keys = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: TABS.length - 1 };
    const to = Object.hasOwn(keys, ev.key) ? keys[ev.key] : undefined;
    if (to === undefined) return;
    ev.preventDefault();
    tab(TABS[(to + TABS.length) % TABS.length][0], true);
  });
}

// ---------------------------------------------------------------------------------------------------------
// Fit
// ---------------------------------------------------------------------------------------------------------
/** @type {ModelFile | null} the model of the fit panel */
let model = null;

/**
 * The fit panel's model, for code that runs once one is loaded (pickModel loads it before any control exists).
 * @returns {ModelFile}
 */
function loaded() {
  if (!model) throw new Error('no model is loaded');
  return model;
}

/** The documented example (docs/api.md): logistic growth, one subject, starting values 2x off. */
const EXAMPLE = {
  model: 'tgi-logistic',
  fixed: { kel: 0.2, kKill: 0 },
  estimate: { r: 0.2, K: 2e9, V0: 2.5e7 },
  csv: 'time,observable,value\n0,tumorVolume_mm3,63.2\n8,tumorVolume_mm3,94.1\n16,tumorVolume_mm3,220.8\n24,tumorVolume_mm3,349.1\n32,tumorVolume_mm3,564.5\n40,tumorVolume_mm3,747.4\n48,tumorVolume_mm3,856.7\n56,tumorVolume_mm3,930.6\n64,tumorVolume_mm3,917.4\n72,tumorVolume_mm3,989.0\n80,tumorVolume_mm3,998.0\n',
};

async function loadModels() {
  const list = await api('/api/models');
  /** @type {import('../types').ModelListEntry[]} */
  const models = Array.isArray(list) ? list : (list.models ?? []);
  $('fit-model').replaceChildren(...models.map((m) => h('option', { value: m.id }, m.id)));
  $('fit-model').value = models.some((m) => m.id === 'tgi-logistic') ? 'tgi-logistic' : models[0]?.id;
  await pickModel();
}

/**
 * Name and unit of a model series (state or output).
 * @param {string} name
 */
function seriesInfo(name) {
  const s = model?.states?.[name] ?? model?.outputs?.[name];
  return {
    unit: typeof s === 'object' && s.unit && s.unit !== '1' ? s.unit : '',
    description: typeof s === 'object' ? (s.description ?? '') : '',
  };
}

async function pickModel() {
  /** @type {ModelFile} */
  const m = await api(`/api/models/${encodeURIComponent($('fit-model').value)}`);
  model = m;
  const rows = [
    h('span', { class: 'head' }, 'estimate'),
    h('span', { class: 'head' }, 'initial / fixed'),
    h('span', { class: 'head' }, 'lower'),
    h('span', { class: 'head' }, 'upper'),
    h('span', { class: 'head' }, 'scale'),
  ];
  for (const [name, p] of Object.entries(m.parameters ?? {})) {
    const unit = p.unit && p.unit !== '1' ? ` (${p.unit})` : '';
    rows.push(
      h('label', { title: p.description ?? '' }, h('input', { type: 'checkbox', 'data-est': name }), ` ${name}`),
      h('input', {
        type: 'number',
        step: 'any',
        'data-init': name,
        value: numText(p.value),
        'aria-label': `${name} initial or fixed value${unit}`,
      }),
      h('input', {
        type: 'number',
        step: 'any',
        'data-lo': name,
        value: p.min !== undefined ? numText(p.min) : '',
        'aria-label': `${name} lower bound${unit}`,
      }),
      h('input', {
        type: 'number',
        step: 'any',
        'data-hi': name,
        value: p.max !== undefined ? numText(p.max) : '',
        'aria-label': `${name} upper bound${unit}`,
      }),
      h(
        'select',
        { 'data-scale': name, 'aria-label': `${name} estimation scale` },
        h('option', { value: '' }, 'auto'),
        h('option', {}, 'log'),
        h('option', {}, 'linear'),
      ),
    );
  }
  $('fit-params').replaceChildren(...rows);
  // The observables the data may name: the model's states and outputs.
  const item = (/** @type {string} */ name, /** @type {string} */ kind) => {
    const { unit, description } = seriesInfo(name);
    return h('li', { title: description }, h('code', {}, name), ` ${kind}${unit ? `, ${unit}` : ''}`);
  };
  $('fit-observables').replaceChildren(
    h('span', {}, `Observables of ${m.id} (the CSV's observable column):`),
    h(
      'ul',
      { class: 'observables' },
      ...Object.keys(m.states).map((n) => item(n, 'state')),
      ...Object.keys(m.outputs ?? {}).map((n) => item(n, 'output')),
    ),
  );
}

$('fit-model').addEventListener('change', () => pickModel().catch((e) => showError($('fit-error-box'), e)));
$('fit-file').addEventListener('change', async () => {
  const f = $('fit-file').files?.[0];
  if (f) $('fit-csv').value = await f.text();
});
$('fit-example').addEventListener('click', async () => {
  $('fit-model').value = EXAMPLE.model;
  await pickModel();
  $('fit-csv').value = EXAMPLE.csv;
  $('fit-subjects').value = '';
  $('fit-error').value = 'additive';
  $('fit-transform').value = 'none';
  for (const [n, v] of Object.entries(EXAMPLE.fixed)) control(`[data-init="${n}"]`).value = numText(v);
  for (const [n, v] of Object.entries(EXAMPLE.estimate)) {
    control(`[data-est="${n}"]`).checked = true;
    control(`[data-init="${n}"]`).value = numText(v);
  }
  showError($('fit-error-box'), null);
  status('example loaded: press Fit');
});

/**
 * The POST /api/fit request of the form: the checked parameters estimated, the others fixed at their
 * typed values.
 */
function fitRequest() {
  const m = loaded();
  /** @type {Record<string, { initial?: number, lower?: number, upper?: number, scale?: string }>} */
  const estimate = {};
  /** @type {Record<string, number>} */
  const parameters = {};
  for (const cb of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('[data-est]'))) {
    const n = cb.dataset.est ?? '';
    const num = (/** @type {string} */ sel) => {
      const v = control(`[${sel}="${CSS.escape(n)}"]`).value;
      return v === '' ? undefined : Number(v);
    };
    if (!cb.checked) {
      // A fixed parameter: its value as typed (the initial column), when it differs from the model's.
      const v = num('data-init');
      if (v !== undefined && v !== m.parameters?.[n]?.value) parameters[n] = v;
      continue;
    }
    const scale = control(`[data-scale="${CSS.escape(n)}"]`).value;
    estimate[n] = {
      initial: num('data-init'),
      lower: num('data-lo'),
      upper: num('data-hi'),
      ...(scale ? { scale } : {}),
    };
  }
  /** @type {Record<string, unknown> & { estimate: typeof estimate }} */
  const req = {
    model: m.id,
    parameters,
    data: $('fit-csv').value,
    estimate,
    error: { model: $('fit-error').value, transform: $('fit-transform').value },
  };
  const subj = $('fit-subjects').value.trim();
  if (subj) {
    try {
      req.subjects = JSON.parse(subj);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw Object.assign(new Error(`the doses per subject are not valid JSON (${why})`), {
        issues: [{ path: ['subjects'], message: `not valid JSON: ${why}` }],
      });
    }
  }
  const starts = Number($('fit-starts').value);
  if (starts > 1) req.multistart = { count: starts, seed: 1 };
  if ($('fit-profile').checked) req.profile = Object.keys(estimate);
  return req;
}

/** @param {FitResult} res */
function showFit(res) {
  const warn = res.identifiability.warnings;
  $('fit-report').replaceChildren(
    h(
      'div',
      {},
      h('strong', {}, res.converged ? 'Converged' : 'Not converged'),
      ` (${res.reason}): ${res.message}. ${res.iterations} iterations, ${res.odeSolves} ODE solves, ${fmt(res.ms)} ms.`,
    ),
    h(
      'div',
      {},
      `−log L (objective) ${fmt(res.objective, 6)} · OFV = −2 log L ${fmt(2 * res.objective, 6)} · AIC ${fmt(res.aic, 5)} · BIC ${fmt(res.bic, 5)} · n ${res.observations} · residual sd ${fmt(res.sigmaResidual)}`,
    ),
    ...warn.map((w) => h('div', { class: 'warn' }, `⚠ ${w}`)),
  );
  const tu = loaded().timeUnit ?? 'day';
  // Data over fitted curves, one colour per subject × observable.
  /** @type {PlotlyObject[]} */
  const traces = [];
  const units = new Set();
  let c = 0;
  for (const [sid, f] of Object.entries(res.fitted)) {
    for (const [obs, ys] of Object.entries(f.series)) {
      const color = COLORS[c++ % COLORS.length];
      units.add(`${obs}${seriesInfo(obs).unit ? ` (${seriesInfo(obs).unit})` : ''}`);
      const pts = res.residuals.filter((r) => r.subject === sid && r.observable === obs);
      const who = sid === 'default' ? '' : `${sid} `;
      traces.push({
        x: pts.map((r) => r.time),
        y: pts.map((r) => r.observed),
        mode: 'markers',
        name: `${who}${obs} (data)`,
        marker: { color, size: 7 },
      });
      traces.push({ x: f.times, y: ys, mode: 'lines', name: `${who}${obs} (fit)`, line: { color, width: 2 } });
    }
  }
  const logY = res.error.transform === 'log';
  plot($('fit-plot'), traces, {
    title: 'Data and fitted curves',
    xaxis: { title: `time (${tu})` },
    yaxis: { title: [...units].join(', '), type: logY ? 'log' : 'linear' },
  });
  plot(
    $('fit-resid'),
    [
      {
        x: res.residuals.map((r) => r.time),
        y: res.residuals.map((r) => r.weightedResidual),
        mode: 'markers',
        text: res.residuals.map((r) => r.subject),
        name: 'weighted residual',
        marker: { color: COLORS[0] },
      },
    ],
    {
      title: 'Weighted residuals (observed − predicted) / sd',
      showlegend: false,
      xaxis: { title: `time (${tu})` },
      yaxis: { title: `weighted residual${logY ? ' (log scale)' : ''}`, zeroline: true },
      shapes: [-2, 2].map((y) => ({
        type: 'line',
        xref: 'paper',
        x0: 0,
        x1: 1,
        y0: y,
        y1: y,
        line: { dash: 'dot', color: '#6b7280' },
      })),
    },
  );
  $('fit-table').replaceChildren(
    h('caption', {}, 'Estimates'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['parameter', 'estimate', 'SE', 'RSE %', '95% CI', 'CI method', 'initial'].map((t) =>
          h('th', { scope: 'col' }, t),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      ...Object.entries(res.estimates).map(([k, e]) =>
        h(
          'tr',
          {},
          h('td', {}, k),
          h('td', {}, fmt(e.value, 5)),
          h('td', {}, fmt(e.se)),
          h('td', {}, e.rse === null ? '–' : fmt(100 * e.rse)),
          h('td', {}, `[${fmt(e.ci95[0])}, ${fmt(e.ci95[1])}]`),
          h('td', {}, e.ciMethod),
          h('td', {}, fmt(e.initial)),
        ),
      ),
    ),
  );
}

$('fit-run').addEventListener('click', async () => {
  const box = $('fit-error-box');
  let req;
  try {
    req = fitRequest();
  } catch (e) {
    showError(box, e);
    status('not fitted: see the error');
    return;
  }
  status('fitting…');
  $('fit-run').disabled = true;
  try {
    /** @type {FitResult} */
    const res = await api('/api/fit', { body: req });
    showError(box, null);
    showFit(res);
    status(`fitted in ${fmt(res.ms)} ms`);
  } catch (e) {
    showError(box, e);
    status('not fitted: see the error');
    document.body.dataset.fitError = String(Number(document.body.dataset.fitError ?? 0) + 1);
  } finally {
    $('fit-run').disabled = false;
  }
});

// ---------------------------------------------------------------------------------------------------------
// Optimize
// ---------------------------------------------------------------------------------------------------------
const OPT_EXAMPLE = {
  model: 'immunotherapy',
  horizon: 365,
  step: 1,
  drugs: [
    {
      name: 'pembrolizumab',
      target: 'PEMc',
      amount: { min: 100, max: 400, step: 100 },
      interval: { values: [14, 21, 28, 42] },
      duration: 0.0208333,
    },
  ],
  objective: { finalTumor: 1, tumorAUC: 0, timeToProgression: 0 },
  constraints: { cumulativeDose: { pembrolizumab: 3600 }, cmax: { pembrolizumab: 143 } },
  compare: ['pembrolizumab-200mg-q3w', 'pembrolizumab-400mg-q6w'],
};
$('opt-request').value = JSON.stringify(OPT_EXAMPLE, null, 2);

/**
 * The tumor series of a result, by the names the library's models use.
 * @param {SimulationResult} result
 * @returns {(number | null)[]}
 */
function tumorOf(result) {
  return result.outputs.tumor ?? result.outputs.tumorVolume_mm3 ?? result.states.T ?? result.states.V;
}

const scheduleText = (/** @type {EvaluatedSchedule['schedule']} */ schedule) =>
  schedule
    .map(
      (s) =>
        `${s.drug} ${fmt(s.amount, 4)}${s.perKg ? '/kg' : ''} × ${s.count}${s.interval !== undefined && s.count > 1 ? ` every ${fmt(s.interval, 4)} d` : ''}${s.start ? ` from day ${fmt(s.start, 4)}` : ''}`,
    )
    .join('; ');

/**
 * What the objective is, from the request's weights (optimize schema: lower is better).
 * @param {{ finalTumor?: number, tumorAUC?: number, timeToProgression?: number }} weights
 */
function objectiveText(weights) {
  const terms = [];
  if (weights.finalTumor) terms.push(`${fmt(weights.finalTumor)} × log10(final tumor / tumor at day 0)`);
  if (weights.tumorAUC) terms.push(`${fmt(weights.tumorAUC)} × tumor AUC / (tumor at day 0 × horizon)`);
  if (weights.timeToProgression) terms.push(`${fmt(weights.timeToProgression)} × (− time to progression / horizon)`);
  return `Objective (lower is better) = ${terms.join(' + ') || 'log10(final tumor / tumor at day 0)'}. −1 means a tenfold shrinkage over the horizon.`;
}

/** @param {OptimizeAnswer} res */
function summaryTable(res) {
  /** @type {[string, EvaluatedSchedule][]} */
  const rows = [
    ['Best schedule', res.best],
    ...res.baselines.map((b) => /** @type {[string, EvaluatedSchedule]} */ ([`Baseline ${b.therapy}`, b])),
  ];
  const head = ['', 'schedule', 'objective', 'final tumor', 'best response', 'time to progression (day)', 'feasible'];
  return h(
    'table',
    { class: 'metrics', id: 'opt-summary' },
    h('caption', {}, 'Best schedule against the baselines'),
    h('thead', {}, h('tr', {}, ...head.map((t) => h('th', { scope: 'col' }, t)))),
    h(
      'tbody',
      {},
      ...rows.map(([label, e]) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, label),
          h('td', { class: 'sched' }, scheduleText(e.schedule) || `preset ${e.therapy}`),
          h('td', {}, fmt(e.objective, 4)),
          h('td', {}, fmt(e.summary?.final)),
          h('td', {}, e.summary?.bestOverallResponse ?? '–'),
          h('td', {}, e.summary?.timeToProgression === null ? 'not reached' : fmt(e.summary?.timeToProgression)),
          h('td', {}, e.feasible ? 'yes' : `no (${Object.keys(e.violations).join(', ')})`),
        ),
      ),
    ),
  );
}

$('opt-run').addEventListener('click', async () => {
  const box = $('opt-error-box');
  let req;
  try {
    req = JSON.parse($('opt-request').value);
  } catch (e) {
    showError(box, { message: `the request is not valid JSON: ${e instanceof Error ? e.message : String(e)}` });
    status('not optimized: see the error');
    return;
  }
  status('optimizing…');
  $('opt-run').disabled = true;
  try {
    /** @type {OptimizeAnswer} */
    const res = await api('/api/optimize', { body: req });
    showError(box, null);
    const b = res.best;
    $('opt-report').replaceChildren(
      h(
        'p',
        {},
        `Best of ${res.candidates} candidate schedules (${res.evaluations} simulations, ${fmt(res.ms)} ms)${b.feasible ? '' : ' — no candidate met every constraint'}.`,
      ),
      h(
        'p',
        { class: 'hint', id: 'opt-objective' },
        objectiveText({ finalTumor: 0, tumorAUC: 0, timeToProgression: 0, ...(req.objective ?? { finalTumor: 1 }) }),
      ),
      summaryTable(res),
    );
    /** @type {(PlotlyObject & { y: (number | null)[] })[]} plotly traces */
    const traces = [
      {
        x: res.curves.times,
        y: tumorOf(res.curves),
        name: 'best schedule',
        line: { color: COLORS[0], width: 4 },
        meta: { best: true },
      },
    ];
    if (res.baselines.length) {
      const { model: m, parameters, initial, preset, weight, solver, horizon, step, doses = [], therapies = [] } = req;
      /** @type {SimulationResult} */
      const base = await api('/api/simulate', {
        body: {
          model: m ?? 'immunotherapy',
          parameters,
          initial,
          preset,
          weight,
          solver,
          times: { start: 0, end: horizon, step: step ?? horizon / 500 },
          doses,
          therapies: [...therapies, res.baselines[0].therapy],
        },
      });
      const y = tumorOf(base);
      const best = traces[0].y;
      const same =
        y.length === best.length &&
        y.every(
          (v, i) =>
            v === best[i] ||
            (v !== null && best[i] !== null && Math.abs(v - (best[i] ?? 0)) <= 1e-6 * Math.abs(best[i] ?? 0)),
        );
      // Drawn on top, thinner and dashed: visible even where it coincides with the best schedule.
      traces.push({
        x: base.times,
        y,
        name: `baseline ${res.baselines[0].therapy}${same ? ' (same curve as the best)' : ''}`,
        line: { color: COLORS[1], dash: 'dash', width: 2 },
        meta: { baseline: true, same },
      });
    }
    const tumorUnit = seriesInfo('tumor').unit || 'cells';
    plot($('opt-plot'), traces, {
      title: 'Tumor: best schedule against the baseline',
      xaxis: { title: 'time (day)' },
      yaxis: { title: `tumor (${tumorUnit})`, type: 'log', dtick: 1 },
    });
    $('opt-table').replaceChildren(
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['rank', 'schedule', 'objective', 'feasible', 'violations'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h(
        'tbody',
        {},
        ...res.table.map((c) =>
          h(
            'tr',
            {},
            h('td', {}, String(c.rank)),
            h('td', { class: 'sched' }, scheduleText(c.schedule)),
            h('td', {}, fmt(c.objective, 4)),
            h('td', {}, c.feasible ? 'yes' : 'no'),
            h(
              'td',
              {},
              Object.entries(c.violations)
                .map(([k, v]) => `${k} +${fmt(100 * v)}%`)
                .join(', ') || '–',
            ),
          ),
        ),
      ),
    );
    status(`optimized in ${fmt(res.ms)} ms`);
  } catch (e) {
    showError(box, e);
    status('not optimized: see the error');
  } finally {
    $('opt-run').disabled = false;
  }
});

loadModels().catch((e) => showError($('fit-error-box'), e));
