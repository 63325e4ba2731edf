import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { MlopsError, NotFoundError, parseOrThrow } from '../core/errors.js';

export interface ApiRequest {
  readonly method: string;
  readonly params: Readonly<Record<string, string | undefined>>;
  /** The query string's parameters (the last value of a repeated one); empty when there is none. */
  readonly query: Readonly<Record<string, string | undefined>>;
  readonly body: unknown;
  /** Who signed the call: the IAM principal API Gateway resolved. */
  readonly actor: string;
}
export type ApiRoute = (request: ApiRequest) => Promise<{ status: number; body: unknown }>;

/** A path parameter checked by its schema: a bad one is refused with the parameter as the field. */
export function pathParam<S extends z.ZodType>(params: ApiRequest['params'], name: string, schema: S, what: string): z.output<S> {
  return (parseOrThrow(z.object({ [name]: schema }), { [name]: params[name] ?? '' }, what) as Record<string, z.output<S>>)[name]!;
}

/**
 * The HTTP status of every error code an API route can raise, for every API function: core
 * raises codes, and only this edge knows HTTP. A code missing here answers 400; a unit test
 * (test/unit/http-api.test.ts) checks that every code thrown under lambdas/ is listed.
 */
export const HTTP_STATUS_BY_CODE = {
  INVALID_INPUT: 400,
  INVALID_ALIAS: 400,
  ALIAS_MANAGED: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  ALREADY_IN_ALIAS: 409,
  NOT_GATED_AGAINST_PRODUCTION: 409,
  VERSION_REJECTED: 409,
  APPROVAL_PENDING: 409,
  APPROVAL_NOT_PENDING: 409,
  APPROVAL_EXPIRED: 409,
  NO_PREVIOUS_VERSION: 409,
  RELEASE_NOT_WAITING: 409,
  DATASET_QUARANTINED: 409,
  ROLLOUT_RUNNING: 409,
  ROLLOUT_NOT_RUNNING: 409,
  NO_PRODUCTION: 409,
  ROLLOUT_NOT_FOUND: 404,
  UNKNOWN_REQUEST_ID: 400,
  // A declared upload over the environment's limit (datasets).
  PAYLOAD_TOO_LARGE: 413,
  // A request body over the route's limit (readJsonBody), or over API Gateway's 10 MB (its gateway response).
  REQUEST_TOO_LARGE: 413,
  DATA_VALIDATION_FAILED: 422,
  EXTERNAL_ARTIFACT_INVALID: 422,
  // A stored artifact that fails its own sha256 is the platform's fault, not the caller's.
  ARTIFACT_MISMATCH: 500,
  // The serving API's answers (lambdas/predict): the model's production version cannot be loaded
  // or scored now; the caller may retry (other models keep serving).
  MODEL_NOT_FOUND: 404,
  NO_PRODUCTION_VERSION: 404,
  INVALID_REQUEST: 400,
  INVALID_JSON: 400,
  MODEL_UNAVAILABLE: 503,
  INTERNAL: 500,
  // The feedback stream refused the labels: nothing was marked, so the same request can be sent again.
  FEEDBACK_NOT_STORED: 503,
  // Batch scoring (lambdas/batch-api): an input or output the job may not use, or a format it cannot read.
  UNSUPPORTED_FORMAT: 400,
  INPUT_NOT_READABLE: 400,
  OUTPUT_NOT_WRITABLE: 400,
  // A batch job's own work files (plan, chunks, parts, result) failed their schema: the platform's fault.
  BATCH_FILE_INVALID: 500,
  BATCH_SCORING_FAILED: 500,
  // Drift checks (lambdas/drift-check): a window the log cannot answer, an arm with no version, a window with no traffic.
  WINDOW_IN_FUTURE: 400,
  WINDOW_INVERTED: 400,
  WINDOW_TOO_LONG: 400,
  NO_VERSION_ON_ARM: 409,
  NO_LOGS_IN_WINDOW: 409,
  // The Athena path of a large window (lambdas/aws/athena-queries.ts): the query failed, or outlasted the function.
  ATHENA_QUERY_FAILED: 502,
  ATHENA_QUERY_TIMEOUT: 504,
  // The spec is stored but CloudWatch refused its alarms or dashboard (core/monitoring/system-monitoring.ts): putting it again repairs.
  MONITORING_NOT_SYNCED: 502,
  // Datasets from the prediction log (core/data/dataset-from-logs.ts): nothing to name, rebuild or hold.
  NO_DATASET_NAME: 400,
  FEATURES_NOT_LOGGED: 409,
  NO_LABELLED_ROWS: 409,
  TOO_MANY_ROWS: 413,
} as const satisfies Readonly<Record<string, number>>;

export function httpStatusOf(code: string): number {
  return (HTTP_STATUS_BY_CODE as Readonly<Record<string, number>>)[code] ?? 400;
}

function respond(status: number, body: unknown, requestId: string): APIGatewayProxyResult {
  return { statusCode: status, headers: { 'content-type': 'application/json', 'x-request-id': requestId }, body: JSON.stringify(body) };
}

export interface ApiHandlerOptions {
  /**
   * The largest body a route reads, in bytes (UTF-8); a bigger one is refused with REQUEST_TOO_LARGE
   * before it is decoded or parsed.
   * @default no limit beyond API Gateway's (10 MB) and Lambda's (6 MB)
   */
  readonly maxBodyBytes?: number;
}

type WellFormed = string & { isWellFormed(): boolean };

/** Whether every string in a parsed JSON value, keys included, is well-formed UTF-16 (no lone surrogate); iterative, so any depth is fine. */
function wellFormedStrings(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'string') {
      if (!(next as WellFormed).isWellFormed()) return false;
    } else if (Array.isArray(next)) {
      for (const item of next) pending.push(item);
    } else if (next !== null && typeof next === 'object') {
      for (const key of Object.keys(next)) {
        if (!(key as WellFormed).isWellFormed()) return false;
        pending.push((next as Record<string, unknown>)[key]);
      }
    }
  }
  return true;
}

const bodyRefusal = (code: 'INVALID_JSON' | 'REQUEST_TOO_LARGE', message: string) => new MlopsError(code, message, { field: 'body' });

/**
 * The one way an API function reads its request body as JSON (apiHandler's routes, feedback and
 * predict). Refusals are MlopsErrors with field `body`:
 * - REQUEST_TOO_LARGE (413): more than `maxBodyBytes` bytes, checked before anything is decoded
 *   (API Gateway's own refusal of a body over 10 MB has the same code);
 * - INVALID_JSON (400): an empty body, a base64 body (a binary media type) whose bytes are not
 *   UTF-8 (decoded strictly, never into replacement characters), text that is not JSON (`NaN`,
 *   `Infinity` and comments included), or a string or key that is not well-formed Unicode (a lone
 *   surrogate, literal or escaped as `\ud800`).
 * Prototype keys cannot pollute: JSON.parse defines `__proto__` as an own data property, never the
 * prototype, and nothing here copies keys. The route's zod schema then refuses such a key as an
 * unknown field, naming it (predict's and feedback's are strict), or leaves it out (zod 4 drops
 * the keys a schema does not name, `__proto__` included, without assigning it).
 * A well-formed body costs little beyond JSON.parse: the size is counted only when its length
 * cannot settle it, and strings are walked only when the text has a `\u` escape.
 */
export function readJsonBody(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>, maxBodyBytes = Infinity): unknown {
  const raw = event.body ?? '';
  let text: string;
  if (event.isBase64Encoded) {
    const bytes = Buffer.from(raw, 'base64');
    if (bytes.length > maxBodyBytes) throw bodyRefusal('REQUEST_TOO_LARGE', `the request body has ${bytes.length} bytes; this route reads at most ${maxBodyBytes}`);
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw bodyRefusal('INVALID_JSON', 'the request body is not valid UTF-8');
    }
  } else {
    // A UTF-16 code unit is 1 to 3 UTF-8 bytes: count them only when the length cannot tell.
    if (raw.length > maxBodyBytes || (raw.length * 3 > maxBodyBytes && Buffer.byteLength(raw, 'utf8') > maxBodyBytes)) {
      throw bodyRefusal('REQUEST_TOO_LARGE', `the request body has ${Buffer.byteLength(raw, 'utf8')} bytes; this route reads at most ${maxBodyBytes}`);
    }
    text = raw;
  }
  if (!(text as WellFormed).isWellFormed()) throw bodyRefusal('INVALID_JSON', 'the request body is not well-formed Unicode (a lone surrogate)');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    if (text.trim() === '') throw bodyRefusal('INVALID_JSON', 'the request body is empty; send a JSON object');
    throw bodyRefusal('INVALID_JSON', `the request body is not valid JSON (${(error as Error).message.slice(0, 200)})`);
  }
  if (text.includes('\\u') && !wellFormedStrings(body)) throw bodyRefusal('INVALID_JSON', 'a string in the request body is not well-formed Unicode (a lone surrogate escape such as \\ud800)');
  return body;
}

/**
 * One function behind IAM-authorized API Gateway routes: finds the route, parses a POST or PUT body as
 * JSON, and turns platform errors into a 4xx JSON answer with their code and field. Anything
 * else is a 500 that quotes the request id, never a stack trace.
 */
export function apiHandler(logger: Logger, routes: Readonly<Record<string, ApiRoute>>, options: ApiHandlerOptions = {}) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const requestId = event.requestContext?.requestId ?? 'unknown';
    const route = routes[`${event.httpMethod} ${event.resource}`];
    try {
      if (!route) throw new NotFoundError(`no route ${event.httpMethod} ${event.resource}`);
      let body: unknown = undefined;
      if (event.httpMethod === 'POST' || event.httpMethod === 'PUT') {
        body = readJsonBody(event, options.maxBodyBytes);
      }
      const actor = event.requestContext?.identity?.userArn ?? event.requestContext?.identity?.caller ?? 'unknown';
      const { status, body: responseBody } = await route({ method: event.httpMethod, params: event.pathParameters ?? {}, query: event.queryStringParameters ?? {}, body, actor });
      return respond(status, responseBody, requestId);
    } catch (error) {
      if (error instanceof MlopsError) {
        const status = httpStatusOf(error.code);
        logger.info('request rejected', { route: event.resource, code: error.code, message: error.message });
        return respond(status, { error: { code: error.code, message: error.message, field: error.field }, requestId }, requestId);
      }
      logger.error('request failed', { route: event.resource, error: error as Error });
      return respond(500, { error: { code: 'INTERNAL', message: `internal error; quote request id ${requestId}` }, requestId }, requestId);
    }
  };
}
