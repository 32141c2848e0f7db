// Client-side checks of the view before a run, with the field to highlight: parameters against the ranges the
// model declares (GET /api/models/:id min/max), times, body weight and hand-entered doses. The server checks
// again (it is the authority); these catch a typo before a round trip and say which field.
import { fmt, numText } from './util.js';

/** @typedef {import('./types').Problem} Problem */

/**
 * @param {unknown} v
 * @returns {v is number}
 */
function finite(v) {
  return typeof v === 'number' && Number.isFinite(v);
}

/**
 * Problems of the view: [{ selector, label, message }], `selector` finds the input to highlight.
 * `values(name)` gives a parameter's current value.
 * @param {import('./types').ModelFile} spec
 * @param {import('./types').ViewState} state
 * @param {(name: string) => number} values
 * @returns {Problem[]}
 */
export function validateView(spec, state, values) {
  /** @type {Problem[]} */
  const out = [];
  /** @type {(selector: string, label: string, message: string) => void} */
  const add = (selector, label, message) => out.push({ selector, label, message });
  for (const [name, p] of Object.entries(spec.parameters ?? {})) {
    const v = values(name);
    const sel = `input[data-param="${CSS.escape(name)}"]`;
    if (!finite(v)) add(sel, name, 'must be a number');
    else if (finite(p.min) && v < p.min)
      add(
        sel,
        name,
        `${numText(v)} is below the model's range [${numText(p.min)}, ${finite(p.max) ? numText(p.max) : '∞'}]${p.unit && p.unit !== '1' ? ` ${p.unit}` : ''}`,
      );
    else if (finite(p.max) && v > p.max)
      add(
        sel,
        name,
        `${numText(v)} is above the model's range [${finite(p.min) ? numText(p.min) : '−∞'}, ${numText(p.max)}]${p.unit && p.unit !== '1' ? ` ${p.unit}` : ''}`,
      );
  }
  if (!finite(state.end) || !(state.end > 0)) add('#end', 'End time', 'must be a number greater than 0');
  if (!finite(state.step) || !(state.step > 0)) add('#step', 'Output step', 'must be a number greater than 0');
  else if (finite(state.end) && state.end > 0 && state.end / state.step > 100_000)
    add(
      '#step',
      'Output step',
      `gives ${fmt(state.end / state.step)} output times (at most 100000): use a larger step`,
    );
  if (!finite(state.weight) || state.weight < 1 || state.weight > 1000)
    add('#weight', 'Body weight', 'must be between 1 and 1000 kg');
  state.arms.forEach((arm, i) => {
    if (!arm.name.trim()) add(`.arm[data-arm="${i}"] .arm-name`, `Arm ${i + 1} name`, 'must not be empty');
    else if (state.arms.findIndex((a) => a.name === arm.name) !== i)
      add(`.arm[data-arm="${i}"] .arm-name`, `Arm ${i + 1} name`, `'${arm.name}' is used by another arm`);
    arm.doses.forEach((d, k) => {
      const at = (/** @type {string} */ key) => `.arm[data-arm="${i}"] .dose:nth-of-type(${k + 1}) .d-${key}`;
      const where = `${arm.name}, dose ${k + 1}`;
      if (!finite(d.amount) || d.amount < 0) add(at('amount'), `${where}: amount`, 'must be a number ≥ 0');
      if (d.start !== undefined && (!finite(d.start) || d.start < 0))
        add(at('start'), `${where}: start`, 'must be a time ≥ 0');
      if (d.every !== undefined && (!finite(d.every) || !(d.every > 0)))
        add(at('every'), `${where}: every`, 'must be an interval > 0');
      if (d.count !== undefined && (!Number.isInteger(d.count) || d.count < 1))
        add(at('count'), `${where}: count`, 'must be a whole number ≥ 1');
      if (d.count !== undefined && d.count > 1 && d.every === undefined)
        add(at('every'), `${where}: every`, `${d.count} doses need an interval`);
      if (d.duration !== undefined && (!finite(d.duration) || !(d.duration > 0)))
        add(at('duration'), `${where}: infusion`, 'must be a duration > 0 (empty = bolus)');
    });
  });
  return out;
}

/**
 * Highlight the fields of `problems` (and clear the others').
 * @param {Problem[]} problems
 */
export function markInvalid(problems) {
  for (const el of document.querySelectorAll('[aria-invalid="true"]')) {
    el.removeAttribute('aria-invalid');
    el.classList.remove('invalid');
  }
  for (const p of problems) {
    const el = /** @type {HTMLElement | null} */ (document.querySelector(p.selector));
    if (!el) continue;
    el.setAttribute('aria-invalid', 'true');
    el.classList.add('invalid');
    el.title = p.message;
  }
}
