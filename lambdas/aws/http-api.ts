import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { InputValidationError, MlopsError, NotFoundError, parseOrThrow } from '../core/errors.js';

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
  VERSION_REJECTED: 409,
  APPROVAL_PENDING: 409,
  APPROVAL_NOT_PENDING: 409,
  APPROVAL_EXPIRED: 409,
  NO_PREVIOUS_VERSION: 409,
  RELEASE_NOT_WAITING: 409,
  DATASET_QUARANTINED: 409,
  PAYLOAD_TOO_LARGE: 413,
  DATA_VALIDATION_FAILED: 422,
  EXTERNAL_ARTIFACT_INVALID: 422,
  // A stored artifact that fails its own sha256 is the platform's fault, not the caller's.
  ARTIFACT_MISMATCH: 500,
} as const satisfies Readonly<Record<string, number>>;

export function httpStatusOf(code: string): number {
  return (HTTP_STATUS_BY_CODE as Readonly<Record<string, number>>)[code] ?? 400;
}

function respond(status: number, body: unknown, requestId: string): APIGatewayProxyResult {
  return { statusCode: status, headers: { 'content-type': 'application/json', 'x-request-id': requestId }, body: JSON.stringify(body) };
}

/**
 * One function behind IAM-authorized API Gateway routes: finds the route, parses a POST or PUT body as
 * JSON, and turns platform errors into a 4xx JSON answer with their code and field. Anything
 * else is a 500 that quotes the request id, never a stack trace.
 */
export function apiHandler(logger: Logger, routes: Readonly<Record<string, ApiRoute>>) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const requestId = event.requestContext?.requestId ?? 'unknown';
    const route = routes[`${event.httpMethod} ${event.resource}`];
    try {
      if (!route) throw new NotFoundError(`no route ${event.httpMethod} ${event.resource}`);
      let body: unknown = undefined;
      if (event.httpMethod === 'POST' || event.httpMethod === 'PUT') {
        try {
          body = JSON.parse(event.body ?? '');
        } catch {
          throw new InputValidationError('the request body is not valid JSON', { field: 'body' });
        }
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
