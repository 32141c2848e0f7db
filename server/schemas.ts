// Request and response schemas of the HTTP API (Contract 5, docs/architecture.md). Requests reuse the scenario pieces of
// src/scenario/schema.ts, so the API validates exactly what the library accepts; the OpenAPI document
// (GET /api/openapi.json) is generated from these same zod schemas.
import { z } from 'zod';
import { FitRequest } from '../src/analysis/fit/index.ts';
import { PopulationFitRequest, VpcRequest } from '../src/analysis/nlme/index.ts';
import { OptimizeRequest, PopulationOptimizeRequest } from '../src/analysis/optimize/index.ts';
import { PopulationRequest, POPULATION_LIMITS } from '../src/analysis/population-request.ts';
import { SensitivityRequest, SENSITIVITY_LIMITS } from '../src/analysis/sensitivity.ts';
import { NcaRequest } from '../src/analysis/nca.ts';
import { CompareRequest, CompareResponse } from '../src/analysis/compare.ts';
import { Scenario, SimulationResult, Dose, LIMITS } from '../src/scenario/schema.ts';
import { ModelSpec, MODEL_LIMITS, MAX_EXPRESSION_LENGTH } from '../src/model/schema.ts';
import { BUDGET } from '../src/limits.ts';

/** Limits the server adds to the library's (LIMITS, MODEL_LIMITS). */
export const SERVER_LIMITS = {
  /** Largest request body, bytes (413 above). */
  bodyBytes: 1_048_576,
  /** Deepest nesting of objects/arrays in a request body. */
  bodyDepth: 32,
  /** Numbers in one response: output times x (states + outputs), summed over arms. */
  outputValues: BUDGET.outputValues,
  /** Wall-clock budget per request, ms, shared by the arms of a comparison (the solver stops itself). */
  requestBudgetMs: LIMITS.timeBudgetMs,
  /** Wall-clock budget of a fit or a schedule optimization (many solves), ms. */
  analysisBudgetMs: 60_000,
  /** Extra time after the budget before a worker that has not stopped is terminated. */
  killGraceMs: 2_000,
  /** Solves (arms) waiting for a worker before new requests get 503. */
  queueLength: 256,
} as const;

export { Arm, CompareRequest, CompareResponse, MetricsTable } from '../src/analysis/compare.ts';

export const Issue = z.object({
  path: z.array(z.union([z.string(), z.number()])),
  message: z.string(),
});

export const ErrorResponse = z.object({
  error: z.object({
    message: z.string(),
    issues: z.array(Issue),
    /** 422 only: why the solver stopped and the time it had reached (null when unknown). */
    reason: z.enum(['non-finite', 'step-size', 'max-steps', 'time-budget', 'resources', 'other']).optional(),
    timeReached: z.number().nullable().optional(),
    /** 400: how many problems were found when more than the listed `issues` (the first 50). */
    total: z.number().optional(),
    /** 422 from /api/compare: the arm that could not be solved. */
    arm: z.string().optional(),
  }),
});

export const ModelSummary = z.object({
  id: z.string(),
  title: z.string(),
  reference: z.union([z.string(), z.array(z.string())]).optional(),
});

export const ModelList = z.object({
  /** The model the web client opens with. */
  default: z.string(),
  models: z.array(ModelSummary),
});

export const TherapyList = z.object({
  /** The model the presets are written for (their targets are its states). */
  model: z.string(),
  therapies: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      drug: z.string(),
      source: z.string(),
      notes: z.string().optional(),
      /** States the preset doses. */
      targets: z.array(z.string()),
      doses: z.array(Dose),
    }),
  ),
});

export const Health = z.object({
  status: z.literal('ok'),
  version: z.string(),
  models: z.number(),
  workers: z.number(),
});

/** POST /api/jobs: a kind and its request (the schema of the kind's synchronous route). Kept equal to the job kinds (tested). */
export const JobSubmit = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('population'), request: PopulationRequest }),
  z.strictObject({ kind: z.literal('fit'), request: z.union([FitRequest, PopulationFitRequest]) }),
  z.strictObject({ kind: z.literal('optimize'), request: z.union([OptimizeRequest, PopulationOptimizeRequest]) }),
  z.strictObject({ kind: z.literal('sensitivity'), request: SensitivityRequest }),
  z.strictObject({ kind: z.literal('vpc'), request: VpcRequest }),
]);

const JobProgress = z.object({
  /** Units done of `total` (subjects of a population, 1 for a one-chunk job). */
  done: z.number().int(),
  total: z.number().int(),
  chunks: z.number().int(),
  chunksDone: z.number().int(),
});
const jobStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);

export const JobAccepted = z.object({
  id: z.uuid(),
  kind: z.string(),
  status: jobStatus,
  progress: JobProgress,
  /** Who runs the chunks: this server's threads, or `immunopd worker`s on Redis. */
  backend: z.enum(['embedded', 'redis']),
});

export const JobState = z.object({
  id: z.uuid(),
  kind: z.string(),
  status: jobStatus,
  progress: JobProgress,
  created: z.string(),
  finished: z.string().optional(),
  /** Chunks done per worker ("thread-0", "host:pid"...). */
  workers: z.record(z.string(), z.number().int()),
  /** A failed or cancelled job: the error as the synchronous route would give it (input issues under ['request', ...]). */
  error: z
    .object({
      type: z.enum(['input', 'solve', 'resources', 'busy', 'cancelled', 'internal']),
      message: z.string(),
      issues: z.array(Issue).optional(),
      reason: z.string().optional(),
      timeReached: z.number().nullable().optional(),
    })
    .optional(),
  /** A succeeded job: the kind's result, the body of its synchronous route (a population above the synchronous limit: summary only). */
  result: z.unknown().optional(),
});

/** The limits as documented (README, OpenAPI description, GET /healthz is not the place). */
export function limitsText(): string {
  return [
    `request body: at most ${SERVER_LIMITS.bodyBytes} bytes (413 above), JSON only (Content-Type: application/json), nesting depth at most ${SERVER_LIMITS.bodyDepth}`,
    `output points: at most ${LIMITS.outputPoints} output times per simulation (per arm), and at most ${BUDGET.outputValues} numbers per response for every route (times x (states + outputs + 1) summed over arms; population series x (quantiles + mean) x times; fitted curves; optimized curves)`,
    `memory: an estimate of at most ${BUDGET.memoryBytes / 1048576} MiB per request, typed arrays included (e.g. population subjects x series x times x 8 bytes), checked before solving`,
    `names: no user-chosen name (parameters, states, presets, subjects, series, ...) may be a member of Object.prototype (__proto__, constructor, toString, ...) or 'prototype'; errors list at most 50 issues plus 'total'`,
    `arms: at most ${LIMITS.arms} per comparison`,
    `doses: at most ${LIMITS.doses} dose entries per scenario or arm, ${LIMITS.doseEvents} administrations after expanding repeats; at most 50 therapy presets`,
    `model size (inline models): at most ${MODEL_LIMITS.states} states, ${MODEL_LIMITS.parameters} parameters, ${MODEL_LIMITS.assignments} assignments, ${MODEL_LIMITS.outputs} outputs, ${MODEL_LIMITS.events} events, expressions of at most ${MAX_EXPRESSION_LENGTH} characters`,
    `time: |t| at most ${LIMITS.maxTime}; solver steps at most ${LIMITS.maxSteps} (solver.maxSteps, default 500000)`,
    `wall-clock budget: ${SERVER_LIMITS.requestBudgetMs} ms per request, shared by the arms of a comparison (solver.timeBudgetMs may lower it); the solver stops itself at the budget (422, reason time-budget) and a worker still busy ${SERVER_LIMITS.killGraceMs} ms later is terminated`,
    `virtual populations (POST /api/population): at most ${POPULATION_LIMITS.subjects} subjects (subjects x arms ${POPULATION_LIMITS.solves}) and ${POPULATION_LIMITS.series} series, ${POPULATION_LIMITS.values} kept values (subjects x arms x series x output times); as a job (POST /api/jobs): ${POPULATION_LIMITS.jobs.embedded.subjects} subjects and ${POPULATION_LIMITS.jobs.embedded.values} values on this server's threads, ${POPULATION_LIMITS.jobs.redis.subjects} subjects and ${POPULATION_LIMITS.jobs.redis.values} values with Redis workers, summary only above ${POPULATION_LIMITS.subjects} subjects (per-subject rows: GET /api/jobs/{id}/subjects); sensitivity (POST /api/sensitivity): at most ${SENSITIVITY_LIMITS.parameters} parameters`,
    `fits, schedule optimizations, populations and sensitivities (POST /api/fit, /api/optimize, /api/population, /api/sensitivity): ${SERVER_LIMITS.analysisBudgetMs} ms per request, each ODE solve within solver.timeBudgetMs; a worker still busy ${SERVER_LIMITS.killGraceMs} ms after the budget is terminated (422, reason time-budget)`,
    `time to send a request: 30 s (the connection is closed after)`,
    `concurrency: solves run in a pool of worker threads; at most ${SERVER_LIMITS.queueLength} solves (arms) wait for a worker (503 with Retry-After above, or when the budget runs out while waiting)`,
  ].join('\n');
}

/** The components of the OpenAPI document: every request and response schema, from zod. */
function schemaComponents(): Record<string, unknown> {
  const reg = z.registry<{ id: string; description?: string }>();
  reg.add(Scenario, {
    id: 'Scenario',
    description:
      'A scenario (Contract 2, docs/architecture.md): model, parameters, initial values, output times, doses, therapy presets, solver options.',
  });
  reg.add(SimulationResult, {
    id: 'SimulationResult',
    description:
      'A result (Contract 3): output times, states and outputs by name, response metrics, solver statistics.',
  });
  reg.add(CompareRequest, {
    id: 'CompareRequest',
    description:
      'Arms that share a model, output times, weight and solver options; each arm has its own parameters, doses and therapies.',
  });
  reg.add(CompareResponse, { id: 'CompareResponse' });
  reg.add(ErrorResponse, { id: 'Error' });
  reg.add(ModelList, { id: 'ModelList' });
  reg.add(ModelSpec, {
    id: 'Model',
    description: 'A model file (Contract 1); also accepted inline as `model` in a scenario.',
  });
  reg.add(TherapyList, { id: 'TherapyList' });
  reg.add(Health, { id: 'Health' });
  reg.add(FitRequest, {
    id: 'FitRequest',
    description:
      'A fit (Contract 4, docs/architecture.md): model, data rows (or CSV text), parameters to estimate with bounds and scale, error model, subjects, solver options.',
  });
  reg.add(PopulationFitRequest, {
    id: 'PopulationFitRequest',
    description:
      'A population fit (Contract 4b, docs/architecture.md): a fit request with `population` (FOCE-I or SAEM, Ω, covariate effects) and `data` rows or a NONMEM-style `dataset`. See docs/nlme.md.',
  });
  reg.add(VpcRequest, {
    id: 'VpcRequest',
    description:
      "A visual predictive check: the population fit request plus `result` (the fit's answer) or compact `estimates`, and `vpc` options (replicates >= 500, seed, bins, predictionCorrected, percentiles, level). See docs/nlme.md.",
  });
  reg.add(PopulationRequest, {
    id: 'PopulationRequest',
    description:
      'A scenario plus `population` (n subjects, seeded: Ω diagonal, block or SDs + correlation; log-normal, normal or logit-normal parameters; covariates; residual error; quantile bands; per-subject output; response probabilities) and optional trial `arms` over the same subjects. See docs/population.md.',
  });
  reg.add(SensitivityRequest, {
    id: 'SensitivityRequest',
    description:
      'A scenario plus `sensitivity`: method local (parameters, relative step), sobol or morris (ranges, samples, seed), and the response (a metric, or a series at a time). See docs/population.md.',
  });
  reg.add(NcaRequest, {
    id: 'NcaRequest',
    description:
      'Non-compartmental analysis: observations {time, conc, subject?} (or `csv` text time,conc[,subject] instead), dose, doseTime, tau, route, infusionDuration.',
  });
  reg.add(OptimizeRequest, {
    id: 'OptimizeRequest',
    description:
      'A schedule search: per drug, amounts, intervals, dose counts and starts from sets or bounds; objective and constraints.',
  });
  reg.add(PopulationOptimizeRequest, {
    id: 'PopulationOptimizeRequest',
    description:
      'A schedule search on a virtual population (a request with `population`): a population objective and constraints on population percentiles, common random numbers across candidates. See docs/population.md.',
  });
  reg.add(JobSubmit, {
    id: 'JobSubmit',
    description:
      'A job: its kind and the request of that kind (the body of POST /api/<kind>). Populations as jobs may be larger (see the limits).',
  });
  reg.add(JobAccepted, { id: 'JobAccepted' });
  reg.add(JobState, {
    id: 'JobState',
    description:
      'A job: status, progress (done/total units), the workers that ran its chunks, and the result or error once finished.',
  });
  const json = z.toJSONSchema(reg, {
    io: 'input',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, Record<string, unknown>> };
  const schemas: Record<string, unknown> = {};
  for (const [id, s] of Object.entries(json.schemas)) {
    const { $schema: _s, $id: _i, ...rest } = s;
    schemas[id] = rest;
  }
  return schemas;
}

type Ref = (id: string) => { $ref: string };
type ErrorResponseDoc = (description: string) => { description: string; content: Record<string, unknown> };

/** The analysis routes of the OpenAPI document: fit, VPC, optimize, population, sensitivity, NCA. */
function analysisPaths(ref: Ref, jsonBody: (id: string) => Record<string, unknown>, errors: Record<number, unknown>) {
  return {
    '/api/fit': {
      post: {
        summary:
          'Estimate parameters from data: Levenberg-Marquardt with bounds, forward sensitivities, standard errors and confidence intervals; a request with `population` is a population fit (FOCE-I or SAEM)',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { oneOf: [ref('FitRequest'), ref('PopulationFitRequest')] } } },
        },
        responses: {
          200: {
            description:
              'estimates (value, se, ci95), objective, AIC, BIC, correlation, residuals, fitted curves, ODE solves, ms',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
          ...errors,
        },
      },
    },
    '/api/vpc': {
      post: {
        summary:
          'Visual predictive check of a population fit: observed vs simulated percentiles per time bin with confidence bands (prediction-corrected on request)',
        requestBody: jsonBody('VpcRequest'),
        responses: {
          200: {
            description: 'replicates, seed, binning, bins (observed and simulated percentiles), failedSimulations',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
          ...errors,
        },
      },
    },
    '/api/optimize': {
      post: {
        summary: 'Search dosing schedules under constraints; the best schedule, its curves and the ranked candidates',
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: { oneOf: [ref('OptimizeRequest'), ref('PopulationOptimizeRequest')] } },
          },
        },
        responses: {
          200: {
            description: 'best schedule, baselines, ranked candidates',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
          ...errors,
        },
      },
    },
    '/api/population': {
      post: {
        summary:
          'A virtual population or a trial (arms over the same subjects): quantile bands of states or outputs, response probabilities with Monte Carlo SEs',
        requestBody: jsonBody('PopulationRequest'),
        responses: {
          200: {
            description: 'times, quantiles, summary per series, failures, stats',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
          ...errors,
        },
      },
    },
    '/api/sensitivity': {
      post: {
        summary:
          'Sensitivity of a response: local (normalized, by central differences, ranked), Sobol S1/ST with bootstrap CIs, or Morris μ*, σ',
        requestBody: jsonBody('SensitivityRequest'),
        responses: {
          200: {
            description: 'response value and ranked parameters',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
          ...errors,
        },
      },
    },
    '/api/nca': {
      post: {
        summary:
          'Non-compartmental analysis per subject: Cmax, Tmax, λz (PKNCA point selection), t½, AUC0–t (linear-up/log-down), AUC0–∞, AUMC, MRT, CL(/F), Vz(/F), Ctrough, accumulation ratio',
        requestBody: jsonBody('NcaRequest'),
        responses: {
          200: {
            description: 'route and one result per subject',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
          ...errors,
        },
      },
    },
  };
}

/** The job routes of the OpenAPI document (POST /api/jobs, its status, events, per-subject rows, cancel). */
function jobPaths(
  ref: Ref,
  jsonBody: (id: string) => Record<string, unknown>,
  err: ErrorResponseDoc,
  errors: Record<400 | 413, unknown>,
) {
  const jobId = {
    name: 'id',
    in: 'path',
    required: true,
    description: 'the job id (a UUID)',
    schema: { type: 'string', format: 'uuid' },
  };
  return {
    '/api/jobs': {
      post: {
        summary:
          "Queue a job (population, fit, optimize, sensitivity): chunks on this server's threads, or on `immunopd worker`s when the server has REDIS_URL",
        requestBody: jsonBody('JobSubmit'),
        responses: {
          202: {
            description: 'queued (Location: /api/jobs/{id})',
            content: { 'application/json': { schema: ref('JobAccepted') } },
          },
          400: errors[400],
          413: errors[413],
          503: err('Too many jobs queued or running on this server'),
        },
      },
    },
    '/api/jobs/{id}': {
      get: {
        summary: "A job's status and progress; its result once succeeded (kept for an hour)",
        parameters: [jobId],
        responses: {
          200: { description: 'the job', content: { 'application/json': { schema: ref('JobState') } } },
          404: err('Unknown job, or its result expired'),
        },
      },
      delete: {
        summary: 'Cancel a queued or running job',
        parameters: [jobId],
        responses: {
          202: {
            description: 'cancelling',
            content: {
              'application/json': {
                schema: { type: 'object', properties: { id: { type: 'string' }, status: { const: 'cancelling' } } },
              },
            },
          },
          404: err('Unknown job'),
          409: err('The job has already ended, or runs on another server of the deployment'),
        },
      },
    },
    '/api/jobs/{id}/events': {
      get: {
        summary:
          'Progress as server-sent events: `progress` events, then one `end` event with the final status (data: {id, status, progress, error?})',
        parameters: [jobId],
        responses: {
          200: { description: 'an event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
          404: err('Unknown job'),
        },
      },
    },
    '/api/jobs/{id}/subjects': {
      get: {
        summary:
          "A succeeded population job's per-subject values as CSV (subject[,arm],time,<series>), recomputed chunk by chunk and streamed",
        parameters: [jobId],
        responses: {
          200: { description: 'CSV rows', content: { 'text/csv': { schema: { type: 'string' } } } },
          404: err('Unknown job, or not a population job'),
          409: err('The job has not succeeded'),
        },
      },
    },
  };
}

/** The OpenAPI 3.1 document, generated from the zod schemas. */
export function openApiDocument(version: string): Record<string, unknown> {
  const schemas = schemaComponents();
  const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
  const jsonBody = (id: string) => ({ required: true, content: { 'application/json': { schema: ref(id) } } });
  const err = (description: string) => ({ description, content: { 'application/json': { schema: ref('Error') } } });
  const formatParam = {
    name: 'format',
    in: 'query',
    required: false,
    description: 'csv for text/csv (same as Accept: text/csv); json by default',
    schema: { type: 'string', enum: ['json', 'csv'] },
  };
  const errors = {
    400: err(
      'Malformed request: bad JSON, not JSON, schema violation, unknown model or name, invalid expression (issues name each field)',
    ),
    413: err(`Body larger than ${SERVER_LIMITS.bodyBytes} bytes`),
    422: err(
      'Valid request that could not be solved: non-finite state, step size underflow, too many steps, time budget exceeded (reason, timeReached)',
    ),
    503: err('Busy: too many solves waiting for a worker, or the budget ran out while waiting (Retry-After)'),
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'immunopd API',
      version,
      description: `Pharmacodynamics ODE models of cancer immunotherapy, solved server-side.\n\nLimits:\n- ${limitsText().split('\n').join('\n- ')}\n\nErrors: 400 {error: {message, issues: [{path, message}]}} for a malformed request; 422 when a valid request cannot be solved; never a 500 for user input.`,
    },
    paths: {
      '/healthz': {
        get: {
          summary: 'Liveness',
          responses: { 200: { description: 'ok', content: { 'application/json': { schema: ref('Health') } } } },
        },
      },
      '/api/models': {
        get: {
          summary: 'The model library',
          responses: { 200: { description: 'models', content: { 'application/json': { schema: ref('ModelList') } } } },
        },
      },
      '/api/models/{id}': {
        get: {
          summary: 'One model file, with parameters, units and references',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            200: { description: 'the model', content: { 'application/json': { schema: ref('Model') } } },
            404: err('No such model'),
          },
        },
      },
      '/api/therapies': {
        get: {
          summary: 'Therapy presets (approved regimens) for the immunotherapy model',
          responses: {
            200: { description: 'presets', content: { 'application/json': { schema: ref('TherapyList') } } },
          },
        },
      },
      '/api/simulate': {
        post: {
          summary: 'Solve one scenario',
          parameters: [formatParam],
          requestBody: jsonBody('Scenario'),
          responses: {
            200: {
              description: 'the result (CSV: time,<states>,<outputs>)',
              content: {
                'application/json': { schema: ref('SimulationResult') },
                'text/csv': { schema: { type: 'string' } },
              },
            },
            ...errors,
          },
        },
      },
      '/api/compare': {
        post: {
          summary: 'Solve several arms of one model and tabulate their response metrics',
          parameters: [formatParam],
          requestBody: jsonBody('CompareRequest'),
          responses: {
            200: {
              description: 'one result per arm and a metrics table (CSV: arm,time,<states>,<outputs>)',
              content: {
                'application/json': { schema: ref('CompareResponse') },
                'text/csv': { schema: { type: 'string' } },
              },
            },
            ...errors,
          },
        },
      },
      ...analysisPaths(ref, jsonBody, errors),
      ...jobPaths(ref, jsonBody, err, errors),
      '/api/openapi.json': { get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } } } },
    },
    components: { schemas },
  };
}
