import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { InputValidationError, MlopsError, NotFoundError } from '../core/errors.js';

export interface ApiRequest {
  readonly method: string;
  readonly params: Readonly<Record<string, string | undefined>>;
  readonly body: unknown;
  /** Who signed the call: the IAM principal API Gateway resolved. */
  readonly actor: string;
}
export type ApiRoute = (request: ApiRequest) => Promise<{ status: number; body: unknown }>;

function respond(status: number, body: unknown, requestId: string): APIGatewayProxyResult {
  return { statusCode: status, headers: { 'content-type': 'application/json', 'x-request-id': requestId }, body: JSON.stringify(body) };
}

/**
 * One function behind IAM-authorized API Gateway routes: finds the route, parses a POST body as
 * JSON, and turns platform errors into a 4xx JSON answer with their code and field. Anything
 * else is a 500 that quotes the request id, never a stack trace.
 */
export function apiHandler(logger: Logger, routes: Readonly<Record<string, ApiRoute>>, statusByCode: Readonly<Record<string, number>>) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const requestId = event.requestContext?.requestId ?? 'unknown';
    const route = routes[`${event.httpMethod} ${event.resource}`];
    try {
      if (!route) throw new NotFoundError(`no route ${event.httpMethod} ${event.resource}`);
      let body: unknown = undefined;
      if (event.httpMethod === 'POST') {
        try {
          body = JSON.parse(event.body ?? '');
        } catch {
          throw new InputValidationError('the request body is not valid JSON', { field: 'body' });
        }
      }
      const actor = event.requestContext?.identity?.userArn ?? event.requestContext?.identity?.caller ?? 'unknown';
      const { status, body: responseBody } = await route({ method: event.httpMethod, params: event.pathParameters ?? {}, body, actor });
      return respond(status, responseBody, requestId);
    } catch (error) {
      if (error instanceof MlopsError) {
        const status = statusByCode[error.code] ?? 400;
        logger.info('request rejected', { route: event.resource, code: error.code, message: error.message });
        return respond(status, { error: { code: error.code, message: error.message, field: error.field }, requestId }, requestId);
      }
      logger.error('request failed', { route: event.resource, error: error as Error });
      return respond(500, { error: { code: 'INTERNAL', message: `internal error; quote request id ${requestId}` }, requestId }, requestId);
    }
  };
}
