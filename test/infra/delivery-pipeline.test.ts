import { App, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDelivery, type DeliveryConfig } from '../../lib/config.js';
import { addAppStacks } from '../../lib/delivery/app-stacks.js';
import { DeliveryPipelineStack } from '../../lib/delivery/delivery-pipeline-stack.js';
import { SMOKE_MANAGEMENT_ROUTES, SMOKE_SERVING_ROUTES } from '../../lib/delivery/smoke-access.js';
import { SmokeTestRole } from '../../lib/delivery/smoke-test-role.js';
import { DECLARED_MODELS, ENVIRONMENTS, nameIntrinsic, SMOKE_MANAGEMENT_TAILS } from './helpers.js';

// Three accounts and two regions: prod lives apart, as the pipeline must support.
const environments = {
  ...ENVIRONMENTS,
  dev: { ...ENVIRONMENTS.dev!, account: '111111111111' },
  staging: { ...ENVIRONMENTS.staging!, account: '222222222222' },
  prod: { ...ENVIRONMENTS.prod!, account: '333333333333', region: 'us-east-1' },
};
const PIPELINE = { account: '999999999999', region: 'eu-west-1', connectionArn: 'arn:aws:codeconnections:eu-west-1:999999999999:connection/0f9e8d7c-aaaa-bbbb-cccc-123456789012' };
const delivery = parseDelivery({ repository: 'acme/mlops', stages: ['dev', 'staging', 'prod'], pipeline: PIPELINE }, environments)!;
const platform = { models: DECLARED_MODELS, codeVersion: 'test' };

/** A pipeline app without bundling, so the template tests stay fast. */
function synthPipeline(config: DeliveryConfig & { pipeline: NonNullable<DeliveryConfig['pipeline']> }) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new DeliveryPipelineStack(app, 'Mlops-pipeline', { delivery: config, environments, platform, env: { account: PIPELINE.account, region: PIPELINE.region } });
  return { app, stack, template: Template.fromStack(stack) };
}

// Synthesizing a CDK Pipelines app with three platform stages takes seconds: the assertions below share this one.
const { stack, template } = synthPipeline({ ...delivery, pipeline: delivery.pipeline! });
const stagesOf = (t: Template) => (Object.values(t.findResources('AWS::CodePipeline::Pipeline'))[0]!.Properties.Stages as { Name: string; Actions: { Name: string; RunOrder: number; Configuration: Record<string, any>; ActionTypeId: { Category: string } }[] }[]);
const actionsOf = (name: string) => stagesOf(template).find((stage) => stage.Name === name)!.Actions;
/** A CloudFormation value as text: `<LogicalId>` for a Ref, `<Id.Arn>` for a GetAtt, joins flattened. */
const text = (value: unknown): string =>
  typeof value === 'string' ? value : (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'] ? (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].map(text).join('') : nameIntrinsic(value);
const buildSpec = (t: Template, projectIdPart: string) => {
  const [project] = Object.entries(t.findResources('AWS::CodeBuild::Project')).filter(([id]) => id.includes(projectIdPart));
  if (!project) throw new Error(`no CodeBuild project with ${projectIdPart} in its id`);
  return JSON.parse(project[1].Properties.Source.BuildSpec) as { phases: Record<string, { commands: string[]; 'runtime-versions'?: Record<string, string> }> };
};
const buildSpecCommands = (t: Template, projectIdPart: string): string[] => buildSpec(t, projectIdPart).phases.build!.commands;

describe('delivery pipeline (CDK Pipelines)', () => {
  it('is the stack Mlops-pipeline in the pipeline account, sourcing acme/mlops main through the connection', () => {
    expect(stack.stackName).toBe('Mlops-pipeline');
    expect([stack.account, stack.region]).toEqual([PIPELINE.account, PIPELINE.region]);
    expect(actionsOf('Source')).toEqual([
      expect.objectContaining({ Configuration: { ConnectionArn: PIPELINE.connectionArn, FullRepositoryId: 'acme/mlops', BranchName: 'main' } }),
    ]);
    // crossAccountKeys: the artifact bucket is encrypted with a rotated customer managed key the stage accounts can use.
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('orders the stages Source, Build, UpdatePipeline, Assets, then dev, staging and prod', () => {
    expect(stagesOf(template).map((stage) => stage.Name)).toEqual(['Source', 'Build', 'UpdatePipeline', 'Assets', 'dev', 'staging', 'prod']);
  });

  it('synthesizes after npm ci and the unit and infra tests, without -c env (so the pipeline synthesizes itself again)', () => {
    expect(buildSpecCommands(template, 'BuildSynth')).toEqual(['npm ci', 'npm run test:unit', 'npm run test:infra', 'npx cdk synth']);
    expect(buildSpec(template, 'BuildSynth').phases.install!['runtime-versions']).toEqual({ nodejs: '20' });
    // Self-mutating, with the CDK CLI the project pins.
    const cliVersion = (JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies['aws-cdk'];
    expect(buildSpec(template, 'SelfMutation').phases.install!.commands).toContain(`npm install -g aws-cdk@${cliVersion}`);
    expect(buildSpecCommands(template, 'SelfMutation')).toEqual(['cdk -a . deploy Mlops-pipeline --require-approval=never --verbose']);
  });

  it('deploys the stacks Mlops-<env> (names pinned) to each environment account and region', () => {
    for (const [name, { account, region }] of [['dev', environments.dev], ['staging', environments.staging], ['prod', environments.prod]] as const) {
      const deploys = actionsOf(name).filter((action) => action.ActionTypeId.Category === 'Deploy');
      expect(deploys.map((action) => action.Configuration.StackName)).toEqual([`Mlops-${name}`, `Mlops-${name}`]);
      expect(text(deploys[0]!.Configuration.RoleArn)).toBe(`arn:<AWS::Partition>:iam::${account}:role/cdk-hnb659fds-cfn-exec-role-${account}-${region}`);
    }
    expect(stack.stages.map((stage) => stage.platform.stackName)).toEqual(['Mlops-dev', 'Mlops-staging', 'Mlops-prod']);
  });

  it('waits for a manual approval before prod deploys, and nowhere else', () => {
    const prod = actionsOf('prod');
    const approval = prod.find((action) => action.ActionTypeId.Category === 'Approval')!;
    expect(approval.Name).toBe('Approve-prod');
    for (const deploy of prod.filter((action) => action.ActionTypeId.Category === 'Deploy')) expect(deploy.RunOrder).toBeGreaterThan(approval.RunOrder);
    const approvals = stagesOf(template).flatMap((stage) => stage.Actions.filter((action) => action.ActionTypeId.Category === 'Approval').map(() => stage.Name));
    expect(approvals).toEqual(['prod']);
  });

  it('runs the smoke test after the dev and staging deploys, with the stage outputs and its smoke role, and not in prod', () => {
    for (const name of ['dev', 'staging']) {
      const actions = actionsOf(name);
      const smoke = actions.find((action) => action.Name === `Smoke-${name}`)!;
      for (const deploy of actions.filter((action) => action.ActionTypeId.Category === 'Deploy')) expect(smoke.RunOrder).toBeGreaterThan(deploy.RunOrder);
      const variables = JSON.parse(smoke.Configuration.EnvironmentVariables) as { name: string; value: string }[];
      expect(variables.map((variable) => [variable.name, variable.value.replace(/^#\{[^.]+\./, '').replace(/[0-9A-F]{8}\}$/, '}')])).toEqual([
        ['MLOPS_API_URL', 'ManagementApiUrl}'],
        ['MLOPS_SERVING_URL', 'ApiUrl}'],
        ['SMOKE_ROLE_ARN', 'SmokeTestRoleArn}'],
      ]);
      const commands = buildSpecCommands(template, `${name}Smoke`);
      expect(commands[0]).toBe('npm ci');
      expect(commands[1]).toMatch(/aws sts assume-role --role-arn "\$SMOKE_ROLE_ARN"/);
      expect(commands[2]).toBe(`npm run smoke -- --env ${name} --json`);
    }
    expect(actionsOf('prod').map((action) => action.Name)).not.toContainEqual(expect.stringMatching(/Smoke/));
  });

  it("gives each smoke step a CodeBuild role that may assume only its stage's smoke role", () => {
    for (const [name, account] of [['dev', '111111111111'], ['staging', '222222222222']] as const) {
      const roleId = Object.keys(template.findResources('AWS::IAM::Role', { Properties: { RoleName: `mlops-pipeline-smoke-${name}` } }))[0]!;
      const statements = Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((policy) => policy.Properties.Roles.some((role: { Ref: string }) => role.Ref === roleId))
        .flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
      const assume = statements.filter((statement) => [statement.Action].flat().some((action) => action.startsWith('sts:')));
      expect(assume.map((statement) => [statement.Action, text(statement.Resource)])).toEqual([['sts:AssumeRole', `arn:<AWS::Partition>:iam::${account}:role/mlops-smoke-${name}`]]);
      // The rest is what every CodeBuild step gets: its logs, its reports, the artifact bucket and key.
      const others = statements.filter((statement) => !assume.includes(statement)).flatMap((statement) => [statement.Action].flat());
      expect(others.every((action) => /^(logs|codebuild|s3|kms):/.test(action)), others.join(', ')).toBe(true);
    }
  });

  it('adds to a smoke-tested stage a smoke role trusted by the pipeline smoke role only, allowed only the smoke routes', () => {
    const dev = Template.fromStack(stack.stages[0]!.platform);
    const roles = dev.findResources('AWS::IAM::Role', { Properties: { RoleName: 'mlops-smoke-dev' } });
    expect(Object.keys(roles)).toHaveLength(1);
    const [roleId, role] = Object.entries(roles)[0]!;
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toHaveLength(1);
    const trust = role.Properties.AssumeRolePolicyDocument.Statement[0];
    expect(trust.Action).toBe('sts:AssumeRole');
    expect(text(trust.Principal.AWS)).toBe('arn:<AWS::Partition>:iam::999999999999:root');
    expect(Object.keys(trust.Condition)).toEqual(['ArnEquals']);
    expect(text(trust.Condition.ArnEquals['aws:PrincipalArn'])).toBe('arn:<AWS::Partition>:iam::999999999999:role/mlops-pipeline-smoke-dev');

    const statements = Object.values(dev.findResources('AWS::IAM::Policy'))
      .filter((policy) => policy.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
    expect(statements).toHaveLength(1);
    expect(statements[0].Action).toBe('execute-api:Invoke');
    const resources = (statements[0].Resource as unknown[]).map(text).map((arn) => arn.replace(/^arn:<AWS::Partition>:execute-api:eu-west-1:111111111111:/, ''));
    expect(resources).toEqual([
      ...SMOKE_MANAGEMENT_TAILS.map((tail) => expect.stringMatching(new RegExp(`^<ManagementApiRestApi[0-9A-F]+>/<ManagementApiRestApiDeploymentStage\\w+>/${tail.replace(/\*/g, '\\*')}$`))),
      expect.stringMatching(/^<ServingApiRestApi[0-9A-F]+>\/<ServingApiRestApiDeploymentStage\w+>\/POST\/models\/mlops-smoke\/predict$/),
    ]);
    expect([...SMOKE_MANAGEMENT_ROUTES, ...SMOKE_SERVING_ROUTES]).toHaveLength(resources.length);
    // prod, which runs no smoke test, has no smoke role.
    expect(stack.stages[2]!.platform.smokeTestRole).toBeUndefined();
    expect(Template.fromStack(stack.stages[2]!.platform).findResources('AWS::IAM::Role', { Properties: { RoleName: 'mlops-smoke-prod' } })).toEqual({});
  });

  it('has no unacknowledged AwsSolutions or Serverless finding in the pipeline, its cross-region support stack or a smoke-tested stage', () => {
    const supportStacks = Object.values(stack.pipeline.pipeline.crossRegionSupport).map((support) => support.stack).filter((support) => support !== stack);
    expect(supportStacks.map((support) => support.region)).toEqual(['us-east-1']);
    for (const scope of [stack, ...supportStacks, stack.stages[0]!.platform]) {
      for (const Pack of [AwsSolutionsChecks, ServerlessChecks]) {
        // The stages are constructs under the pipeline stack: each is checked on its own.
        const report = new Pack(scope).validateScope(scope);
        const findings = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}`));
        expect(findings.filter((finding) => scope !== stack || !/ at Mlops-pipeline\/(dev|staging|prod)\//.test(finding)), `${scope.node.path} ${Pack.name}`).toEqual([]);
      }
    }
  });

  it('reports a smoke role wildcard that no smoke route explains (the acknowledgements are exact)', () => {
    const scope = new Stack(new App(), 'Stage', { env: { account: '111111111111', region: 'eu-west-1' } });
    const api = (id: string) => {
      const rest = new apigateway.RestApi(scope, id, { deployOptions: { stageName: 'v1' } });
      rest.root.addMethod('GET');
      return rest;
    };
    const smoke = new SmokeTestRole(scope, 'SmokeTestRole', { environmentName: 'dev', pipelineAccount: '999999999999', managementApi: api('Management'), servingApi: api('Serving') });
    smoke.role.addToPolicy(new iam.PolicyStatement({ actions: ['execute-api:Invoke'], resources: [`arn:aws:execute-api:eu-west-1:111111111111:*/v1/GET/models/*`] }));
    // (The bare test APIs have their own findings; the role's are the point.)
    const findings = new AwsSolutionsChecks(scope).validateScope(scope).violations.map((v) => v.ruleName).filter((rule) => rule.startsWith('AwsSolutions-IAM5'));
    expect(findings).toEqual(['AwsSolutions-IAM5[Resource::arn:aws:execute-api:eu-west-1:111111111111:*/v1/GET/models/*]']);
  });

  it('fails when asked for a smoke role in local', () => {
    const scope = new Stack(new App(), 'Local');
    const api = new apigateway.RestApi(scope, 'Api');
    api.root.addMethod('GET');
    expect(() => new SmokeTestRole(scope, 'SmokeTestRole', { environmentName: 'local', pipelineAccount: '999999999999', managementApi: api, servingApi: api })).toThrow(/local environment never gets a pipeline/);
  });
});

describe('the CDK app with a delivery block (bin/app.ts)', () => {
  const onlyDev = { dev: environments.dev };
  const devOnly = parseDelivery({ repository: 'acme/mlops', stages: ['dev'], pipeline: PIPELINE }, onlyDev)!;
  const idsOf = (app: App) => app.node.children.filter((child) => Stack.isStack(child)).map((child) => child.node.id);

  it('synthesizes the environments only when cdk.json has no delivery block', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stacks = addAppStacks(app, { environments: onlyDev, platform });
    expect(idsOf(app)).toEqual(['Mlops-dev']);
    expect(stacks.pipeline).toBeUndefined();
    expect(stacks.platforms[0]!.smokeTestRole).toBeUndefined();
  });

  it('adds Mlops-pipeline without -c env, and only Mlops-<env> with it', () => {
    const all = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    addAppStacks(all, { environments: onlyDev, delivery: devOnly, platform });
    expect(idsOf(all)).toEqual(['Mlops-dev', 'Mlops-pipeline']);
    const one = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    addAppStacks(one, { environments: onlyDev, delivery: devOnly, platform, requested: 'dev' });
    expect(idsOf(one)).toEqual(['Mlops-dev']);
  });
});
