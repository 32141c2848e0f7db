// Compile stage 3: assignment order. Assignments are evaluated in file order, so each may use only earlier
// ones; a strongly-connected-components pass (Tarjan) tells a cycle from a mere forward reference.
import type { ParsedExpression } from '../expression.ts';
import { InputError, MAX_ISSUES, type Issue } from '../../errors.ts';
import type { SymbolTable } from './declarations.ts';

export interface AssignmentOrder {
  /** Per assignment, the names of the assignments it reads. */
  deps: string[][];
  /** The assignments (indices, ascending) needed, transitively, by code reading `symbols`. */
  needed: (symbols: Iterable<string>) => number[];
}

/** Check the order (throws InputError naming cycles and forward references) and return the dependencies. */
export function orderAssignments(table: SymbolTable, assignments: ParsedExpression[]): AssignmentOrder {
  const { assignNames, assignIndex } = table;
  const deps = assignments.map((pe) => [...pe.symbols].filter((s) => assignIndex.has(s)));
  // One pass over the dependency graph: linear in the number of references however they are arranged.
  const component = stronglyConnected(deps.map((ds) => ds.map((d) => assignIndex.get(d)!)));
  const issues: Issue[] = [];
  let problems = 0;
  assignNames.forEach((name, k) => {
    for (const d of deps[k]) {
      const m = assignIndex.get(d)!;
      if (m < k) continue;
      problems++;
      if (issues.length >= MAX_ISSUES) continue;
      if (m === k)
        issues.push({ path: ['assignments', name], message: `'${name}' refers to itself (cyclic assignment)` });
      else {
        issues.push({
          path: ['assignments', name],
          message:
            component[m] === component[k]
              ? `cyclic assignments: '${name}' and '${d}' depend on each other`
              : `'${name}' uses '${d}', which is assigned later (assignments are evaluated in order; move '${d}' up)`,
        });
      }
    }
  });
  if (issues.length) throw new InputError(issues, [], problems);
  return { deps, needed: (symbols) => neededAssignments(assignIndex, deps, symbols) };
}

/** Which assignments a piece of code needs (transitively), so that outputs and events compute only those. */
function neededAssignments(assignIndex: Map<string, number>, deps: string[][], symbols: Iterable<string>): number[] {
  const mark = new Set<number>();
  const visit = (s: string) => {
    const k = assignIndex.get(s);
    if (k === undefined || mark.has(k)) return;
    mark.add(k);
    deps[k].forEach(visit);
  };
  for (const s of symbols) visit(s);
  return [...mark].sort((a, b) => a - b);
}

/**
 * Strongly connected components of a graph given as adjacency lists (Tarjan's algorithm, iterative so that
 * a long chain cannot overflow the stack): component[v] is the same for v and w exactly when each reaches
 * the other. O(vertices + edges).
 */
export function stronglyConnected(adj: readonly (readonly number[])[]): Int32Array {
  const n = adj.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const component = new Int32Array(n).fill(-1);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  let next = 0;
  let components = 0;
  const work: [number, number][] = [];
  for (let root = 0; root < n; root++) {
    if (index[root] >= 0) continue;
    work.push([root, 0]);
    while (work.length) {
      const frame = work[work.length - 1];
      const v = frame[0];
      if (frame[1] === 0 && index[v] < 0) {
        index[v] = low[v] = next++;
        stack.push(v);
        onStack[v] = 1;
      }
      if (frame[1] < adj[v].length) {
        const w = adj[v][frame[1]++];
        if (index[w] < 0) work.push([w, 0]);
        else if (onStack[w]) low[v] = Math.min(low[v], index[w]);
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1][0];
        low[parent] = Math.min(low[parent], low[v]);
      }
      if (low[v] === index[v]) {
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          component[w] = components;
        } while (w !== v);
        components++;
      }
    }
  }
  return component;
}
