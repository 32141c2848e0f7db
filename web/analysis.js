// Population and sensitivity views of the main page: a virtual population per arm (POST /api/population:
// median and 90 % band of the tumor over time, final-tumor quantiles per arm) and a local sensitivity
// tornado for one arm (POST /api/sensitivity: normalized sensitivities (dM/M)/(dp/p), largest first).
import { api, ApiError, fmt, formatPath, h } from './util.js';
import { ARM_COLORS, tumorSeries } from './plots.js';

const $ = (id) => document.getElementById(id);
const QUANTILES = [0.05, 0.5, 0.95];
const TORNADO_BARS = 15;

/** "r=0.3, kKill=0.2" → { r: 0.3, kKill: 0.2 }, or an error message naming the bad entry. */
export function parseOmega(text, parameters) {
  const out = {};
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
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

function showError(box, e) {
  if (!e) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const issues = e instanceof ApiError ? e.issues.filter((i) => i.path?.length) : [];
  box.replaceChildren(h('strong', {}, e.status ? `Error ${e.status}: ` : 'Error: '),
    issues.length ? h('ul', {}, issues.slice(0, 10).map((i) => h('li', {}, h('code', {}, formatPath(i.path)), ' ', i.message))) : h('span', {}, e.message));
  box.hidden = false;
}

const layoutBase = (title, x, y, extra = {}) => ({
  title: { text: title, x: 0.015, xanchor: 'left', font: { size: 14 } },
  margin: { l: 70, r: 14, t: 60, b: 46 }, height: 360, paper_bgcolor: '#fff', plot_bgcolor: '#fff',
  font: { family: 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif', size: 11, color: '#1f2937' },
  legend: { orientation: 'h', x: 0, y: 1.02, yanchor: 'bottom' },
  xaxis: { title: { text: x }, gridcolor: '#eef0f3', zeroline: false, exponentformat: 'power' },
  yaxis: { title: { text: y }, gridcolor: '#eef0f3', exponentformat: 'power' },
  ...extra,
});
const CONFIG = () => ({ displaylogo: false, responsive: true, displayModeBar: window.matchMedia('(max-width: 700px)').matches ? false : 'hover' });

/**
 * Wire the controls. `ctx.spec()` is the current model file, `ctx.body()` the current /api/compare request
 * (its arms), `ctx.valid()` false while the view has invalid fields.
 */
export function setupAnalysis(ctx) {
  let popCtl = null;
  let senCtl = null;

  const scenarioOf = (body, arm) => ({
    model: body.model, times: body.times, weight: body.weight,
    ...(body.parameters ? { parameters: body.parameters } : {}), ...(body.preset ? { preset: body.preset } : {}),
    ...(arm.therapies ? { therapies: arm.therapies } : {}), ...(arm.doses ? { doses: arm.doses } : {}),
  });

  /** Defaults that follow the model: ω on the growth rate when it has one, arms in the arm picker. */
  function refresh() {
    const spec = ctx.spec();
    if (!spec) return;
    const params = Object.keys(spec.parameters);
    const parsed = parseOmega($('pop-omega').value, spec.parameters);
    if (parsed.error) $('pop-omega').value = `${params.includes('r') ? 'r' : params[0]}=0.3`;
    const body = ctx.body();
    const keep = $('sens-arm').value;
    $('sens-arm').replaceChildren(...body.arms.map((a, i) => h('option', { value: String(i) }, a.name)));
    if (Number(keep) < body.arms.length) $('sens-arm').value = keep;
  }

  async function runPopulation() {
    const spec = ctx.spec();
    const box = $('pop-error');
    const parsed = parseOmega($('pop-omega').value, spec.parameters);
    const n = Number($('pop-n').value);
    $('pop-omega').toggleAttribute('aria-invalid', Boolean(parsed.error));
    $('pop-n').toggleAttribute('aria-invalid', !(Number.isInteger(n) && n >= 2 && n <= 1000));
    if (parsed.error) return showError(box, new Error(`Variability: ${parsed.error}`));
    if (!(Number.isInteger(n) && n >= 2 && n <= 1000)) return showError(box, new Error('Subjects: a whole number from 2 to 1000'));
    if (!ctx.valid()) return showError(box, new Error('fix the highlighted fields of the view first'));
    popCtl?.abort();
    const ctl = new AbortController();
    popCtl = ctl;
    const body = ctx.body();
    const series = tumorSeries(spec);
    $('pop-status').textContent = `Simulating ${n} virtual patients × ${body.arms.length} arm${body.arms.length > 1 ? 's' : ''}…`;
    $('pop-run').disabled = true;
    document.body.dataset.population = 'running';
    try {
      const results = await Promise.all(body.arms.map((arm) => api('api/population', {
        body: { ...scenarioOf(body, arm), population: { n, seed: 1, omega: parsed.omega, quantiles: QUANTILES, series: [series.name] } }, signal: ctl.signal,
      })));
      if (popCtl !== ctl) return;
      showError(box, null);
      drawPopulation(spec, series, body, results);
      $('pop-status').textContent = `${n} virtual patients per arm (seed 1), ω: ${Object.entries(parsed.omega).map(([k, w]) => `${k} ${w}`).join(', ')}`;
      document.body.dataset.population = 'ok';
    } catch (e) {
      if (e.name === 'AbortError') return;
      showError(box, e);
      $('pop-status').textContent = '';
      document.body.dataset.population = 'error';
    } finally {
      if (popCtl === ctl) {
        $('pop-run').disabled = false;
        popCtl = null;
      }
    }
  }

  function drawPopulation(spec, series, body, results) {
    const traces = [];
    results.forEach((r, i) => {
      const color = ARM_COLORS[i % ARM_COLORS.length];
      const s = r.summary[series.name];
      const name = body.arms[i].name;
      traces.push({ type: 'scatter', mode: 'lines', x: r.times, y: s['q0.05'], line: { width: 0, color }, hoverinfo: 'skip', showlegend: false, legendgroup: name, meta: { arm: name, band: 'low' } });
      traces.push({ type: 'scatter', mode: 'lines', x: r.times, y: s['q0.95'], fill: 'tonexty', fillcolor: `${color}26`, line: { width: 0, color }, name: `${name} 90 % interval`, hoverinfo: 'skip', showlegend: false, legendgroup: name, meta: { arm: name, band: 'high' } });
      traces.push({ type: 'scatter', mode: 'lines', x: r.times, y: s['q0.5'], line: { width: 2.5, color }, name, legendgroup: name, hovertemplate: `${name}: median %{y:.3g}<extra></extra>`, meta: { arm: name, median: true } });
    });
    const unit = series.unit ? ` (${series.unit})` : '';
    Plotly.react($('plot-population'), traces, layoutBase('Virtual population: median and 90 % interval', `time (${spec.timeUnit ?? 'day'})`, `tumor${unit}`,
      { yaxis: { title: { text: `tumor${unit}` }, type: 'log', dtick: 1, exponentformat: 'power', gridcolor: '#eef0f3' } }), CONFIG());
    const last = (a) => a[a.length - 1];
    $('pop-table').replaceChildren(
      h('caption', {}, `Tumor at the end (${fmt(last(results[0].times))} ${spec.timeUnit ?? 'day'}) over the virtual patients`),
      h('thead', {}, h('tr', {}, ...['Arm', 'median', '5 %', '95 %', 'mean', 'solved'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, ...results.map((r, i) => {
        const s = r.summary[series.name];
        return h('tr', {}, h('td', {}, body.arms[i].name), h('td', {}, fmt(last(s['q0.5']))), h('td', {}, fmt(last(s['q0.05']))), h('td', {}, fmt(last(s['q0.95']))), h('td', {}, fmt(last(s.mean))),
          h('td', {}, `${r.stats.solved}/${r.stats.subjects}`));
      })));
  }

  async function runSensitivity() {
    const spec = ctx.spec();
    const box = $('sens-error');
    if (!ctx.valid()) return showError(box, new Error('fix the highlighted fields of the view first'));
    senCtl?.abort();
    const ctl = new AbortController();
    senCtl = ctl;
    const body = ctx.body();
    const arm = body.arms[Number($('sens-arm').value)] ?? body.arms[0];
    const metric = $('sens-metric').value;
    const names = Object.keys(spec.parameters).filter((k) => spec.parameters[k].value !== 0 && (body.parameters?.[k] ?? 1) !== 0);
    $('sens-status').textContent = `${2 * names.length + 1} simulations…`;
    $('sens-run').disabled = true;
    document.body.dataset.sensitivity = 'running';
    try {
      const r = await api('api/sensitivity', { body: { ...scenarioOf(body, arm), sensitivity: { parameters: names.slice(0, 100), response: { metric }, step: 0.01 } }, signal: ctl.signal });
      if (senCtl !== ctl) return;
      showError(box, null);
      const top = r.parameters.filter((p) => p.normalized !== null).slice(0, TORNADO_BARS).reverse();
      Plotly.react($('plot-tornado'), [{
        type: 'bar', orientation: 'h', y: top.map((p) => p.name), x: top.map((p) => p.normalized),
        marker: { color: top.map((p) => (p.normalized >= 0 ? '#dc2626' : '#2563eb')) },
        hovertemplate: '%{y}: %{x:.3g}<extra></extra>',
      }], layoutBase(`Sensitivity of ${metric} (${arm.name})`, `normalized sensitivity (ΔM/M)/(Δp/p) of ${metric}`, '',
        { height: 120 + 22 * top.length, showlegend: false, margin: { l: 110, r: 14, t: 50, b: 46 }, yaxis: { automargin: true, gridcolor: '#eef0f3' } }), CONFIG());
      $('sens-status').textContent = `${metric} = ${fmt(r.value)} · ${r.solves} simulations, ${fmt(r.ms)} ms · red: raising the parameter raises ${metric}`;
      document.body.dataset.sensitivity = 'ok';
    } catch (e) {
      if (e.name === 'AbortError') return;
      showError(box, e);
      $('sens-status').textContent = '';
      document.body.dataset.sensitivity = 'error';
    } finally {
      if (senCtl === ctl) {
        $('sens-run').disabled = false;
        senCtl = null;
      }
    }
  }

  $('pop-run').addEventListener('click', runPopulation);
  $('sens-run').addEventListener('click', runSensitivity);
  $('analysis').addEventListener('toggle', refresh);
  return { refresh };
}
