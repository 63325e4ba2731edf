import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

export const ALICE = 'arn:aws:iam::000000000000:user/alice';

/** An API Gateway proxy event as the management API's routes receive it, signed by `actor`. */
export function apiEvent(
  method: string,
  resource: string,
  options: { params?: Record<string, string>; query?: Record<string, string>; body?: unknown; actor?: string } = {},
): APIGatewayProxyEvent {
  return {
    httpMethod: method,
    resource,
    path: resource.replace(/\{(\w+)\}/g, (_, name: string) => options.params?.[name] ?? name),
    pathParameters: options.params ?? null,
    queryStringParameters: options.query ?? null,
    body: options.body === undefined ? null : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
    requestContext: { requestId: 'req-1', identity: { userArn: options.actor ?? ALICE } },
  } as unknown as APIGatewayProxyEvent;
}

/** The answer's status and parsed JSON body. */
export function answerOf<T = Record<string, unknown>>(result: APIGatewayProxyResult): { status: number; body: T } {
  return { status: result.statusCode, body: JSON.parse(result.body) as T };
}

/** An error answer's body. */
export type ErrorBody = { error: { code: string; message: string; field?: string } };
