// Errors that carry the JSON path of every problem, so the CLI and the API can say which field is wrong.
// `InputError` is a user mistake (HTTP 400, CLI exit 2); `SolveError` a valid request that could not be
// solved (HTTP 422), with how far it got.

export type Path = (string | number)[];

export interface Issue {
  path: Path;
  message: string;
}

export function formatPath(path: Path): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(p)) s += s ? `.${p}` : p;
    else s += `[${JSON.stringify(p)}]`;
  }
  return s || '(root)';
}

/**
 * Issues kept in one error: a hostile or badly broken input (a model with 140,000 bad references) must
 * not produce a multi-megabyte error. The first MAX_ISSUES are kept, in order, with the total count.
 */
export const MAX_ISSUES = 50;

export class InputError extends Error {
  readonly issues: Issue[];
  /** How many problems were found (issues holds the first MAX_ISSUES of them). */
  readonly total: number;
  constructor(issues: Issue[] | string, path: Path = [], total?: number) {
    const all = typeof issues === 'string' ? [{ path, message: issues }] : issues;
    const list = all.length > MAX_ISSUES ? all.slice(0, MAX_ISSUES) : all;
    const count = Math.max(total ?? 0, all.length);
    super(
      list.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ') +
        (count > list.length ? ` (first ${list.length} of ${count} problems)` : ''),
    );
    this.name = 'InputError';
    this.issues = list;
    this.total = count;
  }
  /** The same issues under a path prefix (a model inline in a scenario, an arm of a comparison). */
  prefixed(prefix: Path): InputError {
    return new InputError(
      this.issues.map((i) => ({ path: [...prefix, ...i.path], message: i.message })),
      [],
      this.total,
    );
  }
}

export class SolveError extends Error {
  /** The time the solution had reached when it stopped. */
  readonly timeReached: number;
  readonly reason: 'non-finite' | 'step-size' | 'max-steps' | 'time-budget' | 'other';
  /**
   * True when the message already says where the solve stopped (a solver's "step size underflow at t = 3.2"):
   * reports then add no "(reached t = …)" of their own (see reachedSuffix).
   */
  readonly timeStated: boolean;
  constructor(message: string, reason: SolveError['reason'], timeReached: number, timeStated = false) {
    super(message);
    this.name = 'SolveError';
    this.reason = reason;
    this.timeReached = timeReached;
    this.timeStated = timeStated;
  }
}

/** " (reached t = …)" after a solve error's message, unless the time is unknown or the message states it. */
export function reachedSuffix(e: { timeReached: number | null; timeStated?: boolean }): string {
  return e.timeReached === null || !Number.isFinite(e.timeReached) || e.timeStated
    ? ''
    : ` (reached t = ${e.timeReached})`;
}

/**
 * zod issues → our issues (paths made of strings and numbers only). An unknown field is reported at its
 * own path (zod reports the object with the list of keys), one issue per key, so that the field is named.
 */
export function fromZodIssues(
  issues: readonly { path: readonly PropertyKey[]; message: string; code?: string; keys?: readonly string[] }[],
  prefix: Path = [],
): Issue[] {
  return issues.flatMap((i) => {
    const path = [...prefix, ...i.path.map((p) => (typeof p === 'number' ? p : String(p)))];
    if (i.code === 'unrecognized_keys' && Array.isArray(i.keys) && i.keys.length) {
      return i.keys
        .slice(0, MAX_ISSUES)
        .map((k) => ({ path: [...path, String(k)], message: `unknown field '${String(k).slice(0, 100)}'` }));
    }
    return [{ path, message: i.message }];
  });
}
