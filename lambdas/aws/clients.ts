import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * An endpoint override (the local emulator) has no DNS for bucket sub-domains,
 * so S3 must use path-style addressing there.
 */
export function createS3Client(): S3Client {
  const endpoint = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  return new S3Client({ forcePathStyle: Boolean(endpoint) });
}

export function createDocumentClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

export const createSnsClient = () => new SNSClient({});
export const createSfnClient = () => new SFNClient({});

/**
 * Whether this process runs the real AWS SDK. The local emulator substitutes minimal stubs for
 * `@aws-sdk/client-*` when a function does not bring the SDK; real clients have a middleware stack.
 */
export function sdkFlavour(client: object): 'aws-sdk-v3' | 'stub' {
  const stack = (client as { middlewareStack?: { add?: unknown } }).middlewareStack;
  return typeof stack?.add === 'function' ? 'aws-sdk-v3' : 'stub';
}
