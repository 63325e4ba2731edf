import { CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { ModelSpec } from '../lambdas/core/training/model-spec.js';
import { PlatformFunction } from './platform-function.js';

export interface DeclaredModelsProps {
  readonly registryTable: dynamodb.ITable;
  /** The models declared in config/models, already validated (loadModelSpecs). */
  readonly models: readonly ModelSpec[];
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** The custom resource's type, as CloudFormation shows it. */
export const DECLARED_MODELS_RESOURCE_TYPE = 'Custom::DeclaredModels';

/**
 * Puts the declared models into the registry on `cdk deploy`: a custom resource whose property
 * `Specs` is the declared specs as JSON. On Create and Update the DeclareModels function writes
 * every spec that differs from the registry's (RegistryStore.putModel, actor `cdk-deploy`, which
 * appends the audit event); on Delete it does nothing, so models and their history outlive the
 * stack, and a model whose file is removed stays registered. CloudFormation sends an Update only
 * when `Specs` changes, so a spec changed since with `mlops models create` stays until a declared
 * spec changes again.
 */
export class DeclaredModels extends Construct {
  /** The function that writes the specs (the provider's onEvent handler). */
  public readonly handler: PlatformFunction;
  public readonly provider: cr.Provider;
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: DeclaredModelsProps) {
    super(scope, id);
    this.handler = new PlatformFunction(this, 'DeclareModels', {
      handlerDir: 'declare-models',
      description: 'Writes the models declared in config/models into the registry on cdk deploy',
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      timeout: Duration.minutes(2),
      environment: { REGISTRY_TABLE: props.registryTable.tableName },
    });
    props.registryTable.grantReadWriteData(this.handler.function);

    this.provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.handler.function,
      logGroup: new logs.LogGroup(this, 'ProviderLogs', { retention: props.logRetention, removalPolicy: props.removalPolicy }),
    });
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.provider.serviceToken,
      resourceType: DECLARED_MODELS_RESOURCE_TYPE,
      // One string, not a structure: CloudFormation would turn every number and boolean into a string.
      properties: { Specs: JSON.stringify(props.models) },
      // Fail the deploy within minutes, not CloudFormation's default hour, if no answer comes.
      serviceTimeout: Duration.minutes(5),
    });
  }
}
