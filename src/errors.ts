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

export class InputError extends Error {
  readonly issues: Issue[];
  constructor(issues: Issue[] | string, path: Path = []) {
    const list = typeof issues === 'string' ? [{ path, message: issues }] : issues;
    super(list.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; '));
    this.name = 'InputError';
    this.issues = list;
  }
  /** The same issues under a path prefix (a model inline in a scenario, an arm of a comparison). */
  prefixed(prefix: Path): InputError {
    return new InputError(this.issues.map((i) => ({ path: [...prefix, ...i.path], message: i.message })));
  }
}

export class SolveError extends Error {
  /** The time the solution had reached when it stopped. */
  readonly timeReached: number;
  readonly reason: 'non-finite' | 'step-size' | 'max-steps' | 'time-budget' | 'other';
  constructor(message: string, reason: SolveError['reason'], timeReached: number) {
    super(message);
    this.name = 'SolveError';
    this.reason = reason;
    this.timeReached = timeReached;
  }
}

/** zod issues → our issues (paths made of strings and numbers only). */
export function fromZodIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[], prefix: Path = []): Issue[] {
  return issues.map((i) => ({
    path: [...prefix, ...i.path.map((p) => (typeof p === 'number' ? p : String(p)))],
    message: i.message,
  }));
}
