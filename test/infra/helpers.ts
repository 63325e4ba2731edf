import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelSpecs, parseEnvironments, type EnvironmentConfig, type EnvironmentName } from '../../lib/config.js';
import { PlatformStack } from '../../lib/platform-stack.js';

const ROOT = join(import.meta.dirname, '..', '..');
const cdkJson = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context: { environments: unknown } };
export const ENVIRONMENTS = parseEnvironments(cdkJson.context.environments);
export const DECLARED_MODELS = loadModelSpecs(join(ROOT, 'config', 'models'));

/**
 * A fresh App and PlatformStack for one environment. Bundling is skipped (an empty
 * bundling-stacks list) so template tests stay fast; the e2e deploy bundles for real.
 */
export function synthPlatform(environmentName: EnvironmentName, overrides: Partial<EnvironmentConfig> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const config = { ...ENVIRONMENTS[environmentName]!, ...overrides };
  const stack = new PlatformStack(app, `Mlops-${environmentName}`, {
    environmentName,
    config,
    models: DECLARED_MODELS,
    codeVersion: 'test',
    env: { account: config.account ?? '123456789012', region: config.region },
  });
  return { app, stack, template: Template.fromStack(stack) };
}

/** `<LogicalId.Arn>` for a Fn::GetAtt, `<LogicalId>` for a Ref; other intrinsics stay `TOKEN`. */
export function nameIntrinsic(part: unknown): string {
  const intrinsic = part as { 'Fn::GetAtt'?: [string, string]; Ref?: string };
  if (intrinsic['Fn::GetAtt']) return `<${intrinsic['Fn::GetAtt'].join('.')}>`;
  if (typeof intrinsic.Ref === 'string') return `<${intrinsic.Ref}>`;
  return 'TOKEN';
}

/**
 * Replaces CloudFormation intrinsics in a Fn::Join'd definition by placeholders, to read it as JSON:
 * `TOKEN` by default, or what `placeholder` makes of each (`nameIntrinsic` names the resource).
 */
export function stateMachineDefinition(template: Template, idPrefix = 'TrainingPipeline', placeholder: (part: unknown) => string = () => 'TOKEN'): Record<string, any> {
  const machine = Object.entries(template.findResources('AWS::StepFunctions::StateMachine')).find(([id]) => id.startsWith(idPrefix))?.[1];
  if (!machine) throw new Error(`no state machine whose logical id starts with ${idPrefix}`);
  const body = machine!.Properties.DefinitionString;
  const text = typeof body === 'string' ? body : (body['Fn::Join'][1] as unknown[]).map((part) => (typeof part === 'string' ? part : placeholder(part))).join('');
  return JSON.parse(text);
}

/** The IAM policy statements of the policies whose logical id starts with `policyIdPrefix` (a function's or a role's). */
export function statementsOfPoliciesFor(template: Template, policyIdPrefix: string): { Action: string | string[]; Resource: unknown; Condition?: unknown }[] {
  return Object.entries(template.findResources('AWS::IAM::Policy'))
    .filter(([id]) => id.startsWith(policyIdPrefix))
    .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement);
}

/** The IAM actions granted to a function's role, sorted and de-duplicated. */
export function actionsOfRoleFor(template: Template, functionIdPrefix: string): string[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const actions = new Set<string>();
  for (const [id, policy] of Object.entries(policies)) {
    if (!id.startsWith(functionIdPrefix)) continue;
    for (const statement of policy.Properties.PolicyDocument.Statement) {
      for (const action of [statement.Action].flat()) actions.add(action);
    }
  }
  return [...actions].sort();
}

/** What `table.grantReadData` grants: the reads, the stream's reads and the transaction's condition check. */
export const TABLE_READ_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
  'dynamodb:GetItem',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
  'dynamodb:Query',
  'dynamodb:Scan',
] as const;

/** The one resource of `type` whose logical id starts with `idPrefix`. */
export function idOf(template: Template, type: string, idPrefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(idPrefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} starting with ${idPrefix}, found ${ids.length}`);
  return ids[0]!;
}

/** `METHOD /path` of every API Gateway method integrated with the function whose logical id starts with `functionIdPrefix`. */
export function routesOf(template: Template, functionIdPrefix: string): string[] {
  const fn = idOf(template, 'AWS::Lambda::Function', functionIdPrefix);
  const resources = template.findResources('AWS::ApiGateway::Resource');
  const pathOf = (ref: unknown): string => {
    const id = (ref as { Ref?: string }).Ref;
    if (!id || !resources[id]) return '';
    return `${pathOf(resources[id].Properties.ParentId)}/${resources[id].Properties.PathPart}`;
  };
  return Object.values(template.findResources('AWS::ApiGateway::Method'))
    .filter((method) => JSON.stringify(method.Properties.Integration?.Uri ?? '').includes(`"${fn}"`))
    .map((method) => `${method.Properties.HttpMethod} ${pathOf(method.Properties.ResourceId)}`)
    .sort();
}

/** The smoke test's management routes as execute-api ARN tails, pinned to its model and dataset (written out here, not derived from lib/delivery/smoke-access.ts). */
export const SMOKE_MANAGEMENT_TAILS = [
  'POST/datasets/mlops-smoke/uploads',
  'POST/datasets/mlops-smoke/versions',
  'GET/datasets/mlops-smoke/registrations/*',
  'PUT/models/mlops-smoke',
  'GET/models/mlops-smoke',
  'POST/models/mlops-smoke/runs',
  'GET/runs/*',
];
