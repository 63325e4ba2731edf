import type { SourceData } from '@smithy/types';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';

const toBytes = (data: SourceData): string | Uint8Array =>
  typeof data === 'string' ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);

/** SHA-256 (or HMAC-SHA-256 with a secret) in the shape SignatureV4 expects, from node:crypto. */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

export interface SignedResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  text: string;
}

let tools: Promise<{ SignatureV4: typeof import('@smithy/signature-v4').SignatureV4; credentials: ReturnType<typeof import('@aws-sdk/credential-provider-node').defaultProvider> }> | undefined;

/** The signer and one credentials chain (it caches what it resolves), loaded on the first signed call: `mlops --help` never needs them. */
function signing() {
  tools ??= Promise.all([import('@aws-sdk/credential-provider-node'), import('@smithy/signature-v4')]).then(([provider, signer]) => ({
    SignatureV4: signer.SignatureV4,
    credentials: provider.defaultProvider(),
  }));
  return tools;
}

/**
 * Calls an IAM-authorized API Gateway route with a SigV4-signed request, using the caller's
 * AWS credentials (environment, profile, SSO, ...), as an application or the CLI would. With
 * `service`, it signs for another AWS REST API instead (the serving bench recycles the emulator's
 * Lambda workers through Lambda's, without another SDK client).
 */
export async function signedFetch(
  url: string,
  init: { method: string; body?: string; region: string; headers?: Record<string, string>; unsigned?: boolean; /** @default 'execute-api' */ service?: string },
): Promise<SignedResponse> {
  const target = new URL(url);
  const headers: Record<string, string> = { host: target.host, 'content-type': 'application/json', ...init.headers };
  let sent = headers;
  if (!init.unsigned) {
    const { SignatureV4, credentials } = await signing();
    const signer = new SignatureV4({ service: init.service ?? 'execute-api', region: init.region, credentials, sha256: NodeSha256 });
    const query = Object.fromEntries(target.searchParams.entries());
    const signed = await signer.sign({
      method: init.method,
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port ? Number(target.port) : undefined,
      path: target.pathname,
      query,
      headers,
      body: init.body,
    });
    sent = signed.headers as Record<string, string>;
  }
  const { host: _host, ...fetchHeaders } = sent;
  const response = await fetch(target, { method: init.method, headers: fetchHeaders, body: init.body });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: response.status, headers: Object.fromEntries(response.headers.entries()), body, text };
}
