// Which series to plot (chosen by name when the model has them) and the plotly figures: arms overlaid,
// one color per arm, dose times marked under the tumor curve.
import { fmt } from './util.js';

export const ARM_COLORS = [
  '#4b5563',
  '#2563eb',
  '#dc2626',
  '#16a34a',
  '#9333ea',
  '#ea580c',
  '#0891b2',
  '#a16207',
  '#db2777',
  '#65a30d',
  '#4338ca',
  '#0f766e',
];
const DASHES = ['solid', 'dash', 'dot', 'dashdot', 'longdash', 'longdashdot'];

/**
 * @typedef {import('./types').ModelFile} ModelFile
 * @typedef {import('./types').SimulationResult} SimulationResult
 * @typedef {import('./types').Series} Series
 * @typedef {import('./types').Panel} Panel
 * @typedef {import('./types').Trace} Trace
 */

/**
 * Every plottable series of a model: states and outputs, with a label and unit from the model file.
 * @param {ModelFile} model
 * @returns {Series[]}
 */
export function seriesCatalog(model) {
  /** @type {Series[]} */
  const out = [];
  for (const [name, s] of Object.entries(model.states ?? {}))
    out.push({ name, kind: 'state', unit: s.unit ?? '', label: s.description ?? name });
  for (const [name, o] of Object.entries(model.outputs ?? {})) {
    /** @type {{ unit?: string, description?: string }} */
    const obj = typeof o === 'object' ? o : {};
    out.push({ name, kind: 'output', unit: obj.unit ?? '', label: obj.description ?? name });
  }
  return out;
}

/** Text for plotly labels (which read a little HTML): no tags, no template braces. @param {unknown} s */
const plain = (s) => String(s).replace(/[<>{}%]/g, '');
/** A series' values in a result (null where not finite; undefined when the result lacks it). */
const valuesOf = (/** @type {SimulationResult} */ result, /** @type {Series} */ s) =>
  /** @type {(number | null)[] | undefined} */ (s.kind === 'state' ? result.states[s.name] : result.outputs[s.name]);
const nonZero = (/** @type {SimulationResult[]} */ results, /** @type {Series} */ s) =>
  results.some((r) => (valuesOf(r, s) ?? []).some((v) => v !== 0 && v !== null));
/**
 * @param {Series | undefined} s
 * @returns {s is Series}
 */
function isSeries(s) {
  return s !== undefined;
}

/**
 * The panels for a model and its results; `extra` = names the user chose in "other states and outputs".
 * @param {ModelFile} model
 * @param {SimulationResult[]} results
 * @param {string[] | null | undefined} extra
 * @returns {Panel[]}
 */
export function choosePanels(model, results, extra) {
  const cat = seriesCatalog(model);
  /** @type {(name: string, kind?: Series['kind']) => Series | undefined} */
  const find = (name, kind) => cat.find((s) => s.name === name && (!kind || s.kind === kind));
  const used = new Set();
  /** @type {Panel[]} */
  const panels = [];
  // The model's declared roles (Contract 1, docs/architecture.md) say which series is the tumor and which are drugs; models
  // without roles fall back to the conventional names.
  const roles = model.roles ?? {};
  const roleSeries = (/** @type {string | undefined} */ name) =>
    name ? (find(name, 'output') ?? find(name, 'state')) : undefined;
  const tumor =
    roleSeries(roles.tumor?.series) ??
    find('tumor', 'output') ??
    find('tumorVolume_mm3', 'output') ??
    find('T', 'state') ??
    find('tumor', 'state');
  if (tumor) {
    panels.push({ id: 'tumor', title: 'Tumor burden', series: [tumor], tumor: true });
    used.add(tumor.name);
  }
  const tcells = [
    find('effectors', 'output') ?? find('E', 'state'),
    find('exhausted', 'output') ?? find('X', 'state'),
  ].filter(isSeries);
  if (tcells.length) {
    panels.push({
      id: 'tcells',
      title: tcells.length > 1 ? 'Effector vs exhausted T cells' : 'Effector cells',
      series: tcells,
      log: true,
    });
    tcells.forEach((s) => used.add(s.name));
  }
  const drugRoles = Object.entries(roles.drugs ?? {});
  /** @type {(key: 'concentration' | 'occupancy') => Series[]} the drugs' series of one role, each with its drug */
  const byDrug = (key) =>
    drugRoles.flatMap(([drug, r]) => {
      const s = roleSeries(r[key]);
      return s && nonZero(results, s) ? [{ ...s, drug }] : [];
    });
  const conc = drugRoles.length
    ? byDrug('concentration')
    : cat
        .filter((s) => s.kind === 'output' && s.name.startsWith('C_') && nonZero(results, s))
        .map((s) => ({ ...s, drug: s.name.slice(2) }));
  if (conc.length)
    panels.push({
      id: 'drugs',
      title: 'Drug concentrations',
      series: conc,
      seriesLabel: (s) => s.drug ?? s.label,
      drugs: true,
    });
  let occ;
  if (drugRoles.length) occ = byDrug('occupancy');
  else {
    occ = cat.filter((s) => s.kind === 'output' && /^occupancy/.test(s.name) && nonZero(results, s));
    if (!occ.length) occ = cat.filter((s) => s.kind === 'output' && s.name.startsWith('RO_') && nonZero(results, s));
  }
  /** @type {Record<string, string>} */
  const receptors = { PD1: 'PD-1', PDL1: 'PD-L1', CTLA4: 'CTLA-4' };
  if (occ.length)
    panels.push({
      id: 'occupancy',
      title: 'Receptor occupancy',
      series: occ,
      range: [0, 1.02],
      seriesLabel: (s) =>
        s.drug ?? receptors[s.name.replace(/^occupancy/, '')] ?? s.name.replace(/^occupancy/, '').replace(/^RO_/, ''),
    });
  const chosen = (extra ?? []).map((n) => cat.find((s) => s.name === n)).filter(isSeries);
  if (chosen.length) panels.push({ id: 'extra', title: 'Other series', series: chosen });
  return panels;
}

/**
 * The tumor series of a model: its declared role, else the conventional names (as the tumor panel).
 * @param {ModelFile} model
 * @returns {Series}
 */
export function tumorSeries(model) {
  return choosePanels(model, [], []).find((p) => p.tumor)?.series[0] ?? seriesCatalog(model)[0];
}

/**
 * Default "other series" for a model whose states have none of the names above.
 * @param {ModelFile} model
 * @returns {string[]}
 */
export function defaultExtra(model) {
  const cat = seriesCatalog(model);
  const named = ['tumor', 'tumorVolume_mm3', 'T', 'effectors', 'exhausted', 'E', 'X'];
  if (cat.some((s) => ['effectors', 'exhausted', 'E', 'X'].includes(s.name))) return [];
  return cat
    .filter((s) => s.kind === 'state' && !named.includes(s.name))
    .slice(0, 4)
    .map((s) => s.name);
}

/** @type {Record<string, string>} */
const Y_NAMES = { tumor: 'tumor', tcells: 'T cells', drugs: 'concentration', occupancy: 'occupancy' };

/**
 * Axis titles: time with its unit; y with the unit (or every unit when the series mix them).
 * @param {Panel} panel
 * @param {string} timeUnit
 */
export function axisTitle(panel, timeUnit) {
  const units = [...new Set(panel.series.map((s) => (s.unit && s.unit !== '1' ? s.unit : '')).filter(Boolean))];
  const name = Y_NAMES[panel.id] ?? (panel.series.length === 1 ? panel.series[0].name : 'value');
  const y =
    units.length === 0 ? name : units.length === 1 ? `${name} (${units[0]})` : `mixed units: ${units.join(', ')}`;
  return { x: `time (${timeUnit})`, y, mixed: units.length > 1 };
}

/**
 * Curves that would hide each other: equal to 0.1 % of the value (invisible on a plot; separately solved
 * arms with the same regimen differ by the solver's tolerance), or below 1e-9 of the curve's peak.
 * @param {(number | null)[] | undefined} a
 * @param {(number | null)[] | undefined} b
 */
function sameCurve(a, b) {
  if (!a || !b || a.length !== b.length) return false;
  let peak = 0;
  for (const v of a) if (v !== null && Math.abs(v) > peak) peak = Math.abs(v);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === null || y === null) return false;
    const d = Math.abs(x - y);
    if (d > 1e-3 * Math.max(Math.abs(x), Math.abs(y)) && d > 1e-9 * peak) return false;
  }
  return true;
}

/**
 * A log axis range over the positive values of the traces, at most `decades` decades deep.
 * @param {Trace[]} traces
 * @param {number} decades
 */
function logRange(traces, decades) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const tr of traces)
    if (!tr.meta?.doses && !tr.meta?.legendOnly)
      for (const v of tr.y)
        if (typeof v === 'number' && v > 0) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
  if (!(hi > 0)) return null;
  lo = Math.max(lo, hi / 10 ** decades);
  return { lo, hi, range: [Math.log10(lo) - 0.05, Math.log10(hi) + 0.1] };
}

/** Narrow screens (phones): no plotly toolbar over the titles. */
const narrow = () => window.matchMedia?.('(max-width: 700px)').matches;

/** A frame for the browser to paint what is drawn so far (a timer too: frames pause in hidden tabs). */
const nextFrame = () =>
  /** @type {Promise<void>} */ (
    new Promise((resolve) => {
      const t = setTimeout(resolve, 50);
      requestAnimationFrame(() =>
        setTimeout(() => {
          clearTimeout(t);
          resolve();
        }, 0),
      );
    })
  );

/**
 * Draw (or update) every panel in `container`, the tumor panel first and painted before the others.
 * Resolves true when all are drawn, false when a newer call took over.
 * @param {HTMLElement} container
 * @param {ModelFile} model
 * @param {import('./types').CompareResponse} response
 * @param {import('./types').PlotOptions} opts
 */
export async function drawPlots(container, model, response, opts) {
  const token = String(Number(container.dataset.drawToken ?? 0) + 1);
  container.dataset.drawToken = token;
  const Plotly = window.Plotly;
  if (!Plotly) throw new Error('plotly has not loaded');
  const results = response.arms.map((a) => a.result);
  const panels = choosePanels(model, results, opts.extra);
  const timeUnit = model.timeUnit ?? 'day';
  // Keep the divs of panels that stay, so Plotly.react updates them in place.
  const keep = new Set(panels.map((p) => `plot-${p.id}`));
  for (const el of [...container.children])
    if (!keep.has(el.id)) {
      window.Plotly?.purge(el);
      el.remove();
    }
  for (const [k, panel] of panels.entries()) {
    if (k === 1) {
      await nextFrame();
      if (container.dataset.drawToken !== token) return false;
    }
    let div = document.getElementById(`plot-${panel.id}`);
    if (!div) {
      div = document.createElement('div');
      div.id = `plot-${panel.id}`;
      div.className = 'plot';
    }
    if (container.children[k] !== div) container.insertBefore(div, container.children[k] ?? null);
    /** @type {Trace[]} */
    const traces = [];
    const multi = panel.series.length > 1;
    const mixedUnits = axisTitle(panel, timeUnit).mixed;
    const dosing = panel.tumor && response.arms.some((a) => a.result.doses?.length);
    const armsWithDoses = response.arms.filter((a) => a.result.doses?.length).map((a) => a.name);
    response.arms.forEach((arm, i) => {
      const color = ARM_COLORS[i % ARM_COLORS.length];
      const armName = plain(arm.name);
      panel.series.forEach((s, j) => {
        const y = valuesOf(arm.result, s);
        if (!y || (!panel.tumor && !y.some((v) => v !== 0 && v !== null))) return;
        const label =
          plain(panel.seriesLabel ? panel.seriesLabel(s) : s.label) +
          (mixedUnits && s.unit ? ` (${plain(s.unit)})` : '');
        // A curve equal to an earlier arm's is drawn dashed and thinner on top of it, and says so.
        const twin = traces.find((tr) => tr.meta?.series === s.name && !tr.meta.doses && sameCurve(tr.y, y));
        traces.push({
          type: 'scatter',
          mode: 'lines',
          x: arm.result.times,
          y,
          name: multi ? `${armName} · ${label}` : armName,
          legendgroup: armName,
          showlegend: !multi,
          // (dashed in one-series panels; in panels where dashes tell series apart, a thin core line instead)
          line: twin
            ? multi
              ? { color, width: 1.2, dash: DASHES[j % DASHES.length] }
              : { color, width: 2, dash: 'dash' }
            : { color, width: 2.5, dash: DASHES[j % DASHES.length] },
          hovertemplate: `${armName}<br>${label}: %{y:.3g}${twin ? ` (same as ${plain(twin.meta?.arm)})` : ''}<br>t = %{x:.4g}<extra></extra>`,
          meta: { arm: arm.name, series: s.name, ...(twin ? { sameAs: twin.meta?.arm } : {}) },
        });
      });
      if (dosing && arm.result.doses?.length) {
        /** @type {Map<number, string[]>} */
        const byTime = new Map();
        for (const d of arm.result.doses) byTime.set(d.time, [...(byTime.get(d.time) ?? []), d.label ?? d.target]);
        const times = [...byTime.keys()];
        const row = armsWithDoses.length - 1 - armsWithDoses.indexOf(arm.name);
        traces.push({
          type: 'scatter',
          mode: 'markers',
          x: times,
          y: times.map(() => row),
          yaxis: 'y2',
          name: `${armName} doses`,
          legendgroup: armName,
          showlegend: false,
          marker: { symbol: 'triangle-up', size: 7, color, line: { width: 0 } },
          text: times.map((t) => plain([...new Set(byTime.get(t))].join(', '))),
          hovertemplate: `${armName}: dose at t = %{x:.4g}<br>%{text}<extra></extra>`,
          meta: { arm: arm.name, doses: true },
        });
      }
    });
    // Multi-series panels: arms are told apart by color (legend of the tumor panel), series by line style.
    if (multi) {
      panel.series.forEach((s, j) => {
        if (!traces.some((tr) => tr.meta?.series === s.name)) return;
        traces.push({
          type: 'scatter',
          mode: 'lines',
          x: [null],
          y: [null],
          name: plain(panel.seriesLabel ? panel.seriesLabel(s) : s.label),
          line: { color: '#6b7280', width: 2, dash: DASHES[j % DASHES.length] },
          hoverinfo: 'skip',
          meta: { legendOnly: true },
        });
      });
    }
    const t = axisTitle(panel, timeUnit);
    const log = panel.tumor ? opts.tumorScale === 'log' : panel.drugs ? opts.drugScale !== 'linear' : panel.log;
    /** @type {Record<string, any>} a plotly layout, extended below */
    const layout = {
      title: { text: panel.title, x: 0.015, xanchor: 'left', y: 0.97, yanchor: 'top', font: { size: 14 } },
      margin: { l: 64, r: 14, t: 58, b: 40 },
      height: 300,
      paper_bgcolor: '#fff',
      plot_bgcolor: '#fff',
      font: { family: 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif', size: 11, color: '#1f2937' },
      xaxis: { title: { text: t.x, standoff: 6 }, automargin: true, gridcolor: '#eef0f3', zeroline: false },
      yaxis: {
        title: { text: plain(t.y) },
        type: log ? 'log' : 'linear',
        gridcolor: '#eef0f3',
        zeroline: false,
        exponentformat: 'power',
        ...(panel.range ? { range: panel.range } : {}),
      },
      legend: {
        traceorder: 'normal',
        orientation: 'h',
        x: 0,
        xanchor: 'left',
        y: 1.02,
        yanchor: 'bottom',
        font: { size: 11 },
        bgcolor: 'rgba(255,255,255,0)',
      },
      showlegend: true,
      hovermode: 'closest',
      uirevision: `${panel.id}-${opts.tumorScale}-${opts.drugScale}`,
    };
    if (log) {
      // Powers of ten, one tick per decade when the curves span a decade or more (no 2 and 5 labels);
      // drug concentrations at most 6 decades deep (the washout tail would squash the dosing interval).
      const r = logRange(traces, panel.drugs ? 6 : 300);
      if (r && r.hi / r.lo >= 10) layout.yaxis.dtick = 1;
      if (r && panel.drugs) layout.yaxis.range = r.range;
    }
    // Heights in pixels: a plot area that never shrinks, plus one legend row per few entries and one
    // dose row per treated arm (12 arms keep a readable tumor panel).
    const entries = traces.filter((tr) => tr.showlegend !== false).length;
    const perRow = narrow() ? (multi ? 2 : 2) : multi ? 4 : 3;
    const legendRows = Math.ceil(entries / perRow);
    const plotArea = 230;
    const stripPx = dosing ? 14 * armsWithDoses.length + 16 : 0;
    layout.margin.t = 40 + 19 * legendRows;
    layout.height = layout.margin.t + plotArea + stripPx + (dosing ? 12 : 0) + 46;
    if (dosing) {
      // A strip under the tumor curve with one row of dose markers per treated arm.
      const rows = armsWithDoses.length;
      const inner = plotArea + stripPx + 12;
      const strip = stripPx / inner;
      layout.yaxis.domain = [strip + 12 / inner, 1];
      layout.yaxis2 = {
        domain: [0, strip],
        range: [-0.7, rows - 0.3],
        showticklabels: false,
        showgrid: false,
        zeroline: false,
        fixedrange: true,
        title: { text: 'doses', font: { size: 10 } },
      };
      layout.xaxis.anchor = 'y2';
    }
    layout.margin.b = 46;
    await Plotly.react(div, traces, layout, {
      displaylogo: false,
      responsive: true,
      displayModeBar: narrow() ? false : 'hover',
      modeBarButtonsToRemove: ['select2d', 'lasso2d', 'autoScale2d'],
    });
    if (container.dataset.drawToken !== token) return false;
  }
  return true;
}

/** @param {HTMLElement} container */
export function clearPlots(container) {
  for (const el of [...container.children]) {
    window.Plotly?.purge(el);
    el.remove();
  }
}

// Metrics shown first, with labels; the rest appear under "all metrics".
const MAIN_METRICS = [
  ['bestOverallResponse', 'Best response'],
  ['confirmedBestOverallResponse', 'Confirmed'],
  ['bestPercentChangeDiameter', 'Best change in diameter (%)'],
  ['nadir', 'Nadir'],
  ['timeToResponse', 'Time to response'],
  ['timeToProgression', 'Time to progression'],
  ['durationOfResponse', 'Duration of response'],
  ['final', 'Final tumor'],
];

/**
 * The metrics table (one row per arm) from /api/compare's `metrics`.
 * @param {import('./types').MetricsTable} table
 * @param {string} timeUnit
 * @param {string} tumorUnit
 */
export function metricsTable(table, timeUnit, tumorUnit) {
  const cols = table.columns.filter((c) => c !== 'arm');
  const main = MAIN_METRICS.filter(([k]) => cols.includes(k));
  const occ = cols.filter((c) => /^drugs\.[^.]+\.meanOccupancy$/.test(c));
  const shown = [...main.map(([k, l]) => [k, l]), ...occ.map((c) => [c, `${c.split('.')[1]} mean occupancy`])];
  const unitFor = (/** @type {string} */ k) =>
    /^time|duration/i.test(k) ? ` (${timeUnit})` : ['nadir', 'final'].includes(k) && tumorUnit ? ` (${tumorUnit})` : '';
  const cell = (/** @type {unknown} */ v, /** @type {string} */ k = '') => {
    if (typeof v === 'string') return `<span class="badge badge-${v}">${v}</span>`;
    if (typeof v === 'boolean') return v ? 'yes' : 'no';
    if (k && /Occupancy$/.test(k) && typeof v === 'number') return `${fmt(100 * v)} %`;
    if (v === null || v === undefined) return k === 'timeToProgression' ? 'not reached' : '–';
    return fmt(v);
  };
  /** @type {Record<string, string>} */
  const entities = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
  const esc = (/** @type {unknown} */ s) => String(s).replace(/[&<>"]/g, (c) => entities[c]);
  const swatch = (/** @type {number} */ i) =>
    `<span class="swatch" style="background:${ARM_COLORS[i % ARM_COLORS.length]}"></span>`;
  const head = `<tr><th>Arm</th>${shown.map(([k, l]) => `<th title="${esc(k)}">${esc(l + unitFor(k))}</th>`).join('')}</tr>`;
  const rows = table.rows
    .map(
      (r, i) =>
        `<tr>${`<td class="arm-cell">${swatch(i)}${esc(r.arm)}</td>`}${shown.map(([k]) => `<td data-metric="${esc(k)}">${cell(r[k], k)}</td>`).join('')}</tr>`,
    )
    .join('');
  const rest = cols.filter((c) => !shown.some(([k]) => k === c));
  const allHead = `<tr><th>Metric</th>${table.rows.map((r, i) => `<th>${swatch(i)}${esc(r.arm)}</th>`).join('')}</tr>`;
  const allRows = rest
    .map((c) => `<tr><td class="mono">${esc(c)}</td>${table.rows.map((r) => `<td>${cell(r[c])}</td>`).join('')}</tr>`)
    .join('');
  return (
    `<table class="metrics" id="metrics-table"><thead>${head}</thead><tbody>${rows}</tbody></table>` +
    (rest.length
      ? `<details class="all-metrics"><summary>All metrics (${rest.length} more)</summary><table class="metrics">${allHead}${allRows}</table></details>`
      : '')
  );
}
