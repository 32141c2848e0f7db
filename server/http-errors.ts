// The API's error shape (Contract 5, docs/architecture.md): HttpError and the helpers that turn zod issues and
// worker errors into it (400 {error: {message, issues}} / 422 could not solve / 503 busy / 500 a bug).
import type { Response } from 'express';
import { fromZodIssues, formatPath, reachedSuffix, MAX_ISSUES, type Issue } from '../src/errors.ts';
import type { JobError } from '../src/jobs/tasks.ts';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly issues: Issue[] = [],
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function sendError(
  res: Response,
  status: number,
  message: string,
  issues: Issue[] = [],
  extra: Record<string, unknown> = {},
) {
  res
    .status(status)
    .type('application/json')
    .send(JSON.stringify({ error: { message, issues, ...extra } }));
}

/** 400 with the first MAX_ISSUES issues (and `total` when there were more): error bodies stay small. */
export function badRequest(all: Issue[], total = all.length): HttpError {
  const issues = all.slice(0, MAX_ISSUES);
  const count = Math.max(total, all.length);
  if (count > issues.length)
    return new HttpError(
      400,
      `${count} problems in the request (the first ${issues.length} are listed): ${issues
        .slice(0, 5)
        .map((i) => `${formatPath(i.path)}: ${i.message}`)
        .join('; ')}; ...`,
      issues,
      { total: count },
    );
  const message =
    issues.length === 1
      ? `${formatPath(issues[0].path)}: ${issues[0].message}`
      : `${issues.length} problems in the request: ${issues
          .slice(0, 5)
          .map((i) => `${formatPath(i.path)}: ${i.message}`)
          .join('; ')}${issues.length > 5 ? '; ...' : ''}`;
  return new HttpError(400, message, issues);
}

export type ZodIssueLike = {
  code?: string;
  path: PropertyKey[];
  message: string;
  errors?: ZodIssueLike[][];
  keys?: string[];
};

/**
 * zod issues → ours. A union that failed ("Invalid input") is replaced by the issues of the branch whose
 * type matched the value (e.g. `times` given as an array: the array branch's "at most N output times").
 */
export function zodIssues(issues: readonly ZodIssueLike[], prefix: PropertyKey[] = []): Issue[] {
  const out: Issue[] = [];
  for (const i of issues) {
    const path = [...prefix, ...i.path];
    if (i.code === 'invalid_union' && i.errors?.length) {
      const typed = i.errors.filter((branch) => !branch.some((b) => b.code === 'invalid_type' && b.path.length === 0));
      if (typed.length === 1) {
        out.push(...zodIssues(typed[0], path));
        continue;
      }
    }
    out.push(...fromZodIssues([{ path, message: i.message, code: i.code, keys: i.keys }]));
  }
  return out;
}

/** A worker's error → HttpError (400 for input, 422 for solve/resources, 500 for a bug). */
export function jobError(e: JobError, arm?: { name: string; index: number }): HttpError {
  const where = arm ? `arm '${arm.name}': ` : '';
  switch (e.type) {
    case 'input':
      return badRequest(e.issues, e.total);
    case 'solve': {
      return new HttpError(
        422,
        `${where}could not solve: ${e.message}${reachedSuffix(e)}`,
        arm ? [{ path: ['arms', arm.index], message: e.message }] : [],
        {
          reason: e.reason,
          timeReached: e.timeReached,
          ...(arm ? { arm: arm.name } : {}),
        },
      );
    }
    case 'busy':
      return new HttpError(503, e.message);
    case 'cancelled':
      return new HttpError(503, e.message);
    case 'resources':
      return new HttpError(422, `${where}could not solve: ${e.message}`, [], {
        reason: 'resources',
        timeReached: null,
        ...(arm ? { arm: arm.name } : {}),
      });
    default:
      return new HttpError(500, 'internal error');
  }
}
