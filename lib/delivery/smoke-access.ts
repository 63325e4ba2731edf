import { routeResource, type ManagementRoute } from '../../lambdas/contract/routes.js';

/**
 * What the smoke test (scripts/smoke.ts) may call, and nothing more: the pipeline's smoke role and the
 * GitHub deploy roles are granted exactly these routes, with the model and the dataset pinned to the one
 * name the smoke test reuses in every environment. No CDK here, so the smoke script can import it too.
 */

/** The one model name and the one dataset name the smoke test uses in each environment, so runs do not pile up. */
export const SMOKE_NAME = 'mlops-smoke';

/**
 * Management API routes of the smoke test: register a small dataset, put the model, train and wait, read which
 * version is production. It never moves an alias itself (a run releases through the training pipeline), so
 * it cannot promote anything. test/e2e/smoke.test.ts runs the smoke test with exactly these rights.
 */
export const SMOKE_MANAGEMENT_ROUTES = [
  'POST /datasets/{name}/uploads',
  'POST /datasets/{name}/versions',
  'GET /datasets/{name}/registrations/{registrationId}',
  'PUT /models/{model}',
  'GET /models/{model}',
  'POST /models/{model}/runs',
  'GET /runs/{runId}',
] as const satisfies readonly ManagementRoute[];

/** Serving API routes of the smoke test. */
export const SMOKE_SERVING_ROUTES = ['POST /models/{model}/predict'] as const;

/**
 * A smoke route as the tail of its execute-api ARN, the model and dataset pinned to SMOKE_NAME and the
 * other path parameters (run ids, versions) as `*`: `POST /models/{model}/runs` is `POST/models/mlops-smoke/runs`.
 */
export function smokeRouteResource(route: string): string {
  return routeResource(route.replace(/\{(model|name)\}/g, SMOKE_NAME));
}

/** `POST/models/mlops-smoke/runs` -> ['POST', '/models/mlops-smoke/runs'], as RestApi.arnForExecuteApi takes them. */
export function methodAndPath(resource: string): [method: string, path: string] {
  const [method, path] = resource.split(/\/(.*)/s) as [string, string];
  return [method, `/${path}`];
}
