import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { BATCH_ROUTES, DATASET_ROUTES, DRIFT_ROUTES, REGISTRY_ROUTES, RUNS_ROUTES } from '../../lambdas/contract/routes.js';
import { MlopsError } from '../../lambdas/core/errors.js';

/**
 * The web console's local server (`mlops ui`): serves the console's static bundle and relays the
 * page's calls to the management API, signed with the user's own credentials by the relay it is
 * given. The page never sees a credential; it can only ask this server, and the server answers
 * only its own page:
 *   - it binds to loopback by default, and refuses a Host header that is not its own (DNS rebinding);
 *   - every /api call carries the per-session token the page got on load (a cross-site page cannot
 *     read it) and, when the browser says where it comes from (Origin, Sec-Fetch-Site), that is
 *     this server's origin;
 *   - it relays only the management API's routes (lambdas/contract/routes.ts);
 *   - its pages carry a Content-Security-Policy without 'unsafe-eval' (Vega runs its expression
 *     interpreter) and with no source but itself, so the page works offline.
 */

/** The header that carries the session token on every /api call. */
export const SESSION_HEADER = 'x-mlops-session';
/** Where the relay answers: `/api/models` is `GET /models` on the management API. */
export const API_PREFIX = '/api';
/** Largest request body relayed: the console sends reasons, not files. */
const MAX_BODY_BYTES = 64 * 1024;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  // Vega's SVG marks and the page set style attributes; no script comes from a style.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** What the relay answers: the management API's status and body text (JSON), as it gave them. */
export interface RelayAnswer {
  readonly status: number;
  readonly text: string;
}

/** Calls the management API as the user (lib/client/signed-fetch.ts); `path` includes the query. */
export type Relay = (method: string, path: string, body: string | undefined) => Promise<RelayAnswer>;

export interface ConsoleServerOptions {
  /** The folder with index.html and the bundle (dist/cli/console). */
  readonly staticDir: string;
  readonly relay: Relay;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 8765; 0 picks a free port */
  readonly port?: number;
  /** Shown in the page's header: which environment the console works on. */
  readonly environment: string;
}

export interface ConsoleServer {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

const ROUTES = [...DATASET_ROUTES, ...REGISTRY_ROUTES, ...RUNS_ROUTES, ...BATCH_ROUTES, ...DRIFT_ROUTES].map((route) => {
  const [method, template] = route.split(' ') as [string, string];
  // Path parameters match one segment; the templates hold no other regex characters.
  return { route, method, regex: new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`) };
});

/** The management route a call names, or undefined: only these are relayed. */
export function matchRoute(method: string, path: string): string | undefined {
  return ROUTES.find((r) => r.method === method && r.regex.test(path))?.route;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
export const isLoopback = (host: string) => LOOPBACK.has(host);

function refuse(response: ServerResponse, status: number, code: string, message: string): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify({ error: { code, message } }));
}

async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new MlopsError('REQUEST_TOO_LARGE', `the console relays bodies up to ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 0 ? undefined : Buffer.concat(chunks).toString('utf8');
}

const escapeAttribute = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Starts the server; resolves once it listens. */
export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const host = options.host ?? '127.0.0.1';
  const token = randomBytes(32).toString('base64url');
  const tokenBytes = Buffer.from(token);
  const staticDir = normalize(options.staticDir);
  let page: string;
  try {
    page = await readFile(join(staticDir, 'index.html'), 'utf8');
  } catch {
    throw new MlopsError('CONSOLE_NOT_BUILT', `the console's files are missing from ${staticDir}: run npm run build:cli`, { field: 'console' });
  }
  let port = 0;
  // The names this server answers to: a Host or Origin naming anything else is another site's (or a rebound DNS name's).
  const hostNames = () => new Set([host, ...(isLoopback(host) ? ['127.0.0.1', 'localhost', '[::1]'] : [])].map((name) => `${name.includes(':') && !name.startsWith('[') ? `[${name}]` : name}:${port}`));
  const origins = () => new Set([...hostNames()].map((name) => `http://${name}`));

  const sameSite = (request: IncomingMessage): string | undefined => {
    const origin = request.headers.origin;
    if (origin !== undefined && !origins().has(origin)) return `origin ${origin} is not this console's`;
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return `a ${site} request`;
    return undefined;
  };

  const hasToken = (request: IncomingMessage) => {
    const given = request.headers[SESSION_HEADER];
    if (typeof given !== 'string') return false;
    const bytes = Buffer.from(given);
    return bytes.length === tokenBytes.length && timingSafeEqual(bytes, tokenBytes);
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!request.headers.host || !hostNames().has(request.headers.host)) {
      return refuse(response, 421, 'WRONG_HOST', `this console answers to ${[...hostNames()].join(', ')} only`);
    }
    const url = new URL(request.url ?? '/', `http://${request.headers.host}`);
    const method = request.method ?? 'GET';
    if (url.pathname === API_PREFIX || url.pathname.startsWith(`${API_PREFIX}/`)) {
      const crossSite = sameSite(request);
      if (crossSite) return refuse(response, 403, 'CROSS_SITE', `refused ${crossSite}`);
      if (!hasToken(request)) return refuse(response, 403, 'NO_SESSION', `the console's API needs the session token of the page (${SESSION_HEADER})`);
      const path = url.pathname.slice(API_PREFIX.length);
      if (!matchRoute(method, path)) return refuse(response, 404, 'NOT_A_ROUTE', `${method} ${path} is not a route of the management API`);
      const body = method === 'GET' ? undefined : await readBody(request);
      const answer = await options.relay(method, `${path}${url.search}`, body);
      response.writeHead(answer.status, { ...SECURITY_HEADERS, 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(answer.text);
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') return refuse(response, 405, 'METHOD_NOT_ALLOWED', 'the console serves its files with GET only');
    if (url.pathname === '/' || url.pathname === '/index.html') {
      // The token rides in the page: only a page of this origin can read it (same-origin policy).
      const html = page.replace('__MLOPS_SESSION__', escapeAttribute(token)).replace('__MLOPS_ENVIRONMENT__', escapeAttribute(options.environment));
      response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': CONTENT_TYPES['.html']!, 'cache-control': 'no-store' });
      response.end(html);
      return;
    }
    const file = normalize(join(staticDir, decodeURIComponent(url.pathname)));
    if (!file.startsWith(staticDir + sep) || !CONTENT_TYPES[extname(file)]) return refuse(response, 404, 'NOT_FOUND', `no file ${url.pathname}`);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch {
      return refuse(response, 404, 'NOT_FOUND', `no file ${url.pathname}`);
    }
    response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': CONTENT_TYPES[extname(file)]! });
    response.end(method === 'HEAD' ? undefined : bytes);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const err = error instanceof MlopsError ? error : undefined;
      if (!response.headersSent) refuse(response, err?.code === 'REQUEST_TOO_LARGE' ? 413 : 502, err?.code ?? 'RELAY_FAILED', (error as Error).message);
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new MlopsError('PORT_IN_USE', `port ${options.port ?? 8765} on ${host} is in use: pass --port`, { field: 'port' }) : error),
    );
    server.listen(options.port ?? 8765, host, () => resolve());
  });
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
