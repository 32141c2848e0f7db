// Hostile inputs shared by the reliability tests and the fuzzer (bench/fuzz.ts): the reproducers of
// past failures under hostile input (reserved names, cyclic assignments, output budget, limits), built
// deterministically.

/**
 * An inline model with `n` assignments, each naming the next `fanout` (cyclic = false: the previous
 * `fanout`, a valid model). About 650 KB for n = 1000, fanout = 140.
 */
export function chainModel(n = 1000, fanout = 140, forward = true): Record<string, unknown> {
  const assignments: Record<string, string> = {};
  for (let k = 0; k < n; k++) {
    const refs: string[] = [];
    for (let j = 1; j <= fanout; j++) {
      const m = forward ? k + j : k - j;
      if (m >= 0 && m < n) refs.push(`a${m}`);
    }
    assignments[`a${k}`] = refs.length ? refs.join(' + ') : '1';
  }
  return {
    id: 'chain',
    parameters: { k: { value: 0.1 } },
    states: { x: { initial: 1 } },
    assignments,
    odes: { x: forward ? '-k * x' : `-k * x + 0 * a${n - 1}` },
  };
}
