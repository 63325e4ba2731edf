import { Arn, CfnOutput, Stack } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { EnvironmentName } from '../config.js';
import { acknowledgeSmokeTestRoleFindings } from '../nag-acknowledgements.js';
import { pipelineSmokeRoleName, smokeRoleName } from './names.js';
import { methodAndPath, SMOKE_MANAGEMENT_ROUTES, SMOKE_SERVING_ROUTES, smokeRouteResource } from './smoke-access.js';

/** Who may assume the smoke role: the delivery pipeline's account (its smoke step's CodeBuild role). */
export interface SmokeTestTrust {
  /** The account delivery.pipeline lives in. */
  readonly pipelineAccount: string;
}

export interface SmokeTestRoleProps extends SmokeTestTrust {
  /** A delivery stage; `local` never gets a pipeline, so it is refused. */
  readonly environmentName: EnvironmentName;
  readonly managementApi: apigateway.RestApi;
  readonly servingApi: apigateway.RestApi;
}

/**
 * The role the delivery pipeline's smoke step assumes in a stage's account: trusted only by that
 * stage's smoke CodeBuild role in the pipeline account, and allowed only execute-api:Invoke on the smoke
 * test's routes for the `mlops-smoke` model and dataset (lib/delivery/smoke-access.ts).
 */
export class SmokeTestRole extends Construct {
  public readonly role: iam.Role;
  /** The role's ARN as a stack output, which the pipeline hands its smoke step (envFromCfnOutputs). */
  public readonly arnOutput: CfnOutput;

  constructor(scope: Construct, id: string, props: SmokeTestRoleProps) {
    super(scope, id);
    const { environmentName } = props;
    if (environmentName === 'local') throw new Error('the local environment never gets a pipeline, so it has no smoke role');
    const stack = Stack.of(this);
    // The CodeBuild role lives in another account, so no token can name it: trust that account, on the condition of the role's name.
    const trusted = Arn.format({ service: 'iam', region: '', account: props.pipelineAccount, resource: 'role', resourceName: pipelineSmokeRoleName(environmentName) }, stack);
    this.role = new iam.Role(this, 'Role', {
      roleName: smokeRoleName(environmentName),
      description: `The delivery pipeline's smoke test against ${environmentName}: the smoke routes only`,
      assumedBy: new iam.AccountPrincipal(props.pipelineAccount).withConditions({ ArnEquals: { 'aws:PrincipalArn': trusted } }),
    });
    const apis = [
      { api: props.managementApi, tails: SMOKE_MANAGEMENT_ROUTES.map(smokeRouteResource) },
      { api: props.servingApi, tails: SMOKE_SERVING_ROUTES.map(smokeRouteResource) },
    ];
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['execute-api:Invoke'],
        resources: apis.flatMap(({ api, tails }) => tails.map((tail) => api.arnForExecuteApi(...methodAndPath(tail), api.deploymentStage.stageName))),
      }),
    );
    this.arnOutput = new CfnOutput(this, 'Arn', { value: this.role.roleArn, description: 'The role the delivery pipeline smoke step assumes' });
    acknowledgeSmokeTestRoleFindings(this.role, apis);
  }
}
