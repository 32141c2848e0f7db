// Checking a dataset table against a model and turning it into subjects (src/data/types.ts): each record
// is read by its column's meaning (NONMEM's ID, TIME, EVID, AMT, CMT, RATE, DUR, II, ADDL, SS, DV, MDV,
// BLQ, LLOQ; any other column a covariate) and every problem is refused with its line and column.
import type { CompiledModel } from '../model/compile.ts';
import { InputError, type Issue } from '../errors.ts';
import { LIMITS } from '../scenario/schema.ts';
import { DATASET_LIMITS, cellIssue, type Table } from './read.ts';
import type { Dataset, SubjectData, SubjectDose, SubjectObservation } from './types.ts';

export const RESERVED_COLUMNS = [
  'ID',
  'TIME',
  'EVID',
  'AMT',
  'CMT',
  'RATE',
  'DUR',
  'II',
  'ADDL',
  'SS',
  'DV',
  'MDV',
  'BLQ',
  'LLOQ',
] as const;

export interface CheckOptions {
  model: CompiledModel;
  /** The quantity observed when CMT names a state (NONMEM's Y): an output name, or per CMT value. */
  observe?: string | Record<string, string>;
}

/** One record, read: numbers are null where the cell is '.' or empty or the column is absent. */
interface Rec {
  line: number;
  id: string;
  time: number;
  evid: number;
  amt: number | null;
  cmt: string | null;
  rate: number | null;
  dur: number | null;
  ii: number | null;
  addl: number | null;
  ss: number | null;
  dv: number | null;
  mdv: number | null;
  blq: number | null;
  lloq: number | null;
  cov: Record<string, number | null>;
}

export function checkDataset(table: Table, opts: CheckOptions): Dataset {
  const { model } = opts;
  const issues: Issue[] = [];
  const col = (name: string) => table.upper.indexOf(name);
  const at = Object.fromEntries(RESERVED_COLUMNS.map((c) => [c, col(c)])) as Record<
    (typeof RESERVED_COLUMNS)[number],
    number
  >;
  // Covariate columns: every other column; those the model declares are read (case-insensitive match).
  const covCols = table.columns
    .map((c, j) => ({ c, j }))
    .filter(({ j }) => !(RESERVED_COLUMNS as readonly string[]).includes(table.upper[j]));
  const modelCov = new Map(model.covariateNames.map((n) => [n.toUpperCase(), n]));
  const usedCov = covCols.filter(({ j }) => modelCov.has(table.upper[j]));
  const bad = (line: number, j: number, msg: string) => issues.push(cellIssue(line, j + 1, table.columns[j], msg));
  const num = (
    line: number,
    cells: string[],
    j: number,
    what: { int?: boolean; min?: number; allowed?: number[] } = {},
  ): number | null => {
    if (j < 0) return null;
    const c = cells[j] ?? '';
    if (c === '.' || c === '') return null;
    const v = Number(c);
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(c) || !Number.isFinite(v)) {
      bad(line, j, `'${c}' is not a number`);
      return null;
    }
    if (what.allowed && !what.allowed.includes(v))
      bad(line, j, `${v} is not allowed (allowed: ${what.allowed.join(', ')})`);
    else if (what.int && !Number.isInteger(v)) bad(line, j, `${v} must be an integer`);
    else if (what.min !== undefined && v < what.min) bad(line, j, `${v} must be >= ${what.min}`);
    return v;
  };

  const recs: Rec[] = [];
  for (const { line, cells } of table.rows) {
    if (issues.length >= 20) break;
    const id = cells[col('ID')] ?? '';
    if (id === '' || id === '.') {
      bad(line, col('ID'), 'ID is missing');
      continue;
    }
    const tc = cells[col('TIME')] ?? '';
    if (tc === '' || tc === '.') {
      bad(line, col('TIME'), 'TIME is missing');
      continue;
    }
    const time = num(line, cells, col('TIME'));
    if (time === null) continue;
    if (Math.abs(time) > LIMITS.maxTime) bad(line, col('TIME'), `TIME is out of range (|t| <= ${LIMITS.maxTime})`);
    const amt = num(line, cells, at.AMT, { min: 0 });
    const evidRaw = num(line, cells, at.EVID, { allowed: [0, 1, 2, 3, 4] });
    const evid = evidRaw ?? (amt !== null && amt > 0 ? 1 : 0);
    const cov: Record<string, number | null> = {};
    for (const { j } of usedCov) cov[modelCov.get(table.upper[j])!] = num(line, cells, j);
    recs.push({
      line,
      id,
      time,
      evid,
      amt,
      cmt: at.CMT >= 0 && cells[at.CMT] !== '.' && cells[at.CMT] !== '' ? cells[at.CMT] : null,
      rate: num(line, cells, at.RATE),
      dur: num(line, cells, at.DUR, { min: 0 }),
      ii: num(line, cells, at.II, { min: 0 }),
      addl: num(line, cells, at.ADDL, { int: true, min: 0 }),
      ss: num(line, cells, at.SS, { allowed: [0, 1, 2] }),
      dv: num(line, cells, at.DV),
      mdv: num(line, cells, at.MDV, { allowed: [0, 1] }),
      blq: num(line, cells, at.BLQ, { allowed: [0, 1] }),
      lloq: num(line, cells, at.LLOQ, { min: 0 }),
      cov,
    });
  }
  if (issues.length) throw new InputError(issues.slice(0, 20));

  const subjects = groupSubjects(recs, {
    opts,
    at,
    bad,
    issues,
    idColumn: col('ID'),
    timeColumn: col('TIME'),
    usedCov,
    covName: (j) => modelCov.get(table.upper[j])!,
  });
  if (issues.length) throw new InputError(issues.slice(0, 20));
  let administrations = 0;
  for (const s of subjects) for (const d of s.doses) administrations += d.count ?? 1;
  if (administrations > DATASET_LIMITS.administrations) {
    throw new InputError(
      `the dataset expands to ${administrations} administrations (ADDL included; at most ${DATASET_LIMITS.administrations})`,
      ['dataset'],
    );
  }
  return { columns: table.columns, covariates: usedCov.map(({ j }) => modelCov.get(table.upper[j])!), subjects };
}

/** What grouping the records into subjects needs of the checker: where to report, and the covariate columns. */
interface GroupContext {
  opts: CheckOptions;
  at: Record<string, number>;
  bad: Bad;
  issues: Issue[];
  idColumn: number;
  timeColumn: number;
  usedCov: { j: number }[];
  covName: (j: number) => string;
}

/**
 * The records, in file order, as subjects: each subject's records together and sorted by TIME, covariates
 * carried forward from the first record (a change holds from its record on), then each record read as an
 * observation, a dose or a reset (readRecord).
 */
function groupSubjects(recs: Rec[], c: GroupContext): SubjectData[] {
  const subjects: SubjectData[] = [];
  const seenIds = new Set<string>();
  let cur: SubjectData | null = null;
  let lastTime = -Infinity;
  let sameTimeOrder = 0;
  let carried: Record<string, number> = {};
  for (const r of recs) {
    if (c.issues.length >= 20) break;
    if (!cur || cur.id !== r.id) {
      if (seenIds.has(r.id)) {
        c.bad(
          r.line,
          c.idColumn,
          `ID ${r.id} appears again after other subjects: keep each subject's records together, sorted by TIME`,
        );
        continue;
      }
      if (seenIds.size >= DATASET_LIMITS.subjects) {
        c.bad(r.line, c.idColumn, `too many subjects (at most ${DATASET_LIMITS.subjects})`);
        break;
      }
      seenIds.add(r.id);
      cur = { id: r.id, doses: [], covariates: {}, covariateChanges: [], observations: [], resets: [] };
      subjects.push(cur);
      lastTime = -Infinity;
      carried = {};
      for (const { j } of c.usedCov) {
        const name = c.covName(j);
        if (r.cov[name] === null)
          c.bad(
            r.line,
            j,
            `covariate ${name} is missing on the subject's first record (there is no earlier value to carry forward)`,
          );
        else carried[name] = r.cov[name]!;
      }
      cur.covariates = { ...carried };
    }
    if (r.time < lastTime)
      c.bad(
        r.line,
        c.timeColumn,
        `TIME ${r.time} is before the previous record's ${lastTime}: sort each subject's records by TIME`,
      );
    sameTimeOrder = r.time === lastTime ? sameTimeOrder + 1 : 0;
    lastTime = r.time;
    // Time-varying covariates: a changed value holds from this record on (last observation carried forward).
    const changed: Record<string, number> = {};
    for (const [name, v] of Object.entries(r.cov))
      if (v !== null && v !== carried[name]) changed[name] = carried[name] = v;
    if (Object.keys(changed).length) {
      const last = cur.covariateChanges[cur.covariateChanges.length - 1];
      if (last && last.time === r.time) Object.assign(last.values, changed);
      else cur.covariateChanges.push({ time: r.time, values: changed });
    }
    readRecord(r, cur, sameTimeOrder, c.opts, c.at, c.bad, c.issues);
  }
  return subjects;
}

/** The observed series of an observation record: its CMT (state or output, name or 1-based state index), then `observe`. */
function observableOf(cmt: string | null, opts: CheckOptions): { name: string } | { error: string } {
  const { model, observe } = opts;
  let state: string | null = null;
  if (cmt !== null) {
    const idx = /^[+-]?\d+$/.test(cmt) ? Number(cmt) : NaN;
    if (Number.isInteger(idx)) {
      if (idx < 1 || idx > model.stateNames.length)
        return {
          error: `CMT ${cmt} is not a state index (1..${model.stateNames.length}: ${model.stateNames.join(', ')})`,
        };
      state = model.stateNames[idx - 1];
    } else if (model.stateIndex.has(cmt)) state = cmt;
    else if (model.outputNames.includes(cmt)) return { name: cmt };
    else
      return {
        error: `CMT '${cmt}' is neither a state nor an output of model '${model.id}' (states: ${model.stateNames.join(', ')}; outputs: ${model.outputNames.join(', ') || 'none'})`,
      };
  }
  const mapped =
    typeof observe === 'string'
      ? observe
      : observe && cmt !== null && Object.hasOwn(observe, cmt)
        ? observe[cmt]
        : observe && state !== null && Object.hasOwn(observe, state)
          ? observe[state]
          : undefined;
  if (mapped !== undefined) return { name: mapped };
  if (state === null)
    return { error: "an observation record needs a CMT (or the request's `observe`) saying what is observed" };
  return { name: state };
}

type Bad = (line: number, j: number, msg: string) => void;

function readRecord(
  r: Rec,
  s: SubjectData,
  order: number,
  opts: CheckOptions,
  at: Record<string, number>,
  bad: Bad,
  issues: Issue[],
) {
  const { model } = opts;
  const isDose = r.evid === 1 || r.evid === 4;
  if (r.evid === 3 || r.evid === 4) {
    s.resets.push(r.time);
    (s.resetOrders ??= []).push(order);
  }
  if (!isDose) {
    if (r.amt !== null && r.amt > 0)
      bad(r.line, at.AMT, `AMT ${r.amt} on a record that is not a dose (EVID ${r.evid})`);
    for (const [c, v] of [
      ['RATE', r.rate],
      ['ADDL', r.addl],
      ['SS', r.ss],
      ['DUR', r.dur],
    ] as const) {
      if (v !== null && v !== 0) bad(r.line, at[c], `${c} on a record that is not a dose (EVID ${r.evid})`);
    }
  }
  if (r.evid === 0) {
    if (r.mdv === 1 && r.dv === null) {
      /* a prediction point */
    }
    const o = observableOf(r.cmt, opts);
    if ('error' in o) return bad(r.line, at.CMT >= 0 ? at.CMT : at.ID, o.error);
    if (!model.stateIndex.has(o.name) && !model.outputNames.includes(o.name)) {
      issues.push({
        path: ['observe'],
        message: `line ${r.line}: '${o.name}' (from observe) is neither a state nor an output of model '${model.id}'`,
      });
      return;
    }
    const obs: SubjectObservation = {
      line: r.line,
      time: r.time,
      observable: o.name,
      value: r.mdv === 1 ? null : r.dv,
      order,
    };
    if (r.blq !== null) obs.blq = r.blq === 1;
    if (r.lloq !== null) obs.lloq = r.lloq;
    s.observations.push(obs);
    return;
  }
  if (!isDose) {
    if (r.mdv === 0) bad(r.line, at.MDV, `MDV 0 on a record that is not an observation (EVID ${r.evid})`);
    return;
  }
  readDose(r, s, order, opts, at, bad);
}

function readDose(r: Rec, s: SubjectData, order: number, opts: CheckOptions, at: Record<string, number>, bad: Bad) {
  const { model } = opts;
  if (r.mdv === 0) return bad(r.line, at.MDV, 'MDV 0 on a dose record (doses are not observations: MDV 1)');
  if (r.cmt === null)
    return bad(
      r.line,
      at.CMT >= 0 ? at.CMT : at.ID,
      'a dose record needs a CMT (the dosed state, by name or 1-based index)',
    );
  let target: string;
  if (/^[+-]?\d+$/.test(r.cmt)) {
    const i = Number(r.cmt);
    if (i < 1 || i > model.stateNames.length)
      return bad(
        r.line,
        at.CMT,
        `CMT ${r.cmt} is not a state index (1..${model.stateNames.length}: ${model.stateNames.join(', ')})`,
      );
    target = model.stateNames[i - 1];
  } else if (model.stateIndex.has(r.cmt)) target = r.cmt;
  else if (model.outputNames.includes(r.cmt))
    return bad(r.line, at.CMT, `CMT '${r.cmt}' is an output: doses go into states (${model.stateNames.join(', ')})`);
  else
    return bad(r.line, at.CMT, `dose into an unknown compartment '${r.cmt}' (states: ${model.stateNames.join(', ')})`);
  const amt = r.amt;
  const rate = r.rate ?? 0;
  const ss = r.ss ?? 0;
  const addl = r.addl ?? 0;
  const ii = r.ii ?? 0;
  if (amt === null) return bad(r.line, at.AMT >= 0 ? at.AMT : at.ID, 'a dose record needs AMT');
  if (rate < 0 && rate !== -1 && rate !== -2)
    return bad(
      r.line,
      at.RATE,
      `RATE ${rate} is not allowed (> 0, 0, -1: rate from the model, -2: duration from the model)`,
    );
  const mods = model.doseModifiers.get(model.stateIndex.get(target)!);
  if (rate === -1 && !mods?.rate)
    return bad(r.line, at.RATE, `RATE -1 needs a rate for '${target}' in the model's dosing`);
  if (rate === -2 && !mods?.duration)
    return bad(r.line, at.RATE, `RATE -2 needs a duration for '${target}' in the model's dosing`);
  if (r.dur !== null && r.dur > 0 && rate !== 0) return bad(r.line, at.DUR, 'give RATE or DUR, not both');
  if (addl > 0 && !(ii > 0))
    return bad(r.line, at.ADDL, 'ADDL > 0 needs II > 0 (the interval of the additional doses)');
  if (addl + 1 > LIMITS.doseEvents) return bad(r.line, at.ADDL, `ADDL is too large (at most ${LIMITS.doseEvents - 1})`);
  const constant = amt === 0 && rate > 0;
  if (constant && ss !== 1)
    return bad(r.line, at.SS >= 0 ? at.SS : at.AMT, 'AMT 0 with RATE > 0 is a constant infusion: it needs SS = 1');
  if (constant && addl > 0) return bad(r.line, at.ADDL, 'a constant infusion (AMT 0, RATE > 0) takes no ADDL');
  if (ss > 0 && !constant && !(ii > 0))
    return bad(r.line, at.SS, `SS ${ss} needs II > 0 (the dosing interval of the steady state)`);
  if (amt === 0 && rate === 0 && ss === 0) return bad(r.line, at.AMT, 'AMT 0: a dose record with nothing to give');
  const dose: SubjectDose = { target, amount: amt, start: r.time, line: r.line, order };
  if (ii > 0 && (addl > 0 || ss > 0)) dose.every = ii;
  if (addl > 0) dose.count = addl + 1;
  if (rate > 0) dose.rate = rate;
  else if (rate === -1) dose.rate = 'model';
  else if (rate === -2) dose.duration = 'model';
  else if (r.dur !== null && r.dur > 0) dose.duration = r.dur;
  if (ss > 0) dose.steadyState = ss === 2 ? 2 : 1;
  s.doses.push(dose);
}
