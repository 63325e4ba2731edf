import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MlopsError } from '../../lambdas/core/errors.js';
import { configuredEndpoints, endpointsFromOutputs, regionOfApiUrl } from '../../lib/client/endpoints.js';
import { parseAnswer, PlatformClient } from '../../lib/client/platform-client.js';
import type { StackOutputs } from '../../lambdas/contract/stack.js';

const API = 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod';
const SERVING = 'https://def456.execute-api.eu-west-1.amazonaws.com/prod';

/** A config file in a fresh directory, named by MLOPS_CONFIG in the environment returned. */
function withConfig(content: unknown, env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const path = join(mkdtempSync(join(tmpdir(), 'mlops-config-')), 'config.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return { ...env, MLOPS_CONFIG: path };
}

function failure(act: () => unknown): MlopsError {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(MlopsError);
    return error as MlopsError;
  }
  throw new Error('expected an MlopsError, got none');
}

describe('finding the API without the stack', () => {
  it('takes MLOPS_API_URL and MLOPS_SERVING_URL for the environment --env names, the region from the host name', () => {
    const endpoints = configuredEndpoints('prod', 'prod', { MLOPS_API_URL: `${API}/`, MLOPS_SERVING_URL: SERVING, AWS_REGION: 'us-east-1', MLOPS_CONFIG: '/nonexistent' } as NodeJS.ProcessEnv);
    expect(endpoints).toEqual({ managementUrl: API, servingUrl: SERVING, region: 'eu-west-1', source: 'MLOPS_API_URL' });
  });

  it('takes AWS_REGION for a URL without a region in it (an emulator, a custom domain)', () => {
    const endpoints = configuredEndpoints('local', 'local', { MLOPS_API_URL: 'http://127.0.0.1:4566/_aws/execute-api/abc/prod', AWS_REGION: 'us-east-1' });
    expect(endpoints).toMatchObject({ managementUrl: 'http://127.0.0.1:4566/_aws/execute-api/abc/prod', region: 'us-east-1' });
    expect(endpoints?.servingUrl).toBeUndefined();
    expect(failure(() => configuredEndpoints('local', 'local', { MLOPS_API_URL: 'https://api.example.com/mlops' }))).toMatchObject({ code: 'NO_REGION' });
  });

  it('applies MLOPS_API_URL to the --env environment only: the other side of a cross-environment promotion looks elsewhere', () => {
    expect(configuredEndpoints('dev', 'prod', withConfig({ environments: {} }, { MLOPS_API_URL: API }))).toBeUndefined();
  });

  it('refuses an MLOPS_API_URL that is no http(s) URL, naming the setting', () => {
    expect(failure(() => configuredEndpoints('dev', 'dev', { MLOPS_API_URL: 'abc123.execute-api' }))).toMatchObject({ code: 'INVALID_CONFIG', field: 'MLOPS_API_URL' });
    expect(failure(() => configuredEndpoints('dev', 'dev', { MLOPS_API_URL: 'ftp://example.com/x', AWS_REGION: 'eu-west-1' }))).toMatchObject({ field: 'MLOPS_API_URL' });
  });

  it('reads each environment from the config file, with its own region when given', () => {
    const env = withConfig({ environments: { dev: { apiUrl: API, servingUrl: SERVING }, prod: { apiUrl: 'https://api.example.com/prod', region: 'ap-south-1' } } });
    expect(configuredEndpoints('dev', 'prod', env)).toMatchObject({ managementUrl: API, servingUrl: SERVING, region: 'eu-west-1' });
    expect(configuredEndpoints('prod', 'prod', env)).toMatchObject({ managementUrl: 'https://api.example.com/prod', region: 'ap-south-1' });
    expect(configuredEndpoints('staging', 'prod', env)).toBeUndefined();
  });

  it('fails on a config file that is not JSON, has unknown keys or an unknown environment, and on an MLOPS_CONFIG that names no file', () => {
    expect(failure(() => configuredEndpoints('dev', 'dev', withConfig('{ environments: ')))).toMatchObject({ code: 'INVALID_CONFIG', field: 'config' });
    const typo = failure(() => configuredEndpoints('dev', 'dev', withConfig({ environments: { dev: { apiURL: API } } })));
    expect(typo).toMatchObject({ code: 'INVALID_CONFIG' });
    expect(typo.message).toMatch(/apiURL|apiUrl/);
    expect(failure(() => configuredEndpoints('dev', 'dev', withConfig({ environments: { qa: { apiUrl: API } } }))).code).toBe('INVALID_CONFIG');
    expect(failure(() => configuredEndpoints('dev', 'dev', { MLOPS_CONFIG: '/nonexistent/config.json' }))).toMatchObject({ code: 'INVALID_CONFIG', field: 'MLOPS_CONFIG' });
  });

  it('reads the host name of an execute-api URL for its region', () => {
    expect(regionOfApiUrl(API)).toBe('eu-west-1');
    expect(regionOfApiUrl('https://x.execute-api.cn-north-1.amazonaws.com.cn/prod')).toBe('cn-north-1');
    expect(regionOfApiUrl('https://api.example.com/')).toBeUndefined();
  });
});

describe('the stack outputs as the fallback', () => {
  const outputs = {
    ApiId: 'srv',
    ApiStage: 'prod',
    ApiUrl: 'https://srv.execute-api.eu-west-1.amazonaws.com/prod/',
    ManagementApiId: 'mgmt',
    ManagementApiStage: 'prod',
    ManagementApiUrl: 'https://mgmt.execute-api.eu-west-1.amazonaws.com/prod/',
  } as StackOutputs;

  it('uses the API URLs as deployed, or the emulator path under its endpoint', () => {
    expect(endpointsFromOutputs(outputs, 'eu-west-1')).toMatchObject({ managementUrl: 'https://mgmt.execute-api.eu-west-1.amazonaws.com/prod', servingUrl: 'https://srv.execute-api.eu-west-1.amazonaws.com/prod' });
    expect(endpointsFromOutputs(outputs, 'us-east-1', 'http://127.0.0.1:4566/')).toMatchObject({
      managementUrl: 'http://127.0.0.1:4566/_aws/execute-api/mgmt/prod',
      servingUrl: 'http://127.0.0.1:4566/_aws/execute-api/srv/prod',
    });
  });
});

describe('answers', () => {
  it('parses an answer with its schema; a malformed one is INVALID_ANSWER naming the route and the field', () => {
    const schema = z.object({ models: z.array(z.object({ name: z.string() })) });
    expect(parseAnswer(schema, { models: [{ name: 'm' }] }, 'GET /models')).toEqual({ models: [{ name: 'm' }] });
    const error = failure(() => parseAnswer(schema, { models: [{ name: 3 }] }, 'GET /models'));
    expect(error.code).toBe('INVALID_ANSWER');
    expect(error.message).toMatch(/GET \/models.*models\.0\.name/);
  });

  it('needs the prediction API URL for predict, and says which setting gives it', async () => {
    const client = new PlatformClient({ managementUrl: API, region: 'eu-west-1', source: 'MLOPS_API_URL' });
    await expect(client.predict('m', '{}')).rejects.toMatchObject({ code: 'NO_SERVING_URL', field: 'MLOPS_SERVING_URL' });
  });
});
