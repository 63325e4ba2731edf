import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { LOCAL_REGION } from '../../lib/client/local-environment.js';
import { routeResource } from '../../lambdas/contract/routes.js';
import { managementApiUrl, servingApiUrl, type StackOutputs } from '../../lambdas/contract/stack.js';
import { uniqueName } from './fixtures.js';

/**
 * IAM users on the emulator (MiniStack with AUTH=true verifies their signatures and evaluates their
 * policies), and the per-route execute-api ARNs docs/IAM.md's example policies are made of.
 */

/** The emulator's one account. */
export const LOCAL_ACCOUNT = '000000000000';

export interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
}

export interface IamUser {
  readonly name: string;
  /** What the APIs record as the actor: API Gateway's requestContext.identity.userArn. */
  readonly arn: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** Creates a user with one access key and, when statements are given, one inline policy. */
export async function createIamUser(prefix: string, statements: readonly Statement[]): Promise<IamUser> {
  const iam = new IAMClient({});
  const name = uniqueName(prefix);
  const { User } = await iam.send(new CreateUserCommand({ UserName: name }));
  if (statements.length > 0) {
    await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'mlops', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statements }) }));
  }
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
  return { name, arn: User!.Arn!, credentials: { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! } };
}

/**
 * The execute-api ARN of one route, `arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>`,
 * path parameters as `*` (in IAM a `*` also spans `/`, so `GET /models/{model}` covers every GET below it).
 */
export function routeArn(outputs: StackOutputs, api: 'management' | 'serving', route: string): string {
  const [id, stage] = api === 'management' ? [outputs.ManagementApiId, outputs.ManagementApiStage] : [outputs.ApiId, outputs.ApiStage];
  return `arn:aws:execute-api:${process.env.AWS_REGION ?? LOCAL_REGION}:${LOCAL_ACCOUNT}:${id}/${stage}/${routeResource(route)}`;
}

/** Allows `execute-api:Invoke` on the given routes. */
export const invoke = (outputs: StackOutputs, api: 'management' | 'serving', routes: readonly string[]): Statement => ({
  Effect: 'Allow',
  Action: 'execute-api:Invoke',
  Resource: routes.map((route) => routeArn(outputs, api, route)),
});

/**
 * The environment a user's CLI process runs with: only that user's keys, and the APIs' URLs
 * (MLOPS_API_URL, MLOPS_SERVING_URL), so the CLI needs no cloudformation:DescribeStacks.
 * AWS_ENDPOINT_URL stays: a command that still called DynamoDB or S3 itself would reach the
 * emulator and be refused there, which is what the test is to show.
 */
export function cliEnvironment(user: IamUser, outputs: StackOutputs): NodeJS.ProcessEnv {
  const { AWS_SESSION_TOKEN: _token, AWS_PROFILE: _profile, ...env } = process.env;
  const endpoint = process.env.AWS_ENDPOINT_URL;
  return {
    ...env,
    AWS_ACCESS_KEY_ID: user.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: user.credentials.secretAccessKey,
    MLOPS_API_URL: managementApiUrl(outputs, endpoint),
    MLOPS_SERVING_URL: servingApiUrl(outputs, endpoint),
  };
}
