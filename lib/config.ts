import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { zodIssues } from '../lambdas/core/errors.js';
import { ENVIRONMENT_NAMES, type EnvironmentName } from '../lambdas/contract/stack.js';
import { parseModelSpec, type ModelSpec } from '../lambdas/core/training/model-spec.js';
import { REGISTRY_EVENT_TYPES } from '../lambdas/contract/events.js';
import { ALIASES } from '../lambdas/core/registry/keys.js';
import { MODEL_NAME } from '../lambdas/core/training/run.js';

export { ENVIRONMENT_NAMES, type EnvironmentName } from '../lambdas/contract/stack.js';

/** Firehose's buffer interval with dynamic partitioning: zero buffering is not offered there, and CDK and the API accept 60 to 900 s. */
export const FIREHOSE_BUFFER_SECONDS = { min: 60, max: 900 } as const;

const Throttle = z
  .object({
    rateLimit: z.number().int().min(1, 'must be at least 1 request per second').max(10_000, 'API Gateway allows at most 10,000 requests per second per account and region'),
    burstLimit: z.number().int().min(1, 'must be at least 1').max(5_000, 'API Gateway allows a burst of at most 5,000 requests'),
  })
  .strict();

/** Serving: the prediction API's throttle and quotas, the hot path's routing cache, and the prediction log. */
export const ServingConfigSchema = z
  .object({
    /**
     * The serving stage's throttle (requests per second, and the burst above it). The emulator enforces it.
     * @default { rateLimit: 100, burstLimit: 200 }
     */
    throttle: Throttle.default({ rateLimit: 100, burstLimit: 200 }),
    /**
     * How long a warm predict function trusts its in-memory routing (production, canary, shadow): an alias
     * move takes effect within this bound.
     * @default 2
     */
    routingStalenessSeconds: z
      .number()
      .min(0, 'must be 0 (read the registry on every request) or more')
      .max(300, 'must be at most 300 s: an alias move must take effect within minutes')
      .default(2),
    /**
     * How long an issued request id stays in the request index, so feedback can find its request.
     * @default 30
     */
    requestIndexTtlDays: z.number().int().min(1, 'must be at least 1 day').max(365, 'must be at most 365 days').default(30),
    /**
     * Days the prediction log and the feedback (predictions/ and feedback/ in the prediction-logs bucket) are kept.
     * @default 90
     */
    predictionLogRetentionDays: z.number().int().min(1, 'must be at least 1 day').max(3650, 'must be at most 3,650 days').default(90),
    /**
     * Firehose's buffer interval: how long a record may wait before it lands in S3. Readers of the log
     * (LOG_BUFFER_SECONDS) wait 1.5 times this (AWS's bound with dynamic partitioning) before they trust a window. With dynamic partitioning Firehose
     * accepts 60 to 900 s; only the emulator, which delivers every record at once, may set less.
     * @default 60
     */
    logBufferSeconds: z
      .number()
      .int()
      .min(0, 'must be 0 or more seconds')
      .max(FIREHOSE_BUFFER_SECONDS.max, `Firehose buffers at most ${FIREHOSE_BUFFER_SECONDS.max} s`)
      .default(FIREHOSE_BUFFER_SECONDS.min),
    /**
     * How the log lands in S3: JSON Lines, or Parquet through Firehose's record format conversion (with the Glue table's schema).
     * @default 'jsonl'
     */
    logFormat: z.enum(['jsonl', 'parquet'], 'must be "jsonl" or "parquet"').default('jsonl'),
    /**
     * Per-client quotas for callers outside AWS: a usage plan on the serving stage, and an API key required on
     * the serving routes in addition to IAM (docs/CLI.md: issuing a key).
     * @default - no usage plan; IAM alone
     */
    apiKeys: z
      .object({
        rateLimit: Throttle.shape.rateLimit,
        burstLimit: Throttle.shape.burstLimit,
        quota: z
          .object({
            limit: z.number().int().min(1, 'must be at least 1 request'),
            period: z.enum(['DAY', 'WEEK', 'MONTH'], 'must be DAY, WEEK or MONTH'),
          })
          .strict(),
      })
      .strict()
      .optional(),
    /**
     * Deploys `POST /bench/echo` beside predict: a function that answers the request body, built and wired
     * exactly as predict is, the reference of the serving bench (scripts/bench-serving.ts). Only the `local`
     * environment, on the emulator, may set it; parseEnvironments refuses it elsewhere.
     * @default false
     */
    benchEcho: z.boolean().default(false),
  })
  .strict();
export type ServingConfig = z.infer<typeof ServingConfigSchema>;

/** A CloudWatch alarm period: a whole number of minutes, at most a day. */
const ALARM_PERIOD_SECONDS = z.number().int().min(60, 'must be at least 60 s').max(86_400, 'must be at most a day (86,400 s)').multipleOf(60, 'must be a whole number of minutes');

/** System monitoring: how each model's CloudWatch alarms evaluate (lib/monitoring.ts). */
export const MonitoringConfigSchema = z
  .object({
    /** Period of the serving alarms (errors, latency p99). @default 300 */
    alarmPeriodSeconds: ALARM_PERIOD_SECONDS.default(300),
    /** Periods in a row a serving alarm must breach. @default 3 */
    alarmEvaluationPeriods: z.number().int().min(1).max(24).default(3),
    /** Period a drift check's data point is read in by the drift and decay alarms (their state then holds until the next check). @default 3600 */
    checkAlarmPeriodSeconds: ALARM_PERIOD_SECONDS.default(3600),
    /**
     * Drift checks whose window holds more than this many bytes of prediction log are aggregated in
     * Athena over the partitioned log (counts, value counts, min/max and a seeded bottom-k sample:
     * docs/ARCHITECTURE.md, "Drift at scale") instead of streamed through the function. Unset, every
     * window is streamed. Leave it unset on `local`: the emulator's Athena is DuckDB over
     * read_json_auto, which copies every object of the table for each query, runs another SQL dialect
     * than Athena's Trino and cannot tell an absent key from a null, so there the path proves neither
     * scale nor the SQL that runs on AWS (the e2e test forces it on a small window instead). On AWS,
     * set it to the log size past which a streamed check nears the function's 29 s.
     * @default - unset: always streamed
     */
    athenaAboveBytes: z.number().int().min(1, 'must be at least 1 byte').optional(),
  })
  .strict();
export type MonitoringConfig = z.infer<typeof MonitoringConfigSchema>;

/** A webhook the registry events go to: which events, where, and the secret holding its API key. */
export const WebhookConfigSchema = z
  .object({
    /** Names the rule, connection and destination. */
    name: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be 1-40 lowercase letters, digits and dashes, starting with a letter'),
    /** Where the event's detail is POSTed. */
    url: z.url({ protocol: /^https$/, error: 'must be an https:// URL' }),
    /** The event types sent. @default ['alias.moved'] */
    events: z.array(z.enum(REGISTRY_EVENT_TYPES)).min(1, 'must name at least one event type').default(['alias.moved']),
    /** Only events about this alias. @default 'production' */
    alias: z.enum(ALIASES).optional().default('production'),
    /** Only these models' events. @default every model's */
    models: z.array(MODEL_NAME).min(1).optional(),
    /** The Secrets Manager secret (name or ARN) whose value is sent as the API key. */
    apiKeySecret: z.string().min(1, 'must name a Secrets Manager secret'),
    /** The header the API key goes in. @default 'x-api-key' */
    apiKeyHeader: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be an HTTP header name').default('x-api-key'),
  })
  .strict();
export type WebhookConfig = z.infer<typeof WebhookConfigSchema>;

export const EnvironmentConfigSchema = z
  .object({
    /** 12-digit AWS account id; omitted means the account of the CLI's credentials. */
    account: z
      .string()
      .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
      .optional(),
    region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as eu-west-1'),
    /** `retain` keeps buckets and tables when the stack is deleted; `destroy` empties and deletes them. */
    removalPolicy: z.enum(['retain', 'destroy']),
    /** Whether a new model version may move the production alias by itself. */
    productionRequiresApproval: z.boolean(),
    /** One of the retention periods CloudWatch Logs accepts. */
    logRetentionDays: z.literal([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653]),
    /** Where alerts go; omitted means the alert topic has no e-mail subscription. */
    alarmEmail: z.email('must be an e-mail address').optional(),
    /** How long a release waits for a person's approval before it is rejected, in seconds. @default 3 days */
    approvalTimeoutSeconds: z
      .number()
      .int()
      .min(10)
      .max(365 * 24 * 3600, 'Step Functions waits at most a year')
      .default(3 * 24 * 3600),
    /** Largest dataset file accepted, in bytes. @default 5 GiB, the most one S3 CopyObject moves */
    maxDatasetBytes: z.number().int().min(1024).max(5 * 1024 ** 3).default(5 * 1024 ** 3),
    /**
     * The management API's stage throttle (requests per second, and the burst above it). The
     * emulator enforces it too, and the e2e suite's many CLI calls go past 20/s.
     * @default { rateLimit: 20, burstLimit: 40 }
     */
    managementApiThrottle: z
      .object({ rateLimit: z.number().int().min(1).max(10_000), burstLimit: z.number().int().min(1).max(5_000) })
      .strict()
      .default({ rateLimit: 20, burstLimit: 40 }),
    /** Runs against the local emulator: leaves out what it cannot run (see docs/ARCHITECTURE.md). */
    emulator: z.boolean().default(false),
    /**
     * The fault switch: Register and Promote read fault plans a test writes (lambdas/aws/faults.ts)
     * and throw where they say. Only `local` may set it; parseEnvironments refuses it elsewhere.
     * @default false
     */
    faultInjection: z.boolean().default(false),
    /** Serving: throttle, quotas, routing staleness and the prediction log (ServingConfigSchema). @default - every field's default */
    serving: ServingConfigSchema.prefault({}),
    /** System monitoring: the models' alarm periods (MonitoringConfigSchema). @default - every field's default */
    monitoring: MonitoringConfigSchema.prefault({}),
    /**
     * Webhooks the registry events are sent to (RegistryWebhook: an EventBridge rule and API destination on the
     * platform's bus), e.g. production moves to a deployment system. @default - none
     */
    webhooks: z.array(WebhookConfigSchema).default([]),
  })
  .strict()
  .superRefine((config, context) => {
    // The emulator's CloudFormation creates no API destinations (docs/DELIVERY.md shows the same rule made with the SDK).
    if (config.emulator && config.webhooks.length > 0) {
      context.addIssue({ code: 'custom', path: ['webhooks'], message: 'must be empty on the emulator, whose CloudFormation cannot create EventBridge API destinations' });
    }
    const names = config.webhooks.map((webhook) => webhook.name);
    names.forEach((name, index) => {
      if (names.indexOf(name) !== index) context.addIssue({ code: 'custom', path: ['webhooks', index, 'name'], message: `"${name}" is used by another webhook` });
    });
    // Only the emulator delivers at once; on AWS, dynamic partitioning needs a buffer of at least 60 s.
    if (!config.emulator && config.serving.logBufferSeconds < FIREHOSE_BUFFER_SECONDS.min) {
      context.addIssue({
        code: 'custom',
        path: ['serving', 'logBufferSeconds'],
        message: `must be ${FIREHOSE_BUFFER_SECONDS.min} to ${FIREHOSE_BUFFER_SECONDS.max} s: Firehose with dynamic partitioning has no zero buffering (only the emulator, which delivers at once, may set less)`,
      });
    }
  });
export type EnvironmentConfig = z.infer<typeof EnvironmentConfigSchema>;

/** Any subset of the environments may be declared (zod 4's record with enum keys would require all of them). */
export const EnvironmentsSchema = z.partialRecord(z.enum(ENVIRONMENT_NAMES), EnvironmentConfigSchema);

/** Formats zod issues as "environments.dev.region: must be ..." lines for a person to act on. */
function describeIssues(prefix: string, error: z.ZodError): string {
  return zodIssues(error)
    .map(({ field, problem }) => `  ${field === '(root)' ? prefix : `${prefix}.${field}`}: ${problem}`)
    .join('\n');
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validates the `environments` context block from cdk.json. */
export function parseEnvironments(raw: unknown): Partial<Record<EnvironmentName, EnvironmentConfig>> {
  const result = EnvironmentsSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      `invalid cdk.json context "environments" (allowed environments: ${ENVIRONMENT_NAMES.join(', ')}):\n` +
        describeIssues('environments', result.error),
    );
  }
  // Faults are for the emulator's tests: no other environment may carry the switch.
  const wrong = Object.entries(result.data).filter(([name, config]) => name !== 'local' && config?.faultInjection);
  if (wrong.length > 0) {
    throw new ConfigError(
      `invalid cdk.json context "environments":\n${wrong.map(([name]) => `  environments.${name}.faultInjection: only the local environment may inject faults`).join('\n')}`,
    );
  }
  // The bench's echo route is a function with no work behind the serving API: never on AWS.
  const echoes = Object.entries(result.data).filter(([name, config]) => config?.serving.benchEcho && (name !== 'local' || !config.emulator));
  if (echoes.length > 0) {
    throw new ConfigError(
      `invalid cdk.json context "environments":\n${echoes.map(([name]) => `  environments.${name}.serving.benchEcho: only the local environment, on the emulator, may deploy the bench's echo route`).join('\n')}`,
    );
  }
  return result.data;
}

/** Picks the environments to synthesize: one when `-c env=NAME` is given, all declared ones otherwise. */
export function selectEnvironments(
  environments: Partial<Record<EnvironmentName, EnvironmentConfig>>,
  requested: unknown,
): [EnvironmentName, EnvironmentConfig][] {
  const declared = ENVIRONMENT_NAMES.filter((name) => environments[name] !== undefined);
  if (requested === undefined) return declared.map((name) => [name, environments[name]!]);
  const parsed = z.enum(ENVIRONMENT_NAMES).safeParse(requested);
  if (!parsed.success) {
    throw new ConfigError(
      `invalid -c env=${String(requested)}: allowed values are ${ENVIRONMENT_NAMES.join(', ')}`,
    );
  }
  const config = environments[parsed.data];
  if (!config) {
    throw new ConfigError(
      `environment "${parsed.data}" is not declared in cdk.json context "environments" (declared: ${declared.join(', ')})`,
    );
  }
  return [[parsed.data, config]];
}

/** A 12-digit account id and an AWS region, as the environments spell them. */
const ACCOUNT = EnvironmentConfigSchema.shape.account.unwrap();
const REGION = EnvironmentConfigSchema.shape.region;

/**
 * The optional `delivery` context block (sibling of `environments`): how the platform's own code is
 * delivered through its environments (docs/DELIVERY.md). Without it nothing but the environments' stacks is synthesized.
 */
export const DeliveryConfigSchema = z
  .object({
    /** The GitHub repository the platform's code lives in, `owner/name`. */
    repository: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,38}\/[A-Za-z0-9._-]{1,100}$/, 'must be a GitHub repository as owner/name'),
    /** The branch the pipeline follows. @default 'main' */
    branch: z.string().regex(/^[^\s~^:?*[\\]+$/, 'must be a git branch name').default('main'),
    /** The environments, deployed in this order; the last one waits for a manual approval. Each needs an account; `local` is refused. */
    stages: z.array(z.enum(ENVIRONMENT_NAMES, `must be one of ${ENVIRONMENT_NAMES.join(', ')}`)).min(1, 'must list at least one environment'),
    /**
     * The CodePipeline (CDK Pipelines) delivery pipeline, stack `Mlops-pipeline` in this account and region.
     * @default - no pipeline
     */
    pipeline: z
      .object({
        account: ACCOUNT,
        region: REGION,
        /** The CodeConnections (CodeStar) connection to GitHub, in the pipeline's account. */
        connectionArn: z
          .string()
          .regex(/^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection\/[A-Za-z0-9-]+$/, 'must be a CodeConnections connection ARN (arn:aws:codeconnections:<region>:<account>:connection/<id>)'),
      })
      .strict()
      .superRefine((pipeline, context) => {
        // A connection is used only from its own account.
        const owner = pipeline.connectionArn.split(':')[4];
        if (owner && owner !== pipeline.account) {
          context.addIssue({ code: 'custom', path: ['connectionArn'], message: `belongs to account ${owner}, not to the pipeline's account ${pipeline.account}` });
        }
      })
      .optional(),
    /**
     * One GitHub OIDC deploy role per stage (stack `Mlops-github-<env>`). `true` creates the account's OIDC provider for
     * token.actions.githubusercontent.com (in the first stage of each account); `{ "oidcProvider": "existing" }` uses the one the account already has.
     * @default false
     */
    githubActions: z
      .union([z.boolean(), z.object({ oidcProvider: z.enum(['create', 'existing'], 'must be "create" or "existing"') }).strict()], 'must be true, false or { "oidcProvider": "create" | "existing" }')
      .default(false)
      .transform((value) => (value === false ? undefined : value === true ? { oidcProvider: 'create' as const } : value)),
  })
  .strict()
  .refine((delivery) => delivery.pipeline !== undefined || delivery.githubActions !== undefined, 'configures nothing: set "pipeline", "githubActions" or both');

/** An environment the delivery may deploy to: any but `local`. */
export type DeliveryStageName = Exclude<EnvironmentName, 'local'>;
export type DeliveryConfig = Omit<z.infer<typeof DeliveryConfigSchema>, 'stages'> & { readonly stages: readonly DeliveryStageName[] };

/**
 * Validates the optional `delivery` context block against the declared environments; undefined when
 * there is none. Each stage must be declared with an account, must not run on the emulator, and appears once.
 */
export function parseDelivery(raw: unknown, environments: Partial<Record<EnvironmentName, EnvironmentConfig>>): DeliveryConfig | undefined {
  if (raw === undefined) return undefined;
  const result = DeliveryConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(`invalid cdk.json context "delivery":\n${describeIssues('delivery', result.error)}`);
  const problems = result.data.stages.flatMap((name, index) => {
    const field = `delivery.stages.${index}`;
    const config = environments[name];
    if (name === 'local') return [`${field}: the local environment runs on the emulator and never gets a pipeline`];
    if (result.data.stages.indexOf(name) !== index) return [`${field}: "${name}" is listed twice`];
    if (!config) return [`${field}: environment "${name}" is not declared in "environments"`];
    if (!config.account) return [`${field}: environment "${name}" has no account; pipeline environments need one`];
    if (config.emulator) return [`${field}: environment "${name}" runs on the emulator; pipeline environments are on AWS`];
    return [];
  });
  if (problems.length > 0) throw new ConfigError(`invalid cdk.json context "delivery":\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
  return { ...result.data, stages: result.data.stages.filter((name): name is DeliveryStageName => name !== 'local') };
}

/** Reads every model spec (JSON or YAML) declared in a config folder; file names are reported on error. */
export function loadModelSpecs(folder: string): ModelSpec[] {
  let files: string[];
  try {
    files = readdirSync(folder).filter((file) => /\.(json|ya?ml)$/.test(file)).sort();
  } catch {
    return [];
  }
  const specs = files.map((file) => {
    const text = readFileSync(join(folder, file), 'utf8');
    try {
      return parseModelSpec(file.endsWith('.json') ? JSON.parse(text) : parseYaml(text));
    } catch (error) {
      throw new ConfigError(`model spec ${join(folder, file)}: ${(error as Error).message}`);
    }
  });
  const names = new Set<string>();
  for (const spec of specs) {
    if (names.has(spec.name)) throw new ConfigError(`model "${spec.name}" is declared twice in ${folder}`);
    names.add(spec.name);
  }
  return specs;
}
