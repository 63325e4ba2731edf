import { describe, expect, it } from 'vitest';
import { createHandler } from '../../../lambdas/bench-echo/handler.js';
import { SERVED_BY_HEADERS } from '../../../lambdas/core/serving/routing.js';
import { apiEvent } from './api-event.js';

describe('bench echo handler', () => {
  const lines: string[] = [];
  const handle = createHandler((line) => lines.push(line));

  it('answers 200 with the request body, byte for byte, whatever it is', async () => {
    for (const body of ['{"inputs":{"age":41,"income":48000}}', 'not json at all', '{"instances":[{"é":"ü"}]}']) {
      const result = await handle(apiEvent('POST', '/bench/echo', { body }));
      expect(result.statusCode).toBe(200);
      expect(result.body).toBe(body);
    }
    expect((await handle(apiEvent('POST', '/bench/echo'))).body).toBe('');
  });

  it('answers with the header names predict answers with, so API Gateway maps the same shape', async () => {
    const result = await handle(apiEvent('POST', '/bench/echo', { body: '{}' }));
    expect(Object.keys(result.headers!).sort()).toEqual(['content-type', 'x-request-id', 'x-mlops-sdk', ...Object.values(SERVED_BY_HEADERS)].sort());
    expect(result.headers).toMatchObject({ 'content-type': 'application/json', 'x-request-id': 'req-1' });
  });

  it('logs one JSON line a request, as predict does (the emulator waits for a first log line after each invocation)', async () => {
    lines.length = 0;
    await handle(apiEvent('POST', '/bench/echo', { body: '{"a":1}' }));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ message: 'echo served', requestId: 'req-1', bytes: 7 });
  });
});
