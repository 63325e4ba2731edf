import { CfnOutput, Stage, type StageProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { stackName, type StackOutputName } from '../../lambdas/contract/stack.js';
import type { ModelSpec } from '../../lambdas/core/training/model-spec.js';
import type { DeliveryConfig, DeliveryStageName, EnvironmentConfig, EnvironmentName } from '../config.js';
import { PlatformStack, type PlatformStackProps } from '../platform-stack.js';
import type { SmokeTestTrust } from './smoke-test-role.js';

/** What every PlatformStack of the app is built from, deployed directly (`cdk deploy -c env=X`) or by the pipeline. */
export interface PlatformStackOptions {
  readonly models: readonly ModelSpec[];
  readonly codeVersion: string;
  /** @default - not a stage of the delivery pipeline: no smoke role */
  readonly smokeTest?: SmokeTestTrust;
}

/**
 * The props of one environment's PlatformStack, the same for a direct deploy and for the pipeline's stage,
 * so both deploy the same template to the same stack: the name is pinned to `Mlops-<env>` (a stage would
 * otherwise prefix it, which makes a new stack and new tables).
 */
export function platformStackProps(environmentName: EnvironmentName, config: EnvironmentConfig, options: PlatformStackOptions): PlatformStackProps {
  return {
    environmentName,
    config,
    models: options.models,
    codeVersion: options.codeVersion,
    ...(options.smokeTest ? { smokeTest: options.smokeTest } : {}),
    stackName: stackName(environmentName),
    env: { account: config.account ?? process.env.CDK_DEFAULT_ACCOUNT, region: config.region },
    description: `serverless-mlops platform (${environmentName})`,
    terminationProtection: config.removalPolicy === 'retain',
  };
}

/**
 * Whether the pipeline runs the smoke test after deploying `environment`, and so who its smoke role trusts:
 * every pipeline stage but the last (prod, which the smoke test's model would clutter). One answer for the
 * pipeline's stages and for direct deploys of the same environments, so both deploy one template.
 */
export function smokeTestTrust(delivery: DeliveryConfig | undefined, environment: EnvironmentName): SmokeTestTrust | undefined {
  if (!delivery?.pipeline) return undefined;
  const index = (delivery.stages as readonly EnvironmentName[]).indexOf(environment);
  return index >= 0 && index < delivery.stages.length - 1 ? { pipelineAccount: delivery.pipeline.account } : undefined;
}

export interface PlatformStageProps extends StageProps {
  readonly environmentName: DeliveryStageName;
  /** The environment's config; parseDelivery has checked it has an account. */
  readonly config: EnvironmentConfig;
  readonly options: PlatformStackOptions;
}

/** One delivery stage: the environment's PlatformStack, in the environment's account and region. */
export class PlatformStage extends Stage {
  public readonly platform: PlatformStack;

  constructor(scope: Construct, id: string, props: PlatformStageProps) {
    super(scope, id, { ...props, env: { account: props.config.account, region: props.config.region } });
    this.platform = new PlatformStack(this, stackName(props.environmentName), platformStackProps(props.environmentName, props.config, props.options));
  }

  /** One of the platform stack's outputs (lambdas/contract/stack.ts), for a post-deploy step's environment. */
  output(name: StackOutputName): CfnOutput {
    const output = this.platform.node.tryFindChild(name);
    if (!(output instanceof CfnOutput)) throw new Error(`${this.platform.node.path} has no output ${name}`);
    return output;
  }
}
