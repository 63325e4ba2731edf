import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { parseDelivery } from '../../lib/config.js';
import { addAppStacks, addGitHubDeployRoleStacks } from '../../lib/delivery/app-stacks.js';
import { GitHubDeployRoleStack } from '../../lib/delivery/github-deploy-role-stack.js';
import { DECLARED_MODELS, ENVIRONMENTS, nameIntrinsic, SMOKE_MANAGEMENT_TAILS } from './helpers.js';

// dev and staging share an account (one OIDC provider between them), prod has its own.
const environments = {
  dev: { ...ENVIRONMENTS.dev!, account: '111111111111', region: 'eu-west-1' },
  staging: { ...ENVIRONMENTS.staging!, account: '111111111111', region: 'eu-central-1' },
  prod: { ...ENVIRONMENTS.prod!, account: '333333333333', region: 'us-east-1' },
};
const platform = { models: DECLARED_MODELS, codeVersion: 'test' };
const text = (value: unknown): string =>
  typeof value === 'string' ? value : (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'] ? (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].map(text).join('') : nameIntrinsic(value);

/** The GitHub stacks alone, without the platform stacks (which take seconds to synthesize). */
function githubStacks(githubActions: unknown) {
  const delivery = parseDelivery({ repository: 'acme/mlops', stages: ['dev', 'staging', 'prod'], githubActions }, environments)!;
  return { github: addGitHubDeployRoleStacks(new App(), delivery, environments) };
}
const { github } = githubStacks(true);
const [dev, staging, prod] = github as [GitHubDeployRoleStack, GitHubDeployRoleStack, GitHubDeployRoleStack];
const roleOf = (stack: GitHubDeployRoleStack) => Object.values(Template.fromStack(stack).findResources('AWS::IAM::Role'))[0]!;
const statementsOf = (stack: GitHubDeployRoleStack) =>
  Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap((policy) => policy.Properties.PolicyDocument.Statement) as { Sid: string; Action: string | string[]; Resource: unknown }[];

describe('GitHub Actions deploy roles', () => {
  it('makes one stack Mlops-github-<env> per stage in its account and region', () => {
    expect(github.map((stack) => [stack.stackName, stack.account, stack.region])).toEqual([
      ['Mlops-github-dev', '111111111111', 'eu-west-1'],
      ['Mlops-github-staging', '111111111111', 'eu-central-1'],
      ['Mlops-github-prod', '333333333333', 'us-east-1'],
    ]);
  });

  it('is what the app adds, without a pipeline, when delivery has githubActions only', () => {
    const delivery = parseDelivery({ repository: 'acme/mlops', stages: ['dev'], githubActions: true }, environments)!;
    const stacks = addAppStacks(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), { environments: { dev: environments.dev }, delivery, platform });
    expect(stacks.github.map((stack) => stack.stackName)).toEqual(['Mlops-github-dev']);
    expect(stacks.pipeline).toBeUndefined();
    // No pipeline, so no smoke role in the platform stack either.
    expect(stacks.platforms[0]!.smokeTestRole).toBeUndefined();
  });

  it('creates the GitHub OIDC provider once per account; the other stacks of that account use it after it exists', () => {
    const providers = github.map((stack) => Template.fromStack(stack).findResources('AWS::IAM::OIDCProvider'));
    expect(providers.map((found) => Object.keys(found).length)).toEqual([1, 0, 1]);
    expect(Object.values(providers[0]!)[0]!.Properties).toMatchObject({ Url: 'https://token.actions.githubusercontent.com', ClientIdList: ['sts.amazonaws.com'] });
    expect(staging.dependencies).toEqual([dev]);
    expect(prod.dependencies).toEqual([]);
  });

  it('uses the account provider everywhere with oidcProvider "existing"', () => {
    const { github: existing } = githubStacks({ oidcProvider: 'existing' });
    expect(existing.map((stack) => Object.keys(Template.fromStack(stack).findResources('AWS::IAM::OIDCProvider')).length)).toEqual([0, 0, 0]);
    const trust = Object.values(Template.fromStack(existing[0]!).findResources('AWS::IAM::Role'))[0]!.Properties.AssumeRolePolicyDocument.Statement[0];
    expect(text(trust.Principal.Federated)).toBe('arn:<AWS::Partition>:iam::111111111111:oidc-provider/token.actions.githubusercontent.com');
  });

  it('names the role mlops-github-deploy-<env> and trusts only OIDC tokens of the repository environment <env>, for STS', () => {
    for (const [stack, name] of [[dev, 'dev'], [staging, 'staging'], [prod, 'prod']] as const) {
      const role = roleOf(stack);
      expect(role.Properties.RoleName).toBe(`mlops-github-deploy-${name}`);
      const statements = role.Properties.AssumeRolePolicyDocument.Statement;
      expect(statements).toHaveLength(1);
      expect(statements[0].Action).toBe('sts:AssumeRoleWithWebIdentity');
      expect(statements[0].Condition).toEqual({
        StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com', 'token.actions.githubusercontent.com:sub': `repo:acme/mlops:environment:${name}` },
      });
      const provider = stack === staging ? 'arn:<AWS::Partition>:iam::111111111111:oidc-provider/token.actions.githubusercontent.com' : expect.stringMatching(/^<GitHubOidcProvider\w+>$/);
      expect(text(statements[0].Principal.Federated)).toEqual(provider);
    }
  });

  it('may only assume the CDK bootstrap roles, read the outputs of Mlops-<env> and call the smoke routes', () => {
    const statements = statementsOf(prod);
    expect(statements.map((statement) => [statement.Sid, [statement.Action].flat()])).toEqual([
      ['CdkBootstrapRoles', ['sts:AssumeRole', 'sts:TagSession']],
      ['PlatformStackOutputs', ['cloudformation:DescribeStacks']],
      ['SmokeRoutes', ['execute-api:Invoke']],
    ]);
    const resources = (statement: { Resource: unknown }) => [statement.Resource].flat().map(text);
    expect(resources(statements[0]!)).toEqual(
      ['deploy', 'file-publishing', 'lookup'].map((kind) => `arn:<AWS::Partition>:iam::333333333333:role/cdk-hnb659fds-${kind}-role-333333333333-us-east-1`),
    );
    expect(resources(statements[1]!)).toEqual(['arn:<AWS::Partition>:cloudformation:us-east-1:333333333333:stack/Mlops-prod/*']);
    // The smoke routes, pinned to the mlops-smoke model and dataset (`GET /runs/{runId}` has none in its path); never an alias move.
    expect(resources(statements[2]!)).toEqual(
      [...SMOKE_MANAGEMENT_TAILS, 'POST/models/mlops-smoke/predict'].map((tail) => `arn:<AWS::Partition>:execute-api:us-east-1:333333333333:*/*/${tail}`),
    );
  });

  it('creates no access keys or users', () => {
    for (const stack of github) {
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::IAM::AccessKey', 0);
      template.resourceCountIs('AWS::IAM::User', 0);
    }
  });

  it('has no unacknowledged AwsSolutions or Serverless finding', () => {
    for (const stack of github) {
      for (const Pack of [AwsSolutionsChecks, ServerlessChecks]) {
        const report = new Pack(stack).validateScope(stack);
        expect(report.violations.map((v) => v.ruleName), `${stack.stackName} ${Pack.name}`).toEqual([]);
      }
    }
  });

  it('reports a wildcard that is not a smoke route (the acknowledgements are exact)', () => {
    const { github: fresh } = githubStacks(true);
    const stack = fresh[0]!;
    stack.role.addToPolicy(new iam.PolicyStatement({ actions: ['execute-api:Invoke'], resources: [`arn:aws:execute-api:eu-west-1:111111111111:*/*/GET/models/*`] }));
    expect(new AwsSolutionsChecks(stack).validateScope(stack).violations.map((v) => v.ruleName)).toEqual([
      'AwsSolutions-IAM5[Resource::arn:aws:execute-api:eu-west-1:111111111111:*/*/GET/models/*]',
    ]);
  });
});
