// Fit and schedule-optimization panels: talk only to the public API (POST /api/fit, POST /api/optimize,
// POST /api/simulate for the baseline curve, GET /api/models). Data over fitted curves, the estimates
// table with the identifiability warnings, residuals; the optimizer's best schedule against a baseline.
import { api, fmt, formatPath, h, numText } from '../util.js';

const $ = (id) => document.getElementById(id);
const status = (s, bad = false) => {
  $('status').textContent = s;
  $('status').classList.toggle('warn', bad);
};
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563'];
const errorText = (e) => (e.issues?.length ? e.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ') : e.message);
// plotly 3+ takes titles as {text}: plain strings here are wrapped.
const titled = (t) => (typeof t === 'string' ? { text: t } : t);
const plot = (el, data, layout) => window.Plotly?.react(el, data, {
  margin: { t: 40, r: 10, l: 60, b: 40 }, ...layout,
  title: titled(layout.title),
  xaxis: { ...layout.xaxis, title: titled(layout.xaxis?.title) },
  yaxis: { ...layout.yaxis, title: titled(layout.yaxis?.title) },
}, { responsive: true, displaylogo: false });

// ---------------------------------------------------------------------------------------------------------
// Tabs
// ---------------------------------------------------------------------------------------------------------
function tab(which) {
  for (const [t, p] of [['tab-fit', 'panel-fit'], ['tab-opt', 'panel-opt']]) {
    const on = t === which;
    $(t).classList.toggle('active', on);
    $(t).setAttribute('aria-selected', String(on));
    $(p).hidden = !on;
  }
  window.dispatchEvent(new Event('resize'));
}
$('tab-fit').addEventListener('click', () => tab('tab-fit'));
$('tab-opt').addEventListener('click', () => tab('tab-opt'));

// ---------------------------------------------------------------------------------------------------------
// Fit
// ---------------------------------------------------------------------------------------------------------
let model = null;

async function loadModels() {
  const list = await api('/api/models');
  const models = Array.isArray(list) ? list : list.models ?? [];
  $('fit-model').replaceChildren(...models.map((m) => h('option', { value: m.id }, m.id)));
  $('fit-model').value = models.some((m) => m.id === 'tgi-logistic') ? 'tgi-logistic' : models[0]?.id;
  await pickModel();
}

async function pickModel() {
  model = await api(`/api/models/${encodeURIComponent($('fit-model').value)}`);
  const rows = [h('b', {}, ''), h('b', {}, 'initial'), h('b', {}, 'lower'), h('b', {}, 'upper'), h('b', {}, 'scale')];
  for (const [name, p] of Object.entries(model.parameters)) {
    rows.push(
      h('label', { title: p.description ?? '' }, h('input', { type: 'checkbox', 'data-est': name }), ` ${name}`),
      h('input', { type: 'number', step: 'any', 'data-init': name, value: numText(p.value) }),
      h('input', { type: 'number', step: 'any', 'data-lo': name, value: p.min !== undefined ? numText(p.min) : '' }),
      h('input', { type: 'number', step: 'any', 'data-hi': name, value: p.max !== undefined ? numText(p.max) : '' }),
      h('select', { 'data-scale': name }, h('option', { value: '' }, 'auto'), h('option', {}, 'log'), h('option', {}, 'linear')),
    );
  }
  $('fit-params').replaceChildren(...rows);
}

$('fit-model').addEventListener('change', () => pickModel().catch((e) => status(errorText(e), true)));
$('fit-file').addEventListener('change', async () => {
  const f = $('fit-file').files?.[0];
  if (f) $('fit-csv').value = await f.text();
});

function fitRequest() {
  const estimate = {};
  const parameters = {};
  for (const cb of document.querySelectorAll('[data-est]')) {
    const n = cb.dataset.est;
    const num = (sel) => {
      const v = document.querySelector(`[${sel}="${CSS.escape(n)}"]`).value;
      return v === '' ? undefined : Number(v);
    };
    if (!cb.checked) {
      // A fixed parameter: its value as typed (the initial column), when it differs from the model's.
      const v = num('data-init');
      if (v !== undefined && v !== model.parameters[n].value) parameters[n] = v;
      continue;
    }
    const scale = document.querySelector(`[data-scale="${CSS.escape(n)}"]`).value;
    estimate[n] = { initial: num('data-init'), lower: num('data-lo'), upper: num('data-hi'), ...(scale ? { scale } : {}) };
  }
  const req = {
    model: model.id, parameters, data: $('fit-csv').value, estimate,
    error: { model: $('fit-error').value, transform: $('fit-transform').value },
  };
  const subj = $('fit-subjects').value.trim();
  if (subj) req.subjects = JSON.parse(subj);
  const starts = Number($('fit-starts').value);
  if (starts > 1) req.multistart = { count: starts, seed: 1 };
  if ($('fit-profile').checked) req.profile = Object.keys(estimate);
  return req;
}

function showFit(res) {
  const warn = res.identifiability.warnings;
  $('fit-report').replaceChildren(
    h('div', {}, `${res.converged ? 'Converged' : 'Not converged'} (${res.reason}): ${res.message}. ${res.iterations} iterations, ${res.odeSolves} ODE solves, ${fmt(res.ms)} ms.`),
    h('div', {}, `−log L ${fmt(res.objective, 6)} · AIC ${fmt(res.aic, 5)} · BIC ${fmt(res.bic, 5)} · n ${res.observations} · residual sd ${fmt(res.sigmaResidual)}`),
    ...warn.map((w) => h('div', { class: 'warn' }, `⚠ ${w}`)),
  );
  // Data over fitted curves, one colour per subject × observable.
  const traces = [];
  let c = 0;
  for (const [sid, f] of Object.entries(res.fitted)) {
    for (const [obs, ys] of Object.entries(f.series)) {
      const color = COLORS[c++ % COLORS.length];
      const pts = res.residuals.filter((r) => r.subject === sid && r.observable === obs);
      traces.push({ x: pts.map((r) => r.time), y: pts.map((r) => r.observed), mode: 'markers', name: `${sid} ${obs} (data)`, marker: { color } });
      traces.push({ x: f.times, y: ys, mode: 'lines', name: `${sid} ${obs} (fit)`, line: { color } });
    }
  }
  const logY = res.error.transform === 'log';
  plot($('fit-plot'), traces, { title: 'Data and fitted curves', xaxis: { title: 'time' }, yaxis: { type: logY ? 'log' : 'linear' } });
  plot($('fit-resid'), [{ x: res.residuals.map((r) => r.time), y: res.residuals.map((r) => r.weightedResidual), mode: 'markers', text: res.residuals.map((r) => r.subject), name: 'weighted residual' }],
    { title: 'Weighted residuals', xaxis: { title: 'time' }, yaxis: { zeroline: true }, shapes: [-2, 2].map((y) => ({ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: y, y1: y, line: { dash: 'dot', color: '#9ca3af' } })) });
  $('fit-table').replaceChildren(
    h('tr', {}, ...['parameter', 'estimate', 'SE', 'RSE %', '95% CI', 'CI method', 'initial'].map((t) => h('th', {}, t))),
    ...Object.entries(res.estimates).map(([k, e]) => h('tr', {},
      h('td', {}, k), h('td', {}, fmt(e.value, 5)), h('td', {}, fmt(e.se)), h('td', {}, e.rse === null ? '–' : fmt(100 * e.rse)),
      h('td', {}, `[${fmt(e.ci95[0])}, ${fmt(e.ci95[1])}]`), h('td', {}, e.ciMethod), h('td', {}, fmt(e.initial)))),
  );
}

$('fit-run').addEventListener('click', async () => {
  let req;
  try {
    req = fitRequest();
  } catch (e) {
    status(`subjects: ${e.message}`, true);
    return;
  }
  status('fitting…');
  $('fit-run').disabled = true;
  try {
    const res = await api('/api/fit', { body: req });
    showFit(res);
    status(`fitted in ${fmt(res.ms)} ms`);
  } catch (e) {
    status(errorText(e), true);
  } finally {
    $('fit-run').disabled = false;
  }
});

// ---------------------------------------------------------------------------------------------------------
// Optimize
// ---------------------------------------------------------------------------------------------------------
const EXAMPLE = {
  model: 'immunotherapy', horizon: 365, step: 1,
  drugs: [{ name: 'pembrolizumab', target: 'PEMc', amount: { min: 100, max: 400, step: 100 }, interval: { values: [14, 21, 28, 42] }, duration: 0.0208333 }],
  objective: { finalTumor: 1, tumorAUC: 0, timeToProgression: 0 },
  constraints: { cumulativeDose: { pembrolizumab: 3600 }, cmax: { pembrolizumab: 143 } },
  compare: ['pembrolizumab-200mg-q3w', 'pembrolizumab-400mg-q6w'],
};
$('opt-request').value = JSON.stringify(EXAMPLE, null, 2);

function tumorOf(result) {
  return result.outputs.tumor ?? result.outputs.tumorVolume_mm3 ?? result.states.T ?? result.states.V;
}

$('opt-run').addEventListener('click', async () => {
  let req;
  try {
    req = JSON.parse($('opt-request').value);
  } catch (e) {
    status(`request: ${e.message}`, true);
    return;
  }
  status('optimizing…');
  $('opt-run').disabled = true;
  try {
    const res = await api('/api/optimize', { body: req });
    const b = res.best;
    $('opt-report').replaceChildren(
      h('div', {}, `Best of ${res.candidates} candidates (${res.evaluations} simulations, ${fmt(res.ms)} ms): objective ${fmt(b.objective, 5)}${b.feasible ? '' : ' — INFEASIBLE'}`),
      ...b.schedule.map((s) => h('div', {}, `${s.drug}: ${fmt(s.amount, 4)}${s.perKg ? '/kg' : ''} × ${s.count}${s.interval !== undefined ? ` every ${fmt(s.interval, 4)}` : ''} from ${fmt(s.start, 4)}`)),
      ...res.baselines.map((x) => h('div', {}, `baseline ${x.therapy}: objective ${fmt(x.objective, 5)}${x.feasible ? '' : ` (violates ${Object.keys(x.violations).join(', ')})`}`)),
    );
    const traces = [{ x: res.curves.times, y: tumorOf(res.curves), name: 'best schedule', line: { color: COLORS[0] } }];
    if (res.baselines.length) {
      const { model: m, parameters, initial, preset, weight, solver, horizon, step, doses = [], therapies = [] } = req;
      const base = await api('/api/simulate', { body: { model: m ?? 'immunotherapy', parameters, initial, preset, weight, solver, times: { start: 0, end: horizon, step: step ?? horizon / 500 }, doses, therapies: [...therapies, res.baselines[0].therapy] } });
      traces.push({ x: base.times, y: tumorOf(base), name: `baseline ${res.baselines[0].therapy}`, line: { color: COLORS[6], dash: 'dash' } });
    }
    plot($('opt-plot'), traces, { title: 'Tumor: best schedule against the baseline', xaxis: { title: 'time' }, yaxis: { type: 'log' } });
    $('opt-table').replaceChildren(
      h('tr', {}, ...['rank', 'schedule', 'objective', 'feasible', 'violations'].map((t) => h('th', {}, t))),
      ...res.table.map((c) => h('tr', {}, h('td', {}, String(c.rank)),
        h('td', {}, c.schedule.map((s) => `${s.drug} ${fmt(s.amount, 4)}×${s.count}${s.interval !== undefined ? `/q${fmt(s.interval, 3)}` : ''}`).join('; ')),
        h('td', {}, fmt(c.objective, 5)), h('td', {}, c.feasible ? 'yes' : 'no'),
        h('td', {}, Object.entries(c.violations).map(([k, v]) => `${k} +${fmt(100 * v)}%`).join(', ')))),
    );
    status(`optimized in ${fmt(res.ms)} ms`);
  } catch (e) {
    status(errorText(e), true);
  } finally {
    $('opt-run').disabled = false;
  }
});

loadModels().catch((e) => status(errorText(e), true));
