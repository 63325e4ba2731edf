import { Arn, DefaultStackSynthesizer, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { stackName } from '../../lambdas/contract/stack.js';
import type { DeliveryStageName } from '../config.js';
import { acknowledgeGitHubDeployRoleFindings } from '../nag-acknowledgements.js';
import { githubDeployRoleName } from './names.js';
import { SMOKE_MANAGEMENT_ROUTES, SMOKE_SERVING_ROUTES, smokeRouteResource } from './smoke-access.js';

/** GitHub's OIDC issuer: one IAM identity provider per account for this URL. */
export const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';

/** The CDK bootstrap roles `cdk deploy` assumes (the default qualifier; `cdk bootstrap` names them so). */
export const BOOTSTRAP_ROLE_KINDS = ['deploy', 'file-publishing', 'lookup'] as const;

export interface GitHubDeployRoleStackProps extends StackProps {
  readonly environmentName: DeliveryStageName;
  /** delivery.repository, `owner/name`. */
  readonly repository: string;
  /**
   * The account's OIDC provider for token.actions.githubusercontent.com: created by this stack, or the one
   * the account already has (an account holds one per URL, so only one stack per account creates it).
   */
  readonly oidcProvider: 'create' | 'existing';
}

/**
 * One environment's GitHub Actions deploy role (docs/DELIVERY.md "GitHub Actions"): `mlops-github-deploy-<env>`,
 * assumable through OIDC only by jobs of `delivery.repository` that run in the GitHub environment `<env>`,
 * and allowed only to assume the CDK bootstrap roles (so `cdk deploy` works), to read the outputs of
 * `Mlops-<env>` and to call the smoke test's routes. No long-lived keys.
 */
export class GitHubDeployRoleStack extends Stack {
  public readonly provider: iam.IOidcProvider;
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: GitHubDeployRoleStackProps) {
    super(scope, id, props);
    const { environmentName } = props;
    const arn = (service: string, resource: string, resourceName: string, region = '') => Arn.format({ service, region, resource, resourceName }, this);
    this.provider =
      props.oidcProvider === 'create'
        ? new iam.OidcProviderNative(this, 'GitHubOidcProvider', { url: `https://${GITHUB_OIDC_HOST}`, clientIds: ['sts.amazonaws.com'] })
        : iam.OidcProviderNative.fromOidcProviderArn(this, 'GitHubOidcProvider', arn('iam', 'oidc-provider', GITHUB_OIDC_HOST));
    this.role = new iam.Role(this, 'DeployRole', {
      roleName: githubDeployRoleName(environmentName),
      description: `GitHub Actions deploys of ${props.repository} to ${environmentName} (OIDC, environment ${environmentName} only)`,
      assumedBy: new iam.WebIdentityPrincipal(this.provider.oidcProviderArn, {
        StringEquals: {
          [`${GITHUB_OIDC_HOST}:aud`]: 'sts.amazonaws.com',
          // Only jobs that declare `environment: <env>`, so the GitHub environment's reviewers gate the deploy.
          [`${GITHUB_OIDC_HOST}:sub`]: `repo:${props.repository}:environment:${environmentName}`,
        },
      }),
    });
    const qualifier = DefaultStackSynthesizer.DEFAULT_QUALIFIER;
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'CdkBootstrapRoles',
        // The CDK CLI tags its role sessions.
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        resources: BOOTSTRAP_ROLE_KINDS.map((kind) => arn('iam', 'role', `cdk-${qualifier}-${kind}-role-${this.account}-${this.region}`)),
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PlatformStackOutputs',
        actions: ['cloudformation:DescribeStacks'],
        resources: [arn('cloudformation', 'stack', `${stackName(environmentName)}/*`, this.region)],
      }),
    );
    // The APIs live in another stack that this one must not depend on (it exists before the first deploy),
    // so the API id and stage are `*`; the routes and the smoke model are not.
    const tails = [...SMOKE_MANAGEMENT_ROUTES, ...SMOKE_SERVING_ROUTES].map(smokeRouteResource);
    this.role.addToPolicy(
      new iam.PolicyStatement({ sid: 'SmokeRoutes', actions: ['execute-api:Invoke'], resources: tails.map((tail) => arn('execute-api', '*', `*/${tail}`, this.region)) }),
    );
    acknowledgeGitHubDeployRoleFindings(this.role, stackName(environmentName), tails);
  }
}
