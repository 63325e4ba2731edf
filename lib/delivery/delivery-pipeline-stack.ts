import { Arn, Stack, type StackProps } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CodeBuildStep, CodePipeline, CodePipelineSource, ManualApprovalStep } from 'aws-cdk-lib/pipelines';
import type { Construct } from 'constructs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeliveryConfig, DeliveryStageName, EnvironmentConfig } from '../config.js';
import { acknowledgePipelineFindings } from '../nag-acknowledgements.js';
import { pipelineSmokeRoleName, smokeRoleName } from './names.js';
import { PlatformStage, smokeTestTrust, type PlatformStackOptions } from './platform-stage.js';

/** The CDK CLI the project pins (package.json), so the pipeline's self-mutation runs the CLI developers run. */
function projectCdkCliVersion(): string {
  const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  const version = manifest.devDependencies?.['aws-cdk'];
  if (!version) throw new Error('package.json has no aws-cdk devDependency to pin the pipeline CLI to');
  return version;
}

export interface DeliveryPipelineStackProps extends StackProps {
  /** parseDelivery's result, with delivery.pipeline set. */
  readonly delivery: DeliveryConfig & { readonly pipeline: NonNullable<DeliveryConfig['pipeline']> };
  /** The declared environments; each stage's has an account (parseDelivery checked). */
  readonly environments: Readonly<Partial<Record<DeliveryStageName, EnvironmentConfig>>>;
  /** What each stage's PlatformStack is built from; the stages' smoke roles trust this pipeline's account. */
  readonly platform: Omit<PlatformStackOptions, 'smokeTest'>;
}

/**
 * The platform's delivery pipeline (CDK Pipelines, docs/DELIVERY.md "CodePipeline"): source from GitHub
 * through a CodeConnections connection; synth runs the unit and infra tests and `cdk synth`; the pipeline
 * updates itself; then one stage per delivery.stages entry, each deploying `Mlops-<env>` to its account and
 * region. Every stage but the last runs the smoke test after its deploy; the last waits for a manual approval.
 */
export class DeliveryPipelineStack extends Stack {
  public readonly pipeline: CodePipeline;
  public readonly stages: readonly PlatformStage[];
  /** The smoke steps and their CodeBuild roles, one per smoke-tested stage; each role is named so its stage's smoke role can trust it. */
  public readonly smokeSteps: { readonly step: CodeBuildStep; readonly role: iam.Role }[] = [];

  constructor(scope: Construct, id: string, props: DeliveryPipelineStackProps) {
    super(scope, id, props);
    const { delivery } = props;
    const source = CodePipelineSource.connection(delivery.repository, delivery.branch, { connectionArn: delivery.pipeline.connectionArn });
    this.pipeline = new CodePipeline(this, 'Pipeline', {
      pipelineName: id,
      // Stages may live in other accounts and regions: their deploy roles need a KMS-encrypted artifact bucket they can read.
      crossAccountKeys: true,
      enableKeyRotation: true,
      selfMutation: true,
      cliVersion: projectCdkCliVersion(),
      codeBuildDefaults: {
        // package.json asks for Node 20.
        buildEnvironment: { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0 },
        partialBuildSpec: codebuild.BuildSpec.fromObject({ phases: { install: { 'runtime-versions': { nodejs: '20' } } } }),
      },
      synth: new CodeBuildStep('Synth', {
        input: source,
        // No -c env: bin/app.ts then synthesizes this pipeline stack again from cdk.json's delivery block.
        commands: ['npm ci', 'npm run test:unit', 'npm run test:infra', 'npx cdk synth'],
        primaryOutputDirectory: 'cdk.out',
      }),
    });

    this.stages = delivery.stages.map((environmentName, index) => {
      const config = props.environments[environmentName];
      if (!config?.account) throw new Error(`delivery stage ${environmentName} has no account (parseDelivery should have refused it)`);
      const smokeTest = smokeTestTrust(delivery, environmentName);
      const stage = new PlatformStage(this, environmentName, { environmentName, config, options: { ...props.platform, ...(smokeTest ? { smokeTest } : {}) } });
      const last = index === delivery.stages.length - 1;
      this.pipeline.addStage(stage, {
        ...(last ? { pre: [new ManualApprovalStep(`Approve-${environmentName}`, { comment: `Deploy ${stage.platform.stackName} (${config.account}, ${config.region})?` })] } : {}),
        ...(smokeTest ? { post: [this.smokeStep(environmentName, config, stage, source)] } : {}),
      });
      return stage;
    });
    // Built now rather than at synth, so its roles exist for the acknowledgements below (and for cdk-nag in tests).
    this.pipeline.buildPipeline();
    acknowledgePipelineFindings(this, this.pipeline, this.smokeSteps.map(({ step, role }) => ({ role, project: step.project })));
  }

  /** `npm run smoke` against a stage just deployed, with the stage's smoke role and its APIs' URLs from its outputs. */
  private smokeStep(environmentName: DeliveryStageName, config: EnvironmentConfig, stage: PlatformStage, source: CodePipelineSource): CodeBuildStep {
    const smokeRole = stage.platform.smokeTestRole;
    if (!smokeRole) throw new Error(`${stage.platform.stackName} has no smoke role`);
    const targetRoleArn = Arn.format({ service: 'iam', region: '', account: config.account, resource: 'role', resourceName: smokeRoleName(environmentName) }, this);
    // Named, because the smoke role in the stage's account trusts it by name (lib/delivery/smoke-test-role.ts). It may only assume that role.
    const role = new iam.Role(this, `SmokeRole-${environmentName}`, {
      roleName: pipelineSmokeRoleName(environmentName),
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
      description: `The delivery pipeline's smoke step against ${environmentName}`,
    });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [targetRoleArn] }));
    const step = new CodeBuildStep(`Smoke-${environmentName}`, {
      input: source,
      role,
      env: { AWS_REGION: config.region },
      envFromCfnOutputs: {
        MLOPS_API_URL: stage.output('ManagementApiUrl'),
        MLOPS_SERVING_URL: stage.output('ApiUrl'),
        SMOKE_ROLE_ARN: smokeRole.arnOutput,
      },
      commands: [
        'npm ci',
        // The smoke test runs with the stage's smoke role only (the CodeBuild role can do nothing else there).
        `export $(printf 'AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_SESSION_TOKEN=%s' $(aws sts assume-role --role-arn "$SMOKE_ROLE_ARN" --role-session-name mlops-smoke-${environmentName} --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text))`,
        `npm run smoke -- --env ${environmentName} --json`,
      ],
    });
    this.smokeSteps.push({ step, role });
    return step;
  }
}
