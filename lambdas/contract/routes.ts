/**
 * The management API's routes, one list per function, as `METHOD path`. The construct
 * (lib/management-api.ts) adds exactly these to API Gateway; each handler's route table is typed
 * by its list, so a route on one side only fails `tsc`. docs/CLI.md documents each.
 */

/** Routes of the datasets API. */
export const DATASET_ROUTES = [
  'GET /datasets',
  'GET /datasets/{name}/versions',
  'POST /datasets/{name}/uploads',
  'POST /datasets/{name}/versions',
  'GET /datasets/{name}/versions/{version}',
  'GET /datasets/{name}/versions/{version}/profile',
  'POST /datasets/{name}/versions/{version}/validate',
  'GET /datasets/{name}/registrations/{registrationId}',
  // A dataset version from the prediction log joined with feedback (`mlops dataset from-logs`).
  'POST /models/{model}/datasets/from-logs',
] as const;

/** Routes of the model registry API, served by their own function. */
export const REGISTRY_ROUTES = [
  'GET /models',
  'GET /models/{model}',
  'PUT /models/{model}',
  'GET /models/{model}/versions/{version}',
  'GET /models/{model}/versions/{version}/lineage',
  'GET /models/{model}/versions/{version}/gate-report',
  'POST /models/{model}/versions/{version}/approve',
  'POST /models/{model}/versions/{version}/reject',
  'POST /models/{model}/aliases/{alias}',
  'POST /models/{model}/rollback',
  'POST /models/{model}/rollouts',
  'GET /models/{model}/rollout',
  'POST /models/{model}/rollout/abort',
  'GET /models/{model}/audit',
  'GET /datasets/{name}/versions/{version}/lineage',
  // The registry events (lambdas/contract/events.ts) over the audit log, for `mlops events tail`.
  'GET /events',
] as const;

/** Routes of the runs API (start, show, list, compare, reports; imports and cross-environment transfers), served by their own function. */
export const RUNS_ROUTES = [
  'POST /models/{model}/runs',
  'POST /models/{model}/imports/uploads',
  'GET /runs',
  'GET /runs/{runId}',
  'POST /runs/compare',
  'GET /runs/{runId}/reports/{kind}',
  'GET /models/{model}/versions/{version}/artifact',
  'POST /models/{model}/transfers/uploads',
  'POST /models/{model}/transfers',
] as const;

/** Routes of the batch scoring API (`mlops score`), served by their own function. */
export const BATCH_ROUTES = ['POST /models/{model}/batch-jobs/uploads', 'POST /models/{model}/batch-jobs', 'GET /batch-jobs/{jobId}'] as const;

/** Routes of the drift check (`mlops drift`), served by the DriftCheck function. */
export const DRIFT_ROUTES = ['POST /models/{model}/drift-checks', 'GET /models/{model}/drift-checks', 'GET /models/{model}/drift-checks/{checkId}', 'GET /models/{model}/drift-checks/{checkId}/report'] as const;

/** Routes of the retraining guardrails (`mlops monitor`), served by the retrain-trigger function. */
export const RETRAIN_ROUTES = ['GET /models/{model}/triggers', 'GET /models/{model}/monitor'] as const;

export type DatasetRoute = (typeof DATASET_ROUTES)[number];
export type RegistryRoute = (typeof REGISTRY_ROUTES)[number];
export type RunsRoute = (typeof RUNS_ROUTES)[number];
export type BatchRoute = (typeof BATCH_ROUTES)[number];
export type DriftRoute = (typeof DRIFT_ROUTES)[number];
export type RetrainRoute = (typeof RETRAIN_ROUTES)[number];

/** Any route of the management API. */
export type ManagementRoute = DatasetRoute | RegistryRoute | RunsRoute | BatchRoute | DriftRoute | RetrainRoute;

/**
 * A route as the tail of its execute-api ARN (`arn:aws:execute-api:<region>:<account>:<api>/<stage>/` + this),
 * path parameters as `*`: `GET /models/{model}` is `GET/models/*`. IAM policies name routes this way
 * (docs/IAM.md); in IAM a `*` also matches `/`.
 */
export function routeResource(route: string): string {
  const [method, path] = route.split(' ') as [string, string];
  return `${method}/${path.replace(/^\//, '').replace(/\{\w+\}/g, '*')}`;
}

/**
 * The errors API Gateway answers by itself (before a function runs), as API Gateway response types
 * with their status and the platform code in their `{ error: { code, message } }` body. The
 * construct installs them (lib/rest-api.ts); the client reads a bodiless answer of the same status
 * (the emulator renders its own) as the same code.
 */
export const GATEWAY_ERRORS = [
  { responseType: 'BAD_REQUEST_BODY', status: 400, code: 'INVALID_REQUEST' },
  { responseType: 'BAD_REQUEST_PARAMETERS', status: 400, code: 'INVALID_REQUEST' },
  { responseType: 'ACCESS_DENIED', status: 403, code: 'ACCESS_DENIED' },
  { responseType: 'MISSING_AUTHENTICATION_TOKEN', status: 403, code: 'UNAUTHENTICATED' },
  // A serving route that requires an API key (usage plans) called without a valid one.
  { responseType: 'INVALID_API_KEY', status: 403, code: 'INVALID_API_KEY' },
  { responseType: 'THROTTLED', status: 429, code: 'THROTTLED' },
  // A usage plan's quota (API keys, serving only) is spent: also 429, after THROTTLED so a bodiless 429 still reads as THROTTLED.
  { responseType: 'QUOTA_EXCEEDED', status: 429, code: 'QUOTA_EXCEEDED' },
  { responseType: 'UNSUPPORTED_MEDIA_TYPE', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { responseType: 'REQUEST_TOO_LARGE', status: 413, code: 'REQUEST_TOO_LARGE' },
] as const;

/** The code of an error answer that carries no platform body: the first gateway error of its status, else HTTP_<status>. */
export const gatewayErrorCode = (status: number): string => GATEWAY_ERRORS.find((error) => error.status === status)?.code ?? `HTTP_${status}`;
