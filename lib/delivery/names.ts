import type { DeliveryStageName } from '../config.js';

/**
 * The names the delivery's stacks and roles agree on across accounts, where CDK cannot pass a reference
 * (docs/DELIVERY.md). Physical names on purpose: a trust policy in one account names a role in another,
 * and the GitHub workflow names its role from the account id alone.
 */

/** The CodePipeline stack (and the pipeline in it), in delivery.pipeline's account and region. */
export const PIPELINE_STACK_NAME = 'Mlops-pipeline';

/** The stack holding one environment's GitHub OIDC deploy role, in that environment's account and region. */
export const githubStackName = (environment: DeliveryStageName) => `Mlops-github-${environment}`;

/** The role a GitHub Actions job of `environment` assumes through OIDC (.github/workflows/deliver.yml). */
export const githubDeployRoleName = (environment: DeliveryStageName) => `mlops-github-deploy-${environment}`;

/** The pipeline account's CodeBuild role of `environment`'s smoke step: the one principal the smoke role trusts. */
export const pipelineSmokeRoleName = (environment: DeliveryStageName) => `mlops-pipeline-smoke-${environment}`;

/** The role in `environment`'s account that the smoke step assumes to call the smoke test's routes. */
export const smokeRoleName = (environment: DeliveryStageName) => `mlops-smoke-${environment}`;
