import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { StackOutputsSchema, type StackOutputs } from '../../lambdas/contract/stack.js';
import { MlopsError } from '../../lambdas/core/errors.js';

/**
 * A deployed stack's outputs (cloudformation:DescribeStacks): the fallback for finding the APIs
 * when neither MLOPS_API_URL nor the config file names them (lib/client/endpoints.ts).
 */
export async function readStackOutputs(stackName: string, region: string): Promise<StackOutputs> {
  const cfn = new CloudFormationClient({ region });
  let stacks;
  try {
    ({ Stacks: stacks } = await cfn.send(new DescribeStacksCommand({ StackName: stackName })));
  } catch (error) {
    throw new MlopsError(
      'STACK_NOT_FOUND',
      `stack ${stackName} was not found; deploy it first, or set MLOPS_API_URL when you may not read the stack (${(error as Error).message})`,
      { cause: error, field: 'env' },
    );
  }
  const outputs = Object.fromEntries((stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
  const parsed = StackOutputsSchema.safeParse(outputs);
  if (!parsed.success) {
    throw new MlopsError('STACK_NOT_FOUND', `stack ${stackName} lacks the platform's outputs (${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}); is it a serverless-mlops stack?`, { field: 'env' });
  }
  return parsed.data;
}
