import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { z } from 'zod';
import { MlopsError } from '../../lambdas/core/errors.js';

/** The outputs PlatformStack declares; the CLI finds every resource through them. */
export const StackOutputsSchema = z.object({
  DatasetsBucket: z.string(),
  ModelsBucket: z.string(),
  ReportsBucket: z.string(),
  PredictionLogsBucket: z.string(),
  RegistryTable: z.string(),
  TrackingTable: z.string(),
  TrainingPipelineArn: z.string(),
  AlertTopicArn: z.string(),
  ApiId: z.string(),
  ApiStage: z.string(),
  ApiUrl: z.string(),
  ManagementApiId: z.string(),
  ManagementApiStage: z.string(),
  ManagementApiUrl: z.string(),
  DatasetRegistrationArn: z.string(),
});
export type StackOutputs = z.infer<typeof StackOutputsSchema>;

export async function readStackOutputs(stackName: string): Promise<StackOutputs> {
  const cfn = new CloudFormationClient({});
  let stacks;
  try {
    ({ Stacks: stacks } = await cfn.send(new DescribeStacksCommand({ StackName: stackName })));
  } catch (error) {
    throw new MlopsError('STACK_NOT_FOUND', `stack ${stackName} was not found; deploy it first (${(error as Error).message})`, { cause: error, field: 'env' });
  }
  const outputs = Object.fromEntries((stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
  const parsed = StackOutputsSchema.safeParse(outputs);
  if (!parsed.success) {
    throw new MlopsError('STACK_NOT_FOUND', `stack ${stackName} lacks the platform's outputs (${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}); is it a serverless-mlops stack?`, { field: 'env' });
  }
  return parsed.data;
}

/**
 * The base URL of a REST API. On the emulator, which has no DNS for the execute-api host
 * name, REST APIs answer under /_aws/execute-api/{apiId}/{stage}.
 */
function restApiUrl(id: string, stage: string, url: string): string {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  if (endpoint) return `${endpoint.replace(/\/$/, '')}/_aws/execute-api/${id}/${stage}`;
  return url.replace(/\/$/, '');
}

/** The prediction API's base URL. */
export const apiBaseUrl = (outputs: StackOutputs) => restApiUrl(outputs.ApiId, outputs.ApiStage, outputs.ApiUrl);
/** The management API's base URL (datasets; the CLI's routes). */
export const managementApiUrl = (outputs: StackOutputs) => restApiUrl(outputs.ManagementApiId, outputs.ManagementApiStage, outputs.ManagementApiUrl);
