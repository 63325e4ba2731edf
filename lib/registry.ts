import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { BY_TIME_INDEX } from '../lambdas/core/registry/keys.js';

export interface TablesProps {
  /** RETAIN keeps the tables (and their items) when the stack goes. */
  readonly removalPolicy: RemovalPolicy;
}

function platformTable(scope: Construct, id: string, props: TablesProps, stream?: dynamodb.StreamViewType): dynamodb.Table {
  return new dynamodb.Table(scope, id, {
    ...(stream ? { stream } : {}),
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    deletionProtection: props.removalPolicy === RemovalPolicy.RETAIN,
    removalPolicy: props.removalPolicy,
  });
}

/**
 * The model registry: one item collection per model (pk `MODEL#<name>`).
 *   sk `META`                 the model spec and the version counter
 *   sk `VERSION#<000001>`     versions, zero-padded so a Query returns them in order
 *   sk `ALIAS#<alias>`        alias -> version (a GetItem)
 *   sk `RUN#<runId>`          run -> version, so a retried Register creates no second version
 *   sk `AUDIT#<iso time>#<id>` append-only audit events, in time order
 * Its stream (new images) feeds the registry events (RegistryEvents): every committed audit event
 * and drift check becomes one event on the platform's bus.
 */
export class Registry extends Construct {
  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: TablesProps) {
    super(scope, id);
    this.table = platformTable(this, 'Table', props, dynamodb.StreamViewType.NEW_IMAGE);
  }
}

/**
 * Experiment tracking and dataset versions.
 *   pk `RUN#<runId>`, sk `RUN`                       a run; GSI `byTime` (gsi1pk `MODEL#<name>`,
 *                                                    gsi1sk `<started ISO>#<runId>`) lists a model's runs by time
 *   pk `DATASET#<name>`, sk `VERSION#<sha256>`       an immutable dataset version; GSI `byTime` (gsi1pk
 *                                                    `DATASET#<name>`, gsi1sk `<arrived ISO>#<sha256>`) lists versions by arrival
 *   pk `DATASET#<name>`, sk `LATEST`                 the newest version, for scheduled runs
 *   pk `DATASETS`, sk `<name>`                       the dataset catalog: name, newest version, version count
 */
export class Tracking extends Construct {
  public static readonly BY_TIME_INDEX = BY_TIME_INDEX;
  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: TablesProps) {
    super(scope, id);
    this.table = platformTable(this, 'Table', props);
    this.table.addGlobalSecondaryIndex({
      indexName: Tracking.BY_TIME_INDEX,
      partitionKey: { name: 'gsi1pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'gsi1sk', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }
}
