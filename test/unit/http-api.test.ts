import { gatewayErrorCode } from '../../lambdas/contract/routes.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { apiHandler, HTTP_STATUS_BY_CODE, httpStatusOf, readJsonBody } from '../../lambdas/aws/http-api.js';
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
    expect(await call('POST', '/models/{model}', '{oops')).toMatchObject({ status: 400, body: { error: { code: 'INVALID_JSON', field: 'body' } } });
    const boom = await call('GET', '/boom');
    expect(boom).toMatchObject({ status: 500, body: { error: { code: 'INTERNAL' }, requestId: 'req-1' } });
    expect(JSON.stringify(boom.body)).not.toContain('secret');
  });
});

describe('readJsonBody: the one way a function reads its body', () => {
  const refusal = (body: string | null, limit?: number, isBase64Encoded = false) => {
    try {
      readJsonBody({ body, isBase64Encoded }, limit);
    } catch (error) {
      return { code: (error as MlopsError).code, field: (error as MlopsError).field, status: httpStatusOf((error as MlopsError).code) };
    }
    return undefined;
  };

  it('reads JSON text, and a base64 body as strict UTF-8', () => {
    expect(readJsonBody({ body: '{"a":[1,"é"]}', isBase64Encoded: false })).toEqual({ a: [1, 'é'] });
    expect(readJsonBody({ body: Buffer.from('{"a":"é😀"}').toString('base64'), isBase64Encoded: true })).toEqual({ a: 'é😀' });
    expect(refusal(Buffer.from([0x22, 0xff, 0x22]).toString('base64'), undefined, true)).toEqual({ code: 'INVALID_JSON', field: 'body', status: 400 });
  });

  it('refuses a body over the limit in UTF-8 bytes with 413 REQUEST_TOO_LARGE, and takes one at the limit', () => {
    const body = (chars: string) => JSON.stringify({ a: chars });
    expect(refusal(body('x'.repeat(92)), 100)).toBeUndefined();
    expect(refusal(body('x'.repeat(93)), 100)).toEqual({ code: 'REQUEST_TOO_LARGE', field: 'body', status: 413 });
    // 46 two-byte characters: 54 UTF-16 units, 100 bytes; one more is over, though far shorter than 100 in UTF-16.
    expect(refusal(body('é'.repeat(46)), 100)).toBeUndefined();
    expect(refusal(body('é'.repeat(47)), 100)).toEqual({ code: 'REQUEST_TOO_LARGE', field: 'body', status: 413 });
    expect(refusal(Buffer.from(body('x'.repeat(93))).toString('base64'), 100, true)).toMatchObject({ code: 'REQUEST_TOO_LARGE' });
  });

  it('refuses empty text, text that is not JSON and strings that are not well-formed Unicode with 400 INVALID_JSON', () => {
    for (const body of [null, '', '  ', '{', 'NaN', '{"a":Infinity}', "{'a':1}", '{"a":"\ud800"}', '{"a":"\\ud800"}', '{"\\udfff":1}', '["ok","\\ud83d"]']) {
      expect(refusal(body), String(body)).toEqual({ code: 'INVALID_JSON', field: 'body', status: 400 });
    }
  });

  it('takes escapes that only look like lone surrogates, and walks a deeply nested body without recursion', () => {
    // An escaped backslash followed by "ud800" is six plain characters; a pair of escapes is one code point.
    expect(readJsonBody({ body: '{"a":"\\\\ud800","b":"\\ud83d\\ude00"}', isBase64Encoded: false })).toEqual({ a: '\\ud800', b: '😀' });
    const depth = 100_000;
    expect(refusal(`${'['.repeat(depth)}"\\u00e9"${']'.repeat(depth)}`)).toBeUndefined();
    expect(refusal(`${'{"a":'.repeat(depth)}"\\ud800"${'}'.repeat(depth)}`)).toMatchObject({ code: 'INVALID_JSON' });
  });

  it('leaves __proto__ an own data key: parsing pollutes no prototype', () => {
    const body = readJsonBody({ body: '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}', isBase64Encoded: false }) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(body)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('is what apiHandler reads a POST body with, its limit included', async () => {
    const limited = apiHandler(silentLogger, { 'POST /echo': async ({ body }) => ({ status: 200, body }) }, { maxBodyBytes: 16 });
    const status = async (body: string) => (await limited(event('POST', '/echo', body))).statusCode;
    expect(await status('{"a":1}')).toBe(200);
    expect(await status(JSON.stringify({ a: 'x'.repeat(20) }))).toBe(413);
    expect(JSON.parse((await limited(event('POST', '/echo', '{"a":"\\udc00"}'))).body)).toMatchObject({ error: { code: 'INVALID_JSON', field: 'body' } });
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
