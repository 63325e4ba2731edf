import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface ArtifactStoreProps {
  /** RETAIN keeps every bucket and its objects when the stack goes; DESTROY empties and deletes them. */
  readonly removalPolicy: RemovalPolicy;
  /**
   * Days before prediction logs move to infrequent access (their expiry is the environment's retention, per prefix).
   * @default 30
   */
  readonly predictionLogTransitionDays?: number;
  /**
   * Empty buckets on stack deletion (a custom resource). Only meaningful with DESTROY.
   * @default - true when removalPolicy is DESTROY
   */
  readonly autoDeleteObjects?: boolean;
  /**
   * Refuse requests that do not use TLS (a resource policy denying aws:SecureTransport false).
   * Off only on the emulator, which serves plain HTTP and, with AUTH=true, would refuse every role.
   * @default true
   */
  readonly tlsOnly?: boolean;
}

/**
 * The platform's S3 buckets: datasets, model artifacts, reports and prediction logs.
 * Every bucket is versioned, encrypted, TLS-only, blocks public access and logs access
 * to a dedicated access-log bucket.
 */
export class ArtifactStore extends Construct {
  public readonly datasets: s3.Bucket;
  public readonly models: s3.Bucket;
  public readonly reports: s3.Bucket;
  public readonly predictionLogs: s3.Bucket;
  public readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: ArtifactStoreProps) {
    super(scope, id);
    const destroy = props.autoDeleteObjects ?? props.removalPolicy === RemovalPolicy.DESTROY;
    const transitionDays = props.predictionLogTransitionDays ?? 30;
    const tlsOnly = props.tlsOnly ?? true;

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: tlsOnly,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: destroy,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
    });

    const bucket = (name: string, lifecycleRules?: s3.LifecycleRule[]) =>
      new s3.Bucket(this, name, {
        versioned: true,
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: tlsOnly,
        removalPolicy: props.removalPolicy,
        autoDeleteObjects: destroy,
        serverAccessLogsBucket: this.accessLogs,
        serverAccessLogsPrefix: `${name.toLowerCase()}/`,
        lifecycleRules,
      });

    this.datasets = bucket('Datasets', [
      // Uploads wait under uploads/ until registration reads them; whatever a failed client leaves goes after a day.
      { id: 'clear-abandoned-uploads', prefix: 'uploads/', expiration: Duration.days(1), noncurrentVersionExpiration: Duration.days(1) },
      { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      // Expiring a versioned object leaves a delete marker; this removes the marker once it is alone.
      { id: 'clear-upload-delete-markers', prefix: 'uploads/', expiredObjectDeleteMarker: true },
    ]);
    this.models = bucket('Models');
    this.reports = bucket('Reports');
    this.predictionLogs = bucket('PredictionLogs', [
      // Expiry is per prefix, from the environment's retention (lib/prediction-log.ts): a bucket-wide
      // expiry here would cut every prefix's retention short.
      {
        id: 'age-out-prediction-logs',
        transitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(transitionDays) }],
      },
    ]);
  }
}
