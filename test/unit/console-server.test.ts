import { request as httpRequest } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, matchRoute, SESSION_HEADER, startConsoleServer, type ConsoleServer } from '../../lib/client/console-server.js';

/** A raw request, so the test can set what a browser (or an attacker's page) would: Host, Origin, Sec-Fetch-Site. */
function send(port: number, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { host: `127.0.0.1:${port}`, ...options.headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('the console server (mlops ui)', () => {
  const relayed: { method: string; path: string; body: string | undefined }[] = [];
  let server: ConsoleServer;
  let token: string;
  const dir = mkdtempSync(join(tmpdir(), 'console-static-'));
  writeFileSync(join(dir, 'index.html'), '<meta name="mlops-session" content="__MLOPS_SESSION__"><meta name="mlops-environment" content="__MLOPS_ENVIRONMENT__">');
  writeFileSync(join(dir, 'main.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'not served');

  beforeAll(async () => {
    server = await startConsoleServer({
      staticDir: dir,
      port: 0,
      environment: 'local',
      relay: async (method, path, body) => {
        relayed.push({ method, path, body });
        if (path.startsWith('/models/taken/aliases/')) return { status: 409, text: JSON.stringify({ error: { code: 'ALREADY_IN_ALIAS', message: 'production already points at version 1 of taken', field: 'version' } }) };
        return { status: 200, text: JSON.stringify({ models: [] }) };
      },
    });
    token = /content="([^"]+)"/.exec((await send(server.port, '/')).text)![1]!;
  });
  afterAll(() => server.close());

  const api = (path: string, headers: Record<string, string> = {}, method = 'GET', body?: string) =>
    send(server.port, `/api${path}`, { method, headers: { [SESSION_HEADER]: token, ...headers }, ...(body === undefined ? {} : { body }) });

  it('listens on loopback and serves the page with a fresh session token, the environment and a CSP without unsafe-eval', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    const page = await send(server.port, '/');
    expect(page.status).toBe(200);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(page.text).toContain('content="local"');
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval');
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    expect((await send(server.port, '/main.js')).headers['content-type']).toMatch(/^text\/javascript/);
  });

  it('relays a management route with its query and body, and passes the API answer (an error too) through as it is', async () => {
    const list = await api('/runs?model=credit&status=FAILED');
    expect(list).toMatchObject({ status: 200, text: '{"models":[]}' });
    expect(relayed.at(-1)).toEqual({ method: 'GET', path: '/runs?model=credit&status=FAILED', body: undefined });

    const conflict = await api('/models/taken/aliases/production', { origin: `http://127.0.0.1:${server.port}`, 'content-type': 'application/json' }, 'POST', '{"version":1,"reason":"why"}');
    expect(conflict.status).toBe(409);
    expect(JSON.parse(conflict.text)).toEqual({ error: { code: 'ALREADY_IN_ALIAS', message: 'production already points at version 1 of taken', field: 'version' } });
    expect(relayed.at(-1)).toEqual({ method: 'POST', path: '/models/taken/aliases/production', body: '{"version":1,"reason":"why"}' });
  });

  it('refuses a call without the session token, or with another one, and relays nothing', async () => {
    const before = relayed.length;
    const none = await send(server.port, '/api/models');
    const wrong = await api('/models', { [SESSION_HEADER]: token.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) });
    expect([none.status, wrong.status]).toEqual([403, 403]);
    expect(JSON.parse(none.text).error.code).toBe('NO_SESSION');
    expect(relayed.length).toBe(before);
  });

  it('refuses a cross-site request even with the token: another Origin, or a browser saying cross-site', async () => {
    const before = relayed.length;
    const origin = await api('/models/m/versions/1/approve', { origin: 'http://evil.example' }, 'POST', '{"reason":"x"}');
    const site = await api('/models', { 'sec-fetch-site': 'cross-site' });
    const otherPort = await api('/models', { origin: `http://127.0.0.1:${server.port + 1}` });
    expect([origin.status, site.status, otherPort.status]).toEqual([403, 403, 403]);
    expect(JSON.parse(origin.text).error.code).toBe('CROSS_SITE');
    expect(relayed.length).toBe(before);
  });

  it('refuses a Host that is not its own (DNS rebinding), for the page and the API', async () => {
    const page = await send(server.port, '/', { headers: { host: `attacker.example:${server.port}` } });
    const call = await api('/models', { host: 'attacker.example' });
    expect([page.status, call.status]).toEqual([421, 421]);
    expect(page.text).not.toContain(token);
    // Its loopback names are its own.
    expect((await send(server.port, '/', { headers: { host: `localhost:${server.port}` } })).status).toBe(200);
  });

  it('relays only the management API routes, and serves only its bundle files', async () => {
    const before = relayed.length;
    expect((await api('/_ministack/reset', {}, 'POST')).status).toBe(404);
    expect((await api('/models/m', {}, 'DELETE')).status).toBe(404);
    // A path that climbs out of /api is a file path then, and no file.
    expect((await api('/../_ministack/health')).status).toBe(404);
    expect(relayed.length).toBe(before);
    expect((await send(server.port, '/secret.txt')).status).toBe(404);
    expect((await send(server.port, '/..%2f..%2fetc%2fpasswd.js')).status).toBe(404);
    expect((await send(server.port, '/', { method: 'POST' })).status).toBe(405);
  });

  it('refuses a body larger than the relay takes', async () => {
    const big = await api('/models/m/versions/1/approve', { 'content-type': 'application/json' }, 'POST', JSON.stringify({ reason: 'x'.repeat(70_000) }));
    expect(big.status).toBe(413);
  });

  it('names the route a call matches', () => {
    expect(matchRoute('GET', '/models/credit/versions/3/gate-report')).toBe('GET /models/{model}/versions/{version}/gate-report');
    expect(matchRoute('POST', '/runs/compare')).toBe('POST /runs/compare');
    expect(matchRoute('GET', '/models/credit/versions/3/gate-report/x')).toBeUndefined();
    expect(matchRoute('PUT', '/runs/compare')).toBeUndefined();
  });
});
