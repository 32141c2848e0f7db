// Exact order statistics and type-7 quantiles of a column of numbers without sorting it: the population
// summary's quantiles at every output time (src/analysis/population.ts mergeChunks), for up to a million
// subjects a column. Results are exactly those of a sort (tests/population.test.ts checks them bit for bit).
//
// Multiple quickselect: one partition serves every wanted rank (~0.2 ms for 10,000 values and three
// quantiles). A bracketed selection from a sample (Floyd and Rivest) was tried and was no faster here: its
// pass over the column branches on every element as the partitions do.

/**
 * Order statistics of v[lo..hi] (inclusive) at the positions ranks[rlo..rhi) (increasing): afterwards v[r]
 * holds the value a sort would put at r, for each requested r. Multiple quickselect (Hoare partition,
 * median-of-three pivot): one partition serves every requested position, and only the sides holding one are
 * partitioned further, so a handful of quantiles costs a few passes over the values instead of a sort.
 */
export function selectRanks(
  v: Float64Array,
  lo: number,
  hi: number,
  ranks: Int32Array,
  rlo: number,
  rhi: number,
): void {
  while (rlo < rhi && hi > lo) {
    const mid = (lo + hi) >> 1;
    const a = v[lo],
      b = v[mid],
      c = v[hi];
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo,
      j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        const t = v[i];
        v[i] = v[j];
        v[j] = t;
        i++;
        j--;
      }
    }
    // Now v[lo..j] <= pivot <= v[i..hi], and j < r < i holds the pivot value itself.
    let left = rlo;
    while (left < rhi && ranks[left] <= j) left++;
    let right = left;
    while (right < rhi && ranks[right] < i) right++;
    // Recurse into the smaller list of positions' side, loop on the other.
    if (left - rlo <= rhi - right) {
      selectRanks(v, lo, j, ranks, rlo, left);
      lo = i;
      rlo = right;
    } else {
      selectRanks(v, i, hi, ranks, right, rhi);
      hi = j;
      rhi = left;
    }
  }
}

/**
 * Type-7 quantiles of the m values in v (reordered), as quantileSorted on the sorted values gives
 * them: the two order statistics around each position. `qs` in any order; `out[r]` for qs[r] (null when m = 0).
 */
export function quantilesSelect(v: Float64Array, m: number, qs: readonly number[], out: (number | null)[]): void {
  if (m === 0) {
    for (let r = 0; r < qs.length; r++) out[r] = null;
    return;
  }
  const want: number[] = [];
  for (const q of qs) {
    const lo = Math.floor((m - 1) * q);
    want.push(lo, Math.min(lo + 1, m - 1));
  }
  const ranks = Int32Array.from(new Set(want)).sort();
  selectRanks(v, 0, m - 1, ranks, 0, ranks.length);
  qs.forEach((q, r) => {
    const pos = (m - 1) * q;
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, m - 1);
    out[r] = v[lo] + (v[hi] - v[lo]) * (pos - lo);
  });
}
