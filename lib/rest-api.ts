import { RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

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

/** Error bodies API Gateway itself returns use the same `{ error: { code, message } }` shape as the functions. */
const GATEWAY_ERRORS: [string, apigateway.ResponseType, string, string][] = [
  ['BadRequestBody', apigateway.ResponseType.BAD_REQUEST_BODY, '400', 'INVALID_REQUEST'],
  ['BadRequestParameters', apigateway.ResponseType.BAD_REQUEST_PARAMETERS, '400', 'INVALID_REQUEST'],
  ['MissingAuthToken', apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN, '403', 'UNAUTHENTICATED'],
  ['AccessDenied', apigateway.ResponseType.ACCESS_DENIED, '403', 'ACCESS_DENIED'],
  ['Throttled', apigateway.ResponseType.THROTTLED, '429', 'THROTTLED'],
  ['UnsupportedMediaType', apigateway.ResponseType.UNSUPPORTED_MEDIA_TYPE, '415', 'UNSUPPORTED_MEDIA_TYPE'],
  ['RequestTooLarge', apigateway.ResponseType.REQUEST_TOO_LARGE, '413', 'REQUEST_TOO_LARGE'],
];

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
    for (const [name, type, statusCode, code] of GATEWAY_ERRORS) {
      this.api.addGatewayResponse(name, {
        type,
        statusCode,
        templates: {
          'application/json': `{"error":{"code":"${code}","message":$context.error.messageString,"details":"$context.error.validationErrorString"}}`,
        },
      });
    }
  }
}
