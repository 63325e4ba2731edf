import { gatewayErrorCode } from '../../lambdas/contract/routes.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { apiHandler, HTTP_STATUS_BY_CODE, httpStatusOf } from '../../lambdas/aws/http-api.js';
import { ConflictError, MlopsError, NotFoundError } from '../../lambdas/core/errors.js';

const LAMBDAS = new URL('../../lambdas/', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** Every literal error code the functions raise: `new MlopsError('CODE'` and error subclasses' `super('CODE'`. */
function thrownCodes(): Map<string, string> {
  const codes = new Map<string, string>();
  for (const file of sources(LAMBDAS)) {
    for (const match of readFileSync(file, 'utf8').matchAll(/(?:MlopsError|super)\(\s*'([A-Z][A-Z_]+)'/g)) codes.set(match[1]!, file.slice(LAMBDAS.length));
  }
  return codes;
}

const silentLogger = { info: () => undefined, error: () => undefined } as unknown as Logger;

function event(method: string, resource: string, body?: string): APIGatewayProxyEvent {
  return {
    httpMethod: method,
    resource,
    body: body ?? null,
    pathParameters: { model: 'm' },
    requestContext: { requestId: 'req-1', identity: { userArn: 'arn:aws:iam::000000000000:user/alice' } },
  } as unknown as APIGatewayProxyEvent;
}

describe('the error-code to HTTP-status table', () => {
  it('has a status for every error code thrown under lambdas/', () => {
    const codes = thrownCodes();
    // The scan itself must find the codes it is meant to find.
    expect(codes.get('APPROVAL_EXPIRED')).toMatch(/core\/registry\//);
    expect(codes.has('PAYLOAD_TOO_LARGE')).toBe(true);
    const missing = [...codes].filter(([code]) => !(code in HTTP_STATUS_BY_CODE)).map(([code, file]) => `${code} (${file})`);
    expect(missing).toEqual([]);
  });

  it('answers an unknown code with 400 and maps the known ones', () => {
    expect(httpStatusOf('SOMETHING_NEW')).toBe(400);
    expect(httpStatusOf('NOT_FOUND')).toBe(404);
    expect(httpStatusOf('CONFLICT')).toBe(409);
    expect(httpStatusOf('PAYLOAD_TOO_LARGE')).toBe(413);
    expect(httpStatusOf('DATA_VALIDATION_FAILED')).toBe(422);
  });
});

describe('apiHandler', () => {
  const handler = apiHandler(silentLogger, {
    'GET /models/{model}': async ({ actor, params }) => ({ status: 200, body: { actor, model: params.model } }),
    'POST /models/{model}': async ({ body }) => ({ status: 201, body }),
    'GET /conflict': async () => {
      throw new ConflictError('taken', { field: 'version' });
    },
    'GET /missing': async () => {
      throw new NotFoundError('no such model', { field: 'model' });
    },
    'GET /custom': async () => {
      throw new MlopsError('APPROVAL_EXPIRED', 'too late', { field: 'version' });
    },
    'GET /boom': async () => {
      throw new Error('secret stack detail');
    },
  });
  const call = async (...args: Parameters<typeof event>) => {
    const result = await handler(event(...args));
    return { status: result.statusCode, body: JSON.parse(result.body) as Record<string, any> };
  };

  it('passes the signed caller as the actor and the path parameters', async () => {
    expect(await call('GET', '/models/{model}')).toEqual({ status: 200, body: { actor: 'arn:aws:iam::000000000000:user/alice', model: 'm' } });
  });

  it('answers errors with the status of their code, the code and the field', async () => {
    expect(await call('GET', '/conflict')).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT', field: 'version' } } });
    expect(await call('GET', '/missing')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND', field: 'model' } } });
    expect(await call('GET', '/custom')).toMatchObject({ status: 409, body: { error: { code: 'APPROVAL_EXPIRED' } } });
    expect(await call('GET', '/nowhere')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
  });

  it('refuses a body that is not JSON and hides unexpected errors behind the request id', async () => {
    expect(await call('POST', '/models/{model}', '{oops')).toMatchObject({ status: 400, body: { error: { code: 'INVALID_INPUT', field: 'body' } } });
    const boom = await call('GET', '/boom');
    expect(boom).toMatchObject({ status: 500, body: { error: { code: 'INTERNAL' }, requestId: 'req-1' } });
    expect(JSON.stringify(boom.body)).not.toContain('secret');
  });
});

describe('gateway error codes', () => {
  it("reads a bodiless answer by its status as API Gateway's own code, else HTTP_<status>", () => {
    expect(gatewayErrorCode(403)).toBe('ACCESS_DENIED');
    expect(gatewayErrorCode(429)).toBe('THROTTLED');
    expect(gatewayErrorCode(413)).toBe('REQUEST_TOO_LARGE');
    expect(gatewayErrorCode(502)).toBe('HTTP_502');
  });
});
