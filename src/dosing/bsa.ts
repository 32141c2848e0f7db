// Body surface area (m²) from height (cm) and weight (kg), for doses written per m² (amountPerM2).
//   DuBois D, DuBois EF. A formula to estimate the approximate surface area if height and weight be known.
//     Arch Intern Med 1916;17:863-871:        BSA = 0.007184 × W^0.425 × H^0.725
//   Mosteller RD. Simplified calculation of body-surface area. N Engl J Med 1987;317:1098:
//                                              BSA = sqrt(H × W / 3600)
export type BsaFormula = 'mosteller' | 'dubois';

export function bodySurfaceArea(heightCm: number, weightKg: number, formula: BsaFormula): number {
  return formula === 'dubois'
    ? 0.007184 * Math.pow(weightKg, 0.425) * Math.pow(heightCm, 0.725)
    : Math.sqrt((heightCm * weightKg) / 3600);
}
