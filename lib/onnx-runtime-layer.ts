import { AssetHashType, DockerImage, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** Where an installed package lives: the folder above its entry point that holds its package.json. */
function packageDir(name: string): string {
  let dir = dirname(require.resolve(name));
  while (!existsSync(join(dir, 'package.json')) || !dir.endsWith(name)) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the folder of package ${name}`);
    dir = parent;
  }
  return dir;
}

/**
 * onnxruntime-node for the functions that score imported ONNX models, as a Lambda layer. The
 * package is a native module (esbuild cannot bundle it) and ships binaries for every platform
 * (288 MB, over Lambda's 250 MB); the layer keeps the two Linux ones (about 50 MB): arm64, which
 * the platform's functions run on, and x64, which the local emulator runs them on. Built from
 * the installed package, without Docker or a download.
 */
export class OnnxRuntimeLayer extends Construct {
  public readonly layer: lambda.LayerVersion;

  /** One layer per stack, shared by every function that asks for it. */
  static of(scope: Construct): OnnxRuntimeLayer {
    const stack = Stack.of(scope);
    return (stack.node.tryFindChild('OnnxRuntimeLayer') as OnnxRuntimeLayer | undefined) ?? new OnnxRuntimeLayer(stack, 'OnnxRuntimeLayer');
  }

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const runtime = packageDir('onnxruntime-node');
    const common = packageDir('onnxruntime-common');
    const version = (JSON.parse(readFileSync(join(runtime, 'package.json'), 'utf8')) as { version: string }).version;
    this.layer = new lambda.LayerVersion(this, 'Layer', {
      description: `onnxruntime-node ${version} (linux arm64 and x64 only)`,
      compatibleArchitectures: [lambda.Architecture.ARM_64, lambda.Architecture.X86_64],
      code: lambda.Code.fromAsset(runtime, {
        // The version names the content, so synth does not hash 288 MB each time.
        assetHashType: AssetHashType.CUSTOM,
        assetHash: `onnxruntime-node-${version}-linux`,
        bundling: {
          image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22'),
          local: {
            tryBundle(outputDir: string): boolean {
              const target = join(outputDir, 'nodejs', 'node_modules');
              for (const part of ['package.json', 'dist', 'lib', 'bin/napi-v6/linux/arm64', 'bin/napi-v6/linux/x64']) cpSync(join(runtime, part), join(target, 'onnxruntime-node', part), { recursive: true });
              cpSync(common, join(target, 'onnxruntime-common'), { recursive: true });
              return true;
            },
          },
        },
      }),
    });
  }
}
