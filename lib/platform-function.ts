import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { OnnxRuntimeLayer } from './onnx-runtime-layer.js';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const LAMBDAS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'lambdas');

/** The runtime every function of the platform uses. */
export const PLATFORM_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** esbuild's target for that runtime (`nodejs24.x` -> `node24`), so the bundle is lowered for exactly the Node it runs on. */
export const PLATFORM_ESBUILD_TARGET = PLATFORM_RUNTIME.name.replace(/^nodejs(\d+)\.x$/, 'node$1');

export interface PlatformFunctionProps {
  /** Folder under lambdas/ holding handler.ts, e.g. `predict`. */
  readonly handlerDir: string;
  readonly description: string;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default - none */
  readonly environment?: Record<string, string>;
  /**
   * Scores imported ONNX models: gets onnxruntime-node from a shared layer.
   * @default false
   */
  readonly onnxRuntime?: boolean;
}

/**
 * A Node.js function with the platform's defaults: esbuild bundle (minified, source maps),
 * the AWS SDK bundled at its pinned version (so the local emulator runs the real SDK, not its
 * stubs), X-Ray tracing, and its own log group with a retention.
 */
export class PlatformFunction extends Construct {
  public readonly function: NodejsFunction;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PlatformFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.function = new NodejsFunction(this, 'Function', {
      entry: join(LAMBDAS_DIR, props.handlerDir, 'handler.ts'),
      handler: 'handler',
      description: props.description,
      runtime: PLATFORM_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: {
        minify: true,
        sourceMap: true,
        bundleAwsSDK: true,
        target: PLATFORM_ESBUILD_TARGET,
        // A native module: loaded at run time from the layer (or, on the emulator, the project's node_modules).
        externalModules: ['onnxruntime-node'],
      },
      ...(props.onnxRuntime ? { layers: [OnnxRuntimeLayer.of(this).layer] } : {}),
    });
  }
}
