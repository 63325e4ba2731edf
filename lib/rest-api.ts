import { RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { GATEWAY_ERRORS } from '../lambdas/contract/routes.js';

/** `ACCESS_DENIED` -> `AccessDenied`: the gateway response's construct id, as the stack has always named it. */
const gatewayResponseId = (type: string) => type.toLowerCase().replace(/(^|_)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());

/**
 * `Retry-After` on a 429: a throttle's token bucket refills within a second; a spent usage-plan quota
 * (a day or longer) is worth asking about again in an hour. The header is static: API Gateway cannot compute it.
 */
const RETRY_AFTER_SECONDS: Partial<Record<string, number>> = { THROTTLED: 1, QUOTA_EXCEEDED: 3600 };

export interface PlatformRestApiProps {
  readonly description: string;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** @default 'v1' */
  readonly stageName?: string;
  /** @default { rateLimit: 100, burstLimit: 200 } */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
  /**
   * Another platform API whose CloudWatch logging role this one shares. The role is an account
   * and region setting (AWS::ApiGateway::Account), so one stack must declare it once.
   * @default - this API declares the logging role
   */
  readonly sharesLoggingRoleOf?: PlatformRestApi;
}


/**
 * A REST API with the platform's defaults: regional, IAM authorization on every method (callers
 * sign with SigV4), X-Ray tracing, JSON access logs, a throttled stage and JSON gateway errors.
 */
export class PlatformRestApi extends Construct {
  public readonly api: apigateway.RestApi;

  constructor(scope: Construct, id: string, props: PlatformRestApiProps) {
    super(scope, id);
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: props.logRetention, removalPolicy: props.removalPolicy });
    const throttle = props.throttle ?? { rateLimit: 100, burstLimit: 200 };
    this.api = new apigateway.RestApi(this, 'Api', {
      description: props.description,
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      cloudWatchRole: !props.sharesLoggingRoleOf,
      ...(props.sharesLoggingRoleOf ? {} : { cloudWatchRoleRemovalPolicy: props.removalPolicy }),
      deployOptions: {
        stageName: props.stageName ?? 'v1',
        tracingEnabled: true,
        loggingLevel: apigateway.MethodLoggingLevel.INFO,
        dataTraceEnabled: false,
        throttlingRateLimit: throttle.rateLimit,
        throttlingBurstLimit: throttle.burstLimit,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
      },
      defaultMethodOptions: { authorizationType: apigateway.AuthorizationType.IAM },
    });
    // Execution logging needs the account's logging role in place before the stage exists.
    if (props.sharesLoggingRoleOf) this.api.deploymentStage.node.addDependency(props.sharesLoggingRoleOf.api.node.findChild('Account'));
    // Error bodies API Gateway itself returns use the same `{ error: { code, message } }` shape as the functions.
    for (const { responseType, status, code } of GATEWAY_ERRORS) {
      this.api.addGatewayResponse(gatewayResponseId(responseType), {
        type: apigateway.ResponseType.of(responseType),
        statusCode: String(status),
        ...(RETRY_AFTER_SECONDS[responseType] ? { responseHeaders: { 'Retry-After': `'${RETRY_AFTER_SECONDS[responseType]}'` } } : {}),
        templates: {
          'application/json': `{"error":{"code":"${code}","message":$context.error.messageString,"details":"$context.error.validationErrorString"}}`,
        },
      });
    }
  }
}
