import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { LOCAL_REGION, PROJECT_ROOT, useLocalEndpoint } from '../../lib/client/local-environment.js';
import { PlatformClient } from '../../lib/client/platform-client.js';
import { parseModelSpec, type ModelSpec, type ModelSpecInput } from '../../lambdas/core/training/model-spec.js';
import { makeCreditDataset } from '../../scripts/make-demo-dataset.js';

export function platformClient(): PlatformClient {
  useLocalEndpoint();
  return new PlatformClient(inject('stackOutputs'), process.env.AWS_REGION ?? LOCAL_REGION);
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
  await new SNSClient({}).send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: Attributes!.QueueArn!, Attributes: { RawMessageDelivery: 'true' } }));
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
export async function mlops(...args: string[]): Promise<{ code: number; json: any }> {
  const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const cli = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
  try {
    const { stdout } = await promisify(execFile)(cli, [join(PROJECT_ROOT, 'bin', 'mlops.ts'), '--json', ...args], { env, cwd: PROJECT_ROOT, maxBuffer: 1 << 24 });
    return { code: 0, json: JSON.parse(stdout) };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, json: JSON.parse(failed.stdout) };
  }
}

/** How many executions the training pipeline has had: a refused request must not add one. */
export async function trainingExecutions(platform: PlatformClient): Promise<number> {
  const { executions = [] } = await new SFNClient({}).send(new ListExecutionsCommand({ stateMachineArn: platform.outputs.TrainingPipelineArn }));
  return executions.length;
}
