import type { App } from 'aws-cdk-lib';
import { stackName } from '../../lambdas/contract/stack.js';
import { selectEnvironments, type DeliveryConfig, type EnvironmentConfig, type EnvironmentName } from '../config.js';
import { PlatformStack } from '../platform-stack.js';
import { DeliveryPipelineStack } from './delivery-pipeline-stack.js';
import { GitHubDeployRoleStack } from './github-deploy-role-stack.js';
import { githubStackName, PIPELINE_STACK_NAME } from './names.js';
import { platformStackProps, smokeTestTrust, type PlatformStackOptions } from './platform-stage.js';

export interface AppStacksOptions {
  readonly environments: Partial<Record<EnvironmentName, EnvironmentConfig>>;
  /** parseDelivery's result. @default - no delivery: the environments' stacks only */
  readonly delivery?: DeliveryConfig;
  /** `-c env=NAME`: that environment's platform stack only. @default - every declared environment, and the delivery stacks */
  readonly requested?: unknown;
  readonly platform: Omit<PlatformStackOptions, 'smokeTest'>;
}

export interface AppStacks {
  readonly platforms: readonly PlatformStack[];
  readonly pipeline?: DeliveryPipelineStack;
  readonly github: readonly GitHubDeployRoleStack[];
}

/**
 * Every stack of the CDK app (bin/app.ts). `-c env=NAME` synthesizes that environment's `Mlops-<env>` only,
 * for direct deploys (and `local`). Without it: every declared environment's stack, and, when cdk.json has a
 * `delivery` block, `Mlops-pipeline` and the `Mlops-github-<env>` stacks, which a user deploys by naming them
 * (`cdk deploy Mlops-pipeline`). The pipeline's own synth runs without -c env, so it synthesizes the pipeline again.
 */
export function addAppStacks(app: App, options: AppStacksOptions): AppStacks {
  const { delivery, environments } = options;
  // A smoke-tested stage carries its smoke role whichever way it is deployed, so a direct deploy and the pipeline deploy one template.
  const platforms = selectEnvironments(environments, options.requested).map(([name, config]) => {
    const smokeTest = smokeTestTrust(delivery, name);
    return new PlatformStack(app, stackName(name), platformStackProps(name, config, { ...options.platform, ...(smokeTest ? { smokeTest } : {}) }));
  });
  if (!delivery || options.requested !== undefined) return { platforms, github: [] };

  const pipeline = delivery.pipeline
    ? new DeliveryPipelineStack(app, PIPELINE_STACK_NAME, {
        delivery: { ...delivery, pipeline: delivery.pipeline },
        environments,
        platform: options.platform,
        env: { account: delivery.pipeline.account, region: delivery.pipeline.region },
        description: `serverless-mlops delivery pipeline (${delivery.stages.join(' -> ')})`,
      })
    : undefined;

  const github = addGitHubDeployRoleStacks(app, delivery, environments);
  return { platforms, ...(pipeline ? { pipeline } : {}), github };
}

/**
 * The `Mlops-github-<env>` stacks when delivery.githubActions is set (none otherwise). An account holds one
 * OIDC provider per URL: the first stage of each account creates it, the account's other stages use it and deploy after it.
 */
export function addGitHubDeployRoleStacks(app: App, delivery: DeliveryConfig, environments: Partial<Record<EnvironmentName, EnvironmentConfig>>): GitHubDeployRoleStack[] {
  const github: GitHubDeployRoleStack[] = [];
  const providerOwners = new Map<string, GitHubDeployRoleStack>();
  for (const name of delivery.githubActions ? delivery.stages : []) {
    const config = environments[name]!;
    const account = config.account!;
    const owner = providerOwners.get(account);
    const stack = new GitHubDeployRoleStack(app, githubStackName(name), {
      environmentName: name,
      repository: delivery.repository,
      oidcProvider: delivery.githubActions!.oidcProvider === 'existing' || owner ? 'existing' : 'create',
      env: { account, region: config.region },
      description: `serverless-mlops GitHub Actions deploy role (${name})`,
    });
    if (owner) stack.addDependency(owner, 'the account OIDC provider for GitHub is created there');
    else if (delivery.githubActions!.oidcProvider === 'create') providerOwners.set(account, stack);
    github.push(stack);
  }
  return github;
}
