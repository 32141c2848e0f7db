// Population and sensitivity views of the main page: a virtual population per arm (POST /api/population:
// median and 90 % band of the tumor over time, final-tumor quantiles per arm) and a local sensitivity
// tornado for one arm (POST /api/sensitivity: normalized sensitivities (dM/M)/(dp/p), largest first).
import { api, ApiError, fmt, formatPath, h } from './util.js';
import { ARM_COLORS, tumorSeries } from './plots.js';
import { progressBar, runJob, isAbort } from './jobs.js';

/**
 * @typedef {import('./types').ModelFile} ModelFile
 * @typedef {import('./types').CompareBody} CompareBody
 * @typedef {import('./types').Series} Series
 * @typedef {import('./types').Trace} Trace
 * @typedef {CompareBody['arms'][number]} BodyArm
 */

/**
 * An element of the page by id. Typed as an input because the ids looked up are form controls (inputs,
 * selects, textareas, buttons) or containers, whose shared properties (value, checked, disabled) are used.
 * @type {(id: string) => HTMLInputElement}
 */
const $ = (id) => /** @type {HTMLInputElement} */ (document.getElementById(id));
const QUANTILES = [0.05, 0.5, 0.95];
const TORNADO_BARS = 15;
const MAX_SUBJECTS = 5000;

/**
 * What the analysis panels need of the main view: the model file, the current /api/compare request, and
 * whether the view's fields are valid.
 * @typedef {{ spec: () => ModelFile | null, body: () => CompareBody, valid: () => boolean }} AnalysisContext
 */
/**
 * The controller of the run in flight per panel: a new run aborts it, and a stale answer is dropped.
 * @typedef {{ population: AbortController | null, sensitivity: AbortController | null }} RunsInFlight
 */

/**
 * The page's arms as trial arms: unique names; an arm without treatment gets no doses (not the scenario's).
 * @param {BodyArm[]} arms
 */
function trialArms(arms) {
  /** @type {Map<string, number>} */
  const seen = new Map();
  return arms.map((a) => {
    const k = (seen.get(a.name) ?? 0) + 1;
    seen.set(a.name, k);
    const name = k > 1 ? `${a.name} (${k})` : a.name;
    return { name, ...(a.therapies?.length ? { therapies: a.therapies } : {}), doses: a.doses ?? [] };
  });
}

/**
 * "r=0.3, kKill=0.2" → { r: 0.3, kKill: 0.2 }, or an error message naming the bad entry.
 * @param {string} text
 * @param {Record<string, unknown>} parameters the model's parameters
 * @returns {{ omega: Record<string, number>, error?: undefined } | { error: string, omega?: undefined }}
 */
export function parseOmega(text, parameters) {
  /** @type {Record<string, number>} */
  const out = {};
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z_][\w]*)\s*=\s*([0-9.eE+-]+)$/.exec(part);
    if (!m) return { error: `'${part}' is not name=ω` };
    if (!Object.hasOwn(parameters, m[1])) return { error: `'${m[1]}' is not a parameter of this model` };
    const w = Number(m[2]);
    if (!(w >= 0 && w <= 5)) return { error: `ω of ${m[1]} must be between 0 and 5` };
    out[m[1]] = w;
  }
  if (!Object.keys(out).length) return { error: 'name at least one parameter, e.g. r=0.3' };
  return { omega: out };
}

/**
 * @param {HTMLElement} box
 * @param {unknown} e an ApiError (its issues are listed), another error, or null to clear the box
 */
function showError(box, e) {
  if (!e) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const issues = e instanceof ApiError ? e.issues.filter((i) => i.path?.length) : [];
  const status = e instanceof ApiError ? e.status : 0;
  box.replaceChildren(
    h('strong', {}, status ? `Error ${status}: ` : 'Error: '),
    issues.length
      ? h(
          'ul',
          {},
          issues.slice(0, 10).map((i) => h('li', {}, h('code', {}, formatPath(i.path)), ' ', i.message)),
        )
      : h('span', {}, e instanceof Error ? e.message : String(e)),
  );
  box.hidden = false;
}

/**
 * The shared plotly layout of the analysis plots, `extra` over it.
 * @param {string} title
 * @param {string} x
 * @param {string} y
 * @param {PlotlyObject} [extra]
 * @returns {PlotlyObject}
 */
const layoutBase = (title, x, y, extra = {}) => ({
  title: { text: title, x: 0.015, xanchor: 'left', font: { size: 14 } },
  margin: { l: 70, r: 14, t: 60, b: 46 },
  height: 360,
  paper_bgcolor: '#fff',
  plot_bgcolor: '#fff',
  font: { family: 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif', size: 11, color: '#1f2937' },
  legend: { orientation: 'h', x: 0, y: 1.02, yanchor: 'bottom' },
  xaxis: { title: { text: x }, gridcolor: '#eef0f3', zeroline: false, exponentformat: 'power' },
  yaxis: { title: { text: y }, gridcolor: '#eef0f3', exponentformat: 'power' },
  ...extra,
});
const CONFIG = () => ({
  displaylogo: false,
  responsive: true,
  displayModeBar: window.matchMedia('(max-width: 700px)').matches ? false : 'hover',
});

/**
 * The scenario part of a request (model, times, weight, parameters, preset) with one arm's treatment.
 * @param {CompareBody} body
 * @param {Partial<BodyArm>} arm
 */
const scenarioOf = (body, arm) => ({
  model: body.model,
  times: body.times,
  weight: body.weight,
  ...(body.parameters ? { parameters: body.parameters } : {}),
  ...(body.preset ? { preset: body.preset } : {}),
  ...(arm.therapies ? { therapies: arm.therapies } : {}),
  ...(arm.doses ? { doses: arm.doses } : {}),
});

/**
 * The population bands per arm (median and 90 % interval of the tumor), the final-tumor table, then the response.
 * @param {ModelFile} spec
 * @param {Series} series
 * @param {import('./types').PopulationAnswer} r
 */
function drawPopulation(spec, series, r) {
  /** @type {Trace[]} */
  const traces = [];
  const tu = spec.timeUnit ?? 'day';
  r.arms.forEach((arm, i) => {
    const color = ARM_COLORS[i % ARM_COLORS.length];
    const s = arm.summary[series.name];
    const name = arm.name;
    traces.push({
      type: 'scatter',
      mode: 'lines',
      x: r.times,
      y: s['q0.05'],
      line: { width: 0, color },
      hoverinfo: 'skip',
      showlegend: false,
      legendgroup: name,
      meta: { arm: name, band: 'low' },
    });
    traces.push({
      type: 'scatter',
      mode: 'lines',
      x: r.times,
      y: s['q0.95'],
      fill: 'tonexty',
      fillcolor: `${color}26`,
      line: { width: 0, color },
      name: `${name} 90 % interval`,
      hoverinfo: 'skip',
      showlegend: false,
      legendgroup: name,
      meta: { arm: name, band: 'high' },
    });
    traces.push({
      type: 'scatter',
      mode: 'lines',
      x: r.times,
      y: s['q0.5'],
      line: { width: 2.5, color },
      name,
      legendgroup: name,
      hovertemplate: `${name}: median %{y:.3g}<extra></extra>`,
      meta: { arm: name, median: true },
    });
  });
  const unit = series.unit ? ` (${series.unit})` : '';
  Plotly.react(
    $('plot-population'),
    traces,
    layoutBase('Virtual population: median and 90 % interval', `time (${tu})`, `tumor${unit}`, {
      yaxis: { title: { text: `tumor${unit}` }, type: 'log', dtick: 1, exponentformat: 'power', gridcolor: '#eef0f3' },
    }),
    CONFIG(),
  );
  const last = (/** @type {(number | null)[]} */ a) => a[a.length - 1];
  $('pop-table').replaceChildren(
    h('caption', {}, `Tumor at the end (${fmt(last(r.times))} ${tu}) over the virtual patients`),
    h(
      'thead',
      {},
      h('tr', {}, ...['Arm', 'median', '5 %', '95 %', 'mean', 'solved'].map((t) => h('th', { scope: 'col' }, t))),
    ),
    h(
      'tbody',
      {},
      ...r.arms.map((arm) => {
        const s = arm.summary[series.name];
        return h(
          'tr',
          {},
          h('td', {}, arm.name),
          h('td', {}, fmt(last(s['q0.5']))),
          h('td', {}, fmt(last(s['q0.05']))),
          h('td', {}, fmt(last(s['q0.95']))),
          h('td', {}, fmt(last(s.mean))),
          h('td', {}, `${arm.solved}/${arm.solved + (arm.failures?.length ?? 0)}`),
        );
      }),
    ),
  );
  drawResponse(r, tu);
}

/**
 * Per-arm objective response rate ± Monte Carlo SE and the Kaplan–Meier curves of time to progression.
 * @param {import('./types').PopulationAnswer} r
 * @param {string} tu the time unit
 */
function drawResponse(r, tu) {
  const withResponse = r.arms.flatMap((a) => (a.response ? [{ ...a, response: a.response }] : []));
  $('pop-response').hidden = !withResponse.length;
  if (!withResponse.length) return;
  const pct = (/** @type {{ p: number, se: number } | null | undefined} */ e) =>
    e ? `${fmt(100 * e.p)} % ± ${fmt(100 * e.se)}` : '–';
  $('pop-response-table').replaceChildren(
    h('caption', {}, 'Response per arm (RECIST 1.1, confirmed; ± Monte Carlo standard error)'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['Arm', 'objective response', 'median time to progression', 'evaluable', 'not evaluable'].map((t) =>
          h('th', { scope: 'col' }, t),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      ...withResponse.map((a) => {
        const ttp = a.response.timeToProgression;
        const med =
          ttp?.median === null || !ttp
            ? 'not reached'
            : `${fmt(ttp.median)} ${tu}${ttp.medianSe === null ? '' : ` ± ${fmt(ttp.medianSe)}`}`;
        return h(
          'tr',
          {},
          h('td', {}, a.name),
          h('td', { 'data-orr': a.response.objectiveResponse?.p ?? '' }, pct(a.response.objectiveResponse)),
          h('td', {}, med),
          h('td', {}, String(a.response.evaluable)),
          h('td', {}, String(a.response.notEvaluable)),
        );
      }),
    ),
  );
  /** @type {Trace[]} */
  const traces = [];
  r.arms.forEach((a, i) => {
    const ttp = a.response?.timeToProgression;
    const curve = ttp?.curve;
    if (!ttp || !curve?.length) return;
    // A step function: S holds from each event time to the next; starts at 1 at time 0.
    const x = [r.times[0]];
    const y = [1];
    for (const pt of curve) {
      x.push(pt.time, pt.time);
      y.push(y[y.length - 1], pt.survival);
    }
    x.push(ttp.followUp);
    y.push(y[y.length - 1]);
    traces.push({
      type: 'scatter',
      mode: 'lines',
      x,
      y,
      name: a.name,
      line: { color: ARM_COLORS[i % ARM_COLORS.length], width: 2, shape: 'linear' },
      hovertemplate: `${a.name}: %{y:.2f} at %{x:.3g} ${tu}<extra></extra>`,
      meta: { arm: a.name, km: true },
    });
  });
  Plotly.react(
    $('plot-km'),
    traces,
    layoutBase('Time to progression (Kaplan–Meier)', `time (${tu})`, 'progression-free fraction', {
      yaxis: { title: { text: 'progression-free fraction' }, range: [0, 1.02], gridcolor: '#eef0f3' },
    }),
    CONFIG(),
  );
}

/**
 * The global ranges: each named parameter from value/f to value·f (log-uniform), inside the range the model
 * declares; or an error naming the bad entry.
 * @param {ModelFile} spec
 * @param {CompareBody} body
 * @returns {{ ranges: Record<string, { lower: number, upper: number, distribution: string }>, error?: undefined, field?: undefined }
 *   | { error: string, field: string, ranges?: undefined }}
 */
function globalRanges(spec, body) {
  const f = Number($('sens-factor').value);
  if (!(f > 1 && f <= 100)) return { error: 'Range factor: a number above 1 (at most 100)', field: 'sens-factor' };
  const names = $('sens-vary')
    .value.split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (!names.length) return { error: 'Parameters: name at least one, e.g. r, kKill', field: 'sens-vary' };
  if (names.length > 20) return { error: 'Parameters: at most 20', field: 'sens-vary' };
  /** @type {Record<string, { lower: number, upper: number, distribution: string }>} */
  const ranges = {};
  const parameters = spec.parameters ?? {};
  for (const k of names) {
    if (!Object.hasOwn(parameters, k))
      return { error: `Parameters: '${k}' is not a parameter of this model`, field: 'sens-vary' };
    const p = parameters[k];
    const v = body.parameters?.[k] ?? p.value;
    if (!(v > 0))
      return {
        error: `Parameters: ${k} = ${fmt(v)} is not positive (a range factor needs a positive value)`,
        field: 'sens-vary',
      };
    const lower = Math.max(v / f, p.min ?? -Infinity);
    const upper = Math.min(v * f, p.max ?? Infinity);
    if (!(upper > lower))
      return { error: `Parameters: ${k} has no room in the model's declared range`, field: 'sens-vary' };
    ranges[k] = { lower, upper, distribution: lower > 0 ? 'loguniform' : 'uniform' };
  }
  return { ranges };
}

/**
 * Sobol S1 and ST per parameter as grouped bars with their bootstrap intervals, largest ST first.
 * @param {import('./types').GlobalSensitivityAnswer<import('./types').SobolIndex>} r
 * @param {string} metric
 * @param {string} armName
 */
function drawSobol(r, metric, armName) {
  const names = Object.keys(r.indices).sort((a, b) => r.indices[b].ST - r.indices[a].ST);
  /** @type {(key: 'S1' | 'ST', color: string, label: string) => PlotlyObject} */
  const bar = (key, color, label) => ({
    type: 'bar',
    name: label,
    x: names,
    y: names.map((k) => r.indices[k][key]),
    marker: { color },
    error_y: {
      type: 'data',
      symmetric: false,
      array: names.map((k) => (r.indices[k][`${key}ci`]?.[1] ?? r.indices[k][key]) - r.indices[k][key]),
      arrayminus: names.map((k) => r.indices[k][key] - (r.indices[k][`${key}ci`]?.[0] ?? r.indices[k][key])),
      color: '#374151',
      thickness: 1.2,
      width: 4,
    },
    hovertemplate: `%{x}: ${label} %{y:.3f}<extra></extra>`,
    meta: { index: key },
  });
  Plotly.react(
    $('plot-global'),
    [bar('S1', '#2563eb', 'first order S1'), bar('ST', '#f59e0b', 'total ST')],
    layoutBase(
      `Sobol indices of ${metric} (${armName}), 95 % bootstrap intervals`,
      'parameter',
      'share of the variance',
      {
        barmode: 'group',
        yaxis: { title: { text: 'share of the variance' }, rangemode: 'tozero', gridcolor: '#eef0f3' },
      },
    ),
    CONFIG(),
  );
}

/**
 * Morris μ* against σ, one marker per parameter.
 * @param {import('./types').GlobalSensitivityAnswer<import('./types').MorrisIndex>} r
 * @param {string} metric
 * @param {string} armName
 */
function drawMorris(r, metric, armName) {
  const names = Object.keys(r.indices);
  Plotly.react(
    $('plot-global'),
    [
      {
        type: 'scatter',
        mode: 'markers+text',
        x: names.map((k) => r.indices[k].muStar),
        y: names.map((k) => r.indices[k].sigma),
        text: names,
        textposition: 'top center',
        marker: { size: 10, color: '#2563eb' },
        hovertemplate: '%{text}: μ* %{x:.3g}, σ %{y:.3g}<extra></extra>',
        meta: { morris: true },
      },
    ],
    layoutBase(
      `Morris screening of ${metric} (${armName})`,
      `μ* (mean |elementary effect|, ${metric} per full range)`,
      'σ (spread: interactions, non-linearity)',
      {
        showlegend: false,
        xaxis: {
          title: { text: `μ* (mean |elementary effect| of ${metric})` },
          rangemode: 'tozero',
          gridcolor: '#eef0f3',
          exponentformat: 'power',
        },
        yaxis: {
          title: { text: 'σ of the elementary effects' },
          rangemode: 'tozero',
          gridcolor: '#eef0f3',
          exponentformat: 'power',
        },
      },
    ),
    CONFIG(),
  );
}

/** The global inputs show only for Sobol and Morris. */
function methodChanged() {
  const global = $('sens-method').value !== 'local';
  $('sens-global').hidden = !global;
  $('sens-run').textContent = global
    ? `Run ${$('sens-method').value === 'sobol' ? 'Sobol' : 'Morris'}`
    : 'Run sensitivity';
}

/** Defaults that follow the model: ω on the growth rate when it has one, arms in the arm picker. @param {AnalysisContext} ctx */
function refreshDefaults(ctx) {
  const spec = ctx.spec();
  if (!spec) return;
  const params = Object.keys(spec.parameters ?? {});
  const parsed = parseOmega($('pop-omega').value, spec.parameters ?? {});
  if (parsed.error) $('pop-omega').value = `${params.includes('r') ? 'r' : params[0]}=0.3`;
  const parameters = spec.parameters ?? {};
  if (
    $('sens-vary')
      .value.split(',')
      .map((x) => x.trim())
      .some((k) => k && !Object.hasOwn(parameters, k))
  ) {
    $('sens-vary').value = params
      .filter((k) => parameters[k].value > 0)
      .slice(0, 4)
      .join(', ');
  }
  const body = ctx.body();
  const keep = $('sens-arm').value;
  $('sens-arm').replaceChildren(...body.arms.map((a, i) => h('option', { value: String(i) }, a.name)));
  if (Number(keep) < body.arms.length) $('sens-arm').value = keep;
}

/**
 * A virtual population per arm as a job, with progress and Cancel (a new run cancels the previous one).
 * @param {AnalysisContext} ctx
 * @param {RunsInFlight} running
 */
async function runPopulation(ctx, running) {
  const spec = ctx.spec();
  if (!spec) return;
  const box = $('pop-error');
  const parsed = parseOmega($('pop-omega').value, spec.parameters ?? {});
  const n = Number($('pop-n').value);
  const nOk = Number.isInteger(n) && n >= 2 && n <= MAX_SUBJECTS;
  $('pop-omega').toggleAttribute('aria-invalid', Boolean(parsed.error));
  $('pop-n').toggleAttribute('aria-invalid', !nOk);
  if (parsed.error !== undefined) return showError(box, new Error(`Variability: ${parsed.error}`));
  if (!nOk) return showError(box, new Error(`Subjects: a whole number from 2 to ${MAX_SUBJECTS}`));
  if (!ctx.valid()) return showError(box, new Error('fix the highlighted fields of the view first'));
  running.population?.abort();
  const ctl = new AbortController();
  running.population = ctl;
  const body = ctx.body();
  const series = tumorSeries(spec);
  const arms = trialArms(body.arms);
  $('pop-status').textContent = `Simulating ${n} virtual patients × ${arms.length} arm${arms.length > 1 ? 's' : ''}…`;
  $('pop-run').disabled = true;
  document.body.dataset.population = 'running';
  const bar = progressBar($('pop-progress'), 'Virtual population', () => ctl.abort());
  const request = {
    ...scenarioOf(body, {}),
    arms,
    population: {
      n,
      seed: 1,
      omega: parsed.omega,
      quantiles: QUANTILES,
      series: [series.name],
      ...(spec.roles?.tumor ? { response: { bootstrap: 100 } } : {}),
    },
  };
  try {
    /** @type {import('./types').PopulationAnswer} */
    const r = await runJob('population', request, {
      onProgress: bar.update,
      signal: ctl.signal,
      onSubmitted: (id) => {
        document.body.dataset.populationJob = id;
      },
    });
    if (running.population !== ctl) return;
    showError(box, null);
    drawPopulation(spec, series, r);
    $('pop-status').textContent =
      `${n} virtual patients per arm, the same subjects in every arm (seed 1), ω: ${Object.entries(parsed.omega)
        .map(([k, w]) => `${k} ${w}`)
        .join(', ')}`;
    document.body.dataset.population = 'ok';
  } catch (e) {
    if (running.population !== ctl && isAbort(e)) return;
    if (isAbort(e)) {
      $('pop-status').textContent = 'Cancelled: the job was stopped on the server.';
      document.body.dataset.population = 'cancelled';
      return;
    }
    showError(box, e);
    $('pop-status').textContent = '';
    document.body.dataset.population = 'error';
  } finally {
    if (running.population === ctl) {
      bar.done();
      $('pop-run').disabled = false;
      running.population = null;
    }
  }
}

/**
 * The local tornado for one arm (POST /api/sensitivity), or the global method chosen.
 * @param {AnalysisContext} ctx
 * @param {RunsInFlight} running
 */
async function runSensitivity(ctx, running) {
  if ($('sens-method').value !== 'local') return runGlobal(ctx, running);
  const spec = ctx.spec();
  if (!spec) return;
  const parameters = spec.parameters ?? {};
  const box = $('sens-error');
  if (!ctx.valid()) return showError(box, new Error('fix the highlighted fields of the view first'));
  running.sensitivity?.abort();
  const ctl = new AbortController();
  running.sensitivity = ctl;
  const body = ctx.body();
  const arm = body.arms[Number($('sens-arm').value)] ?? body.arms[0];
  const metric = $('sens-metric').value;
  const names = Object.keys(parameters).filter((k) => parameters[k].value !== 0 && (body.parameters?.[k] ?? 1) !== 0);
  $('sens-status').textContent = `${2 * names.length + 1} simulations…`;
  $('sens-run').disabled = true;
  document.body.dataset.sensitivity = 'running';
  try {
    /** @type {import('./types').LocalSensitivityAnswer} */
    const r = await api('api/sensitivity', {
      body: {
        ...scenarioOf(body, arm),
        sensitivity: { parameters: names.slice(0, 100), response: { metric }, step: 0.01 },
      },
      signal: ctl.signal,
    });
    if (running.sensitivity !== ctl) return;
    showError(box, null);
    const top = r.parameters
      .flatMap((p) => (p.normalized === null ? [] : [{ name: p.name, normalized: p.normalized }]))
      .slice(0, TORNADO_BARS)
      .reverse();
    Plotly.react(
      $('plot-tornado'),
      [
        {
          type: 'bar',
          orientation: 'h',
          y: top.map((p) => p.name),
          x: top.map((p) => p.normalized),
          marker: { color: top.map((p) => (p.normalized >= 0 ? '#dc2626' : '#2563eb')) },
          hovertemplate: '%{y}: %{x:.3g}<extra></extra>',
        },
      ],
      layoutBase(`Sensitivity of ${metric} (${arm.name})`, `normalized sensitivity (ΔM/M)/(Δp/p) of ${metric}`, '', {
        height: 120 + 22 * top.length,
        showlegend: false,
        margin: { l: 110, r: 14, t: 50, b: 46 },
        yaxis: { automargin: true, gridcolor: '#eef0f3' },
      }),
      CONFIG(),
    );
    $('sens-status').textContent =
      `${metric} = ${fmt(r.value)} · ${r.solves} simulations, ${fmt(r.ms)} ms · red: raising the parameter raises ${metric}`;
    document.body.dataset.sensitivity = 'ok';
  } catch (e) {
    if (isAbort(e)) return;
    showError(box, e);
    $('sens-status').textContent = '';
    document.body.dataset.sensitivity = 'error';
  } finally {
    if (running.sensitivity === ctl) {
      $('sens-run').disabled = false;
      running.sensitivity = null;
    }
  }
}

/**
 * Sobol (S1, ST with bootstrap intervals) or Morris (μ*, σ) over the ranges, as a job with progress and Cancel.
 * @param {AnalysisContext} ctx
 * @param {RunsInFlight} running
 */
async function runGlobal(ctx, running) {
  const spec = ctx.spec();
  if (!spec) return;
  const box = $('sens-error');
  const method = $('sens-method').value;
  const body = ctx.body();
  const g = globalRanges(spec, body);
  const samples = Number($('sens-samples').value);
  const samplesOk = Number.isInteger(samples) && samples >= 4 && samples <= 4096;
  for (const id of ['sens-factor', 'sens-vary', 'sens-samples'])
    $(id).toggleAttribute('aria-invalid', g.field === id || (id === 'sens-samples' && !samplesOk));
  if (g.error !== undefined) return showError(box, new Error(g.error));
  if (!samplesOk) return showError(box, new Error('Samples: a whole number from 4 to 4096'));
  if (!ctx.valid()) return showError(box, new Error('fix the highlighted fields of the view first'));
  running.sensitivity?.abort();
  const ctl = new AbortController();
  running.sensitivity = ctl;
  const arm = body.arms[Number($('sens-arm').value)] ?? body.arms[0];
  const metric = $('sens-metric').value;
  const d = Object.keys(g.ranges).length;
  const solves = method === 'sobol' ? samples * (d + 2) : samples * (d + 1);
  $('sens-status').textContent = `${method === 'sobol' ? 'Sobol' : 'Morris'}: ${solves} simulations…`;
  $('sens-run').disabled = true;
  document.body.dataset.sensitivity = 'running';
  const bar = progressBar($('sens-progress'), 'Global sensitivity', () => ctl.abort());
  const request = {
    ...scenarioOf(body, arm),
    doses: arm.doses ?? [],
    sensitivity: { method, ranges: g.ranges, response: { metric }, samples, seed: 1 },
  };
  try {
    /** @type {import('./types').GlobalSensitivityAnswer} Sobol or Morris indices, by `method` */
    const r = await runJob('sensitivity', request, {
      onProgress: bar.update,
      signal: ctl.signal,
      onSubmitted: (id) => {
        document.body.dataset.sensitivityJob = id;
      },
    });
    if (running.sensitivity !== ctl) return;
    showError(box, null);
    if (method === 'sobol')
      drawSobol(
        /** @type {import('./types').GlobalSensitivityAnswer<import('./types').SobolIndex>} */ (r),
        metric,
        arm.name,
      );
    else
      drawMorris(
        /** @type {import('./types').GlobalSensitivityAnswer<import('./types').MorrisIndex>} */ (r),
        metric,
        arm.name,
      );
    $('sens-status').textContent =
      `${method === 'sobol' ? 'Sobol' : 'Morris'} over ${d} parameter${d > 1 ? 's' : ''} (×/÷ ${$('sens-factor').value}, log-uniform) · ${r.solves ?? solves} simulations${r.dropped ? `, ${r.dropped} failed and left out` : ''}`;
    document.body.dataset.sensitivity = 'ok';
  } catch (e) {
    if (running.sensitivity !== ctl && isAbort(e)) return;
    if (isAbort(e)) {
      $('sens-status').textContent = 'Cancelled: the job was stopped on the server.';
      document.body.dataset.sensitivity = 'cancelled';
      return;
    }
    showError(box, e);
    $('sens-status').textContent = '';
    document.body.dataset.sensitivity = 'error';
  } finally {
    if (running.sensitivity === ctl) {
      bar.done();
      $('sens-run').disabled = false;
      running.sensitivity = null;
    }
  }
}

/**
 * Wire the controls. `ctx.spec()` is the current model file, `ctx.body()` the current /api/compare request
 * (its arms), `ctx.valid()` false while the view has invalid fields.
 * @param {AnalysisContext} ctx
 * @returns {{ refresh: () => void }} refresh: the defaults that follow the model and the arms
 */
export function setupAnalysis(ctx) {
  /** @type {RunsInFlight} */
  const running = { population: null, sensitivity: null };
  const refresh = () => refreshDefaults(ctx);
  $('pop-run').addEventListener('click', () => runPopulation(ctx, running));
  $('sens-run').addEventListener('click', () => runSensitivity(ctx, running));
  $('analysis').addEventListener('toggle', refresh);
  $('sens-method').addEventListener('change', methodChanged);
  methodChanged();
  return { refresh };
}
