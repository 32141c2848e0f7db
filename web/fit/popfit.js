// The population-fit tab of the fit page: a NONMEM-style dataset (docs/datasets.md) and a fit request with
// `population` (docs/nlme.md) through POST /api/fit; the result as an estimates table (θ with RSE, Ω as
// CV % with η shrinkage, σ), goodness-of-fit plots (DV vs PRED and IPRED with the identity line, CWRES vs
// time and vs PRED), individual fits per subject, and a VPC (POST /api/vpc: observed percentiles over the
// simulated ones' median and band). Everything shown is the server's: the page computes nothing.
import { api, ApiError, fmt, formatPath, h } from '../util.js';

/**
 * An element of the page by id. Typed as an input because the ids looked up are form controls (inputs,
 * selects, textareas, buttons) or containers, whose shared properties (value, checked, disabled) are used.
 * @type {(id: string) => HTMLInputElement}
 */
const $ = (id) => /** @type {HTMLInputElement} */ (document.getElementById(id));
const EXAMPLE = 'examples/tgi-logistic';
/**
 * @typedef {import('../types').PopFitAnswer} PopFitAnswer
 * @typedef {import('../types').PopRecord} PopRecord
 */
/** @type {import('../types').ModelFile | null} */
let model = null;
/** @type {{ request: object, result: PopFitAnswer } | null} the last successful fit */
let last = null;
/** @type {AbortController | null} */
let fitCtl = null;

/** @param {unknown} e an ApiError (its issues are listed), another error, or null to clear the box */
function showError(e) {
  const box = $('pop-error-box');
  if (!e) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const issues = e instanceof ApiError ? e.issues.filter((i) => i.path?.length) : [];
  const message = e instanceof Error ? e.message : String(e);
  box.replaceChildren(
    h('strong', {}, e instanceof ApiError && e.status ? `Error ${e.status}: ${message}` : `Error: ${message}`),
    ...(issues.length
      ? [
          h(
            'ul',
            {},
            issues.slice(0, 12).map((i) => h('li', {}, h('code', {}, formatPath(i.path)), ' ', i.message)),
          ),
        ]
      : []),
  );
  box.hidden = false;
  box.scrollIntoView({ block: 'nearest' });
}

/**
 * "a=1, b=2e-3" → { a: 1, b: 0.002 } (numbers) or { a: "(WT/70)^beta" } (text); an error names the entry.
 * @param {string} text
 * @param {string} field the form field's name, for the error
 * @param {boolean} [numeric]
 * @returns {{ values: Record<string, number | string>, error?: undefined } | { error: string, values?: undefined }}
 */
export function parseList(text, field, numeric = true) {
  /** @type {Record<string, number | string>} */
  const out = {};
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    const name = eq > 0 ? part.slice(0, eq).trim() : '';
    const value = eq > 0 ? part.slice(eq + 1).trim() : '';
    if (!/^[A-Za-z_]\w*$/.test(name) || !value) return { error: `${field}: '${part}' is not name=value` };
    if (numeric && !Number.isFinite(Number(value))) return { error: `${field}: the value of ${name} is not a number` };
    out[name] = numeric ? Number(value) : value;
  }
  return { values: out };
}

/**
 * The shared plotly layout of the tab's plots, `extra` over it.
 * @param {string} title
 * @param {string} x
 * @param {string} y
 * @param {PlotlyObject} [extra]
 * @returns {PlotlyObject}
 */
const layout = (title, x, y, extra = {}) => ({
  title: { text: title, x: 0.015, xanchor: 'left', font: { size: 13 } },
  margin: { l: 64, r: 12, t: 40, b: 44 },
  height: 300,
  paper_bgcolor: '#fff',
  plot_bgcolor: '#fff',
  font: { family: 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif', size: 11, color: '#1f2937' },
  showlegend: false,
  hovermode: 'closest',
  xaxis: { title: { text: x }, gridcolor: '#eef0f3', zeroline: false, exponentformat: 'power' },
  yaxis: { title: { text: y }, gridcolor: '#eef0f3', zeroline: false, exponentformat: 'power' },
  ...extra,
});
const CONFIG = () => ({
  displaylogo: false,
  responsive: true,
  displayModeBar: window.matchMedia('(max-width: 700px)').matches ? false : 'hover',
});

async function pickModel() {
  /** @type {import('../types').ModelFile} */
  const m = await api(`/api/models/${encodeURIComponent($('pop-model').value)}`);
  model = m;
  const names = [...Object.keys(m.states ?? {}), ...Object.keys(m.outputs ?? {})];
  $('pop-observables').textContent =
    `CMT may name: ${names.join(', ')}. Parameters: ${Object.keys(m.parameters ?? {}).join(', ')}.`;
}

async function loadModels() {
  const list = await api('/api/models');
  /** @type {import('../types').ModelListEntry[]} */
  const models = Array.isArray(list) ? list : (list.models ?? []);
  $('pop-model').replaceChildren(...models.map((m) => h('option', { value: m.id }, m.id)));
  $('pop-model').value = models.some((m) => m.id === 'tgi-logistic') ? 'tgi-logistic' : models[0]?.id;
  await pickModel();
}

/** The example: a dataset simulated from tgi-logistic and a fit request whose fields fill the form. */
async function loadExample() {
  const [csv, spec] = await Promise.all([
    fetch(`${EXAMPLE}.csv`).then((r) => r.text()),
    fetch(`${EXAMPLE}.fit.json`).then((r) => r.json()),
  ]);
  $('pop-csv').value = csv;
  $('pop-model').value = spec.model;
  await pickModel();
  /** @type {(o: Record<string, any> | undefined, f?: (v: any) => unknown) => string} name=value pairs of the example's (JSON) fields */
  const list = (o, f = (v) => v) =>
    Object.entries(o ?? {})
      .map(([k, v]) => `${k}=${f(v)}`)
      .join(', ');
  $('pop-theta').value = list(spec.estimate, (e) => e.initial);
  $('pop-omega').value = list(spec.population.omega);
  $('pop-cov').value = list(spec.population.covariates);
  $('pop-fixed').value = list(spec.parameters);
  $('pop-method').value = spec.population.method ?? 'focei';
  $('pop-error').value = spec.error?.model ?? 'additive';
  $('pop-transform').value = spec.error?.transform ?? 'none';
  $('pop-report').textContent = `Example loaded: ${spec.description}`;
}

/**
 * The fit request from the form, or the first problem (with the field to highlight).
 * @returns {{ request?: object, error?: string, field?: string }} either the request or the error and its field
 */
function buildRequest() {
  const csv = $('pop-csv').value.trim();
  if (!csv) return { error: 'Dataset: load a CSV file, paste one, or Load example', field: 'pop-csv' };
  const theta = parseList($('pop-theta').value, 'θ');
  if (theta.error !== undefined) return { error: theta.error, field: 'pop-theta' };
  if (!Object.keys(theta.values).length)
    return { error: 'θ: name at least one parameter to estimate, e.g. r=0.1', field: 'pop-theta' };
  const omega = parseList($('pop-omega').value, 'Ω');
  if (omega.error !== undefined) return { error: omega.error, field: 'pop-omega' };
  if (!Object.keys(omega.values).length)
    return { error: 'Ω: give at least one variance, e.g. r=0.1', field: 'pop-omega' };
  const cov = parseList($('pop-cov').value, 'Covariates', false);
  if (cov.error !== undefined) return { error: cov.error, field: 'pop-cov' };
  const fixed = parseList($('pop-fixed').value, 'Fixed parameters');
  if (fixed.error !== undefined) return { error: fixed.error, field: 'pop-fixed' };
  const estimate = Object.fromEntries(Object.entries(theta.values).map(([k, v]) => [k, { initial: v }]));
  return {
    request: {
      model: $('pop-model').value,
      dataset: csv,
      estimate,
      ...(Object.keys(fixed.values).length ? { parameters: fixed.values } : {}),
      error: { model: $('pop-error').value, transform: $('pop-transform').value },
      population: {
        method: $('pop-method').value,
        omega: omega.values,
        ...(Object.keys(cov.values).length ? { covariates: cov.values } : {}),
      },
    },
  };
}

async function runFit() {
  const built = buildRequest();
  for (const id of ['pop-csv', 'pop-theta', 'pop-omega', 'pop-cov', 'pop-fixed'])
    $(id).toggleAttribute('aria-invalid', built.field === id);
  if (built.error !== undefined || !built.request) return showError(new Error(built.error ?? 'no request'));
  const request = built.request;
  fitCtl?.abort();
  const ctl = new AbortController();
  fitCtl = ctl;
  $('pop-fit').disabled = true;
  $('pop-cancel').hidden = false;
  $('pop-vpc').disabled = true;
  document.body.dataset.popfit = 'running';
  $('pop-report').textContent = `Fitting (${$('pop-method').value === 'saem' ? 'SAEM' : 'FOCE-I'})…`;
  try {
    /** @type {PopFitAnswer} */
    const result = await api('/api/fit', { body: request, signal: ctl.signal });
    showError(null);
    last = { request, result };
    drawFit(result);
    $('pop-vpc').disabled = false;
    document.body.dataset.popfit = 'ok';
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') {
      // Cancel: the request is dropped, and the server stops the fit when its client goes away.
      $('pop-report').textContent = 'Cancelled.';
      document.body.dataset.popfit = 'cancelled';
      return;
    }
    showError(e);
    $('pop-report').textContent = 'The fit failed: see the error above.';
    document.body.dataset.popfit = 'error';
  } finally {
    if (fitCtl === ctl) {
      fitCtl = null;
      $('pop-fit').disabled = false;
      $('pop-cancel').hidden = true;
      $('pop-vpc').disabled = !last;
    }
  }
}

const pct = (/** @type {number | null | undefined} */ x) =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : `${fmt(100 * x)} %`;

/** @param {PopFitAnswer} r */
function drawFit(r) {
  $('pop-report').replaceChildren(
    h(
      'p',
      {},
      h('strong', {}, `${r.method === 'saem' ? 'SAEM' : 'FOCE-I'}: ${r.converged ? 'converged' : 'NOT converged'}`),
      ` (${r.reason}) · OFV ${fmt(r.ofv, 6)} (−2 log L ${fmt(r.minus2LogLikelihood, 6)}) · AIC ${fmt(r.aic, 5)} · BIC ${fmt(r.bic, 5)}`,
    ),
    h(
      'p',
      {},
      `${r.subjects} subjects, ${r.observations} observations, ${r.parameters} population parameters · ${r.iterations} iterations, ${r.odeSolves} ODE solves, ${fmt(r.ms / 1000)} s · SEs: ${r.covariance?.method === 'R' ? 'R matrix' : 'none'}`,
    ),
    ...(r.warnings ?? []).map((w) => h('p', { class: 'warn' }, `⚠ ${w}`)),
  );
  drawTable(r);
  drawGof(r);
  const ids = [...new Set(r.records.map((x) => x.subject))];
  $('pop-subject').replaceChildren(...ids.map((id) => h('option', { value: id }, id)));
  drawIndividual(r, ids[0]);
  window.Plotly?.purge($('pop-vpc-plot'));
  $('pop-vpc-status').textContent = '';
}

/** @param {PopFitAnswer} r */
function drawTable(r) {
  const head = ['parameter', 'estimate', 'RSE', '95 % CI', 'CV (√ω²)', 'shrinkage'];
  /** @type {{ kind: string, cells: string[] }[]} */
  const rows = [];
  const ci = (/** @type {[number | null, number | null] | undefined} */ c) =>
    c && c[0] !== null ? `${fmt(c[0])} – ${fmt(c[1])}` : '–';
  for (const [k, t] of Object.entries(r.theta))
    rows.push({
      kind: 'theta',
      cells: [`θ ${k}${t.atBound ? ' (at bound)' : ''}`, fmt(t.value, 4), pct(t.rse), ci(t.ci95), '', ''],
    });
  for (const [k, b] of Object.entries(r.beta ?? {}))
    rows.push({ kind: 'beta', cells: [`β ${k}`, fmt(b.value, 4), pct(b.rse), ci(b.ci95), '', ''] });
  r.omega.names.forEach((k, i) => {
    const v = r.omega.matrix[i][i];
    const se = r.omega.se?.[i]?.[i];
    rows.push({
      kind: 'omega',
      cells: [
        `ω² ${k}`,
        fmt(v, 4),
        se === null || se === undefined ? '–' : pct(se / v),
        ci(r.omega.ci95?.[i]),
        pct(r.omega.cv[i]),
        pct(r.omega.shrinkage[i]),
      ],
    });
  });
  for (const key of /** @type {const} */ (['sigma', 'sigmaProp'])) {
    const s = r.sigma[key];
    if (s)
      rows.push({
        kind: 'sigma',
        cells: [
          `σ${key === 'sigmaProp' ? ' proportional' : ''}${r.sigma.transform === 'log' ? ' (log scale)' : ''}`,
          fmt(s.value, 4),
          pct(s.rse),
          ci(s.ci95),
          '',
          key === 'sigma' ? `ε ${pct(r.sigma.epsilonShrinkage)}` : '',
        ],
      });
  }
  $('pop-table').replaceChildren(
    h('caption', {}, 'Estimates (RSE = SE/estimate; Ω as variances of η, with CV = √ω² and η shrinkage 1 − SD(η̂)/ω)'),
    h('thead', {}, h('tr', {}, ...head.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, ...rows.map((row) => h('tr', { 'data-kind': row.kind }, ...row.cells.map((c) => h('td', {}, c))))),
  );
}

/** @param {PopFitAnswer} r */
function drawGof(r) {
  const recs = r.records;
  const logAxes = r.sigma.transform === 'log';
  const axisType = logAxes ? 'log' : 'linear';
  const text = recs.map((x) => `ID ${x.subject}, t ${fmt(x.time)}`);
  /** @type {(x: (number | null)[], y: (number | null)[], name: string) => PlotlyObject} */
  const points = (x, y, name) => ({
    type: 'scatter',
    mode: 'markers',
    x,
    y,
    text,
    name,
    marker: { size: 6, color: '#2563eb', opacity: 0.7 },
    hovertemplate: '%{text}: %{x:.3g}, %{y:.3g}<extra></extra>',
  });
  /** @type {(xs: (number | null)[], ys: (number | null)[]) => PlotlyObject} */
  const identity = (xs, ys) => {
    const all = [...xs, ...ys].filter((v) => v !== null && Number.isFinite(v) && (!logAxes || v > 0)).map(Number);
    const lo = Math.min(...all);
    const hi = Math.max(...all);
    return {
      type: 'scatter',
      mode: 'lines',
      x: [lo, hi],
      y: [lo, hi],
      name: 'identity',
      line: { color: '#6b7280', dash: 'dash', width: 1 },
      hoverinfo: 'skip',
      meta: { identity: true },
    };
  };
  /** @type {(xs: number[]) => PlotlyObject} */
  const zero = (xs) => ({
    type: 'scatter',
    mode: 'lines',
    x: [Math.min(...xs), Math.max(...xs)],
    y: [0, 0],
    name: 'zero',
    line: { color: '#6b7280', dash: 'dash', width: 1 },
    hoverinfo: 'skip',
    meta: { zero: true },
  });
  const DV = recs.map((x) => x.DV);
  const PRED = recs.map((x) => x.PRED);
  const IPRED = recs.map((x) => x.IPRED);
  const TIME = recs.map((x) => x.time);
  const CWRES = recs.map((x) => x.CWRES);
  const tu = model?.timeUnit ?? 'day';
  const logXY = {
    xaxis: { title: { text: '' }, type: axisType, gridcolor: '#eef0f3', exponentformat: 'power' },
    yaxis: { title: { text: 'DV (observed)' }, type: axisType, gridcolor: '#eef0f3', exponentformat: 'power' },
  };
  Plotly.react(
    $('pop-dv-pred'),
    [points(PRED, DV, 'DV vs PRED'), identity(PRED, DV)],
    layout('DV vs PRED (population)', 'PRED', 'DV', {
      ...logXY,
      xaxis: { ...logXY.xaxis, title: { text: 'PRED (η = 0)' } },
    }),
    CONFIG(),
  );
  Plotly.react(
    $('pop-dv-ipred'),
    [points(IPRED, DV, 'DV vs IPRED'), identity(IPRED, DV)],
    layout('DV vs IPRED (individual)', 'IPRED', 'DV', {
      ...logXY,
      xaxis: { ...logXY.xaxis, title: { text: 'IPRED (η = EBE)' } },
    }),
    CONFIG(),
  );
  Plotly.react(
    $('pop-cwres-time'),
    [points(TIME, CWRES, 'CWRES vs time'), zero(TIME)],
    layout('CWRES vs time', `time (${tu})`, 'CWRES'),
    CONFIG(),
  );
  Plotly.react(
    $('pop-cwres-pred'),
    [points(PRED, CWRES, 'CWRES vs PRED'), zero(PRED)],
    layout('CWRES vs PRED', 'PRED', 'CWRES', {
      xaxis: { title: { text: 'PRED (η = 0)' }, type: axisType, gridcolor: '#eef0f3', exponentformat: 'power' },
    }),
    CONFIG(),
  );
}

/**
 * @param {PopFitAnswer} r
 * @param {string} id the subject
 */
function drawIndividual(r, id) {
  const recs = r.records.filter((x) => x.subject === id).sort((a, b) => a.time - b.time);
  const x = recs.map((q) => q.time);
  const log = r.sigma.transform === 'log';
  const tu = model?.timeUnit ?? 'day';
  const ebe = r.ebe.find((e) => e.subject === id);
  const params = ebe
    ? Object.entries(ebe.parameters)
        .map(([k, v]) => `${k} ${fmt(v)}`)
        .join(', ')
    : '';
  Plotly.react(
    $('pop-indiv'),
    [
      {
        type: 'scatter',
        mode: 'markers',
        x,
        y: recs.map((q) => q.DV),
        name: 'DV',
        marker: { size: 8, color: '#111827' },
        meta: { series: 'DV' },
      },
      {
        type: 'scatter',
        mode: 'lines+markers',
        x,
        y: recs.map((q) => q.IPRED),
        name: 'IPRED (individual)',
        line: { color: '#2563eb', width: 2 },
        marker: { size: 4 },
        meta: { series: 'IPRED' },
      },
      {
        type: 'scatter',
        mode: 'lines',
        x,
        y: recs.map((q) => q.PRED),
        name: 'PRED (population)',
        line: { color: '#f59e0b', dash: 'dash', width: 2 },
        meta: { series: 'PRED' },
      },
    ],
    layout(`Subject ${id}${params ? ` · EBE ${params}` : ''}`, `time (${tu})`, `${recs[0]?.observable ?? 'DV'}`, {
      showlegend: true,
      legend: { orientation: 'h', x: 0, y: -0.25 },
      margin: { l: 64, r: 12, t: 40, b: 70 },
      yaxis: {
        title: { text: recs[0]?.observable ?? 'DV' },
        type: log ? 'log' : 'linear',
        gridcolor: '#eef0f3',
        exponentformat: 'power',
      },
    }),
    CONFIG(),
  );
}

async function runVpc() {
  if (!last) return;
  const n = Number($('pop-vpc-n').value);
  const ok = Number.isInteger(n) && n >= 500 && n <= 5000;
  $('pop-vpc-n').toggleAttribute('aria-invalid', !ok);
  if (!ok) return showError(new Error('VPC replicates: a whole number from 500 to 5000'));
  $('pop-vpc').disabled = true;
  document.body.dataset.vpc = 'running';
  $('pop-vpc-status').textContent = `Simulating the dataset's design ${n} times…`;
  try {
    /** @type {import('../types').VpcAnswer} */
    const v = await api('/api/vpc', {
      body: {
        ...last.request,
        result: last.result,
        vpc: { replicates: n, seed: 1, predictionCorrected: $('pop-vpc-pc').checked },
      },
    });
    showError(null);
    drawVpc(v);
    document.body.dataset.vpc = 'ok';
  } catch (e) {
    showError(e);
    $('pop-vpc-status').textContent = '';
    document.body.dataset.vpc = 'error';
  } finally {
    $('pop-vpc').disabled = false;
  }
}

/** @param {import('../types').VpcAnswer} v */
function drawVpc(v) {
  const observable = v.bins[0]?.observable;
  const bins = v.bins.filter((b) => b.observable === observable);
  const keys = Object.keys(bins[0]?.observed ?? {});
  const colors = ['#2563eb', '#dc2626', '#2563eb', '#7c3aed', '#059669'];
  /** @type {PlotlyObject[]} */
  const traces = [];
  const x = bins.map((b) => b.time);
  keys.forEach((k, i) => {
    const color = k === 'p50' ? '#dc2626' : colors[i % colors.length];
    traces.push({
      type: 'scatter',
      mode: 'lines',
      x,
      y: bins.map((b) => b.simulated[k].lo),
      line: { width: 0, color },
      hoverinfo: 'skip',
      showlegend: false,
      meta: { percentile: k, band: 'lo' },
    });
    traces.push({
      type: 'scatter',
      mode: 'lines',
      x,
      y: bins.map((b) => b.simulated[k].hi),
      fill: 'tonexty',
      fillcolor: `${color}22`,
      line: { width: 0, color },
      name: `simulated ${k.slice(1)}th: ${Math.round(100 * v.level)} % band`,
      meta: { percentile: k, band: 'hi' },
    });
    traces.push({
      type: 'scatter',
      mode: 'lines',
      x,
      y: bins.map((b) => b.simulated[k].median),
      line: { color, dash: 'dash', width: 1.5 },
      name: `simulated ${k.slice(1)}th (median)`,
      meta: { percentile: k, simulated: true },
    });
    traces.push({
      type: 'scatter',
      mode: 'lines+markers',
      x,
      y: bins.map((b) => b.observed[k]),
      line: { color, width: 2.5 },
      marker: { size: 6 },
      name: `observed ${k.slice(1)}th`,
      meta: { percentile: k, observed: true },
    });
  });
  const log = last?.result.sigma.transform === 'log';
  const tu = model?.timeUnit ?? 'day';
  Plotly.react(
    $('pop-vpc-plot'),
    traces,
    layout(
      `${v.predictionCorrected ? 'Prediction-corrected VPC' : 'VPC'} of ${observable}: observed percentiles over the simulated ones`,
      `time (${tu})`,
      observable,
      {
        height: 420,
        showlegend: true,
        legend: { orientation: 'h', x: 0, y: -0.2 },
        margin: { l: 64, r: 12, t: 40, b: 110 },
        yaxis: {
          title: { text: observable },
          type: log ? 'log' : 'linear',
          gridcolor: '#eef0f3',
          exponentformat: 'power',
        },
      },
    ),
    CONFIG(),
  );
  $('pop-vpc-status').textContent =
    `${v.replicates} replicates (seed ${v.seed}), ${bins.length} time bins (${v.binning.method === 'edges' ? 'given edges' : 'equal-count'}), bands: ${Math.round(100 * v.level)} % of the simulated percentile${v.failedSimulations ? ` · ${v.failedSimulations} simulated subjects failed` : ''}`;
}

$('pop-model').addEventListener('change', () => pickModel().catch(showError));
$('pop-example').addEventListener('click', () => loadExample().catch(showError));
$('pop-fit').addEventListener('click', runFit);
$('pop-cancel').addEventListener('click', () => fitCtl?.abort());
$('pop-vpc').addEventListener('click', runVpc);
$('pop-subject').addEventListener('change', () => last && drawIndividual(last.result, $('pop-subject').value));
$('pop-file').addEventListener('change', async () => {
  const f = $('pop-file').files?.[0];
  if (f) $('pop-csv').value = await f.text();
});
loadModels().catch(showError);
