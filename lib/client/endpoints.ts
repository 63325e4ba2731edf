import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ENVIRONMENT_NAMES, managementApiUrl, servingApiUrl, stackName, type EnvironmentName, type StackOutputs } from '../../lambdas/contract/stack.js';
import { MlopsError, zodIssues } from '../../lambdas/core/errors.js';

/**
 * Where the CLI finds an environment's APIs, first match wins:
 *   1. MLOPS_API_URL (and MLOPS_SERVING_URL for predict), for the environment `--env` names;
 *   2. the config file (MLOPS_CONFIG, default ~/.mlops/config.json), per environment;
 *   3. the stack's outputs (cloudformation:DescribeStacks on `Mlops-<env>`), for users with that right.
 * The first two need nothing but `execute-api:Invoke`.
 */

/** What a PlatformClient needs: the two APIs' base URLs and the region their signatures name. */
export interface ApiEndpoints {
  /** The management API's base URL (datasets, models, runs). */
  readonly managementUrl: string;
  /** The prediction API's base URL; only `predict` needs it. */
  readonly servingUrl?: string;
  readonly region: string;
  /** Where the endpoints came from, for error messages. */
  readonly source: string;
}

const HTTP_URL = z
  .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
  .transform((url) => url.replace(/\/+$/, ''));

const EnvironmentEndpointsSchema = z
  .object({
    /** The management API's base URL: the stack output ManagementApiUrl (on the emulator, .../_aws/execute-api/{id}/{stage}). */
    apiUrl: HTTP_URL,
    /** The prediction API's base URL: the stack output ApiUrl. */
    servingUrl: HTTP_URL.optional(),
    /** @default the region in an execute-api host name, else AWS_REGION */
    region: z.string().min(1).optional(),
  })
  .strict();

export const CliConfigSchema = z
  .object({ environments: z.partialRecord(z.enum(ENVIRONMENT_NAMES), EnvironmentEndpointsSchema) })
  .strict();
export type CliConfig = z.infer<typeof CliConfigSchema>;

/** The config file's path: MLOPS_CONFIG, or ~/.mlops/config.json. */
export const configPath = (env: NodeJS.ProcessEnv = process.env) => env.MLOPS_CONFIG ?? join(homedir(), '.mlops', 'config.json');

/** The config file, parsed; undefined when there is none (an error when MLOPS_CONFIG names a missing file). */
export function readCliConfig(env: NodeJS.ProcessEnv = process.env): CliConfig | undefined {
  const path = configPath(env);
  if (!existsSync(path)) {
    if (env.MLOPS_CONFIG) throw new MlopsError('INVALID_CONFIG', `MLOPS_CONFIG names ${path}, which does not exist`, { field: 'MLOPS_CONFIG' });
    return undefined;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new MlopsError('INVALID_CONFIG', `${path} is not JSON: ${(error as Error).message}`, { field: 'config' });
  }
  const parsed = CliConfigSchema.safeParse(raw);
  if (!parsed.success) throw new MlopsError('INVALID_CONFIG', `${path}: ${zodIssues(parsed.error).map((i) => `${i.field}: ${i.problem}`).join('; ')}`, { field: 'config' });
  return parsed.data;
}

/** `https://abc123.execute-api.eu-west-1.amazonaws.com/prod` -> `eu-west-1`. */
export function regionOfApiUrl(url: string): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(new URL(url).hostname)?.[1];
}

const regionFromEnvironment = (env: NodeJS.ProcessEnv) => env.AWS_REGION ?? env.AWS_DEFAULT_REGION;

function pickRegion(given: string | undefined, apiUrl: string, env: NodeJS.ProcessEnv, source: string): string {
  // An execute-api host names its region, which the signature must name too, whatever the default region is.
  const region = given ?? regionOfApiUrl(apiUrl) ?? regionFromEnvironment(env);
  if (!region) throw new MlopsError('NO_REGION', `set AWS_REGION (or "region" in the config file) to the region of ${apiUrl} (${source})`, { field: 'AWS_REGION' });
  return region;
}

/**
 * The endpoints given without the stack (MLOPS_API_URL, then the config file), or undefined when
 * neither names this environment. `current` is the environment `--env` selects: MLOPS_* apply to it only.
 */
export function configuredEndpoints(environment: EnvironmentName, current: EnvironmentName, env: NodeJS.ProcessEnv = process.env): ApiEndpoints | undefined {
  if (environment === current && env.MLOPS_API_URL !== undefined) {
    const parse = (name: 'MLOPS_API_URL' | 'MLOPS_SERVING_URL', value: string) => {
      const parsed = HTTP_URL.safeParse(value);
      if (!parsed.success) throw new MlopsError('INVALID_CONFIG', `${name} "${value}": ${parsed.error.issues[0]?.message}`, { field: name });
      return parsed.data;
    };
    const managementUrl = parse('MLOPS_API_URL', env.MLOPS_API_URL);
    const servingUrl = env.MLOPS_SERVING_URL === undefined ? undefined : parse('MLOPS_SERVING_URL', env.MLOPS_SERVING_URL);
    return { managementUrl, ...(servingUrl ? { servingUrl } : {}), region: pickRegion(undefined, managementUrl, env, 'MLOPS_API_URL'), source: 'MLOPS_API_URL' };
  }
  const entry = readCliConfig(env)?.environments[environment];
  if (!entry) return undefined;
  const source = `${configPath(env)} (${environment})`;
  return {
    managementUrl: entry.apiUrl,
    ...(entry.servingUrl ? { servingUrl: entry.servingUrl } : {}),
    region: pickRegion(entry.region, entry.apiUrl, env, source),
    source,
  };
}

/** Endpoints from the stack's outputs; `endpoint` is an emulator's (AWS_ENDPOINT_URL), which serves APIs under its own host. */
export function endpointsFromOutputs(outputs: StackOutputs, region: string, endpoint?: string): ApiEndpoints {
  return {
    managementUrl: managementApiUrl(outputs, endpoint),
    servingUrl: servingApiUrl(outputs, endpoint),
    region,
    source: `the outputs of the stack`,
  };
}

/** An environment's endpoints: configured ones, else the stack's outputs (which needs cloudformation:DescribeStacks). */
export async function resolveEndpoints(environment: EnvironmentName, current: EnvironmentName, env: NodeJS.ProcessEnv = process.env): Promise<ApiEndpoints> {
  const configured = configuredEndpoints(environment, current, env);
  if (configured) return configured;
  const region = regionFromEnvironment(env);
  if (!region) {
    throw new MlopsError(
      'NO_REGION',
      `set AWS_REGION to the region the ${stackName(environment)} stack is deployed in, or MLOPS_API_URL (or ${configPath(env)}) to its management API`,
      { field: 'AWS_REGION' },
    );
  }
  // Loaded only here: most users of a configured API never need the CloudFormation client.
  const { readStackOutputs } = await import('./stack-outputs.js');
  const outputs = await readStackOutputs(stackName(environment), region);
  return { ...endpointsFromOutputs(outputs, region, env.AWS_ENDPOINT_URL), source: `the outputs of ${stackName(environment)}` };
}
