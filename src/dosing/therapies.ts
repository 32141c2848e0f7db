// Therapy presets: approved regimens as dose lists for the default model (models/immunotherapy.json),
// usable in a scenario as `"therapies": ["pembrolizumab-200mg-q3w", "ipilimumab-3mgkg-q3w-x4"]`; they add
// to the scenario's own `doses`. Each preset names its source (label or trial) and the state it doses.
//
// Horizon: open-ended regimens (anti-PD-1/PD-L1 maintenance) are repeated for two years (at least 730
// days, as in the KEYNOTE/CheckMate trials that stopped at 2 years), so any simulation up to 2 years sees
// every administration; administrations after the simulation's end are simply not reached. Antibody IV
// infusions are modeled as zero-order infusions over their labeled duration (30-90 min).
import type { CompiledModel } from '../model/compile.ts';
import { InputError, type Issue } from '../errors.ts';
import type { Dose } from '../scenario/schema.ts';

export interface TherapyPreset {
  id: string;
  title: string;
  /** Where the regimen comes from (label, trial). */
  source: string;
  /** Drug (international non-proprietary name) or product. */
  drug: string;
  /** How the amounts were converted to the model's units, and what the preset leaves out. */
  notes?: string;
  doses: Dose[];
}

/** Pharmacological class of each preset's drug (shown with the presets: GET /api/therapies `class`). */
export const DRUG_CLASSES: Record<string, string> = {
  pembrolizumab: 'anti-PD-1',
  nivolumab: 'anti-PD-1',
  atezolizumab: 'anti-PD-L1',
  ipilimumab: 'anti-CTLA-4',
  aldesleukin: 'IL-2',
  'interferon alfa-2b': 'IFN-α',
  'CAR-T cells': 'CAR-T',
  'peptide vaccine': 'vaccine',
};

/** Days covered by open-ended regimens. */
export const THERAPY_HORIZON_DAYS = 730;

const MIN = 1 / 1440;
/** 18 MIU of aldesleukin = 1.1 mg (Proleukin label). */
export const IL2_MG_PER_IU = 1.1 / 18e6;
/** Interferon alfa-2b specific activity 2.6e8 IU/mg (Intron A label). */
export const IFN_IU_PER_MG = 2.6e8;
/** Body surface area used to turn per-m2 doses into amounts (a 70 kg adult). */
export const REFERENCE_BSA_M2 = 1.8;

/** Repeats needed so that `every`-spaced doses from `start` cover the horizon. */
function coverCount(every: number, start = 0): number {
  return Math.floor((THERAPY_HORIZON_DAYS - start) / every) + 1;
}

function dose(d: Partial<Dose> & { target: string }): Dose {
  return { start: 0, count: 1, ...d } as Dose;
}

export const THERAPIES: TherapyPreset[] = [
  {
    id: 'pembrolizumab-200mg-q3w',
    title: 'Pembrolizumab 200 mg IV every 3 weeks (30-min infusion), 2 years',
    drug: 'pembrolizumab',
    source: 'KEYTRUDA (pembrolizumab) US label: 200 mg every 3 weeks as a 30-minute IV infusion, up to 24 months',
    doses: [
      dose({
        target: 'PEMc',
        amount: 200,
        every: 21,
        count: coverCount(21),
        duration: 30 * MIN,
        label: 'pembrolizumab 200 mg',
      }),
    ],
  },
  {
    id: 'pembrolizumab-400mg-q6w',
    title: 'Pembrolizumab 400 mg IV every 6 weeks (30-min infusion), 2 years',
    drug: 'pembrolizumab',
    source: 'KEYTRUDA (pembrolizumab) US label: 400 mg every 6 weeks as a 30-minute IV infusion, up to 24 months',
    doses: [
      dose({
        target: 'PEMc',
        amount: 400,
        every: 42,
        count: coverCount(42),
        duration: 30 * MIN,
        label: 'pembrolizumab 400 mg',
      }),
    ],
  },
  {
    id: 'nivolumab-240mg-q2w',
    title: 'Nivolumab 240 mg IV every 2 weeks (30-min infusion), 2 years',
    drug: 'nivolumab',
    source: 'OPDIVO (nivolumab) US label: 240 mg every 2 weeks as a 30-minute IV infusion',
    doses: [
      dose({
        target: 'NIVc',
        amount: 240,
        every: 14,
        count: coverCount(14),
        duration: 30 * MIN,
        label: 'nivolumab 240 mg',
      }),
    ],
  },
  {
    id: 'nivolumab-480mg-q4w',
    title: 'Nivolumab 480 mg IV every 4 weeks (30-min infusion), 2 years',
    drug: 'nivolumab',
    source: 'OPDIVO (nivolumab) US label: 480 mg every 4 weeks as a 30-minute IV infusion',
    doses: [
      dose({
        target: 'NIVc',
        amount: 480,
        every: 28,
        count: coverCount(28),
        duration: 30 * MIN,
        label: 'nivolumab 480 mg',
      }),
    ],
  },
  {
    id: 'atezolizumab-1200mg-q3w',
    title: 'Atezolizumab 1200 mg IV every 3 weeks (60-min first infusion, then 30 min), 2 years',
    drug: 'atezolizumab',
    source:
      'TECENTRIQ (atezolizumab) US label: 1200 mg every 3 weeks; first infusion over 60 minutes, later ones over 30 minutes if tolerated',
    doses: [
      dose({
        target: 'ATZc',
        amount: 1200,
        start: 0,
        duration: 60 * MIN,
        label: 'atezolizumab 1200 mg (first, 60 min)',
      }),
      dose({
        target: 'ATZc',
        amount: 1200,
        start: 21,
        every: 21,
        count: coverCount(21, 21),
        duration: 30 * MIN,
        label: 'atezolizumab 1200 mg',
      }),
    ],
  },
  {
    id: 'ipilimumab-3mgkg-q3w-x4',
    title: 'Ipilimumab 3 mg/kg IV every 3 weeks, 4 doses (90-min infusion)',
    drug: 'ipilimumab',
    source:
      'YERVOY (ipilimumab) US label, melanoma: 3 mg/kg every 3 weeks for a maximum of 4 doses; 90-minute infusions as in the Feng 2014 studies',
    doses: [
      dose({ target: 'IPIc', amountPerKg: 3, every: 21, count: 4, duration: 90 * MIN, label: 'ipilimumab 3 mg/kg' }),
    ],
  },
  {
    id: 'ipilimumab-1mgkg-q3w-x4',
    title: 'Ipilimumab 1 mg/kg IV every 3 weeks, 4 doses (combination dose; 90-min infusion)',
    drug: 'ipilimumab',
    source:
      'YERVOY (ipilimumab) US label: 1 mg/kg every 3 weeks for 4 doses in combination with nivolumab (e.g. renal cell carcinoma; nivolumab 3 mg/kg + ipilimumab 1 mg/kg); 90-minute infusions modeled',
    notes: 'Only the ipilimumab part; combine with a nivolumab preset for the combination regimen.',
    doses: [
      dose({ target: 'IPIc', amountPerKg: 1, every: 21, count: 4, duration: 90 * MIN, label: 'ipilimumab 1 mg/kg' }),
    ],
  },
  {
    id: 'aldesleukin-600kiu-kg-q8h-x14',
    title: 'Aldesleukin (high-dose IL-2) 600,000 IU/kg every 8 hours, 14 doses (one course; 15-min infusions)',
    drug: 'aldesleukin',
    source:
      'PROLEUKIN (aldesleukin) US label: 600,000 IU/kg (0.037 mg/kg) every 8 hours as a 15-minute IV infusion, up to 14 doses; 18 MIU = 1.1 mg',
    notes: `600,000 IU/kg = ${(600000 * IL2_MG_PER_IU).toPrecision(5)} mg/kg. One course of 14 doses; the label's second course (after 9 days' rest) is not included: add it as explicit doses.`,
    doses: [
      dose({
        target: 'IL2',
        amountPerKg: 600000 * IL2_MG_PER_IU,
        every: 1 / 3,
        count: 14,
        duration: 15 * MIN,
        label: 'aldesleukin 600,000 IU/kg',
      }),
    ],
  },
  {
    id: 'ifn-alfa-2b-high-dose-induction',
    title: 'Interferon alfa-2b high-dose induction: 20 MIU/m2 IV (20-min infusion) 5 days a week for 4 weeks',
    drug: 'interferon alfa-2b',
    source:
      'INTRON A (interferon alfa-2b) US label, adjuvant melanoma: induction 20 million IU/m2 as a 20-minute IV infusion 5 consecutive days per week for 4 weeks (the maintenance phase, 10 MIU/m2 SC three times a week for 48 weeks, is not included); 2.6e8 IU/mg',
    notes: `20 MIU/m2 x ${REFERENCE_BSA_M2} m2 (reference body surface area) = 36 MIU = ${((20e6 * REFERENCE_BSA_M2) / IFN_IU_PER_MG).toPrecision(4)} mg per infusion; not scaled by weight.`,
    doses: [0, 1, 2, 3].map((week) =>
      dose({
        target: 'IFN',
        amount: (20e6 * REFERENCE_BSA_M2) / IFN_IU_PER_MG,
        start: 7 * week,
        every: 1,
        count: 5,
        duration: 20 * MIN,
        label: `interferon alfa-2b 20 MIU/m2, week ${week + 1}`,
      }),
    ),
  },
  {
    id: 'car-t-single-infusion',
    title: 'CAR-T single infusion, 2 x 10^6 CAR-positive T cells/kg (axicabtagene ciloleucel dose)',
    drug: 'CAR-T cells',
    source:
      'YESCARTA (axicabtagene ciloleucel) US label: a single IV infusion of 2 x 10^6 CAR-positive viable T cells per kg (maximum 2 x 10^8); KYMRIAH (tisagenlecleucel) doses are of the same order (0.6-6 x 10^8 cells)',
    notes:
      'Lymphodepleting chemotherapy is not modeled. A bolus into the effector CAR-T state at day 0; above 100 kg the label cap (2e8 cells) is exceeded: give an explicit dose instead.',
    doses: [dose({ target: 'CARe', amountPerKg: 2e6, label: 'CAR-T 2e6 cells/kg' })],
  },
  {
    id: 'peptide-vaccine-prime-boost',
    title: 'Peptide vaccine, 0.3 mg SC: priming on days 0, 3, 7, 14, 21 and boosts at weeks 12 and 20',
    drug: 'peptide vaccine',
    source:
      'Schedule of the personal neoantigen peptide vaccine NeoVax (Ott PA et al. Nature 2017;547:217-221): priming on days 1, 4, 8, 15 and 22, boosts at weeks 12 and 20, 300 micrograms per peptide; an investigational schedule, not an approved regimen',
    notes:
      'Days counted from 0 (day 1 of the trial = day 0 here); 0.3 mg of antigen per administration into the injection-site depot VAC.',
    doses: [
      ...[0, 3, 7, 14, 21].map((d) => dose({ target: 'VAC', amount: 0.3, start: d, label: 'peptide vaccine (prime)' })),
      ...[84, 140].map((d) => dose({ target: 'VAC', amount: 0.3, start: d, label: 'peptide vaccine (boost)' })),
    ],
  },
];

const BY_ID = new Map(THERAPIES.map((t) => [t.id, t]));

export function getTherapy(id: string): TherapyPreset | undefined {
  return BY_ID.get(id);
}

/**
 * Therapy names → doses for `model`. Unknown names and presets whose target states the model lacks are
 * InputErrors at ['therapies', i]. `weight` is not applied here: per-kg doses stay `amountPerKg` and
 * are multiplied by the scenario's weight when doses are expanded.
 */
export function expandTherapies(names: string[], model: CompiledModel, weight: number): Dose[] {
  void weight;
  const out: Dose[] = [];
  const issues: Issue[] = [];
  names.forEach((name, i) => {
    const preset = BY_ID.get(name);
    if (!preset) {
      issues.push({
        path: ['therapies', i],
        message: `unknown therapy '${name}' (available: ${THERAPIES.map((t) => t.id).join(', ')})`,
      });
      return;
    }
    const missing = [...new Set(preset.doses.map((d) => d.target))].filter((s) => !model.stateIndex.has(s));
    if (missing.length) {
      issues.push({
        path: ['therapies', i],
        message: `therapy '${name}' doses state${missing.length > 1 ? 's' : ''} ${missing.map((s) => `'${s}'`).join(', ')}, which model '${model.id}' does not have (therapy presets are written for the 'immunotherapy' model)`,
      });
      return;
    }
    out.push(...preset.doses.map((d) => ({ ...d, label: d.label ?? preset.id })));
  });
  if (issues.length) throw new InputError(issues);
  return out;
}
