import { z } from 'zod';
import { ENVIRONMENT_NAMES, type EnvironmentName } from '../core/environments.js';

/**
 * What the stack and its clients agree on without either importing the other: the stack's name per
 * environment, its outputs and how to reach its APIs. lib/platform-stack.ts declares exactly
 * these outputs (a rename on one side fails `tsc`), and the CLI reads them back through the schema.
 */

export { ENVIRONMENT_NAMES, type EnvironmentName };

/** Stack name for an environment, e.g. `Mlops-dev`. */
export function stackName(environmentName: EnvironmentName): string {
  return `Mlops-${environmentName}`;
}

/** The outputs PlatformStack declares; clients that may read the stack find every resource through them. */
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
  /** Serving: the Firehose streams of the prediction log and the feedback, the request index, and where Athena queries them. */
  PredictionLogStream: z.string(),
  FeedbackStream: z.string(),
  RequestIndexTable: z.string(),
  GlueDatabase: z.string(),
  AthenaWorkGroup: z.string(),
  /** The registry events' bus (lambdas/contract/events.ts): rules on it receive every registry change. */
  EventBusName: z.string(),
  EventBusArn: z.string(),
});
export type StackOutputs = z.infer<typeof StackOutputsSchema>;
export type StackOutputName = keyof StackOutputs;

/**
 * The base URL of a REST API. On an emulator (`endpoint` set, e.g. AWS_ENDPOINT_URL), which has no
 * DNS for the execute-api host name, REST APIs answer under /_aws/execute-api/{apiId}/{stage}.
 */
function restApiUrl(id: string, stage: string, url: string, endpoint: string | undefined): string {
  if (endpoint) return `${endpoint.replace(/\/$/, '')}/_aws/execute-api/${id}/${stage}`;
  return url.replace(/\/$/, '');
}

/** The prediction API's base URL. */
export const servingApiUrl = (outputs: StackOutputs, endpoint?: string) => restApiUrl(outputs.ApiId, outputs.ApiStage, outputs.ApiUrl, endpoint);
/** The management API's base URL (datasets, models, runs: every CLI route). */
export const managementApiUrl = (outputs: StackOutputs, endpoint?: string) =>
  restApiUrl(outputs.ManagementApiId, outputs.ManagementApiStage, outputs.ManagementApiUrl, endpoint);
