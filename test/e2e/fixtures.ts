import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { LOCAL_REGION, PROJECT_ROOT, useLocalEndpoint } from '../../lib/client/local-environment.js';
import type { StackOutputs } from '../../lambdas/contract/stack.js';
import { PlatformClient } from '../../lib/client/platform-client.js';
import { parseModelSpec, type ModelSpec, type ModelSpecInput } from '../../lambdas/core/training/model-spec.js';
import { makeCreditDataset } from '../../scripts/make-demo-dataset.js';

export function platformClient(): PlatformClient {
  const endpoint = useLocalEndpoint();
  return PlatformClient.fromStackOutputs(inject('stackOutputs'), process.env.AWS_REGION ?? LOCAL_REGION, endpoint);
}

export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

export function creditSpec(name: string, dataset: string, gate: ModelSpecInput['gate'] = { minAccuracy: 0.75, minRocAuc: 0.8, minRows: 100 }): ModelSpec {
  return parseModelSpec({
    name,
    task: 'binary_classification',
    target: 'defaulted',
    positiveLabel: '1',
    features: ['age', 'income', 'debt_ratio', 'credit_lines', 'late_payments'].map((feature) => ({ name: feature, type: 'numeric' })),
    training: { algorithm: 'logistic_regression', params: { C: 1, maxIterations: 300 }, seed: 42, testFraction: 0.25 },
    gate,
    dataset,
    owner: 'e2e',
  });
}

export const goodCsv = () => makeCreditDataset(800, 11);

/** Rewrites the target column of a CSV (last column) with values from `label(rowIndex)`. */
export function withLabels(csv: string, label: (row: number) => string): string {
  const [header, ...rows] = csv.trim().split('\n');
  return [header, ...rows.map((row, index) => row.replace(/,[^,]*$/, `,${label(index)}`))].join('\n') + '\n';
}

/** A real SQS queue subscribed to the alert topic, so a test can read the alerts that went out. */
export async function subscribeToAlerts(topicArn: string) {
  const sqs = new SQSClient({});
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('alerts') }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  const queueArn = Attributes!.QueueArn!;
  // SNS may deliver only where the queue's policy lets it (AWS, and the emulator under AUTH=true).
  const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: queueArn, Condition: { ArnEquals: { 'aws:SourceArn': topicArn } } }] };
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { Policy: JSON.stringify(policy) } }));
  await new SNSClient({}).send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn, Attributes: { RawMessageDelivery: 'true' } }));
  return {
    /** Alerts received within a few seconds, parsed. */
    async receive(): Promise<Record<string, unknown>[]> {
      const alerts: Record<string, unknown>[] = [];
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
        alerts.push(...Messages.map((m) => JSON.parse(m.Body ?? '{}') as Record<string, unknown>));
        if (alerts.length > 0 && Messages.length === 0) break;
      }
      return alerts;
    },
    remove: () => sqs.send(new DeleteQueueCommand({ QueueUrl })),
  };
}

/**
 * Runs the CLI as a user's script does: a separate process, `--json` on stdout, the exit code.
 * Typed loosely (`any`) because each command's JSON shape is what the test asserts.
 */
export const mlops = (...args: string[]) => mlopsWith(process.env, ...args);

let built: Promise<string> | undefined;

/** The CLI as the package ships it (dist/cli/mlops.js, plain Node), built from the sources once per test file. */
function builtCli(): Promise<string> {
  built ??= promisify(execFile)('npm', ['run', '--silent', 'build:cli'], { cwd: PROJECT_ROOT }).then(() => join(PROJECT_ROOT, 'dist', 'cli', 'mlops.js'));
  return built;
}

/** The CLI run with another environment: another user's keys (test/e2e/iam.ts), say. */
export async function mlopsWith(environment: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; json: any }> {
  const env = { ...environment, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const cli = await builtCli();
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [cli, '--json', ...args], { env, cwd: PROJECT_ROOT, maxBuffer: 1 << 24 });
    return { code: 0, json: JSON.parse(stdout) };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, json: JSON.parse(failed.stdout) };
  }
}

/** A stream command's `--json` output (JSON Lines, `events tail`): one parsed object a line, and the exit code. */
export const mlopsLines = (...args: string[]) => mlopsLinesWith(process.env, ...args);

/** mlopsLines with another environment (another user's keys). */
export async function mlopsLinesWith(environment: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; lines: any[] }> {
  const env = { ...environment, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const parse = (stdout: string) => stdout.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [await builtCli(), '--json', ...args], { env, cwd: PROJECT_ROOT, maxBuffer: 1 << 24 });
    return { code: 0, lines: parse(stdout) };
  } catch (error) {
    // A failed command prints its one error document (indented, as every command does).
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, lines: [JSON.parse(failed.stdout)] };
  }
}

/** How many executions the training pipeline has had: a refused request must not add one. */
export async function trainingExecutions(outputs: StackOutputs = inject('stackOutputs')): Promise<number> {
  const { executions = [] } = await new SFNClient({}).send(new ListExecutionsCommand({ stateMachineArn: outputs.TrainingPipelineArn }));
  return executions.length;
}

/**
 * Every JSON Lines record under a prefix of a bucket (the prediction log, the feedback), parsed:
 * what Firehose delivered so far. On the emulator Firehose writes at once; on AWS a reader waits
 * out the buffer (LOG_BUFFER_SECONDS) first.
 */
export async function logRecords<T = Record<string, unknown>>(bucket: string, prefix: string): Promise<T[]> {
  const s3 = new S3Client({ forcePathStyle: true });
  const records: T[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    const keys = (page.Contents ?? []).map((object) => object.Key!);
    // Sixteen reads at a time: the emulator's Firehose writes one object per batch, so there are many.
    for (let at = 0; at < keys.length; at += 16) {
      const texts = await Promise.all(keys.slice(at, at + 16).map(async (Key) => (await s3.send(new GetObjectCommand({ Bucket: bucket, Key }))).Body!.transformToString()));
      for (const text of texts) records.push(...text.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as T));
    }
    token = page.NextContinuationToken;
  } while (token);
  return records;
}
